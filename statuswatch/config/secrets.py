"""Secrets come from the environment: NAME, or a file named by NAME_FILE (Docker/K8s style)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


def read_secret(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """Return the secret in env var `name`, or in the file `${name}_FILE` names; None if unset."""
    env = os.environ if environ is None else environ
    value = env.get(name)
    if value:
        return value
    path = env.get(f"{name}_FILE")
    if path:
        # Trailing newline is an artefact of how such files are written, never part of a token.
        return Path(path).read_text(encoding="utf-8").strip() or None
    return None
