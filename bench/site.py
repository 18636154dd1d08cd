"""The status site under a stampede: statuswatch's `/` and `/api/v2/summary.json` with
site.workers = 2 (a monitor and two web processes) and 0 (one process), beside a bare aiohttp
handler returning a constant body of the same size in 1 and in 2 processes, in the same run.

Set-up: 50 components in 6 groups, 2 monitors each, and a year of history seeded through the
store's own API (hourly results that become rollups, outages, gaps, 150 incidents with their
updates, maintenance windows). Then:
1. the uncached render time of each path (median of --renders requests with cache_ttl 0);
2. statuswatch (the real app, probing a local target every --interval seconds) with
   site.workers = 0 and = --site-workers (2), and the bare server in one process and in as many
   processes sharing one socket, driven in turn by `wrk` (Debian package wrk) or, if absent,
   bench/_bench_rawload.py (raw asyncio HTTP, the cheapest Python client); requests per second
   side by side, and the CPU the servers and the load client each took;
3. the probes' schedule lateness p50/p99 while idle and while statuswatch is under that load
   (the monitor's scheduler hook, reported on a bench-only route of the monitor's app).

Run: .venv/bin/python bench/site.py [--duration 10] [--connections 32] [--renders 15] [--gzip]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import msgspec
from _bench_common import free_port, lateness_summary, proc_cpu
from _bench_roles import WebWorkers, monitor_listener, write_toml
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from statuswatch.cli.event_loop import loop_name, new_event_loop
from statuswatch.cli.gc_tuning import tune_gc
from statuswatch.cli.run import bind_tcp
from statuswatch.clock import SystemClock
from statuswatch.config.loader import parse_config
from statuswatch.incidents.model import (
    ComponentChange,
    Impact,
    Incident,
    IncidentStatus,
    impact_of,
    new_id,
)
from statuswatch.monitor.events import GapRecorded, OutageClosed, OutageOpened, State, Transition
from statuswatch.probes.base import CheckResult
from statuswatch.roles.forward import monitor_socket
from statuswatch.status.component import ComponentStatus
from statuswatch.store import Prune, RegisterMonitors, SaveIncident, Store

HERE = Path(__file__).resolve().parent
PATHS = ("/", "/api/v2/summary.json")
DAY = 86400
YEAR = 365 * DAY
GROUPS = ("Storefront", "Checkout & payments", "Admin", "APIs", "Integrations", "Infrastructure")
COMPONENTS = 50
MONITORS_PER_COMPONENT = 2
TARGET_RATIO = 0.70  # statuswatch / bare aiohttp with the same number of processes
TARGET_SCALE = 1.5  # site.workers = 2 / one process
ENV = {"STATUSWATCH_ADMIN_TOKEN": "x"}


# --- the site: config and a year of history ---------------------------------------------------


def build_config(tmp: Path, port: int, target_port: int, interval: float, ttl: float = 2.0):
    """The benchmark's statuswatch: 50 components in 6 groups, probing a local target."""
    return parse_config(raw_config(tmp, port, target_port, interval, ttl), base_dir=tmp)


