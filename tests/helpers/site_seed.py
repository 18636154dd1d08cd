"""A seeded statuswatch for the status-site tests: known outages, maintenance and incidents.

Now is 2026-11-20 12:00 UTC; the site shows Europe/Berlin (CET, UTC+1), so local days start at
23:00 UTC. Evidence, in whole minutes:
- api: down 2026-11-10 10:00-11:40 UTC (100 min, "API errors" incident), and down again since
  11:30 today (30 min, still open; its monitor was last saved as down).
- checkout: down 2026-11-15 02:00-03:00 UTC inside maintenance 01:00-04:00 (excused); its
  monitor was last saved as up.
- maintenance "Database upgrade" on api scheduled 2026-11-22 02:00-03:00 UTC.
- an open incident "Checkout payments slow" with an update.
- api's latency for the last 7 days, 4 checks an hour: 3 fast (80, 120, 180 ms) and one slow
  (1.2 s; 2 s from 14:00 to 17:59 UTC), so every hour's p50 is 175 ms and its p95 1160 ms
  (1800 ms in the busy hours), interpolated within the rollups' buckets.
"""

from __future__ import annotations

from datetime import UTC, datetime

from statuswatch.clock import FakeClock
from statuswatch.incidents.model import Impact, Incident, IncidentStatus
from statuswatch.monitor.events import MonitorSnapshot, OutageClosed, OutageOpened, State
from statuswatch.probes.base import CheckResult
from statuswatch.status.component import ComponentStatus
from statuswatch.store import RegisterMonitors, SaveIncident, Store
from tests.helpers.config import build_config

NOW = "2026-11-20T12:00:00Z"


def ts(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


SECTIONS = {
    "site": {
        "title": "Acme Status",
        "admin_token_env": "TEST_ADMIN_TOKEN",
        "timezone": "Europe/Berlin",
        "cache_ttl": "0s",
        "accent": "#8250df",
        "footer_links": [{"label": "Support", "url": "https://support.example.com/"}],
    },
    "groups": [{"id": "platform", "name": "Platform"}],
    "sla": [
        {
            "id": "standard",
            "name": "Standard 99.9",
            "target_percent": 99.9,
            "credit": {"scheme": "per_excess_hour", "percent_per_hour": 5},
            "claim_window_days": 30,
        }
    ],
    "customers": [
        {
            "id": "northwind",
            "name": "Northwind Secret Name",
            "plan": "standard",
            "fee": 1234,
            "components": ["api", "checkout"],
            "report_token_env": "NW_TOKEN",
        }
    ],
    "maintenance": [
        {
            "id": "db-nov15",
            "title": "Payments failover",
            "components": ["checkout"],
            "start": datetime(2026, 11, 15, 1, 0, tzinfo=UTC),
            "end": datetime(2026, 11, 15, 4, 0, tzinfo=UTC),
        },
        {
            "id": "db-upgrade",
            "title": "Database upgrade",
            "components": ["api"],
            "start": datetime(2026, 11, 22, 2, 0, tzinfo=UTC),
            "end": datetime(2026, 11, 22, 3, 0, tzinfo=UTC),
        },
    ],
}
MONITORS = [
    {"id": "api-health", "kind": "http", "component": "api", "url": "http://127.0.0.1:9/"},
    {"id": "checkout-page", "kind": "http", "component": "checkout", "url": "http://127.0.0.1:9/"},
]


def site_config(
    tmp_path, extra_maintenance: tuple[dict, ...] = (), sections: dict | None = None, **site
):
    """The config describing the seed (extra `site` keys override, `sections` are added)."""
    comps = [
        {"id": "api", "name": "Storefront API", "group": "platform"},
        {"id": "checkout", "name": "Checkout", "group": "platform"},
    ]
    raw = {
        **SECTIONS,
        "site": {**SECTIONS["site"], **site},
        "components": comps,
        "maintenance": [*SECTIONS["maintenance"], *extra_maintenance],
        "monitors": MONITORS,
        **(sections or {}),
    }
    return build_config(tmp_path, raw)


def _incident(
    iid: str, title: str, comp: str, status: ComponentStatus, start: int, end: int | None
) -> Incident:
    inc = Incident(
        iid,
        title,
        Impact.MAJOR,
        IncidentStatus.INVESTIGATING,
        start,
        start,
        severity="S1",
        components={comp: status},
    )
    inc.post(start, IncidentStatus.INVESTIGATING, f"We are looking into **{title}**.", "ops")
    if end is not None:
        inc.post(end, IncidentStatus.RESOLVED, "Fixed.", "ops")
    return inc


async def seeded_store(config) -> Store:
    """A started store holding the evidence described above."""
    store = Store(config.storage.path)
    await store.start()
    store.submit(
        RegisterMonitors(
            [("api-health", "http", "api"), ("checkout-page", "http", "checkout")],
            ts("2026-08-01T00:00:00Z"),
        )
    )
    for monitor, start, end in [
        ("api-health", "2026-11-10T10:00:00Z", "2026-11-10T11:40:00Z"),
        ("checkout-page", "2026-11-15T02:00:00Z", "2026-11-15T03:00:00Z"),
    ]:
        store.submit(OutageOpened(monitor, ts(start), "connect", "connection refused"))
        store.submit(OutageClosed(monitor, ts(end), "recovered"))
    store.submit(OutageOpened("api-health", ts("2026-11-20T11:30:00Z"), "http_status", "HTTP 503"))
    store.submit(
        MonitorSnapshot(
            "api-health",
            State.DOWN,
            2,
            ts("2026-11-20T11:30:00Z"),
            "http_status",
            "HTTP 503",
            0,
            None,
            ts(NOW) - 30,
        )
    )
    # checkout was last saved as up, a minute ago: it has been checked, so it has a status.
    store.submit(
        MonitorSnapshot("checkout-page", State.UP, 0, None, None, "", 0, None, ts(NOW) - 60)
    )
    store.submit(
        SaveIncident.of(
            _incident(
                "incapierrors",
                "API errors",
                "api",
                ComponentStatus.MAJOR,
                ts("2026-11-10T10:00:00Z"),
                ts("2026-11-10T11:45:00Z"),
            )
        )
    )
    store.submit(
        SaveIncident.of(
            _incident(
                "incpayments",
                "Checkout payments slow",
                "checkout",
                ComponentStatus.DEGRADED,
                ts("2026-11-20T11:00:00Z"),
                None,
            )
        )
    )
    for t in range(ts(NOW) - 7 * 86400, ts(NOW), 900):
        slow = 2.0 if 14 <= t // 3600 % 24 < 18 else 1.2
        latency = (0.08, 0.12, 0.18, slow)[(t // 900) % 4]
        store.submit(CheckResult("api-health", t, True, latency, 200))
    await store.flush()
    return store


def clock() -> FakeClock:
    return FakeClock(ts(NOW))
