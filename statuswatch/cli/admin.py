"""`statuswatch incident ...` and `statuswatch maintenance ...`: thin clients of the admin API.

Human-readable output by default, the server's JSON with --json. Exit 1 with the server's
message when it refuses (or cannot be reached), 2 for usage errors.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from statuswatch.cli.client import DEFAULT_URL, TOKEN_ENV, ApiError, Client
from statuswatch.config import read_secret
from statuswatch.config.durations import format_duration, parse_duration

EXIT_ERROR = 1
EXIT_USAGE = 2
RESOLVED_TEXT = "This incident has been resolved."


def _client(args: argparse.Namespace) -> Client:
    # No token is not a usage error: the server answers 401 and that is what gets reported.
    return Client(args.url, read_secret(TOKEN_ENV))


def _run(action: Callable[[argparse.Namespace, Client], tuple[Any, str]]) -> Callable:
    """Wrap a command: call the API, print JSON or text, turn ApiError into exit 1."""

    def command(args: argparse.Namespace) -> int:
        try:
            result, text = action(args, _client(args))
        except ApiError as exc:
            where = f"HTTP {exc.status}: " if exc.status else ""
            print(f"statuswatch: {where}{exc.message}", file=sys.stderr)
            return EXIT_ERROR
        print(json.dumps(result, indent=2) if args.json else text)
        return 0

    command.__doc__ = action.__doc__
    return command


def _table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    if not rows:
        return "(none)"
    rows = [header, *rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
    )


def _incident_line(inc: dict[str, Any]) -> str:
    comps = ", ".join(f"{c} {s}" for c, s in inc["components"].items()) or "no components"
    due = f"; next update due {inc['next_update_due']}" if inc["next_update_due"] else ""
    return (
        f"incident {inc['id']}: {inc['title']} [{inc['status']}, impact {inc['impact']}; "
        f"{comps}{due}]"
    )


def _open(args: argparse.Namespace, client: Client) -> tuple[Any, str]:
    """Open an incident."""
    body = {"title": args.title, "body": args.body, "components": dict(args.component)}
    for key in ("impact", "status", "severity", "author"):
        if getattr(args, key) is not None:
            body[key] = getattr(args, key)
    inc = client.call("POST", "incidents", body)
    return inc, "opened " + _incident_line(inc)


def _update(args: argparse.Namespace, client: Client) -> tuple[Any, str]:
    """Post an update to an incident."""
    body: dict[str, Any] = {"body": args.body, "components": dict(args.component)}
    for key in ("status", "author"):
        if getattr(args, key) is not None:
            body[key] = getattr(args, key)
    inc = client.call("POST", f"incidents/{args.id}/updates", body)
    return inc, "updated " + _incident_line(inc)


def _resolve(args: argparse.Namespace, client: Client) -> tuple[Any, str]:
    """Resolve an incident; its components are marked operational again."""
    inc = client.call("GET", f"incidents/{args.id}")
    back = {c: "operational" for c, s in inc["components"].items() if s != "operational"}
    body = {"status": "resolved", "body": args.body, "components": back}
    if args.author is not None:
        body["author"] = args.author
    inc = client.call("POST", f"incidents/{args.id}/updates", body)
    return inc, "resolved " + _incident_line(inc)


def _edit(args: argparse.Namespace, client: Client) -> tuple[Any, str]:
    """Change an incident's title, impact or severity."""
    change: dict[str, Any] = {}
    for key in ("title", "impact", "severity", "author"):
        if getattr(args, key) is not None:
            change[key] = getattr(args, key)
    if args.no_severity:
        change["severity"] = None
    inc = client.call("PATCH", f"incidents/{args.id}", change)
    return inc, "edited " + _incident_line(inc)


def _postmortem(args: argparse.Namespace, client: Client) -> tuple[Any, str]:
    """Publish the postmortem of a resolved incident."""
    change = {"postmortem": args.body}
    if args.author is not None:
        change["author"] = args.author
    inc = client.call("PATCH", f"incidents/{args.id}", change)
    return inc, "postmortem of " + _incident_line(inc)


def _show_incident(args: argparse.Namespace, client: Client) -> tuple[Any, str]:
    """Show an incident with its timeline, oldest update first."""
    inc = client.call("GET", f"incidents/{args.id}")
    lines = [_incident_line(inc)]
    for u in inc["updates"]:
        lines.append(f"  {u['created_at']}  {u['status']}  ({u['author']})  {u['body']}")
    return inc, "\n".join(lines)


