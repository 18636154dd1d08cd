"""`statuswatch run` as real processes: the supervisor, its restarts, and kill -9 of either role.

The supervisor starts one monitor and `site.workers` web workers; these tests kill them for
real (SIGKILL) and check what the issue promises: a dead web worker is restarted and costs only
the requests it had, a dead monitor makes the workers say "as of" until a monitor is back, and
SIGTERM stops everything cleanly. Short intervals, one healthy local target, polls with
deadlines: each process start costs about a second on a busy 2-core machine.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

from statuswatch.roles.supervised import SUPERVISOR_ENV
from tests.helpers.net import free_port
from tests.helpers.processes import (
    ROOT,
    TOKEN,
    Statuswatch,
    alive,
    get_json,
    healthz,
    kill,
    parent_of,
    wait_until,
    write_config,
)

START = 30.0  # a cold start of three interpreters on a loaded machine


def worker_pid(port: int) -> int | None:
    """The pid of the web worker that answered one fresh connection."""
    status, body = healthz(port, "?role=web")
    return body["roles"]["web"]["pid"] if status == 200 else None


def seen_workers(port: int, want: int, seconds: float = 10.0) -> set[int]:
    """Pids of web workers answering fresh connections, until `want` different ones answered."""
    seen: set[int] = set()

    def enough() -> bool:
        if (pid := worker_pid(port)) is not None:
            seen.add(pid)
        return len(seen) >= want

    wait_until(f"{want} web workers answering", enough, seconds, every=0.01)
    return seen


def monitor_reporting(port: int) -> dict | None:
    """/healthz's monitor role when it reports ok through the web worker answering."""
    status, body = healthz(port)
    monitor = body["roles"]["monitor"]
    return monitor if status == 200 and monitor["status"] == "ok" else None


def monitor_states(port: int) -> list[str]:
    """The monitors' states, as the monitor role says (the admin API is forwarded to it)."""
    monitors = get_json(f"http://127.0.0.1:{port}/api/v1/monitors", TOKEN)["monitors"]
    return [m["state"] for m in monitors]


def outages(tmp_path) -> int:
    with sqlite3.connect(f"file:{tmp_path / 'statuswatch.db'}?mode=ro", uri=True) as db:
        return db.execute("SELECT COUNT(*) FROM outages").fetchone()[0]


def test_the_supervisor_runs_a_monitor_and_two_workers_restarts_a_dead_one_and_stops_all(
    tmp_path, target
):
    port = free_port()
    config = write_config(tmp_path, site_port=port, target_port=target.port, workers=2)
    sw = Statuswatch(config)
    try:
        monitor = wait_until("the monitor reporting", lambda: monitor_reporting(port), START)
        workers = seen_workers(port, 2)
        # One monitor and two web workers, all children of the supervisor, all different.
        assert len({monitor["pid"], *workers}) == 3
        assert {parent_of(p) for p in (monitor["pid"], *workers)} == {sw.pid}
        assert monitor_states(port) in (["up"], ["unknown"])

        # A crashed worker is restarted (a new pid answers) and the supervisor says so.
        dead = min(workers)
        kill(dead)
        wait_until("the dead worker gone", lambda: not alive(dead), 5)
        again = seen_workers(port, 2)
        assert dead not in again and len(again - workers) == 1, (workers, again)
        warning = (
            rf"WARNING .*web worker \d \(pid {dead}\) was killed by SIGKILL .*starting it again"
        )
        wait_until("the supervisor's warning", lambda: re.search(warning, sw.log()), 5)
        # The monitor did not notice: same process.
        assert monitor_reporting(port)["pid"] == monitor["pid"]
        everyone = {monitor["pid"], *again}
    finally:
        code = sw.stop(signal.SIGTERM)
    log = sw.log()
    assert code == 0, log[-3000:]
    assert "Traceback" not in log, log[-3000:]
    # Nothing is left behind: the supervisor waited for every one of its processes.
    assert not [p for p in everyone if alive(p)]
    assert not (tmp_path / "statuswatch.db.sock").exists()


