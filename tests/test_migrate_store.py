"""`statuswatch migrate-store`: a SQLite installation moved into a real PostgreSQL, whole."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

import psycopg

from statuswatch.cli.main import main
from statuswatch.monitor.events import GapRecorded, OutageClosed, OutageOpened, State, Transition
from statuswatch.sla.report import credits_report
from statuswatch.sla.report_format import as_json
from statuswatch.store import ReportToken, StoreProtocol, outbox_reads
from statuswatch.store.outbox import (
    ConfirmSubscriber,
    EnqueueEvent,
    NotifyEvent,
    RecordAttempt,
    SaveAppSecret,
    SaveSubscriberToken,
    Subscribe,
)
from statuswatch.store.schema import MIGRATIONS, connect, migrate
from statuswatch.store.transfer import open_source, source_tables
from tests.helpers.postgres import PostgresCluster
from tests.helpers.site_seed import seeded_store, site_config, ts

NOW = ts("2026-11-20T12:00:00Z")


def pg_store(url: str) -> StoreProtocol:
    """The PostgreSQL backend, as `statuswatch run` opens it."""
    from statuswatch.store.pg import PgStore

    return PgStore(url)


async def populated(tmp_path: Path):
    """The site seed (outages, checks, incidents, snapshots) plus gaps, transitions, a report
    token, subscribers with tokens, an event in the outbox and a delivery attempt."""
    config = site_config(tmp_path)
    store = await seeded_store(config)
    submit = store.submit
    submit(GapRecorded("api-health", NOW - 7200, NOW - 7000, "stopped"))
    submit(GapRecorded("checkout-page", NOW - 7200, NOW - 7000, "stalled", location="eu"))
    submit(OutageOpened("checkout-page", NOW - 5000, "timeout", "no answer", location="eu"))
    submit(OutageClosed("checkout-page", NOW - 4000, "recovered", location="eu"))
    submit(Transition("api-health", NOW - 1800, State.UP, State.DOWN, "3 consecutive failures"))
    submit(ReportToken("northwind", b"\x00\x01digest\xff" * 4, NOW - 100))
    for address in ("ops@example.com", "cfo@example.com"):
        submit(Subscribe("email", address, None, NOW - 600, 3600.0))
    submit(SaveSubscriberToken(b"\xfe" * 32, 1, "confirm", NOW + 86400))
    submit(ConfirmSubscriber(1, b"\xfe" * 32, NOW - 500))
    submit(SaveSubscriberToken(b"\xfd" * 32, 1, "manage", None))
    event = NotifyEvent(
        "incpayments.2", "incpayments", "incident", NOW - 400, ("checkout",), b'{"t": 1}', 300.0
    )
    submit(EnqueueEvent(event))
    submit(RecordAttempt(1, None, NOW - 300, "retry", "451 try later", next_attempt=NOW + 60))
    submit(SaveAppSecret("unsubscribe_key", "k" * 32))
    await store.flush()
    return config, store


async def reads(store: StoreProtocol) -> dict[str, object]:
    """Everything the protocol reads back, in one comparable dict."""
    return {
        "monitors": await store.monitors(),
        "outages": await store.outages(),
        "open": await store.open_outages(),
        "gaps": await store.gaps(),
        "transitions": await store.transitions(),
        "checks": await store.checks("api-health"),
        "rollups": await store.rollups("api-health"),
        "snapshots": await store.location_snapshots(),
        "last": await store.last_results(),
        "incidents": await store.incidents(),
        "tokens": await store.report_tokens(),
        "subscribers": await store.read_outbox(outbox_reads.subscribers),
        "attempts": await store.read_outbox(outbox_reads.attempts),
        "outbox": await store.read_outbox(outbox_reads.outbox_states),
        "due": await store.read_outbox(outbox_reads.due_messages, NOW + 3600, 100),
        "secret": await store.read_outbox(outbox_reads.app_secret, "unsubscribe_key"),
    }


def source_counts(path: Path) -> dict[str, int]:
    """Rows per table of a SQLite file."""
    with sqlite3.connect(path) as src:
        return {
            t: src.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in source_tables(src)
        }


def counts(url: str, tables: Iterable[str]) -> dict[str, int]:
    """Rows per table in the target."""
    with psycopg.connect(url) as conn:
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


async def test_an_installation_moves_whole_and_reads_back_the_same(
    tmp_path, postgres: PostgresCluster, capsys
):
    config, sqlite_store = await populated(tmp_path)
    before = await reads(sqlite_store)
    credits = as_json(await credits_report(sqlite_store, config, "2026-11", NOW), NOW)
    await sqlite_store.close()
    url = postgres.database()

    assert main(["migrate-store", "--from", str(config.storage.path), "--to", url]) == 0

    out = capsys.readouterr().out
    expected = source_counts(config.storage.path)
    assert {"checks", "outages", "gaps", "incidents", "subscribers", "outbox"} <= set(expected)
    assert expected["checks"] > 600 and expected["outbox"] >= 2 and expected["gaps"] == 2
    for table, n in expected.items():  # every table, with its count, printed and in the target
        assert f"{table} " in out and f" {n:,} rows" in out.split(f"{table} ", 1)[1].split("\n")[0]
    assert counts(url, expected) == expected
    assert "counts verified" in out and "outbox.id" in out and "subscribers.id" in out
    assert "@" not in out.split(" to ")[-1]  # the URL is shown without its user or password

    moved = pg_store(url)
    await moved.start()
    try:
        assert await reads(moved) == before
        assert as_json(await credits_report(moved, config, "2026-11", NOW), NOW) == credits
        # The identity sequences continue past the copied ids: a new subscriber is the third.
        moved.submit(Subscribe("email", "new@example.com", None, NOW, 3600.0))
        moved.submit(OutageOpened("api-health", NOW + 10, "connect", "refused", location="us"))
        await moved.flush()
        subscribers = await moved.read_outbox(outbox_reads.subscribers)
        assert sorted(s.id for s in subscribers) == [1, 2, 3]
        assert len(await moved.outages()) == len(before["outages"]) + 1  # type: ignore[arg-type]
    finally:
        await moved.close()


async def test_a_target_with_statuswatch_data_is_refused(
    tmp_path, postgres: PostgresCluster, capsys
):
    config, store = await populated(tmp_path)
    await store.close()
    url = postgres.database()
    assert main(["migrate-store", "--from", str(config.storage.path), "--to", url]) == 0
    first = counts(url, source_counts(config.storage.path))
    capsys.readouterr()

    assert main(["migrate-store", "--from", str(config.storage.path), "--to", url]) == 2

    err = capsys.readouterr().err
    assert "already has statuswatch data" in err and "table app_secrets is not empty" in err
    assert counts(url, first) == first  # nothing added, nothing doubled


async def test_counts_that_differ_roll_every_table_back(
    tmp_path, postgres: PostgresCluster, capsys
):
    config, store = await populated(tmp_path)
    await store.close()
    url = postgres.database()
    await pg_store(url).close()  # an empty schema (what a failed move leaves) is accepted
    with psycopg.connect(url) as conn:  # a target that silently loses slow checks
        conn.execute(
            "CREATE FUNCTION lose() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN IF NEW.latency > 1 THEN RETURN NULL; END IF; RETURN NEW; END $$"
        )
        conn.execute(
            "CREATE TRIGGER lose BEFORE INSERT ON checks FOR EACH ROW EXECUTE FUNCTION lose()"
        )

    code = main(["migrate-store", "--from", str(config.storage.path), "--to", url])

    assert code == 1, capsys.readouterr()
    err = capsys.readouterr().err
    assert "row counts differ, nothing moved: checks" in err
    left = counts(url, source_counts(config.storage.path))
    assert not any(left.values()), left


async def test_an_older_file_is_moved_through_a_migrated_copy_and_left_as_it_was(
    tmp_path, postgres: PostgresCluster, capsys
):
    path = tmp_path / "old.db"
    db = connect(path, busy_timeout=5.0)
    migrate(db, MIGRATIONS[:8])  # before locations: outages had no location column
    db.execute("INSERT INTO monitors (key, id, kind) VALUES (1, 'api', 'http')")
    db.execute(
        "INSERT INTO outages (monitor, started, ended, error_class, message) "
        "VALUES (1, 100.0, 200.0, 'connect', 'refused')"
    )
    db.execute(  # an older writer's bytes, which SQLite keeps as a BLOB in a TEXT column
        "INSERT INTO notify_events (source, topic, kind, created, payload) "
        "VALUES ('i.1', 'i', 'incident', 100.0, ?)",
        [b'{"title": "caf\xc3\xa9"}'],
    )
    db.close()
    url = postgres.database()

    assert main(["migrate-store", "--from", str(path), "--to", url]) == 0

    assert "schema version 8 read through a migrated copy" in capsys.readouterr().out
    with sqlite3.connect(path) as src:
        assert src.execute("PRAGMA user_version").fetchone()[0] == 8  # the way back is intact
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT payload FROM notify_events").fetchone() == (
            '{"title": "caf\u00e9"}',
        )
    moved = pg_store(url)
    try:
        (outage,) = await moved.outages()
        assert (outage.monitor_id, outage.start, outage.end, outage.location) == (
            "api",
            100.0,
            200.0,
            "local",
        )
    finally:
        await moved.close()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".statuswatch-move-")]


def test_a_newer_file_or_no_target_is_refused(tmp_path, monkeypatch, capsys):
    path = tmp_path / "new.db"
    db = connect(path, busy_timeout=5.0)
    migrate(db)
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.close()
    monkeypatch.delenv("STATUSWATCH_DATABASE_URL", raising=False)
    assert main(["migrate-store", "--from", str(path)]) == 2
    err = capsys.readouterr().err
    assert "--to: give a postgresql:// URL or set STATUSWATCH_DATABASE_URL" in err
    assert main(["migrate-store", "--from", str(path), "--to", "mysql://x/y"]) == 2
    assert "expected a postgresql:// URL" in capsys.readouterr().err
    monkeypatch.setenv("STATUSWATCH_DATABASE_URL", "postgresql://127.0.0.1:9/none")
    assert main(["migrate-store", "--from", str(path)]) == 2
    assert f"newer than this statuswatch knows ({len(MIGRATIONS)})" in capsys.readouterr().err
    assert main(["migrate-store", "--from", str(tmp_path / "missing.db")]) == 2
    assert "--from: no such file" in capsys.readouterr().err
    (tmp_path / "text.db").write_text("not a database\n" * 100)
    assert main(["migrate-store", "--from", str(tmp_path / "text.db")]) == 2
    assert "is not a SQLite database" in capsys.readouterr().err


def test_tables_come_from_the_file_parents_first(tmp_path):
    path = tmp_path / "sw.db"
    db = connect(path, busy_timeout=5.0)
    migrate(db)
    db.execute(
        "CREATE TABLE zz_future (id INTEGER PRIMARY KEY, outbox INTEGER REFERENCES outbox(id))"
    )
    db.close()
    conn = open_source(path)
    try:
        tables = source_tables(conn)
    finally:
        conn.close()
    assert "zz_future" in tables  # a table no hand list knows is moved too
    for child, parent in [
        ("checks", "monitors"),
        ("outbox", "subscribers"),
        ("outbox", "notify_events"),
        ("delivery_attempts", "outbox"),
        ("zz_future", "outbox"),
    ]:
        assert tables.index(parent) < tables.index(child), (child, parent)


async def test_a_target_from_a_newer_statuswatch_is_refused(
    tmp_path, postgres: PostgresCluster, capsys
):
    from statuswatch.store.pg.connection import PgConnection
    from statuswatch.store.pg.schema import migrate as migrate_pg

    config, store = await populated(tmp_path)
    await store.close()
    url = postgres.database()
    target = PgConnection(url)
    try:
        migrate_pg(target, [*MIGRATIONS, lambda _db: None])  # one step this version lacks
    finally:
        target.close()

    assert main(["migrate-store", "--from", str(config.storage.path), "--to", url]) == 2

    assert "--to: database schema version" in capsys.readouterr().err
    assert not any(counts(url, source_counts(config.storage.path)).values())
