"""The agent's spool: every result is kept in SQLite until the server has acknowledged it.

A result is committed here before any upload is tried, and leaves only after the server
answered 200 for the batch it was in, so a crash or a partition loses none; a result uploaded
but not yet deleted when the agent dies is sent again, which the server counts as a duplicate.
The agent's own file, not the central store: one process, a few small transactions a second.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any


class Spool:
    """Results waiting for the server's acknowledgement, oldest first."""

    def __init__(self, path: str | Path) -> None:
        self._db = sqlite3.connect(str(path), isolation_level=None)
        self._db.execute("PRAGMA journal_mode = WAL")
        # NORMAL in WAL: a crash of the process loses nothing committed (only power loss may).
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.execute(
            """CREATE TABLE IF NOT EXISTS results (
                id INTEGER PRIMARY KEY,
                time REAL NOT NULL,
                body TEXT NOT NULL
            )"""
        )

    def add(self, body: dict[str, Any]) -> None:
        """Keep one result (its upload shape) until it is acknowledged."""
        self._db.execute(
            "INSERT INTO results (time, body) VALUES (?, ?)", (body["time"], json.dumps(body))
        )

    def oldest(self, limit: int) -> list[tuple[int, dict[str, Any]]]:
        """Up to `limit` results, oldest check time first, with their spool ids."""
        rows = self._db.execute(
            "SELECT id, body FROM results ORDER BY time, id LIMIT ?", (limit,)
        ).fetchall()
        return [(rid, json.loads(body)) for rid, body in rows]

    def remove(self, ids: list[int]) -> None:
        """Forget acknowledged results."""
        self._db.execute("BEGIN")
        self._db.executemany("DELETE FROM results WHERE id = ?", [(i,) for i in ids])
        self._db.execute("COMMIT")

    def __len__(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM results").fetchone()[0])

    def close(self) -> None:
        self._db.close()
