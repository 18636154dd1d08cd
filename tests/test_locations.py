"""Probing from several locations: per-location verdicts, the quorum, regional, silence.

Results from three locations are fed through Monitoring.handle_result on a real SQLite store,
with the whole app (board, incidents) around it; time is injected, nothing sleeps.
"""

from __future__ import annotations

from statuswatch.clock import FakeClock
from statuswatch.monitor.events import State
from statuswatch.probes.base import CheckResult
from statuswatch.sla.load import load_evidence
from statuswatch.status.component import ComponentStatus
from statuswatch.web import create_app
from statuswatch.web.keys import BOARD, MONITORING
from tests.helpers.config import make_config
from tests.helpers.regional import HEALTH, LOCATIONS, gold_plan

START = 1_793_000_000.0
TOKEN = "admin-secret-token-1234567890"


def config_for(tmp_path, regional_counts_as="available"):
    return make_config(
        tmp_path,
        [HEALTH],
        locations=LOCATIONS,
        probing={"locations": ["local", "eu", "us"]},
        incidents={"quiet_period": "15m"},
        sla=[gold_plan(regional_counts_as)],
        customers=[{"id": "acme", "name": "Acme", "plan": "gold", "components": ["api"]}],
    )


class Rig:
    def __init__(self, client, clock):
        self.client, self.clock = client, clock
        self.monitoring = client.app[MONITORING]
        self.board = client.app[BOARD]
        self.monitor = self.monitoring.monitors["api-health"]

    def step(self, down=(), silent=()):
        """One check interval: every location not silent reports, those in `down` failing."""
        self.clock.advance(60)
        now = self.clock.time()
        for loc in ("local", "eu", "us"):
            if loc in silent:
                continue
            ok = loc not in down
            result = CheckResult("api-health", now, ok, 0.05, 200 if ok else 503, None, "")
            if not ok:
                result = CheckResult("api-health", now, False, 0.05, 503, "http_status", "503")
            self.monitoring.handle_result(self.monitor, result, location=loc)
        self.board.tick()
        return now

    @property
    def state(self):
        return self.monitoring.states()["api-health"]

    async def records(self):
        store = self.monitoring.store
        await store.flush()
        return await store.outages(), await store.gaps(), await store.incidents()


async def start(aiohttp_client, tmp_path, store, **kw):
    clock = FakeClock(START)
    app = create_app(
        config_for(tmp_path, **kw),
        store=store,
        clock=clock,
        probe=False,
        environ={"TEST_ADMIN_TOKEN": TOKEN},
    )
    return Rig(await aiohttp_client(app), clock)


async def test_down_from_every_location_is_one_outage_from_the_quorum_time(
    store, aiohttp_client, tmp_path
):
    rig = await start(aiohttp_client, tmp_path, store)
    rig.step()
    assert rig.state is State.UP
    first_fail = rig.step(down=("local", "eu", "us"))
    rig.step(down=("local", "eu", "us"))
    assert rig.state is State.DOWN
    view = next(v for v in rig.monitoring.views() if v.monitor.id == "api-health")
    assert view.outage_start == first_fail  # every location's first failing check
    assert rig.board.status["api"] is ComponentStatus.MAJOR
    _, _, incidents = await rig.records()
    assert len(incidents) == 1
    now = int(rig.clock.time())
    evidence = await load_evidence(store, rig.monitoring.config, int(START), now, now)
    assert evidence.component("api").downtime == [(int(first_fail), now)]
    resp = await rig.client.get("/api/v1/monitors", headers={"Authorization": f"Bearer {TOKEN}"})
    body = (await resp.json())["monitors"][0]
    assert body["state"] == "down"
    assert [loc["location"] for loc in body["locations"]] == ["eu", "local", "us"]
    assert {loc["state"] for loc in body["locations"]} == {"down"}


