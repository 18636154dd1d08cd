"""A supervised process ends with its supervisor.

A supervisor killed outright (kill -9, the OOM killer) must not leave its children behind: an
orphaned monitor would keep the database (on PostgreSQL, the leader lease) and the web workers
the site's port, serving a state nobody updates, and the supervisor started again could bind
neither. On Linux the kernel sends the child SIGTERM when its parent dies (PR_SET_PDEATHSIG), so
the child stops as on a clean stop: its queued writes committed, its lease given up.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
from collections.abc import Mapping

log = logging.getLogger(__name__)

# Set by the supervisor for every process it starts: its own pid.
SUPERVISOR_ENV = "STATUSWATCH_SUPERVISOR_PID"
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class SupervisorGoneError(RuntimeError):
    """The supervisor died before this process could ask to end with it."""


def end_with_supervisor(environ: Mapping[str, str]) -> None:
    """Ask for SIGTERM when the supervisor dies (Linux; elsewhere nothing is asked)."""
    expected = environ.get(SUPERVISOR_ENV)
    if not expected or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        log.warning("cannot ask to end with the supervisor: %s", os.strerror(errno))
        return
    # Asked only now: a supervisor that died since this process was forked sends nothing.
    if os.getppid() != int(expected):
        raise SupervisorGoneError(f"the supervisor (pid {expected}) is gone")