def raw_config(tmp: Path, port: int, target_port: int, interval: float, ttl: float = 2.0) -> dict:
    """build_config's raw dict (what the TOML file of the web workers holds)."""
    return {
        "site": {
            "title": "Acme Commerce Status",
            "listen": f"127.0.0.1:{port}",
            "base_url": f"http://127.0.0.1:{port}",
            "cache_ttl": f"{ttl}s",
            "timezone": "Europe/Berlin",
        },
        "storage": {"path": str(tmp / "site.db")},
        "defaults": {"interval": f"{interval}s", "timeout": f"{min(5.0, interval * 0.75)}s"},
        "groups": [{"id": f"g{g}", "name": name} for g, name in enumerate(GROUPS)],
        "components": [
            {
                "id": f"c{j:02d}",
                "name": f"{GROUPS[j % 6]} service {j}",
                "group": f"g{j % 6}",
                "description": f"Component number {j}",
            }
            for j in range(COMPONENTS)
        ],
        "monitors": [
            {
                "kind": "http",
                "id": f"m{j:02d}-{k}",
                "component": f"c{j:02d}",
                "url": f"http://127.0.0.1:{target_port}/m/{j}/{k}",
            }
            for j in range(COMPONENTS)
            for k in range(MONITORS_PER_COMPONENT)
        ],
        "maintenance": [
            {
                "id": "weekly-db",
                "title": "Weekly database maintenance",
                "start": "2025-11-02T03:00:00Z",
                "duration": "1h",
                "rrule": "FREQ=WEEKLY;BYDAY=SU",
                "timezone": "Europe/Berlin",
                "components": ["c01", "c07", "c13"],
            },
            {
                "id": "nightly-search",
                "title": "Search reindex",
                "start": "2025-11-01T02:00:00Z",
                "duration": "30m",
                "rrule": "FREQ=DAILY",
                "components": ["c03"],
            },
            *(
                {
                    "id": f"upgrade-{n}",
                    "title": f"Platform upgrade {n}",
                    "start": _iso(start),
                    "duration": "2h",
                    "components": [f"c{(n * 7) % COMPONENTS:02d}"],
                }
                for n, start in enumerate(_upgrade_starts())
            ),
        ],
    }


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _upgrade_starts() -> list[float]:
    """Twelve one-off windows: ten in the past year, two in the coming week (whole hours)."""
    now = int(time.time()) // 3600 * 3600
    return [now - n * 30 * DAY for n in range(1, 11)] + [now + 2 * DAY, now + 5 * DAY]


async def seed(config, now: float, rng: random.Random) -> dict[str, int]:
    """A year of history, written through the store's API like the running service writes it."""
    store = Store(config.storage.path, clock=SystemClock())
    await store.start()
    monitors = [(m.id, "http", m.component) for m in config.monitors]
    store.submit(RegisterMonitors(monitors, now - YEAR))
    counts = {"results": 0, "outages": 0, "gaps": 0, "incidents": 0}
    start = int(now - YEAR) // 3600 * 3600
    for hour in range(start, int(now) - 3600, 3600):  # one result per monitor-hour -> rollups
        for mid, _, _ in monitors:
            store.submit(
                CheckResult(
                    mid,
                    hour + rng.random() * 3000,
                    True,
                    rng.lognormvariate(-2.5, 0.6),
                    200,
                    None,
                    "",
                )
            )
            counts["results"] += 1
        if hour % (24 * 3600) == 0:
            await asyncio.sleep(0)
    outages: list[tuple[str, float, float]] = []
    for mid, _, _ in monitors:
        for _ in range(rng.randrange(8, 25)):
            t0 = rng.uniform(now - YEAR, now - DAY)
            t1 = t0 + rng.uniform(60, 5400)
            outages.append((mid, t0, t1))
            store.submit(OutageOpened(mid, t0, "timeout", "no response within 10.0s"))
            store.submit(Transition(mid, t0, State.UP, State.DOWN, "2 consecutive failures"))
            store.submit(OutageClosed(mid, t1, "recovered"))
            store.submit(Transition(mid, t1, State.DOWN, State.UP, "1 consecutive pass"))
            counts["outages"] += 1
        for _ in range(2):
            g0 = rng.uniform(now - YEAR, now - DAY)
            store.submit(GapRecorded(mid, g0, g0 + rng.uniform(300, 7200), "stopped"))
            counts["gaps"] += 1
    for mid, t0, t1 in rng.sample(outages, 150):
        store.submit(SaveIncident.of(_incident(config, mid, t0, t1)))
        counts["incidents"] += 1
    store.submit(Prune(now, raw_before=now - 2 * DAY, rollup_before=now - 400 * DAY))
    await store.flush()
    await store.close()
    return counts


