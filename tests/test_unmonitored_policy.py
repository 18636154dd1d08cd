"""A plan's unmonitored_policy through the real path: store -> evidence -> credits, API, page."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statuswatch.clock import FakeClock
from statuswatch.maintenance.calendar import MaintenanceCalendar
from statuswatch.monitor.events import GapRecorded, OutageClosed, OutageOpened
from statuswatch.sla.availability import UNMONITORED_POLICIES
from statuswatch.sla.evaluate import evaluate_one
from statuswatch.sla.evidence import Evidence, ServiceInputs
from statuswatch.sla.intervals import normalize, subtract
from statuswatch.sla.periods import explicit
from statuswatch.sla.report import credits_report
from statuswatch.sla.report_format import as_csv, as_table
from statuswatch.store import RegisterMonitors, Store
from statuswatch.web import create_app
from tests.helpers.config import make_config
from tests.helpers.vectors import load_vectors

ADMIN = "admin-secret-token-1234567890"
REPORT = "bluebird-report-token-0123456789abcdef"
FIRST_MONTH = [c for c in load_vectors() if c["name"].startswith("first month of monitoring")]


def ts(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def premium_config(tmp_path, policy: str | None):
    """Seed 002's premium plan (99.99 %, tiered) for one customer on one component."""
    plan = {
        "id": "premium",
        "name": "Premium 99.99",
        "target_percent": 99.99,
        "credit": {
            "scheme": "tiered",
            "tiers": [
                {"below": 99.99, "percent": 10},
                {"below": 99.0, "percent": 25},
                {"below": 95.0, "percent": 50},
            ],
        },
    }
    if policy is not None:
        plan["unmonitored_policy"] = policy
    return make_config(
        tmp_path,
        [{"id": "shop", "kind": "http", "component": "api", "url": "http://127.0.0.1:9/"}],
        sla=[plan],
        customers=[
            {
                "id": "bluebird",
                "name": "Bluebird",
                "plan": "premium",
                "fee": 1999,
                "currency": "EUR",
                "components": ["api"],
                "report_token_env": "BB_TOKEN",
            }
        ],
    )


async def first_month(store: Store) -> None:
    """Deployed on 28 December 2026 at 09:00; 141 s down at noon."""
    store.submit(RegisterMonitors([("shop", "http", "api")], ts("2026-12-28T09:00:00Z")))
    store.submit(OutageOpened("shop", ts("2026-12-28T12:00:00Z"), "http_status", "HTTP 503"))
    store.submit(OutageClosed("shop", ts("2026-12-28T12:02:21Z"), "recovered"))
    await store.flush()


def expected_for(policy: str) -> dict:
    """The vectors' answer for the first month under `policy` (downtime: the same input)."""
    named = {c["input"].get("unmonitored_policy", "available"): c for c in FIRST_MONTH}
    if policy in named:
        return named[policy]["expect"]
    return evaluate_one({**FIRST_MONTH[0]["input"], "unmonitored_policy": policy})


async def credits_at(aiohttp_client, config, store, clock, period):
    """The app on this store at this time, and its /api/v1/credits answer for `period`."""
    client = await aiohttp_client(
        create_app(
            config,
            store=store,
            clock=clock,
            probe=False,
            environ={"TEST_ADMIN_TOKEN": ADMIN, "BB_TOKEN": REPORT},
        )
    )
    resp = await client.get(
        f"/api/v1/credits?period={period}", headers={"Authorization": f"Bearer {ADMIN}"}
    )
    return client, resp


@pytest.mark.parametrize("policy", [None, *UNMONITORED_POLICIES])
async def test_a_first_month_that_began_on_the_28th(tmp_path, aiohttp_client, policy):
    config = premium_config(tmp_path, policy)
    store = Store(config.storage.path)
    await store.start()
    await first_month(store)
    clock = FakeClock(ts("2027-01-05T00:00:00Z"))
    client, resp = await credits_at(aiohttp_client, config, store, clock, "2026-12")
    assert resp.status == 200
    (got,) = (await resp.json())["customers"]
    effective = policy or "available"
    expect = expected_for(effective)
    assert got["unmonitored_policy"] == effective
    for key, value in expect.items():
        assert got[key] == value, key
    if effective == "available":  # the seeds' formula: 99.9947 %, no credit
        assert str(got["availability_percent"]).startswith("99.9947")
        assert (got["credit_percent"], got["credit_amount"]) == (0.0, 0.0)
    elif effective == "excluded":  # measured over the 3.6 days observed
        assert (got["credit_percent"], got["credit_amount"]) == (10.0, 199.9)
    else:  # the 27 days 9 hours before the 28th are downtime
        assert got["unexcused_downtime_minutes"] == 39420 + 2.35
        assert got["availability_percent"] < 95 and got["credit_percent"] == 50.0
    assert got["coverage_percent"] == pytest.approx(100 * 5220 / 44640)
    assert got["unmonitored_minutes"] == 39420.0

    # The CLI's formats come from the same lines and say the same.
    lines = await credits_report(store, config, "2026-12", int(clock.time()))
    (row,) = csv.DictReader(io.StringIO(as_csv(lines, int(clock.time()))))
    assert row["unmonitored_policy"] == effective
    assert row["coverage_percent"] == str(got["coverage_percent"])
    table = as_table(lines, int(clock.time()))
    assert "11.6%" in table and "39420 min" in table
    words = {
        "available": "counted as available",
        "excluded": "left out",
        "downtime": "counted as downtime",
    }
    assert f"premium: {words[effective]}" in table

    # The customer's page: coverage, unmonitored minutes and how the plan counted them.
    page = await (await client.get(f"/customers/{REPORT}")).text()
    december = page[page.index('<th scope="row">2026-12</th>') :].split("</tr>")[0]
    assert "11.6%" in december and "39420 min" in december
    assert words[effective] in december
    await client.close()
    await store.close()


