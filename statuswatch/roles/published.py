"""The board the monitor role publishes and the web role reads: one row, JSON, a heartbeat.

The monitor writes it when something the pages show changed and at least every BEAT seconds;
a web worker polls the database's change counter (cheap), reads the row when it moved, and
reloads only when the generation changed. A heartbeat older than STALE_AFTER (or a monitor that
said it is stopping) makes the pages say "as of" instead of claiming to be current.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from statuswatch.clock import Clock
from statuswatch.config import Config
from statuswatch.maintenance.calendar import MaintenanceCalendar
from statuswatch.status.component import ComponentStatus
from statuswatch.store import Publish, StoreProtocol

log = logging.getLogger(__name__)

BEAT = 1.0  # the monitor publishes at least this often
STALE_AFTER = 5.0  # five missed beats: the monitor is not running (or not writing)


@dataclass(frozen=True, slots=True)
class Published:
    """One publication, decoded."""

    generation: str
    beat: float
    statuses: dict[str, ComponentStatus]
    no_data: frozenset[str]
    health: dict[str, Any]
    pid: int
    started: float
    stopping: bool
    # Components with regional monitors -> the names of the locations that see them down.
    regional: dict[str, list[str]]


def encode(
    *,
    started: float,
    version: int,
    beat: float,
    statuses: Mapping[str, ComponentStatus],
    no_data: frozenset[str],
    health: dict[str, Any],
    stopping: bool = False,
    regional: Mapping[str, list[str]] | None = None,
) -> Publish:
    """The row for the monitor's board at `version` (its process and start make it unique)."""
    pid = os.getpid()
    body = {
        "statuses": {cid: s.value for cid, s in statuses.items()},
        "no_data": sorted(no_data),
        "health": health,
        "pid": pid,
        "started": started,
        "stopping": stopping,
        "regional": dict(regional or {}),
    }
    # A restarted monitor counts versions from 0 again: its pid and start keep generations apart.
    generation = f"{pid}:{started!r}:{version}:{int(stopping)}"
    return Publish(generation, beat, json.dumps(body, separators=(",", ":")))


def decode(row: Publish) -> Published:
    """A stored row as the web role uses it."""
    body = json.loads(row.body)
    return Published(
        generation=row.generation,
        beat=row.beat,
        statuses={cid: ComponentStatus(v) for cid, v in body["statuses"].items()},
        no_data=frozenset(body["no_data"]),
        health=body["health"],
        pid=body["pid"],
        started=body["started"],
        stopping=body["stopping"],
        # A row published before locations were named has none.
        regional=body.get("regional", {}),
    )


class PublishedBoard:
    """The status board as a web worker sees it (the read side of status/board.py's board).

    Before the monitor's first publication every component is "no data yet": a web worker
    never says operational about something it has not been told.
    """

    def __init__(self, config: Config, store: StoreProtocol, clock: Clock) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.status: dict[str, ComponentStatus] = {}
        self.regional: dict[str, list[str]] = {}
        self._no_data = frozenset(c.id for c in config.components)
        self.calendar = MaintenanceCalendar(config.maintenance)
        self.current: Published | None = None
        # Bumped on every change a page shows (a new generation, the monitor going quiet or
        # coming back): the render cache follows it, as it follows the monitor's own board.
        self.version = 0
        self._seen_data: int | None = None
        self._was_stale = True
        # Why the store could not be read at the last look (None: it could): until it can,
        # what the worker shows is as of the last state it read.
        self.read_error: str | None = None

    def no_data(self) -> frozenset[str]:
        """Components with no evidence yet, as the monitor last said."""
        return self._no_data

    @property
    def stale(self) -> bool:
        """True when the monitor has not published for STALE_AFTER seconds, or said it stopped,
        or the store could not be read at the last look."""
        cur = self.current
        if cur is None or cur.stopping or self.read_error is not None:
            return True
        return self.clock.time() - cur.beat > STALE_AFTER

    @property
    def as_of(self) -> float | None:
        """When the monitor last published (None: never)."""
        return None if self.current is None else self.current.beat

    async def refresh(self) -> bool:
        """Reload when the database changed and the generation moved; True when a page changes."""
        changed = False
        try:
            changed = await self._read()
        except Exception as exc:  # the store away: keep the last state, marked as of its time
            if self.read_error is None:
                log.warning("cannot read the store; pages show the last state", exc_info=True)
            self.read_error = f"{type(exc).__name__}: {exc}"
        else:
            self.read_error = None
        stale = self.stale
        if stale != self._was_stale:
            self._was_stale = stale
            changed = True
        if changed:
            self.version += 1
        return changed

    async def _read(self) -> bool:
        seen = await self.store.data_version()
        if seen == self._seen_data:
            return False
        row = await self.store.published()
        changed = False
        if row is not None:
            pub = decode(row)
            if self.current is None or self.current.generation != pub.generation:
                # Edits of run-time windows reach the calendar through the same generation
                # (read first: a failed read leaves the whole generation to the next look).
                windows = await self.store.maintenance()
                self.calendar = MaintenanceCalendar.merged(self.config, windows)
            changed = self._take(pub)
        self._seen_data = seen  # only once read: a failed read is tried again
        return changed

    def _take(self, pub: Published) -> bool:
        previous, self.current = self.current, pub
        if previous is not None and previous.generation == pub.generation:
            return False
        self.status = pub.statuses
        self.regional = pub.regional
        self._no_data = pub.no_data
        return True
