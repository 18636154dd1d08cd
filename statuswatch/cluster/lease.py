"""The leader lease: one row in PostgreSQL, timed by the database's clock, with a fence.

Acquire and renew are ONE statement, so two nodes can never both believe they took it: the row
is free or expired (taken, fence + 1), or ours with our fence and unexpired (renewed, fence
kept), or someone else's (no row returned). Expiry is judged on the database's clock only, so
the nodes' clocks never have to agree. Each node also keeps a LOCAL monotonic deadline, counted
from before it sent the renew that succeeded: it stops leading when that passes, which is
before the row expires on the database (the row's expiry is counted from later, on its clock).

A term that continues across a database outage. A leader whose renews get no answer (the
connection refused, lost or timed out) is cut off, which is not the same as having lost the
lease: when its local deadline passes its term is SUSPENDED, open in memory only. Nothing it
decides leaves the node meanwhile: the guard refuses every write transaction with a transient
error (SuspendedError), so the writer holds the batches in its bounded queue, and mail and
webhooks leave only from the outbox, a table. Every round it tries to continue the term with
one statement that takes the row only while it still carries this node's name and the
suspended fence; every take raises the fence, so that means no other node led in between. Then
the term continues under fence + 1 and the held writes land. Otherwise (another node holds the
row, or led and released it meanwhile) the term is over: the node steps down and the guard
refuses the held writes for good (FencedError: dropped, counted).

Followers do not race a cut-off leader when the database returns for everyone: a node that saw
a database error within the last TTL only reads the lease for its first two answered rounds
after it (two renew intervals, in which the cut-off leader, trying every round, continues its
term) before it may take an expired row. A follower that saw no error (the leader died, the
database did not) takes an expired row at once, as before.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from statuswatch.clock import Clock
from statuswatch.store.errors import FencedError, SuspendedError

log = logging.getLogger(__name__)

LEADER = "leader"
# The local deadline ends this share of the TTL early: room for the two clocks' rates to
# differ (NTP slews by at most 0.05 %) and for the renew's own round trip.
MARGIN_SHARE = 0.1
# Answered rounds a follower that saw database errors within the last TTL only reads the lease,
# leaving a cut-off leader the time to continue its term (see the module's docstring).
FIRST_READS = 2
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
# A suspended term continues only on the row it left: this node's name and fence (any other
# node's take would have raised the fence), expired or not. Fence + 1: a new term that directly
# follows ours, so a write still waiting under the old fence is refused as ever.
CONTINUE_SQL = """
WITH t AS (SELECT extract(epoch from clock_timestamp())::float8 AS now)
UPDATE leases AS l SET fence = l.fence + 1, expires = t.now + %(ttl)s, advertise = %(advertise)s
FROM t
WHERE l.name = %(name)s AND l.holder = %(holder)s AND l.fence = %(fence)s
RETURNING l.fence, l.expires
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
    continued: int = 0  # a suspended term went on under the next fence
    deferred: int = 0  # a follower that saw errors only read the lease (FIRST_READS)


