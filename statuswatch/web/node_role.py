"""A node of several on one PostgreSQL: its campaign for the leader lease, and the deciding
resources opened while it leads (web/app.py lists them; SQLite opens them for good)."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import AsyncIterator, Iterator

from aiohttp import web

from statuswatch.metrics.lease import LeaseCollector
from statuswatch.web import web_role
from statuswatch.web.keys import (
    BOARD,
    CLUSTER,
    METRICS_REGISTRY,
    RENDER_CACHE,
    ROLE,
    STORE,
    Resource,
)


def campaign(deciding: tuple[Resource, ...]) -> Resource:
    """This node's campaign: the deciding resources are opened when it is elected and closed,
    in reverse, when it loses the lease; every write it makes is fenced meanwhile."""

    async def cluster(app: web.Application) -> AsyncIterator[None]:
        node = app[CLUSTER]
        # Fenced from the start: a follower's write (there should be none) never lands either.
        app[STORE].guard = node.lease.guard  # type: ignore[attr-defined]
        leader_work = contextlib.AsyncExitStack()
        async with contextlib.AsyncExitStack() as following:
            if app[ROLE] == "all":  # a follower's pages: what the leader published
                # Not read while this node leads: its pages show its own board then, and
                # following meant two reads of the store every FOLLOW_EVERY, one more per commit.
                followed = contextlib.asynccontextmanager(web_role.published_board)(
                    app, paused=lambda: node.leading
                )
                await following.enter_async_context(followed)
            published = app.get(BOARD)

            async def elected() -> None:
                with started_app_state():
                    for ctx in deciding:
                        opened = contextlib.asynccontextmanager(ctx)(app)
                        await leader_work.enter_async_context(opened)

            async def deposed() -> None:
                with started_app_state():
                    try:
                        await leader_work.aclose()  # monitoring's stop flushes the store
                    finally:
                        # Whatever the stop did: nothing of this term stays queued to be tried
                        # under a later one (the guard refuses it now; it is dropped).
                        await app[STORE].flush()
                    if published is not None:  # back to the leader's board, as a follower
                        app[BOARD] = published
                        app[RENDER_CACHE].version = lambda: published.version

            async def continued() -> None:
                app[STORE].retry_now()  # the held batch lands now, not after its backoff

            lease_figures = LeaseCollector(node.lease)
            app[METRICS_REGISTRY].register(lease_figures)
            await node.start(elected, deposed, continued)
            yield
            await node.stop()
            app[METRICS_REGISTRY].unregister(lease_figures)

    return cluster


@contextlib.contextmanager
def started_app_state() -> Iterator[None]:
    """The deciding resources set their app keys when opened; a node elected (or deposed)
    after start-up does so on a started app, which aiohttp allows but warns about."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Changing state of started", category=DeprecationWarning)
        yield
