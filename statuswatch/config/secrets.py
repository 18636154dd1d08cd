"""Secrets come from the environment: NAME, or a file named by NAME_FILE (Docker/K8s style)."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

log = logging.getLogger(__name__)


def read_secret(
    name: str | None,
    environ: Mapping[str, str] | None = None,
    *,
    unset: str | None = None,
    level: int = logging.WARNING,
) -> str | None:
    """Return the secret in env var `name`, or in the file `${name}_FILE` names; None if unset.

    No `name` (empty or None) means nobody configured the secret: None, silently. `unset` says
    what happens without a configured secret; given, a missing secret logs one line naming the
    variable and that consequence (never a value: there is none to log).
    """
    if not name:
        return None
    env = os.environ if environ is None else environ
    value = env.get(name) or _from_file(env.get(f"{name}_FILE"))
    if value is None and unset is not None:
        log.log(level, "%s is not set: %s", name, unset)
    return value


def _from_file(path: str | None) -> str | None:
    if not path:
        return None
    # Trailing newline is an artefact of how such files are written, never part of a token.
    return Path(path).read_text(encoding="utf-8").strip() or None
