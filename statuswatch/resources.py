"""Find templates/ and static/: inside an installed wheel, or beside a source checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """The directory holding `name` ("templates" or "static"), independent of the cwd."""
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"statuswatch: cannot find its {name}/ directory near {_PACKAGE}")
