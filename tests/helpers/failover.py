"""Two real `statuswatch run` nodes on PostgreSQL with real mail: their configs, the pair (node a
leading, node b following, subscribers confirmed) and what the tests read back from the database
and the mailbox (tests/test_cluster_processes.py, tests/test_cluster_replica.py)."""

from __future__ import annotations

import re
import signal
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from aiosmtpd.controller import Controller

from tests.helpers.net import free_port
from tests.helpers.notify import CSRF, Mailbox
from tests.helpers.processes import (
    Statuswatch,
    Target,
    healthz,
    post_form,
    request,
    wait_until,
    write_config,
)

TTL = 3.0
CLUSTER_TOKEN = "cluster-token-of-the-test-0123456789"
RENEW = TTL / 3
SUBSCRIBERS = ("ada@example.com", "bob@example.com")
QUIET = 3.0  # intervals enough for a second outage, incident or mail to show

# A silence longer than two check intervals is a gap in the evidence (statuswatch was not
# looking), and a gap ends an open outage at its last evidence: an outage survives a failover
# whole only when the takeover (at most TTL + a third, after up to one interval since the old
# leader's last check) fits in two intervals. Checks every 6 s: the next leader's first check
# lands on the next slot of the monitor's stable phase, 6 s after the old leader's last.
SURVIVING_INTERVAL = 6.0


def node_config(
    tmp_path: Path,
    name: str,
    target: Target,
    extra: str = "",
    interval: float = 1.0,
    workers: int = 0,
) -> tuple[Path, int]:
    where = tmp_path / name
    where.mkdir()
    port = free_port()
    extra += (
        f'\n[cluster]\nnode = "{name}"\nlease_ttl = "{TTL:g}s"\n'
        f'advertise = "http://127.0.0.1:{port}"\n'
    )
    config = write_config(
        where,
        site_port=port,
        target_port=target.port,
        workers=workers,
        interval=f"{interval:g}s",
        extra=extra,
    )
    text = config.read_text().replace(
        '[storage]\npath = "statuswatch.db"\n',
        '[storage]\npath = "statuswatch.db"\nurl_env = "STATUSWATCH_DATABASE_URL"\n',
    )
    config.write_text(text)
    return config, port


def role(port: int) -> str | None:
    status, body = healthz(port)
    return body.get("role") if status in (200, 503) else None


def _email(smtp_port: int) -> str:
    return (
        '[email]\nenabled = true\nfrom = "status@example.com"\nsmtp_host = "127.0.0.1"\n'
        f'smtp_port = {smtp_port}\ntls = "none"\ntimeout = "5s"\npoll_interval = "200ms"\n'
    )


def _subscribe(port: int, mailbox: Mailbox, address: str) -> None:
    """Subscribe and confirm through the mailed link, as a person would."""
    base = f"http://127.0.0.1:{port}"
    status, _, body = request("POST", f"{base}/api/v1/subscribers", body={"email": address})
    assert status == 202, body
    (mail,) = wait_until("the confirmation mail", lambda: mailbox.to(address), 10)
    text = mail.get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"http://\S+/subscriptions/confirm/[A-Za-z0-9_-]+", text).group(0)
    path = urlsplit(link).path
    csrf = CSRF.search(request("GET", base + path)[2].decode()).group(1)
    assert "You are subscribed" in post_form(base + path, {"csrf": csrf, "action": "confirm"})
    mailbox.messages.remove(mail)


class Pair:
    """Node a leading, node b following, on one database; subscribers confirmed; the mailbox."""

    def __init__(self, tmp_path: Path, target: Target, url: str, interval: float) -> None:
        self.url = url
        self.interval = interval
        self.mailbox = Mailbox()
        self.smtp = Controller(self.mailbox, hostname="127.0.0.1", port=free_port())
        self.smtp.start()
        mail = _email(self.smtp.port)
        config_a, self.port_a = node_config(tmp_path, "a", target, mail, interval)
        config_b, self.port_b = node_config(tmp_path, "b", target, mail, interval)
        self.a = Statuswatch(config_a, name="a")
        self.nodes = [self.a]
        try:
            wait_until("node a leads", lambda: role(self.port_a) == "leader", 30)
            for address in SUBSCRIBERS:
                _subscribe(self.port_a, self.mailbox, address)
            self.b = Statuswatch(config_b, name="b")
            self.nodes.append(self.b)
            wait_until("node b follows", lambda: role(self.port_b) == "follower", 30)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        for node in self.nodes:
            node.proc.send_signal(signal.SIGCONT)  # a stopped one cannot handle SIGKILL's wait
            node.stop(signal.SIGKILL if node.proc.poll() is None else signal.SIGTERM)
        self.smtp.stop()

    def query(self, sql: str) -> list[tuple]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            return conn.execute(sql).fetchall()

    def outages(self) -> list[tuple]:
        return self.query("SELECT started, ended FROM outages ORDER BY id")

    def first_failure(self) -> float:
        ((first,),) = self.query("SELECT min(time) FROM checks WHERE ok = 0")
        return first

    def incidents(self) -> int:
        return self.query("SELECT count(*) FROM incidents WHERE auto = 1")[0][0]

    def mail(self) -> Counter[str]:
        """How many messages each subscriber has had (confirmations not counted)."""
        return Counter(m["To"] for m in self.mailbox.messages)

    def takeover(self, since: float) -> float:
        """Wait for node b to lead (within the TTL plus one renew interval); seconds it took."""
        wait_until("node b leads", lambda: role(self.port_b) == "leader", TTL + RENEW + 5)
        took = time.monotonic() - since
        assert took <= TTL + RENEW + 1.0, took
        lease = healthz(self.port_b)[1]["lease"]
        assert (lease["holder"], lease["fence"]) == ("b", 2)
        return took

    def gaps(self) -> list[tuple]:
        return self.query("SELECT started, ended, reason FROM gaps ORDER BY started")

    def settled_once(self, outages: int = 1) -> None:
        """`outages` rows, one incident, one mail each, held; the last outage open."""
        wait_until("the outages", lambda: len(self.outages()) >= outages, 15)
        wait_until("the automatic incident", lambda: self.incidents() >= 1, 15)
        wanted = Counter(dict.fromkeys(SUBSCRIBERS, 1))
        wait_until("a mail to each subscriber", lambda: len(self.mail()) == 2, 20)
        deadline = time.monotonic() + max(QUIET, self.interval + 1)  # the next leader's check
        while time.monotonic() < deadline:
            now = (len(self.outages()), self.incidents(), self.mail())
            assert now == (outages, 1, wanted), now
            time.sleep(0.2)
        assert self.outages()[-1][1] is None

    def one_outage_from_the_first_failure(self) -> None:
        """The one outage row starts at the first failing check's time."""
        ((started, _),) = self.outages()
        assert started == pytest.approx(self.first_failure(), abs=0.001)
