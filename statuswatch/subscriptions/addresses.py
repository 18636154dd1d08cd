"""Email address checks: one plain address, sane length, nothing that could split a header."""

from __future__ import annotations

import re

MAX_LENGTH = 254  # RFC 5321's limit on a forward path, less the angle brackets
# Deliberately narrower than RFC 5322: no quoted local parts, comments, or display names, so an
# accepted address can never carry a second recipient, a CR/LF or header syntax.
_ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)


def address_problem(text: str) -> str | None:
    """Why `text` is not one acceptable address, or None when it is."""
    if len(text) > MAX_LENGTH:
        return f"at most {MAX_LENGTH} characters"
    if any(ch in text for ch in "\r\n\0"):
        return "must be a single line"
    if not _ADDRESS.fullmatch(text):
        return "must be one email address such as name@example.com"
    if len(text.partition("@")[0]) > 64:
        return "the part before @ is at most 64 characters"
    return None


def normalise(text: str) -> str:
    """The form an address is stored and compared in (one subscription per mailbox)."""
    return text.strip().lower()
