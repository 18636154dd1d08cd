"""The web role's resources: the read-only store, the published board it follows, the
subscribe form's signer, and the connection to the monitor role (README "Processes")."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from statuswatch.cluster.forward import has_cluster_token
from statuswatch.config import Config
from statuswatch.notify.runtime import form_pages
from statuswatch.roles.forward import CLIENT_HEADER, MonitorLink, monitor_socket
from statuswatch.roles.published import PublishedBoard
from statuswatch.store import SchemaNotReadyError, StoreProtocol
from statuswatch.store.open import open_when_reachable
from statuswatch.web.keys import (
    BOARD,
    CLOCK,
    CLUSTER_TOKEN,
    CONFIG,
    MONITOR_LINK,
    NOTIFICATIONS,
    RENDER_CACHE,
    STORE,
    Resource,
)

log = logging.getLogger(__name__)


# A web worker looks for the monitor's changes this often (one counter read when nothing
# changed), so a change shows on every worker well within a second.
FOLLOW_EVERY = 0.1
# How long a web worker waits for the monitor role to create the database at start-up.
SCHEMA_WAIT = 120.0


def resources(store: StoreProtocol | None, env: dict[str, str]) -> tuple[Resource, ...]:
    """The web role's cleanup contexts, in start-up order."""
    return (_read_store(store, env), _form_pages(env), _published_board, _monitor_link)


async def forward(request: web.Request) -> web.Response:
    """A route the monitor role answers (the web role's handler for every write). A request
    another node forwarded with the cluster token keeps the stranger's address it passed on."""
    client = None
    if has_cluster_token(request, request.app.get(CLUSTER_TOKEN)):
        client = request.headers.get(CLIENT_HEADER)
    return await request.app[MONITOR_LINK].forward(request, client=client)


def _read_store(given: StoreProtocol | None, env: dict[str, str]) -> Resource:
    """The web role's store: read-only, once the monitor role has created and migrated it."""

    async def store(app: web.Application) -> AsyncIterator[None]:
        opened = given if given is not None else await _wait_for_schema(app[CONFIG], env)
        app[STORE] = opened
        yield
        if given is None:
            await opened.close()

    return store


async def _wait_for_schema(config: Config, env: dict[str, str]) -> StoreProtocol:
    """Open the database read-only, waiting (a while) for the monitor role to migrate it."""
    deadline = asyncio.get_running_loop().time() + SCHEMA_WAIT
    while True:
        try:
            opened = await open_when_reachable(config, env, readonly=True)
        except SchemaNotReadyError as exc:
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(f"{exc}: is the monitor role running?") from None
            await asyncio.sleep(0.2)
            continue
        await opened.start()
        return opened


def _form_pages(env: dict[str, str]) -> Resource:
    """In the web role, the subscribe form it serves itself (the monitor answers its post)."""

    async def pages(app: web.Application) -> AsyncIterator[None]:
        app[NOTIFICATIONS] = await form_pages(app[CONFIG], app[STORE], app[CLOCK], env, SCHEMA_WAIT)
        yield

    return pages


async def _published_board(
    app: web.Application, paused: Callable[[], bool] | None = None
) -> AsyncIterator[None]:
    """The board the monitor role published, followed closely (the pages' caches follow it)
    except while `paused()` says its pages show another board."""
    board = PublishedBoard(app[CONFIG], app[STORE], app[CLOCK])
    app[BOARD] = board
    app[RENDER_CACHE].version = lambda: board.version
    app[RENDER_CACHE].follow_versions = True  # a new generation at most every LOOK_EVERY
    await board.refresh()
    task = asyncio.get_running_loop().create_task(_follow(board, paused))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _follow(board: PublishedBoard, paused: Callable[[], bool] | None = None) -> None:
    """Look for the monitor's changes every FOLLOW_EVERY seconds (a counter read when idle)."""
    while True:
        await asyncio.sleep(FOLLOW_EVERY)
        if paused is not None and paused():
            continue
        try:
            await board.refresh()
        except Exception:  # a locked or briefly unreadable database: try again next time
            log.warning("could not read the published board", exc_info=True)


async def _monitor_link(app: web.Application) -> AsyncIterator[None]:
    """The web role's connection pool to the monitor role's socket."""
    link = app[MONITOR_LINK] = MonitorLink(monitor_socket(app[CONFIG]))
    await link.start()
    yield
    await link.close()


# A follower node's pages in one process follow the leader's board the same way (paused while
# the node leads and its pages show its own board).
published_board = _published_board
