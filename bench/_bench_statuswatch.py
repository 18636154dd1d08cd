"""statuswatch's real pipeline under a fixed probe rate, in a process of its own.

What runs is what `statuswatch run` runs: parse_config on a generated config, the Store on a
temporary database (writer thread, WAL), create_app (Monitoring, the probe scheduler,
housekeeping, the pages) served on a 127.0.0.1 port. The only additions are counters: a
Monitoring subclass that counts results and hooks the scheduler's lateness, installed where
create_app looks it up.

With --site-workers N (N > 0, as `statuswatch run` runs by default) this process is the monitor
role (create_app(role="monitor") on the monitor's Unix socket) and N real `statuswatch run
--role web` processes serve the site's port, started as the supervisor starts them
(_bench_roles.py); with 0, one process serves everything (site.workers = 0).

Timeline: start-up, --warmup, the measured window (--duration), then optionally --load-page
seconds with _bench_pageload.py fetching the pages from another process, measured separately.
Prints one RESULT line (see _bench_common.emit).
"""

from __future__ import annotations

import time

STARTED = time.time()  # before the heavy imports: they are part of start-up

import argparse  # noqa: E402
import asyncio  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
from pathlib import Path  # noqa: E402

from _bench_common import (  # noqa: E402
    RESULT_PREFIX,
    contender_arguments,
    free_port,
    lateness_summary,
    measured_window,
    proc_cpu,
    proc_mem_mb,
    run_on_loop,
    thread_cpu,
)
from _bench_roles import WebWorkers, monitor_listener, write_toml  # noqa: E402
from aiohttp import web  # noqa: E402

import statuswatch.web.app as web_app  # noqa: E402
from statuswatch.cli.gc_tuning import tune_gc  # noqa: E402
from statuswatch.clock import SystemClock  # noqa: E402
from statuswatch.config.loader import parse_config  # noqa: E402
from statuswatch.monitor.monitoring import Monitoring  # noqa: E402
from statuswatch.roles.forward import monitor_socket  # noqa: E402
from statuswatch.store import Store  # noqa: E402

IMPORTED = time.time()
HERE = Path(__file__).resolve().parent


class Recorder:
    """Counts results and lateness; the benchmark's only view into the pipeline."""

    def __init__(self) -> None:
        self.ok = 0
        self.failed = 0
        self.failures: dict[str, int] = {}
        self.lateness: list[float] = []  # swapped for a new list when the page load starts
        self.monitoring: Monitoring | None = None
        self.scheduled_wall = 0.0
        self.scheduled_mono = 0.0
        self.interval = 0.0
        self.first_round: dict[int, int] = {}  # second since scheduling -> runs started

    @property
    def done(self) -> int:
        return self.ok + self.failed

    def scheduled(self, monitoring: Monitoring) -> None:
        self.monitoring = monitoring
        self.scheduled_wall, self.scheduled_mono = time.time(), time.monotonic()
        assert monitoring.scheduler is not None
        monitoring.scheduler.on_lateness.append(self.on_lateness)

    def on_lateness(self, lateness: float) -> None:
        self.lateness.append(lateness)
        since = time.monotonic() - self.scheduled_mono
        if since < self.interval:
            second = int(since)
            self.first_round[second] = self.first_round.get(second, 0) + 1

    def on_result(self, result) -> None:
        if result.ok:
            self.ok += 1
        else:
            self.failed += 1
            reason = f"{result.error_class}: {result.message[:60]}"
            self.failures[reason] = self.failures.get(reason, 0) + 1


REC = Recorder()


class GcPauses:
    """How long the cyclic GC held the GIL (every thread, the event loop included, waits)."""

    def __init__(self) -> None:
        self.started: float | None = None
        self.pauses: list[tuple[int, float]] = []  # (generation, seconds)
        gc.callbacks.append(self.callback)

    def callback(self, phase: str, info: dict) -> None:
        if phase == "start":
            self.started = time.perf_counter()
        elif self.started is not None:
            self.pauses.append((info["generation"], time.perf_counter() - self.started))
            self.started = None

    def take(self) -> dict:
        """Pauses since the last take: count, total and longest per generation (ms)."""
        pauses, self.pauses = self.pauses, []
        out = {}
        for gen in (0, 1, 2):
            mine = [p for g, p in pauses if g == gen]
            if mine:
                out[f"gen{gen}"] = {
                    "count": len(mine),
                    "total_ms": round(1000 * sum(mine), 1),
                    "max_ms": round(1000 * max(mine), 1),
                }
        return out