def _incident(config, monitor_id: str, t0: float, t1: float) -> Incident:
    """A resolved incident with three updates, from one outage."""
    component = next(m.component for m in config.monitors if m.id == monitor_id)
    inc = Incident(
        new_id(),
        f"Elevated errors on {component}",
        impact_of(ComponentStatus.MAJOR),
        IncidentStatus.INVESTIGATING,
        t0,
        t0,
    )
    down = (ComponentChange(component, ComponentStatus.OPERATIONAL, ComponentStatus.MAJOR),)
    up = (ComponentChange(component, ComponentStatus.MAJOR, ComponentStatus.OPERATIONAL),)
    inc.post(t0, IncidentStatus.INVESTIGATING, "We are investigating **errors**.", "ops", down)
    inc.post(t1, IncidentStatus.MONITORING, "A fix is deployed; we are monitoring.", "ops", up)
    inc.post(t1 + 900, IncidentStatus.RESOLVED, "Resolved.", "ops")
    inc.impact = Impact.MAJOR
    return inc


# --- servers (each in its own process) ---------------------------------------------------------


def serve_statuswatch(args: argparse.Namespace) -> None:
    """The real app over the seeded database, probing; /_bench/lateness reports the schedule."""
    import statuswatch.web.app as web_app

    lateness: list[float] = []
    schedulers = []

    class Monitoring(web_app.Monitoring):  # counted, otherwise the real pipeline
        async def start(self, *, probe: bool = True) -> None:
            await super().start(probe=probe)
            assert self.scheduler is not None
            self.scheduler.on_lateness.append(lateness.append)
            schedulers.append(self.scheduler)

    async def report(request: web.Request) -> web.Response:
        out = {**lateness_summary(lateness), "skipped": schedulers[0].stats.skipped}
        if request.query.get("reset"):
            lateness.clear()
        return web.json_response(out)

    async def main() -> None:
        tmp = Path(args.tmp) / f"workers{args.site_workers}"
        tmp.mkdir()
        raw = raw_config(tmp, args.port, args.target_port, args.interval)
        raw["storage"]["path"] = args.db  # the seeded year, one copy per contender
        raw["site"]["workers"] = args.site_workers
        config = parse_config(raw, base_dir=tmp)
        store = Store(config.storage.path, clock=SystemClock())
        await store.start()
        web_app.Monitoring = Monitoring  # type: ignore[misc]
        role = "monitor" if args.site_workers else "all"
        app = web_app.create_app(config, store=store, environ=ENV, role=role)
        app.on_startup.append(web_app.freeze_startup_heap)  # as `statuswatch run` does
        app.router.add_get("/_bench/lateness", report)
        if not args.site_workers:
            await _run(app, args.port)
        else:  # the monitor role; its TCP port only for /_bench/lateness
            workers: list[WebWorkers] = []

            async def start_workers(runner: web.AppRunner) -> list[int]:
                await web.SockSite(runner, monitor_listener(monitor_socket(config))).start()
                pool = WebWorkers(
                    write_toml(raw, tmp / "site.toml"), args.port, args.site_workers, ENV
                )
                workers.append(pool)
                await asyncio.to_thread(pool.wait_ready)
                return [p.pid for p in pool.procs]

            try:
                await _run(app, args.monitor_port, start_workers)
            finally:
                for pool in workers:
                    await asyncio.to_thread(pool.stop)
        await store.close()

    tune_gc()  # as `statuswatch run` does
    _serve_forever(main())


def serve_bare(args: argparse.Namespace) -> None:
    """A bare aiohttp app: each path answers a constant body of the given size, with the given
    headers (the control: statuswatch's own) or just its Content-Type (the baseline)."""
    app = web.Application()
    for path, spec in json.loads(args.bodies).items():
        body = b"x" * spec["bytes"]

        async def handler(
            _request: web.Request, body: bytes = body, headers: dict = spec["headers"]
        ) -> web.Response:
            return web.Response(body=body, headers=headers)

        app.router.add_get(path, handler)
    _serve_forever(_run(app, args.port, fd=args.fd))


# Headers aiohttp writes itself, or that describe statuswatch's body rather than the bare one.
_OWN_HEADERS = {"date", "server", "content-length", "transfer-encoding", "connection"}


