"""`statuswatch run` as real processes: its roles, a switchable local target, and plain HTTP.

Everything listens on 127.0.0.1. Waits poll with a deadline (never a fixed sleep), so a test
takes as long as the processes need and fails, naming what it waited for, when they never do.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.helpers.net import free_port
from tests.helpers.system import ROOT

TOKEN = "processes-admin-token-0123456789"
T = TypeVar("T")

# A target whose every answer has the status last set through /_status/<code> (200 at first).
TARGET = """
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Switchable(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self):
        if self.path.startswith("/_status/"):
            Switchable.status = int(self.path.rsplit("/", 1)[1])
        body = b"ok\\n"
        self.send_response(Switchable.status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

server = ThreadingHTTPServer((sys.argv[2], int(sys.argv[1])), Switchable)
server.daemon_threads = True
server.serve_forever()
"""


def wait_until(what: str, check: Callable[[], T | None], seconds: float, every: float = 0.05) -> T:
    """Poll `check` until it returns something truthy (returned); fail naming `what`."""
    deadline = time.monotonic() + seconds
    last_error: Exception | None = None
    while True:
        try:
            found = check()
            if found:
                return found
        except (OSError, ValueError) as exc:  # not serving yet, or half a response
            last_error = exc
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {seconds} s (last error: {last_error!r})")
        time.sleep(every)


def wait_for_port(port: int, seconds: float = 10.0, host: str = "127.0.0.1") -> None:
    """Until something accepts connections on the port."""

    def accepts() -> bool:
        socket.create_connection((host, port), timeout=0.5).close()
        return True

    wait_until(f"something listening on port {port}", accepts, seconds)


class Target:
    """A healthy local HTTP target in a process of its own, switchable to another status."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", TARGET, str(self.port), host],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, host=host)

    def answer(self, status: int) -> None:
        """From now on every request gets `status`."""
        request("GET", f"http://{self.host}:{self.port}/_status/{status}")

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)


def write_config(
    tmp_path: Path,
    *,
    site_port: int,
    target_port: int,
    workers: int = 2,
    monitors: int = 1,
    interval: str = "1s",
    timeout: str = "800ms",
    extra: str = "",
) -> Path:
    """A small config: one component `api` probed by `monitors` http monitors on the target."""
    checks = "".join(
        f'[[monitors]]\nid = "api-{i}"\nkind = "http"\ncomponent = "api"\n'
        f'url = "http://127.0.0.1:{target_port}/health/{i}"\n\n'
        for i in range(monitors)
    )
    path = tmp_path / "config.toml"
    path.write_text(
        f'[site]\ntitle = "Processes"\nlisten = "127.0.0.1:{site_port}"\n'
        f'base_url = "http://127.0.0.1:{site_port}"\nworkers = {workers}\n\n'
        '[storage]\npath = "statuswatch.db"\n\n'
        f'[defaults]\ninterval = "{interval}"\ntimeout = "{timeout}"\n'
        "confirm_failures = 1\nconfirm_recoveries = 1\n\n"
        '[[components]]\nid = "api"\nname = "Storefront API"\n\n' + checks + extra,
        encoding="utf-8",
    )
    return path


class Statuswatch:
    """One `statuswatch run` process (the supervisor, or one role), its log in a file."""

    def __init__(self, config: Path, *args: str, name: str = "statuswatch") -> None:
        self.log_path = config.parent / f"{name}.log"
        env = {**os.environ, "STATUSWATCH_ADMIN_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)}
        with self.log_path.open("a") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "statuswatch", "run", "-c", str(config), *args],
                stdout=log,
                stderr=log,
                env=env,
                cwd=config.parent,
            )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def running(self) -> None:
        """Fail, with the end of its log, if the process has exited."""
        if self.proc.poll() is not None:
            pytest.fail(f"statuswatch exited ({self.proc.returncode}): {self.log()[-3000:]}")

    def stop(self, sig: int = signal.SIGTERM, seconds: float = 15.0) -> int:
        """Signal it and wait for its exit status (killed if it does not stop in time)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            pytest.fail(f"statuswatch did not stop within {seconds} s: {self.log()[-3000:]}")


def request(
    method: str,
    url: str,
    *,
    token: str | None = None,
    body: Any = None,
    timeout: float = 5.0,
) -> tuple[int, dict[str, str], bytes]:
    """One request (JSON body if given); its status, headers and body, errors included."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, dict(exc.headers), exc.read()


def post_form(url: str, fields: dict[str, str]) -> str:
    """POST an HTML form (urlencoded); the page answered."""
    data = urllib.parse.urlencode(fields).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=5) as resp:
        return resp.read().decode()


def get_json(url: str, token: str | None = None) -> Any:
    """GET `url` and decode its JSON whatever the status."""
    return json.loads(request("GET", url, token=token)[2])


def healthz(port: int, query: str = "") -> tuple[int, dict]:
    """/healthz on the site at `port`: its status and body."""
    status, _, body = request("GET", f"http://127.0.0.1:{port}/healthz{query}")
    return status, json.loads(body)


def alive(pid: int) -> bool:
    """True while `pid` is a running process (a zombie waiting for its parent is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def parent_of(pid: int) -> int:
    """The parent process id of `pid`."""
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def log_time(line: str) -> float:
    """The epoch time of a log line ("2026-12-02 00:29:15,123 INFO ..."), in local time."""
    stamp = " ".join(line.split(" ", 2)[:2])
    return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp()


def kill(pid: int) -> None:
    """`kill -9 pid`."""
    os.kill(pid, signal.SIGKILL)
