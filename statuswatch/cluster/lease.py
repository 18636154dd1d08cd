"""The leader lease: one row in PostgreSQL, timed by the database's clock, with a fence.

Acquire and renew are ONE statement, so two nodes can never both believe they took it: the row
is free or expired (taken, fence + 1), or ours with our fence and unexpired (renewed, fence
kept), or someone else's (no row returned). Expiry is judged on the database's clock only, so
the nodes' clocks never have to agree. Each node also keeps a LOCAL monotonic deadline, counted
from before it sent the renew that succeeded: it stops leader work when that passes, which is
before the row expires on the database (the row's expiry is counted from later, on its clock).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from statuswatch.clock import Clock
from statuswatch.store.errors import FencedError

log = logging.getLogger(__name__)

LEADER = "leader"
# The local deadline ends this share of the TTL early: room for the two clocks' rates to
# differ (NTP slews by at most 0.05 %) and for the renew's own round trip.
MARGIN_SHARE = 0.1
# One reading of the database's clock per statement (`t.now`), so every comparison agrees.
# %(renewing)s: renewing keeps the fence only when the row still carries ours; otherwise
# taking a row we held (a restart under the same node name) is a new term, fence + 1.
CAMPAIGN_SQL = """
WITH t AS (SELECT extract(epoch from clock_timestamp())::float8 AS now)
INSERT INTO leases AS l (name, holder, fence, expires, advertise)
SELECT %(name)s, %(holder)s, 1, t.now + %(ttl)s, %(advertise)s FROM t
ON CONFLICT (name) DO UPDATE SET
    holder = EXCLUDED.holder,
    fence = CASE
        WHEN %(renewing)s AND l.holder = EXCLUDED.holder AND l.fence = %(fence)s
            AND l.expires > (SELECT now FROM t) THEN l.fence
        ELSE l.fence + 1 END,
    expires = EXCLUDED.expires,
    advertise = EXCLUDED.advertise
WHERE l.expires <= (SELECT now FROM t)
   OR (l.holder = EXCLUDED.holder AND (NOT %(renewing)s OR l.fence = %(fence)s))
RETURNING fence, expires
"""
# FOR SHARE: the row stays locked until the write transaction ends, so a contender's take
# (an UPDATE of this row) waits for it: no write under the old fence commits after a new term.
GUARD_SQL = """
SELECT 1 FROM leases
WHERE name = %s AND holder = %s AND fence = %s
    AND expires > extract(epoch from clock_timestamp())::float8
