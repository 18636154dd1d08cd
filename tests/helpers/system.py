"""The repository root and the system tools (and privileges) some tests need.

`require_tool` and `require_root` skip on a developer's machine without the tool or root, and
fail in CI (STATUSWATCH_REQUIRE_SYSTEM=1, where the suite runs as root), so nothing silently
goes untested there.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parents[2]


def unavailable(message: str) -> NoReturn:
    """Skip (locally) or fail (CI) a test whose system requirement is not met."""
    if os.environ.get("STATUSWATCH_REQUIRE_SYSTEM") == "1":
        pytest.fail(message)
    pytest.skip(message)


def require_tool(name: str) -> str:
    """Return the path of a system tool, or skip (locally) / fail (CI) when it is missing."""
    path = shutil.which(name)
    if not path:
        unavailable(f"system tool {name!r} is not installed (`make test` installs it as root)")
    return path


def require_root() -> None:
    """Skip (locally) / fail (CI) unless running as root (network namespaces, nftables)."""
    if os.geteuid() != 0:
        unavailable("needs root (network namespaces and nftables rules)")
