"""Real agents against a real central `statuswatch run`: uploads, refusals, spool, take-over.

Everything on 127.0.0.1: a switchable local target, the central process (its monitors probed
from location "lab" only) and one or two `statuswatch agent` processes polling every 0.3 s.
Waits poll with deadlines; no test sleeps a fixed long time.
"""

from __future__ import annotations

import signal
import time
from collections import Counter

import pytest

from tests.helpers.agents import LAB_TOKEN, LOCATIONS, OTHER_TOKEN, TOKENS, AgentProcess, checks
from tests.helpers.net import free_port
from tests.helpers.processes import (
    TOKEN,
    Statuswatch,
    get_json,
    log_time,
    request,
    wait_until,
    write_config,
)

START = 30.0


@pytest.fixture
def central(tmp_path, target, monkeypatch):
    """Start (and finally stop) a central process; the fixture is its factory."""
    for name, value in TOKENS.items():
        monkeypatch.setenv(name, value)
    started: list[Statuswatch] = []

    def start(*, workers: int = 0, monitors: int = 1, interval: str = "1s") -> Statuswatch:
        port = started[0].port if started else free_port()
        config = write_config(
            tmp_path,
            site_port=port,
            target_port=target.port,
            workers=workers,
            monitors=monitors,
            interval=interval,
            extra=LOCATIONS,
        )
        proc = Statuswatch(config)
        proc.port = port  # type: ignore[attr-defined]
        started.append(proc)
        wait_until("central answers", lambda: _answers(port, proc), START)
        return proc

    yield start
    for proc in started:
        proc.stop()


def _answers(port: int, proc: Statuswatch) -> bool:
    proc.running()
    return request("GET", f"http://127.0.0.1:{port}/healthz")[0] in (200, 503)


@pytest.fixture
def agents(tmp_path):
    """Agent processes started by the test, stopped at its end."""
    started: list[AgentProcess] = []

    def start(port: int, agent_id: str = "a1") -> AgentProcess:
        agent = AgentProcess(tmp_path, port, agent_id=agent_id)
        started.append(agent)
        return agent

    yield start
    for agent in started:
        agent.signal(signal.SIGCONT)  # a stopped one cannot handle SIGTERM
        agent.stop()


def upload(port: int, results: list[dict], *, token: str = LAB_TOKEN, location: str = "lab"):
    body = {"location": location, "agent": "t", "sent_at": time.time(), "results": results}
    status, _, raw = request(
        "POST", f"http://127.0.0.1:{port}/api/v1/agent/results", token=token, body=body
    )
    return status, raw


def result(monitor: str, at: float, ok: bool = True) -> dict:
    return {"monitor": monitor, "time": at, "ok": ok, "latency": 0.01, "message": "ok"}


def test_an_agent_probes_and_its_results_show_in_the_api(central, agents, tmp_path):
    server = central(workers=1)  # through a web worker: the agents' routes are the monitor's
    port = server.port
    agent = agents(port)
    monitors = wait_until(
        "the agent's results reach /api/v1/monitors",
        lambda: (
            (m := get_json(f"http://127.0.0.1:{port}/api/v1/monitors", TOKEN)["monitors"])
            and m[0]["state"] == "up"
            and m
        ),
        START,
    )
    assert monitors[0]["last_result"]["ok"] is True, agent.log()
    stored = checks(tmp_path / "statuswatch.db")
    assert stored and {m for m, _ in stored} == {"api-0"}
    assert checks(tmp_path / "statuswatch.db", "local") == []  # central does not probe it
    locations = get_json(f"http://127.0.0.1:{port}/api/v1/locations", TOKEN)["locations"]
    lab = next(loc for loc in locations if loc["id"] == "lab")
    (a1,) = lab["agents"]
    assert a1["id"] == "a1" and a1["last_seen"] and lab["last_seen"]
    assert a1["lag_seconds"] is not None and 0 <= a1["lag_seconds"] < 5
    assert a1["skew_seconds"] is not None and abs(a1["skew_seconds"]) < 5
    assert next(loc for loc in locations if loc["id"] == "far")["agents"] == []
    status, _, _ = request("GET", f"http://127.0.0.1:{port}/api/v1/locations")
    assert status == 401


def test_uploads_are_authenticated_confined_checked_and_idempotent(central, tmp_path):
    port = central(monitors=2, interval="1h").port
    db = tmp_path / "statuswatch.db"
    now = time.time()
    # A wrong token: 401; another location's token or body: 403, nothing stored.
    assert upload(port, [result("api-0", now)], token="wrong")[0] == 401
    status, raw = upload(port, [result("api-0", now)], location="far")
    assert status == 403 and b"lab" in raw
    status, _ = upload(port, [result("api-0", now)], token=OTHER_TOKEN)
    assert status == 403
    assert checks(db) == [] and checks(db, "far") == []
    # A time far ahead, an unknown monitor: 422 naming the field; nothing stored either.
    status, raw = upload(port, [result("api-0", now), result("api-1", now + 3600)])
    assert status == 422 and b"results[1].time" in raw
    status, raw = upload(port, [result("nope", now)])
    assert status == 422 and b"results[0].monitor" in raw and b"nope" in raw
    assert checks(db) == []
    too_many = [result("api-0", now - i) for i in range(501)]
    assert upload(port, too_many)[0] == 413
    assert upload(port, [result("api-0", now, ok=True)] * 2000)[0] == 413  # over the byte cap
    # Accepted once; the same batch again changes nothing and says so.
    batch = [result("api-0", now - 2), result("api-0", now - 1), result("api-1", now - 1)]
    status, raw = upload(port, batch)
    assert (status, get_json_body(raw)) == (200, {"accepted": 3, "duplicates": 0})
    before = checks(db)
    status, raw = upload(port, [*batch, result("api-0", now)])
    assert (status, get_json_body(raw)) == (200, {"accepted": 1, "duplicates": 3})
    assert checks(db) == sorted([*before, ("api-0", now)], key=lambda c: c[1])


