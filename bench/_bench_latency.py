"""Measured latency against a target of known latency: `statuswatch run` as a real process.

Two targets run in processes of their own on 127.0.0.1 (started by bench/probes.py): the fast
one the fleet probes and one that answers every request after a fixed --delay (50 ms). This
script writes a config (the fleet's --monitors plus --latency-monitors against the slow target),
starts `python -m statuswatch run -c <config>` and talks to it only as an operator would: its
config, its site port, its database. Nothing in-process, so however `run` arranges its
processes (one, or a monitor and web workers) the figures are the ones users get.

Timeline: ready (GET /healthz answers), --warmup, the unloaded window (--duration), then
--load-page seconds while _bench_pageload.py fetches the pages; then SIGTERM, and the latency
of the slow target's checks in each window is read from the store's raw checks (what the API,
the pages and "degraded" are computed from). Prints one RESULT line (see _bench_common.emit).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from _bench_common import CLK_TCK, RESULT_PREFIX, contender_arguments, emit, free_port

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def toml_value(value: object) -> str:
    """A TOML scalar: JSON's string escapes are TOML's for the strings written here."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def write_config(args: argparse.Namespace, tmp: Path, web_port: int) -> Path:
    """The fleet against --base, the latency monitors against --slow-base, one site."""
    ms = lambda seconds: f"{round(seconds * 1000)}ms"  # noqa: E731 - durations are strings
    tables: dict[str, dict] = {
        "site": {
            "title": "bench",
            "listen": f"127.0.0.1:{web_port}",
            "base_url": f"http://127.0.0.1:{web_port}",
        },
        "storage": {"path": str(tmp / "bench.db")},
        "defaults": {"interval": ms(args.interval), "timeout": ms(args.timeout)},
        "probing": {"max_in_flight": args.workers, "max_lateness": "10s"},
    }
    lines = []
    for name, table in tables.items():
        lines.append(f"[{name}]")
        lines += [f"{key} = {toml_value(value)}" for key, value in table.items()]
    components = max(1, min(args.components, args.monitors))
    for j in range(components):
        lines += ["[[components]]", f'id = "c{j}"', f'name = "Component {j}"']
    lines += ["[[components]]", 'id = "latency"', 'name = "Known latency"']
    for i in range(args.monitors):
        lines += [
            "[[monitors]]",
            'kind = "http"',
            f'id = "m{i:05d}"',
            f'component = "c{i % components}"',
            f'url = "{args.base}/m/{i}"',
        ]
    for i in range(args.latency_monitors):
        lines += [
            "[[monitors]]",
            'kind = "http"',
            f'id = "lat{i:03d}"',
            'component = "latency"',
            f'url = "{args.slow_base}/lat/{i}"',
            f'interval = "{ms(args.latency_interval)}"',
            f'timeout = "{ms(args.latency_interval * 0.75)}"',
        ]
    path = tmp / "bench.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process and every descendant alive now (a supervisor's workers too)."""
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / CLK_TCK
            for tid in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{tid}/children") as f:
                    todo += [int(child) for child in f.read().split()]
        except OSError:  # ended meanwhile
            continue
    return total


def wait_ready(port: int, proc: subprocess.Popen, budget: float) -> None:
    """Until GET /healthz answers (any status: it answers once the site serves)."""
    deadline = time.monotonic() + budget
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"statuswatch run exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("statuswatch run did not serve /healthz in time")


def page_load(args: argparse.Namespace, web_port: int) -> subprocess.Popen:
    cmd = [
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
    ]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)


def quantiles(values: list[float], delay: float) -> dict:
    """p50 / p99 / max of measured latencies (ms), and each one's error against the truth."""
    if not values:
        return {"samples": 0, "p50_ms": None, "p99_ms": None, "max_ms": None}
    ordered = sorted(values)
    n = len(ordered)

    def q(p: float) -> float:
        return round(ordered[min(n - 1, int(p * n))] * 1000, 2)

    out = {"samples": n, "p50_ms": q(0.5), "p99_ms": q(0.99), "max_ms": q(1.0)}
    truth = delay * 1000
    for key in ("p50_ms", "p99_ms"):
        out[key.replace("_ms", "_error_ms")] = round(out[key] - truth, 2)
    return out


