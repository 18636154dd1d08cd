"""The one configurable part of the Content-Security-Policy: who may frame the site.

The value goes verbatim into a response header, so it is checked token by token against the
CSP grammar for frame-ancestors sources: a stray ";" would let config smuggle in (or break)
other directives, and a typo would silently allow or forbid framing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_KEYWORDS = ("'self'", "'none'")
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # "https:"
_HOST = re.compile(
    r"(?:[a-z][a-z0-9+.-]*://)?"  # optional scheme
    r"(?:\*|(?:\*\.)?[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*)"
    r"(?::(?:[0-9]{1,5}|\*))?"  # optional port
    r"(?:/[a-z0-9._~%!$&'()*+=:@/-]*)?",  # optional path (no ";" or ",")
    re.IGNORECASE,
)


def frame_ancestor_problem(token: str) -> str | None:
    """Why one source expression is not valid in frame-ancestors, or None."""
    if token in _KEYWORDS or _SCHEME.fullmatch(token) or _HOST.fullmatch(token):
        return None
    if token.startswith("'"):
        return f"{token} is not allowed here (only 'self' or 'none')"
    return f"{token!r} is not a CSP source ('self', 'none', https:, https://example.com)"


def check_frame_ancestors(key: str, value: str) -> Iterator[str]:
    """Every problem of a frame-ancestors source list, naming `key`."""
    tokens = value.split()
    if not tokens:
        yield f"{key}: must not be empty (use \"'none'\" to forbid framing)"
        return
    if "'none'" in tokens and len(tokens) > 1:
        yield f"{key}: 'none' must stand alone"
    for token in tokens:
        if (problem := frame_ancestor_problem(token)) is not None:
            yield f"{key}: {problem}"
