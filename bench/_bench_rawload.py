"""The cheapest load client we can write in Python: raw HTTP/1.1 keep-alive GETs on an asyncio
Protocol (uvloop when installed), one request in flight per connection, bodies counted and
dropped, never parsed or copied. On two cores the client competes with the servers it drives,
so every CPU cycle it saves is one the servers get (aiohttp's client took ~2× its CPU).

Responses must carry Content-Length (statuswatch's and aiohttp's do). Prints one RESULT line:
requests, errors (non-200), req/s and the client's own CPU seconds.

Run: python bench/_bench_rawload.py --url http://127.0.0.1:PORT/path [--connections 32]
     [--duration 10] [--header 'Accept-Encoding: gzip']
"""

from __future__ import annotations

import argparse
import asyncio
import time
from urllib.parse import urlsplit

from _bench_common import emit, proc_cpu


class Stats:
    __slots__ = ("errors", "requests")

    def __init__(self) -> None:
        self.requests = 0
        self.errors = 0


class Client(asyncio.Protocol):
    """One keep-alive connection sending `request` again as soon as each answer is complete."""

    def __init__(self, request: bytes, stats: Stats, stop_at: float, done: asyncio.Future):
        self.request, self.stats, self.stop_at, self.done = request, stats, stop_at, done
        self.head = b""
        self.left = -1  # body bytes still to come; -1 while reading the head

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(self.request)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        if self.left < 0:
            head = self.head + data
            end = head.find(b"\r\n\r\n")
            if end < 0:
                self.head = head
                return
            self.head = b""
            if head[9:12] != b"200":
                self.stats.errors += 1
            self.left = _content_length(head[:end]) - (len(head) - end - 4)
        else:
            self.left -= len(data)
        if self.left <= 0:
            self.left = -1
            self.stats.requests += 1
            if time.monotonic() < self.stop_at:
                self.transport.write(self.request)  # type: ignore[attr-defined]
            else:
                self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    raise SystemExit("a response without Content-Length: this client cannot frame it")


async def run(url: str, connections: int, duration: float, headers: list[str]) -> dict:
    parts = urlsplit(url)
    if parts.hostname != "127.0.0.1":
        raise SystemExit("the benchmark only talks to 127.0.0.1")
    path = parts.path or "/"
    lines = [f"GET {path} HTTP/1.1", f"Host: {parts.netloc}", *headers, "", ""]
    request = "\r\n".join(lines).encode()
    loop = asyncio.get_running_loop()
    stats = Stats()
    cpu0, t0 = proc_cpu(), time.monotonic()
    stop_at = t0 + duration
    dones = []
    for _ in range(connections):
        done = loop.create_future()
        await loop.create_connection(
            lambda d=done: Client(request, stats, stop_at, d), parts.hostname, parts.port
        )
        dones.append(done)
    await asyncio.wait_for(asyncio.gather(*dones), duration + 30)
    wall = time.monotonic() - t0
    return {
        "requests": stats.requests,
        "errors": stats.errors,
        "requests_per_s": round(stats.requests / wall, 1),
        "cpu_s": round(proc_cpu() - cpu0, 3),
        "wall_s": round(wall, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--header", action="append", default=[])
    args = parser.parse_args()
    from statuswatch.cli.event_loop import new_event_loop

    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        emit(runner.run(run(args.url, args.connections, args.duration, args.header)))


if __name__ == "__main__":
    main()