def _list_incidents(args: argparse.Namespace, client: Client) -> tuple[Any, str]:
    """List incidents, newest first."""
    query = {"limit": str(args.limit)} if args.limit is not None else {}
    if args.open:
        query["open"] = "true"
    found = client.call("GET", "incidents", query=query or None)
    rows = [
        (i["id"], i["status"], i["impact"], i["created_at"], i["title"]) for i in found["incidents"]
    ]
    return found, _table(rows, ("ID", "STATUS", "IMPACT", "CREATED", "TITLE"))


def _window_line(w: dict[str, Any]) -> str:
    occ = w["occurrence"] or {"start": w["start"], "end": w["end"] or "?"}
    return (
        f"maintenance {w['id']}: {w['title']} [{w['state']} ({w['kind']}); "
        f"{occ['start']} - {occ['end']}; {', '.join(w['components'])}]"
    )


def _add(args: argparse.Namespace, client: Client) -> tuple[Any, str]:
    """Schedule a maintenance window (or open one now: no --start)."""
    body = {"title": args.title, "components": args.component}
    for key in ("id", "description", "kind", "start", "end", "duration", "rrule", "timezone"):
        if getattr(args, key) is not None:
            body[key] = getattr(args, key)
    window = client.call("POST", "maintenance", body)
    return window, "added " + _window_line(window)


def _list_windows(_args: argparse.Namespace, client: Client) -> tuple[Any, str]:
    """List maintenance windows with their current or next occurrence."""
    found = client.call("GET", "maintenance")
    rows = []
    for w in found["maintenance"]:
        occ = w["occurrence"] or {"start": "-", "end": "-"}
        rows.append((w["id"], w["state"], w["kind"], occ["start"], occ["end"], w["title"]))
    return found, _table(rows, ("ID", "STATE", "KIND", "START", "END", "TITLE"))


def _show_window(args: argparse.Namespace, client: Client) -> tuple[Any, str]:
    """Show a maintenance window with its current or next occurrence."""
    window = client.call("GET", f"maintenance/{args.id}")
    return window, _window_line(window)


def _cancel(args: argparse.Namespace, client: Client) -> tuple[Any, str]:
    """Cancel a maintenance window (--undo: restore a cancelled one)."""
    window = client.call("PATCH", f"maintenance/{args.id}", {"cancelled": not args.undo})
    return window, ("restored " if args.undo else "cancelled ") + _window_line(window)


def _reschedule(args: argparse.Namespace, client: Client) -> tuple[Any, str]:
    """Move a window to a new start (keeping its length unless --end or --duration is given)."""
    change = {"start": args.start}
    for key in ("end", "duration"):
        if getattr(args, key) is not None:
            change[key] = getattr(args, key)
    window = client.call("PATCH", f"maintenance/{args.id}", change)
    return window, "rescheduled " + _window_line(window)


def _extend(args: argparse.Namespace, client: Client) -> tuple[Any, str]:
    """Move a window's end (--end) or make it longer (--by)."""
    change: dict[str, str] = {"end": args.end} if args.end else {}
    if args.by is not None:
        window = client.call("GET", f"maintenance/{args.id}")
        if window["duration"] is not None:  # recurring, or one-off given as a length
            change = {"duration": format_duration(parse_duration(window["duration"]) + args.by)}
        else:
            end = datetime.fromisoformat(window["end"]) + timedelta(seconds=args.by)
            change = {"end": end.isoformat().replace("+00:00", "Z")}
    window = client.call("PATCH", f"maintenance/{args.id}", change)
    return window, "extended " + _window_line(window)


def _component_status(text: str) -> tuple[str, str]:
    cid, sep, status = text.partition("=")
    if not sep or not cid or not status:
        raise argparse.ArgumentTypeError(f"expected ID=STATUS, got {text!r}")
    return cid, status


