"""The attack as it happened: 1,100 slow connections to the site under a 1,024 descriptor limit.

`statuswatch run` is a real subprocess with RLIMIT_NOFILE 1024:1024, probing 20 http monitors on
a healthy local target every 2 s. A slowloris in this process keeps 1,100 connections open to the
site (a header line on each every 5 s, a new connection for every one the site closes) for 40 s,
while a plain client asks for `/` (and `/metrics` on its own listener) every 0.5 s. The probes
must not run out: no failing check, no outage, no incident, nothing queued to notify, a quiet
log, and the site answering plain requests. `statuswatch run` supervises a monitor and two web
workers (site.workers' default), each under the limit: the attack is on the workers' shared
socket, and the monitor, in a process of its own, must live through it. Everything is on
127.0.0.1.
"""

from __future__ import annotations

import errno
import json
import os
import resource
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers.net import free_port

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "exhaustion-admin-token-0123456789"
NOFILE = 1024
MONITORS = 20
SLOW_CONNECTIONS = 1100
ATTACK_SECONDS = 40.0
HEADER_EVERY = 5.0  # the slowloris sends one header line per connection this often
PLAIN_EVERY = 0.5
PLAIN_TIMEOUT = 2.0  # "promptly": an answer later than this counts as none
LOG_LIMIT = 1024 * 1024

