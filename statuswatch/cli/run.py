"""`statuswatch run`: one process per role, or a supervisor of one monitor and the web workers.

Without `--role`, `site.workers` web processes serve the site beside one monitor process (the
supervisor starts, restarts and stops them; README "Processes"); `site.workers = 0` runs
everything in one process. `--role monitor` and `--role web` run one role each, for systemd
units or containers.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
from pathlib import Path

from statuswatch.config import Config
from statuswatch.roles.forward import monitor_socket, socket_problem
from statuswatch.store.open import storage_problem

log = logging.getLogger("statuswatch")

# Set by the supervisor for the web workers it starts: the listening socket they share, and
# which worker each is (for its log lines).
LISTEN_FD_ENV = "STATUSWATCH_LISTEN_FD"
WORKER_ENV = "STATUSWATCH_WORKER"
# Web workers the supervisor starts run at this niceness: when both roles want the CPU, the
# scheduler gives the monitor's probes ~9 parts in 10 (CFS weights 1024 vs 110).
WEB_NICENESS = 10
# ...and are the kernel's first choice when memory runs out (oom_score_adj, -1000..1000; a
# process may raise its own without privileges): a worker bloated by a crowd dies, not the
# monitor, and the supervisor starts it again.
WEB_OOM_SCORE_ADJ = 500


def run(args: argparse.Namespace, config: Config) -> int:
    """Run the role asked for (or supervise them all); the exit status."""
    role = args.role or ("all" if config.site.workers == 0 else "supervisor")
    if role != "all" and (problem := socket_problem(config)) is not None:
        print(f"statuswatch: config error: {problem}", file=sys.stderr)
        return 2
    if (problem := storage_problem(config, os.environ)) is not None:  # url_env unset, say
        print(f"statuswatch: config error: {problem}", file=sys.stderr)
        return 2
    listen = args.listen or config.site.listen
    if args.listen is not None:
        from statuswatch.config.loader import parse_listen

        try:
            parse_listen(args.listen)
        except ValueError as exc:
            print(f"statuswatch: --listen: {exc}", file=sys.stderr)
            return 2
    from statuswatch.cluster.node import ClusterConfigError
    from statuswatch.roles.supervised import SupervisorGoneError

    try:
        return _run_role(args, config, role, listen)
    except (AnotherMonitorError, SupervisorGoneError) as exc:
        print(f"statuswatch: {exc}", file=sys.stderr)
        return 1
    except ClusterConfigError as exc:
        print(f"statuswatch: config error: {exc}", file=sys.stderr)
        return 2


def _run_role(args: argparse.Namespace, config: Config, role: str, listen: str) -> int:
    if role == "supervisor":
        from statuswatch.roles.supervisor import supervise

        return supervise(args, config, listen)
    if role in ("monitor", "web"):
        from statuswatch.roles.supervised import end_with_supervisor

        end_with_supervisor(os.environ)
    if role == "monitor":
        return _serve(config, "monitor", _monitor_socket(config))
    if role == "web":
        if os.environ.get(WORKER_ENV):
            _yield_to_the_monitor()
        return _serve(config, "web", _web_socket(listen))
    return _serve(config, "all", bind_tcp(listen, reuse_port=False))


def _yield_to_the_monitor() -> None:
    """A supervised web worker gives way to the monitor for CPU and under memory pressure."""
    os.nice(WEB_NICENESS)
    try:
        Path("/proc/self/oom_score_adj").write_text(f"{WEB_OOM_SCORE_ADJ}\n")
    except OSError:  # not Linux, or a sandbox without /proc: the niceness still applies
        log.debug("could not set oom_score_adj", exc_info=True)


def bind_tcp(listen: str, *, reuse_port: bool, backlog: int = 1024) -> socket.socket:
    """A listening TCP socket on `listen` ("host:port")."""
    from statuswatch.config.loader import parse_listen

    host, port = parse_listen(listen)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=backlog, reuse_port=reuse_port)


def _web_socket(listen: str) -> socket.socket:
    """The supervisor's shared socket when it started us; else our own on `listen`, shared
    with any other web role on the same port (SO_REUSEPORT)."""
    fd = os.environ.get(LISTEN_FD_ENV)
    if fd is not None:
        return socket.socket(fileno=int(fd))
    return bind_tcp(listen, reuse_port=True)


def _monitor_socket(config: Config) -> socket.socket:
    """The monitor's socket for the web role: private to this user, one monitor per database."""
    path = monitor_socket(config)
    _claim(path)
    return bind_private(path)


def bind_private(path: Path) -> socket.socket:
    """A listening Unix socket at `path` that only this user can connect to."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)  # 0600 from the start: no window where others could connect
    try:
        sock.bind(str(path))
    finally:
        os.umask(old)
    sock.listen(128)
    return sock


class AnotherMonitorError(RuntimeError):
    """A monitor role already serves this database: two writers would fight over it."""


def _claim(path: Path) -> None:
    """Remove a socket left by a monitor that died; refuse if one is still answering on it."""
    if not path.exists():
        return
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except (ConnectionRefusedError, FileNotFoundError):
        path.unlink(missing_ok=True)  # nobody listens: a leftover
        return
    finally:
        probe.close()
    raise AnotherMonitorError(f"a monitor role is already running for {path.with_suffix('')}")


def _serve(config: Config, role: str, listen: socket.socket) -> int:
    from statuswatch.cli.event_loop import loop_name, new_event_loop
    from statuswatch.cli.gc_tuning import tune_gc
    from statuswatch.cli.limits import DescriptorBudget, ExhaustionLog, raise_nofile
    from statuswatch.cli.serve import serve
    from statuswatch.web import create_app
    from statuswatch.web.app import freeze_startup_heap

    budget = DescriptorBudget.for_config(config, raise_nofile())
    app = create_app(config, role=role)
    app.on_startup.append(freeze_startup_heap)  # after the runtime's own startup
    loop = new_event_loop()  # uvloop with the `speed` extra installed
    loop.set_exception_handler(ExhaustionLog())
    tune_gc()  # rare full collections: each one stalls the event loop
    where = listen.getsockname()
    place = where if isinstance(where, str) else f"http://{where[0]}:{where[1]}"
    try:
        serve(
            app,
            loop,
            listen=listen,
            max_connections=budget.max_connections,
            head_timeout=config.site.request_head_timeout,
            backlog=budget.backlog,
            on_serving=lambda: log.info(
                "%s: serving %s on %s (event loop: %s): at most %d connections, "
                "%d descriptors kept for probing",
                role,
                config.site.title,
                place,
                loop_name(loop),
                budget.max_connections,
                budget.reserve,
            ),
        )
    finally:
        if listen.family == socket.AF_UNIX and role == "monitor":
            monitor_socket(config).unlink(missing_ok=True)
    return 0