async def test_an_outage_split_by_a_restart_says_so(tmp_path, aiohttp_client):
    config = premium_config(tmp_path, None)
    store = Store(config.storage.path)
    await store.start()
    store.submit(RegisterMonitors([("shop", "http", "api")], ts("2026-10-01T00:00:00Z")))
    # Down at 10:00; statuswatch stopped at 10:30 (the outage closes at the last evidence) and
    # ran again at 11:00, when the first check still failed: one outage, recorded as two.
    store.submit(OutageOpened("shop", ts("2026-10-03T10:00:00Z"), "connect", "refused"))
    store.submit(OutageClosed("shop", ts("2026-10-03T10:30:00Z"), "stopped"))
    store.submit(
        GapRecorded("shop", ts("2026-10-03T10:30:00Z"), ts("2026-10-03T11:00:00Z"), "stopped")
    )
    store.submit(OutageOpened("shop", ts("2026-10-03T11:00:20Z"), "connect", "refused"))
    store.submit(OutageClosed("shop", ts("2026-10-03T11:10:00Z"), "recovered"))
    # A later stop during which the target recovered: that outage was not split.
    store.submit(OutageOpened("shop", ts("2026-10-20T08:00:00Z"), "connect", "refused"))
    store.submit(OutageClosed("shop", ts("2026-10-20T08:05:00Z"), "stopped"))
    store.submit(
        GapRecorded("shop", ts("2026-10-20T08:05:00Z"), ts("2026-10-20T09:00:00Z"), "stopped")
    )
    store.submit(OutageOpened("shop", ts("2026-10-21T08:00:00Z"), "connect", "refused"))
    store.submit(OutageClosed("shop", ts("2026-10-21T08:01:00Z"), "recovered"))
    await store.flush()
    clock = FakeClock(ts("2026-11-05T00:00:00Z"))
    client, resp = await credits_at(aiohttp_client, config, store, clock, "2026-10")
    (got,) = (await resp.json())["customers"]
    splits = {o["start"]: o["split_by_gaps"] for o in got["outages"]}
    gap = [{"start": "2026-10-03T10:30:00Z", "end": "2026-10-03T11:00:00Z", "reason": "stopped"}]
    assert splits == {
        "2026-10-03T10:00:00Z": gap,
        "2026-10-03T11:00:20Z": gap,
        "2026-10-20T08:00:00Z": [],
        "2026-10-21T08:00:00Z": [],
    }
    page = await (await client.get(f"/customers/{REPORT}")).text()
    note = (
        "split by a gap in monitoring: statuswatch was stopped "
        "from 2026-10-03T10:30:00Z to 2026-10-03T11:00:00Z"
    )
    assert page.count(note) == 2  # on both halves
    assert "2026-10-20T08:05:00Z to" not in page
    await client.close()
    await store.close()


def test_json_output_names_the_policy_beside_coverage():
    out = evaluate_one({**FIRST_MONTH[0]["input"], "unmonitored_policy": "downtime"})
    assert json.dumps(out)  # plain JSON
    assert out["coverage_percent"] == FIRST_MONTH[0]["expect"]["coverage_percent"]


# --- a customer's service under policy downtime (Evidence.service), checked second by second ---

small = st.lists(
    st.tuples(st.integers(0, 190), st.integers(1, 40)).map(lambda t: (t[0], t[0] + t[1])),
    max_size=4,
)


def _component(down, maint, dark) -> ServiceInputs:
    down = normalize(down, 0, 200)
    return ServiceInputs(down, normalize(maint, 0, 200), subtract(normalize(dark, 0, 200), down))


def _inside(ivs, t: int) -> bool:
    return any(s <= t < e for s, e in ivs)


@given(st.lists(st.tuples(small, small, small), min_size=1, max_size=3))
def test_service_under_policy_downtime_excuses_per_component(parts):
    """Unobserved time counts as downtime of the dark components, each excused only by its own
    maintenance; where a component is really down, downtime wins and its own rule stands."""
    comps = {f"c{i}": _component(*p) for i, p in enumerate(parts)}
    evidence = Evidence(
        component_monitors={},
        monitors=[],
        outages=[],
        gaps=[],
        calendar=MaintenanceCalendar([]),
        lo=0,
        hi=200,
        now=200,
    )
    evidence._components.update(comps)  # the components' inputs as given, not from records
    excused = unexcused = 0
    for t in range(200):
        down = [c for c in comps.values() if _inside(c.downtime, t)]
        dark = [c for c in comps.values() if _inside(c.unmonitored, t)]
        counted = down or dark  # downtime wins: dark components matter only when none is down
        if not counted:
            continue
        if all(_inside(c.maintenance, t) for c in counted):
            excused += 1
        else:
            unexcused += 1
    period = explicit(0, 200)
    fig = evidence.service(comps).figures(period, 99.9, policy="downtime")
    assert (fig.excused, fig.unexcused) == (excused, unexcused)
    assert fig.availability == (
        None if excused == 200 else Fraction(100 * (200 - excused - unexcused), 200 - excused)
    )