def test_a_supervisor_killed_outright_takes_its_processes_with_it(tmp_path, target):
    port = free_port()
    config = write_config(tmp_path, site_port=port, target_port=target.port, workers=1)
    sw = Statuswatch(config)
    again = None
    try:
        monitor = wait_until("the monitor reporting", lambda: monitor_reporting(port), START)
        (worker,) = seen_workers(port, 1)
        kill(sw.pid)
        sw.proc.wait(timeout=10)
        # Told by the kernel (SIGTERM), each stops as on a clean stop.
        left = (monitor["pid"], worker)
        wait_until("its monitor and worker gone", lambda: not any(map(alive, left)), 20)
        assert "Traceback" not in sw.log(), sw.log()[-3000:]
        # Nothing holds the port or the database: a supervisor started again serves at once.
        again = Statuswatch(config)
        back = wait_until("a new monitor reporting", lambda: monitor_reporting(port), START)
        assert back["pid"] != monitor["pid"]
        wait_until("the target up", lambda: monitor_states(port) == ["up"], 10)
    finally:
        if again is not None:
            again.stop(signal.SIGTERM)
        sw.stop(signal.SIGKILL)  # if the test failed before it was killed


def test_a_killed_monitor_is_restarted_by_the_supervisor(tmp_path, target):
    port = free_port()
    config = write_config(tmp_path, site_port=port, target_port=target.port, workers=1)
    sw = Statuswatch(config)
    try:
        first = wait_until("the monitor reporting", lambda: monitor_reporting(port), START)
        wait_until("the target up", lambda: monitor_states(port) == ["up"], 10)
        kill(first["pid"])
        second = wait_until(
            "a new monitor reporting",
            lambda: (m := monitor_reporting(port)) and m["pid"] != first["pid"] and m,
            START,
        )
        assert re.search(
            rf"WARNING .*monitor \(pid {first['pid']}\) was killed by SIGKILL", sw.log()
        )
        # Its probes resumed: the healthy target is up, and no outage was made of the restart.
        wait_until("the target up again", lambda: monitor_states(port) == ["up"], 10)
        assert outages(tmp_path) == 0
    finally:
        code = sw.stop()
    assert code == 0, sw.log()[-3000:]
    assert not alive(second["pid"])


@dataclass
class Load:
    """Clients asking for `/` and `/api/v2/summary.json` without pause, each on a keep-alive
    connection of its own; each connection first learns which worker it is on (its pid)."""

    port: int
    clients: int = 4
    stop: threading.Event = field(default_factory=threading.Event)
    ok: int = 0
    failures: list[tuple[int | None, str, str]] = field(default_factory=list)  # pid, path, error
    open: dict[int, int | None] = field(default_factory=dict)  # client -> worker pid
    lock: threading.Lock = field(default_factory=threading.Lock)
    # While set, a client on a worker holding more than half of the connections reconnects: the
    # kernel may hand every new connection of an idle pair to one worker, and keep-alive keeps
    # them there.
    spread: threading.Event = field(default_factory=threading.Event)

    def run(self, client: int) -> None:
        conn: http.client.HTTPConnection | None = None
        pid: int | None = None
        while not self.stop.is_set():
            path = "/healthz?role=web"
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                    with self.lock:
                        self.open[client] = pid = None
                    pid = json.loads(self._get(conn, path))["roles"]["web"]["pid"]
                    with self.lock:
                        self.open[client] = pid
                        crowded = sum(p == pid for p in self.open.values()) * 2 > self.clients
                    if self.spread.is_set() and crowded:
                        with self.lock:
                            self.open.pop(client, None)
                        conn.close()
                        conn = None
                        continue
                for path in ("/", "/api/v2/summary.json"):
                    self._get(conn, path)
                    with self.lock:
                        self.ok += 1
            except (OSError, http.client.HTTPException, ValueError) as exc:
                with self.lock:
                    self.failures.append((pid, path, type(exc).__name__))
                    self.open.pop(client, None)
                conn.close()
                conn = None
        if conn is not None:
            conn.close()

    def _get(self, conn: http.client.HTTPConnection, path: str) -> bytes:
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            raise ValueError(f"{path}: {resp.status}")
        if resp.will_close:
            raise ValueError(f"{path}: the worker closed a keep-alive connection")
        return body

    def on(self, pid: int) -> int:
        """Connections open right now on worker `pid` (or not yet told which worker)."""
        with self.lock:
            return sum(1 for p in self.open.values() if p in (pid, None))


