"""The node's campaign: renew (or take) the lease every third of its TTL, start the leader's
work when elected and stop it when the lease is lost, before the TTL ends anywhere.

The work is stopped as soon as a renew finds another holder, and independently when the local
deadline passes while a renew is still hanging (a partition): a watchdog wakes at the deadline.
Meanwhile the store's guard refuses every write of a node whose fence is not current, so even a
leader paused mid-write cannot land a stale batch.

A leader cut off from the database (its renews fail) keeps its work running when the deadline
passes: the term is suspended (cluster/lease.py), its writes held. Every round tries to continue
it; continued, the work goes on under the next fence, never restarted; refused, it is stopped,
and the stop's flush meets the guard's refusal, so the held writes are dropped. The next term
is attempted only after that stop has returned: no write of the old term commits under it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable

from statuswatch.cluster.lease import Lease, Term

log = logging.getLogger(__name__)

Work = Callable[[], Awaitable[None]]


class Campaign:
    """Keeps `lease`, running `elected` when a term starts and `deposed` when it ends."""

    def __init__(
        self, lease: Lease, *, elected: Work, deposed: Work, continued: Work | None = None
    ) -> None:
        self.lease = lease
        self._elected = elected
        self._deposed = deposed
        self._continued = continued
        self.term: int | None = None  # the fence of the term whose work is running
        self._started = False  # the term's work has finished starting
        self.known: Term | None = None  # who leads, as of the last round (forwarding's target)
        self._task: asyncio.Task[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._turn = asyncio.Lock()  # one start or stop of the work at a time

    @property
    def leading(self) -> bool:
        """True while the leader's work runs under a term (current, or suspended)."""
        return self.term is not None

    @property
    def serving(self) -> bool:
        """True while the work runs (started, not starting: a monitor with no tracker yet cannot
        take its results) and the last round had the database's answer: the write routes are
        taken here (a cut-off node's would be held, and maybe dropped)."""
        return self._started and self.lease.state == "leading" and not self.lease.cut_off

    async def step(self) -> None:
        """One campaign round: stop stale work, renew, acquire or continue, start or stop the
        work."""
        await self.check_deadline()
        await asyncio.to_thread(self.lease.attempt)
        lease = self.lease
        fence = lease.fence if lease.leading else None
        suspended = lease.suspended is not None
        if fence is not None and not lease.cut_off:
            self.known = self._ours()
        else:  # a follower asks who leads; a cut-off node knows nobody it could forward to
            self.known = None if fence is not None or suspended else await self._read_leader()
        async with self._turn:
            if self.term is not None and fence is not None and lease.continues == self.term:
                self.term = fence  # the work goes on (the lease logged the continuation)
                if self._continued is not None:
                    await self._continued()
            elif self.term is not None and fence != self.term and not suspended:
                await self._stop_work()
            if fence is not None and self.term is None:
                self.term = fence
                try:
                    async with self._renewing():
                        await self._elected()
                    self._started = True
                except Exception:
                    log.exception("the leader's work failed to start; stepping down")
                    await self._stop_work()
                    await asyncio.to_thread(self.lease.release)

    @contextlib.asynccontextmanager
    async def _renewing(self) -> AsyncIterator[None]:
        """Renew from a thread of its own while the leader's work starts: for a large fleet the
        start takes longer than a renew interval, much of it on the event loop, and a lease not
        renewed meanwhile would lapse under it, to be taken again and started over, forever."""
        done = threading.Event()
        lease = self.lease

        def keep() -> None:
            while not done.wait(lease.interval) and lease.leading:
                lease.attempt()

        keeper = threading.Thread(target=keep, name="lease-renew-while-starting", daemon=True)
        keeper.start()
        try:
            yield
        finally:
            done.set()
            await asyncio.to_thread(keeper.join)  # the lease's connection is the campaign's again

    async def _read_leader(self) -> Term | None:
        return await asyncio.to_thread(self._leader)

    def _leader(self) -> Term | None:
        try:
            return self.lease.current()
        except Exception:
            return None

    def _ours(self) -> Term:
        lease = self.lease
        assert lease.fence is not None and lease.expires is not None
        return Term(lease.node, lease.fence, lease.expires, lease.advertise)

    async def check_deadline(self) -> None:
        """Stop the leader's work if the local deadline passed without a renew (not when the
        term is suspended: cut off, the work goes on, its writes held)."""
        if self.term is not None and not self.lease.leading and self.lease.suspended is None:
            async with self._turn:
                if self.term is not None and self.lease.suspended is None:
                    await self._stop_work()

    async def start(self) -> None:
        """Campaign until stopped (the first round runs before this returns)."""
        await self.step()
        self._task = asyncio.create_task(self._campaign(), name="lease-campaign")
        self._watchdog = asyncio.create_task(self._watch(), name="lease-deadline")

    async def stop(self) -> None:
        """Stop campaigning and the leader's work; give the lease up for a quick takeover."""
        for task in (self._task, self._watchdog):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self.lease.abandon()  # held writes cannot outlive the process: refused, not retried
        async with self._turn:
            if self.term is not None:
                await self._stop_work()
        await asyncio.to_thread(self.lease.release)
        await asyncio.to_thread(self.lease.close)

    async def _campaign(self) -> None:
        while True:
            await asyncio.sleep(self.lease.interval)
            try:
                await self.step()
            except Exception:
                log.exception("lease campaign round failed")

    async def _watch(self) -> None:
        while True:
            remaining = self.lease.deadline_in()
            await asyncio.sleep(self.lease.interval if remaining is None else max(remaining, 0))
            await self.check_deadline()

    async def _stop_work(self) -> None:
        log.warning("%s: stopping the leader's work (term %s)", self.lease.node, self.term)
        self.term = None
        self._started = False
        try:
            await self._deposed()
        except Exception:
            log.exception("stopping the leader's work failed")
