"""A follower hands the write routes to the leader's advertised site over real HTTP: with the
cluster token and the stranger's address (trusted only with a valid token), one hop only, and
503 with Retry-After when no node leads."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from statuswatch.auth.tokens import token_digest
from statuswatch.cluster.forward import LeaderLink, LeaderRouter
from statuswatch.cluster.lease import Term
from statuswatch.cluster.settings import TOKEN_HEADER
from statuswatch.roles.forward import CLIENT_HEADER
from statuswatch.web.keys import CLUSTER_TOKEN, ROLE
from statuswatch.web.security import client_key

TOKEN = "cluster-secret"
NAME = web.AppKey("name", str)


async def _write(request: web.Request) -> web.Response:
    """A write route: says which node answered and whom it took the client for."""
    body = await request.read()
    return web.json_response(
        {"node": request.app[NAME], "client": client_key(request), "body": body.decode()},
        status=201,
        headers={"X-Answered": request.app[NAME]},
    )


def _node(name: str, link: LeaderLink) -> web.Application:
    app = web.Application()
    app[NAME] = name
    app[ROLE] = "all"
    app[CLUSTER_TOKEN] = token_digest(TOKEN)
    router = LeaderRouter(app.router, link)
    router.add_post("/api/things", _write)
    app.on_startup.append(lambda _app: link.start())
    app.on_cleanup.append(lambda _app: link.close())
    return app


def _link(leading: Callable[[], bool], leader: Callable[[], Term | None]) -> LeaderLink:
    return LeaderLink(leading=leading, leader=leader, token=TOKEN, client=client_key)


async def test_a_follower_forwards_a_write_to_the_leader_with_the_strangers_address() -> None:
    leader = TestServer(_node("a", _link(lambda: True, lambda: None)))
    await leader.start_server()
    term = Term("a", 3, 0.0, str(leader.make_url("")).rstrip("/"))
    follower = TestClient(TestServer(_node("b", _link(lambda: False, lambda: term))))
    await follower.start_server()
    try:
        resp = await follower.post("/api/things", data=b"hello")
        assert resp.status == 201
        assert await resp.json() == {"node": "a", "client": "127.0.0.1", "body": "hello"}
        assert resp.headers["X-Answered"] == "a"
        # The leader trusts the address a node passes on only with the cluster's token.
        claimed = {CLIENT_HEADER: "203.0.113.9"}
        things = leader.make_url("/api/things")
        async with aiohttp.ClientSession() as direct:
            for headers, seen in (
                (claimed, "127.0.0.1"),
                ({**claimed, TOKEN_HEADER: "guess"}, "127.0.0.1"),
                ({**claimed, TOKEN_HEADER: TOKEN}, "203.0.113.9"),
            ):
                async with direct.post(things, headers=headers) as resp:
                    assert (await resp.json())["client"] == seen, headers
    finally:
        await follower.close()
        await leader.close()


async def test_no_leader_known_is_a_503_with_retry_after() -> None:
    follower = TestClient(TestServer(_node("b", _link(lambda: False, lambda: None))))
    await follower.start_server()
    try:
        resp = await follower.post("/api/things", data=b"x")
        assert resp.status == 503 and resp.headers["Retry-After"] == "5"
        assert "no statuswatch node leads" in (await resp.json())["error"]
    finally:
        await follower.close()


async def test_a_forwarded_request_is_never_forwarded_again() -> None:
    """The lease moved while the request travelled: the node it reached does not lead, and
    sends it nowhere else (no loops between two followers)."""
    other = TestServer(_node("c", _link(lambda: True, lambda: None)))
    await other.start_server()
    term = Term("c", 4, 0.0, str(other.make_url("")).rstrip("/"))
    stale = TestClient(TestServer(_node("a", _link(lambda: False, lambda: term))))
    await stale.start_server()
    try:
        resp = await stale.post("/api/things", headers={TOKEN_HEADER: TOKEN})
        assert resp.status == 503 and resp.headers["Retry-After"] == "5"
        assert "no longer leads" in (await resp.json())["error"]
    finally:
        await stale.close()
        await other.close()
