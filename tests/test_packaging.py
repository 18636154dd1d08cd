"""The wheel carries templates/ and static/ and finds them without the source tree or the cwd."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = r"""
import asyncio, sys, tempfile
import statuswatch
from statuswatch.resources import resource_dir
assert statuswatch.__file__.startswith(sys.argv[1]), statuswatch.__file__
assert str(resource_dir("templates")).startswith(sys.argv[1])
from aiohttp.test_utils import TestClient, TestServer
from statuswatch.config import parse_config
from statuswatch.web import create_app

async def main():
    tmp = tempfile.mkdtemp()
    config = parse_config({"components": [{"id": "api", "name": "Storefront API"}]},
                          base_dir=__import__("pathlib").Path(tmp))
    async with TestClient(TestServer(create_app(config, environ={}))) as client:
        page = await (await client.get("/")).text()
        css = await client.get("/static/style.css")
        assert "Storefront API" in page and css.status == 200
    print("wheel ok")

asyncio.run(main())
"""


def test_wheel_ships_templates_and_static_and_runs_from_elsewhere(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("statuswatch-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "statuswatch/templates/index.html" in names
    assert "statuswatch/static/style.css" in names
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # PYTHONPATH puts the installed wheel ahead of the editable checkout; run from another cwd.
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(target)],
        cwd=elsewhere,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "wheel ok" in proc.stdout
