"""open_store: the one factory that turns the config into a store (SQLite or PostgreSQL)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from statuswatch.config.loader import ConfigError
from statuswatch.config.model import Config
from statuswatch.config.secrets import read_secret
from statuswatch.config.storage_checks import database_url_problem
from statuswatch.store.errors import StoreUnreachableError
from statuswatch.store.protocol import StoreProtocol
from statuswatch.store.store import ReadOnlyStore, Store
from statuswatch.store.writer import WallClock

log = logging.getLogger(__name__)

# A process starting while its database cannot be reached tries again this often, and says so
# at once and then every SAY_EVERY seconds: a node started during a database failover, or
# before PostgreSQL is up, waits for it rather than dying in a loop of tracebacks.
RETRY_EVERY = 1.0
SAY_EVERY = 30.0


def storage_url(config: Config, env: Mapping[str, str]) -> str | None:
    """The PostgreSQL URL the config selects, or None for SQLite at storage.path.

    Raises ConfigError naming storage.url_env when the variable it names is unset or does not
    hold a PostgreSQL URL (known only at run time: the config check cannot see it).
    """
    storage = config.storage
    if not storage.url_env:
        return storage.url
    name = storage.url_env
    url = read_secret(name, env)
    if url is None:
        raise ConfigError([f"storage.url_env: {name} is not set (nor {name}_FILE)"])
    problem = database_url_problem(url)
    if problem is not None:
        raise ConfigError([f"storage.url_env: {name} {problem}"])
    return url


def open_store(
    config: Config,
    env: Mapping[str, str],
    *,
    readonly: bool = False,
    clock: WallClock | None = None,
) -> StoreProtocol:
    """Open (not start) the store the config names; read-only for the web role."""
    url = storage_url(config, env)
    if url is None:
        path = config.storage.path
        if readonly:
            return ReadOnlyStore(path)
        return Store(path, clock=clock, max_pending=config.storage.max_pending)
    from statuswatch.store.pg import PgStore  # psycopg loads only for PostgreSQL

    return PgStore(url, readonly=readonly, clock=clock, max_pending=config.storage.max_pending)


def storage_problem(config: Config, env: Mapping[str, str]) -> str | None:
    """What stops the configured store from being found at run time ("key.path: ..."), or None."""
    try:
        storage_url(config, env)
    except ConfigError as exc:
        return exc.problems[0]
    return None


async def open_when_reachable(
    config: Config,
    env: Mapping[str, str],
    *,
    readonly: bool = False,
    clock: WallClock | None = None,
) -> StoreProtocol:
    """open_store, waiting as long as it takes while the database cannot be reached."""
    loop = asyncio.get_running_loop()
    said: float | None = None
    while True:
        try:
            return open_store(config, env, readonly=readonly, clock=clock)
        except StoreUnreachableError as exc:
            if said is None or loop.time() - said >= SAY_EVERY:
                log.warning("%s; trying again every %g s", exc, RETRY_EVERY)
                said = loop.time()
        await asyncio.sleep(RETRY_EVERY)
