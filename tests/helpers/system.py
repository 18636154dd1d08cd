"""The repository root and the system tools some tests need.

`require_tool` skips on a developer's machine without the tool, and fails in CI
(STATUSWATCH_REQUIRE_SYSTEM=1), so nothing silently goes untested there.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def require_tool(name: str) -> str:
    """Return the path of a system tool, or skip (locally) / fail (CI) when it is missing."""
    path = shutil.which(name)
    if path:
        return path
    message = f"system tool {name!r} is not installed (`make test` installs it as root)"
    if os.environ.get("STATUSWATCH_REQUIRE_SYSTEM") == "1":
        pytest.fail(message)
    pytest.skip(message)
