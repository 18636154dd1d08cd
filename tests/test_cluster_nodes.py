"""Two nodes' apps, each campaigning on a real PostgreSQL lease: the leader opens the deciding
work (monitoring, board, housekeeping, notifications), the follower none of it and forwards a
write to the leader's advertised site over real HTTP; when the leader stops, it gives the lease
up and the follower's next round makes it the leader. Both use the one PostgreSQL store the
config selects (`storage.url_env`), as real nodes do."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer

from statuswatch.clock import FakeClock
from statuswatch.web import create_app
from statuswatch.web.keys import CLOCK, CLUSTER, MONITORING
from tests.helpers.config import make_config
from tests.helpers.net import free_port
from tests.helpers.notify import ADMIN, ENV
from tests.helpers.postgres import PostgresCluster

TOKEN = "cluster-token-0123456789"
AUTH = {"Authorization": f"Bearer {ADMIN}"}


def _node(tmp_path: Path, name: str, url: str) -> TestServer:
    port = free_port()
    where = tmp_path / name
    where.mkdir()
    cluster = {"node": name, "advertise": f"http://127.0.0.1:{port}"}
    storage = {"path": str(where / "sw.db"), "url_env": "STATUSWATCH_DATABASE_URL"}
    config = make_config(where, [], cluster=cluster, storage=storage)
    env = {**ENV, "STATUSWATCH_CLUSTER_TOKEN": TOKEN, "STATUSWATCH_DATABASE_URL": url}
    app = create_app(config, clock=FakeClock(), environ=env, probe=False)
    return TestServer(app, port=port)


async def test_one_node_decides_the_other_forwards_then_takes_over(
    tmp_path: Path, postgres: PostgresCluster
) -> None:
    url = postgres.database()  # the first node's store migrates it (the lease table too)
    a, b = _node(tmp_path, "a", url), _node(tmp_path, "b", url)
    await a.start_server()
    await b.start_server()
    try:
        assert a.app[CLUSTER].leading and MONITORING in a.app
        assert not b.app[CLUSTER].leading and MONITORING not in b.app
        async with aiohttp.ClientSession() as http:
            async with http.get(b.make_url("/healthz")) as resp:
                health = await resp.json()
            assert resp.status == 200
            assert (health["role"], health["lease"]["holder"]) == ("follower", "a")
            async with http.get(a.make_url("/healthz")) as resp:
                assert (await resp.json())["role"] == "leader"
            incident = {
                "title": "Checkout is slow",
                "status": "investigating",
                "body": "We are looking into it.",
                "components": {},
            }
            async with http.post(
                b.make_url("/api/v1/incidents"), json=incident, headers=AUTH
            ) as resp:
                assert resp.status == 201, await resp.text()
                created = await resp.json()
            async with http.get(a.make_url("/api/v1/incidents"), headers=AUTH) as resp:
                listed = await resp.json()
            assert [i["id"] for i in listed["incidents"]] == [created["id"]]
            async with http.get(b.make_url("/api/v1/incidents"), headers=AUTH) as resp:
                assert [i["id"] for i in (await resp.json())["incidents"]] == [created["id"]]
            async with http.get(b.make_url("/metrics")) as resp:
                text = await resp.text()
            assert "statuswatch_leader 0.0" in text
            await a.close()  # a clean stop gives the lease up
            await b.app[CLUSTER].campaign.step()
            assert b.app[CLUSTER].leading and MONITORING in b.app
            b.app[CLOCK].advance(2)  # past /healthz's one-second cache
            async with http.get(b.make_url("/healthz")) as resp:
                health = await resp.json()
            assert (health["role"], health["lease"]["holder"], health["lease"]["fence"]) == (
                "leader",
                "b",
                2,
            )
    finally:
        await b.close()
        await a.close()
