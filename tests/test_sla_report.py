"""Credits and availability from recorded evidence: store -> engine -> CLI / API."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from statuswatch.clock import FakeClock
from statuswatch.maintenance.calendar import MaintenanceCalendar
from statuswatch.monitor.events import GapRecorded, OutageClosed, OutageOpened
from statuswatch.sla.availability import UNMONITORED_POLICIES, evaluate
from statuswatch.sla.evidence import Evidence, MonitorEvidence, ServiceInputs, combine_locations
from statuswatch.sla.periods import Period
from statuswatch.store import Gap, MonitorRecord, Outage, RegisterMonitors, Store
from statuswatch.web import create_app
from tests.helpers.config import make_config

TOKEN = "admin-secret-token-1234567890"


def ts(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


SECTIONS = {
    "sla": [
        {
            "id": "standard",
            "name": "Standard",
            "target_percent": 99.9,
            "credit": {"scheme": "per_excess_hour", "percent_per_hour": 5, "cap_percent": 100},
            "claim_window_days": 30,
        },
        {
            "id": "premium",
            "name": "Premium",
            "target_percent": 99.99,
            "credit": {
                "scheme": "tiered",
                "tiers": [{"below": 99.99, "percent": 10}, {"below": 99.0, "percent": 25}],
            },
        },
    ],
    "customers": [
        {
            "id": "acme",
            "name": '=HYPERLINK("x")',
            "plan": "standard",
            "fee": 1000,
            "currency": "USD",
            "components": ["api"],
        },
        {
            "id": "bluebird",
            "name": "Bluebird",
            "plan": "premium",
            "fee": 2000,
            "currency": "EUR",
            "components": ["api", "checkout"],
        },
    ],
    "maintenance": [
        {
            "id": "db",
            "title": "DB",
            "components": ["checkout"],
            "start": datetime(2026, 10, 10, 0, 0, tzinfo=UTC),
            "end": datetime(2026, 10, 10, 2, 0, tzinfo=UTC),
        },
    ],
}
MONITORS = [
    {"id": "api-health", "kind": "http", "component": "api", "url": "http://127.0.0.1:9/"},
    {"id": "checkout-page", "kind": "http", "component": "checkout", "url": "http://127.0.0.1:9/"},
]


@pytest.fixture
async def seeded(tmp_path: Path):
    """A database holding October 2026's evidence, and the config that describes it."""
    config = make_config(tmp_path, MONITORS, **SECTIONS)
    store = Store(config.storage.path)
    await store.start()
    store.submit(
        RegisterMonitors(
            [("api-health", "http", "api"), ("checkout-page", "http", "checkout")],
            ts("2026-09-01T00:00:00Z"),
        )
    )
    for monitor, start, end in [
        ("api-health", "2026-10-03T10:00:00Z", "2026-10-03T11:40:00Z"),  # 100 min
        ("checkout-page", "2026-10-10T01:00:00Z", "2026-10-10T03:00:00Z"),  # 60 min in maint.
    ]:
        store.submit(OutageOpened(monitor, ts(start), "connect", "connection refused"))
        store.submit(OutageClosed(monitor, ts(end), "recovered"))
    store.submit(
        GapRecorded("api-health", ts("2026-10-20T00:00:00Z"), ts("2026-10-20T01:00:00Z"), "stopped")
    )
    await store.flush()
    yield config, store
    await store.close()


def run_cli(config_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "statuswatch", "credits", "-c", str(config_path), *args],
        capture_output=True,
        text=True,
        check=False,
    )


def write_config(tmp_path: Path) -> Path:
    """The same config as TOML, for the CLI."""
    path = tmp_path / "config.toml"
    path.write_text(
        """
[storage]
path = "sw.db"
[[components]]
id = "api"
name = "API"
[[components]]
id = "checkout"
name = "Checkout"
[[monitors]]
id = "api-health"
kind = "http"
component = "api"
url = "http://127.0.0.1:9/"
[[monitors]]
id = "checkout-page"
kind = "http"
component = "checkout"
url = "http://127.0.0.1:9/"
[[sla]]
id = "standard"
name = "Standard"
target_percent = 99.9
credit = { scheme = "per_excess_hour", percent_per_hour = 5, cap_percent = 100 }
claim_window_days = 30
[[sla]]
id = "premium"
name = "Premium"
target_percent = 99.99
credit = { scheme = "tiered", tiers = [{ below = 99.99, percent = 10 }] }
[[customers]]
id = "acme"
name = '=HYPERLINK("x")'
plan = "standard"
fee = 1000
components = ["api"]
[[customers]]
id = "bluebird"
name = "Bluebird"
plan = "premium"
fee = 2000
currency = "EUR"
components = ["api", "checkout"]
[[maintenance]]
id = "db"
title = "DB"
components = ["checkout"]
start = 2026-10-10T00:00:00Z
end = 2026-10-10T02:00:00Z
""",
        encoding="utf-8",
    )
    return path


