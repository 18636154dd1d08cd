"""Regional time in the credits exports: the same regional outage under both ways a plan counts it.

A real store holds October 2026's per-location outages; the real `statuswatch credits` command
prints JSON, CSV and the table. The monitor is probed from local, eu and us (quorum 2): eu saw
it down 10:00-12:00 and us 11:00-11:10, so 10 minutes are down (two locations) and 110 minutes
regional (one). Two customers of the same component: "lenient" counts regional time as
available, "strict" as downtime.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import pytest

from statuswatch.config import load_config
from statuswatch.monitor.events import OutageClosed, OutageOpened
from statuswatch.store import RegisterMonitors, Store

CONFIG = """
[storage]
path = "sw.db"
[[components]]
id = "api"
name = "API"
[[locations]]
id = "eu"
name = "Europe"
token_env = "EU_TOKEN"
[[locations]]
id = "us"
name = "US East"
token_env = "US_TOKEN"
[probing]
locations = ["local", "eu", "us"]
[[monitors]]
id = "api-health"
kind = "http"
component = "api"
url = "http://127.0.0.1:9/"
[[sla]]
id = "lenient"
name = "Lenient"
target_percent = 99.9
credit = { scheme = "per_excess_hour", percent_per_hour = 5, cap_percent = 100 }
regional_counts_as = "available"
[[sla]]
id = "strict"
name = "Strict"
target_percent = 99.9
credit = { scheme = "per_excess_hour", percent_per_hour = 5, cap_percent = 100 }
regional_counts_as = "downtime"
[[customers]]
id = "acme"
name = "Acme"
plan = "lenient"
fee = 1000
components = ["api"]
[[customers]]
id = "bluebird"
name = "Bluebird"
plan = "strict"
fee = 1000
components = ["api"]
"""
ENV = {**os.environ, "EU_TOKEN": "eu-token-0123456789abcdef", "US_TOKEN": "us-token-0123456789ab"}
MONTH_MINUTES = 31 * 24 * 60
PERIOD = ("--period", "2026-10", "--format")


def ts(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


@pytest.fixture
async def config_path(tmp_path: Path) -> Path:
    """The config file, and a database beside it holding October's per-location outages."""
    path = tmp_path / "config.toml"
    path.write_text(CONFIG, encoding="utf-8")
    store = Store(load_config(path).storage.path)
    await store.start()
    store.submit(RegisterMonitors([("api-health", "http", "api")], ts("2026-09-01T00:00:00Z")))
    for location, start, end in [
        ("eu", "2026-10-03T10:00:00Z", "2026-10-03T12:00:00Z"),
        ("us", "2026-10-03T11:00:00Z", "2026-10-03T11:10:00Z"),
    ]:
        store.submit(OutageOpened("api-health", ts(start), "connect", "refused", location))
        store.submit(OutageClosed("api-health", ts(end), "recovered", location))
    await store.flush()
    await store.close()
    return path


def availability(unexcused_minutes: int) -> float:
    """The exact figure over a 31-day month, as the JSON gives it."""
    return float(Fraction(100 * (MONTH_MINUTES - unexcused_minutes), MONTH_MINUTES))


def credits(config_path: Path, fmt: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "statuswatch", "credits", "-c", str(config_path), *PERIOD, fmt],
        capture_output=True,
        text=True,
        check=False,
        env=ENV,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


async def test_json_shows_the_regional_time_and_how_each_plan_counted_it(config_path):
    acme, bluebird = json.loads(credits(config_path, "json"))["customers"]
    # The regional time is the same 110 minutes for both; only the plans' counting differs.
    assert (acme["regional_minutes"], acme["regional_counts_as"]) == (110.0, "available")
    assert (bluebird["regional_minutes"], bluebird["regional_counts_as"]) == (110.0, "downtime")
    # lenient: 10 min down by quorum, within the 44.64 min budget: target met, no credit.
    assert acme["unexcused_downtime_minutes"] == 10.0
    assert acme["availability_percent"] == availability(10)
    assert acme["met"] is True
    assert (acme["credit_percent"], acme["credit_amount"]) == (0.0, 0.0)
    # strict: 120 min, 75.36 over budget -> 75 whole minutes -> two hours' steps of 5 %.
    assert bluebird["unexcused_downtime_minutes"] == 120.0
    assert bluebird["availability_percent"] == availability(120)
    assert bluebird["excess_downtime_minutes"] == 75.36
    assert (bluebird["credit_percent"], bluebird["credit_amount"]) == (10.0, 100.0)
    # The outages say where they were seen and how much of each was regional.
    seen = [(o["location"], o["duration_minutes"], o["regional_minutes"]) for o in acme["outages"]]
    assert seen == [("eu", 120.0, 110.0), ("us", 10.0, 0.0)]
    assert bluebird["outages"] == acme["outages"]


async def test_csv_shows_the_regional_time_and_how_each_plan_counted_it(config_path):
    rows = {r["customer"]: r for r in csv.DictReader(io.StringIO(credits(config_path, "csv")))}
    got = {
        c: (r["regional_minutes"], r["regional_counts_as"], r["credit_amount"])
        for c, r in rows.items()
    }
    assert got == {
        "acme": ("110.0", "available", "0.0"),
        "bluebird": ("110.0", "downtime", "100.0"),
    }
    assert rows["acme"]["unexcused_downtime_minutes"] == "10.0"
    assert rows["bluebird"]["unexcused_downtime_minutes"] == "120.0"


async def test_the_table_shows_the_regional_time_and_how_each_plan_counts_it(config_path):
    table = credits(config_path, "table")
    header, acme, bluebird = table.splitlines()[:3]
    column = header.index("regional")
    assert acme[column:].startswith("110 min") and bluebird[column:].startswith("110 min")
    assert "regional time: lenient: counted as available; strict: counted as downtime" in table
