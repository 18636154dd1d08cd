"""A real PostgreSQL cluster for the tests, from Debian's `postgresql` package (no containers).

`PostgresCluster` runs `initdb` and `pg_ctl` in a temporary directory, listening on 127.0.0.1 on a
free port and on a Unix socket in that directory. initdb refuses to run as root, so as root the
cluster belongs to the `postgres` user the package creates. `database()` hands each test a fresh
database (CREATE DATABASE is a file copy: fast). Locally the tests that need it skip when the
package is missing; in CI (STATUSWATCH_REQUIRE_SYSTEM=1) they fail (tests/helpers/system.py).
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

# Off for speed in tests only: a crash of the test machine loses the cluster anyway.
_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=200")
_counter = itertools.count(1)


def pg_bindir() -> Path | None:
    """Where Debian's PostgreSQL server binaries are (newest version), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=_version)
    if found:
        return Path(found[-1]).parent
    which = shutil.which("pg_ctl")
    return Path(which).parent if which else None


def _version(path: str) -> int:
    try:
        return int(Path(path).parts[-3])
    except ValueError:
        return 0


def require_postgres() -> Path:
    """The server binaries' directory, or skip (locally) / fail (CI) when missing."""
    bindir = pg_bindir()
    if bindir is not None and (bindir / "initdb").exists():
        return bindir
    message = (
        "PostgreSQL server is not installed (`make test` installs Debian's postgresql as root)"
    )
    if os.environ.get("STATUSWATCH_REQUIRE_SYSTEM") == "1":
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresCluster:
    """One PostgreSQL server in its own directory; started, stopped, killed by the tests."""

    def __init__(self, bindir: Path, root: Path | None = None, *, port: int | None = None) -> None:
        self.bindir = bindir
        self.root = Path(root or tempfile.mkdtemp(prefix="statuswatch-pg-"))
        self.data = self.root / "data"
        self.port = port or free_port()
        self.user = "statuswatch"
        self._as = None if os.geteuid() != 0 else pwd.getpwnam("postgres")

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        kwargs: dict = {}
        if self._as is not None:
            kwargs = {"user": self._as.pw_uid, "group": self._as.pw_gid, "extra_groups": []}
        return subprocess.run(
            cmd, check=check, capture_output=True, text=True, cwd=self.root, **kwargs
        )

    def _make_root(self) -> None:
        """The cluster's directory, owned by the user the server runs as."""
        self.root.mkdir(parents=True, exist_ok=True)
        if self._as is not None:
            os.chown(self.root, self._as.pw_uid, self._as.pw_gid)

    def init(self) -> PostgresCluster:
        self._make_root()
        self._run("initdb", "-D", str(self.data), "-U", self.user, "-A", "trust", "--no-sync")
        return self

    def start(self) -> None:
        opts = " ".join(
            [f"-p {self.port}", f"-k {self.root}", "-c listen_addresses=127.0.0.1"]
            + [f"-c {s}" for s in _SETTINGS]
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            opts,
            "-l",
            str(self.root / "log"),
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{dbname}"

    def database(self) -> str:
        """A new empty database; its URL."""
        import psycopg

        name = f"t{os.getpid()}_{next(_counter)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def replica(self) -> PostgresCluster:
        """A streaming replica of this (running) server in a directory of its own, started.

        `pg_basebackup -R` copies the data directory and writes the standby's primary_conninfo;
        initdb's pg_hba.conf already trusts replication from 127.0.0.1, and wal_level=replica
        and max_wal_senders=10 are PostgreSQL's defaults."""
        standby = PostgresCluster(self.bindir)
        standby._make_root()
        standby._run(
            "pg_basebackup",
            "-R",
            "-X",
            "stream",
            "-D",
            str(standby.data),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            self.user,
            "--no-sync",
        )
        standby.start()
        return standby

    def promote(self) -> None:
        """End a standby's recovery: it takes writes from now on (waits until it does)."""
        self._run("pg_ctl", "-D", str(self.data), "-w", "-t", "60", "promote")

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
