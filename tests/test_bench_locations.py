"""bench/locations.py's upload sniffer: what its verdict delay and replay figures rest on."""

from __future__ import annotations

import gzip
import importlib.util
import json
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _load_bench():
    """bench/locations.py under its own name (bench/ is scripts, not a package; its helpers
    are imported from beside it only while it loads, so bench/store.py shadows nothing)."""
    spec = importlib.util.spec_from_file_location("bench_locations", BENCH / "locations.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(BENCH))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCH))
    return module


locations = _load_bench()


def request(results: list[dict], *, chunked: bool = False, gzipped: bool = False) -> bytes:
    body = json.dumps({"location": "a", "agent": "x", "sent_at": 1.0, "results": results}).encode()
    head = b"POST /api/v1/agent/results HTTP/1.1\r\nHost: x\r\n"
    if gzipped:
        body, head = gzip.compress(body), head + b"Content-Encoding: gzip\r\n"
    if chunked:
        half = len(body) // 2
        parts = [body[:half], body[half:], b""]
        framed = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts)
        return head + b"Transfer-Encoding: chunked\r\n\r\n" + framed
    return head + b"Content-Length: %d\r\n\r\n" % len(body) + body


def test_each_upload_is_timed_from_its_last_byte_to_its_answer():
    log: list[locations.Upload] = []
    sniffer = locations.Sniffer(log)
    flip = {"monitor": "flip0", "time": 1700000000.123456, "ok": False}
    first = request([{"monitor": "m1", "time": 5.0, "ok": True}, flip])
    sniffer.request_bytes(first[:40], 10.0)
    sniffer.request_bytes(first[40:], 10.5)  # the upload is in when its last byte is
    sniffer.answer_bytes(10.7)
    sniffer.answer_bytes(10.8)  # the rest of the same answer
    sniffer.request_bytes(b"GET /api/v1/agent/monitors?agent=x HTTP/1.1\r\n\r\n", 11.0)
    sniffer.answer_bytes(11.1)
    second = request([flip], chunked=True, gzipped=True)
    sniffer.request_bytes(second, 12.0)
    sniffer.answer_bytes(12.2)
    assert [(u.arrived, u.answered, u.results) for u in log] == [(10.5, 10.7, 2), (12.0, 12.2, 1)]
    assert log[0].flips == log[1].flips == [("flip0", 1700000000.123456, False)]
