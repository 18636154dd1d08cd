"""The http probe against real local servers, through the real runner."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiohttp import web

from statuswatch.config import model
from statuswatch.config.durations import Duration
from statuswatch.probes import ProbeContext
from tests.helpers.config import make_config
from tests.helpers.probe_servers import (
    SLACK,
    TIMEOUT,
    RawServer,
    assert_failed,
    bad_tls_context,
    garbage,
    gzip_bomb_chunks,
    hang,
    http_monitor,
    issue,
    not_after,
    refused_port,
    reset,
    server_context,
    timed_probe,
    trickle,
)

MiB = 1 << 20
SEEN = web.AppKey("seen", list[str])


async def _ok(request: web.Request) -> web.Response:
    return web.Response(text="all systems ok")


async def _status(request: web.Request) -> web.Response:
    return web.Response(status=int(request.match_info["code"]), text="nope")


async def _json(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "checks": [{"ok": True}, {"ok": False}], "n": 3})


async def _slow(request: web.Request) -> web.Response:
    await asyncio.sleep(0.2)
    return web.Response(text="ok")


async def _hop(request: web.Request) -> web.Response:
    left = int(request.match_info["n"])
    raise web.HTTPFound(f"/hop/{left - 1}" if left > 1 else "/ok")


async def _loop(request: web.Request) -> web.Response:
    raise web.HTTPFound("/loop")


async def _see_other(request: web.Request) -> web.Response:
    raise web.HTTPSeeOther("/echo")


async def _echo(request: web.Request) -> web.Response:
    request.app[SEEN].append(request.method)
    payload = await request.text()
    seen = " ".join(str(request.headers.get(h)) for h in ("X-Probe", "Authorization"))
    return web.Response(text=f"{request.method} {seen} {payload!r}")


async def _away(request: web.Request) -> web.Response:
    raise web.HTTPTemporaryRedirect(request.query["to"])


async def _huge(request: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse(headers={"Content-Type": "text/plain"})
    resp.content_length = 50 * MiB
    await resp.prepare(request)
    chunk = b"x" * 65536
    for _ in range(50 * MiB // len(chunk)):
        await resp.write(chunk)
    return resp


async def _bomb(request: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse(headers={"Content-Encoding": "gzip", "Content-Type": "text/plain"})
    await resp.prepare(request)
    for chunk in gzip_bomb_chunks():
        await resp.write(chunk)
    return resp


async def _gzipped(request: web.Request) -> web.Response:
    body = gzip.compress(json.dumps({"status": "ok"}).encode())
    return web.Response(body=body, headers={"Content-Encoding": "gzip"}, content_type="text/json")


def _app() -> web.Application:
    app = web.Application()
    app[SEEN] = []
    app.router.add_get("/ok", _ok)
    app.router.add_get("/status/{code}", _status)
    app.router.add_get("/json", _json)
    app.router.add_get("/slow", _slow)
    app.router.add_get("/hop/{n}", _hop)
    app.router.add_get("/loop", _loop)
    app.router.add_post("/see-other", _see_other)
    app.router.add_route("*", "/echo", _echo)
    app.router.add_get("/away", _away)
    app.router.add_get("/huge", _huge)
    app.router.add_get("/bomb", _bomb)
    app.router.add_get("/gzipped", _gzipped)
    return app


@pytest.fixture
async def server(aiohttp_server: Any) -> Any:
    return await aiohttp_server(_app())


def _url(server: Any, path: str) -> str:
    return str(server.make_url(path))


async def test_ok(server: Any, ctx: ProbeContext) -> None:
    result, _ = await timed_probe(http_monitor(_url(server, "/ok")), ctx)
    assert result.ok and result.status_code == 200 and not result.degraded
    assert result.message == "HTTP 200" and result.cert_expiry is None


async def test_unexpected_status(server: Any, ctx: ProbeContext) -> None:
    result, elapsed = await timed_probe(http_monitor(_url(server, "/status/503")), ctx)
    assert_failed(result, elapsed, "http_status")
    assert result.status_code == 503
    assert result.message == "HTTP 503, expected 200-399"


async def test_status_list_and_range(server: Any, ctx: ProbeContext) -> None:
    monitor = http_monitor(_url(server, "/status/404"), expect_status=[200, "400-404"])
    result, _ = await timed_probe(monitor, ctx)
    assert result.ok and result.status_code == 404


def _never(*_args: object) -> None:
    raise AssertionError("parsed at probe time")


@pytest.mark.parametrize(
    ("code", "ok"), [(200, True), (299, True), (301, True), (300, False), (302, False)]
)
async def test_expect_status_is_parsed_when_the_config_loads(
    server: Any, ctx: ProbeContext, tmp_path: Path, monkeypatch: Any, code: int, ok: bool
) -> None:
    url = _url(server, f"/status/{code}")  # no Location: a 3xx is judged, not followed
    mon = {"id": "m", "kind": "http", "component": "api", "url": url}
    config = make_config(tmp_path, [{**mon, "expect_status": ["200-299", 301]}])
    monkeypatch.setattr(model, "parse_status_range", _never)
    monkeypatch.setattr(model, "URL", _never)
    result, _ = await timed_probe(config.monitors[0], ctx)
    assert (result.ok, result.status_code) == (ok, code)
    assert result.message == (f"HTTP {code}" if ok else f"HTTP {code}, expected 200-299, 301")


@pytest.mark.parametrize(
    ("checks", "error_class", "message"),
    [
        ({"body_contains": "systems ok"}, None, "HTTP 200"),
        ({"body_contains": "down"}, "body", "body does not contain 'down'"),
        ({"body_regex": r"all\s+\w+ ok$"}, None, "HTTP 200"),
        ({"body_regex": r"^down"}, "body", "body does not match '^down'"),
        ({"json_field": "status"}, "protocol", "body is not JSON"),
    ],
)
async def test_text_body_checks(
    server: Any, ctx: ProbeContext, checks: dict[str, Any], error_class: str | None, message: str
) -> None:
    result, elapsed = await timed_probe(http_monitor(_url(server, "/ok"), **checks), ctx)
    assert result.error_class == error_class and result.message == message
    assert result.status_code == 200 and elapsed < TIMEOUT


@pytest.mark.parametrize(
    ("field", "equals", "error_class", "message"),
    [
        ("status", "ok", None, "HTTP 200"),
        ("checks.0.ok", True, None, "HTTP 200"),
        ("n", 3, None, "HTTP 200"),
        ("n", None, None, "HTTP 200"),
        ("checks.1.ok", True, "body", "JSON field checks.1.ok is false, expected true"),
        ("checks.0.ok", 1, "body", "JSON field checks.0.ok is true, expected 1"),
        ("status", "up", "body", 'JSON field status is "ok", expected "up"'),
        ("checks.5.ok", True, "body", "JSON field checks.5.ok is missing"),
        ("status.x", "ok", "body", "JSON field status.x is missing"),
    ],
)
async def test_json_field(
    server: Any, ctx: ProbeContext, field: str, equals: Any, error_class: str | None, message: str
) -> None:
    monitor = http_monitor(_url(server, "/json"), json_field=field, json_equals=equals)
    result, _ = await timed_probe(monitor, ctx)
    assert (result.error_class, result.message) == (error_class, message)


async def test_degraded_when_slow(server: Any, ctx: ProbeContext) -> None:
    monitor = http_monitor(_url(server, "/slow"), degraded_after=Duration(0.05))
    result, _ = await timed_probe(monitor, ctx)
    assert result.ok and result.degraded
    assert result.message.startswith("HTTP 200 in ") and "slower than 50ms" in result.message


async def test_redirect_chain_within_limit(server: Any, ctx: ProbeContext) -> None:
    monitor = http_monitor(_url(server, "/hop/3"), body_contains="systems ok", max_redirects=3)
    result, _ = await timed_probe(monitor, ctx)
    assert result.ok and result.status_code == 200


async def test_redirect_chain_past_limit(server: Any, ctx: ProbeContext) -> None:
    result, elapsed = await timed_probe(http_monitor(_url(server, "/hop/3"), max_redirects=2), ctx)
    assert_failed(result, elapsed, "too_many_redirects")


async def test_redirect_loop(server: Any, ctx: ProbeContext) -> None:
    result, elapsed = await timed_probe(http_monitor(_url(server, "/loop")), ctx)
    assert_failed(result, elapsed, "too_many_redirects")
    assert result.status_code == 302 and result.message == "more than 5 redirects"


async def test_redirect_not_followed(server: Any, ctx: ProbeContext) -> None:
    passing = http_monitor(_url(server, "/hop/1"), follow_redirects=False)
    result, _ = await timed_probe(passing, ctx)
    assert result.ok and result.status_code == 302
    strict = http_monitor(_url(server, "/hop/1"), follow_redirects=False, expect_status=[200])
    result, elapsed = await timed_probe(strict, ctx)
    assert_failed(result, elapsed, "http_status")
    assert result.status_code == 302 and result.message == "HTTP 302, expected 200"


async def test_post_with_headers_and_body(server: Any, ctx: ProbeContext) -> None:
    monitor = http_monitor(
        _url(server, "/echo"),
        method="POST",
        headers={"X-Probe": "yes"},
        body="ping",
        body_contains="POST yes None 'ping'",
    )
    result, _ = await timed_probe(monitor, ctx)
    assert result.ok, result


async def test_head(server: Any, ctx: ProbeContext) -> None:
    result, _ = await timed_probe(http_monitor(_url(server, "/echo"), method="HEAD"), ctx)
    assert result.ok and server.app[SEEN] == ["HEAD"]


async def test_303_after_post_becomes_get(server: Any, ctx: ProbeContext) -> None:
    monitor = http_monitor(
        _url(server, "/see-other"), method="POST", body="ping", body_contains="GET None None ''"
    )
    result, _ = await timed_probe(monitor, ctx)
    assert result.ok, result


async def test_credentials_do_not_follow_a_redirect_to_another_origin(
    server: Any, aiohttp_server: Any, ctx: ProbeContext
) -> None:
    other = await aiohttp_server(_app())
    headers = {"X-Probe": "yes", "Authorization": "Bearer secret"}
    same = http_monitor(
        _url(server, "/away") + "?to=/echo", headers=headers, body_contains="GET yes Bearer secret"
    )
    result, _ = await timed_probe(same, ctx)
    assert result.ok, result
    away = _url(server, "/away") + "?to=" + _url(other, "/echo")
    result, _ = await timed_probe(
        http_monitor(away, headers=headers, body_contains="GET yes None"), ctx
    )
    assert result.ok, result


async def test_garbage_message(ctx: ProbeContext) -> None:
    async with RawServer(garbage) as target:
        result, _ = await timed_probe(http_monitor(target.url), ctx)
    assert result.message == "invalid HTTP response: bad status line"


async def probe_with_peak(monitor: Any, ctx: ProbeContext) -> tuple[Any, float, int]:
    """Run a probe and report its result, elapsed time and peak traced memory."""
    tracemalloc.start()
    try:
        result, elapsed = await timed_probe(monitor, ctx)
        return result, elapsed, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


async def test_huge_body_with_check_is_too_large_and_bounded(
    server: Any, ctx: ProbeContext
) -> None:
    monitor = http_monitor(_url(server, "/huge"), body_regex="never")
    result, elapsed, peak = await probe_with_peak(monitor, ctx)
    assert_failed(result, elapsed, "too_large")
    assert result.message == "body larger than 1 MiB, check undecided"
    assert peak < 8 * MiB


async def test_huge_body_found_early_passes(server: Any, ctx: ProbeContext) -> None:
    result, _ = await timed_probe(http_monitor(_url(server, "/huge"), body_contains="xxx"), ctx)
    assert result.ok


async def test_huge_body_without_check_is_not_read(server: Any, ctx: ProbeContext) -> None:
    result, elapsed = await timed_probe(http_monitor(_url(server, "/huge")), ctx)
    assert result.ok and elapsed < 0.5


async def test_gzip_bomb_is_too_large_and_bounded(server: Any, ctx: ProbeContext) -> None:
    monitor = http_monitor(_url(server, "/bomb"), body_contains="never")
    result, elapsed, peak = await probe_with_peak(monitor, ctx)
    assert_failed(result, elapsed, "too_large")
    assert peak < 8 * MiB


async def test_gzip_body_is_decompressed(server: Any, ctx: ProbeContext) -> None:
    monitor = http_monitor(_url(server, "/gzipped"), json_field="status", json_equals="ok")
    result, _ = await timed_probe(monitor, ctx)
    assert result.ok, result


@pytest.mark.parametrize("reuse", [False, True])
async def test_connection_reuse_setting(server: Any, ctx: ProbeContext, reuse: bool) -> None:
    monitor = http_monitor(_url(server, "/ok"), reuse_connections=reuse, body_contains="ok")
    for _ in range(3):
        result, _ = await timed_probe(monitor, ctx)
        assert result.ok


# --- misbehaving targets ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("handler", "error_class"),
    [(hang, "timeout"), (trickle, "timeout"), (reset, "connect"), (garbage, "protocol")],
)
async def test_misbehaving_server(ctx: ProbeContext, handler: Any, error_class: str) -> None:
    async with RawServer(handler) as target:
        result, elapsed = await timed_probe(http_monitor(target.url), ctx)
    assert_failed(result, elapsed, error_class)


async def test_refused(ctx: ProbeContext) -> None:
    url = f"http://127.0.0.1:{refused_port()}/"
    result, elapsed = await timed_probe(http_monitor(url), ctx)
    assert_failed(result, elapsed, "connect")
    assert result.message == "connection refused"


async def test_unresolvable_host(ctx: ProbeContext) -> None:
    result, elapsed = await timed_probe(http_monitor("http://nonexistent.invalid/"), ctx)
    assert_failed(result, elapsed, "dns")


async def test_hanging_targets_do_not_delay_a_healthy_one(server: Any, ctx: ProbeContext) -> None:
    async with contextlib.AsyncExitStack() as stack:
        hangers = [await stack.enter_async_context(RawServer(hang)) for _ in range(10)]
        t0 = time.perf_counter()

        async def run(monitor: Any) -> tuple[Any, float]:
            result, _ = await timed_probe(monitor, ctx)
            return result, time.perf_counter() - t0

        hanging = [run(http_monitor(h.url, id=f"hang{i}")) for i, h in enumerate(hangers)]
        healthy = run(http_monitor(_url(server, "/ok"), timeout=Duration(5)))
        *slow, (good, good_done) = await asyncio.gather(*hanging, healthy)
    assert good.ok and good_done < 0.5
    for result, done in slow:
        assert result.error_class == "timeout" and TIMEOUT <= done < TIMEOUT + SLACK


# --- https -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


async def _https(aiohttp_server: Any, sslctx: Any) -> str:
    server = await aiohttp_server(_app(), ssl=sslctx)
    return str(server.make_url("/ok"))


async def test_https_valid_records_expiry(
    aiohttp_server: Any, ctx: ProbeContext, ca: trustme.CA, ca_file: str
) -> None:
    cert = issue(ca, days=90)
    url = await _https(aiohttp_server, server_context(cert))
    result, _ = await timed_probe(http_monitor(url, ca_file=ca_file), ctx)
    assert result.ok, result
    assert result.cert_expiry == not_after(cert)
    result, _ = await timed_probe(http_monitor(url, ca_file=ca_file, body_contains="ok"), ctx)
    assert result.ok and result.cert_expiry == not_after(cert)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("unknown_ca", "unable to get local issuer certificate"),
        ("self_signed", "self-signed certificate"),
        ("expired", "certificate has expired"),
        ("wrong_host", "IP address mismatch, certificate is not valid for '127.0.0.1'"),
    ],
)
async def test_https_bad_certificate(
    aiohttp_server: Any,
    ctx: ProbeContext,
    ca: trustme.CA,
    ca_file: str,
    tmp_path: Path,
    case: str,
    message: str,
) -> None:
    url = await _https(aiohttp_server, bad_tls_context(case, ca, tmp_path))
    result, elapsed = await timed_probe(http_monitor(url, ca_file=ca_file), ctx)
    assert_failed(result, elapsed, "tls")
    assert result.message == message


async def test_https_without_verification(
    aiohttp_server: Any, ctx: ProbeContext, ca: trustme.CA
) -> None:
    cert = issue(trustme.CA(), days=30)
    url = await _https(aiohttp_server, server_context(cert))
    result, _ = await timed_probe(http_monitor(url, verify_tls=False), ctx)
    assert result.ok, result
    assert result.cert_expiry == not_after(cert)