async def test_credits_cli_json_matches_the_worked_vector(seeded, tmp_path):
    proc = run_cli(write_config(tmp_path), "--period", "2026-10", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    acme, bluebird = report["customers"]
    # acme: the "100 min outage in a 31-day UTC month" vector, plus a 60-minute gap that the
    # default policy counts as available (only recorded downtime is downtime).
    assert acme["unmonitored_policy"] == "available"
    assert acme["unexcused_downtime_minutes"] == 100.0
    assert acme["unmonitored_minutes"] == 60.0
    assert acme["coverage_percent"] == 100 * (44640 - 60) / 44640
    assert acme["eligible_minutes"] == 44640.0
    assert acme["credit_percent"] == 5.0 and acme["credit_amount"] == 50.0
    assert acme["claim_deadline"] == "2026-12-01T00:00:00Z"
    passed = datetime.now(UTC) > datetime(2026, 12, 1, tzinfo=UTC)
    assert acme["claim_deadline_passed"] is passed
    assert [o["monitor"] for o in acme["outages"]] == ["api-health"]
    # bluebird covers api + checkout: the checkout outage is half inside its maintenance.
    assert bluebird["unexcused_downtime_minutes"] == 160.0
    assert bluebird["excused_downtime_minutes"] == 60.0
    assert bluebird["credit_percent"] == 10.0 and bluebird["credit_amount"] == 200.0
    excused = {o["monitor"]: o["excused_minutes"] for o in bluebird["outages"]}
    assert excused == {"api-health": 0.0, "checkout-page": 60.0}
    assert report["totals"] == {"EUR": 200.0, "USD": 50.0}


async def test_credits_cli_table_and_csv(seeded, tmp_path):
    config_path = write_config(tmp_path)
    table = run_cli(config_path, "--period", "2026-10")
    assert table.returncode == 0, table.stderr
    assert "acme" in table.stdout and "99.775%" in table.stdout  # 99.77568..., truncated
    assert "credits owed: 200.00 EUR, 50.00 USD" in table.stdout
    one = run_cli(config_path, "--period", "2026-10", "--customer", "acme", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(one.stdout)))
    assert len(rows) == 1 and rows[0]["customer"] == "acme"
    assert rows[0]["name"].startswith("'=")  # no formula injection into spreadsheets
    assert rows[0]["credit_amount"] == "50.0"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "October"], "period: must be YYYY-MM"),
        (["--period", "2026-10", "--customer", "nobody"], "customer: unknown customer 'nobody'"),
        (["--period", "2099-01"], "period: 2099-01 has not started yet"),
    ],
)
def test_credits_cli_bad_input_exits_2(tmp_path, args, message):
    proc = run_cli(write_config(tmp_path), *args)
    assert proc.returncode == 2
    assert message in proc.stderr


