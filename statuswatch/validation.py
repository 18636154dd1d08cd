"""Turn msgspec's decoding errors into "key.path: what is wrong" (config and JSON input alike)."""

from __future__ import annotations

import re

import msgspec

_AT = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)


def describe(exc: msgspec.ValidationError) -> str:
    """One line naming the key path first, e.g. "monitors[0].retries: unknown key"."""
    match = _AT.match(str(exc))
    assert match is not None  # the pattern matches any text
    msg, path = match["msg"], (match["path"] or "").lstrip(".")
    if unknown := re.match(r"Object contains unknown field `(.+)`", msg):
        return f"{_join(path, unknown[1])}: unknown key"
    if missing := re.match(r"Object missing required field `(.+)`", msg):
        return f"{_join(path, missing[1])}: required key is missing"
    if msg.startswith("Invalid value") and path.endswith((".kind", ".scheme")):
        what = "monitor kind" if path.endswith(".kind") else "credit scheme"
        return f"{path}: unknown {what} {msg.removeprefix('Invalid value ')}"
    return f"{path or 'input'}: {msg[:1].lower()}{msg[1:]}"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
