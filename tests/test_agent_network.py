"""The agent's network: its probes through an egress proxy as curl would, the server via --ca."""

from __future__ import annotations

import asyncio
import base64
import ssl
import time

import pytest
import trustme
from aiohttp import web

from statuswatch.agent.client import ServerClient
from statuswatch.agent.runner import Agent, AgentSettings
from statuswatch.clock import SystemClock
from statuswatch.probes import ProbeContext, run_probe
from tests.helpers.probe_servers import http_monitor


@pytest.fixture
def no_proxy_env(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


async def test_agent_probes_use_the_env_proxy_and_honour_no_proxy(aiohttp_server, no_proxy_env):
    seen: list[str] = []

    async def proxy(request: web.Request) -> web.Response:
        seen.append(str(request.url))  # a forward proxy gets the absolute URL
        return web.Response(text="via proxy")

    async def direct(_request: web.Request) -> web.Response:
        return web.Response(text="direct")

    proxy_app, target_app = web.Application(), web.Application()
    proxy_app.router.add_route("*", "/{tail:.*}", proxy)
    target_app.router.add_get("/", direct)
    proxy_server, target = await aiohttp_server(proxy_app), await aiohttp_server(target_app)
    no_proxy_env.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy_server.port}")
    no_proxy_env.setenv("NO_PROXY", "127.0.0.1")
    agent = ProbeContext(SystemClock(), trust_env=True)
    central = ProbeContext(SystemClock())
    try:
        # A name only the proxy can reach: through it from the agent.
        behind = http_monitor("http://behind-the-proxy.invalid/health")
        result = await run_probe(behind, agent)
        assert result is not None and result.ok, result
        assert seen == ["http://behind-the-proxy.invalid/health"]
        # NO_PROXY: straight to the target, the proxy sees nothing more.
        result = await run_probe(http_monitor(f"http://127.0.0.1:{target.port}/"), agent)
        assert result is not None and result.ok and len(seen) == 1
        # The central process connects directly, as it always has.
        result = await run_probe(behind, central)
        assert result is not None and not result.ok and len(seen) == 1
    finally:
        await agent.close()
        await central.close()


async def test_the_agent_trusts_a_private_ca_for_the_server_only_when_told(
    aiohttp_server, tmp_path, no_proxy_env
):
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))

    async def monitors(_request: web.Request) -> web.Response:
        return web.json_response({"monitors": [], "generation": "g", "server_time": 1.0})

    app = web.Application()
    app.router.add_get("/api/v1/agent/monitors", monitors)
    server = await aiohttp_server(app, ssl=server_ctx)
    url = f"https://127.0.0.1:{server.port}"
    trusting = ServerClient(url, "token", ca_file=str(ca_file))
    plain = ServerClient(url, "token")
    try:
        assert (await trusting.monitors("a1", 10)).generation == "g"
        with pytest.raises(Exception, match="certificate verify failed"):
            await plain.monitors("a1", 10)
    finally:
        await trusting.close()
        await plain.close()


async def test_results_of_the_same_moment_share_one_upload(aiohttp_server, tmp_path, no_proxy_env):
    batches: list[int] = []

    async def monitors(_request: web.Request) -> web.Response:
        return web.json_response({"monitors": [], "generation": "g", "server_time": time.time()})

    async def results(request: web.Request) -> web.Response:
        batches.append(len((await request.json())["results"]))
        return web.json_response({"accepted": batches[-1], "duplicates": 0})

    app = web.Application()
    app.router.add_get("/api/v1/agent/monitors", monitors)
    app.router.add_post("/api/v1/agent/results", results)
    server = await aiohttp_server(app)
    settings = AgentSettings(
        f"http://127.0.0.1:{server.port}", "a", "a1", "token", str(tmp_path / "spool")
    )
    agent = Agent(settings, SystemClock())
    stop = asyncio.Event()
    running = asyncio.create_task(agent.run(stop))
    try:
        for i in range(30):  # 30 results over ~60 ms, as a busy agent's probes finish
            agent.keep({"monitor": "m", "time": 1000.0 + i})
            await asyncio.sleep(0.002)
        async with asyncio.timeout(5):
            while sum(batches) < 30:
                await asyncio.sleep(0.01)
    finally:
        stop.set()
        await running
    assert len(batches) <= 2, batches


async def test_the_proxy_environment_is_read_once_at_start_with_its_credentials(
    aiohttp_server, no_proxy_env
):
    seen: list[tuple[str, str, str | None]] = []

    def proxy_app(name: str) -> web.Application:
        async def forward(request: web.Request) -> web.Response:
            seen.append((name, str(request.url), request.headers.get("Proxy-Authorization")))
            if request.path == "/api/v1/agent/monitors":
                return web.json_response({"monitors": [], "generation": "g", "server_time": 1.0})
            return web.Response(text="via proxy")

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", forward)
        return app

    first, second = await aiohttp_server(proxy_app("first")), await aiohttp_server(proxy_app("2"))
    no_proxy_env.setenv("HTTP_PROXY", f"http://agent:s3cret@127.0.0.1:{first.port}")
    ctx = ProbeContext(SystemClock(), trust_env=True)
    client = ServerClient("http://central.invalid", "token")
    # Read at start, as curl reads its environment: a later change needs a restart.
    no_proxy_env.setenv("HTTP_PROXY", f"http://127.0.0.1:{second.port}")
    no_proxy_env.setenv("NO_PROXY", "*")
    try:
        result = await run_probe(http_monitor("http://behind-the-proxy.invalid/health"), ctx)
        assert result is not None and result.ok, result
        assert (await client.monitors("a1", 10)).generation == "g"
    finally:
        await ctx.close()
        await client.close()
    auth = "Basic " + base64.b64encode(b"agent:s3cret").decode()
    assert seen == [
        ("first", "http://behind-the-proxy.invalid/health", auth),
        ("first", "http://central.invalid/api/v1/agent/monitors?agent=a1&poll=10", auth),
    ]
