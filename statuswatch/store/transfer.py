"""Move a SQLite store into an empty PostgreSQL database: every table, one transaction, counted.

The list of tables comes from the SQLite file itself (not a hand list), so a table a future
migration adds is moved too; parents are copied before the tables that reference them, because
PostgreSQL checks foreign keys on every row.
"""

from __future__ import annotations

import graphlib
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from statuswatch.store.schema import MIGRATIONS, connect, migrate


class TransferError(Exception):
    """The move cannot start or did not verify; `exit_code` is the command's exit status."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True, slots=True)
class Moved:
    """One table's rows: counted in the source's snapshot, counted again in the target."""

    table: str
    source: int
    target: int


@dataclass(frozen=True, slots=True)
class Report:
    """What a move did: per-table counts, the identity sequences moved past the copied ids."""

    tables: list[Moved]
    sequences: list[str]
    upgraded_from: int | None  # the source's schema version when a migrated copy was read


def open_source(path: Path) -> sqlite3.Connection:
    """Open a statuswatch SQLite file read-only (the move never changes it)."""
    if not path.is_file():
        raise TransferError(f"--from: no such file: {path}", 2)
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
    try:
        tables = source_tables(conn)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise TransferError(f"--from: {path} is not a SQLite database ({exc})", 2) from None
    if not tables or int(conn.execute("PRAGMA user_version").fetchone()[0]) == 0:
        conn.close()
        raise TransferError(f"--from: {path} is not a statuswatch database", 2)
    return conn


def source_tables(conn: sqlite3.Connection) -> list[str]:
    """Every table of the file, each after the tables its foreign keys reference."""
    names = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    parents = {
        name: {row[2] for row in conn.execute(f"PRAGMA foreign_key_list({_q(name)})")} - {name}
        for name in names
    }
    return list(graphlib.TopologicalSorter(parents).static_order())


def columns(conn: sqlite3.Connection, table: str) -> list[str]:
    """A table's columns in the file's order."""
    return [row[1] for row in conn.execute(f"PRAGMA table_info({_q(table)})")]


@contextmanager
def current_source(path: Path) -> Iterator[tuple[sqlite3.Connection, int | None]]:
    """The source at this statuswatch's schema: the file itself, or a migrated copy of an older
    one (the file stays as it was: it is the way back). Refuses a newer file (exit 2)."""
    conn = open_source(path)
    found = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if found > len(MIGRATIONS):
        conn.close()
        raise TransferError(
            f"--from: {path} has schema version {found}, newer than this statuswatch knows "
            f"({len(MIGRATIONS)}): run migrate-store of the statuswatch that wrote it",
            2,
        )
    if found == len(MIGRATIONS):
        try:
            yield conn, None
        finally:
            conn.close()
        return
    # Older: the same migrations `statuswatch run` would apply, on a copy beside the file
    # (the same disk, which has room for one more of it; /tmp may be small).
    with tempfile.TemporaryDirectory(prefix=".statuswatch-move-", dir=path.parent) as tmp:
        copy = connect(Path(tmp) / "upgraded.db", busy_timeout=5.0)
        try:
            conn.backup(copy.conn)
            conn.close()
            migrate(copy)
            yield copy.conn, found
        finally:
            copy.close()


def count_rows(conn: sqlite3.Connection, tables: list[str]) -> dict[str, int]:
    """Rows per table, inside the caller's read transaction (one snapshot)."""
    return {t: int(conn.execute(f"SELECT count(*) FROM {_q(t)}").fetchone()[0]) for t in tables}  # noqa: S608


def _q(name: str) -> str:
    """An SQL identifier, quoted (the names come from the file, not from a user)."""
    return '"' + name.replace('"', '""') + '"'


def move(
    source_path: Path,
    url: str,
    *,
    create_schema: Callable[[str], None],
) -> Report:
    """Copy every table of `source_path` into the empty database at `url`, in one transaction.

    `create_schema(url)` brings the target's schema to this statuswatch's version through the
    PostgreSQL backend's migrations (the same steps SQLite runs)."""
    import psycopg

    from statuswatch.store import transfer_pg

    with current_source(source_path) as (src, upgraded_from):
        tables = source_tables(src)
        with psycopg.connect(url, autocommit=True) as target:
            transfer_pg.refuse_data(target, tables)  # before anything is created there
        create_schema(url)
        src.execute("BEGIN")  # one read snapshot: counts and rows agree
        try:
            expected = count_rows(src, tables)
            with psycopg.connect(url, autocommit=True) as target, target.transaction():
                transfer_pg.lock(target, tables)
                transfer_pg.refuse_data(target, tables)  # nothing slipped in meanwhile
                for table in tables:
                    cols = columns(src, table)
                    rows = src.execute(f"SELECT {', '.join(map(_q, cols))} FROM {_q(table)}")  # noqa: S608
                    transfer_pg.copy_rows(target, table, cols, rows)
                sequences = transfer_pg.reset_sequences(target, tables)
                found = transfer_pg.count_rows(target, tables)
                moved = [Moved(t, expected[t], found[t]) for t in tables]
                wrong = [m for m in moved if m.source != m.target]
                if wrong:  # raising inside the transaction rolls every table back
                    listed = ", ".join(f"{m.table} {m.source} != {m.target}" for m in wrong)
                    raise TransferError(f"row counts differ, nothing moved: {listed}", 1)
        finally:
            src.execute("COMMIT")
    return Report(moved, sequences, upgraded_from)