# Runs the CLI exactly as the console script does, under the limit (set in the child itself:
# no preexec_fn in a process that runs threads).
LAUNCH = (
    "import resource, sys\n"
    f"resource.setrlimit(resource.RLIMIT_NOFILE, ({NOFILE}, {NOFILE}))\n"
    "from statuswatch.cli.main import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


# A healthy target: every GET answers 200 at once.
TARGET = """
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Healthy(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"ok\\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Healthy)
server.daemon_threads = True
server.serve_forever()
"""


def wait_for_port(port: int, seconds: float = 10.0) -> None:
    """Until something accepts connections on the port (the target's process has started)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def write_config(tmp_path: Path, site_port: int, target_port: int, metrics_port: int) -> Path:
    monitors = "".join(
        f'[[monitors]]\nid = "shop-{i}"\nkind = "http"\ncomponent = "shop"\n'
        f'url = "http://127.0.0.1:{target_port}/health/{i}"\n\n'
        for i in range(MONITORS)
    )
    path = tmp_path / "config.toml"
    path.write_text(
        f'[site]\ntitle = "Under attack"\nlisten = "127.0.0.1:{site_port}"\n'
        f'base_url = "http://127.0.0.1:{site_port}"\n\n'
        '[storage]\npath = "statuswatch.db"\n\n'
        f'[metrics]\nlisten = "127.0.0.1:{metrics_port}"\n\n'
        '[defaults]\ninterval = "2s"\ntimeout = "1.5s"\n\n'
        '[[components]]\nid = "shop"\nname = "Shop"\n\n' + monitors,
        encoding="utf-8",
    )
    return path


def admin_monitors(port: int) -> list[dict]:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/monitors")
    req.add_header("Authorization", f"Bearer {TOKEN}")
    with urllib.request.urlopen(req, timeout=5) as resp:
        return json.loads(resp.read())["monitors"]


def site_roles(port: int) -> dict:
    """/healthz's roles: which process is the monitor, which web worker answered."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as resp:
        return json.loads(resp.read())["roles"]


def wait_all_up(port: int, proc: subprocess.Popen, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, "statuswatch exited early"
        try:
            if all(m["state"] == "up" for m in admin_monitors(port)):
                return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail("the monitors did not all come up")


@dataclass
class Slowloris:
    """Keeps `count` connections open, each trickling its request head, reopening closed ones."""

    port: int
    count: int
    stop: threading.Event = field(default_factory=threading.Event)
    opened: int = 0
    most_open: int = 0
    _socks: dict[socket.socket, float] = field(default_factory=dict)  # -> last line sent

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                tick = time.monotonic()
                self._drop_closed()
                self._trickle(tick)
                self._refill(tick + 0.5)
                self.most_open = max(self.most_open, len(self._socks))
                self.stop.wait(max(0.0, 1.0 - (time.monotonic() - tick)))
        finally:
            for sock in self._socks:
                sock.close()

    def _drop_closed(self) -> None:
        for sock in list(self._socks):
            try:
                sock.recv(4096)  # an answer (408, 503) or EOF: the site closed it
            except BlockingIOError:
                continue  # still open, nothing said
            except OSError:
                pass
            self._forget(sock)

    def _trickle(self, now: float) -> None:
        for sock, last in list(self._socks.items()):
            if now - last >= HEADER_EVERY:
                try:
                    sock.send(b"X-Trickle: a\r\n")
                    self._socks[sock] = now
                except OSError:
                    self._forget(sock)

    def _refill(self, until: float) -> None:
        while len(self._socks) < self.count and time.monotonic() < until:
            sock = socket.socket()
            sock.settimeout(0.2)
            try:
                sock.connect(("127.0.0.1", self.port))
                sock.send(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            except OSError:
                sock.close()
                continue
            sock.setblocking(False)
            self._socks[sock] = time.monotonic()
            self.opened += 1

    def _forget(self, sock: socket.socket) -> None:
        self._socks.pop(sock, None)
        sock.close()


def plain_requests(urls: dict[str, str], stop: threading.Event, outcomes: Counter) -> None:
    """GET each of `urls` every PLAIN_EVERY seconds; count each outcome as (name, status)."""
    while not stop.is_set():
        started = time.monotonic()
        for name, url in urls.items():
            outcomes[name, fetch(url)] += 1
        stop.wait(max(0.0, PLAIN_EVERY - (time.monotonic() - started)))


def fetch(url: str) -> int | str:
    """The status of one plain GET, or the name of the error that prevented an answer."""
    try:
        with urllib.request.urlopen(url, timeout=PLAIN_TIMEOUT) as resp:
            resp.read()
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError as exc:
        return type(exc).__name__


def raise_own_limit() -> None:
    """This process holds the 1,100 client sockets (and the target's): lift its soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    needed = SLOW_CONNECTIONS + 256
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.fail(f"the test needs {needed} descriptors, the hard limit is {hard}")


def test_slow_connections_cannot_starve_the_probes(tmp_path):
    raise_own_limit()
    # The healthy target runs in a process of its own: in this one it would share the GIL with
    # the 1,100 slow sockets and be slow for reasons that have nothing to do with statuswatch.
    target_port = free_port()
    target = subprocess.Popen(
        [sys.executable, "-c", TARGET, str(target_port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(target_port)
    site_port, metrics_port = free_port(), free_port()
    config = write_config(tmp_path, site_port, target_port, metrics_port)
    urls = {
        "site": f"http://127.0.0.1:{site_port}/",
        "metrics": f"http://127.0.0.1:{metrics_port}/metrics",
    }
    log_path = tmp_path / "statuswatch.log"
    env = {**os.environ, "STATUSWATCH_ADMIN_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)}
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", LAUNCH, "run", "-c", str(config)],
            stdout=log,
            stderr=log,
            env=env,
            cwd=tmp_path,
        )
    attack = Slowloris(site_port, SLOW_CONNECTIONS)
    stop_plain = threading.Event()
    outcomes: Counter = Counter()
    try:
        wait_all_up(site_port, proc)
        # The attack is on the web workers: the monitor probes in a process of its own.
        roles = site_roles(site_port)
        assert roles["monitor"]["pid"] not in (proc.pid, roles["web"]["pid"]), roles
        attack_started = time.time()
        threads = [
            threading.Thread(target=attack.run, daemon=True),
            threading.Thread(target=plain_requests, args=(urls, stop_plain, outcomes)),
        ]
        for thread in threads:
            thread.start()
        time.sleep(ATTACK_SECONDS)
        attack.stop.set()
        stop_plain.set()
        for thread in threads:
            thread.join(timeout=10)
        attack_ended = time.time()
        assert proc.poll() is None, "statuswatch died under the attack"
        # ...and that process lived through it (no restart hid a crash).
        assert site_roles(site_port)["monitor"]["pid"] == roles["monitor"]["pid"]
    finally:
        attack.stop.set()
        stop_plain.set()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
            target.kill()
            target.wait(timeout=10)
    log_text = log_path.read_text(encoding="utf-8", errors="replace")
    assert proc.returncode == 0, log_text[-4000:]

    # The attack was real: the site was held at (and over) what its descriptors allow.
    assert attack.most_open >= SLOW_CONNECTIONS * 0.9, attack.most_open
    assert attack.opened > SLOW_CONNECTIONS, "the site never closed a slow connection"

    with sqlite3.connect(tmp_path / "statuswatch.db") as db:
        failed = db.execute(
            "SELECT COUNT(*), GROUP_CONCAT(DISTINCT error_class || ': ' || message) "
            "FROM checks WHERE ok = 0 AND error_class != 'timeout'"
        ).fetchone()
        # CPU is not what this test is about (the site on its own processes is): on a busy
        # machine a probe may see its 1.5 s deadline pass, never a descriptor or connect failure.
        late = db.execute("SELECT COUNT(*) FROM checks WHERE error_class = 'timeout'").fetchone()
        probed = db.execute(
            "SELECT COUNT(*) FROM checks WHERE time BETWEEN ? AND ?",
            (attack_started, attack_ended),
        ).fetchone()[0]
        outages = db.execute("SELECT COUNT(*) FROM outages").fetchone()[0]
        incidents = db.execute("SELECT COUNT(*) FROM incidents").fetchone()[0]
        queued = db.execute(
            "SELECT (SELECT COUNT(*) FROM notify_events) + (SELECT COUNT(*) FROM outbox)"
        ).fetchone()[0]
    # The probes kept running and never ran out of anything.
    assert failed[0] == 0, failed
    assert probed >= MONITORS * (attack_ended - attack_started) / 2 * 0.75, probed
    assert late[0] <= 0.01 * probed, late
    assert (outages, incidents, queued) == (0, 0, 0)

    assert log_path.stat().st_size < LOG_LIMIT
    assert "Traceback" not in log_text, log_text[-4000:]
    assert os.strerror(errno.EMFILE) not in log_text, log_text[-4000:]
    assert "open-file limit: soft 1024, hard 1024" in log_text
    assert "was killed by" not in log_text and "exited with status" not in log_text, log_text[
        -4000:
    ]

    # The site answered plain requests during the attack: a page, or the guard's prompt 503.
    print(
        f"slowloris: {attack.opened} opened, {attack.most_open} at most; plain: {outcomes}; "
        f"probes: {probed} during the attack, {late[0]} late; roles: {roles}"
    )
    asked = sum(n for (name, _), n in outcomes.items() if name == "site")
    answered = outcomes["site", 200] + outcomes["site", 503]
    assert asked >= ATTACK_SECONDS / PLAIN_EVERY * 0.8, outcomes
    assert answered >= 0.8 * asked, outcomes
    # /metrics on its own listener stayed reachable too.
    assert outcomes["metrics", 200] >= 0.9 * asked, outcomes
