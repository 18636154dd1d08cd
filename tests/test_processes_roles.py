"""The roles run apart (`--role monitor`, `--role web --listen`), as systemd units would run them.

A killed monitor makes the workers say "as of" (the supervisor would restart it too quickly to
see); a stopped one makes them say so at once; a write meanwhile gets 503 and nothing is done.
Two web workers on two ports see every change the monitor makes within a second: an incident,
a maintenance window, a component's status. Writes sent to a worker keep their guarantees.
"""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller

from statuswatch.roles.published import STALE_AFTER
from tests.helpers.net import free_port
from tests.helpers.notify import CSRF, Mailbox
from tests.helpers.processes import (
    TOKEN,
    Statuswatch,
    Target,
    get_json,
    healthz,
    kill,
    log_time,
    post_form,
    request,
    wait_until,
    write_config,
)

START = 30.0
FRESH = 1.0  # the bound: a change visible on every worker within a second
NOTICE = "Monitoring is interrupted"


def monitor_status(port: int) -> tuple[int, str]:
    """/healthz's status code and what it says of the monitor role."""
    status, body = healthz(port)
    return status, body["roles"]["monitor"]["status"]


def page(port: int) -> str:
    return request("GET", f"http://127.0.0.1:{port}/")[2].decode()


def monitor_role(config, name: str = "monitor") -> Statuswatch:
    return Statuswatch(config, "--role", "monitor", name=name)


def web_role(config, port: int, name: str) -> Statuswatch:
    return Statuswatch(config, "--role", "web", "--listen", f"127.0.0.1:{port}", name=name)


def open_incident(port: int, title: str) -> tuple[int, dict, dict]:
    status, headers, body = request(
        "POST",
        f"http://127.0.0.1:{port}/api/v1/incidents",
        token=TOKEN,
        body={"title": title, "body": f"{title}: looking into it."},
    )
    return status, headers, json.loads(body)


def test_a_killed_monitor_makes_the_workers_say_as_of_then_fresh_when_one_is_back(
    tmp_path,
):
    target = Target()
    port = free_port()
    config = write_config(tmp_path, site_port=port, target_port=target.port)
    monitor = monitor_role(config)
    web = web_role(config, port, "web")
    again = None
    try:
        wait_until("the monitor reporting", lambda: monitor_status(port) == (200, "ok"), START)
        wait_until("the first check on the page", lambda: "Operational" in page(port), 10)
        assert NOTICE not in page(port)

        kill(monitor.pid)
        killed = time.monotonic()
        wait_until(
            "the worker saying the monitor is not reporting",
            lambda: monitor_status(port) == (503, "not reporting"),
            STALE_AFTER + 2,
        )
        stale_after = time.monotonic() - killed
        shown = page(port)
        assert NOTICE in shown and "This page shows the state as of" in shown
        assert healthz(port, "?role=web")[0] == 200  # the worker itself is fine
        # A write now reaches nobody: 503 with Retry-After, and nothing is done.
        status, headers, body = open_incident(port, "Written while the monitor is dead")
        assert status == 503 and "Retry-After" in headers, (status, body)
        web.running()

        again = monitor_role(config, "monitor-again")
        wait_until("the new monitor reporting", lambda: monitor_status(port) == (200, "ok"), START)
        wait_until("the page fresh again", lambda: NOTICE not in page(port), 5)
        titles = [
            i["title"]
            for i in get_json(f"http://127.0.0.1:{port}/api/v1/incidents", TOKEN)["incidents"]
        ]
        assert "Written while the monitor is dead" not in titles
        status, _, body = open_incident(port, "Written once the monitor is back")
        assert status == 201, body

        # A clean stop says so at once: no waiting for the heartbeat to age.
        again.proc.send_signal(signal.SIGTERM)
        stopped = time.monotonic()
        wait_until(
            "the worker saying the monitor stopped",
            lambda: monitor_status(port) == (503, "stopped"),
            1.5,
        )
        said_stopped = time.monotonic() - stopped
        wait_until("the page saying so", lambda: NOTICE in page(port), FRESH)
        assert again.stop() == 0, again.log()[-3000:]
    finally:
        for proc in (web, monitor, again):
            if proc is not None:
                proc.stop()
        target.stop()
    print(
        f"monitor killed: 'not reporting' after {stale_after:.2f} s; stopped: {said_stopped:.2f} s"
    )
    assert stale_after >= STALE_AFTER - 1.5  # not before the heartbeat could be old
    assert "Traceback" not in web.log(), web.log()[-3000:]


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    """One monitor role and two web roles on ports of their own, mail to a real SMTP server."""
    tmp_path = tmp_path_factory.mktemp("roles")
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    target = Target()
    ports = (free_port(), free_port())
    email = (
        '[email]\nenabled = true\nfrom = "status@example.com"\nsmtp_host = "127.0.0.1"\n'
        f'smtp_port = {smtp.port}\ntls = "none"\ntimeout = "5s"\npoll_interval = "200ms"\n'
    )
    config = write_config(
        tmp_path,
        site_port=ports[0],
        target_port=target.port,
        interval="500ms",
        timeout="400ms",
        extra=email,
    )
    monitor = monitor_role(config)
    webs = [web_role(config, p, f"web-{i}") for i, p in enumerate(ports)]
    try:
        for port in ports:
            wait_until(
                "the monitor reporting", lambda p=port: monitor_status(p) == (200, "ok"), START
            )
        yield Rig(ports, target, monitor, mailbox)
        monitor.running()  # it lived through every test that shared it
    finally:
        for proc in (*webs, monitor):
            proc.stop()
        target.stop()
        smtp.stop()
    for proc in (*webs, monitor):
        assert "Traceback" not in proc.log(), proc.log()[-3000:]


