"""Secret tokens: generated with 256 bits, stored and compared only as SHA-256 digests."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def token_digest(token: str) -> bytes:
    """The digest kept instead of a token; look-ups hash the presented token the same way."""
    return hashlib.sha256(token.encode()).digest()


def new_token() -> str:
    """A fresh URL-safe token (256 bits, well above the 128 the design asks for)."""
    return secrets.token_urlsafe(32)


def matches(presented: str, expected_digest: bytes | None) -> bool:
    """Constant-time check of a presented token against a stored digest."""
    if expected_digest is None:
        return False
    return hmac.compare_digest(token_digest(presented), expected_digest)
