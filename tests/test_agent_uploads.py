"""Uploads are idempotent by (monitor, location, time), and cheap: the store is asked only
about results at or before the newest check it holds for their (monitor, location).

In process with a real store (injected clock); a restart is a second app on the same file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import msgspec
import pytest

from statuswatch.agent.stored import StoredChecks
from statuswatch.clock import FakeClock
from statuswatch.probes.base import CheckResult
from statuswatch.store import Store
from statuswatch.web import create_app
from statuswatch.web.keys import CONFIG
from tests.helpers.config import lab_config
from tests.helpers.openapi import CheckedClient

ADMIN = "agent-uploads-admin-token-0123456789"
LAB = "agent-uploads-lab-token-0123456789ab"
MONITORS = [
    {"id": f"m{i}", "kind": "http", "component": "api", "url": f"http://127.0.0.1:9/{i}"}
    for i in range(3)
]


class CountingStore(Store):
    """The real store, noting what the upload path asks of it."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.asked: list[tuple[str, list]] = []

    async def stored_checks(self, location: str, keys: Sequence[tuple[str, float]]):
        self.asked.append(("stored", sorted(keys)))
        return await super().stored_checks(location, keys)

    async def newest_checks(self, location: str, monitor_ids: Sequence[str]):
        self.asked.append(("newest", sorted(monitor_ids)))
        return await super().newest_checks(location, monitor_ids)


@pytest.fixture
async def start(aiohttp_client, tmp_path):
    """Start a central app on tmp_path's database (again: a restart, its memory cold)."""
    config = lab_config(tmp_path, MONITORS)
    clock = FakeClock()
    apis: list[CheckedClient] = []

    async def started() -> CheckedClient:
        store = CountingStore(config.storage.path, clock=clock)
        await store.start()
        app = create_app(
            config,
            store=store,
            clock=clock,
            probe=False,
            environ={"TEST_ADMIN_TOKEN": ADMIN, "LAB_TOKEN": LAB},
        )
        client = CheckedClient(await aiohttp_client(app), LAB)
        client.store = store  # type: ignore[attr-defined]
        apis.append(client)
        return client

    yield started, clock
    for api in apis:
        await stop(api)


async def stop(api: CheckedClient) -> None:
    """Stop the app (its monitoring flushes into the store), then close the store."""
    await api.client.close()
    await api.store.close()  # type: ignore[attr-defined]


def upload(clock: FakeClock, *results: tuple[str, float, bool]) -> dict:
    now = clock.time()
    return {
        "location": "lab",
        "agent": "a1",
        "sent_at": now,
        "results": [
            {"monitor": m, "time": now - age, "ok": ok, "latency": 0.01} for m, age, ok in results
        ],
    }


def stored_rows(path) -> list[tuple[str, float]]:
    db = sqlite3.connect(path)
    try:
        return db.execute(
            "SELECT m.id, c.time FROM checks c JOIN monitors m ON m.key = c.monitor"
            " WHERE c.location = 'lab' ORDER BY c.time, m.id"
        ).fetchall()
    finally:
        db.close()


async def test_new_results_ask_the_store_nothing_and_a_replay_asks_only_for_itself(start):
    started, clock = start
    api = await started()
    first = upload(clock, ("m0", 30, True), ("m1", 30, True))
    assert await api.post("/api/v1/agent/results", first) == (200, {"accepted": 2, "duplicates": 0})
    # First time these pairs are named since the start: their newest stored time, once.
    assert api.store.asked == [("newest", ["m0", "m1"])]
    api.store.asked.clear()
    later = upload(clock, ("m0", 10, True), ("m1", 10, False))
    assert await api.post("/api/v1/agent/results", later) == (200, {"accepted": 2, "duplicates": 0})
    assert api.store.asked == []  # newer than anything stored: no look-up at all
    assert await api.post("/api/v1/agent/results", first) == (200, {"accepted": 0, "duplicates": 2})
    t = clock.time() - 30
    assert api.store.asked == [("stored", [("m0", t), ("m1", t)])]


