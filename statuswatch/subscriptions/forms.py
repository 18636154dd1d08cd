"""CSRF protection for the HTML forms: a signed, dated token per form action (no cookie).

Why signed rather than double-submit: double-submit needs a cookie, and these pages set none
(one-click unsubscribe must work without cookies anyway). A token is HMAC-SHA256(key, "time|
action"), so it cannot be made without the key, is valid only for the form it came with, and
expires. The key comes from the environment or is generated once and kept in the database, so
forms stay valid across a restart.
"""

from __future__ import annotations

import hashlib
import hmac

from statuswatch.clock import Clock

MAX_AGE = 24 * 3600.0


class FormSigner:
    """Makes and checks the hidden `csrf` field of each form."""

    def __init__(self, key: bytes, clock: Clock, max_age: float = MAX_AGE) -> None:
        self._key = key
        self._clock = clock
        self._max_age = max_age

    def _mac(self, issued: int, action: str) -> str:
        return hmac.new(self._key, f"{issued}|{action}".encode(), hashlib.sha256).hexdigest()

    def token(self, action: str) -> str:
        """A token for a form that posts to `action` (its path)."""
        issued = int(self._clock.time())
        return f"{issued}.{self._mac(issued, action)}"

    def valid(self, token: str, action: str) -> bool:
        """Whether `token` was made here for `action` and has not expired (constant-time)."""
        issued_text, _, mac = token.partition(".")
        if not issued_text.isdigit() or len(issued_text) > 12:
            return False
        issued = int(issued_text)
        if not 0 <= self._clock.time() - issued <= self._max_age:
            return False
        return hmac.compare_digest(mac, self._mac(issued, action))
