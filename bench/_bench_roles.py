"""Web workers for the benchmarks: real `statuswatch run --role web` processes, started as the
supervisor starts them (one shared listening socket, STATUSWATCH_LISTEN_FD, STATUSWATCH_WORKER,
so they run at the supervisor's WEB_NICENESS), beside a monitor role the benchmark runs itself.

The benchmark's own process being the monitor is what lets it count every probe run's lateness
from the scheduler's hook (the figure /healthz and statuswatch_scheduler_lateness_seconds are
built from), exactly and per window; what the supervisor would add is a process that waits.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from _bench_common import proc_cpu

from statuswatch.cli.run import LISTEN_FD_ENV, WORKER_ENV, bind_private, bind_tcp


def toml_value(value: object) -> str:
    """One TOML value: strings, numbers, booleans and lists of them (enough for our configs)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML for {type(value).__name__}")


def write_toml(raw: dict, path: Path) -> Path:
    """The raw config dict as a TOML file: tables, and lists of tables as [[arrays]]."""
    lines: list[str] = []
    tables = {k: v for k, v in raw.items() if isinstance(v, dict)}
    arrays = {k: v for k, v in raw.items() if isinstance(v, list) and v and isinstance(v[0], dict)}
    for key, value in raw.items():
        if key not in tables and key not in arrays:
            lines.append(f"{key} = {toml_value(value)}")
    for name, table in tables.items():
        lines.append(f"\n[{name}]")
        lines += [f"{k} = {toml_value(v)}" for k, v in table.items()]
    for name, rows in arrays.items():
        for row in rows:
            lines.append(f"\n[[{name}]]")
            lines += [f"{k} = {toml_value(v)}" for k, v in row.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


class WebWorkers:
    """`count` web workers sharing one listening socket on 127.0.0.1:`port`."""

    def __init__(self, config_path: Path, port: int, count: int, env: dict[str, str]) -> None:
        self.sock = bind_tcp(f"127.0.0.1:{port}", reuse_port=False, backlog=1024)
        self.port = port
        base = [sys.executable, "-m", "statuswatch", "run", "-c", str(config_path)]
        argv = [*base, "--log-level", "warning", "--role", "web"]
        fd = self.sock.fileno()
        self.procs = [
            subprocess.Popen(
                argv,
                env={**os.environ, **env, LISTEN_FD_ENV: str(fd), WORKER_ENV: str(i)},
                pass_fds=(fd,),
                preexec_fn=die_with_parent,
            )
            for i in range(1, count + 1)
        ]

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Until every worker answers /healthz?role=web (each one, told apart by its pid)."""
        deadline = time.monotonic() + timeout
        pids: set[int] = set()
        want = {p.pid for p in self.procs}
        while pids != want:
            if time.monotonic() > deadline:
                raise SystemExit(f"web workers did not start: {sorted(want - pids)} missing")
            for proc in self.procs:
                if proc.poll() is not None:
                    raise SystemExit(f"web worker {proc.pid} exited with {proc.returncode}")
            try:
                pid = web_pid(self.port)
            except OSError:
                time.sleep(0.2)
                continue
            pids.add(pid)

    def cpu(self) -> float:
        """CPU seconds of all the workers so far."""
        return sum(proc_cpu(p.pid) for p in self.procs if p.poll() is None)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.sock.close()


def die_with_parent() -> None:
    """In the child before exec: SIGTERM when the benchmark process ends, however it ends
    (prctl PR_SET_PDEATHSIG), so no worker outlives a killed benchmark."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)


def web_pid(port: int) -> int:
    """The pid of whichever web worker answers this connection (/healthz?role=web)."""
    url = f"http://127.0.0.1:{port}/healthz?role=web"
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.loads(resp.read())["roles"]["web"]["pid"]


def monitor_listener(path: Path) -> socket.socket:
    """The monitor role's Unix socket (0600, as `statuswatch run --role monitor` makes it)."""
    path.unlink(missing_ok=True)
    return bind_private(path)