async def test_down_from_one_location_of_three_is_regional_no_incident_no_downtime(
    store, aiohttp_client, tmp_path
):
    rig = await start(aiohttp_client, tmp_path, store)
    rig.step()
    start_fail = rig.step(down=("eu",))
    rig.step(down=("eu",))
    rig.step(down=("eu",))
    assert rig.state is State.REGIONAL
    assert rig.board.status["api"] is ComponentStatus.DEGRADED
    assert rig.board.regional == {"api": ["Europe"]}
    outages, _, incidents = await rig.records()
    assert [(o.location, o.start) for o in outages] == [("eu", start_fail)]  # eu's own verdict
    assert incidents == []
    now = int(rig.clock.time())
    evidence = await load_evidence(store, rig.monitoring.config, int(START), now, now)
    inputs = evidence.service(["api"])
    assert inputs.downtime == []
    assert inputs.regional == [(int(start_fail), now)]
    resp = await rig.client.get("/api/v1/monitors", headers={"Authorization": f"Bearer {TOKEN}"})
    body = (await resp.json())["monitors"][0]
    assert body["state"] == "regional"
    assert {loc["location"]: loc["state"] for loc in body["locations"]} == {
        "eu": "down",
        "local": "up",
        "us": "up",
    }


async def test_regional_time_is_downtime_under_a_plan_that_says_so(store, aiohttp_client, tmp_path):
    rig = await start(aiohttp_client, tmp_path, store, regional_counts_as="downtime")
    rig.step()
    start_fail = rig.step(down=("eu",))
    rig.step(down=("eu",))
    now = int(rig.clock.time())
    await rig.records()
    evidence = await load_evidence(store, rig.monitoring.config, int(START), now, now)
    plan = rig.monitoring.config.sla[0]
    inputs = evidence.service(["api"], regional_counts_as=plan.regional_counts_as)
    assert inputs.downtime == [(int(start_fail), now)]


async def test_down_from_two_of_three_is_down(store, aiohttp_client, tmp_path):
    rig = await start(aiohttp_client, tmp_path, store)
    rig.step()
    rig.step(down=("eu",))
    rig.step(down=("eu",))  # eu confirmed: regional
    assert rig.state is State.REGIONAL
    us_first = rig.step(down=("eu", "us"))
    rig.step(down=("eu", "us"))  # us confirmed too: the quorum of two
    assert rig.state is State.DOWN
    view = next(v for v in rig.monitoring.views() if v.monitor.id == "api-health")
    assert view.outage_start == us_first  # the first check time at which the quorum was reached
    assert rig.board.status["api"] is ComponentStatus.MAJOR
    _, _, incidents = await rig.records()
    assert len(incidents) == 1


async def test_silent_locations_are_no_evidence_never_down(store, aiohttp_client, tmp_path):
    rig = await start(aiohttp_client, tmp_path, store)
    last_heard = rig.step()
    for _ in range(4):  # eu and us stop reporting; only local is heard: fewer than the quorum
        rig.step(silent=("eu", "us"))
    assert rig.state is State.UNKNOWN
    assert rig.board.status["api"] is ComponentStatus.OPERATIONAL
    back = rig.step()  # heard from again: their silence is on record, with its reason
    assert rig.state is State.UP
    outages, gaps, incidents = await rig.records()
    assert outages == [] and incidents == []
    assert sorted((g.location, g.start, g.end, g.reason) for g in gaps) == [
        ("eu", last_heard, back, "silent"),
        ("us", last_heard, back, "silent"),
    ]
    now = int(rig.clock.time())
    evidence = await load_evidence(store, rig.monitoring.config, int(START), now, now)
    inputs = evidence.component("api")
    assert inputs.downtime == []
    assert inputs.unmonitored == [(int(last_heard), int(back))]


async def test_a_silent_location_ages_out_on_the_tick(store, aiohttp_client, tmp_path):
    """OpenStatus's bug: a silent region's last status never ages out. Here the tick does it."""
    rig = await start(aiohttp_client, tmp_path, store)
    rig.step()
    rig.step(down=("eu", "us"))
    rig.step(down=("eu", "us"))
    assert rig.state is State.DOWN
    rig.clock.advance(200)  # nobody reports: every location's last word is too old
    rig.board.tick()
    assert rig.state is State.UNKNOWN
    assert rig.board.status["api"] is not ComponentStatus.MAJOR