def _bare_spec(bodies: dict[str, bytes], headers: dict[str, dict[str, str]], same: bool) -> str:
    out = {}
    for path, body in bodies.items():
        sent = {k: v for k, v in headers[path].items() if k.lower() not in _OWN_HEADERS}
        out[path] = {
            "bytes": len(body),
            "headers": sent if same else {"Content-Type": sent["Content-Type"]},
        }
    return json.dumps(out)


def _serve_forever(main) -> None:
    """Run a server on the loop `statuswatch run` uses (uvloop with the `speed` extra): both
    contenders on the same one, like for like."""
    loop = new_event_loop()
    try:
        loop.run_until_complete(main)
    finally:
        loop.close()


async def _run(app: web.Application, port: int, more=None, fd: int | None = None) -> None:
    """Serve until the benchmark ends; READY and the pids of every process serving the site.

    `fd`: a listening socket shared with other processes (the kernel spreads connections);
    `more`: a coroutine function starting further processes, returning their pids."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    if fd is not None:
        await web.SockSite(runner, socket.socket(fileno=fd)).start()
    else:
        await web.TCPSite(runner, "127.0.0.1", port, backlog=1024).start()
    pids = [os.getpid(), *(await more(runner) if more else [])]
    print("READY " + " ".join(map(str, pids)), flush=True)
    parent = os.getppid()
    while os.getppid() == parent:  # end with the benchmark that started us
        await asyncio.sleep(0.5)
    await runner.cleanup()


def start(name: str, *argv: str, pass_fds: tuple[int, ...] = ()) -> subprocess.Popen:
    """A server process, once it says READY (its `pids`: every process serving for it)."""
    proc = subprocess.Popen(
        [sys.executable, *argv], stdout=subprocess.PIPE, text=True, pass_fds=pass_fds
    )
    line = proc.stdout.readline() if proc.stdout else ""
    if "READY" not in line:
        proc.kill()
        raise SystemExit(f"{name} did not start: {line!r}")
    proc.pids = [int(pid) for pid in line.split()[1:]] or [proc.pid]  # type: ignore[attr-defined]
    return proc


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM and wait (a statuswatch monitor stops its web workers), then SIGKILL."""
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def get(url: str) -> bytes:
    return fetch(url)[0]


# What browsers send (--gzip); urllib does not decompress, so a body fetched with it is the
# gzipped bytes, the size the bare handler then answers with.
BROWSER_ENCODINGS = "gzip, deflate, br"


def fetch(url: str, accept_encoding: str | None = None) -> tuple[bytes, dict[str, str]]:
    """Body and headers, asked as the load client asks (by default, as wrk: no Accept-Encoding,
    so the full body)."""
    headers = {"Accept-Encoding": accept_encoding} if accept_encoding else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as resp:
        return resp.read(), dict(resp.headers.items())


# --- measurements ------------------------------------------------------------------------------


async def uncached_render_ms(config, renders: int) -> dict[str, float]:
    """Median time of a full render of each path (cache_ttl 0: every request renders)."""
    from statuswatch.web import create_app

    ttl0 = msgspec.structs.replace(config, site=msgspec.structs.replace(config.site, cache_ttl=0))
    store = Store(config.storage.path, clock=SystemClock())
    await store.start()
    client = TestClient(TestServer(create_app(ttl0, store=store, probe=False, environ={})))
    await client.start_server()
    out = {}
    try:
        for path in PATHS:
            times = []
            for _ in range(renders):
                t0 = time.perf_counter()
                resp = await client.get(path)
                await resp.read()
                assert resp.status == 200, (path, resp.status)
                times.append((time.perf_counter() - t0) * 1000)
            out[path] = round(statistics.median(times), 2)
    finally:
        await client.close()
        await store.close()
    return out


