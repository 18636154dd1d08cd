"""Shared fixtures; the helpers they build on live in tests/helpers/."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from statuswatch.clock import SystemClock
from statuswatch.config import Config
from statuswatch.probes import ProbeContext
from statuswatch.store import StoreProtocol
from tests.helpers.browser import chromium
from tests.helpers.config import build_config
from tests.helpers.postgres import PostgresCluster, require_postgres
from tests.helpers.processes import Target
from tests.helpers.store import BACKENDS, StoreBackend
from tests.helpers.system import ROOT

# Property tests check results, not speed: a per-example deadline only fails them when the
# machine is busy (benchmarks in bench/ measure speed).
settings.register_profile("statuswatch", deadline=None)
settings.load_profile("statuswatch")


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture(params=list(BACKENDS))
def store_backend(request: pytest.FixtureRequest, tmp_path: Path) -> StoreBackend:
    """A fresh database of each backend in turn; every test using it runs once per backend."""
    return BACKENDS[request.param](tmp_path, request.getfixturevalue)


@pytest.fixture
async def store(store_backend: StoreBackend) -> AsyncIterator[StoreProtocol]:
    """A started store on a fresh database, closed after the test."""
    store = await store_backend.started()
    yield store
    await store.close()


def _postgres_server() -> Iterator[PostgresCluster]:
    # Its own temporary directory: as root the server runs as `postgres`, which cannot enter
    # pytest's tmp_path.
    cluster = PostgresCluster(require_postgres()).init()
    cluster.start()
    yield cluster
    cluster.destroy()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """One PostgreSQL server for the session (Debian's package, initdb and pg_ctl in a temporary
    directory, 127.0.0.1 only); tests take a fresh database of it with `postgres.database()`."""
    yield from _postgres_server()


@pytest.fixture
def own_postgres() -> Iterator[PostgresCluster]:
    """A PostgreSQL server of this test's own, for a test that stops and starts it (the
    session's must stay up)."""
    yield from _postgres_server()


@pytest.fixture
def config_from(tmp_path: Path) -> Callable[[Mapping[str, Any]], Config]:
    """Parse a config dict as a file in tmp_path would be (its database there too)."""
    return functools.partial(build_config, tmp_path)


@pytest.fixture
async def smtp():
    """A real SMTP server (aiosmtpd) on a free port, collecting what it receives."""
    from tests.helpers.notify import Mailbox, SmtpServer

    server = SmtpServer(Mailbox())
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    """Debian's chromium under Playwright, for every browser test."""
    async with chromium() as launched:
        yield launched


@pytest.fixture
async def ctx() -> AsyncIterator[ProbeContext]:
    """The probes' shared context (sessions, resolvers) on the real clock, closed after."""
    context = ProbeContext(SystemClock())
    yield context
    await context.close()


@pytest.fixture
def target() -> Iterator[Target]:
    """A healthy switchable HTTP target in a process of its own."""
    target = Target()
    yield target
    target.stop()