def _duration(text: str) -> float:
    try:
        return float(parse_duration(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _common(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument(
        "--url",
        default=os.environ.get("STATUSWATCH_URL") or DEFAULT_URL,
        help="statuswatch base URL (env STATUSWATCH_URL)",
    )
    cmd.add_argument("--json", action="store_true", help="print the server's JSON")


def _components(cmd: argparse.ArgumentParser, required: bool = False) -> None:
    cmd.add_argument(
        "--component",
        action="append",
        default=[],
        type=_component_status,
        metavar="ID=STATUS",
        required=required,
        help="component and its status (repeatable)",
    )


def _open_options(cmd: argparse.ArgumentParser) -> None:
    _common(cmd)
    cmd.add_argument("--title", required=True)
    cmd.add_argument("--body", required=True, help="first update (Markdown)")
    cmd.add_argument("--impact", choices=["none", "minor", "major", "critical"])
    cmd.add_argument("--status", choices=["investigating", "identified", "monitoring"])
    cmd.add_argument("--severity", help="severity id (S1, S2, ...)")
    _author(cmd)
    _components(cmd)


def _author(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--author", help="who writes this (default: operator)")


def _edit_options(cmd: argparse.ArgumentParser) -> None:
    _id_options(cmd)
    cmd.add_argument("--title")
    cmd.add_argument("--impact", choices=["none", "minor", "major", "critical"])
    severity = cmd.add_mutually_exclusive_group()
    severity.add_argument("--severity", help="severity id (S1, S2, ...)")
    severity.add_argument("--no-severity", action="store_true", help="clear the severity")
    _author(cmd)


def _postmortem_options(cmd: argparse.ArgumentParser) -> None:
    _id_options(cmd)
    cmd.add_argument("--body", required=True, help="the postmortem (Markdown)")
    _author(cmd)


def _update_options(cmd: argparse.ArgumentParser) -> None:
    _common(cmd)
    cmd.add_argument("id")
    cmd.add_argument("--body", required=True, help="the update (Markdown)")
    cmd.add_argument("--status", choices=["investigating", "identified", "monitoring", "resolved"])
    _author(cmd)
    _components(cmd)


def _resolve_options(cmd: argparse.ArgumentParser) -> None:
    _common(cmd)
    cmd.add_argument("id")
    cmd.add_argument("--body", default=RESOLVED_TEXT, help="the closing update (Markdown)")
    _author(cmd)


def _list_options(cmd: argparse.ArgumentParser) -> None:
    _common(cmd)
    cmd.add_argument("--open", action="store_true", help="only unresolved incidents")
    cmd.add_argument("--limit", type=int, help="at most this many (default 50, at most 500)")


def _add_options(cmd: argparse.ArgumentParser) -> None:
    _common(cmd)
    cmd.add_argument("--title", required=True)
    cmd.add_argument(
        "--component",
        action="append",
        required=True,
        metavar="ID",
        help="affected component (repeatable)",
    )
    cmd.add_argument("--start", help="ISO 8601 with offset (default: now)")
    length = cmd.add_mutually_exclusive_group(required=True)
    length.add_argument("--end", help="ISO 8601 with offset")
    length.add_argument("--duration", help="e.g. 2h or 90m")
    cmd.add_argument("--rrule", help="RFC 5545 rule for a recurring window (with --duration)")
    cmd.add_argument("--timezone", help="IANA zone the rule follows (default UTC)")
    cmd.add_argument("--kind", choices=["scheduled", "emergency"])
    cmd.add_argument("--id", help="window id (default: made up)")
    cmd.add_argument("--description")


def _id_options(cmd: argparse.ArgumentParser) -> None:
    _common(cmd)
    cmd.add_argument("id")


def _cancel_options(cmd: argparse.ArgumentParser) -> None:
    _id_options(cmd)
    cmd.add_argument("--undo", action="store_true", help="restore a cancelled window")


def _reschedule_options(cmd: argparse.ArgumentParser) -> None:
    _id_options(cmd)
    cmd.add_argument("--start", required=True, help="new start, ISO 8601 with offset")
    length = cmd.add_mutually_exclusive_group()
    length.add_argument("--end", help="new end, ISO 8601 with offset")
    length.add_argument("--duration", help="new length, e.g. 2h")


def _extend_options(cmd: argparse.ArgumentParser) -> None:
    _id_options(cmd)
    how = cmd.add_mutually_exclusive_group(required=True)
    how.add_argument("--end", help="new end, ISO 8601 with offset")
    how.add_argument("--by", type=_duration, help="this much longer, e.g. 30m")


# Registered in cli.COMMANDS: name -> (handler, help, how to add its options).
ADMIN_COMMANDS: dict[str, tuple[Callable[[argparse.Namespace], int], str, Callable]] = {
    "incident open": (_run(_open), "open an incident", _open_options),
    "incident update": (_run(_update), "post an update to an incident", _update_options),
    "incident resolve": (_run(_resolve), "resolve an incident", _resolve_options),
    "incident list": (_run(_list_incidents), "list incidents", _list_options),
    "incident show": (_run(_show_incident), "show an incident and its timeline", _id_options),
    "incident edit": (_run(_edit), "change an incident's title, impact or severity", _edit_options),
    "incident postmortem": (
        _run(_postmortem),
        "publish the postmortem of a resolved incident",
        _postmortem_options,
    ),
    "maintenance add": (_run(_add), "schedule a maintenance window", _add_options),
    "maintenance list": (_run(_list_windows), "list maintenance windows", _common),
    "maintenance show": (_run(_show_window), "show a maintenance window", _id_options),
    "maintenance cancel": (_run(_cancel), "cancel a maintenance window", _cancel_options),
    "maintenance reschedule": (
        _run(_reschedule),
        "move a maintenance window",
        _reschedule_options,
    ),
    "maintenance extend": (_run(_extend), "extend a maintenance window", _extend_options),
}
