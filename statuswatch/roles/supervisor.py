"""The supervisor `statuswatch run` is by default: one monitor process, `site.workers` web ones.

It binds the site's port once and hands the socket to every web worker (the kernel gives each
new connection to one of them, and a worker's death loses only the connections it had
accepted); it starts the monitor first and the web workers once the monitor's socket answers;
it restarts whichever process dies (logged, with a growing pause when one keeps dying at
start); SIGTERM or SIGINT stop the web workers first, then the monitor, each cleanly; killed
outright, it takes its children with it (roles/supervised.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from statuswatch.config import Config
from statuswatch.roles.forward import monitor_socket
from statuswatch.roles.supervised import SUPERVISOR_ENV

log = logging.getLogger("statuswatch.supervisor")

# A process that lived less than this before dying counts as failing at start: each further
# such death doubles the pause before the next start, up to MAX_PAUSE.
HEALTHY_AFTER = 10.0
FIRST_PAUSE = 0.5
MAX_PAUSE = 30.0
# How long a clean stop may take before the process is killed: web workers finish their
# requests in flight; the monitor commits what is queued.
WEB_STOP = 10.0
MONITOR_STOP = 30.0


@dataclass
class Child:
    """One supervised process: how to start it, and its current incarnation."""

    name: str
    argv: list[str]
    env: dict[str, str]
    pass_fds: tuple[int, ...] = ()
    proc: asyncio.subprocess.Process | None = None
    started: float = 0.0
    quick_deaths: int = 0
    restarts: int = 0
    exited: asyncio.Event = field(default_factory=asyncio.Event)

    def pause(self, lived: float) -> float:
        """The pause before starting again after a death `lived` seconds after its start."""
        self.quick_deaths = self.quick_deaths + 1 if lived < HEALTHY_AFTER else 0
        return min(MAX_PAUSE, FIRST_PAUSE * 2 ** max(0, self.quick_deaths - 1))


def describe_exit(code: int) -> str:
    """How a process ended, in words ("was killed by SIGKILL", "exited with status 1")."""
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"was killed by {name}"
    return f"exited with status {code}"


class Supervisor:
    """Starts, watches, restarts and stops the monitor and the web workers."""

    def __init__(self, monitor: Child, workers: list[Child], socket_path: Path) -> None:
        self.monitor = monitor
        self.workers = workers
        self.socket_path = socket_path
        self.stopping = asyncio.Event()

    async def run(self) -> int:
        """Until SIGTERM or SIGINT; the exit status (the monitor's, if it cannot start)."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        keepers = [asyncio.create_task(self._keep(self.monitor))]
        ready = await self._monitor_ready()
        if ready is not None:  # the monitor could not start (bad config, database refused)
            self.stopping.set()
            await asyncio.gather(*keepers, return_exceptions=True)
            return ready
        keepers += [asyncio.create_task(self._keep(w)) for w in self.workers]
        log.info("supervising the monitor and %d web workers", len(self.workers))
        await self.stopping.wait()
        log.info("stopping: the web workers first, then the monitor")
        await asyncio.gather(*(self._stop(w, WEB_STOP) for w in self.workers))
        await self._stop(self.monitor, MONITOR_STOP)
        await asyncio.gather(*keepers, return_exceptions=True)
        return 0

    async def _monitor_ready(self) -> int | None:
        """Wait until the monitor's socket answers; its exit status if it died first."""
        looks = 0
        while not self.stopping.is_set():
            proc = self.monitor.proc
            if proc is not None and proc.returncode is not None and self.monitor.restarts == 0:
                return proc.returncode or 1
            if _answers(self.socket_path):
                return None
            await asyncio.sleep(0.1)
            looks += 1
            if looks % 300 == 0:  # a large fleet takes a while to resume: say it is waiting
                log.info("waiting for the monitor to start (%d s)", looks // 10)
        return 0

    async def _keep(self, child: Child) -> None:
        """Run `child`, starting it again whenever it dies, until stopping."""
        while not self.stopping.is_set():
            child.exited.clear()
            child.proc = await asyncio.create_subprocess_exec(
                *child.argv, env=child.env, pass_fds=child.pass_fds
            )
            child.started = time.monotonic()
            code = await child.proc.wait()
            child.exited.set()
            if self.stopping.is_set():
                return
            lived = time.monotonic() - child.started
            pause = child.pause(lived)
            if child is self.monitor and child.restarts == 0 and code == 2:
                return  # bad config or input: starting again cannot help (run() reports it)
            log.warning(
                "%s (pid %d) %s after %.1f s; starting it again in %.1f s",
                child.name,
                child.proc.pid,
                describe_exit(code),
                lived,
                pause,
            )
            child.restarts += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), pause)

    async def _stop(self, child: Child, grace: float) -> None:
        """SIGTERM, then SIGKILL after `grace` seconds."""
        proc = child.proc
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), grace)
        except TimeoutError:
            log.warning("%s (pid %d) did not stop in %.0f s: killed", child.name, proc.pid, grace)
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()


def _answers(path: Path) -> bool:
    """True when something accepts connections on the Unix socket at `path`."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except OSError:
        return False
    finally:
        probe.close()
    return True


def supervise(args: argparse.Namespace, config: Config, listen: str) -> int:
    """Bind the site's port, then run the monitor and `site.workers` web workers under it."""
    from statuswatch.cli.limits import MAX_BACKLOG
    from statuswatch.cli.run import LISTEN_FD_ENV, WORKER_ENV, bind_tcp

    try:
        sock = bind_tcp(listen, reuse_port=False, backlog=MAX_BACKLOG)
    except OSError as exc:
        print(f"statuswatch: site.listen: cannot listen on {listen}: {exc}", file=sys.stderr)
        return 1
    base = [sys.executable, "-m", "statuswatch", "run", "-c", args.config]
    base += ["--log-level", args.log_level]
    env = dict(os.environ)
    env.pop(LISTEN_FD_ENV, None)
    env[SUPERVISOR_ENV] = str(os.getpid())  # each child ends with this process
    monitor = Child("monitor", [*base, "--role", "monitor"], env)
    workers = [
        Child(
            f"web worker {i}",
            [*base, "--role", "web"],
            {**env, LISTEN_FD_ENV: str(sock.fileno()), WORKER_ENV: str(i)},
            pass_fds=(sock.fileno(),),
        )
        for i in range(1, config.site.workers + 1)
    ]
    try:
        return asyncio.run(Supervisor(monitor, workers, monitor_socket(config)).run())
    finally:
        sock.close()
