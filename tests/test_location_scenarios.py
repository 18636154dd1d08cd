"""Several locations as real processes: a central `statuswatch run`, three agents, real mail.

Each location's agent reaches the one healthy target through a fault proxy of its own (its
HTTP_PROXY; the monitor's host is a name only that proxy "resolves", and NO_PROXY keeps the
agent's own connection to the server direct), so "down from east" is east's proxy refusing
while west and north still get through. The central process probes nothing itself ("local"
is not among the locations); mail goes to a real SMTP server (aiosmtpd) and subscribers
confirm through the links, as people do.
A location is down after two failed checks (one probe slowed by a busy machine is not), up
after one. Waits poll with deadlines; the only fixed waits are the quiet periods a "no more
mail" needs.
"""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller

from tests.helpers.agents import AgentProcess, checks
from tests.helpers.fault_proxy import FaultProxy
from tests.helpers.net import free_port
from tests.helpers.notify import CSRF, Mailbox
from tests.helpers.processes import (
    TOKEN,
    Statuswatch,
    Target,
    get_json,
    post_form,
    request,
    wait_until,
    write_config,
)

START = 30.0
INTERVAL = 1.0
PLACES = {"east": "East Coast", "west": "West Coast", "north": "Nordics"}
TOKENS = {p: f"{p}-agent-token-0123456789abcdef" for p in PLACES}
SUBSCRIBERS = ("ada@example.com", "bob@example.com")
TARGET_HOST = "target.lab.invalid"
QUIET = 3.0  # intervals enough for a late mail, a late incident or a wrong state to show


def locations_config(smtp_port: int) -> str:
    places = "".join(
        f'[[locations]]\nid = "{p}"\nname = "{name}"\ntoken_env = "{p.upper()}_TOKEN"\n\n'
        for p, name in PLACES.items()
    )
    listed = ", ".join(f'"{p}"' for p in PLACES)
    return (
        f"{places}[probing]\nlocations = [{listed}]\n\n"
        '[email]\nenabled = true\nfrom = "status@example.com"\nsmtp_host = "127.0.0.1"\n'
        f'smtp_port = {smtp_port}\ntls = "none"\ntimeout = "5s"\npoll_interval = "200ms"\n'
    )


