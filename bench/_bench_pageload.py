"""Concurrent load on statuswatch's own pages while it probes (its lateness must not suffer).

Each worker fetches the given paths in turn, back to back, over keep-alive, for --duration
seconds, then prints one RESULT line: requests, errors, and page latency p50/p99.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import aiohttp
from _bench_common import emit, lateness_summary, proc_cpu


async def run(
    base: str, paths: list[str], workers: int, duration: float, headers: dict | None = None
) -> dict:
    """`headers`: sent with every request (e.g. Accept-Encoding; aiohttp asks for gzip unless
    told otherwise)."""
    latencies: list[float] = []
    errors = 0
    cpu0 = proc_cpu()
    stop_at = time.monotonic() + duration

    async def worker(session: aiohttp.ClientSession, offset: int) -> None:
        nonlocal errors
        i = offset
        while time.monotonic() < stop_at:
            path = paths[i % len(paths)]
            i += 1
            t0 = time.perf_counter()
            try:
                async with asyncio.timeout(30), session.get(base + path) as resp:
                    await resp.read()
                    ok = resp.status == 200
            except (aiohttp.ClientError, TimeoutError):
                ok = False
            latencies.append(time.perf_counter() - t0)
            errors += not ok

    # Bodies are read, not decompressed: inflating the gzipped /metrics cost this client more
    # CPU than serving it cost statuswatch, and on two shared cores that throttled the load.
    async with aiohttp.ClientSession(auto_decompress=False, headers=headers) as session:
        paths = await present(session, base, paths)
        await asyncio.gather(*(worker(session, n) for n in range(workers)))
    page = lateness_summary(latencies)  # the same quantile helper, here for page latency
    return {
        "requests": len(latencies),
        "errors": errors,
        "requests_per_s": round(len(latencies) / duration, 1),
        "page_p50_ms": page["p50_ms"],
        "page_p99_ms": page["p99_ms"],
        "paths": paths,
        "cpu_s": round(proc_cpu() - cpu0, 3),  # the load client's own CPU: it shares the cores
    }


async def present(session: aiohttp.ClientSession, base: str, paths: list[str]) -> list[str]:
    """The paths that exist (/metrics may not yet): a 404 would only measure the router."""
    found = []
    for path in paths:
        async with asyncio.timeout(30), session.get(base + path) as resp:
            await resp.read()
            if resp.status != 404:
                found.append(path)
    return found or paths[:1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", required=True, help="statuswatch base URL on 127.0.0.1")
    parser.add_argument("--paths", default="/")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--duration", type=float, default=30.0)
    args = parser.parse_args()
    if not args.base.startswith("http://127.0.0.1:"):
        parser.error("the benchmark only talks to 127.0.0.1")
    emit(asyncio.run(run(args.base, args.paths.split(","), args.workers, args.duration)))


if __name__ == "__main__":
    main()
