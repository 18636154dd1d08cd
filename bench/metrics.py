"""/metrics at scale: 10,000 monitors and 1,000 customers, a year of outages behind them.

Starts the real app (no probing; results are fed through Monitoring.handle_result), computes
the SLA snapshot, then scrapes /metrics over HTTP. Prints the scrape time beside
prometheus_client.generate_latest's on the same registry (as a ratio), the SLA refresh time,
and how late a 1 ms ticker on the event loop ran while each happened ("never blocks the probes").

    .venv/bin/python bench/metrics.py [--monitors 10000] [--customers 1000] [--outages 20] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web
from prometheus_client import generate_latest

from statuswatch.clock import FakeClock
from statuswatch.config import parse_config
from statuswatch.metrics.exposition import render
from statuswatch.monitor.events import OutageClosed, OutageOpened
from statuswatch.probes.base import CheckResult
from statuswatch.store import RegisterMonitors, Store
from statuswatch.web import create_app
from statuswatch.web.app import freeze_startup_heap
from statuswatch.web.keys import METRICS_REGISTRY, MONITORING, SLA_SNAPSHOT

YEAR = 365 * 86400
NOW = 1_795_000_000.0
PLATFORM = ["storefront-api", "checkout", "admin", "search"]
KINDS = ["http"] * 7 + ["tcp", "tls", "dns"]


def build_config(tmp: Path, n_monitors: int, n_customers: int):
    stores = [f"store-{i}" for i in range(n_customers)]
    components = [{"id": c, "name": c} for c in PLATFORM + stores]
    monitors = []
    for i in range(n_monitors):
        comp = PLATFORM[i % 4] if i < 20 else stores[i % n_customers]
        kind = KINDS[i % len(KINDS)]
        mon = {"id": f"m-{i}", "kind": kind, "component": comp, "interval": "60s"}
        if kind == "http":
            mon["url"] = f"https://{comp}.example/health"
        elif kind in ("tcp", "tls"):
            mon |= {"host": f"{comp}.example", "port": 443}
        else:
            mon["query"] = f"{comp}.example"
        monitors.append(mon)
    credit = {"scheme": "per_excess_hour", "percent_per_hour": 5, "cap_percent": 50}
    sla = [
        {"id": p, "name": p, "target_percent": t, "credit": credit}
        for p, t in (("standard", 99.8), ("plus", 99.9), ("premium", 99.99))
    ]
    customers = [
        {
            "id": f"cust-{i}",
            "name": f"Customer {i}",
            "plan": sla[i % 3]["id"],
            "fee": 1000 + i,
            "components": ["storefront-api", "checkout", stores[i]],
        }
        for i in range(n_customers)
    ]
    raw = {
        "storage": {"path": str(tmp / "bench.db")},
        "components": components,
        "monitors": monitors,
        "sla": sla,
        "customers": customers,
        "site": {"admin_token_env": "BENCH_NO_TOKEN"},
    }
    return parse_config(raw, base_dir=tmp)


async def seed_history(config, path: Path, outages_per_monitor: int, rng: random.Random) -> None:
    """A year of evidence: monitors registered a year ago, outages of 1-120 minutes."""
    store = Store(path, clock=FakeClock(NOW - YEAR))
    await store.start()
    store.submit(
        RegisterMonitors([(m.id, m.kind, m.component) for m in config.monitors], NOW - YEAR)
    )
    for mon in config.monitors:
        starts = sorted(rng.uniform(NOW - YEAR, NOW - 3600) for _ in range(outages_per_monitor))
        for start in starts:
            store.submit(OutageOpened(mon.id, start, "timeout", "timed out"))
            store.submit(OutageClosed(mon.id, start + rng.uniform(60, 7200), "recovered"))
    await store.flush()
    await store.close()


def feed_results(monitoring, rng: random.Random, rounds: int) -> None:
    for r in range(rounds):
        for mon in monitoring.config.monitors:
            ok = rng.random() > 0.05 or r == 0
            latency = rng.lognormvariate(-2.5, 0.8)
            monitoring.handle_result(
                mon,
                CheckResult(
                    mon.id,
                    NOW + 60 * r + rng.random(),
                    ok,
                    latency,
                    200 if mon.kind == "http" and ok else (503 if mon.kind == "http" else None),
                    None if ok else rng.choice(["timeout", "connect", "http_status"]),
                    "",
                    cert_expiry=NOW + 40 * 86400 if mon.kind == "tls" else None,
                ),
            )


async def lag_during(coro) -> tuple[object, float, float]:
    """Run `coro`; return its result, its wall time and the worst lateness of a 1 ms ticker."""
    worst = 0.0
    done = False

    async def ticker() -> None:
        nonlocal worst
        while not done:
            t0 = time.perf_counter()
            await asyncio.sleep(0.001)
            worst = max(worst, time.perf_counter() - t0 - 0.001)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0.01)
    t0 = time.perf_counter()
    result = await coro
    elapsed = time.perf_counter() - t0
    done = True
    await task
    return result, elapsed, worst


async def run(args: argparse.Namespace) -> dict:
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        config = build_config(tmp, args.monitors, args.customers)
        t0 = time.perf_counter()
        await seed_history(config, Path(config.storage.path), args.outages, rng)
        seeded = time.perf_counter() - t0
        clock = FakeClock(NOW)
        app = create_app(config, clock=clock, environ={}, probe=False)
        app.on_startup.append(freeze_startup_heap)  # as `statuswatch run` does
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        try:
            feed_results(app[MONITORING], rng, rounds=3)
            await app[SLA_SNAPSHOT].store.flush()
            await app[SLA_SNAPSHOT].refresh()  # let the one housekeeping started at startup end
            _, refresh_s, refresh_lag = await lag_during(app[SLA_SNAPSHOT].refresh())
            compute_s = app[SLA_SNAPSHOT].current.seconds
            url = f"http://127.0.0.1:{port}/metrics"
            scrape_times, scrape_lags, body = [], [], b""
            async with aiohttp.ClientSession() as session:
                for _ in range(args.repeat):

                    async def scrape(session=session) -> bytes:
                        async with session.get(url) as resp:
                            assert resp.status == 200
                            return await resp.read()

                    body, elapsed, lag = await lag_during(scrape())
                    scrape_times.append(elapsed)
                    scrape_lags.append(lag)
            registry = app[METRICS_REGISTRY]
            ours, theirs = [], []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                render(registry)
                ours.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                generate_latest(registry)
                theirs.append(time.perf_counter() - t0)
        finally:
            await runner.cleanup()
    series = sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))
    return {
        "monitors": args.monitors,
        "customers": args.customers,
        "components": len(config.components),
        "outages_per_monitor_year": args.outages,
        "seed_s": round(seeded, 1),
        "series": series,
        "scrape_bytes": len(body),
        "scrape_http_s_median": round(statistics.median(scrape_times), 3),
        "scrape_http_s_max": round(max(scrape_times), 3),
        "loop_lag_during_scrape_s_max": round(max(scrape_lags), 4),
        "render_s_median": round(statistics.median(ours), 3),
        "generate_latest_s_median": round(statistics.median(theirs), 3),
        "sla_refresh_s": round(refresh_s, 2),
        "sla_compute_s": round(compute_s, 2),
        "loop_lag_during_sla_refresh_s_max": round(refresh_lag, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--monitors", type=int, default=10_000)
    parser.add_argument("--customers", type=int, default=1_000)
    parser.add_argument("--outages", type=int, default=20, help="outages per monitor-year")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # startup prints one report URL per customer
    r = asyncio.run(run(args))
    print(
        f"{r['monitors']} monitors, {r['customers']} customers, {r['components']} components, "
        f"{r['outages_per_monitor_year']} outages per monitor-year "
        f"(seeding took {r['seed_s']} s)"
    )
    print(f"scrape: {r['series']} series, {r['scrape_bytes'] / 1e6:.1f} MB")
    print(f"{'what':<52}{'seconds':>9}  target")
    rows = [
        ("GET /metrics over HTTP (median)", r["scrape_http_s_median"], "< 0.3"),
        ("GET /metrics over HTTP (worst)", r["scrape_http_s_max"], "< 0.3"),
        ("render (statuswatch.metrics.exposition, median)", r["render_s_median"], ""),
        ("render (prometheus_client.generate_latest, median)", r["generate_latest_s_median"], ""),
        (
            "event loop: worst 1 ms tick lateness during a scrape",
            r["loop_lag_during_scrape_s_max"],
            "",
        ),
        ("SLA snapshot refresh (store reads + compute)", r["sla_refresh_s"], "every 60 s"),
        ("  of which compute on the metrics thread", r["sla_compute_s"], ""),
        (
            "event loop: worst 1 ms tick lateness during it",
            r["loop_lag_during_sla_refresh_s_max"],
            "",
        ),
    ]
    for what, seconds, target in rows:
        print(f"{what:<52}{seconds:>9.3f}  {target}")
    ratio = r["render_s_median"] / r["generate_latest_s_median"]
    print(f"render / generate_latest time ratio: {ratio:.2f} ({1 / ratio:.1f}x faster)")
    if args.json:
        print(json.dumps(r))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
