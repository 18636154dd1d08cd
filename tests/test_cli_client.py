"""`statuswatch incident ...` and `statuswatch maintenance ...` as subprocesses against a real
running server (the CLI is a thin client of the admin API)."""

from __future__ import annotations

import asyncio
import json
import os
import sys

import pytest

from statuswatch.clock import FakeClock
from statuswatch.sla.periods import iso_z
from statuswatch.web import create_app
from statuswatch.web.keys import BOARD
from tests.helpers.config import make_config
from tests.helpers.net import free_port

TOKEN = "cli-client-token-0123456789abcdef"
START = 1_793_000_000.0  # 2026-10-26T07:33:20Z


@pytest.fixture
async def server(aiohttp_server, tmp_path):
    app = create_app(
        make_config(tmp_path, []),
        clock=FakeClock(START),
        probe=False,
        environ={"TEST_ADMIN_TOKEN": TOKEN},
    )
    return await aiohttp_server(app)


async def cli(server, *args: str, token: str | None = TOKEN, **env: str) -> tuple[int, str, str]:
    """Run the CLI without blocking the loop that serves it; (exit code, stdout, stderr)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("STATUSWATCH_")}
    base["STATUSWATCH_URL"] = str(server.make_url("/"))
    if token is not None:
        base["STATUSWATCH_ADMIN_TOKEN"] = token
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "statuswatch",
        *args,
        env={**base, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    return proc.returncode, out.decode(), err.decode()


async def ok_json(server, *args: str) -> dict:
    code, out, err = await cli(server, *args, "--json")
    assert code == 0, err
    return json.loads(out)


async def test_incident_open_update_resolve_list(server):
    code, out, err = await cli(
        server,
        "incident",
        "open",
        "--title",
        "Checkout errors",
        "--impact",
        "major",
        "--component",
        "checkout=major_outage",
        "--body",
        "Investigating.",
        "--severity",
        "S1",
    )
    assert code == 0, err
    assert out.startswith("opened incident ") and "Checkout errors [investigating" in out
    inc_id = out.split()[2].rstrip(":")
    inc = await ok_json(
        server,
        "incident",
        "update",
        inc_id,
        "--status",
        "identified",
        "--body",
        "A bad deploy.",
        "--component",
        "api=degraded_performance",
    )
    assert inc["status"] == "identified"
    assert inc["components"] == {"checkout": "major_outage", "api": "degraded_performance"}
    code, out, _ = await cli(server, "incident", "list", "--open")
    assert code == 0 and inc_id in out and "identified" in out and out.startswith("ID")
    code, out, _ = await cli(server, "incident", "resolve", inc_id)
    assert code == 0 and out.startswith(f"resolved incident {inc_id}: Checkout errors [resolved")
    inc = (await ok_json(server, "incident", "list"))["incidents"][0]
    assert inc["components"] == {"checkout": "operational", "api": "operational"}
    assert inc["updates"][-1]["body"] == "This incident has been resolved."
    assert await ok_json(server, "incident", "list", "--open") == {"incidents": []}


async def test_maintenance_add_list_extend_cancel(server):
    window = await ok_json(
        server,
        "maintenance",
        "add",
        "--title",
        "DB upgrade",
        "--component",
        "checkout",
        "--component",
        "api",
        "--id",
        "db",
        "--start",
        iso_z(int(START) + 3600),
        "--duration",
        "2h",
    )
    assert (window["id"], window["state"], window["duration"]) == ("db", "scheduled", "2h")
    code, out, _ = await cli(server, "maintenance", "list")
    assert code == 0 and "db" in out and "scheduled" in out and "DB upgrade" in out
    window = await ok_json(server, "maintenance", "extend", "db", "--by", "30m")
    assert window["duration"] == "2h30m"
    code, out, _ = await cli(server, "maintenance", "cancel", "db")
    assert code == 0 and out.startswith("cancelled maintenance db: DB upgrade [cancelled")


async def test_emergency_maintenance_now_and_extended(server):
    end = iso_z(int(START) + 1800)
    code, out, err = await cli(
        server,
        "maintenance",
        "add",
        "--title",
        "Emergency restart",
        "--component",
        "checkout",
        "--kind",
        "emergency",
        "--end",
        end,
    )
    assert code == 0, err
    assert "[in_progress (emergency)" in out
    assert server.app[BOARD].status["checkout"].value == "under_maintenance"
    window_id = out.split()[2].rstrip(":")
    window = await ok_json(server, "maintenance", "extend", window_id, "--by", "30m")
    assert window["end"] == iso_z(int(START) + 3600)
    window = await ok_json(
        server, "maintenance", "extend", window_id, "--end", iso_z(int(START) + 7200)
    )
    assert window["occurrence"]["end"] == iso_z(int(START) + 7200)


async def test_server_errors_exit_1_with_the_servers_message(server):
    code, _, err = await cli(server, "incident", "update", "nope", "--body", "x")
    assert code == 1 and "HTTP 404: incident not found" in err
    code, _, err = await cli(
        server,
        "incident",
        "open",
        "--title",
        "T",
        "--body",
        "B",
        "--component",
        "nope=major_outage",
    )
    assert code == 1 and "HTTP 422: components.nope: unknown component" in err
    code, _, err = await cli(
        server,
        "maintenance",
        "add",
        "--title",
        "T",
        "--component",
        "api",
        "--start",
        "2026-11-01T02:00:00",
        "--duration",
        "1h",
    )
    assert code == 1 and "start: expected `datetime` with a timezone" in err


async def test_a_missing_token_exits_1_with_the_401_message(server):
    code, out, err = await cli(server, "incident", "list", token=None)
    assert code == 1 and out == ""
    assert "HTTP 401: missing or invalid bearer token" in err


async def test_the_token_may_come_from_a_file_and_the_url_from_an_option(server, tmp_path):
    secret = tmp_path / "token"
    secret.write_text(TOKEN + "\n", encoding="utf-8")
    code, out, err = await cli(
        server,
        "maintenance",
        "list",
        "--url",
        str(server.make_url("/")),
        token=None,
        STATUSWATCH_ADMIN_TOKEN_FILE=str(secret),
        STATUSWATCH_URL="http://127.0.0.1:1",
    )
    assert code == 0 and out.strip() == "(none)", err


async def test_usage_errors_exit_2_and_unreachable_servers_exit_1(server):
    code, _, err = await cli(
        server, "incident", "open", "--title", "T", "--body", "B", "--component", "checkout"
    )
    assert code == 2 and "expected ID=STATUS" in err
    code, _, err = await cli(server, "maintenance", "extend", "db", "--by", "soon")
    assert code == 2 and "must be a duration" in err
    code, _, err = await cli(server, "maintenance", "add", "--title", "T", "--component", "api")
    assert code == 2 and "--end" in err
    code, _, err = await cli(
        server, "incident", "list", STATUSWATCH_URL=f"http://127.0.0.1:{free_port()}"
    )
    assert code == 1 and "cannot reach" in err
