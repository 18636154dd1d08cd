"""Serve the app as `web.run_app` does, with the site's connections behind the guard.

`web.run_app` hands aiohttp's own protocol factory to the loop; the guard must sit in between
(statuswatch/web/connections.py), so the listening server is made here from the runner's
server, and shutdown follows run_app's order: stop listening, close idle connections, let
requests in progress finish (up to `shutdown_timeout`), then the app's cleanup contexts.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable

from aiohttp import web

from statuswatch.web.connections import ConnectionGuard

# An idle kept-alive connection is closed this long after its last response (aiohttp's
# run_app default is 75 s: a slot the site's connection limit would lose for that long).
KEEPALIVE_TIMEOUT = 15.0
SHUTDOWN_TIMEOUT = 3.0


def serve(
    app: web.Application,
    loop: asyncio.AbstractEventLoop,
    *,
    listen: socket.socket,
    max_connections: int,
    head_timeout: float,
    backlog: int,
    on_serving: Callable[[], None],
) -> None:
    """Run `app` on `loop`, accepting on `listen` (bound already), until SIGTERM or SIGINT,
    then stop cleanly and close the loop."""

    async def main() -> None:
        runner = web.AppRunner(
            app,
            handle_signals=True,
            access_log=None,
            shutdown_timeout=SHUTDOWN_TIMEOUT,
            keepalive_timeout=KEEPALIVE_TIMEOUT,
        )
        await runner.setup()
        guard = ConnectionGuard(
            runner.server,  # type: ignore[arg-type] - set by setup()
            max_connections=max_connections,
            head_timeout=head_timeout,
        )
        try:
            if listen.family == socket.AF_UNIX:
                server = await loop.create_unix_server(guard, sock=listen, backlog=backlog)
            else:
                server = await loop.create_server(guard, sock=listen, backlog=backlog)
            on_serving()
            try:
                await asyncio.Event().wait()  # until a signal ends the run
            finally:
                server.close()
                guard.close()
        finally:
            await runner.cleanup()

    task = loop.create_task(main())
    try:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(task)
    except (web.GracefulExit, KeyboardInterrupt):
        pass
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                loop.run_until_complete(task)
        _cancel_all(loop)
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def _cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what is still running (as asyncio.run does) so the loop closes clean."""
    tasks = asyncio.all_tasks(loop)
    for task in tasks:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
