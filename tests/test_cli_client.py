"""`statuswatch incident ...` and `statuswatch maintenance ...` as subprocesses against a real
running server (the CLI is a thin client of the admin API)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys

import msgspec
import pytest

from statuswatch.cli.main import build_parser
from statuswatch.clock import FakeClock
from statuswatch.incidents.edits import IncidentPatch, NewIncident, NewUpdate
from statuswatch.maintenance.edits import NewWindow, WindowPatch
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


async def test_edit_severity_title_impact_and_publish_a_postmortem(server):
    opened = ("incident", "open", "--title", "Slow", "--body", "Looking.", "--author", "ann")
    inc = await ok_json(server, *opened)
    inc_id = inc["id"]
    assert inc["updates"][0]["author"] == "ann"
    inc = await ok_json(
        server, "incident", "edit", inc_id, "--title", "Checkout slow", "--impact", "minor",
        "--severity", "S2",
    )  # fmt: skip
    assert (inc["title"], inc["impact"], inc["severity"]) == ("Checkout slow", "minor", "S2")
    inc = await ok_json(server, "incident", "edit", inc_id, "--no-severity")
    assert (inc["title"], inc["severity"]) == ("Checkout slow", None)
    code, _, err = await cli(server, "incident", "postmortem", inc_id, "--body", "Too soon.")
    assert code == 1 and "postmortem: allowed once the incident is resolved" in err
    await ok_json(server, "incident", "resolve", inc_id, "--author", "bob")
    code, out, err = await cli(
        server, "incident", "postmortem", inc_id, "--body", "A bad **deploy**.", "--author", "cy"
    )
    assert code == 0 and out.startswith(f"postmortem of incident {inc_id}: Checkout slow"), err
    code, out, _ = await cli(server, "incident", "show", inc_id)
    assert code == 0 and "[postmortem" in out
    assert [line.split()[1:3] for line in out.splitlines()[1:]] == [
        ["investigating", "(ann)"],
        ["resolved", "(bob)"],
        ["postmortem", "(cy)"],
    ]
    code, _, err = await cli(server, "incident", "edit", inc_id)
    assert code == 1 and "nothing to change" in err


async def test_reschedule_show_and_restore_a_window(server):
    start = iso_z(int(START) + 3600)
    add = ("maintenance", "add", "--title", "DB", "--component", "api", "--id", "db")
    await ok_json(server, *add, "--start", start, "--duration", "1h")
    later = iso_z(int(START) + 7200)
    window = await ok_json(server, "maintenance", "reschedule", "db", "--start", later)
    assert (window["start"], window["duration"]) == (later, "1h")
    window = await ok_json(
        server, "maintenance", "reschedule", "db", "--start", start, "--duration", "3h"
    )
    assert (window["start"], window["duration"]) == (start, "3h")
    await ok_json(server, "maintenance", "cancel", "db")
    window = await ok_json(server, "maintenance", "cancel", "db", "--undo")
    assert (window["cancelled"], window["state"]) == (False, "scheduled")
    code, out, _ = await cli(server, "maintenance", "show", "db")
    assert code == 0 and out.startswith("maintenance db: DB [scheduled")


# Each admin API operation on incidents and maintenance, the commands that make it, and for a
# body the option each field is given with where it is not `--<field>` (None: set by the command).
COVERS = {
    ("POST", "/api/v1/incidents"): (NewIncident, {"components": "--component"}, "incident open"),
    ("GET", "/api/v1/incidents"): (None, {}, "incident list"),
    ("GET", "/api/v1/incidents/{id}"): (None, {}, "incident show"),
    ("PATCH", "/api/v1/incidents/{id}"): (
        IncidentPatch,
        {"severity": "--severity", "postmortem": "--body"},
        "incident edit",
        "incident postmortem",
    ),
    ("POST", "/api/v1/incidents/{id}/updates"): (
        NewUpdate,
        {"components": "--component"},
        "incident update",
        "incident resolve",
    ),
    ("POST", "/api/v1/maintenance"): (NewWindow, {"components": "--component"}, "maintenance add"),
    ("GET", "/api/v1/maintenance"): (None, {}, "maintenance list"),
    ("GET", "/api/v1/maintenance/{id}"): (None, {}, "maintenance show"),
    ("PATCH", "/api/v1/maintenance/{id}"): (
        WindowPatch,
        {"cancelled": None},
        "maintenance reschedule",
        "maintenance extend",
        "maintenance cancel",
    ),
}


def _options(command: str) -> set[str]:
    parser = build_parser()
    for word in command.split():
        (sub,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[word]
    return {opt for action in parser._actions for opt in action.option_strings}


def test_the_cli_covers_every_admin_operation_and_field(tmp_path):
    app = create_app(make_config(tmp_path, []), probe=False, environ={})
    operations = {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.method != "HEAD"
        and route.resource is not None
        and route.resource.canonical.startswith(("/api/v1/incidents", "/api/v1/maintenance"))
    }
    assert operations == set(COVERS)
    for (method, path), (body, named, *commands) in COVERS.items():
        given = set().union(*(_options(c) for c in commands))
        for field in msgspec.structs.fields(body) if body else ():
            option = named.get(field.name, f"--{field.name}")
            assert option is None or option in given, (method, path, field.name, commands)