async def test_a_duplicate_after_a_restart_is_counted_and_stores_nothing(start, tmp_path):
    started, clock = start
    api = await started()
    body = upload(clock, ("m0", 30, True), ("m1", 20, False))
    assert (await api.post("/api/v1/agent/results", body))[1] == {"accepted": 2, "duplicates": 0}
    await stop(api)
    before = stored_rows(tmp_path / "sw.db")
    again = await started()  # a new process: nothing of the first in memory
    assert await again.post("/api/v1/agent/results", body) == (
        200,
        {"accepted": 0, "duplicates": 2},
    )
    assert stored_rows(tmp_path / "sw.db") == before
    # The same batch with one new result: the new one alone goes in.
    more = {**body, "results": [*body["results"], upload(clock, ("m2", 25, True))["results"][0]]}
    assert (await again.post("/api/v1/agent/results", more))[1] == {
        "accepted": 1,
        "duplicates": 2,
    }
    assert len(stored_rows(tmp_path / "sw.db")) == 3


async def test_a_late_result_older_than_the_newest_stored_is_still_taken(start, tmp_path):
    started, clock = start
    api = await started()
    newer = upload(clock, ("m0", 10, True))
    assert (await api.post("/api/v1/agent/results", newer))[1] == {"accepted": 1, "duplicates": 0}
    # A second agent of the location, taking over, uploads an older result late: not stored,
    # so it counts (the store is asked, and says so), once.
    late = upload(clock, ("m0", 30, True), ("m0", 30, True))
    assert (await api.post("/api/v1/agent/results", late))[1] == {"accepted": 1, "duplicates": 1}
    assert (await api.post("/api/v1/agent/results", late))[1] == {"accepted": 0, "duplicates": 2}
    await stop(api)
    t = clock.time()
    assert stored_rows(tmp_path / "sw.db") == [("m0", t - 30), ("m0", t - 10)]


async def test_a_pair_forgotten_after_a_failed_commit_is_asked_of_the_store_again(tmp_path):
    store = CountingStore(tmp_path / "sw.db")
    await store.start()
    try:
        store.submit(CheckResult("m0", 100.0, True, 0.1, location="lab"))
        await store.flush()
        stored = StoredChecks()
        assert await stored.stored(store, "lab", [("m0", 100.0), ("m0", 101.0)]) == {("m0", 100.0)}
        stored.committed("lab", [("m0", 101.0)])
        store.asked.clear()
        assert await stored.stored(store, "lab", [("m0", 102.0)]) == set()
        assert store.asked == []
        stored.forget("lab", ["m0"])  # 102 was judged but its commit failed: it may land later
        store.submit(CheckResult("m0", 102.0, True, 0.1, location="lab"))
        await store.flush()
        assert await stored.stored(store, "lab", [("m0", 102.0)]) == {("m0", 102.0)}
        assert store.asked == [("newest", ["m0"]), ("stored", [("m0", 102.0)])]
    finally:
        await store.close()


async def test_a_bad_upload_still_names_every_problem(start):
    started, clock = start
    api = await started()
    body = upload(clock, ("m0", 10, True), ("nope", 10, True))
    body["results"][0]["time"] = clock.time() + 3600
    status, errors = await api.post("/api/v1/agent/results", body)
    assert status == 422
    assert [e["field"] for e in errors["errors"]] == ["results[0].time", "results[1].monitor"]
    # Shape problems: the straight decode fails, the field-by-field one names each field.
    body["agent"] = ""
    body["sent_at"] = "now"
    status, errors = await api.post("/api/v1/agent/results", body)
    assert status == 422 and [e["field"] for e in errors["errors"]] == ["agent", "sent_at"]
    body["agent"], body["sent_at"] = "a1", clock.time()
    body["results"][0]["colour"] = "red"
    status, errors = await api.post("/api/v1/agent/results", body)
    assert status == 422 and errors["errors"][0]["field"] == "results[0].colour"
    assert api.store.asked == []  # nothing of a refused batch reaches the store


async def test_a_poll_lists_the_share_as_configured_and_its_generation_follows_the_share(start):
    started, _clock = start
    api = await started()

    async def poll(agent: str) -> dict:
        status, body = await api.get(f"/api/v1/agent/monitors?agent={agent}&poll=1")
        assert status == 200
        return body

    alone = await poll("a1")
    config = api.app[CONFIG]
    assert alone["monitors"] == [msgspec.to_builtins(m, enc_hook=float) for m in config.monitors]
    assert (await poll("a1"))["generation"] == alone["generation"]
    await poll("a2")  # a second agent takes part of the location's monitors
    shared = await poll("a1")
    assert shared["generation"] != alone["generation"]
    assert [m["id"] for m in shared["monitors"]] == [
        m.id for m in config.monitors if m.id in {x["id"] for x in shared["monitors"]}
    ]