def drive(url: str, args: argparse.Namespace, pids: list[int]) -> dict:
    """Requests per second that `url` sustains under --connections keep-alive clients, and the
    CPU seconds the servers (`pids`) and the load client took meanwhile."""
    gzip = [f"Accept-Encoding: {BROWSER_ENCODINGS}"] if args.gzip else []
    server0 = sum(proc_cpu(pid) for pid in pids)
    if shutil.which("wrk"):
        wrk = ["wrk", "-t", str(args.threads), "-c", str(args.connections)]
        wrk += ["-d", f"{args.duration}s", *(x for h in gzip for x in ("-H", h)), url]
        before = os.times()
        out = subprocess.run(wrk, capture_output=True, text=True, check=True).stdout
        after = os.times()
        line = next(ln for ln in out.splitlines() if ln.startswith("Requests/sec:"))
        if "Non-2xx" in out:
            raise SystemExit(f"{url}: non-2xx answers under load:\n{out}")
        rate = float(line.split()[1])
        client = (after.children_user + after.children_system) - (
            before.children_user + before.children_system
        )
    else:
        cmd = [sys.executable, str(HERE / "_bench_rawload.py"), "--url", url]
        cmd += ["--connections", str(args.connections), "--duration", str(args.duration)]
        cmd += [x for h in gzip for x in ("--header", h)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        res = json.loads(next(ln for ln in out.splitlines() if ln.startswith("RESULT "))[7:])
        if res["errors"]:
            raise SystemExit(f"{url}: {res['errors']} non-200 answers under load")
        rate, client = res["requests_per_s"], res["cpu_s"]
    server = sum(proc_cpu(pid) for pid in pids) - server0
    return {
        "requests_per_s": rate,
        "server_cpu_pct": round(100 * server / args.duration),
        "client_cpu_pct": round(100 * client / args.duration),
    }


def _median_run(runs: list[dict]) -> dict:
    """The run with the median p99, so one noisy neighbour does not decide the figure."""
    return sorted(runs, key=lambda q: q["p99_ms"] or 0)[len(runs) // 2]


def lateness(base: str, reset: bool = True) -> dict:
    return json.loads(get(f"{base}/_bench/lateness{'?reset=1' if reset else ''}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per load run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--rounds", type=int, default=2, help="alternating runs; best counts")
    parser.add_argument("--renders", type=int, default=15)
    parser.add_argument("--interval", type=float, default=2.0, help="probe interval (s)")
    parser.add_argument(
        "--site-workers", type=int, default=2, help="site.workers to compare with one process"
    )
    parser.add_argument(
        "--gzip",
        action="store_true",
        help="ask for gzip as browsers do (the bare body is then the gzipped size)",
    )
    parser.add_argument(
        "--control",
        action="store_true",
        help="also the bare handler sending statuswatch's very headers (one process)",
    )
    parser.add_argument("--json", action="store_true")
    # Internal: the server processes.
    parser.add_argument("--serve", choices=["statuswatch", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--tmp", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--monitor-port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--fd", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--target-port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--bodies", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve == "statuswatch":
        return serve_statuswatch(args)
    if args.serve == "bare":
        return serve_bare(args)
    with tempfile.TemporaryDirectory(prefix="bench-site-") as tmp:
        report(run(args, Path(tmp)), args)


def start_statuswatch(args, tmp: Path, db: Path, port: int, target_port: int, workers: int):
    """statuswatch on its own copy of the seeded database; (process, site URL, lateness URL)."""
    mine = tmp / f"site{workers}.db"
    shutil.copyfile(db, mine)
    monitor_port = free_port()
    proc = start(
        f"statuswatch (site.workers = {workers})",
        __file__,
        *("--serve", "statuswatch", "--tmp", str(tmp), "--db", str(mine)),
        *("--port", str(port), "--monitor-port", str(monitor_port)),
        *("--target-port", str(target_port), "--interval", str(args.interval)),
        *("--site-workers", str(workers)),
    )
    site = f"http://127.0.0.1:{port}"
    return proc, site, f"http://127.0.0.1:{monitor_port if workers else port}"


def start_bare(spec: str, processes: int) -> tuple[list[subprocess.Popen], str]:
    """The bare handler in `processes` processes sharing one listening socket."""
    port = free_port()
    sock = bind_tcp(f"127.0.0.1:{port}", reuse_port=False)
    argv = (__file__, "--serve", "bare", "--port", str(port), "--bodies", spec)
    try:
        procs = [
            start("bare", *argv, "--fd", str(sock.fileno()), pass_fds=(sock.fileno(),))
            for _ in range(processes)
        ]
    finally:
        sock.close()  # the servers hold it now
    return procs, f"http://127.0.0.1:{port}"


def run(args: argparse.Namespace, tmp: Path) -> dict:
    sw_port, multi_port, target_port = (free_port() for _ in range(3))
    config = build_config(tmp, sw_port, target_port, args.interval)
    t0 = time.perf_counter()
    counts = asyncio.run(seed(config, time.time(), random.Random(5)))
    seeded_s = time.perf_counter() - t0
    db = Path(config.storage.path)
    db_mb = db.stat().st_size / 2**20
    print(f"seeded a year in {seeded_s:.1f} s: {counts}, {db_mb:.1f} MiB", file=sys.stderr)
    renders = asyncio.run(uncached_render_ms(config, args.renders))
    procs: list[subprocess.Popen] = []
    n = args.site_workers
    try:
        procs.append(start("target", str(HERE / "_bench_target.py"), "--port", str(target_port)))
        one, sw, sw_late = start_statuswatch(args, tmp, db, sw_port, target_port, 0)
        multi, sw_multi, multi_late = start_statuswatch(args, tmp, db, multi_port, target_port, n)
        procs += [one, multi]
        fetched = {p: fetch(sw + p, BROWSER_ENCODINGS if args.gzip else None) for p in PATHS}
        bodies = {p: body for p, (body, _) in fetched.items()}
        headers = {p: sent for p, (_, sent) in fetched.items()}
        bare_procs, bare = start_bare(_bare_spec(bodies, headers, same=False), 1)
        bare_n_procs, bare_n = start_bare(_bare_spec(bodies, headers, same=False), n)
        procs += bare_procs + bare_n_procs
        servers = {  # name -> (base URL, pids serving it, lateness URL or None)
            "bare": (bare, [p.pid for p in bare_procs], None),
            f"bare_x{n}": (bare_n, [p.pid for p in bare_n_procs], None),
            "statuswatch": (sw, one.pids, sw_late),  # type: ignore[attr-defined]
            f"statuswatch_workers{n}": (sw_multi, multi.pids, multi_late),  # type: ignore[attr-defined]
        }
        if args.control:
            control_procs, control = start_bare(_bare_spec(bodies, headers, same=True), 1)
            procs += control_procs
            servers["bare_same_headers"] = (control, [p.pid for p in control_procs], None)
        time.sleep(2 * args.interval)  # the first probe round is behind us
        lateness(sw_late)
        lateness(multi_late)
        time.sleep(args.duration)
        idle = {"statuswatch": lateness(sw_late), f"statuswatch_workers{n}": lateness(multi_late)}
        rows = {}
        for path in PATHS:
            best: dict[str, dict] = {}
            loaded: dict[str, list[dict]] = {}
            for _ in range(args.rounds):
                for name, (base, pids, late_url) in servers.items():
                    if late_url:
                        lateness(late_url)
                    got = drive(base + path, args, pids)
                    if got["requests_per_s"] > best.get(name, {}).get("requests_per_s", 0):
                        best[name] = got
                    if late_url:
                        loaded.setdefault(name, []).append(lateness(late_url))
            rate = {name: got["requests_per_s"] for name, got in best.items()}
            rows[path] = {
                "bytes": len(bodies[path]),
                "header_bytes": sum(len(k) + len(v) + 4 for k, v in headers[path].items()),
                "runs": best,
                "scale": round(rate[f"statuswatch_workers{n}"] / rate["statuswatch"], 3),
                "ratio_workers": round(rate[f"statuswatch_workers{n}"] / rate[f"bare_x{n}"], 3),
                "ratio_one_process": round(rate["statuswatch"] / rate["bare"], 3),
                "lateness_under_load": {k: _median_run(v) for k, v in loaded.items()},
            }
        skipped = {
            "statuswatch": lateness(sw_late, reset=False)["skipped"],
            f"statuswatch_workers{n}": lateness(multi_late, reset=False)["skipped"],
        }
    finally:
        for proc in procs:
            stop(proc)
    return {
        "components": COMPONENTS,
        "groups": len(GROUPS),
        "monitors": COMPONENTS * MONITORS_PER_COMPONENT,
        "probe_interval_s": args.interval,
        "site_workers": n,
        "seeded": counts,
        "db_mib": round(db_mb, 1),
        "load_client": "wrk" if shutil.which("wrk") else "python (_bench_rawload)",
        "event_loop": loop_name(new_event_loop()),  # what every server runs on
        "cpus": os.cpu_count(),
        "connections": args.connections,
        "duration_s": args.duration,
        "gzip": args.gzip,
        "throughput": rows,
        "uncached_render_ms": renders,
        "lateness_idle": idle,
        "skipped_runs_total": skipped,
    }


def report(res: dict, args: argparse.Namespace) -> None:
    n = res["site_workers"]
    print(
        f"\n{res['components']} components in {res['groups']} groups, {res['monitors']} monitors"
        f" probing every {res['probe_interval_s']:g} s; a year of history ({res['db_mib']} MiB)."
        f"\nload: {res['load_client']}, {res['connections']} connections"
        f"{', asking for gzip as browsers do' if res['gzip'] else ', no gzip'}, "
        f"{res['duration_s']} s per run, best of {args.rounds}; every server on "
        f"{res['event_loop']}, statuswatch's GC tuned as `statuswatch run`; {res['cpus']} CPUs"
        " shared by the servers and the load client\n"
    )
    print(f"{'path':<22}{'server':<24}{'req/s':>9}{'server CPU':>12}{'client CPU':>12}")
    for path, row in res["throughput"].items():
        for name, got in row["runs"].items():
            print(
                f"{path:<22}{name:<24}{got['requests_per_s']:>9,.0f}"
                f"{got['server_cpu_pct']:>11}%{got['client_cpu_pct']:>11}%"
            )
    print()
    for path, row in res["throughput"].items():
        scale_ok = "ok" if row["scale"] >= TARGET_SCALE else "MISSED"
        ratio_ok = "ok" if row["ratio_workers"] >= TARGET_RATIO else "MISSED"
        print(
            f"{path}: site.workers = {n} / one process = {row['scale']:.2f} "
            f"(target >= {TARGET_SCALE}) {scale_ok}; site.workers = {n} / bare aiohttp x{n} = "
            f"{row['ratio_workers']:.2f} (target >= {TARGET_RATIO}) {ratio_ok}; one process / "
            f"bare x1 = {row['ratio_one_process']:.2f}; "
            f"uncached render {res['uncached_render_ms'][path]:.1f} ms"
        )
    if args.control:
        print("\ncontrol: the bare handler sending statuswatch's very headers (one process)")
        for path, row in res["throughput"].items():
            same = row["runs"]["bare_same_headers"]["requests_per_s"]
            bare = row["runs"]["bare"]["requests_per_s"]
            print(
                f"{path:<24}{row['header_bytes']:>5} B of headers: {same:>8,.0f} req/s "
                f"({same / bare:.2f} of bare)"
            )
    print("\nprobe schedule lateness (the monitor's scheduler), p50 / p99:")
    for name, idle in res["lateness_idle"].items():
        print(
            f"  {name}: idle {idle['p50_ms']} / {idle['p99_ms']} ms ({idle['samples']} runs); "
            f"skipped runs in the whole benchmark: {res['skipped_runs_total'][name]}"
        )
        for path, row in res["throughput"].items():
            busy = row["lateness_under_load"][name]
            print(f"    serving {path} flat out: {busy['p50_ms']} / {busy['p99_ms']} ms")
    if args.json:
        print(json.dumps(res))


if __name__ == "__main__":
    main()
