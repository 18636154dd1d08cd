"""`statuswatch run` as a user runs it: offline targets reported down, clean SIGTERM/SIGINT."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.helpers.net import free_port

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "cli-admin-token-0123456789"


def fast_example(tmp_path: Path, port: int) -> Path:
    """The example config with 1 s intervals, listening on `port`, its database in tmp_path."""
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    text = re.sub(r'^interval = "[^"]+"', 'interval = "1s"', text, flags=re.M)
    text = re.sub(r'^timeout = "[^"]+"', 'timeout = "800ms"', text, flags=re.M)
    text = re.sub(r'^listen = "[^"]+"', f'listen = "127.0.0.1:{port}"', text, flags=re.M)
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def get_json(url: str, token: str | None = None) -> dict:
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=5) as resp:
        return json.loads(resp.read())


def start(config: Path) -> subprocess.Popen:
    env = {**os.environ, "STATUSWATCH_ADMIN_TOKEN": TOKEN}
    return subprocess.Popen(
        [sys.executable, "-m", "statuswatch", "run", "-c", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def wait_healthy(port: int, proc: subprocess.Popen, seconds: float = 30) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"statuswatch exited early: {proc.communicate()[1]}")
        try:
            return get_json(f"http://127.0.0.1:{port}/healthz")
        except OSError:
            time.sleep(0.1)
    pytest.fail("statuswatch did not start serving")


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> tuple[int, str]:
    started = time.monotonic()
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=10)
    assert time.monotonic() - started < 5, "shutdown took too long"
    return proc.returncode, err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_offline_run_reports_unreachable_targets_down_and_stops_cleanly(tmp_path, sig):
    port = free_port()
    proc = start(fast_example(tmp_path, port))
    try:
        health = wait_healthy(port, proc)
        assert health["status"] == "ok"
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            monitors = get_json(f"http://127.0.0.1:{port}/api/v1/monitors", TOKEN)["monitors"]
            probed = [m for m in monitors if m["kind"] != "push"]
            if all(m["state"] == "down" for m in probed):
                break
            time.sleep(0.2)
        assert all(m["state"] == "down" for m in probed), probed
        # The .example names never resolve: an honest "dns" failure, not a crash.
        classes = {m["last_result"]["error_class"] for m in probed}
        assert classes <= {"dns", "dns_nxdomain", "dns_servfail", "timeout", "connect"}, classes
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as resp:
            assert "Storefront API" in resp.read().decode()
    finally:
        code, err = stop(proc, sig)
    assert code == 0, err
    assert "Traceback" not in err
    assert err.count("\n") < 200, "the log is flooded"
    # uvloop when the `speed` extra is installed, the standard loop otherwise.
    expected = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    assert f"(event loop: {expected})" in err
    assert (tmp_path / "statuswatch.db").exists()


def test_the_info_log_holds_what_an_operator_needs_not_scheduler_chatter(tmp_path):
    port = free_port()
    proc = start(fast_example(tmp_path, port))
    try:
        wait_healthy(port, proc)
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:  # the housekeeping jobs run at start and every 15 s
            monitors = get_json(f"http://127.0.0.1:{port}/api/v1/monitors", TOKEN)["monitors"]
            if all(m["state"] == "down" for m in monitors if m["kind"] != "push"):
                break
            time.sleep(0.2)
    finally:
        code, err = stop(proc)
    assert code == 0, err
    assert re.search(r"INFO \[monitor\] statuswatch\S*: monitor \S+: unknown -> down", err), err
    assert "Running job" not in err and "executed successfully" not in err, err
    assert "apscheduler" not in err, err


def test_run_with_a_bad_config_exits_2(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[defaults]\ninterval = "soon"\n', encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "statuswatch", "run", "-c", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "defaults.interval: must be a duration" in proc.stderr
