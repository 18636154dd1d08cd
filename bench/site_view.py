"""The status site's view model and `/` render at scale: 50 components in 6 groups, 90+ days.

Seeds a file database (a year of outages, gaps, maintenance and incidents), then times, each
the median of several runs: the store read (load_site_source), the figures (site_view: 50 x 90 day
cells, windows, targets, plans) and the template render; and the uncached GET / through the
real app (cache_ttl 0).

    .venv/bin/python bench/site_view.py [--components 50] [--runs 7] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import jinja2

from statuswatch.clock import FakeClock
from statuswatch.config import parse_config
from statuswatch.incidents.model import Impact, Incident, IncidentStatus
from statuswatch.monitor.events import GapRecorded, OutageClosed, OutageOpened
from statuswatch.resources import resource_dir
from statuswatch.site.view import load_site_source, site_view
from statuswatch.status.component import ComponentStatus
from statuswatch.store import RegisterMonitors, SaveIncident, Store

NOW = int(datetime(2026, 11, 22, 13, 0, tzinfo=UTC).timestamp())
YEAR = 365 * 86400


def config_for(path: Path, n: int):
    groups = [{"id": f"g{g}", "name": f"Group {g}"} for g in range(6)]
    comps = [{"id": f"c{i}", "name": f"Component {i}", "group": f"g{i % 6}"} for i in range(n)]
    mons = [
        {"id": f"m{i}", "kind": "http", "component": f"c{i}", "url": "http://127.0.0.1:9/"}
        for i in range(n)
    ]
    sla = [
        {
            "id": "std",
            "name": "Standard",
            "target_percent": 99.9,
            "claim_window_days": 30,
            "credit": {"scheme": "per_excess_hour", "percent_per_hour": 5},
        },
        {
            "id": "ent",
            "name": "Enterprise",
            "target_percent": 99.8,
            "period": "year",
            "credit": {"scheme": "none"},
        },
    ]
    customers = [
        {
            "id": f"cust{k}",
            "name": f"C{k}",
            "plan": ("std", "ent")[k % 2],
            "components": [f"c{j}" for j in range(10)],
        }
        for k in range(4)
    ]
    maint = [
        {
            "id": "weekly",
            "title": "Weekly",
            "components": [f"c{i}" for i in range(0, n, 3)],
            "start": "2025-11-01T02:00:00Z",
            "duration": "1h",
            "rrule": "FREQ=WEEKLY;BYDAY=SU",
        }
    ]
    raw = {
        "site": {"timezone": "Europe/Berlin", "cache_ttl": "0s"},
        "groups": groups,
        "components": comps,
        "monitors": mons,
        "sla": sla,
        "customers": customers,
        "maintenance": maint,
        "storage": {"path": str(path / "bench.db")},
    }
    return parse_config(raw, base_dir=path)


async def seed(store: Store, n: int, rng: random.Random) -> int:
    store.submit(RegisterMonitors([(f"m{i}", "http", f"c{i}") for i in range(n)], NOW - YEAR))
    events = []
    for i in range(n):
        for _ in range(60):  # a year: 60 outages and 6 gaps per monitor
            start = rng.randrange(NOW - YEAR, NOW - 7200)
            events.append((start, OutageOpened(f"m{i}", start, "connect", "refused")))
            events.append(
                (start + 1, OutageClosed(f"m{i}", start + rng.randrange(60, 5400), "recovered"))
            )
        for _ in range(6):
            start = rng.randrange(NOW - YEAR, NOW - 7200)
            events.append((start, GapRecorded(f"m{i}", start, start + 600, "stopped")))
    for _, event in sorted(events, key=lambda e: e[0]):
        store.submit(event)
    for k in range(200):
        start = rng.randrange(NOW - YEAR, NOW)
        inc = Incident(
            f"inc{k}",
            f"Incident {k}",
            Impact.MINOR,
            IncidentStatus.INVESTIGATING,
            start,
            start,
            components={f"c{k % n}": ComponentStatus.MAJOR},
        )
        inc.post(start + 3600, IncidentStatus.RESOLVED, "fixed", "ops")
        store.submit(SaveIncident.of(inc))
    await store.flush()
    return len(events) // 2


def median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 1)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--components", type=int, default=50)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = config_for(Path(tmp), args.components)
        store = Store(config.storage.path)
        await store.start()
        events = await seed(store, args.components, random.Random(5))
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(resource_dir("templates")),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        # What the app's subscriptions routes set for every page (no email configured here).
        env.globals["subscribe_url"] = None
        template = env.get_template("index.html")
        statuses = {c.id: ComponentStatus.OPERATIONAL for c in config.components}
        load, figures, render, size = [], [], [], 0
        for _ in range(args.runs):
            t0 = time.perf_counter()
            source = await load_site_source(store, config, NOW)
            t1 = time.perf_counter()
            view = site_view(source, statuses)
            t2 = time.perf_counter()
            body = template.render(site=config.site, view=view, incidents=[])
            t3 = time.perf_counter()
            load.append(t1 - t0)
            figures.append(t2 - t1)
            render.append(t3 - t2)
            size = len(body.encode())
        http = await _get_index(config, store, args.runs)
        await store.close()
    out = {
        "components": args.components,
        "days": 90,
        "events_per_year": events,
        "load_history_ms": median_ms(load),
        "site_view_ms": median_ms(figures),
        "template_ms": median_ms(render),
        "uncached_get_ms": median_ms(http),
        "page_bytes": size,
    }
    if args.json:
        print(json.dumps(out))
        return
    for key, value in out.items():
        print(f"{key:>20}: {value}")


async def _get_index(config, store: Store, runs: int) -> list[float]:
    """GET / through the real app with cache_ttl 0: every request renders."""
    from aiohttp.test_utils import TestClient, TestServer

    from statuswatch.web import create_app

    app = create_app(config, store=store, clock=FakeClock(NOW), probe=False, environ={})
    samples = []
    async with TestClient(TestServer(app)) as client:
        for _ in range(runs):
            t0 = time.perf_counter()
            resp = await client.get("/")
            await resp.read()
            samples.append(time.perf_counter() - t0)
            assert resp.status == 200
    return samples


if __name__ == "__main__":
    asyncio.run(main())
