"""The agent's spool: every result is kept in SQLite until the server has acknowledged it.

`add` takes a result in memory; `commit` writes all taken since in one transaction, which is
when a result counts as spooled (the agent commits COMMIT_EVERY after a result comes, and at
every upload and stop). Only committed results are uploaded, and they leave only after the
server answered 200 for the batch they were in, so a partition loses none. A kill -9 (or a
crash) loses the results taken but not yet committed, at most the last COMMIT_EVERY of
probing, none of them ever uploaded: as the central store's writer loses its batching window.
A result uploaded but not yet deleted when the agent dies is sent again, which the server
counts as a duplicate. Bodies are kept as the JSON they are uploaded as, so an upload joins
them without decoding one. One transaction per result cost the agent more CPU than its probe.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import msgspec


class Spool:
    """Results waiting for the server's acknowledgement, oldest check time first."""

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
        # Draining a backlog reads the oldest batch again and again: without it, a sort of all.
        self._db.execute("CREATE INDEX IF NOT EXISTS results_time ON results (time, id)")
        self._taken: list[tuple[float, str]] = []
        self._encode = msgspec.json.Encoder().encode

    def add(self, time: float, body: object) -> None:
        """Take one result (its upload shape, a struct or a dict); spooled at the next commit."""
        self._taken.append((time, self._encode(body).decode()))

    @property
    def uncommitted(self) -> int:
        """Results taken but not committed yet (a kill -9 now would lose them)."""
        return len(self._taken)

    def commit(self) -> None:
        """Write every result taken since the last commit, in one transaction."""
        if not self._taken:
            return
        taken, self._taken = self._taken, []
        try:
            with self._transaction():
                self._db.executemany("INSERT INTO results (time, body) VALUES (?, ?)", taken)
        except BaseException:
            self._taken = taken + self._taken  # kept for the next try (a full disk, say)
            raise

    def oldest(self, limit: int, max_bytes: int) -> list[tuple[int, bytes]]:
        """Committed results, oldest check time first, with their spool ids: up to `limit` of
        them and `max_bytes` of bodies (one at least, however large)."""
        rows = self._db.execute(
            "SELECT id, body FROM results ORDER BY time, id LIMIT ?", (limit,)
        ).fetchall()
        out: list[tuple[int, bytes]] = []
        size = 0
        for rid, body in rows:
            raw = body.encode()
            size += len(raw) + 1  # and its comma
            if out and size > max_bytes:
                break
            out.append((rid, raw))
        return out

    def remove(self, ids: list[int]) -> None:
        """Forget acknowledged results."""
        with self._transaction():
            self._db.executemany("DELETE FROM results WHERE id = ?", [(i,) for i in ids])

    def _transaction(self) -> sqlite3.Connection:
        # The connection in autocommit: BEGIN by hand, then `with` commits or rolls back.
        self._db.execute("BEGIN")
        return self._db

    def __len__(self) -> int:
        """Results committed and not yet acknowledged."""
        return int(self._db.execute("SELECT count(*) FROM results").fetchone()[0])

    def close(self) -> None:
        """Commit what was taken, then close the file."""
        try:
            self.commit()
        finally:
            self._db.close()
