"""Shared pieces of the probe benchmark: process accounting, quantiles, a fixed-rate driver.

The contender scripts (_bench_bare.py, _bench_blackbox.py, _bench_statuswatch.py) each run in
their own process and print one line `RESULT {json}` that bench/probes.py collects.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

CLK_TCK = os.sysconf("SC_CLK_TCK")
RESULT_PREFIX = "RESULT "


def proc_cpu(pid: int | str = "self") -> float:
    """User + system CPU seconds of a process, all its threads included (not its children)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # After the ")" closing the command name, utime and stime are fields 12 and 13 (0-based 11, 12).
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def thread_cpu(names: dict[int, str] | None = None) -> dict[str, float]:
    """CPU seconds per thread of this process, by Python thread name where known."""
    names = names or {}
    out: dict[str, float] = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            cpu = proc_cpu(f"self/task/{tid}")
        except OSError:  # the thread ended meanwhile
            continue
        name = names.get(int(tid), "other threads")
        out[name] = out.get(name, 0.0) + cpu
    return out


def proc_mem_mb(pid: int | str = "self") -> tuple[float, float]:
    """(current RSS, peak RSS) of a process in MiB, from /proc/<pid>/status."""
    values = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (the benchmark never listens or connects anywhere else)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lateness_summary(samples: list[float]) -> dict[str, float | None]:
    """p50 / p99 / max of lateness samples (seconds in), in milliseconds."""
    if not samples:
        return {"p50_ms": None, "p99_ms": None, "max_ms": None, "samples": 0}
    ordered = sorted(samples)
    n = len(ordered)

    def q(p: float) -> float:
        return round(ordered[min(n - 1, int(p * n))] * 1000, 2)

    return {"p50_ms": q(0.50), "p99_ms": q(0.99), "max_ms": q(1.0), "samples": n}


def run_on_loop(main: Coroutine[Any, Any, dict], kind: str) -> dict:
    """Run `main` on the loop `statuswatch run` would use ("auto": uvloop when installed) or
    on the standard loop ("asyncio"); the result says which, so a comparison is like for like."""
    from statuswatch.cli.event_loop import loop_name, new_event_loop

    factory = new_event_loop if kind == "auto" else asyncio.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        result = runner.run(main)
        result["event_loop"] = loop_name(runner.get_loop())
    return result


def emit(result: dict) -> None:
    """Hand the result to bench/probes.py (the last RESULT line of stdout wins)."""
    print(RESULT_PREFIX + json.dumps(result), flush=True)


def watch_parent(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """Stop when the benchmark that started us is gone, so nothing is left running."""
    parent = os.getppid()

    def check() -> None:
        if os.getppid() != parent:
            stop.set()
        else:
            loop.call_later(1.0, check)

    loop.call_later(1.0, check)


@dataclass
class Counters:
    """What a driver has done so far; snapshotted at the window's edges."""

    ok: int = 0
    failed: int = 0
    skipped: int = 0
    lateness: list[float] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)

    @property
    def done(self) -> int:
        return self.ok + self.failed

    def fail(self, reason: str) -> None:
        self.failed += 1
        self.failures[reason] = self.failures.get(reason, 0) + 1


ProbeFn = Callable[[int], Awaitable[str | None]]  # monitor index -> None on success, else reason


async def fixed_rate(
    probe: ProbeFn,
    counters: Counters,
    *,
    monitors: int,
    interval: float,
    workers: int,
    max_lateness: float,
    stop_at: float,
) -> None:
    """Probe `monitors` targets each once per `interval`, evenly spread, until `stop_at`.

    Built like statuswatch's scheduler (one dispatcher, a bounded worker pool, late runs skipped
    rather than queued) so the comparison is about the per-probe work, not the dispatch design.
    """
    queue: asyncio.Queue[tuple[float, int]] = asyncio.Queue()
    spacing = interval / monitors

    async def worker() -> None:
        while True:
            due, index = await queue.get()
            lateness = time.monotonic() - due
            if lateness > max_lateness:
                counters.skipped += 1
                continue
            counters.lateness.append(lateness)
            try:
                reason = await probe(index)
            except Exception as exc:  # the driver must survive anything a probe raises
                reason = type(exc).__name__
            if reason is None:
                counters.ok += 1
            else:
                counters.fail(reason)

    tasks = [asyncio.create_task(worker()) for _ in range(workers)]
    try:
        due, index = time.monotonic(), 0
        while (now := time.monotonic()) < stop_at:
            while due <= now:
                queue.put_nowait((due, index))
                due += spacing
                index = (index + 1) % monitors
            await asyncio.sleep(max(0.0, due - time.monotonic()))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def fixed_schedule(probe: ProbeFn, counters: Counters, args) -> Coroutine[Any, Any, None]:
    """The fixed-rate run every contender makes for bench/probes.py: `--monitors` at
    `--interval` through `--workers`, until just past the warm-up and the measured window."""
    return fixed_rate(
        probe,
        counters,
        monitors=args.monitors,
        interval=args.interval,
        workers=args.workers,
        max_lateness=10.0,
        stop_at=time.monotonic() + args.warmup + args.duration + 0.5,
    )