async def test_api_credits_needs_the_admin_token(seeded, aiohttp_client):
    config, store = seeded
    clock = FakeClock(ts("2026-11-05T00:00:00Z"))
    client = await aiohttp_client(
        create_app(
            config, store=store, clock=clock, probe=False, environ={"TEST_ADMIN_TOKEN": TOKEN}
        )
    )
    assert (await client.get("/api/v1/credits?period=2026-10")).status == 401
    resp = await client.get(
        "/api/v1/credits?period=2026-10", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    body = await resp.json()
    assert resp.status == 200 and body["totals"] == {"EUR": 200.0, "USD": 50.0}
    resp = await client.get(
        "/api/v1/credits?period=nope", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert resp.status == 400 and (await resp.json())["field"] == "period"


async def test_api_availability_is_public_and_has_no_fees(seeded, aiohttp_client):
    config, store = seeded
    clock = FakeClock(ts("2026-11-01T00:00:00Z"))
    client = await aiohttp_client(
        create_app(config, store=store, clock=clock, probe=False, environ={})
    )
    resp = await client.get("/api/v1/availability?component=checkout&window=30d")
    body = await resp.json()
    assert resp.status == 200
    assert body["excused_downtime_minutes"] == 60.0 and body["unexcused_downtime_minutes"] == 60.0
    assert "fee" not in json.dumps(body) and "credit" not in json.dumps(body)
    bad = await client.get("/api/v1/availability?component=checkout&window=2w")
    assert bad.status == 400 and (await bad.json())["field"] == "window"
    bad = await client.get("/api/v1/availability?component=nope")
    assert bad.status == 400 and (await bad.json())["field"] == "component"


def test_component_is_unobserved_only_when_no_monitor_observed_it():
    lo, hi = 0, 1000
    evidence = Evidence(
        component_monitors={"c": ["old", "new"]},
        monitors=[MonitorRecord("old", "http", "c", 0.0), MonitorRecord("new", "http", "c", 500.0)],
        outages=[Outage("new", 600, 700, "connect", "", "recovered")],
        gaps=[],
        calendar=MaintenanceCalendar([]),
        lo=lo,
        hi=hi,
        now=hi,
    )
    inputs = evidence.component("c")
    assert inputs.unmonitored == []  # "old" saw everything; "new" being new hides nothing
    assert inputs.downtime == [(600, 700)]
    alone = Evidence(
        component_monitors={"c": ["new"]},
        monitors=[MonitorRecord("new", "http", "c", 500.0)],
        outages=[],
        gaps=[],
        calendar=MaintenanceCalendar([]),
        lo=lo,
        hi=hi,
        now=hi,
    )
    assert alone.component("c").unmonitored == [(0, 500)]


def test_open_outage_runs_until_now():
    evidence = Evidence(
        component_monitors={"c": ["m"]},
        monitors=[MonitorRecord("m", "http", "c", 0.0)],
        outages=[Outage("m", 100.4, None, "timeout", "", None)],
        gaps=[],
        calendar=MaintenanceCalendar([]),
        lo=0,
        hi=1000,
        now=400,
    )
    assert evidence.component("c").downtime == [(100, 400)]


def test_a_monitor_has_the_evidence_of_its_only_location():
    """One location: combining its locations leaves a monitor's evidence as it is."""
    local = MonitorEvidence([(100, 200)], [(300, 400)])
    assert combine_locations({"local": local}) is local
    assert combine_locations({"local": local}, 1) is local
    evidence = Evidence(
        component_monitors={"c": ["m"]},
        monitors=[MonitorRecord("m", "http", "c", 0.0)],
        outages=[Outage("m", 100, 200, "timeout", "", "recovered", location="local")],
        gaps=[Gap("m", 300, 400, "stopped")],
        calendar=MaintenanceCalendar([]),
        lo=0,
        hi=1000,
        now=1000,
    )
    assert evidence.component("c") == ServiceInputs([(100, 200)], [], [(300, 400)])


def test_service_inputs_figures_are_the_engine_under_the_named_policy():
    spans = {"downtime": [(0, 600)], "maintenance": [(0, 300)], "unmonitored": [(1000, 4000)]}
    inputs = ServiceInputs(**spans)
    period = Period(0, 86400, ZoneInfo("UTC"), "day")
    for policy in UNMONITORED_POLICIES:
        expected = evaluate(period, 99.9, **spans, policy=policy)
        assert inputs.figures(period, 99.9, policy=policy) == expected
    with pytest.raises(TypeError):
        inputs.figures(period, 99.9)  # type: ignore[call-arg]  # each caller names its policy


async def test_maintenance_saved_at_run_time_excuses_like_config(seeded, tmp_path):
    """A window stored in the database (as the admin API will) goes through the same code."""
    from statuswatch.config.model import Maintenance
    from statuswatch.sla.report import credits_report
    from statuswatch.store import SaveMaintenance

    config, store = seeded
    store.submit(
        SaveMaintenance(
            Maintenance(
                id="api-upgrade",
                title="API upgrade",
                components=["api"],
                kind="emergency",
                start=datetime(2026, 10, 3, 10, 0, tzinfo=UTC),
                end=datetime(2026, 10, 3, 11, 0, tzinfo=UTC),
            ),
            ts("2026-10-03T09:00:00Z"),
        )
    )
    await store.flush()
    assert [m.id for m in await store.maintenance()] == ["api-upgrade"]
    (acme,) = await credits_report(store, config, "2026-10", ts("2026-11-05T00:00:00Z"), "acme")
    assert (acme.figures.excused, acme.figures.unexcused) == (3600, 2400)
    assert acme.credit_percent == 0  # 40 minutes is inside the 44.58-minute budget