def checks_between(tmp_path, start: float, end: float) -> int:
    """Checks the monitor wrote to the database between two wall times."""
    with sqlite3.connect(f"file:{tmp_path / 'statuswatch.db'}?mode=ro", uri=True) as db:
        query = "SELECT COUNT(*) FROM checks WHERE time BETWEEN ? AND ?"
        return db.execute(query, (start, end)).fetchone()[0]


def test_a_web_worker_killed_under_load_costs_only_its_own_connections(tmp_path, target):
    port = free_port()
    config = write_config(
        tmp_path,
        site_port=port,
        target_port=target.port,
        workers=2,
        interval="500ms",
        timeout="400ms",
    )
    sw = Statuswatch(config)
    load = Load(port)
    threads = [threading.Thread(target=load.run, args=(i,)) for i in range(load.clients)]
    try:
        monitor = wait_until("the monitor reporting", lambda: monitor_reporting(port), START)
        wait_until("the target up", lambda: monitor_states(port) == ["up"], 10)
        workers = seen_workers(port, 2)
        load.spread.set()
        for thread in threads:
            thread.start()
        # Both workers carry some of the load before one of them dies.
        wait_until("load on both workers", lambda: len(set(load.open.values()) & workers) == 2, 30)
        load.spread.clear()
        wait_until("some requests answered", lambda: load.ok >= 50, 10)
        dead = min(workers)
        killed_at = time.time()
        with load.lock:
            kill(dead)
            on_dead = sum(1 for p in load.open.values() if p in (dead, None))
        answered_at_kill = load.ok
        again = seen_workers(port, 2)
        wait_until("load after the restart", lambda: load.ok >= answered_at_kill + 50, 10)
        # The monitor went on probing, every 0.5 s: same process, the target still up.
        wait_until(
            "6 checks since the kill",
            lambda: checks_between(tmp_path, killed_at, time.time()) >= 6,
            10,
        )
        ended = time.time()
        assert monitor_reporting(port)["pid"] == monitor["pid"]
        assert monitor_states(port) == ["up"]
    finally:
        load.stop.set()
        for thread in threads:
            thread.join(timeout=10)
        code = sw.stop()
    print(
        f"kill -9 under load: {load.ok} answered, {len(load.failures)} failed "
        f"in {ended - killed_at:.1f} s after the kill "
        f"({load.failures}); {on_dead} of {load.clients} connections were on the dead worker"
    )
    assert code == 0, sw.log()[-3000:]
    assert dead not in again and len(again - workers) == 1
    # No request lost beyond those in flight: only connections on the dead worker failed,
    # each once (a failed client reconnects), so at most the connections it held then.
    assert all(pid in (dead, None) for pid, _, _ in load.failures), load.failures
    assert len(load.failures) <= on_dead, (load.failures, on_dead)
    assert outages(tmp_path) == 0
    # No gap in the probing: about one check per interval all along (some still in the writer).
    probed = checks_between(tmp_path, killed_at, ended)
    assert probed >= (ended - killed_at) / 0.5 * 0.6, (probed, ended - killed_at)


def test_a_role_whose_supervisor_died_before_it_started_exits_at_once(tmp_path, target):
    config = write_config(tmp_path, site_port=free_port(), target_port=target.port, workers=1)
    env = {**os.environ, SUPERVISOR_ENV: "1", "PYTHONPATH": str(ROOT)}  # pid 1 is not its parent
    done = subprocess.run(
        [sys.executable, "-m", "statuswatch", "run", "-c", str(config), "--role", "monitor"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1, done.stderr
    assert "the supervisor (pid 1) is gone" in done.stderr
    assert not (tmp_path / "statuswatch.db").exists()  # nothing was started