GC = GcPauses()


class BenchMonitoring(Monitoring):
    async def start(self, *, probe: bool = True) -> None:
        await super().start(probe=probe)
        # No await between the scheduler's start and this line: no run can be missed.
        REC.scheduled(self)

    def handle_result(self, monitor, result, *args, **kwargs):
        REC.on_result(result)
        return super().handle_result(monitor, result, *args, **kwargs)


def build_config(args: argparse.Namespace, tmp: Path, web_port: int) -> dict:
    """The raw config (what a TOML file holds): N http monitors on the local target."""
    ms = lambda seconds: f"{round(seconds * 1000)}ms"  # noqa: E731 - durations are strings
    components = max(1, min(args.components, args.monitors))
    raw = {
        "site": {
            "title": "bench",
            "listen": f"127.0.0.1:{web_port}",
            "base_url": f"http://127.0.0.1:{web_port}",
            "workers": args.site_workers,
        },
        "storage": {"path": str(tmp / "bench.db")},
        "defaults": {"interval": ms(args.interval), "timeout": ms(args.timeout)},
        "probing": {"max_in_flight": args.workers, "max_lateness": "10s"},
        "components": [{"id": f"c{j}", "name": f"Component {j}"} for j in range(components)],
        "monitors": [
            {
                "kind": "http",
                "id": f"m{i:05d}",
                "component": f"c{i % components}",
                "url": f"{args.base}/m/{i}",
                "reuse_connections": args.reuse,
            }
            for i in range(args.monitors)
        ],
    }
    return raw


def first_round(rec: Recorder, observed: float, monitors: int) -> dict | None:
    """How evenly the first interval's runs were spread (None if it was not fully observed)."""
    if observed < rec.interval or not rec.first_round:
        return None
    seconds = math.ceil(rec.interval)
    return {
        "max_per_s": max(rec.first_round.values()),
        "mean_per_s": round(monitors / rec.interval, 1),
        "started": sum(rec.first_round.values()),
        "buckets": seconds,
    }


async def page_load(args: argparse.Namespace, web_port: int) -> dict:
    """Run the page load in its own process while measuring ourselves."""
    REC.lateness = []
    skipped0 = REC.monitoring.scheduler.stats.skipped  # type: ignore[union-attr]
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(HERE / "_bench_pageload.py"),
        "--base",
        f"http://127.0.0.1:{web_port}",
        "--paths",
        args.load_paths,
        "--workers",
        str(args.load_workers),
        "--duration",
        str(args.load_page),
        stdout=asyncio.subprocess.PIPE,
    )
    GC.take()
    web0 = WORKERS.cpu() if WORKERS else 0.0
    window = await measured_window(REC, proc_cpu, warmup=0, duration=args.load_page)
    window["gc"] = GC.take()
    if WORKERS:  # the monitor's CPU is cpu_s; the web workers' beside it
        window["web_cpu_s"] = round(WORKERS.cpu() - web0, 3)
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
    lines = [ln for ln in out.decode().splitlines() if ln.startswith(RESULT_PREFIX)]
    load = json.loads(lines[-1][len(RESULT_PREFIX) :]) if lines else {"error": "no result"}
    return {
        **window,
        "lateness": lateness_summary(REC.lateness),
        "skipped": REC.monitoring.scheduler.stats.skipped - skipped0,  # type: ignore[union-attr]
        "load": load,
    }


WORKERS: WebWorkers | None = None  # the web role's processes, with --site-workers N > 0
ENV = {"STATUSWATCH_ADMIN_TOKEN": "x"}


