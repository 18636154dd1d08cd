"""The published board: what the monitor role writes (one row, a heartbeat) and how a web
worker reads it back from the same database file, read-only, on an injected clock."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from statuswatch.clock import FakeClock
from statuswatch.roles.published import STALE_AFTER, PublishedBoard, encode
from statuswatch.roles.publisher import Publisher
from statuswatch.status.board import StatusBoard
from statuswatch.status.component import ComponentStatus
from statuswatch.store import Publish, ReadOnlyStore, SchemaNotReadyError, Store
from statuswatch.web import web_role
from tests.helpers.config import make_config

OK, MAJOR = ComponentStatus.OPERATIONAL, ComponentStatus.MAJOR


class CountingStore(ReadOnlyStore):
    """A real read-only store that counts the row reads (the cheap counter is not one)."""

    row_reads = 0

    async def published(self) -> Publish | None:
        self.row_reads += 1
        return await super().published()


@dataclass
class Roles:
    """Both sides of one database: the monitor's writer and a web worker's board."""

    clock: FakeClock
    writer: Store
    reader: CountingStore
    board: PublishedBoard

    async def publish(self, *, started: float = 1.0, version: int = 0, **fields) -> None:
        """Publish as a monitor would (beat: now), committed before returning."""
        row = {
            "statuses": {"api": OK, "checkout": MAJOR},
            "no_data": frozenset(),
            "health": {"status": "ok"},
            **fields,
        }
        self.writer.submit(encode(started=started, version=version, beat=self.clock.time(), **row))
        await self.writer.flush()


@pytest.fixture
async def roles(tmp_path: Path) -> AsyncIterator[Roles]:
    clock = FakeClock()
    config = make_config(tmp_path, [])
    writer = Store(config.storage.path, clock=clock, flush_interval=0.01)
    await writer.start()
    reader = CountingStore(config.storage.path)
    await reader.start()
    yield Roles(clock, writer, reader, PublishedBoard(config, reader, clock))
    await reader.close()
    await writer.close()


async def test_before_any_publication_every_component_has_no_data_and_the_board_is_stale(roles):
    board = roles.board
    assert await board.refresh() is False
    assert board.current is None and board.as_of is None
    assert board.stale is True
    assert board.no_data() == {"api", "checkout"}
    assert board.status == {}


async def test_statuses_and_no_data_are_carried_exactly(roles):
    board = roles.board
    await roles.publish(
        statuses={"api": ComponentStatus.DEGRADED, "checkout": ComponentStatus.MAINTENANCE},
        no_data=frozenset({"checkout"}),
        health={"status": "ok", "monitors": {"total": 3}},
    )
    assert await board.refresh() is True
    assert board.status == {
        "api": ComponentStatus.DEGRADED,
        "checkout": ComponentStatus.MAINTENANCE,
    }
    assert all(type(s) is ComponentStatus for s in board.status.values())
    assert board.no_data() == {"checkout"}
    assert board.current.health == {"status": "ok", "monitors": {"total": 3}}
    assert board.as_of == roles.clock.time()
    assert board.stale is False


async def test_nothing_is_read_while_the_database_did_not_change(roles):
    board = roles.board
    await roles.publish()
    assert await board.refresh() is True
    reads, version = roles.reader.row_reads, board.version
    for _ in range(3):
        assert await board.refresh() is False
    assert roles.reader.row_reads == reads  # only PRAGMA data_version was looked at
    assert board.version == version


async def test_a_beat_of_the_same_generation_changes_no_page(roles):
    board = roles.board
    await roles.publish(version=4)
    await board.refresh()
    version = board.version
    roles.clock.advance(1)
    await roles.publish(version=4)  # the heartbeat: same board, new beat
    assert await board.refresh() is False
    assert board.version == version
    assert board.as_of == roles.clock.time()  # the beat is taken all the same


async def test_a_new_generation_bumps_the_version_the_render_cache_follows(roles):
    board = roles.board
    await roles.publish(version=1)
    await board.refresh()
    version = board.version
    await roles.publish(version=2, statuses={"api": MAJOR, "checkout": OK})
    assert await board.refresh() is True
    assert board.version == version + 1
    assert board.status == {"api": MAJOR, "checkout": OK}


async def test_a_restarted_monitor_counting_from_zero_again_is_seen_as_new(roles):
    board = roles.board
    await roles.publish(started=100.0, version=0)
    await board.refresh()
    version = board.version
    await roles.publish(started=200.0, version=0, statuses={"api": MAJOR, "checkout": MAJOR})
    assert await board.refresh() is True
    assert board.version == version + 1
    assert board.status == {"api": MAJOR, "checkout": MAJOR}
    assert board.current.started == 200.0


async def test_stale_after_stale_after_seconds_without_a_beat_and_fresh_on_the_next(roles):
    board, clock = roles.board, roles.clock
    await roles.publish()
    await board.refresh()
    version = board.version
    clock.advance(STALE_AFTER)
    assert await board.refresh() is False and board.stale is False  # exactly 5 s: not yet
    clock.advance(0.1)
    assert board.stale is True
    assert await board.refresh() is True  # pages change: they now say "as of"
    assert board.version == version + 1
    assert await board.refresh() is False  # and only once
    await roles.publish()  # the monitor beats again (same generation)
    assert await board.refresh() is True
    assert board.stale is False
    assert board.version == version + 2


async def test_a_stopping_monitor_makes_the_board_stale_at_once(roles):
    board = roles.board
    await roles.publish(version=3)
    await board.refresh()
    assert board.stale is False
    await roles.publish(version=3, stopping=True)
    assert await board.refresh() is True
    assert board.stale is True
    assert board.current.stopping is True


async def test_the_monitors_publisher_writes_what_the_board_says(tmp_path):
    clock = FakeClock()
    config = make_config(tmp_path, [])
    writer = Store(config.storage.path, clock=clock, flush_interval=0.01)
    await writer.start()
    reader = ReadOnlyStore(config.storage.path)
    await reader.start()
    try:
        board = StatusBoard(config, writer, clock, None)
        await board.start({})
        publisher = Publisher(board, writer, clock, lambda: {"status": "ok"})
        seen = PublishedBoard(config, reader, clock)
        publisher.publish()
        await writer.flush()
        assert await seen.refresh() is True
        assert seen.status == board.status
        assert seen.no_data() == board.no_data()
        assert not publisher.due()
        clock.advance(1.0)
        assert publisher.due()  # a beat a second even when nothing changed
        board.version += 1
        publisher.publish()
        await writer.flush()
        assert await seen.refresh() is True
        await publisher.stop()  # not started: it only says it is stopping
        await writer.flush()
        await seen.refresh()
        assert seen.stale is True and seen.current.stopping
    finally:
        await reader.close()
        await writer.close()


async def test_a_paused_follower_reads_nothing_until_it_resumes(roles, monkeypatch):
    """A node's followed board while the node leads (its pages show its own board then): no
    read of the store however often the follower looks; resumed, it reads what changed."""
    monkeypatch.setattr(web_role, "FOLLOW_EVERY", 0)  # look on every turn of the loop
    leading = True
    follow = asyncio.create_task(web_role._follow(roles.board, paused=lambda: leading))
    try:
        await roles.publish(version=1)  # the follower looked many times meanwhile
        assert (roles.reader.row_reads, roles.board.current) == (0, None)
        leading = False
        async with asyncio.timeout(10):
            while roles.board.current is None:
                await asyncio.sleep(0.005)
        assert roles.reader.row_reads == 1
        assert roles.board.status == {"api": OK, "checkout": MAJOR}
    finally:
        follow.cancel()


async def test_the_read_only_store_refuses_writes_naming_the_item(roles):
    with pytest.raises(RuntimeError, match="read-only store: a Publish is the monitor's"):
        roles.reader.submit(Publish("g", 0.0, "{}"))


def test_the_read_only_store_waits_for_a_missing_database(tmp_path):
    with pytest.raises(SchemaNotReadyError, match="does not exist yet"):
        ReadOnlyStore(tmp_path / "none.db")
    assert not (tmp_path / "none.db").exists()  # and it did not create one


def test_the_read_only_store_waits_for_an_unmigrated_database(tmp_path):
    path = tmp_path / "new.db"
    sqlite3.connect(path).close()  # created, not migrated (a monitor starting right now)
    with pytest.raises(SchemaNotReadyError, match="schema version 0"):
        ReadOnlyStore(path)