def cut_off_errors() -> tuple[type[BaseException], ...]:
    """The errors that mean "no answer from the database" (not "another node holds it")."""
    import psycopg  # loaded only for PostgreSQL

    return (psycopg.OperationalError, OSError)


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
        self.suspended: int | None = None  # the fence of our term while it is suspended
        self.continues: int | None = None  # the fence this term directly follows, if any
        self._cut_off_errors = cut_off_errors()
        self._cut_off = False  # the last round got no answer from the database
        self._error_at: float | None = None  # local monotonic, the last round without answer
        self._answered = 0  # rounds answered since then
        self._passing = threading.Lock()  # the deadline passes once

    @property
    def interval(self) -> float:
        """How often to campaign: three tries per TTL, so one lost round trip is survived."""
        return self.ttl / 3

    @property
    def leading(self) -> bool:
        """True while we hold the lease and our local deadline has not passed."""
        with self._passing:  # the campaign's thread and the writer's (the guard) both ask
            if self._deadline is None:
                return False
            if self.clock.monotonic() >= self._deadline:
                if self._cut_off:
                    self._suspend()
                else:
                    self._step_down("the local deadline passed without a renew")
                return False
            return True

    @property
    def cut_off(self) -> bool:
        """True while the last round got no answer from the database."""
        return self._cut_off

    @property
    def state(self) -> str:
        """ "leading", "suspended" (cut off, the term open in memory) or "following"."""
        if self.leading:
            return "leading"
        return "following" if self.suspended is None else "suspended"

    def attempt(self) -> bool:
        """Acquire, renew or continue, once; whether we lead afterwards (errors: we do not)."""
        renewing = self.leading
        suspended = self.suspended
        started = self.clock.monotonic()  # before the statement: the deadline errs early
        if suspended is None and not renewing and self._recovering(started):
            self._read_first()
            return False
        params = {
            "name": self.name,
            "holder": self.node,
            "ttl": self.ttl,
            "advertise": self.advertise,
            "renewing": renewing,
            "fence": suspended if suspended is not None else self.fence if renewing else 0,
        }
        sql = CAMPAIGN_SQL if suspended is None else CONTINUE_SQL
        try:
            row = self._connection().execute(sql, params).fetchone()
        except Exception as exc:
            self._no_answer(exc, renewing)
            return False
        self._answer()
        if suspended is not None:
            return self._continue(row, suspended, started)
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
            self.continues = None
            log.info("%s leads (lease fence %d)", self.node, fence)
        self._hold(int(fence), float(expires), started)
        return True

    def _hold(self, fence: int, expires: float, started: float) -> None:
        self.fence, self.expires = fence, expires
        self._deadline = started + self.ttl * (1 - MARGIN_SHARE)

    def _continue(self, row: Any, suspended: int, started: float) -> bool:
        """The suspended term's answer: continued under fence + 1, or over."""
        if row is None:
            self.renewals.lost += 1
            self.suspended = None  # the guard refuses the held writes from now on
            log.warning(
                "%s: term %d is over: another node led while it was cut off from the database; "
                "its held writes are dropped",
                self.node,
                suspended,
            )
            return False
        fence, expires = row
        self.continues = suspended
        self._hold(int(fence), float(expires), started)
        self.suspended = None  # last: the guard passes only with the new fence in place
        self.renewals.continued += 1
        log.warning(
            "%s: the database answers again; term %d continues as lease fence %d, the held "
            "writes land",
            self.node,
            suspended,
            fence,
        )
        return True

    def _no_answer(self, exc: Exception, renewing: bool) -> None:
        self.renewals.error += 1
        self.last_error = f"{type(exc).__name__}: {exc}"
        self._drop_connection()
        self._error_at = self.clock.monotonic()
        self._answered = 0
        # Cut off, the term holds until the local deadline, then is suspended; any other error
        # is an answer of sorts (a bug, a refused statement): leadership ends at once.
        self._cut_off = isinstance(exc, self._cut_off_errors)
        if renewing and not self._cut_off:
            self._step_down(f"the renew failed ({self.last_error})")

    def _answer(self) -> None:
        self.last_error = None
        self._cut_off = False
        self._answered += 1

    def _recovering(self, now: float) -> bool:
        """A follower that saw database errors within the last TTL reads the lease first."""
        return (
            self._error_at is not None
            and now - self._error_at < self.ttl
            and self._answered < FIRST_READS
        )

    def _read_first(self) -> None:
        try:
            self._connection().execute(HOLDER_SQL, (self.name,)).fetchone()
        except Exception as exc:
            self._no_answer(exc, renewing=False)
            return
        self._answer()
        self.renewals.deferred += 1

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

    def abandon(self) -> None:
        """End a suspended term without asking the database (the node stops): the guard
        refuses its held writes from now on, so they are dropped instead of waiting forever."""
        if (suspended := self.suspended) is not None:
            self.suspended = None
            log.warning("%s: term %d abandoned while suspended", self.node, suspended)

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
        unless this node still holds the lease under its fence; while its term is suspended,
        hold it (SuspendedError: the writer retries it)."""
        # Read before the fence: a continuation sets the new fence first, then clears this.
        suspended = self.suspended
        fence = self.fence
        if fence is None or not self.leading:  # `leading` may suspend the term just now
            if suspended is not None or (suspended := self.suspended) is not None:
                raise SuspendedError(f"{self.node}'s term {suspended} is suspended (cut off)")
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

    def _suspend(self) -> None:
        self.suspended = self.fence
        self.fence = None
        self._deadline = None
        log.warning(
            "%s: cut off from the database past its local deadline (%s); term %s suspended, "
            "its writes held in memory",
            self.node,
            self.last_error,
            self.suspended,
        )

    def _step_down(self, why: str) -> None:
        if self._deadline is not None:
            log.warning("%s stops leading: %s", self.node, why)
        self.fence = None
        self._deadline = None
        self.continues = None
