"""Which uploaded results are stored already: the database asked only when it must be.

Uploads are idempotent by (monitor, location, time). Asking the store about every result of
every upload cost a query per monitor per upload; instead the newest check time stored for each
(monitor, location) is kept in memory, read from the store once (the first upload after a start
that names the pair). A result newer than it cannot be stored: a location's checks are written
only by its uploads, one upload at a time (LocationHub.upload_lock), and each upload's accepted
results are noted here once committed. Only a result at or before it (a replay, a duplicate, a
second agent's late result) is looked up in the store, which stays the one truth.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the store imports the agent's wire format: no cycle at run time
    from statuswatch.store.protocol import StoreProtocol

# A pair with no check stored yet: every result is newer.
_NONE = float("-inf")


class StoredChecks:
    """The newest stored check time per (monitor, location), and the look-up it spares."""

    def __init__(self) -> None:
        self._newest: dict[tuple[str, str], float] = {}

    async def stored(
        self, store: StoreProtocol, location: str, keys: Sequence[tuple[str, float]]
    ) -> set[tuple[str, float]]:
        """Which of these (monitor id, time) checks from `location` are stored already."""
        newest = self._newest
        cold = {m for m, _ in keys if (m, location) not in newest}
        if cold:
            found = await store.newest_checks(location, sorted(cold))
            for monitor_id in cold:
                newest.setdefault((monitor_id, location), found.get(monitor_id, _NONE))
        ask = [(m, t) for m, t in keys if t <= newest[(m, location)]]
        return await store.stored_checks(location, ask) if ask else set()

    def committed(self, location: str, keys: Iterable[tuple[str, float]]) -> None:
        """These checks from `location` are stored now (their upload's commit returned)."""
        newest = self._newest
        for monitor_id, time in keys:
            key = (monitor_id, location)
            if time > newest.get(key, _NONE):
                newest[key] = time

    def forget(self, location: str, monitor_ids: Iterable[str]) -> None:
        """Back to the store for these: their commit failed, and may still land later."""
        for monitor_id in monitor_ids:
            self._newest.pop((monitor_id, location), None)
