"""Store: a monitor-day at a 60 s interval fits in 4 KB once raw passing checks are pruned."""

from __future__ import annotations

import random
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
MONITORS = 50
FAILURES = [
    ("timeout", "no response within 10.0s"),
    ("connect", "connection refused by 203.0.113.17:443"),
    ("http_status", "HTTP 503 Service Unavailable (expected 200-399)"),
    ("tls", "certificate verify failed: certificate has expired"),
]


def simulated_day(rng: random.Random, monitor_id: str) -> list[object]:
    """One monitor's day: a check a minute, ~1% failing, one short outage, hourly snapshots."""
    items: list[object] = []
    for minute in range(1440):
        t = DAY0 + 60 * minute + rng.random()
        ok = rng.random() > 0.01
        error_class, message = (None, "") if ok else rng.choice(FAILURES)
        latency = min(rng.lognormvariate(-2.5, 0.8), 10.0)
        items.append(
            CheckResult(monitor_id, t, ok, latency, 200 if ok else None, error_class, message)
        )
        if minute % 60 == 59:
            items.append(MonitorSnapshot(monitor_id, State.UP, 0, None, None, "", 5, t, t))
    start = DAY0 + 43200
    items += [
        OutageOpened(monitor_id, start, "timeout", "no response within 10.0s"),
        Transition(monitor_id, start, State.UP, State.DOWN, "3 consecutive failures"),
        OutageClosed(monitor_id, start + 180, "recovered"),
        Transition(monitor_id, start + 180, State.DOWN, State.UP, "2 consecutive passes"),
    ]
    return items


async def database_size(path: Path, items: list[object]) -> int:
    store = Store(path)
    await store.start()
    for item in items:
        store.submit(item)  # type: ignore[arg-type]
    await store.close()
    vacuum(path)
    return path.stat().st_size


async def test_a_rolled_up_monitor_day_fits_in_4_kb(tmp_path: Path) -> None:
    rng = random.Random(1)
    ids = [f"shop-{i:04d}.storefront" for i in range(MONITORS)]
    items: list[object] = [RegisterMonitors([(i, "http", "Storefronts") for i in ids], DAY0)]
    for monitor_id in ids:
        items += simulated_day(rng, monitor_id)
    items.append(Prune(DAY0 + 86400, raw_before=DAY0 + 86400, rollup_before=0))
    empty = await database_size(tmp_path / "empty.db", [])
    full = await database_size(tmp_path / "day.db", items)
    per_monitor_day = (full - empty) / MONITORS
    assert per_monitor_day <= 4096, f"{per_monitor_day:.0f} bytes per monitor-day"
