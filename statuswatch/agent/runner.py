"""`statuswatch agent`: probe the monitors the server hands out, spool, upload, keep going.

Three loops: the poll (every `poll` seconds: this agent's monitors, and its heartbeat), the
probes (the central process's ProbeScheduler and run_probe, so the same deadlines and phases),
and the upload (COALESCE after a result comes, or every UPLOAD_EVERY seconds). Every result
goes to the spool first (committed within COMMIT_EVERY, those of one moment together); the
server unreachable, the agent keeps probing the monitors it last had and the spool grows, then
drains oldest first with the original check times, in bodies as full as the server takes.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass

import aiohttp
import msgspec

from statuswatch.agent.client import Assignment, ServerClient, ServerError
from statuswatch.agent.spool import Spool
from statuswatch.agent.wire import MAX_BODY, MAX_RESULTS, ResultIn, result_in
from statuswatch.clock import Clock
from statuswatch.config.model import Monitor
from statuswatch.monitor.scheduler import ProbeScheduler
from statuswatch.probes import ProbeContext, run_probe

log = logging.getLogger(__name__)

UPLOAD_EVERY = 1.0
BATCH = MAX_RESULTS  # results per upload, as many as fit in the server's body cap
# Bytes of results per upload: the cap less the envelope (location, agent id, sent_at).
BATCH_BYTES = MAX_BODY - 1024
# Results taken are committed to the spool this soon, all in one transaction (spool.py: what a
# kill -9 can lose); the upload commits first too, so it sends nothing that is not spooled.
COMMIT_EVERY = 0.05
BACKOFF_MAX = 5.0  # a server back after a partition is found within this long
# A result wakes the upload, which then waits this long so the results of the same moment share
# its request: an upload per result cost the agent and the server a request and a commit each,
# and at 10,000 monitors a minute 0.1 s still made ~15 results an upload, the central process
# then spending more per upload than per result. A quarter second is small beside an interval.
COALESCE = 0.25
_RESULT_INDEX = re.compile(r"results\[(\d+)\]")


@dataclass(frozen=True, slots=True)
class AgentSettings:
    """What `statuswatch agent` was started with."""

    server: str
    location: str
    agent_id: str
    token: str
    spool: str
    ca_file: str | None = None
    poll: float = 10.0
    max_in_flight: int = 512
    max_lateness: float = 10.0


class Agent:
    """One agent process's work: poll, probe, spool, upload."""

    def __init__(self, settings: AgentSettings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.client = ServerClient(settings.server, settings.token, ca_file=settings.ca_file)
        self.spool = Spool(settings.spool)
        self.ctx = ProbeContext(clock, max_connections=settings.max_in_flight, trust_env=True)
        self.generation: str | None = None
        self.monitors: list[Monitor] = []
        self._scheduler: ProbeScheduler | None = None
        self._wake = asyncio.Event()
        self._reachable: bool | None = None
        self._batch = BATCH
        self._commit_due: asyncio.TimerHandle | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Run until `stop` is set; then upload what it can (briefly) and close."""
        tasks = [asyncio.create_task(self._poll_loop()), asyncio.create_task(self._upload_loop())]
        try:
            await stop.wait()
        finally:
            if self._scheduler is not None:
                await self._scheduler.stop()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            try:
                async with asyncio.timeout(2.0):
                    await self._upload_spooled()
            except (TimeoutError, OSError, aiohttp.ClientError, ServerError):
                pass  # what is left stays spooled for the next start
            await self.ctx.close()
            await self.client.close()
            self.spool.close()  # commits what is left

    async def _poll_loop(self) -> None:
        while True:
            try:
                assignment = await self.client.monitors(
                    self.settings.agent_id, self.settings.poll, known=self.generation
                )
            except (OSError, TimeoutError, aiohttp.ClientError, ServerError) as exc:
                self._note_reachable(False, exc)
            else:
                self._note_reachable(True)
                await self._assign(assignment)
            await asyncio.sleep(self.settings.poll)

    async def _assign(self, assignment: Assignment) -> None:
        """Probe what the server assigned, when it changed (phases are stable across a change)."""
        if assignment.monitors is None or assignment.generation == self.generation:
            return
        skew = self.clock.time() - assignment.server_time
        if abs(skew) > 5:
            log.warning("this host's clock is %.1fs off the server's: check times will be", skew)
        self.generation, self.monitors = assignment.generation, assignment.monitors
        s = self.settings
        if self._scheduler is not None:
            await self._scheduler.stop()  # a run in flight is cut short: its slot is skipped
        self._scheduler = ProbeScheduler(
            assignment.monitors,
            self._run_one,
            clock=self.clock,
            max_in_flight=s.max_in_flight,
            max_lateness=s.max_lateness,
        )
        self._scheduler.start()
        ids = ", ".join(m.id for m in assignment.monitors) or "none"
        log.info("location %s: probing %s", s.location, ids)

    async def _run_one(self, monitor: Monitor, lateness: float) -> None:
        result = await run_probe(monitor, self.ctx, lateness=lateness)
        if result is not None:
            self.keep(result_in(result))

    def keep(self, body: ResultIn | dict) -> None:
        """Spool one result (its upload shape) within COMMIT_EVERY, and wake the upload."""
        self.spool.add(body.time if isinstance(body, ResultIn) else body["time"], body)
        if self._commit_due is None:
            self._commit_due = asyncio.get_running_loop().call_later(COMMIT_EVERY, self._commit)
        self._wake.set()

    def _commit(self) -> None:
        if self._commit_due is not None:
            self._commit_due.cancel()
            self._commit_due = None
        try:
            self.spool.commit()
        except Exception:  # a full disk, say: kept in memory, retried at the next result
            log.exception("spool commit failed; %d results wait in memory", self.spool.uncommitted)

    async def _upload_loop(self) -> None:
        backoff = UPLOAD_EVERY
        while True:
            if backoff > UPLOAD_EVERY:  # unreachable: new results wait for the back-off
                await asyncio.sleep(backoff)
            else:
                try:
                    async with asyncio.timeout(backoff):
                        await self._wake.wait()
                except TimeoutError:
                    pass
                else:
                    await asyncio.sleep(COALESCE)
            self._wake.clear()
            try:
                await self._upload_spooled()
            except (OSError, TimeoutError, aiohttp.ClientError, ServerError) as exc:
                self._note_reachable(False, exc)
                backoff = min(BACKOFF_MAX, backoff * 2)
            else:
                backoff = UPLOAD_EVERY

    async def _upload_spooled(self) -> None:
        """Upload the spool, oldest first, until it is empty; a failure leaves the rest."""
        self._commit()
        while batch := self.spool.oldest(self._batch, BATCH_BYTES):
            ids = [rid for rid, _ in batch]
            try:
                counts = await self.client.upload(self._envelope([body for _, body in batch]))
            except ServerError as exc:
                if not self._refused(exc, ids):
                    raise
                continue
            self._note_reachable(True)
            self.spool.remove(ids)  # acknowledged: only now may they go
            self._batch = BATCH
            log.debug("uploaded %s", counts)

    def _envelope(self, results: list[bytes]) -> bytes:
        """The upload's JSON, the spooled bodies joined as they are (none decoded)."""
        head = msgspec.json.encode(
            {
                "location": self.settings.location,
                "agent": self.settings.agent_id,
                "sent_at": time.time(),
            }
        )
        return b"".join((head[:-1], b',"results":[', b",".join(results), b"]}"))

    def _refused(self, exc: ServerError, ids: list[int]) -> bool:
        """Handle an answer no retry can change; False when retrying later may help."""
        if exc.status == 413 and len(ids) > 1:
            self._batch = max(1, len(ids) // 2)
            return True
        if exc.status in (413, 422):
            # Results the server will never take (a monitor no longer probed from here, a
            # result too large): dropped with a log line, so they cannot block the rest.
            named = {int(i) for i in _RESULT_INDEX.findall(exc.text)} if exc.status == 422 else ()
            dropped = [rid for i, rid in enumerate(ids) if i in named] or ids
            log.error("server refused %d results, dropped: %s", len(dropped), exc)
            self.spool.remove(dropped)
            return True
        return False

    def _note_reachable(self, ok: bool, exc: BaseException | None = None) -> None:
        if ok and self._reachable is not True:
            log.info(
                "server %s reachable; %d results spooled", self.settings.server, len(self.spool)
            )
        elif not ok and self._reachable is not False:
            log.warning(
                "server %s unreachable (%s): probing on, results spooled",
                self.settings.server,
                exc,
            )
        self._reachable = ok


def run_agent(settings: AgentSettings) -> int:
    """Run an agent until SIGTERM or SIGINT; the exit status."""
    import signal

    from statuswatch.cli.event_loop import new_event_loop
    from statuswatch.clock import SystemClock

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        log.info(
            "agent %s of location %s: server %s, spool %s",
            settings.agent_id,
            settings.location,
            settings.server,
            settings.spool,
        )
        await Agent(settings, SystemClock()).run(stop)

    loop = new_event_loop()
    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
    return 0
