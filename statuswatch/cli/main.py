"""Command line: parse, call, print. Exit 2 on bad config or input, naming what is wrong."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from statuswatch import __version__
from statuswatch.cli import migrate_store
from statuswatch.cli.admin import ADMIN_COMMANDS
from statuswatch.config import Config, ConfigError, load_config

if TYPE_CHECKING:
    from statuswatch.store import StoreProtocol

EXIT_USAGE = 2


def _usage_error(message: str) -> int:
    """Print one line naming what is wrong; the exit status for bad input."""
    print(f"statuswatch: {message}", file=sys.stderr)
    return EXIT_USAGE


def _load_or_exit(path: str) -> Config:
    try:
        return load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"statuswatch: config error: {problem}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE) from None


def open_store_or_exit(config: Config, *, readonly: bool = False) -> StoreProtocol:
    """The store the config names; exit 2 naming the key when its URL variable is unset."""
    import os

    from statuswatch.store.open import open_store

    try:
        return open_store(config, os.environ, readonly=readonly)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"statuswatch: config error: {problem}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE) from None


# Libraries whose INFO lines are about themselves, not the monitored services: APScheduler says
# "Running job" and "executed successfully" for every housekeeping run (several every 15 s), and
# aiohttp.access logs every request. At `info` the log is what an operator acts on (state
# changes, incidents, deliveries, warnings); `debug` shows everything.
_CHATTY = ("apscheduler", "aiohttp.access")


def setup_logging(level: str, process: str = "statuswatch") -> None:
    """The one logging setup of `statuswatch run`: `level`, chatty libraries kept quiet, and
    each line naming its process (the monitor and the web workers share one log)."""
    numeric = getattr(logging, level.upper())
    fmt = f"%(asctime)s %(levelname)s [{process}] %(name)s: %(message)s"
    logging.basicConfig(level=numeric, format=fmt)
    if numeric > logging.DEBUG:
        for name in _CHATTY:
            logging.getLogger(name).setLevel(max(numeric, logging.WARNING))


def cmd_check_config(args: argparse.Namespace) -> int:
    """Validate a config file with exactly the code `run` uses."""
    from statuswatch.config.loader import config_warnings
    from statuswatch.roles.forward import socket_problem

    config = _load_or_exit(args.config)
    # What `run` refuses must not be called ok: web workers need the monitor's socket.
    if config.site.workers > 0 and (problem := socket_problem(config)) is not None:
        print(f"statuswatch: config error: {problem}", file=sys.stderr)
        return 2
    for warning in config_warnings(config):
        print(f"statuswatch: config warning: {warning}", file=sys.stderr)
    print(
        f"{args.config}: ok ({len(config.groups)} groups, {len(config.components)} components, "
        f"{len(config.monitors)} monitors)"
    )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Run the monitor and the status site (one role, or all under a supervisor)."""
    from statuswatch.cli.run import run
    from statuswatch.config.loader import config_warnings

    config = _load_or_exit(args.config)
    setup_logging(args.log_level, _process_name(args))
    for warning in config_warnings(config):
        logging.getLogger("statuswatch").warning("config: %s", warning)
    return run(args, config)


def _process_name(args: argparse.Namespace) -> str:
    """What this process's log lines say it is: several processes may share one log."""
    import os

    from statuswatch.cli.run import WORKER_ENV

    if args.role == "web" and os.environ.get(WORKER_ENV):
        return f"web {os.environ[WORKER_ENV]}"
    return args.role or "statuswatch"


def cmd_sla_evaluate(_args: argparse.Namespace) -> int:
    """Read SLA inputs as JSON on stdin, print the figures as JSON (SLA.md's contract)."""
    from statuswatch.sla.evaluate import InputError, evaluate_text

    try:
        print(evaluate_text(sys.stdin.read()))
    except InputError as exc:
        return _usage_error(str(exc))
    return 0


def cmd_credits(args: argparse.Namespace) -> int:
    """Print each customer's availability and credit for a period."""
    import asyncio
    import time

    from statuswatch.sla.report import ReportError, credits_report
    from statuswatch.sla.report_format import FORMATS

    config = _load_or_exit(args.config)
    now = int(time.time())

    async def report() -> str:
        store = open_store_or_exit(config)
        try:
            lines = await credits_report(store, config, args.period, now, args.customer)
        finally:
            await store.close()
        return FORMATS[args.format](lines, now, config.site.tz)

    try:
        print(asyncio.run(report()))
    except ReportError as exc:
        return _usage_error(str(exc))
    return 0


def cmd_report_token(args: argparse.Namespace) -> int:
    """Give a customer a new private report token and print its URL (shown only now)."""
    import asyncio

    from statuswatch.clock import SystemClock
    from statuswatch.sla.report_tokens import rotate

    config = _load_or_exit(args.config)
    customer = next((c for c in config.customers if c.id == args.customer), None)
    if customer is None:
        return _usage_error(f"customer: unknown customer {args.customer!r}")

    async def write() -> str:
        store = open_store_or_exit(config)
        await store.start()
        try:
            token = rotate(store, customer.id, SystemClock())
            await store.flush()
        finally:
            await store.close()
        return token

    token = asyncio.run(write())
    print(f"{config.site.base}/customers/{token}")  # the only time this token is shown
    if customer.report_token_env:
        # The env token is the configured one: start-up puts it back. Said plainly, so nobody
        # hands out a URL that stops working at the next restart without knowing it.
        env = customer.report_token_env
        print(
            f"warning: customer {customer.id}'s report token is set by {env} (or {env}_FILE): "
            f"this URL works until statuswatch next starts with {env} set, when the token "
            f"from {env} replaces it again. To rotate for good, put a new token in {env} and "
            "restart.",
            file=sys.stderr,
        )
    return 0