class Lab:
    """The central process, one agent and one fault proxy per location, and the mailbox."""

    host = "127.0.0.1"  # where the central process and the target listen

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.tmp_path = tmp_path
        self.db = tmp_path / "statuswatch.db"
        self.mailbox = Mailbox()
        self.smtp = Controller(self.mailbox, hostname="127.0.0.1", port=free_port())
        self.smtp.start()
        self.target = Target(self.host)
        self.proxies = self.make_proxies()
        for p, token in TOKENS.items():
            monkeypatch.setenv(f"{p.upper()}_TOKEN", token)
        self.port = free_port()
        config = write_config(
            tmp_path,
            site_port=self.port,
            target_port=self.target.port,
            workers=0,
            interval=f"{INTERVAL:g}s",
            extra=locations_config(self.smtp.port),
        )
        # Only through a location's proxy: a name no resolver knows (the target ignores it).
        # Two failures to call a location down: one probe slowed by a busy machine is not.
        text = config.read_text(encoding="utf-8").replace(
            "confirm_failures = 1", "confirm_failures = 2"
        )
        text = text.replace(f"127.0.0.1:{self.port}", f"{self.host}:{self.port}")
        config.write_text(text.replace(f"127.0.0.1:{self.target.port}", self.target_address()))
        self.central = Statuswatch(config)
        self.agents: dict[str, AgentProcess] = {}
        try:
            wait_until("central answers", self._answers, START)
            for p in PLACES:
                self.start_agent(p)
            every_up = dict.fromkeys(PLACES, "up")
            wait_until("every location up", lambda: self.location_states() == every_up, START)
            for address in SUBSCRIBERS:
                self.subscribe(address)
        except BaseException:
            self.close()
            raise
        _LABS.append(self)

    def make_proxies(self) -> dict[str, FaultProxy]:
        """Each location's way to the target."""
        return {p: FaultProxy(self.target.port) for p in PLACES}

    def target_address(self) -> str:
        """host:port of the target in the monitor's URL."""
        return f"{TARGET_HOST}:{self.target.port}"

    def start_agent(self, place: str) -> AgentProcess:
        proxy = f"http://127.0.0.1:{self.proxies[place].port}"
        agent = AgentProcess(
            self.tmp_path,
            self.port,
            agent_id=f"{place}-1",
            location=place,
            token=TOKENS[place],
            env={"HTTP_PROXY": proxy, "http_proxy": proxy, "NO_PROXY": "127.0.0.1"},
        )
        self.agents[place] = agent
        return agent

    def close(self) -> None:
        for agent in self.agents.values():
            agent.signal(signal.SIGCONT)  # a stopped one cannot handle SIGTERM
            agent.stop()
        self.central.stop()
        for proxy in self.proxies.values():
            proxy.stop()
        self.target.stop()
        self.smtp.stop()

    def _answers(self) -> bool:
        self.central.running()
        return request("GET", self.url("/healthz"))[0] in (200, 503)

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def subscribe(self, address: str) -> None:
        """Subscribe and confirm through the mailed link, as a person would."""
        status, _, body = request("POST", self.url("/api/v1/subscribers"), body={"email": address})
        assert status == 202, body
        (mail,) = wait_until("the confirmation mail", lambda: self.mailbox.to(address), 10)
        text = mail.get_body(preferencelist=("plain",)).get_content()
        link = re.search(r"http://\S+/subscriptions/confirm/[A-Za-z0-9_-]+", text).group(0)
        path = urlsplit(link).path
        _, _, form = request("GET", self.url(path))
        csrf = CSRF.search(form.decode()).group(1)
        assert "You are subscribed" in post_form(
            self.url(path), {"csrf": csrf, "action": "confirm"}
        )
        self.mailbox.messages.remove(mail)

    def monitor(self) -> dict:
        (monitor,) = get_json(self.url("/api/v1/monitors"), TOKEN)["monitors"]
        return monitor

    def state(self) -> str:
        return self.monitor()["state"]

    def location_states(self) -> dict[str, str]:
        return {loc["location"]: loc["state"] for loc in self.monitor()["locations"]}

    def component(self) -> str:
        doc = get_json(self.url("/api/v2/components.json"))
        (api,) = [c for c in doc["components"] if c["name"] == "Storefront API"]
        return api["status"]

    def incidents(self) -> list[dict]:
        return get_json(self.url("/api/v1/incidents"), TOKEN)["incidents"]

    def page(self) -> str:
        return request("GET", self.url("/"))[2].decode()

    def mail(self) -> Counter[str]:
        """How many messages each subscriber has had (confirmations not counted)."""
        return Counter(m["To"] for m in self.mailbox.messages)

    def stored(self, query: str, *args: object) -> list[tuple]:
        with sqlite3.connect(f"file:{self.db}?mode=ro", uri=True) as db:
            return db.execute(query, args).fetchall()

    def failing_since(self, place: str, since: float) -> float | None:
        """The first failing check time from `place` after `since`."""
        times = [
            t
            for (t,) in self.stored(
                "SELECT time FROM checks WHERE location = ? AND ok = 0 AND time > ? ORDER BY time",
                place,
                since,
            )
        ]
        return times[0] if times else None


@pytest.fixture
def lab(tmp_path, monkeypatch):
    lab = Lab(tmp_path, monkeypatch)
    yield lab
    lab.close()


def epoch(stamp: str) -> float:
    """An API time (ISO 8601, Z) as epoch seconds."""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


_LABS: list[Lab] = []


def lab_now() -> object:
    """What the lab's central process shows now (for a failed hold's message)."""
    lab = _LABS[-1]
    return lab.monitor(), lab.incidents(), lab.mail()


