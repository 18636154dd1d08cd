"""Both roles in one test: the monitor role's app on its real Unix socket, a web role's app on
aiohttp's test server, the same database file, one injected clock."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from statuswatch.clock import FakeClock
from statuswatch.config import Config
from statuswatch.roles.forward import monitor_socket
from statuswatch.roles.published import PublishedBoard
from statuswatch.web import create_app
from statuswatch.web.keys import BOARD, STORE


@contextmanager
def short_dir() -> Iterator[Path]:
    """A directory whose database's socket path fits a Unix socket (pytest's tmp_path may not)."""
    path = Path(tempfile.mkdtemp(prefix="sw", dir="/tmp"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@dataclass
class Roles:
    """A monitor role serving its socket (stoppable, restartable) and the web role's client."""

    config: Config
    clock: FakeClock
    env: dict[str, str]
    web: object = None  # the aiohttp TestClient of the web role's app
    runner: web.AppRunner | None = field(default=None, repr=False)

    @property
    def monitor(self) -> web.Application:
        assert self.runner is not None, "the monitor is not running"
        return self.runner.app

    @property
    def board(self) -> PublishedBoard:
        return self.web.app[BOARD]

    async def start_monitor(self) -> None:
        """Start the monitor role's app on `<storage.path>.sock`, as `--role monitor` does."""
        app = create_app(
            self.config, role="monitor", clock=self.clock, probe=False, environ=self.env
        )
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.UnixSite(runner, str(monitor_socket(self.config))).start()
        self.runner = runner

    async def stop_monitor(self) -> None:
        """Stop it cleanly (its publisher says it is stopping), its socket gone."""
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
        monitor_socket(self.config).unlink(missing_ok=True)

    async def follow(self) -> bool:
        """What the web worker's follower does every 0.1 s, now (flushing the monitor first)."""
        if self.runner is not None:
            await self.monitor[STORE].flush()
        return await self.board.refresh()


async def start_roles(aiohttp_client, config: Config, clock: FakeClock, env: dict) -> Roles:
    """The monitor role first (it creates the database), then a web role's test client."""
    roles = Roles(config, clock, env)
    await roles.start_monitor()
    roles.web = await aiohttp_client(create_app(config, role="web", clock=clock, environ=env))
    return roles
