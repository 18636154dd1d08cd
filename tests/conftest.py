"""Shared fixtures. Tests that need a system tool use `require_tool`: it skips on a developer's
machine without the tool, and fails in CI (STATUSWATCH_REQUIRE_SYSTEM=1), so nothing silently
goes untested there."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def require_tool(name: str) -> str:
    """Path of a system tool, or skip (locally) / fail (CI) when it is missing."""
    path = shutil.which(name)
    if path:
        return path
    message = f"system tool {name!r} is not installed (`make test` installs it as root)"
    if os.environ.get("STATUSWATCH_REQUIRE_SYSTEM") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture
async def smtp():
    """A real SMTP server (aiosmtpd) on a free port, collecting what it receives."""
    from notify_helpers import Mailbox, SmtpServer

    server = SmtpServer(Mailbox())
    await server.start()
    yield server
    await server.stop()
