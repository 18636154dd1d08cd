"""`statuswatch migrate-store`: move a SQLite installation's store into PostgreSQL."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

URL_ENV = "STATUSWATCH_DATABASE_URL"

HELP = "copy a SQLite store into an empty PostgreSQL database (every table, verified by counts)"


def options(cmd: argparse.ArgumentParser) -> None:
    """The command's options."""
    cmd.add_argument("--from", dest="source", required=True, help="the SQLite file to move")
    cmd.add_argument(
        "--to",
        dest="target",
        help=f"postgresql:// URL of an empty database (default: ${URL_ENV}); a password in a "
        "URL on the command line is visible to other users of this machine: prefer "
        "PGPASSWORD or ~/.pgpass",
    )


def create_schema(url: str) -> None:
    """The target's schema, by the PostgreSQL backend's migrations (what PgStore runs)."""
    from statuswatch.store.pg.connection import PgConnection
    from statuswatch.store.pg.schema import migrate

    db = PgConnection(url)
    try:
        migrate(db)
    finally:
        db.close()


def where(url: str) -> str:
    """The target as printed: host, port and database, never a password."""
    from psycopg.conninfo import conninfo_to_dict

    parts = conninfo_to_dict(url)
    host = parts.get("host") or "localhost"
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"postgresql://{host}{port}/{parts.get('dbname', '')}"


def run(args: argparse.Namespace) -> int:
    """Move the store; exit 2 on bad input or a target with data, 1 when it did not verify."""
    import psycopg

    from statuswatch.store.schema import SchemaTooNewError
    from statuswatch.store.transfer import TransferError, move

    url = args.target or os.environ.get(URL_ENV)
    if not url:
        return _fail(f"--to: give a postgresql:// URL or set {URL_ENV}", 2)
    if not url.startswith(("postgresql://", "postgres://")):
        return _fail("--to: expected a postgresql:// URL", 2)
    source = Path(args.source)
    try:
        report = move(source, url, create_schema=create_schema)
    except TransferError as exc:
        return _fail(str(exc), exc.exit_code)
    except SchemaTooNewError as exc:
        return _fail(f"--to: {exc}", 2)
    except psycopg.Error as exc:  # the transaction rolled back: the target holds none of it
        return _fail(f"PostgreSQL refused the move, nothing moved: {exc}".strip(), 1)
    if report.upgraded_from is not None:
        print(
            f"{source}: schema version {report.upgraded_from} read through a migrated copy "
            "(the file itself is unchanged)"
        )
    width = max(len(m.table) for m in report.tables)
    for m in report.tables:
        print(f"{m.table:<{width}}  {m.target:>12,} rows")
    total = sum(m.target for m in report.tables)
    print(
        f"moved {len(report.tables)} tables, {total:,} rows, from {source} to {where(url)}; "
        f"counts verified; identity sequences moved: {', '.join(report.sequences) or 'none'}"
    )
    return 0


def _fail(message: str, code: int) -> int:
    print(f"statuswatch: migrate-store: {message}", file=sys.stderr)
    return code
