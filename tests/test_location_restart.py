"""An agent location across a restart of the central process, and at its clean stop.

Each location's tracker resumes from its own snapshot (monitor, location): confirmations in
progress continue and silence spanning the restart is a gap ("silent"). A clean stop closes a
location's silence as a gap, as the local probes' time is accounted for at a stop, so no time
without evidence counts as evidence. Real SQLite store, the whole app, an injected clock.
"""

from __future__ import annotations

from statuswatch.clock import FakeClock
from statuswatch.monitor.events import State
from statuswatch.store import Store
from statuswatch.web import create_app
from statuswatch.web.keys import MONITORING
from tests.helpers.config import make_config
from tests.helpers.regional import HEALTH, health_result

START = 1_793_000_000.0
ENV = {"TEST_ADMIN_TOKEN": "admin-secret-token-1234567890"}


class Central:
    """The central process on one database: start, feed the eu agent's results, stop."""

    def __init__(self, aiohttp_client, tmp_path, clock: FakeClock) -> None:
        self.aiohttp_client, self.clock = aiohttp_client, clock
        self.config = make_config(
            tmp_path,
            [HEALTH],
            locations=[{"id": "eu", "name": "Europe", "token_env": "EU_TOKEN"}],
            probing={"locations": ["local", "eu"], "quorum": 1},
        )

    async def start(self) -> None:
        self.store = Store(self.config.storage.path, clock=self.clock)
        await self.store.start()
        app = create_app(self.config, store=self.store, clock=self.clock, probe=False, environ=ENV)
        self.client = await self.aiohttp_client(app)
        self.monitoring = self.client.app[MONITORING]

    def agent(self, ok: bool, location: str = "eu") -> None:
        self.monitoring.receive(location, [health_result(self.clock.time(), ok)])

    async def stop(self) -> None:
        await self.client.close()  # the app's cleanup: a clean stop, flushed
        await self.store.close()

    async def records(self, location: str = "eu"):
        await self.store.flush()
        outages = [o for o in await self.store.outages() if o.location == location]
        gaps = [g for g in await self.store.gaps() if g.location == location]
        return [(o.start, o.end) for o in outages], [(g.start, g.end, g.reason) for g in gaps]


async def test_a_confirmation_in_progress_continues_after_a_restart(aiohttp_client, tmp_path):
    clock = FakeClock(START)
    central = Central(aiohttp_client, tmp_path, clock)
    await central.start()
    clock.advance(60)
    central.agent(True)
    clock.advance(60)
    first_failure = clock.time()
    central.agent(False)  # one failure of the two that confirm an outage
    clock.advance(10)
    await central.stop()
    clock.advance(20)  # a quick restart: the agent's next result is due in 30 s
    await central.start()
    clock.advance(30)
    central.agent(False)
    assert central.monitoring.location_states("api-health")["eu"].state is State.DOWN
    outages, gaps = await central.records()
    assert outages == [(first_failure, None)]  # confirmed from the failure before the restart
    assert gaps == []
    await central.stop()


async def test_silence_across_a_restart_is_a_silent_gap(aiohttp_client, tmp_path):
    clock = FakeClock(START)
    central = Central(aiohttp_client, tmp_path, clock)
    await central.start()
    clock.advance(60)
    central.agent(True)
    last = clock.time()
    clock.advance(30)
    await central.stop()  # the agent was not silent yet: nothing to close
    clock.advance(600)  # the agent goes quiet too
    await central.start()
    clock.advance(60)
    heard = clock.time()
    central.agent(True)
    _, gaps = await central.records()
    assert gaps == [(last, heard, "silent")]
    await central.stop()


async def test_a_clean_stop_closes_a_locations_silence_as_a_gap(aiohttp_client, tmp_path):
    clock = FakeClock(START)
    central = Central(aiohttp_client, tmp_path, clock)
    await central.start()
    clock.advance(60)
    central.agent(True)
    central.agent(False, location="local")
    clock.advance(60)
    central.agent(False, location="local")  # local confirms an outage: it goes on
    last = clock.time()
    central.agent(False)
    clock.advance(60)
    central.agent(False)  # eu confirms its own outage, then falls silent
    eu_last = clock.time()
    clock.advance(600)
    central.agent(False, location="local")
    stopped_at = clock.time()
    await central.stop()
    clock.advance(600)
    await central.start()
    outages, gaps = await central.records()
    assert gaps == [(eu_last, stopped_at, "silent")]  # recorded at the stop, not left as evidence
    assert outages == [(last, eu_last)]  # ended at its last evidence
    clock.advance(60)
    central.agent(True)
    outages, gaps = await central.records()
    # After the restart the silence goes on from the stop: one more gap, none overlapping.
    assert gaps == [(eu_last, stopped_at, "silent"), (stopped_at, clock.time(), "silent")]
    assert outages == [(last, eu_last)]
    await central.stop()


def test_the_migration_keeps_each_snapshot_as_the_local_one(tmp_path):
    from statuswatch.store import reads
    from statuswatch.store.schema import MIGRATIONS, connect, migrate

    db = connect(tmp_path / "old.db", busy_timeout=1.0)
    migrate(db, MIGRATIONS[:10])  # the schema before snapshots had a location
    db.execute("INSERT INTO monitors (key, id) VALUES (1, 'm')")
    db.execute(
        """INSERT INTO snapshots (monitor, state, fail_count, fail_message, pass_count,
        last_evidence) VALUES (1, 'down', 0, '', 0, 100.0)"""
    )
    migrate(db)
    (snapshot,) = reads.location_snapshots(db).values()
    assert (snapshot.monitor_id, snapshot.location, snapshot.state) == ("m", "local", State.DOWN)
    assert reads.monitor_snapshots(db)["m"].last_evidence == 100.0
    db.close()
