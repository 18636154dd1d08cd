"""Command line: parse, call, print. Exit 2 on bad config or input, naming what is wrong."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from statuswatch import __version__
from statuswatch.config import Config, ConfigError, load_config

EXIT_USAGE = 2


def _load_or_exit(path: str) -> Config:
    try:
        return load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"statuswatch: config error: {problem}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE) from None


def cmd_check_config(args: argparse.Namespace) -> int:
    """Validate a config file with exactly the code `run` uses."""
    config = _load_or_exit(args.config)
    print(
        f"{args.config}: ok ({len(config.groups)} groups, {len(config.components)} components, "
        f"{len(config.monitors)} monitors)"
    )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Run the probes and the web server until SIGTERM or SIGINT."""
    from aiohttp import web

    from statuswatch.config.loader import parse_listen
    from statuswatch.web import create_app

    config = _load_or_exit(args.config)
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    host, port = parse_listen(config.site.listen)
    web.run_app(
        create_app(config),
        host=host,
        port=port,
        # 128 (the default) overflowed at 500 concurrent connections in issue 8's measurements.
        backlog=1024,
        shutdown_timeout=3.0,
        access_log=None,
        print=lambda _msg: logging.getLogger("statuswatch").info(
            "serving %s on http://%s:%d", config.site.title, host, port
        ),
    )
    return 0


COMMANDS: dict[str, tuple[Callable[[argparse.Namespace], int], str]] = {
    "run": (cmd_run, "run the monitor and the status site"),
    "check-config": (cmd_check_config, "validate a config file and exit (2 when invalid)"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="statuswatch", description=__doc__)
    parser.add_argument("--version", action="version", version=f"statuswatch {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (func, help_text) in COMMANDS.items():
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        cmd.add_argument("-c", "--config", default="config.toml", help="config file (TOML)")
        if name == "run":
            cmd.add_argument("--log-level", default="info",
                             choices=["debug", "info", "warning", "error"])  # fmt: skip
        cmd.set_defaults(func=func)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `statuswatch` console script."""
    args = build_parser().parse_args(argv)
    return args.func(args)