class Rig:
    """The two workers' ports, the target, the monitor role and the mailbox."""

    def __init__(
        self, ports: tuple[int, int], target: Target, monitor: Statuswatch, mailbox: Mailbox
    ) -> None:
        self.db = monitor.log_path.parent / "statuswatch.db"
        self.ports = ports
        self.target = target
        self.monitor = monitor
        self.mailbox = mailbox

    def stored(self, query: str, *args: object) -> object:
        """The first column of the first row `query` finds, as another process reads it."""
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True) as db:
            found = db.execute(query, args).fetchone()
        return None if found is None else found[0]

    def url(self, worker: int, path: str) -> str:
        return f"http://127.0.0.1:{self.ports[worker]}{path}"

    def seen_on_both(self, path: str, found, seconds: float = 5.0) -> float:
        """Wall time when `found(json)` first held on both workers' `path` (polled closely)."""
        waiting = set(range(len(self.ports)))
        last = 0.0

        def both() -> bool:
            nonlocal last
            for worker in list(waiting):
                if found(get_json(self.url(worker, path))):
                    waiting.discard(worker)
                    last = time.time()
            return not waiting

        wait_until(f"{path} on both workers", both, seconds, every=0.01)
        return last


def report(name: str, latencies: list[float]) -> None:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    shown = ", ".join(f"{x * 1000:.0f}" for x in latencies)
    print(f"freshness of {name} on two workers (ms): {shown}; p99 {p99 * 1000:.0f}")
    assert max(latencies) < FRESH, (name, latencies)


def test_an_incident_is_on_both_workers_within_a_second(two_workers):
    rig, latencies = two_workers, []
    for n in range(5):
        status, _, created = open_incident(rig.ports[0], f"Incident {n}")
        committed = time.time()  # the POST answers once the incident is committed
        assert status == 201, created
        assert rig.stored("SELECT 1 FROM incidents WHERE id = ?", created["id"]), "not committed"
        # Admin reads are the monitor's: the same worker sees the incident at once.
        status, _, body = request(
            "GET", rig.url(0, f"/api/v1/incidents/{created['id']}"), token=TOKEN
        )
        assert status == 200, body
        seen = rig.seen_on_both(
            "/api/v2/incidents/unresolved.json",
            lambda doc, i=created["id"]: any(x["id"] == i for x in doc["incidents"]),
        )
        latencies.append(seen - committed)
    report("an incident", latencies)


