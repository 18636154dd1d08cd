"""Shared fixtures; the helpers they build on live in tests/helpers/."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.system import ROOT


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture
async def smtp():
    """A real SMTP server (aiosmtpd) on a free port, collecting what it receives."""
    from tests.helpers.notify import Mailbox, SmtpServer

    server = SmtpServer(Mailbox())
    await server.start()
    yield server
    await server.stop()
