"""Store benchmark: sustained write throughput, batching's effect, and bytes per monitor-day;
batched result writes into SQLite and into PostgreSQL side by side, in one run.

Run: .venv/bin/python bench/store.py [--results 200000] [--monitors 200] [--json]
(PostgreSQL: the bench starts its own server from Debian's `postgresql` package; without it,
or with --no-postgresql, only SQLite is measured.)
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _bench_common import PostgresServer

from statuswatch.monitor.events import (
    MonitorSnapshot,
    OutageClosed,
    OutageOpened,
    State,
    Transition,
)
from statuswatch.probes.base import CheckResult
from statuswatch.store import Prune, RegisterMonitors, Store, StoreProtocol, vacuum

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


async def write(
    path: Path | Callable[..., StoreProtocol],
    items: list,
    server_cpu: Callable[[], float] = lambda: 0.0,
    **options: float,
) -> tuple[float, float]:
    """Submit everything, wait for the commit; return (wall seconds, CPU seconds of all threads
    and of the database server's processes, when it has its own)."""
    store = Store(path, **options) if isinstance(path, Path) else path(**options)  # type: ignore[arg-type]
    await store.start()
    wall, cpu = time.perf_counter(), time.process_time() + server_cpu()
    for i, item in enumerate(items):
        store.submit(item)
        if i % 1000 == 999:
            await asyncio.sleep(0)  # let the loop breathe, as the scheduler would
    await store.flush()
    wall, cpu = time.perf_counter() - wall, time.process_time() + server_cpu() - cpu
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


def figures(n: int, wall: float, cpu: float) -> dict[str, float]:
    """Throughput and CPU per 1,000 results of one write run."""
    return {
        "results": n,
        "seconds": round(wall, 3),
        "results_per_s": round(n / wall),
        "cpu_s_per_1k": round(cpu / n * 1000, 4),
    }


def line(name: str, f: dict[str, float]) -> str:
    return (
        f"{name:<18}: {f['results']:,} results in {f['seconds']:.2f} s = "
        f"{f['results_per_s']:,} results/s, {f['cpu_s_per_1k']:.4f} CPU-s per 1,000 results"
    )


async def postgresql_column(items: list, unbatched: list, root: str) -> dict[str, dict]:
    """The same batched (and batch_max=1) writes through PgStore into a server of our own."""
    import psycopg

    from statuswatch.store.pg import PgStore

    server = PostgresServer(root)
    url = server.start()
    try:
        out = {}
        for name, batch, options in (
            ("batched", items, {}),
            ("unbatched", unbatched, {"batch_max": 1, "flush_interval": 0}),
        ):
            with psycopg.connect(url, autocommit=True) as conn:  # a fresh database per run
                conn.execute(f"CREATE DATABASE {name}")
            opener = functools.partial(PgStore, url.rsplit("/", 1)[0] + f"/{name}")
            wall, cpu = await write(opener, batch, server.cpu, **options)
            out[name] = figures(len(batch), wall, cpu)
        return out
    finally:
        server.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--results", type=int, default=200_000)
    parser.add_argument("--monitors", type=int, default=200)
    parser.add_argument("--unbatched", type=int, default=5_000, help="results for batch_max=1")
    parser.add_argument("--no-postgresql", action="store_true", help="measure SQLite only")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    rng = random.Random(0)
    out: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        items = results(args.results, [f"m{i}" for i in range(args.monitors)], rng)
        few = items[: args.unbatched]
        wall, cpu = await write(Path(tmp) / "bench.db", items)
        wall1, cpu1 = await write(Path(tmp) / "one.db", few, batch_max=1, flush_interval=0)
        out["sqlite"] = {"batched": figures(len(items), wall, cpu)}
        out["sqlite"]["unbatched"] = figures(len(few), wall1, cpu1)
        per_day = await bytes_per_monitor_day(Path(tmp), monitors=50, days=2)
        out["sqlite"]["bytes_per_monitor_day"] = round(per_day)
        if not args.no_postgresql:
            with tempfile.TemporaryDirectory(prefix="bench-pg-") as pg_root:
                out["postgresql"] = await postgresql_column(items, few, pg_root)
    for backend in out.values():
        backend["batched_vs_unbatched"] = round(
            backend["batched"]["results_per_s"] / backend["unbatched"]["results_per_s"], 1
        )
    if "postgresql" in out:
        sq, pg = out["sqlite"]["batched"], out["postgresql"]["batched"]
        out["postgresql_vs_sqlite"] = {
            "throughput": round(pg["results_per_s"] / sq["results_per_s"], 2),
            "cpu_per_1k": round(pg["cpu_s_per_1k"] / sq["cpu_s_per_1k"], 2),
        }
    if args.json:
        print(json.dumps(out, indent=2))
        return
    for name, backend in out.items():
        if name == "postgresql_vs_sqlite":
            continue
        print(line(f"{name} batched", backend["batched"]))
        print(line(f"{name} batch_max=1", backend["unbatched"]))
        print(f"{name} batched / unbatched throughput: {backend['batched_vs_unbatched']:.1f}x")
    per_day = out["sqlite"]["bytes_per_monitor_day"]
    print(f"sqlite rolled up  : {per_day:,} bytes per monitor-day (60 s interval, 1% failures)")
    if "postgresql_vs_sqlite" in out:
        ratio = out["postgresql_vs_sqlite"]
        print(
            f"postgresql / sqlite (batched): {ratio['throughput']:.2f}x the throughput, "
            f"{ratio['cpu_per_1k']:.2f}x the CPU per 1,000 results (server processes included)"
        )


if __name__ == "__main__":
    asyncio.run(main())