def contender_result(
    window: dict, counters: Counters, *, pid: int | str = "self", lateness: bool = True
) -> dict:
    """One contender's figures: its measured window, its lateness (a fixed-rate run), what it
    skipped and why probes failed, and the memory of the process that probed (`pid`)."""
    rss, peak = proc_mem_mb(pid)
    return {
        **window,
        "lateness": lateness_summary(counters.lateness) if lateness else None,
        "skipped": counters.skipped,
        "failures": counters.failed,
        "failure_reasons": counters.failures,
        "rss_mb": round(rss, 1),
        "rss_peak_mb": round(peak, 1),
    }


async def saturate(
    probe: ProbeFn, counters: Counters, *, monitors: int, workers: int, stop_at: float
) -> None:
    """Probe as fast as `workers` concurrent loops can, until `stop_at`."""
    next_index = 0

    async def worker() -> None:
        nonlocal next_index
        while time.monotonic() < stop_at:
            index, next_index = next_index, (next_index + 1) % monitors
            try:
                reason = await probe(index)
            except Exception as exc:
                reason = type(exc).__name__
            if reason is None:
                counters.ok += 1
            else:
                counters.fail(reason)

    await asyncio.gather(*(worker() for _ in range(workers)))


async def measured_window(
    counters: Counters, cpu: Callable[[], float], *, warmup: float, duration: float
) -> dict:
    """Sleep through the warm-up, then measure probes and CPU over `duration` seconds."""
    await asyncio.sleep(warmup)
    t0, c0, n0 = time.monotonic(), cpu(), counters.done
    await asyncio.sleep(duration)
    t1, c1, n1 = time.monotonic(), cpu(), counters.done
    probes = n1 - n0
    return {
        "window_s": round(t1 - t0, 3),
        "probes": probes,
        "probes_per_s": round(probes / (t1 - t0), 1),
        "cpu_s": round(c1 - c0, 3),
        "cpu_per_1k": round((c1 - c0) / probes * 1000, 4) if probes else None,
    }


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def contender_arguments(parser, *, warmup: float = 2.0, workers_help: str | None = None) -> None:
    """The options every contender takes from bench/probes.py (one place, one meaning)."""
    parser.add_argument("--base", required=True, help="target base URL (http://127.0.0.1:PORT)")
    parser.add_argument("--monitors", type=int, default=10_000)
    parser.add_argument("--interval", type=float, default=60.0)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=warmup)
    parser.add_argument("--workers", type=int, default=512, help=workers_help)
    parser.add_argument("--timeout", type=float, default=10.0)


class PostgresServer:
    """A throw-away PostgreSQL for a benchmark (the few lines of tests/helpers/postgres.py that
    matter here: bench/ does not import tests/): Debian's initdb and pg_ctl in a temporary
    directory, 127.0.0.1 on a free port, run as the `postgres` user when we are root. Durability
    settings stay at PostgreSQL's defaults (fsync, synchronous_commit on): a figure for
    production, unlike the tests' cluster."""

    def __init__(self, root: str) -> None:
        import glob
        import pwd

        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not found:
            raise RuntimeError(
                "PostgreSQL server is not installed (Debian: apt-get install postgresql)"
            )
        self.bindir = os.path.dirname(found[-1])
        self.root = root
        self.port = free_port()
        self._as = pwd.getpwnam("postgres") if os.geteuid() == 0 else None

    def _run(self, *args: str) -> None:
        import subprocess

        kwargs: dict[str, Any] = {}
        if self._as is not None:
            kwargs = {"user": self._as.pw_uid, "group": self._as.pw_gid, "extra_groups": []}
        cmd = [os.path.join(self.bindir, args[0]), *args[1:]]
        subprocess.run(cmd, check=True, capture_output=True, cwd=self.root, **kwargs)

    def start(self) -> str:
        """initdb and start; the URL of its `postgres` database."""
        if self._as is not None:
            os.chown(self.root, self._as.pw_uid, self._as.pw_gid)
        data = os.path.join(self.root, "data")
        self._run("initdb", "-D", data, "-U", "bench", "-A", "trust", "--no-sync")
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        log_file = os.path.join(self.root, "log")
        self._run("pg_ctl", "-D", data, "-o", opts, "-l", log_file, "-w", "start")
        return f"postgresql://bench@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        data = os.path.join(self.root, "data")
        self._run("pg_ctl", "-D", data, "-m", "fast", "-w", "stop")

    def cpu(self) -> float:
        """CPU seconds of the server so far: the postmaster and every backend it forked."""
        data = os.path.join(self.root, "data")
        with open(os.path.join(data, "postmaster.pid")) as f:
            postmaster = int(f.readline())
        total = 0.0
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/stat") as f:
                    parent = int(f.read().rsplit(")", 1)[1].split()[1])
                if int(pid) == postmaster or parent == postmaster:
                    total += proc_cpu(pid)
            except (OSError, ValueError):  # ended meanwhile
                continue
        return total