AGENT_TOKEN_ENV = "STATUSWATCH_AGENT_TOKEN"  # noqa: S105 - a variable name


def cmd_agent(args: argparse.Namespace) -> int:
    """Probe a location's monitors here and upload the results to the server."""
    import os
    import socket

    from statuswatch.agent.runner import AgentSettings, run_agent
    from statuswatch.config import read_secret

    token = read_secret(AGENT_TOKEN_ENV)
    if not token:
        return _usage_error(f"{AGENT_TOKEN_ENV} (or {AGENT_TOKEN_ENV}_FILE) is not set")
    if not args.server.startswith(("http://", "https://")):
        return _usage_error(f"--server: expected an http:// or https:// URL, got {args.server!r}")
    if args.ca is not None and not os.path.isfile(args.ca):
        return _usage_error(f"--ca: no such file: {args.ca}")
    if not 0 < args.poll <= 300:
        return _usage_error("--poll: expected seconds in (0, 300]")
    setup_logging(args.log_level, f"agent {args.location}")
    settings = AgentSettings(
        server=args.server,
        location=args.location,
        agent_id=args.agent_id or f"{socket.gethostname()}-{os.getpid()}",
        token=token,
        spool=args.spool,
        ca_file=args.ca,
        poll=args.poll,
    )
    return run_agent(settings)


def _agent_options(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--server", required=True, help="the central statuswatch's URL")
    cmd.add_argument("--location", required=True, help="the [[locations]] id this agent is")
    cmd.add_argument(
        "--spool",
        default="statuswatch-agent.spool",
        help="SQLite file keeping results until the server has them",
    )
    cmd.add_argument("--ca", help="PEM file of a private CA to trust for the server")
    cmd.add_argument("--agent-id", help="this agent's id (default: hostname-pid)")
    cmd.add_argument("--poll", type=float, default=10.0, help="seconds between polls for monitors")
    cmd.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])


def _token_options(cmd: argparse.ArgumentParser) -> None:
    _with_config(cmd)
    cmd.add_argument("--customer", required=True, help="customer id")


def _credits_options(cmd: argparse.ArgumentParser) -> None:
    _with_config(cmd)
    cmd.add_argument("--period", required=True, help="month, YYYY-MM (yearly plans: its year)")
    cmd.add_argument("--customer", help="only this customer id")
    cmd.add_argument("--format", default="table", choices=["table", "json", "csv"])


def _with_config(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("-c", "--config", default="config.toml", help="config file (TOML)")


def _run_options(cmd: argparse.ArgumentParser) -> None:
    _with_config(cmd)
    cmd.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    cmd.add_argument(
        "--role",
        choices=["monitor", "web"],
        help="run one role only (default: a monitor and site.workers web processes)",
    )
    cmd.add_argument("--listen", help="HOST:PORT for the site, instead of site.listen")


# name -> (handler, help, how to add its options). "sla evaluate" is a two-word command.
COMMANDS: dict[str, tuple[Callable[[argparse.Namespace], int], str, Callable]] = {
    "run": (cmd_run, "run the monitor and the status site", _run_options),
    "check-config": (
        cmd_check_config,
        "validate a config file and exit (2 when invalid)",
        _with_config,
    ),
    "credits": (
        cmd_credits,
        "availability and credits per customer for a period",
        _credits_options,
    ),
    "report-token": (
        cmd_report_token,
        "make a new private report URL for a customer",
        _token_options,
    ),
    "agent": (
        cmd_agent,
        "probe a location's monitors and upload the results (token: STATUSWATCH_AGENT_TOKEN)",
        _agent_options,
    ),
    "migrate-store": (migrate_store.run, migrate_store.HELP, migrate_store.options),
    "sla evaluate": (
        cmd_sla_evaluate,
        "evaluate SLA inputs (JSON on stdin) into figures",
        lambda _c: None,
    ),
    # incident ..., maintenance ...: the admin API clients (cli/admin.py)
    **ADMIN_COMMANDS,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="statuswatch", description=__doc__)
    parser.add_argument("--version", action="version", version=f"statuswatch {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    groups: dict[str, argparse._SubParsersAction] = {}
    for name, (func, help_text, add_options) in COMMANDS.items():
        head, _, tail = name.partition(" ")
        target = sub
        if tail:
            if head not in groups:
                groups[head] = sub.add_parser(head, help=f"{head} commands").add_subparsers(
                    dest="subcommand", required=True
                )
            target, head = groups[head], tail
        cmd = target.add_parser(head, help=help_text, description=help_text)
        add_options(cmd)
        cmd.set_defaults(func=func)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `statuswatch` console script."""
    args = build_parser().parse_args(argv)
    return args.func(args)
