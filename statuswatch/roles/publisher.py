"""The monitor role's side of the published board: write it on change, and beat every second."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from statuswatch.clock import Clock
from statuswatch.roles.published import BEAT, encode
from statuswatch.status.board import StatusBoard
from statuswatch.store import StoreProtocol

log = logging.getLogger(__name__)

# How often the board's version is looked at: a change reaches the database within this plus
# the writer's flush interval, well inside the second a web worker is allowed.
LOOK_EVERY = 0.1


class Publisher:
    """Publishes `board` through the store's writer (one row, replaced; never a backlog)."""

    def __init__(
        self,
        board: StatusBoard,
        store: StoreProtocol,
        clock: Clock,
        health: Callable[[], dict[str, Any]],
    ) -> None:
        self.board = board
        self.store = store
        self.clock = clock
        self.health = health
        self.started = clock.time()
        self._published: int | None = None
        self._beat_at = float("-inf")  # monotonic time of the last publication
        self._task: asyncio.Task[None] | None = None

    def due(self) -> bool:
        """Something changed since the last publication, or a beat is due."""
        return (
            self.board.version != self._published or self.clock.monotonic() - self._beat_at >= BEAT
        )

    def publish(self, *, stopping: bool = False) -> None:
        """Submit the board as it is now (the writer commits it in its next batch)."""
        board = self.board
        self._published = board.version
        self._beat_at = self.clock.monotonic()
        self.store.submit(
            encode(
                started=self.started,
                version=board.version,
                beat=self.clock.time(),
                statuses=board.status,
                no_data=board.no_data(),
                regional=board.regional,
                health=self.health(),
                stopping=stopping,
            )
        )

    def start(self) -> None:
        """Publish now, then whenever due."""
        self.publish()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(LOOK_EVERY)
            if self.due():
                try:
                    self.publish()
                except Exception:  # a bad health figure must not stop the heartbeat for good
                    log.exception("could not publish the board")

    async def stop(self) -> None:
        """Stop beating and say so: web workers show "as of" at once, not after STALE_AFTER."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(RuntimeError):  # the store may be closing already
            self.publish(stopping=True)
