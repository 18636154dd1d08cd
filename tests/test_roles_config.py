"""Config for the roles: `site.workers`' range (tests/data/invalid) and a database path whose
monitor socket would not fit a Unix socket, refused where a socket is needed."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from statuswatch.cli.run import run
from statuswatch.roles.forward import SOCKET_PATH_MAX, monitor_socket, socket_problem
from tests.helpers.config import build_config

COMPONENT = '[[components]]\nid = "api"\nname = "API"\n'


def long_db(tmp_path: Path) -> Path:
    """A database path whose socket path (`<path>.sock`) is just too long."""
    base = len(str(tmp_path)) + len("/") + len(".db.sock")
    return tmp_path / ("d" * (SOCKET_PATH_MAX + 1 - base) + ".db")


def test_a_socket_path_too_long_names_storage_path(tmp_path):
    config = build_config(tmp_path, {"storage": {"path": str(long_db(tmp_path))}})
    assert len(str(monitor_socket(config))) == SOCKET_PATH_MAX + 1
    problem = socket_problem(config)
    assert problem is not None and problem.startswith("storage.path: ")
    assert f"longer than {SOCKET_PATH_MAX} bytes" in problem


def test_a_socket_path_that_just_fits_is_fine(tmp_path):
    fits = long_db(tmp_path).with_name(long_db(tmp_path).name[1:])
    config = build_config(tmp_path, {"storage": {"path": str(fits)}})
    assert len(str(monitor_socket(config))) == SOCKET_PATH_MAX
    assert socket_problem(config) is None


def run_args(role: str | None) -> argparse.Namespace:
    return argparse.Namespace(role=role, listen=None, config="x.toml", log_level="info")


def test_run_refuses_it_before_starting_anything_when_a_socket_is_needed(tmp_path, capsys):
    for workers, role in [(2, None), (0, "monitor"), (0, "web")]:
        raw = {"site": {"workers": workers}, "storage": {"path": str(long_db(tmp_path))}}
        config = build_config(tmp_path, raw)
        assert run(run_args(role), config) == 2
        err = capsys.readouterr().err
        assert err.startswith("statuswatch: config error: storage.path: "), err


def check_config(tmp_path: Path, workers: int) -> subprocess.CompletedProcess:
    path = tmp_path / "config.toml"
    db = long_db(tmp_path)
    path.write_text(
        f'[site]\nworkers = {workers}\n[storage]\npath = "{db}"\n{COMPONENT}', encoding="utf-8"
    )
    return subprocess.run(
        [sys.executable, "-m", "statuswatch", "check-config", "-c", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_check_config_refuses_it_with_web_workers(tmp_path):
    proc = check_config(tmp_path, workers=2)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "statuswatch: config error: storage.path: " in proc.stderr
    assert "Traceback" not in proc.stderr


def test_check_config_accepts_it_in_one_process(tmp_path):
    proc = check_config(tmp_path, workers=0)
    assert proc.returncode == 0, proc.stderr
    assert ": ok (" in proc.stdout
