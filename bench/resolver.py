"""Name resolution and event loop choices for probes, measured side by side.

Each variant sends the same number of requests (fresh connection each, as probes do) to a
local target and reports CPU-s per 1,000 requests of this process:
  ip           http://127.0.0.1:PORT/          no resolution at all
  cached       http://localhost:PORT/          aiohttp's DNS cache (ttl_dns_cache=60, ours)
  uncached     http://localhost:PORT/          the threaded getaddrinfo on every request
  cached+uvloop  as "cached", on uvloop (when installed: pip install uvloop)

    .venv/bin/python bench/resolver.py [--requests 4000] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import socket
import subprocess
import sys
import time

import aiohttp

VARIANTS = ("ip", "cached", "uncached", "cached+uvloop")


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def drive(url: str, requests: int, concurrency: int, ttl: int | None) -> None:
    connector = aiohttp.TCPConnector(
        force_close=True, limit=0, ttl_dns_cache=ttl, use_dns_cache=ttl is not None
    )
    async with aiohttp.ClientSession(connector=connector) as session:
        todo = iter(range(requests))

        async def worker() -> None:
            for _ in todo:
                async with session.get(url) as resp:
                    await resp.read()

        await asyncio.gather(*(worker() for _ in range(concurrency)))


def one(variant: str, port: int, requests: int, concurrency: int) -> None:
    """Run one variant in this process and print its CPU per 1,000 requests."""
    host = "127.0.0.1" if variant == "ip" else "localhost"
    ttl = None if variant == "uncached" else 60
    if variant.endswith("uvloop"):
        import uvloop

        uvloop.install()
    before, t0 = cpu(), time.perf_counter()
    asyncio.run(drive(f"http://{host}:{port}/", requests, concurrency, ttl))
    spent, wall = cpu() - before, time.perf_counter() - t0
    print(f"{variant:<14} {1000 * spent / requests:8.3f} CPU-s/1k  {requests / wall:8.0f} req/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:
        one(args.variant, args.port, args.requests, args.concurrency)
        return
    with socket.socket() as sock:  # a free port for the target
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [
        sys.executable,
        "bench/_bench_target.py",
        "--port",
        str(port),
        "--max-seconds",
        "600",
    ]
    target = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        target.stdout.readline()  # type: ignore[union-attr]  # waits for "READY"
        print(f"{'variant':<14} {'CPU':>8}            {'rate':>8}")
        for variant in VARIANTS:
            proc = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--variant",
                    variant,
                    "--port",
                    str(port),
                    "--requests",
                    str(args.requests),
                    "--concurrency",
                    str(args.concurrency),
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            print(proc.stdout.strip() or f"{variant:<14} skipped: {proc.stderr.strip()[-80:]}")
    finally:
        target.terminate()
        target.wait()


if __name__ == "__main__":
    main()
