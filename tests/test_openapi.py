"""The OpenAPI document: well formed, complete, and true to real requests and responses.

The admin API tests (test_admin_api.py) check every exchange through CheckedClient; the public
and SLA endpoints are exercised here the same way.
"""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web
from jsonschema import Draft202012Validator

from statuswatch.clock import FakeClock
from statuswatch.web import create_app
from statuswatch.web.keys import MONITORING
from tests.helpers.config import make_config
from tests.helpers.openapi import SPEC, CheckedClient, check_exchange, validator
from tests.test_sla_report import seeded, ts  # noqa: F401 - a fixture, used by name

TOKEN = "openapi-admin-token-0123456789"
PUSH_TOKEN = "openapi-push-token-abcdefghijk"
DOCUMENTED_OUTSIDE_API = ("/healthz", "/push/", "/api/v2/")


def refs(node: object) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref"] + [
            r for v in node.values() for r in refs(v)
        ]
    if isinstance(node, list):
        return [r for v in node for r in refs(v)]
    return []


def test_the_document_is_openapi_3_1_with_valid_schemas():
    assert SPEC["openapi"].startswith("3.1.")
    assert SPEC["info"]["title"] and SPEC["info"]["version"]
    for schema in SPEC["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    for ref in refs(SPEC):
        assert ref.startswith("#/components/schemas/")
        assert ref.rsplit("/", 1)[1] in SPEC["components"]["schemas"], ref
    for path, item in SPEC["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            assert op["summary"] and op["responses"], (path, method)
            assert "security" in op, (path, method)  # admin or explicitly public
            for param in [*item.get("parameters", []), *op.get("parameters", [])]:
                if param["in"] == "path":
                    assert "{" + param["name"] + "}" in path and param["required"]


def test_every_api_route_is_documented_and_nothing_else(tmp_path):
    app = create_app(make_config(tmp_path, []), probe=False, environ={})
    served = {
        (route.resource.canonical, route.method.lower())
        for route in app.router.routes()
        if route.method != "HEAD"
        and route.resource is not None
        and route.resource.canonical.startswith(("/api/v1/", *DOCUMENTED_OUTSIDE_API))
    }
    documented = {
        (path, method)
        for path, item in SPEC["paths"].items()
        for method in item
        if method != "parameters"
    }
    assert served == documented
    assert ("/api/v1/incidents/{id}", "patch") in served  # the comparison is not vacuous


def test_the_checker_catches_drift():
    good = {"error": "incident not found"}
    check_exchange("GET", "/api/v1/incidents/abc", None, 404, good)
    with pytest.raises(AssertionError, match="undocumented"):
        check_exchange("GET", "/api/v1/incidents/abc", None, 418, good)
    with pytest.raises(AssertionError, match="does not match"):
        check_exchange("GET", "/api/v1/incidents/abc", None, 404, {**good, "extra": 1})
    with pytest.raises(AssertionError, match="accepted a body"):
        check_exchange("POST", "/api/v1/incidents", {"title": ""}, 201, {})
    assert not validator("components", "schemas", "Timestamp").is_valid("2026-10-26T08:00:00")


async def test_the_document_is_served_publicly(aiohttp_client, tmp_path):
    client = await aiohttp_client(create_app(make_config(tmp_path, []), probe=False, environ={}))
    resp = await client.get("/api/v1/openapi.json")
    assert resp.status == 200 and await resp.json() == SPEC


async def test_sla_endpoints_match_the_document(seeded, aiohttp_client):  # noqa: F811
    config, store = seeded
    clock = FakeClock(ts("2026-11-05T00:00:00Z"))
    client = await aiohttp_client(
        create_app(
            config, store=store, clock=clock, probe=False, environ={"TEST_ADMIN_TOKEN": TOKEN}
        )
    )
    api = CheckedClient(client, TOKEN)
    status, report = await api.get("/api/v1/credits?period=2026-10")
    assert status == 200 and report["customers"][0]["outages"]  # outages are checked too
    assert (await api.get("/api/v1/credits?period=2026-10&customer=acme"))[0] == 200
    assert (await api.get("/api/v1/credits?period=nope"))[0] == 400
    assert (await api.get("/api/v1/credits?period=2026-10", token=None))[0] == 401
    for window in ("30d", "mtd", "24h"):
        assert (await api.get(f"/api/v1/availability?component=api&window={window}"))[0] == 200
    assert (await api.get("/api/v1/availability?component=nope", token=None))[0] == 400


async def test_monitors_health_and_push_match_the_document(aiohttp_client, tmp_path):
    monitors = [
        {
            "id": "api-health",
            "kind": "http",
            "component": "api",
            "url": "http://127.0.0.1:9/",
            "timeout": "1s",
        },
        {
            "id": "job",
            "kind": "push",
            "component": "api",
            "token_env": "JOB_TOKEN",
            "interval": "1h",
        },
    ]
    app = create_app(
        make_config(tmp_path, monitors),
        clock=FakeClock(),
        probe=False,
        environ={"TEST_ADMIN_TOKEN": TOKEN, "JOB_TOKEN": PUSH_TOKEN},
    )
    api = CheckedClient(await aiohttp_client(app), TOKEN)
    _, before = await api.get("/api/v1/monitors")
    assert before["monitors"][0]["last_result"] is None
    monitoring = api.app[MONITORING]
    await monitoring.run_one(monitoring.monitors["api-health"])  # port 9: refused
    _, after = await api.get("/api/v1/monitors")
    assert after["monitors"][0]["last_result"]["ok"] is False
    assert (await api.get("/api/v1/monitors", token="nope"))[0] == 401
    status, health = await api.get("/healthz", token=None)
    assert status == 200 and health["status"] == "ok"
    assert (await api.get(f"/push/{PUSH_TOKEN}?status=down&msg=disk", token=None))[0] == 200
    assert (await api.post(f"/push/{PUSH_TOKEN}", form={"status": "up"}, token=None))[0] == 200
    assert (await api.get(f"/push/{PUSH_TOKEN}?status=sideways", token=None))[0] == 400
    assert (await api.get("/push/unknown-token", token=None))[0] == 404


async def test_last_result_phases_match_the_document(aiohttp_client, aiohttp_server, tmp_path):
    async def late(request: web.Request) -> web.Response:
        await asyncio.sleep(0.3)  # the server's delay, before its headers
        return web.Response(text="ok")

    target = web.Application()
    target.router.add_get("/late", late)
    server = await aiohttp_server(target)
    monitors = [
        {"id": "late", "kind": "http", "component": "api", "url": str(server.make_url("/late"))},
        {"id": "refused", "kind": "http", "component": "api", "url": "http://127.0.0.1:9/"},
    ]
    app = create_app(
        make_config(tmp_path, monitors),
        clock=FakeClock(),
        probe=False,
        environ={"TEST_ADMIN_TOKEN": TOKEN},
    )
    api = CheckedClient(await aiohttp_client(app), TOKEN)
    monitoring = api.app[MONITORING]
    for monitor_id in ("late", "refused"):
        await monitoring.run_one(monitoring.monitors[monitor_id])
    _, body = await api.get("/api/v1/monitors")
    by_id = {m["id"]: m["last_result"]["phases"] for m in body["monitors"]}
    late_phases = by_id["late"]
    assert list(late_phases) == ["resolve", "connect", "tls", "processing", "transfer"]
    assert late_phases["processing"] >= 0.3 and late_phases["tls"] == 0
    assert late_phases["transfer"] is None  # no body check: the body was never read
    assert late_phases["processing"] == round(late_phases["processing"], 6)
    refused = by_id["refused"]
    assert refused["resolve"] is not None and refused["connect"] is None
