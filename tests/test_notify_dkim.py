"""DKIM: messages signed with the configured key verify against its public key, one-click
headers included (RFC 8058 asks for them to be signed)."""

from __future__ import annotations

import base64

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from statuswatch.clock import FakeClock
from tests.helpers.notify import ENV, email_config, start_rig


def keypair() -> tuple[str, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


async def test_messages_carry_a_valid_signature(aiohttp_client, tmp_path, smtp, monkeypatch):
    private, txt = keypair()
    monkeypatch.setitem(ENV, "DKIM_KEY", private)
    config = email_config(tmp_path, smtp.port, dkim_key_env="DKIM_KEY", dkim_selector="sw2026")
    rig = await start_rig(aiohttp_client, config, FakeClock())
    await rig.confirmed(smtp.mailbox, "ann@example.com")
    await rig.open_incident("Signed")
    await rig.deliver()
    raw = smtp.mailbox.raw[-1]
    assert raw.startswith(b"DKIM-Signature:")
    signature = raw.split(b"\r\n\r\n", 1)[0].replace(b"\r\n", b"")
    assert b"d=example.com" in signature and b"s=sw2026" in signature
    assert b"list-unsubscribe-post" in signature.lower()

    def dns(name: bytes, timeout: int = 5) -> bytes | None:
        return txt if name == b"sw2026._domainkey.example.com." else None

    assert dkim.verify(raw, dnsfunc=dns)
    tampered = raw.replace(b"/unsubscribe/", b"/unsubscribe/x", 1)
    assert not dkim.verify(tampered, dnsfunc=dns)
    await rig.settle()