def get_json_body(raw: bytes) -> dict:
    import json

    return json.loads(raw)


def test_spooled_results_arrive_with_their_times_after_the_server_is_back(
    central, agents, tmp_path
):
    server = central()
    agent = agents(server.port)
    db = tmp_path / "statuswatch.db"
    wait_until("first results stored", lambda: len(checks(db)) >= 2, START)
    server.stop()
    down_at = time.time()
    spooled = wait_until("the agent spools", lambda: len(s := agent.spooled()) >= 3 and s, 20)
    assert "unreachable" in agent.log()
    server = central()
    wait_until("the spool drains", lambda: agent.spooled() == [], START)
    stored = checks(db)
    times = [t for _, t in stored]
    assert set(spooled) <= set(times)  # the original check times, from while it was away
    assert [t for t in spooled if t > down_at]
    assert len(times) == len(set(times))  # none twice
    assert all(n == 1 for n in Counter(stored).values())


def test_an_agent_killed_9_loses_nothing_it_had_spooled(central, agents, tmp_path):
    server = central(monitors=10)
    agent = agents(server.port)
    db = tmp_path / "statuswatch.db"
    wait_until("first results stored", lambda: len(checks(db)) >= 4, START)
    server.stop()
    wait_until("the agent spools", lambda: len(agent.spooled()) >= 30, 20)
    agent.signal(signal.SIGKILL)  # no chance to commit, upload or close anything
    agent.proc.wait(timeout=10)
    spooled = agent.spooled()  # committed: what it had acknowledged as spooled
    assert len(spooled) >= 30
    server = central(monitors=10)
    again = agents(server.port)  # the same id, so the same spool file
    wait_until("the old spool drains", lambda: not set(spooled) & set(again.spooled()), START)
    stored = checks(db)
    assert set(spooled) <= {t for _, t in stored}
    assert all(n == 1 for n in Counter(stored).values())


def test_sigstopped_agent_resumes_without_duplicates(central, agents, tmp_path):
    server = central()
    agent = agents(server.port)
    db = tmp_path / "statuswatch.db"
    wait_until("first results stored", lambda: len(checks(db)) >= 2, START)
    agent.signal(signal.SIGSTOP)
    stopped = len(checks(db))
    time.sleep(3.0)  # three intervals of silence
    assert len(checks(db)) <= stopped + 1  # at most one upload was already on its way
    resumed = time.time()
    agent.signal(signal.SIGCONT)
    wait_until("results again", lambda: checks(db) and checks(db)[-1][1] > resumed, 15)
    stored = checks(db)
    assert len(stored) == len(set(stored))


def test_two_agents_share_a_location_and_one_takes_over_from_a_dead_one(central, agents, tmp_path):
    interval = 3.0
    server = central(monitors=8, interval=f"{interval:g}s")
    a1, a2 = agents(server.port, "a1"), agents(server.port, "a2")
    db = tmp_path / "statuswatch.db"
    everything = {f"api-{i}" for i in range(8)}

    def split() -> tuple[set[str], set[str]] | None:
        mine = {a: _probing(agent.log()) for a, agent in (("a1", a1), ("a2", a2))}
        one, two = mine["a1"], mine["a2"]
        return (one, two) if one and two and not one & two and one | two == everything else None

    first, _second = wait_until("each agent has its own share", split, START)
    wait_until("a1's monitors checked", lambda: first <= {m for m, _ in checks(db)}, 15)
    a1.signal(signal.SIGKILL)
    a1.proc.wait(timeout=10)
    killed = time.time()
    last = {m: max(t for mm, t in checks(db) if mm == m) for m in first}
    wait_until("a2 takes a1's monitors", lambda: _probing(a2.log()) == everything, 10)
    # The take-over (TTL 2.5 polls of 0.3 s, then a2's next poll) comes well before a check of
    # a1's monitors is due again: a2 probes each at the first slot after it.
    took_over = _took_over(a2.log(), everything)
    assert took_over - killed < interval / 2, took_over - killed
    wait_until(
        "a2 checked a1's monitors",
        lambda: all(any(t > took_over for mm, t in checks(db) if mm == m) for m in first),
        interval + 5,
    )
    for m in first:
        after = min(t for mm, t in checks(db) if mm == m and t > last[m])
        # Its slots stay where they were (stable phases): a2's first check is the first slot
        # after the take-over, one interval after a1's last, or two when that slot fell
        # between the kill and the take-over.
        slots = 1 if last[m] + interval > took_over else 2
        assert after - last[m] < slots * interval + 0.5, (m, after - last[m], slots)


def _took_over(log: str, monitors: set[str]) -> float:
    """When the agent's log last said it probes all of `monitors` (its latest assignment)."""
    for line in reversed(log.splitlines()):
        if ": probing " in line and _probing(line) == monitors:
            return log_time(line)
    raise AssertionError("no take-over in the log")


def _probing(log: str) -> set[str]:
    """The monitors an agent's log last said it probes."""
    lines = [line for line in log.splitlines() if ": probing " in line]
    if not lines:
        return set()
    listed = lines[-1].split(": probing ", 1)[1]
    return set() if listed == "none" else set(listed.split(", "))
