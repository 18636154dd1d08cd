"""The PostgreSQL side of a store move: refuse data, COPY rows, move identity sequences, count."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
from psycopg import sql

from statuswatch.store.transfer import TransferError


def existing(conn: psycopg.Connection, tables: Sequence[str]) -> list[str]:
    """Which of these tables the target's current schema has."""
    rows = conn.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = current_schema() AND table_name = ANY(%s) ORDER BY table_name",
        (list(tables),),
    ).fetchall()
    return [row[0] for row in rows]


def refuse_data(conn: psycopg.Connection, tables: Sequence[str]) -> None:
    """Exit 2 naming the first statuswatch table of the target that has a row (an empty schema,
    as a failed move leaves it, is fine)."""
    for table in existing(conn, tables):
        query = sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(table))
        if conn.execute(query).fetchone()[0]:  # type: ignore[index]
            raise TransferError(
                f"--to: the target already has statuswatch data (table {table} is not empty); "
                "migrate-store only fills an empty database",
                2,
            )


def lock(conn: psycopg.Connection, tables: Sequence[str]) -> None:
    """Hold every table until commit: a node started meanwhile waits instead of writing."""
    names = sql.SQL(", ").join(map(sql.Identifier, tables))
    conn.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(names))


def copy_rows(
    conn: psycopg.Connection, table: str, cols: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """COPY rows into a table (identity columns take the given ids, as COPY always does)."""
    query = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, cols))
    )
    text = _text_columns(conn, table, cols)
    with conn.cursor() as cur, cur.copy(query) as copy:
        for row in rows:
            if text and any(isinstance(row[i], bytes) for i in text):
                row = _as_text(row, text)
            copy.write_row(row)


def _text_columns(conn: psycopg.Connection, table: str, cols: Sequence[str]) -> list[int]:
    """Positions of the columns that are text in the target."""
    found = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = "
        "current_schema() AND table_name = %s AND data_type IN ('text', 'character varying')",
        (table,),
    ).fetchall()
    names = {row[0] for row in found}
    return [i for i, col in enumerate(cols) if col in names]


def _as_text(row: Sequence[Any], text: list[int]) -> list[Any]:
    """SQLite keeps whatever it was given: UTF-8 bytes written into a TEXT column stay bytes
    there, and would land in PostgreSQL as their escaped hex; decode them."""
    out = list(row)
    for i in text:
        if isinstance(out[i], bytes):
            out[i] = out[i].decode()
    return out


def reset_sequences(conn: psycopg.Connection, tables: Sequence[str]) -> list[str]:
    """Move every identity (or serial) sequence of these tables past the largest copied id, so
    the next row PostgreSQL numbers does not collide; return the columns moved."""
    found = conn.execute(
        "SELECT table_name, column_name, "
        "pg_get_serial_sequence(quote_ident(table_name), column_name) "
        "FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = ANY(%s) "
        "AND (is_identity = 'YES' OR column_default LIKE 'nextval(%%') "
        "ORDER BY table_name, column_name",
        (list(tables),),
    ).fetchall()
    moved = []
    for table, column, sequence in found:
        top = conn.execute(
            sql.SQL("SELECT max({}) FROM {}").format(sql.Identifier(column), sql.Identifier(table))
        ).fetchone()[0]  # type: ignore[index]
        if sequence is not None and top is not None:
            conn.execute("SELECT setval(%s, %s)", (sequence, top))
            moved.append(f"{table}.{column}")
    return moved


def count_rows(conn: psycopg.Connection, tables: Sequence[str]) -> dict[str, int]:
    """Rows per table as this transaction sees them."""
    counts = {}
    for table in tables:
        query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
        counts[table] = int(conn.execute(query).fetchone()[0])  # type: ignore[index]
    return counts
