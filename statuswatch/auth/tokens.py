"""Secret tokens: generated with 256 bits, stored and compared only as SHA-256 digests."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping


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


# Compared against when a presented token is unknown, so both paths do the same work.
_NO_MATCH = bytes(32)


def find_owner(
    owners: Mapping[bytes, str],
    presented: str,
    *,
    digest: Callable[[str], bytes] = token_digest,
    compare: Callable[[bytes, bytes], bool] = hmac.compare_digest,
) -> str | None:
    """Who a presented token belongs to (owners by digest), with the same work for a miss.

    Both paths hash once, look the digest up once and make one constant-time compare. The dict
    look-up is keyed by a SHA-256 digest the caller cannot choose, so its timing says nothing
    about stored tokens; the compare keeps the hit path from being a cheaper shortcut.
    """
    presented_digest = digest(presented)
    owner = owners.get(presented_digest)
    stored = presented_digest if owner is not None else _NO_MATCH
    return owner if compare(presented_digest, stored) else None
