"""Store benchmark: sustained write throughput, batching's effect, and bytes per monitor-day.

Run: .venv/bin/python bench/store.py [--results 200000] [--monitors 200]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from pathlib import Path

from statuswatch.monitor.events import (
    MonitorSnapshot,
    OutageClosed,
    OutageOpened,
    State,
    Transition,
)
from statuswatch.probes.base import CheckResult
from statuswatch.store import Prune, RegisterMonitors, Store, vacuum

DAY0 = 20_717 * 86400.0  # a UTC midnight
FAILURES = [
    ("timeout", "no response within 10.0s"),
    ("connect", "connection refused by 203.0.113.17:443"),
    ("http_status", "HTTP 503 Service Unavailable (expected 200-399)"),
]


def results(
    n: int, ids: list[str], rng: random.Random, start: float = DAY0, fail_rate: float = 0.01
) -> list[CheckResult]:
    """Round-robin results over the monitor ids at a 60 s interval from `start`."""
    out = []
    for i in range(n):
        ok = rng.random() > fail_rate
        error_class, message = (None, "") if ok else rng.choice(FAILURES)
        t = start + 60 * (i // len(ids)) + rng.random()
        latency = rng.lognormvariate(-2.5, 0.8)
        status = 200 if ok else None
        out.append(CheckResult(ids[i % len(ids)], t, ok, latency, status, error_class, message))
    return out


async def write(path: Path, items: list, **options: float) -> tuple[float, float]:
    """Submit everything, wait for the commit; return (wall seconds, CPU seconds of all threads)."""
    store = Store(path, **options)  # type: ignore[arg-type]
    await store.start()
    wall, cpu = time.perf_counter(), time.process_time()
    for i, item in enumerate(items):
        store.submit(item)
        if i % 1000 == 999:
            await asyncio.sleep(0)  # let the loop breathe, as the scheduler would
    await store.flush()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    await store.close()
    return wall, cpu


def day(monitor_id: str, rng: random.Random, start: float) -> list:
    """One monitor's day at 60 s: ~1% failures, hourly snapshots, one 3-minute outage."""
    snapshots = [
        MonitorSnapshot(monitor_id, State.UP, 0, None, None, "", 5, t, t)
        for t in (start + h * 3600 for h in range(24))
    ]
    down = start + 43200
    return [
        *results(1440, [monitor_id], rng, start),
        *snapshots,
        OutageOpened(monitor_id, down, "timeout", "no response within 10.0s"),
        Transition(monitor_id, down, State.UP, State.DOWN, "3 consecutive failures"),
        OutageClosed(monitor_id, down + 180, "recovered"),
        Transition(monitor_id, down + 180, State.DOWN, State.UP, "2 consecutive passes"),
    ]


async def bytes_per_monitor_day(tmp: Path, monitors: int, days: int) -> float:
    """Write `days` days of `monitors` monitors, prune raw passes, VACUUM; return the growth."""
    rng = random.Random(1)
    ids = [f"shop-{i:04d}.storefront" for i in range(monitors)]
    items: list = [RegisterMonitors([(i, "http", "Storefronts") for i in ids], DAY0)]
    for d in range(days):
        for monitor_id in ids:
            items += day(monitor_id, rng, DAY0 + d * 86400)
    end = DAY0 + days * 86400
    items.append(Prune(end, raw_before=end, rollup_before=0))
    sizes = []
    for name, batch in (("empty.db", []), ("full.db", items)):
        await write(tmp / name, batch)
        vacuum(tmp / name)
        sizes.append((tmp / name).stat().st_size)
    return (sizes[1] - sizes[0]) / (monitors * days)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--results", type=int, default=200_000)
    parser.add_argument("--monitors", type=int, default=200)
    parser.add_argument("--unbatched", type=int, default=5_000, help="results for batch_max=1")
    args = parser.parse_args()
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        items = results(args.results, [f"m{i}" for i in range(args.monitors)], rng)
        wall, cpu = await write(Path(tmp) / "bench.db", items)
        rate = args.results / wall
        print(
            f"batched   : {args.results:,} results in {wall:.2f} s = {rate:,.0f} results/s, "
            f"{cpu / args.results * 1000:.4f} CPU-s per 1,000 results"
        )
        few = items[: args.unbatched]
        wall1, cpu1 = await write(Path(tmp) / "one.db", few, batch_max=1, flush_interval=0)
        rate1 = len(few) / wall1
        print(
            f"batch_max=1: {len(few):,} results in {wall1:.2f} s = {rate1:,.0f} results/s, "
            f"{cpu1 / len(few) * 1000:.4f} CPU-s per 1,000 results"
        )
        print(f"batched / unbatched throughput: {rate / rate1:.1f}x")
        per_day = await bytes_per_monitor_day(Path(tmp), monitors=50, days=2)
        print(f"rolled up : {per_day:,.0f} bytes per monitor-day (60 s interval, 1% failures)")


if __name__ == "__main__":
    asyncio.run(main())
