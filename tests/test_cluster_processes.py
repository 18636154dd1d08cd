"""Two real `statuswatch run` nodes on one real PostgreSQL: one leads, the other follows and
forwards the writes to it; the leader `kill -9`ed, the follower leads within the TTL plus one
renew interval and goes on deciding (the target's outage is recorded under its term)."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from tests.helpers.net import free_port
from tests.helpers.postgres import PostgresCluster
from tests.helpers.processes import (
    TOKEN,
    Statuswatch,
    Target,
    get_json,
    healthz,
    request,
    wait_until,
    write_config,
)

TTL = 3.0
CLUSTER_TOKEN = "cluster-token-of-the-test-0123456789"


def _node(tmp_path: Path, name: str, target: Target) -> tuple[Path, int]:
    where = tmp_path / name
    where.mkdir()
    port = free_port()
    extra = (
        f'\n[cluster]\nnode = "{name}"\nlease_ttl = "{TTL:g}s"\n'
        f'advertise = "http://127.0.0.1:{port}"\n'
    )
    config = write_config(where, site_port=port, target_port=target.port, workers=0, extra=extra)
    text = config.read_text().replace(
        '[storage]\npath = "statuswatch.db"\n',
        '[storage]\npath = "statuswatch.db"\nurl_env = "STATUSWATCH_DATABASE_URL"\n',
    )
    config.write_text(text)
    return config, port


def _role(port: int) -> str | None:
    status, body = healthz(port)
    return body.get("role") if status in (200, 503) else None


@pytest.fixture
def target():
    target = Target()
    yield target
    target.stop()


def test_the_follower_leads_within_the_ttl_after_the_leader_is_killed(
    tmp_path: Path, target: Target, postgres: PostgresCluster, monkeypatch
) -> None:
    monkeypatch.setenv("STATUSWATCH_DATABASE_URL", postgres.database())
    monkeypatch.setenv("STATUSWATCH_CLUSTER_TOKEN", CLUSTER_TOKEN)
    config_a, port_a = _node(tmp_path, "a", target)
    config_b, port_b = _node(tmp_path, "b", target)
    a = Statuswatch(config_a, name="a")
    nodes = [a]
    try:
        wait_until("node a leads", lambda: _role(port_a) == "leader", 30)
        b = Statuswatch(config_b, name="b")
        nodes.append(b)
        wait_until("node b follows", lambda: _role(port_b) == "follower", 30)
        assert healthz(port_b)[1]["lease"]["holder"] == "a"
        # A write at the follower is answered by the leader.
        incident = {
            "title": "Checkout is slow",
            "status": "investigating",
            "body": "We are looking into it.",
            "components": {},
        }
        status, _, body = request(
            "POST", f"http://127.0.0.1:{port_b}/api/v1/incidents", token=TOKEN, body=incident
        )
        assert status == 201, body
        a.stop(signal.SIGKILL)
        killed = time.monotonic()
        wait_until("node b leads", lambda: _role(port_b) == "leader", TTL + TTL / 3 + 5)
        took = time.monotonic() - killed
        assert took <= TTL + TTL / 3 + 1.0, took
        lease = healthz(port_b)[1]["lease"]
        assert (lease["holder"], lease["fence"]) == ("b", 2)
        target.answer(500)

        def api_down() -> bool:
            summary = get_json(f"http://127.0.0.1:{port_b}/api/v2/summary.json")
            return any(
                c["name"] == "Storefront API" and c["status"] != "operational"
                for c in summary["components"]
            )

        wait_until("the new leader decides the target is down", api_down, 15)
        print(f"failover: node b led {took:.2f} s after node a was killed (ttl {TTL} s)")
    finally:
        for node in nodes:
            node.stop(signal.SIGKILL if node.proc.poll() is None else signal.SIGTERM)