def read_window(db: Path, start: float, end: float, delay: float) -> dict:
    """The latency monitors' checks and the fleet's count between two wall-clock instants."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT m.id, c.ok, c.latency FROM checks c JOIN monitors m ON m.key = c.monitor"
            " WHERE c.time >= ? AND c.time < ?",
            (start, end),
        ).fetchall()
    finally:
        conn.close()
    slow = [(ok, lat) for mid, ok, lat in rows if mid.startswith("lat")]
    fleet = [ok for mid, ok, _lat in rows if not mid.startswith("lat")]
    latency = quantiles([lat for ok, lat in slow if ok and lat is not None], delay)
    latency["failed"] = sum(1 for ok, _lat in slow if not ok)
    return {
        "latency": latency,
        "fleet_checks": len(fleet),
        "fleet_failed": sum(1 for ok in fleet if not ok),
    }


async def _one_request(host: str, port: int) -> float:
    t0 = time.perf_counter()
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(b"GET /ref HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
    await reader.read()  # to the target's close, as a fresh-connection probe ends
    writer.close()
    return time.perf_counter() - t0


def reference(slow_base: str, count: int, delay: float) -> dict:
    """The slow target's latency as a bare client sees it, one request at a time: the floor
    (the target's timer and loopback) that statuswatch's figures include too."""
    host, _, port = slow_base.removeprefix("http://").partition(":")

    async def measure() -> list[float]:
        return [await _one_request(host, int(port)) for _ in range(count)]

    return quantiles(asyncio.run(measure()), delay)


def run(args: argparse.Namespace) -> dict:
    web_port = free_port()
    floor = reference(args.slow_base, args.reference_requests, args.delay)
    with tempfile.TemporaryDirectory(prefix="bench-latency-") as tmpdir:
        tmp = Path(tmpdir)
        config = write_config(args, tmp, web_port)
        env = {**os.environ, "STATUSWATCH_ADMIN_TOKEN": "bench", "PYTHONPATH": str(ROOT)}
        cmd = [sys.executable, "-m", "statuswatch", "run", "-c", str(config)]
        with open(tmp / "run.log", "w") as log_file:
            proc = subprocess.Popen(cmd, env=env, stdout=log_file, stderr=subprocess.STDOUT)
        try:
            wait_ready(web_port, proc, 60)
            time.sleep(args.warmup)
            quiet = (time.time(), tree_cpu(proc.pid))
            time.sleep(args.duration)
            quiet_end = (time.time(), tree_cpu(proc.pid))
            loaded = None
            if args.load_page > 0:
                load = page_load(args, web_port)
                loaded_start = time.time()
                out, _ = load.communicate(timeout=args.load_page + 60)
                loaded_end = time.time()
                lines = [ln for ln in out.splitlines() if ln.startswith(RESULT_PREFIX)]
                load_result = json.loads(lines[-1][len(RESULT_PREFIX) :]) if lines else {}
                loaded = (loaded_start, loaded_end, load_result)
        finally:
            proc.send_signal(signal.SIGTERM)  # a clean stop flushes the store's last batch
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        db = tmp / "bench.db"
        window = quiet_end[0] - quiet[0]
        unloaded = read_window(db, quiet[0], quiet_end[0], args.delay)
        probes = unloaded["fleet_checks"] + unloaded["latency"]["samples"]
        cpu = quiet_end[1] - quiet[1]
        result = {
            "window_s": round(window, 3),
            "probes": probes,
            "probes_per_s": round(probes / window, 1),
            "cpu_s": round(cpu, 3),
            "cpu_per_1k": round(cpu / probes * 1000, 4) if probes else None,
            "delay_ms": args.delay * 1000,
            "latency_monitors": args.latency_monitors,
            "latency_interval_s": args.latency_interval,
            "reference": floor,
            "unloaded": unloaded,
            "failures": unloaded["fleet_failed"] + unloaded["latency"]["failed"],
            "exit_code": proc.returncode,
        }
        if loaded is not None:
            start, end, load_result = loaded
            result["with_page_load"] = {**read_window(db, start, end, args.delay)}
            result["with_page_load"]["load"] = load_result
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    contender_arguments(parser, warmup=10.0, workers_help="probing.max_in_flight")
    parser.add_argument("--slow-base", required=True, help="the --delay target's base URL")
    parser.add_argument("--delay", type=float, default=0.05, help="the slow target's delay (s)")
    parser.add_argument("--latency-monitors", type=int, default=20)
    parser.add_argument("--latency-interval", type=float, default=1.0)
    parser.add_argument("--reference-requests", type=int, default=200)
    parser.add_argument("--components", type=int, default=100)
    parser.add_argument("--load-page", type=float, default=0.0, help="seconds of page load")
    parser.add_argument("--load-paths", default="/,/healthz,/metrics")
    parser.add_argument("--load-workers", type=int, default=4)
    args = parser.parse_args()
    args.timeout = min(args.timeout, args.interval * 0.75)  # config requires timeout < interval
    for base in (args.base, args.slow_base):
        if not base.startswith("http://127.0.0.1:"):
            parser.error("the benchmark only talks to 127.0.0.1")
    emit(run(args))


if __name__ == "__main__":
    main()
