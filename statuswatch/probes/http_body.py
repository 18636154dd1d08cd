"""Reading an HTTP body under a byte cap (compressed or not) and the http probe's body checks."""

from __future__ import annotations

import asyncio
import codecs
import json
import re
import zlib
from typing import Any

import aiohttp

from statuswatch.config.model import HttpMonitor
from statuswatch.probes.base import ErrorClass, ProbeFailure


class CappedBody:
    """A response body, decompressed, kept up to `cap` bytes; `over` once there was more."""

    def __init__(self, encoding: str, cap: int, charset: str) -> None:
        self.cap = cap
        self.charset = charset
        self.data = bytearray()
        self.over = False
        self._inflate = _decompressor(encoding)

    def feed(self, chunk: bytes) -> None:
        """Add one received chunk, inflating at most one byte past the cap."""
        room = self.cap - len(self.data)
        if self._inflate is not None:
            # max_length bounds this call's output, so a gzip bomb inflates to cap + 1 at most;
            # the rest of the chunk waits in unconsumed_tail and is dropped with the object.
            chunk = self._inflate.decompress(chunk, room + 1)
        if len(chunk) > room:
            self.over = True
        self.data += chunk[:room]

    @property
    def truncated(self) -> bool:
        """True when a compressed stream ended before its end marker."""
        return self._inflate is not None and not self._inflate.eof and not self.over

    def text(self) -> str:
        return self.data.decode(self.charset, "replace")


def _decompressor(encoding: str) -> Any:
    """A zlib inflater for gzip/deflate, None for identity; other codings were not asked for."""
    coding = encoding.strip().lower()
    if coding in ("", "identity"):
        return None
    if coding in ("gzip", "x-gzip", "deflate"):
        return zlib.decompressobj(zlib.MAX_WBITS | 32)  # | 32: accept a gzip or a zlib header
    raise ProbeFailure(ErrorClass.PROTOCOL, f"unsupported content-encoding {encoding[:40]!r}")


def has_body_check(monitor: HttpMonitor) -> bool:
    """Whether the body must be read at all."""
    return (
        monitor.body_contains is not None
        or monitor.body_regex is not None
        or monitor.json_field is not None
    )


async def read_capped(resp: aiohttp.ClientResponse, cap: int) -> CappedBody:
    """Read until the end of the body or one byte past `cap`, whichever comes first."""
    body = CappedBody(resp.headers.get("Content-Encoding", ""), cap, _charset(resp))
    try:
        async for chunk in resp.content.iter_any():
            body.feed(chunk)
            if body.over:
                break
    except zlib.error as exc:
        raise ProbeFailure(ErrorClass.PROTOCOL, "body does not decompress") from exc
    return body


def _charset(resp: aiohttp.ClientResponse) -> str:
    """The declared charset if Python knows it, else UTF-8."""
    try:
        return codecs.lookup(resp.charset or "utf-8").name
    except LookupError:
        return "utf-8"


async def check_body(monitor: HttpMonitor, body: CappedBody) -> None:
    """Run the configured body checks; past the cap only a found substring can pass."""
    if body.truncated:
        raise ProbeFailure(ErrorClass.PROTOCOL, "compressed body is truncated")
    text = body.text()
    needle = monitor.body_contains
    if needle is not None and needle not in text:
        raise _too_large(body) if body.over else _body(f"body does not contain {needle!r}")
    if body.over and (monitor.body_regex is not None or monitor.json_field is not None):
        raise _too_large(body)
    # Python's re has no timeout: a slow pattern on a hostile body runs off the event loop,
    # where the deadline can still abandon it.
    if monitor.body_regex is not None and not await asyncio.to_thread(
        re.search, monitor.body_regex, text
    ):
        raise _body(f"body does not match {monitor.body_regex!r}")
    if monitor.json_field is not None:
        _check_json(monitor, monitor.json_field, bytes(body.data))


def _check_json(monitor: HttpMonitor, field: str, raw: bytes) -> None:
    """The field must exist and, when json_equals is set, equal it (TOML has no null)."""
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ProbeFailure(ErrorClass.PROTOCOL, "body is not JSON") from exc
    found, value = json_get(doc, field)
    if not found:
        raise _body(f"JSON field {field} is missing")
    expected = monitor.json_equals
    if expected is not None and not _json_equal(value, expected):
        got = json.dumps(value)[:60]
        raise _body(f"JSON field {field} is {got}, expected {json.dumps(expected)[:60]}")


def json_get(doc: Any, path: str) -> tuple[bool, Any]:
    """Follow a dotted path ("checks.0.ok"); integer segments index lists."""
    cur = doc
    for seg in path.split("."):
        if isinstance(cur, dict) and seg in cur:
            cur = cur[seg]
        elif isinstance(cur, list) and seg.isascii() and seg.isdigit() and int(seg) < len(cur):
            cur = cur[int(seg)]
        else:
            return False, None
    return True, cur


def _json_equal(value: Any, expected: str | int | float | bool) -> bool:
    """Equality where true is not 1 (Python's bool is an int; JSON's is not)."""
    if isinstance(value, bool) or isinstance(expected, bool):
        return value is expected
    return bool(value == expected)


def _body(message: str) -> ProbeFailure:
    return ProbeFailure(ErrorClass.BODY, message)


def _too_large(body: CappedBody) -> ProbeFailure:
    cap = body.cap
    size = f"{cap // 1048576} MiB" if cap % 1048576 == 0 else f"{cap} bytes"
    return ProbeFailure(ErrorClass.TOO_LARGE, f"body larger than {size}, check undecided")