async def run(args: argparse.Namespace) -> dict:
    global WORKERS
    REC.interval = args.interval
    web_port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-statuswatch-") as tmpdir:
        tmp = Path(tmpdir)
        raw = build_config(args, tmp, web_port)
        config = parse_config(raw, base_dir=tmp)
        parsed = time.time()
        store = Store(config.storage.path, clock=SystemClock())
        await store.start()
        web_app.Monitoring = BenchMonitoring  # type: ignore[misc]  # counted, otherwise real
        role = "monitor" if args.site_workers else "all"
        app = web_app.create_app(config, store=store, environ=ENV, role=role)
        app.on_startup.append(web_app.freeze_startup_heap)  # as `statuswatch run` does
        tune_gc()  # as `statuswatch run` does
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()  # runs create_app's cleanup_ctx: Monitoring.start and housekeeping
        if args.site_workers:
            listener = monitor_listener(monitor_socket(config))
            await web.SockSite(runner, listener).start()
            WORKERS = WebWorkers(
                write_toml(raw, tmp / "bench.toml"), web_port, args.site_workers, ENV
            )
            await asyncio.to_thread(WORKERS.wait_ready)  # the probes go on meanwhile
        else:
            await web.TCPSite(runner, "127.0.0.1", web_port, backlog=1024).start()
        print(f"SCHEDULED {os.getpid()}", flush=True)  # probes.py may attach a profiler now
        startup = {
            "startup_s": round(REC.scheduled_wall - args.launched_at, 3),
            "imports_s": round(IMPORTED - args.launched_at, 3),
            "config_s": round(parsed - IMPORTED, 3),
            "store_and_start_s": round(REC.scheduled_wall - parsed, 3),
        }
        await asyncio.sleep(args.warmup)
        names = {t.native_id: t.name for t in threading.enumerate() if t.native_id}
        threads0 = thread_cpu(names)
        GC.take()
        window = await measured_window(REC, proc_cpu, warmup=0, duration=args.duration)
        window["gc"] = GC.take()
        threads1 = thread_cpu(names)
        # Which thread the CPU went to (the event loop vs the store's writer thread).
        window["cpu_per_1k_by_thread"] = {
            name: round((cpu - threads0.get(name, 0.0)) / window["probes"] * 1000, 4)
            for name, cpu in threads1.items()
            if window["probes"] and cpu - threads0.get(name, 0.0) > 0
        }
        sched = REC.monitoring.scheduler  # type: ignore[union-attr]
        rss, peak = proc_mem_mb()
        result = {
            **window,
            **startup,
            "lateness": lateness_summary(REC.lateness),
            "skipped": sched.stats.skipped,
            "skipped_late": sched.stats.skipped_late,
            "skipped_in_flight": sched.stats.skipped_in_flight,
            "failures": REC.failed,
            "failure_reasons": dict(sorted(REC.failures.items(), key=lambda kv: -kv[1])[:5]),
            "first_round": first_round(REC, args.warmup + args.duration, args.monitors),
            "store_pending": (await store.health())["pending"],
            "rss_mb": round(rss, 1),
            "rss_peak_mb": round(peak, 1),
            "site_workers": args.site_workers,
        }
        if args.load_page > 0:
            result["with_page_load"] = await page_load(args, web_port)
            result["rss_peak_mb"] = round(proc_mem_mb()[1], 1)
        if WORKERS:
            await asyncio.to_thread(WORKERS.stop)
        t0 = time.monotonic()
        await runner.cleanup()  # Monitoring.stop: cancel runs, snapshot, flush
        await store.close()
        result["shutdown_s"] = round(time.monotonic() - t0, 3)
        result["failures_total"] = REC.failed
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    contender_arguments(parser, warmup=10.0, workers_help="probing.max_in_flight")
    parser.add_argument("--components", type=int, default=100)
    parser.add_argument(
        "--loop", choices=["auto", "asyncio"], default="auto", help="auto: uvloop if installed"
    )
    parser.add_argument("--reuse", action="store_true", help="reuse_connections = true")
    parser.add_argument(
        "--site-workers", type=int, default=0, help="site.workers (0: one process for all)"
    )
    parser.add_argument("--load-page", type=float, default=0.0, help="seconds of page load")
    parser.add_argument("--load-paths", default="/,/healthz,/metrics")
    parser.add_argument("--load-workers", type=int, default=4)
    parser.add_argument(
        "--launched-at",
        type=float,
        default=STARTED,
        help="the benchmark's time.time() just before starting this process",
    )
    args = parser.parse_args()
    args.timeout = min(args.timeout, args.interval * 0.75)  # config requires timeout < interval
    if not args.base.startswith("http://127.0.0.1:"):
        parser.error("the benchmark only talks to 127.0.0.1")
    result = run_on_loop(run(args), args.loop)
    print(RESULT_PREFIX + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
