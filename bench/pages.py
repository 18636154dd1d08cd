"""Uncached render times of the public pages, feeds and calendar with a year of incidents.

Seeds 2,000 incidents (about five a day for a year, six updates each) and 20 daily recurring
maintenance windows, sets cache_ttl to 0 (every request renders), and prints the median and
worst time over HTTP for each endpoint. With caching on, a stampede costs one such render per
cache_ttl (single flight), so these are the figures that bound the probes' stall.

    .venv/bin/python bench/pages.py [--incidents 2000] [--windows 20] [--rounds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import tempfile
import time
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from statuswatch.clock import FakeClock
from statuswatch.config import parse_config
from statuswatch.incidents.model import ComponentChange, Impact, Incident, IncidentStatus, new_id
from statuswatch.status.component import ComponentStatus
from statuswatch.store import SaveIncident
from statuswatch.web import create_app
from statuswatch.web.keys import STORE


def config_for(tmp: Path, windows: int):
    raw = {
        "site": {"title": "Bench", "cache_ttl": "0s", "timezone": "Europe/Paris"},
        "storage": {"path": str(tmp / "bench.db")},
        "components": [{"id": "api", "name": "API"}, {"id": "checkout", "name": "Checkout"}],
        "monitors": [],
        "maintenance": [
            {
                "id": f"w{i}",
                "title": f"Window {i}",
                "components": ["api"],
                "start": "2026-01-04T02:00:00",
                "duration": "1h",
                "rrule": "FREQ=DAILY",
                "timezone": "America/New_York",
                "description": "Short **pause**.",
            }
            for i in range(windows)
        ],
    }
    return parse_config(raw, base_dir=tmp)


def incident(t: float, n: int) -> Incident:
    inc = Incident(new_id(), f"Incident {n}", Impact.MAJOR, IncidentStatus.INVESTIGATING, t, t)
    change = (ComponentChange("api", ComponentStatus.OPERATIONAL, ComponentStatus.MAJOR),)
    for k in range(6):
        status = IncidentStatus.RESOLVED if k == 5 else IncidentStatus.IDENTIFIED
        inc.post(t + k * 600, status, f"Update {k}: **still** working on it. " * 8, "op", change)
    return inc


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        clock = FakeClock()
        app = create_app(config_for(Path(tmp), args.windows), clock=clock, probe=False, environ={})
        async with TestClient(TestServer(app)) as client:
            store = app[STORE]
            for n in range(args.incidents):
                store.submit(SaveIncident.of(incident(clock.time() - n * 4 * 3600, n)))
            await store.flush()
            latest = (await store.incidents(limit=1))[0].id
            paths = [
                f"/incidents/{latest}",
                "/history",
                "/history?page=2",
                "/maintenance",
                "/history.atom",
                "/history.rss",
                "/maintenance.ics",
                "/no-such-page",
            ]
            print(f"{args.incidents} incidents, {args.windows} daily windows, uncached renders")
            for path in paths:
                times, size = [], 0
                for _ in range(args.rounds):
                    start = time.perf_counter()
                    resp = await client.get(path)
                    size = len(await resp.read())
                    times.append((time.perf_counter() - start) * 1000)
                print(
                    f"  {path:30} {resp.status} {size:8,} B  median "
                    f"{statistics.median(times):6.1f} ms  max {max(times):6.1f} ms"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=2000)
    parser.add_argument("--windows", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=20)
    logging.basicConfig(level=logging.ERROR)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
