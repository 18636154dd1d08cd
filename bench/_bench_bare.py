"""Bare aiohttp client loop: the floor statuswatch is compared with.

The same connection policy as statuswatch's http probe (one shared session; force_close for a
fresh connection per probe unless --reuse) and the same dispatch shape (a bounded worker pool,
see _bench_common.fixed_rate), but no config, state machine, database or result objects.

Modes:
  fixed     N targets each once per interval (same rate as statuswatch): CPU-s per 1,000 probes.
  saturate  --workers loops probing back to back: the most probes/s this client can do.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import aiohttp
from _bench_common import (
    Counters,
    contender_arguments,
    contender_result,
    emit,
    fixed_schedule,
    measured_window,
    proc_cpu,
    run_on_loop,
    saturate,
)


def make_probe(session: aiohttp.ClientSession, base: str, timeout: float):
    urls = {}

    async def probe(index: int) -> str | None:
        url = urls.get(index) or urls.setdefault(index, f"{base}/m/{index}")
        async with asyncio.timeout(timeout), session.get(url, allow_redirects=False) as resp:
            return None if resp.status == 200 else f"HTTP {resp.status}"

    return probe


async def run(args: argparse.Namespace) -> dict:
    connector = aiohttp.TCPConnector(force_close=not args.reuse, limit=args.workers)
    counters = Counters()
    async with aiohttp.ClientSession(connector=connector) as session:
        probe = make_probe(session, args.base, args.timeout)
        if args.mode == "fixed":
            driver = fixed_schedule(probe, counters, args)
        else:
            stop_at = time.monotonic() + args.warmup + args.duration + 0.5
            driver = saturate(
                probe, counters, monitors=args.monitors, workers=args.workers, stop_at=stop_at
            )
        task = asyncio.create_task(driver)
        window = await measured_window(
            counters, proc_cpu, warmup=args.warmup, duration=args.duration
        )
        await task
    return contender_result(window, counters, lateness=args.mode == "fixed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=["fixed", "saturate"])
    contender_arguments(parser)
    parser.add_argument(
        "--loop", choices=["auto", "asyncio"], default="auto", help="auto: uvloop if installed"
    )
    parser.add_argument("--reuse", action="store_true", help="keep-alive instead of fresh")
    args = parser.parse_args()
    if not args.base.startswith("http://127.0.0.1:"):
        parser.error("the benchmark only talks to 127.0.0.1")
    emit(run_on_loop(run(args), args.loop))


if __name__ == "__main__":
    main()
