"""SMTP over STARTTLS (required) and implicit TLS, with a login from the environment."""

from __future__ import annotations

import asyncio
import ssl
import warnings

import pytest
import trustme
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from statuswatch.clock import FakeClock
from statuswatch.store.outbox_reads import attempts
from tests.helpers.net import free_port
from tests.helpers.notify import ENV, Mailbox, email_config, start_rig

LOGIN = {"SMTP_USER": "mailer", "SMTP_PASS": "s3cret"}


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"mailer",
        b"s3cret",
    )
    return AuthResult(success=ok)


@pytest.fixture
def ca():
    return trustme.CA()


async def tls_server(ca: trustme.CA, mode: str, mailbox: Mailbox):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    port = free_port()
    if mode == "starttls":

        def factory() -> SMTP:
            return SMTP(
                mailbox,
                hostname="mx.test",
                tls_context=context,
                require_starttls=True,
                auth_required=True,
                authenticator=authenticator,
            )

        server = await asyncio.get_running_loop().create_server(factory, "127.0.0.1", port)
    else:
        # aiosmtpd does not see that a transport from create_server(ssl=...) is TLS, so it would
        # not offer AUTH; it is told not to insist, which it warns about (filterwarnings=error).
        def factory() -> SMTP:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
                return SMTP(
                    mailbox,
                    hostname="mx.test",
                    auth_required=True,
                    auth_require_tls=False,
                    authenticator=authenticator,
                )

        server = await asyncio.get_running_loop().create_server(
            factory, "127.0.0.1", port, ssl=context
        )
    return server, port


@pytest.mark.parametrize("mode", ["starttls", "implicit"])
async def test_tls_and_login(aiohttp_client, tmp_path, ca, mode, monkeypatch):
    for name, value in LOGIN.items():
        monkeypatch.setitem(ENV, name, value)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(ca_file)
    mailbox = Mailbox()
    server, port = await tls_server(ca, mode, mailbox)
    try:
        config = email_config(
            tmp_path,
            port,
            tls=mode,
            ca_file=str(ca_file),
            username_env="SMTP_USER",
            password_env="SMTP_PASS",
        )
        rig = await start_rig(aiohttp_client, config, FakeClock())
        await rig.confirmed(mailbox, "ann@example.com")
        await rig.open_incident("Over TLS")
        await rig.deliver()
        (mail,) = mailbox.messages
        assert "Over TLS" in mail["Subject"]
        await rig.settle()
    finally:
        server.close()
        await server.wait_closed()


async def test_untrusted_certificate_is_retried_not_sent(aiohttp_client, tmp_path, ca, monkeypatch):
    trusted, expected = False, "CERTIFICATE_VERIFY_FAILED"
    monkeypatch.setitem(ENV, "SMTP_USER", "mailer")
    monkeypatch.setitem(ENV, "SMTP_PASS", "s3cret")
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(ca_file)
    mailbox = Mailbox()
    server, port = await tls_server(ca, "starttls", mailbox)
    try:
        # Without ca_file the system's CAs are used, and they do not know the test CA.
        config = email_config(
            tmp_path,
            port,
            tls="starttls",
            username_env="SMTP_USER",
            password_env="SMTP_PASS",
            ca_file=str(ca_file) if trusted else None,
        )
        rig = await start_rig(aiohttp_client, config, FakeClock())
        assert (await rig.subscribe("ann@example.com")).status == 202
        await rig.deliver()
        (tried,) = await rig.store.read_outbox(attempts)
        assert tried.outcome == "retry" and expected in tried.detail, tried.detail
        assert mailbox.messages == []
        await rig.settle()
    finally:
        server.close()
        await server.wait_closed()