FOR SHARE
"""
HOLDER_SQL = """
SELECT holder, fence, expires, advertise, extract(epoch from clock_timestamp())::float8
FROM leases WHERE name = %s
"""


class Connection(Protocol):
    """What the lease needs of a database connection (psycopg's, autocommit)."""

    def execute(self, query: Any, params: Any = ...) -> Any: ...


@dataclass(frozen=True)
class Term:
    """Who holds the lease: a node, its fence, when it expires (database epoch seconds)."""

    holder: str
    fence: int
    expires: float
    advertise: str | None = None


@dataclass
class Renewals:
    """How campaigns went, by outcome (statuswatch_lease_renewals_total)."""

    acquired: int = 0
    renewed: int = 0
    lost: int = 0
    refused: int = 0
    error: int = 0


class Lease:
    """This node's view of the leader lease; `attempt()` is its only database round trip."""

    def __init__(
        self,
        connect: Callable[[], Connection],
        *,
        node: str,
        ttl: float,
        clock: Clock,
        advertise: str | None = None,
        name: str = LEADER,
    ) -> None:
        self._connect = connect
        self._conn: Connection | None = None
        self.node = node
        self.ttl = ttl
        self.clock = clock
        self.advertise = advertise
        self.name = name
        self.fence: int | None = None  # ours while we hold it
        self.expires: float | None = None  # the row's expiry, database time
        self._deadline: float | None = None  # local monotonic
        self.renewals = Renewals()
        self.last_error: str | None = None

    @property
    def interval(self) -> float:
        """How often to campaign: three tries per TTL, so one lost round trip is survived."""
        return self.ttl / 3

    @property
    def leading(self) -> bool:
        """True while we hold the lease and our local deadline has not passed."""
        if self._deadline is None:
            return False
        if self.clock.monotonic() >= self._deadline:
            self._step_down("the local deadline passed without a renew")
            return False
        return True

    def attempt(self) -> bool:
        """Acquire or renew, once; whether we lead afterwards (errors: we do not)."""
        renewing = self.leading
        started = self.clock.monotonic()  # before the statement: the deadline errs early
        params = {
            "name": self.name,
            "holder": self.node,
            "ttl": self.ttl,
            "advertise": self.advertise,
            "renewing": renewing,
            "fence": self.fence if renewing else 0,
        }
        try:
            row = self._connection().execute(CAMPAIGN_SQL, params).fetchone()
        except Exception as exc:
            self.renewals.error += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            self._drop_connection()
            if renewing:
                self._step_down(f"the renew failed ({self.last_error})")
            return False
        self.last_error = None
        if row is None:
            if renewing:
                self.renewals.lost += 1
                self._step_down("another node holds the lease")
            else:
                self.renewals.refused += 1
            return False
        fence, expires = row
        if renewing and fence == self.fence:
            self.renewals.renewed += 1
        else:
            if renewing:  # our row expired on the database and we took it anew: a new term
                self._step_down("the lease expired on the database before the renew")
            self.renewals.acquired += 1
            log.info("%s leads (lease fence %d)", self.node, fence)
        self.fence, self.expires = int(fence), float(expires)
        self._deadline = started + self.ttl * (1 - MARGIN_SHARE)
        return True

    def deadline_in(self) -> float | None:
        """Seconds until the local deadline (None: not leading)."""
        if self._deadline is None:
            return None
        return self._deadline - self.clock.monotonic()

    def release(self) -> None:
        """Give the lease up at shutdown, so a follower need not wait out the TTL."""
        fence, self.fence = self.fence, None
        self._deadline = None
        if fence is None:
            return
        try:
            self._connection().execute(
                "UPDATE leases SET expires = 0 WHERE name = %s AND holder = %s AND fence = %s",
                (self.name, self.node, fence),
            )
        except Exception:
            log.warning("could not release the lease", exc_info=True)
            self._drop_connection()

    def current(self) -> Term | None:
        """Who holds an unexpired lease now, on the database's clock (None: nobody)."""
        try:
            row = self._connection().execute(HOLDER_SQL, (self.name,)).fetchone()
        except Exception:
            self._drop_connection()  # the next round connects again
            raise
        if row is None or row[2] <= row[4]:
            return None
        return Term(holder=row[0], fence=int(row[1]), expires=float(row[2]), advertise=row[3])

    def guard(self, conn: Connection) -> None:
        """The first statement of every write transaction while leading: refuse it (FencedError)
        unless this node still holds the lease under its fence."""
        fence = self.fence
        if fence is None or not self.leading:
            raise FencedError(f"{self.node} does not hold the leader lease")
        if conn.execute(GUARD_SQL, (self.name, self.node, fence)).fetchone() is None:
            raise FencedError(f"{self.node}'s lease fence {fence} is no longer current")

    def close(self) -> None:
        """Close the lease's own connection."""
        self._drop_connection()

    def _connection(self) -> Connection:
        if self._conn is None:
            self._conn = self._connect()
        return self._conn

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()  # type: ignore[attr-defined]
            except Exception:
                log.debug("closing the lease connection failed", exc_info=True)

    def _step_down(self, why: str) -> None:
        if self._deadline is not None:
            log.warning("%s stops leading: %s", self.node, why)
        self.fence = None
        self._deadline = None