def hold(what: str, check, seconds: float) -> None:
    """Assert `check()` holds throughout `seconds` (sampled)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert check(), (what, lab_now())
        time.sleep(0.1)


def test_down_from_every_location_is_one_incident_one_mail_each_from_the_quorum_time(lab):
    switched = time.time()
    for proxy in lab.proxies.values():
        proxy.set("refuse")
    every_down = dict.fromkeys(PLACES, "down")
    wait_until("down from everywhere", lambda: lab.location_states() == every_down, 15)
    assert lab.state() == "down"
    wait_until("the component in an outage", lambda: lab.component() == "major_outage", 5)
    mails = wait_until("a mail to each", lambda: len(lab.mail()) == 2 and lab.mail(), 15)
    hold(
        "one incident, one mail each",
        lambda: len(lab.incidents()) == 1 and lab.mail() == mails,
        QUIET,
    )
    assert mails == Counter(dict.fromkeys(SUBSCRIBERS, 1))
    # The outage starts at the first check time at which a quorum (two of three) was down.
    firsts = sorted(lab.failing_since(p, switched) for p in PLACES)
    quorum_time = firsts[1]
    start = epoch(lab.monitor()["open_outage"]["start"])
    assert start == pytest.approx(quorum_time, abs=0.001), (firsts, lab.monitor())
    assert "Major outage" in lab.page() or "major outage" in lab.page().lower()


def test_down_from_one_location_of_three_is_regional_no_incident_no_mail_no_downtime(lab):
    lab.proxies["east"].set("hang")  # accepted, never answered: east's probes time out
    assert_regional(lab, "east")


def assert_regional(lab: Lab, place: str) -> None:
    """`place` alone down: regional, degraded, no incident, no mail, no downtime."""
    wait_until(f"{place} down", lambda: lab.location_states()[place] == "down", 15)
    assert lab.state() == "regional"
    assert lab.location_states() == {p: "down" if p == place else "up" for p in PLACES}
    wait_until("degraded", lambda: lab.component() == "degraded_performance", 5)
    page = lab.page().lower()
    assert "degraded performance" in page and "major outage" not in page
    hold(
        "regional, no incident, no mail",
        lambda: lab.state() == "regional" and lab.incidents() == [] and not lab.mail(),
        QUIET,
    )
    status, _, raw = request("GET", lab.url("/api/v1/availability?component=api&window=24h"))
    assert status == 200, raw
    figures = json.loads(raw)
    assert figures["unexcused_downtime_minutes"] == 0, figures
    assert figures["availability_percent"] == 100, figures


def test_down_from_two_locations_of_three_is_down_one_incident(lab):
    switched = time.time()
    lab.proxies["east"].set("drop")  # the answer cut mid-stream
    lab.proxies["west"].set("refuse")
    assert_down_from(lab, ("east", "west"), switched)


def assert_down_from(lab: Lab, places: tuple[str, ...], switched: float) -> None:
    """A quorum of `places` down since `switched`: down, one incident, one mail each."""
    want = {p: "down" if p in places else "up" for p in PLACES}
    wait_until(f"{' and '.join(places)} down", lambda: lab.location_states() == want, 15)
    assert lab.state() == "down"
    wait_until("the component in an outage", lambda: lab.component() == "major_outage", 5)
    wait_until("a mail to each", lambda: len(lab.mail()) == 2, 15)
    hold("one incident", lambda: len(lab.incidents()) == 1, QUIET)
    assert lab.mail() == Counter(dict.fromkeys(SUBSCRIBERS, 1))
    quorum_time = max(lab.failing_since(p, switched) for p in places)
    assert epoch(lab.monitor()["open_outage"]["start"]) == pytest.approx(quorum_time, abs=0.001)


def test_a_stopped_agent_is_no_evidence_never_down_and_resumes_without_duplicates(lab):
    west = lab.agents["west"]
    west.signal(signal.SIGSTOP)
    stopped = time.time()
    assert_silent(lab, "west")
    west.signal(signal.SIGCONT)
    resumed = time.time()
    wait_until("west up again", lambda: lab.location_states()["west"] == "up", 15)
    gaps = wait_until(
        "west's silence on record",
        lambda: lab.stored(
            "SELECT started, ended, reason FROM gaps WHERE location = 'west' AND started >= ?",
            stopped - 2 * INTERVAL,
        ),
        10,
    )
    # Its silence; then maybe the run frozen mid-way, inconclusive ("stalled"): never down.
    assert gaps[0][2] == "silent" and {r for _, _, r in gaps[1:]} <= {"stalled"}, gaps
    started, ended, _ = gaps[0]
    assert stopped - 2 * INTERVAL <= started <= stopped + INTERVAL
    assert resumed - INTERVAL <= ended <= resumed + 3 * INTERVAL
    assert_back_once(lab, "west", resumed)


def assert_silent(lab: Lab, place: str) -> None:
    """`place` unheard: no evidence from it (unknown, never down), the others carry it: up."""
    wait_until(f"{place} silent", lambda: lab.location_states()[place] != "up", 15)
    assert lab.location_states()[place] == "unknown", lab.monitor()
    hold("the others carry it: up", lambda: lab.state() == "up", QUIET)


def assert_back_once(lab: Lab, place: str, since: float) -> list[tuple[str, float]]:
    """`place` heard again after `since`: its spool drained, every check stored once, never
    down, no mail, no incident; its stored checks."""
    wait_until(f"{place}'s spool drained", lambda: lab.agents[place].spooled() == [], 10)
    stored = checks(lab.db, place)
    assert all(n == 1 for n in Counter(stored).values())
    assert [t for _, t in stored if t > since]
    hold("never down, no mail, no incident", lambda: not lab.mail() and not lab.incidents(), QUIET)
    states = lab.stored("SELECT new FROM transitions")
    assert ("down",) not in states, states
    return stored


def test_a_replayed_spool_changes_no_verdict_and_sends_no_mail(lab, tmp_path):
    east = lab.agents["east"]
    east.stop()
    link = FaultProxy(lab.port)  # between east and the server: a partition when it refuses
    try:
        proxy = f"http://127.0.0.1:{lab.proxies['east'].port}"
        east = AgentProcess(
            tmp_path,
            link.port,
            agent_id="east-1",
            location="east",
            token=TOKENS["east"],
            env={"HTTP_PROXY": proxy, "http_proxy": proxy, "NO_PROXY": "127.0.0.1"},
        )
        lab.agents["east"] = east
        wait_until("east probing again", lambda: east.log().count("probing api-0") == 2, 20)
        link.set("refuse")
        wait_until("east spools", lambda: len(east.spooled()) >= 3, 20)
        copy = tmp_path / "east-copy.spool"
        live, saved = sqlite3.connect(east.spool), sqlite3.connect(copy)
        try:
            live.backup(saved)
        finally:
            live.close()
            saved.close()
        link.set("pass")
        wait_until("the spool drains", lambda: east.spooled() == [], 20)
        before = checks(lab.db, "east")
        transitions = lab.stored("SELECT time, old, new FROM transitions")
        east.stop()
        # The old batch back into the spool (its rows as they were, the agent stopped).
        spool = sqlite3.connect(east.spool)
        try:
            spool.execute("ATTACH ? AS saved", (str(copy),))
            spool.execute("INSERT INTO results SELECT * FROM saved.results")
            spool.commit()
        finally:
            spool.close()
        replayed = len(east.spooled())
        assert replayed >= 3, "the copy holds the old batch"
        started = len(east.log())
        east = AgentProcess(
            tmp_path,
            link.port,
            agent_id="east-1",
            location="east",
            token=TOKENS["east"],
            env={"HTTP_PROXY": proxy, "http_proxy": proxy, "NO_PROXY": "127.0.0.1"},
        )
        lab.agents["east"] = east
        wait_until("the replay uploaded", lambda: east.spooled() == [], 20)
        assert f"reachable; {replayed} results spooled" in east.log()[started:]  # sent again
        after = checks(lab.db, "east")
        assert after[: len(before)] == before  # nothing twice, nothing moved
        assert all(n == 1 for n in Counter(after).values())
        assert (
            lab.stored("SELECT time, old, new FROM transitions")[: len(transitions)] == transitions
        )
        hold("up, no mail, no incident", lambda: lab.state() == "up" and not lab.mail(), QUIET)
        assert lab.incidents() == []
    finally:
        link.stop()
