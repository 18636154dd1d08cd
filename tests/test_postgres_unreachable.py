"""PostgreSQL stopped and started again (a server of the test's own, not the session's): results
wait in the writer's memory and are written when it is back, none lost below the bound; the
site serves its last good page, JSON and feed meanwhile, the page marked "as of"."""

from __future__ import annotations

import asyncio

from statuswatch.clock import FakeClock
from statuswatch.monitor.events import OutageOpened
from statuswatch.roles.published import PublishedBoard, encode
from statuswatch.store.pg.store import RECONNECT_WINDOW, PgStore
from statuswatch.web import create_app
from statuswatch.web.render_cache import RENDER_WAIT
from tests.helpers.config import make_config
from tests.helpers.postgres import PostgresCluster
from tests.helpers.store import T0, result

NOTICE = "Monitoring is interrupted."
PAGES = ["/history", "/history.atom", "/api/v2/summary.json"]


async def wait_until(store: PgStore, writable: bool) -> dict[str, object]:
    async with asyncio.timeout(60):
        while (stats := store.write_stats())["writable"] != writable:
            await asyncio.sleep(0.05)
    return stats


async def test_results_wait_while_postgresql_is_down_and_are_written_when_it_is_back(
    own_postgres: PostgresCluster,
) -> None:
    store = PgStore(own_postgres.database(), flush_interval=0.01, clock=FakeClock(T0))
    await store.start()
    try:
        for i in range(10):
            store.submit(result("api", T0 + i))
        await store.flush()
        own_postgres.stop()
        for i in range(10, 200):
            store.submit(result("api", T0 + i, ok=i % 50 != 0))
        store.submit(OutageOpened("api", T0 + 150, "timeout", "while the database was away"))
        stats = await wait_until(store, writable=False)
        assert stats["pending"] == 191 and stats["dropped"] == 0, stats
        assert stats["last_error"]
        own_postgres.start()
        await asyncio.wait_for(store.flush(), 60)
        times = [round(c.time - T0) for c in await store.checks("api")]
        assert times == list(range(200))  # every one, once, in order
        assert len(await store.open_outages()) == 1
        stats = store.write_stats()
        assert stats["writable"] and stats["pending"] == 0 and stats["dropped"] == 0
    finally:
        await store.close()


async def test_reads_come_back_soon_after_a_long_outage(own_postgres: PostgresCluster) -> None:
    """The read pool's retries back off without a cap: after 16 s away its next try would come
    16 s after the server is back. Each attempt is given up after RECONNECT_WINDOW instead, and
    the next read starts a fresh one, so reads work again within about that long."""
    store = PgStore(own_postgres.database(), flush_interval=0.01, clock=FakeClock(T0))
    await store.start()
    try:
        store.submit(result("api", T0))
        await store.flush()
        own_postgres.stop()
        loop = asyncio.get_running_loop()
        away_until = loop.time() + 16
        while loop.time() < away_until:  # reads keep failing (and keep the pool trying)
            try:
                await store.checks("api")
            except Exception:
                pass
            else:
                raise AssertionError("a read succeeded with the server stopped")
            await asyncio.sleep(0.2)
        own_postgres.start()
        back = loop.time()
        while True:
            try:
                checks = await store.checks("api")
                break
            except Exception:
                assert loop.time() - back < RECONNECT_WINDOW + 3, "reads still failing"
                await asyncio.sleep(0.1)
        assert [c.time for c in checks] == [T0]
    finally:
        await store.close()


async def test_pages_are_served_from_the_last_good_copy_while_postgresql_is_down(
    own_postgres: PostgresCluster, tmp_path, aiohttp_client
) -> None:
    config = make_config(
        tmp_path, [{"id": "shop", "kind": "http", "component": "api", "url": "http://127.0.0.1:9/"}]
    )
    clock = FakeClock(T0)
    store = PgStore(own_postgres.database(), flush_interval=0.01, clock=clock)
    await store.start()
    client = await aiohttp_client(
        create_app(config, store=store, clock=clock, probe=False, environ={})
    )
    try:
        good = {}
        for path in PAGES:
            resp = await client.get(path)
            assert resp.status == 200, (path, await resp.text())
            good[path] = await resp.text()
            assert NOTICE not in good[path]
        own_postgres.stop()
        clock.advance(config.site.idle_cache_ttl + 1)  # every cached copy is due again
        for path in PAGES:  # at once: the copy held, while the render waits on the pool
            async with asyncio.timeout(RENDER_WAIT + 2):
                resp = await client.get(path)
                assert resp.status == 200, (path, await resp.text())
                assert await resp.text() == good[path]
        async with asyncio.timeout(30):  # the render fails (the pool's timeout) and lands
            while NOTICE not in (body := await (await client.get("/history")).text()):
                await asyncio.sleep(0.1)
        assert "This page shows the state as of" in body  # as of when it was last good
        for path in PAGES[1:]:  # JSON and feeds carry their own times: the same bytes
            assert await (await client.get(path)).text() == good[path]
        own_postgres.start()
        clock.advance(config.site.idle_cache_ttl + 1)
        async with asyncio.timeout(30):  # the pool's connections are renewed on first use
            while NOTICE in await (await client.get("/history")).text():
                await asyncio.sleep(0.1)
                clock.advance(config.site.idle_cache_ttl + 1)
    finally:
        await client.close()
        await store.close()


async def test_a_web_workers_board_says_as_of_while_the_store_cannot_be_read(
    own_postgres: PostgresCluster, tmp_path
) -> None:
    config = make_config(tmp_path, [])
    clock = FakeClock(T0)
    url = own_postgres.database()
    monitor = PgStore(url, flush_interval=0.01, clock=clock)
    await monitor.start()
    monitor.submit(
        encode(
            started=T0,
            version=1,
            beat=T0,
            statuses={},
            no_data=frozenset(),
            health={"status": "ok"},
        )
    )
    await monitor.flush()
    reader = PgStore(url, readonly=True)
    await reader.start()
    board = PublishedBoard(config, reader, clock)
    try:
        await board.refresh()
        assert not board.stale and board.read_error is None
        version = board.version
        own_postgres.stop()
        assert await board.refresh()  # no error out of it: the pages change to "as of"
        assert board.stale and board.read_error and board.as_of == T0
        assert board.version == version + 1
        own_postgres.start()
        async with asyncio.timeout(30):
            while board.stale:
                await board.refresh()
        assert board.read_error is None and board.version == version + 2
    finally:
        await reader.close()
        await monitor.close()