def test_a_maintenance_window_is_on_both_workers_within_a_second(two_workers):
    rig, latencies = two_workers, []
    soon = datetime.now(UTC) + timedelta(hours=2)
    for n in range(5):
        start = (soon + timedelta(hours=n)).isoformat()
        status, _, body = request(
            "POST",
            rig.url(0, "/api/v1/maintenance"),
            token=TOKEN,
            body={"title": f"Window {n}", "components": ["api"], "start": start, "duration": "30m"},
        )
        committed = time.time()
        assert status == 201, body
        title = f"Window {n}"
        seen = rig.seen_on_both(
            "/api/v2/scheduled-maintenances/upcoming.json",
            lambda doc, t=title: any(m["name"] == t for m in doc["scheduled_maintenances"]),
        )
        latencies.append(seen - committed)
    report("a maintenance window", latencies)


def component_status(doc: dict) -> str:
    (api,) = [c for c in doc["components"] if c["name"] == "Storefront API"]
    return api["status"]


def transition_time(log: str, after: int, to_operational: bool) -> float | None:
    """When the monitor logged the component's change (the `after`-th such line on)."""
    pattern = r"^.* component api: (\w+) -> (\w+)$"
    lines = [m for m in re.finditer(pattern, log, flags=re.M)][after:]
    for m in lines:
        if (m.group(2) == "operational") == to_operational:
            return log_time(m.group(0))
    return None


def test_a_state_change_is_on_both_workers_within_a_second_of_the_monitors(two_workers):
    rig, latencies = two_workers, []
    path = "/api/v2/components.json"
    rig.seen_on_both(path, lambda doc: component_status(doc) == "operational", 10)
    for _ in range(3):
        for status, down in ((500, True), (200, False)):
            done = len(re.findall(r"component api: ", rig.monitor.log()))
            rig.target.answer(status)
            seen = rig.seen_on_both(
                path, lambda doc, d=down: (component_status(doc) != "operational") == d
            )
            changed = wait_until(
                "the monitor's transition in its log",
                lambda d=down, n=done: transition_time(rig.monitor.log(), n, not d),
                5,
            )
            latencies.append(seen - changed)
    report("a component's status", latencies)


def test_a_subscribe_through_a_worker_answers_alike_for_new_pending_and_confirmed(two_workers):
    rig = two_workers
    address = "reader@example.com"

    def subscribe() -> tuple[int, bytes, list[str]]:
        status, headers, body = request(
            "POST", rig.url(1, "/api/v1/subscribers"), body={"email": address}
        )
        return status, body, sorted(k for k in headers if k.lower() != "date")

    new = subscribe()
    confirmation = wait_until("the confirmation mail", lambda: rig.mailbox.to(address), 10)[0]
    pending = subscribe()
    text = confirmation.get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"http://\S+/subscriptions/confirm/[A-Za-z0-9_-]+", text).group(0)
    path = urlsplit(link).path
    form = request("GET", rig.url(1, path))[2].decode()
    # The confirmation's form from one worker, pressed on the other: both are the monitor's.
    done = post_form(rig.url(0, path), {"csrf": CSRF.search(form).group(1), "action": "confirm"})
    assert "You are subscribed" in done
    assert rig.stored("SELECT state FROM subscribers WHERE address = ?", address) == "confirmed"
    confirmed = subscribe()
    # Status, body and header names alike: nothing tells a stranger which addresses exist.
    assert new[0] == 202 and new == pending == confirmed, (new, pending, confirmed)
    assert len(rig.mailbox.to(address)) == 1  # the pending address was not mailed again
