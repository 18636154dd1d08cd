"""A customer's private report: tokens from env or generated once, HTML and CSV, no leaks."""

from __future__ import annotations

import csv
import io
import logging
import os
import subprocess
import sys
from datetime import datetime

from statuswatch.clock import FakeClock
from statuswatch.monitor.events import OutageClosed, OutageOpened
from statuswatch.probes.base import CheckResult
from statuswatch.store import RegisterMonitors, Store
from statuswatch.web import create_app
from tests.helpers.config import make_config

REPORT_TOKEN = "northwind-report-token-0123456789abcdef"
TOKEN_CONFIG = """
[storage]
path = "sw.db"
[[components]]
id = "api"
name = "API"
[[sla]]
id = "standard"
name = "Standard"
target_percent = 99.9
credit = { scheme = "none" }
[[customers]]
id = "northwind"
name = "Northwind"
plan = "standard"
components = ["api"]
"""


def ts(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def config_for(tmp_path, **customer):
    return make_config(
        tmp_path,
        [{"id": "shop", "kind": "http", "component": "api", "url": "http://127.0.0.1:9/"}],
        sla=[
            {
                "id": "standard",
                "name": "Standard 99.9",
                "target_percent": 99.9,
                "credit": {"scheme": "per_excess_hour", "percent_per_hour": 5},
                "claim_window_days": 30,
            }
        ],
        customers=[
            {
                "id": "northwind",
                "name": "Northwind <b>Outfitters</b>",
                "plan": "standard",
                "fee": 1000,
                "components": ["api"],
                **customer,
            }
        ],
    )


async def seed(store: Store) -> None:
    store.submit(RegisterMonitors([("shop", "http", "api")], ts("2026-01-01T00:00:00Z")))
    start, end = ts("2026-10-03T10:00:00Z"), ts("2026-10-03T11:40:00Z")
    for t in (start, start + 60):
        store.submit(CheckResult("shop", t, False, None, 503, "http_status", "HTTP 503"))
    store.submit(OutageOpened("shop", start, "http_status", "HTTP 503"))
    store.submit(OutageClosed("shop", end, "recovered"))
    await store.flush()


async def test_report_from_an_env_token(tmp_path, aiohttp_client):
    config = config_for(tmp_path, report_token_env="NW_TOKEN")
    store = Store(config.storage.path)
    await store.start()
    await seed(store)
    clock = FakeClock(ts("2026-11-05T12:00:00Z"))
    client = await aiohttp_client(
        create_app(
            config, store=store, clock=clock, probe=False, environ={"NW_TOKEN": REPORT_TOKEN}
        )
    )
    resp = await client.get(f"/customers/{REPORT_TOKEN}")
    html = await resp.text()
    assert resp.status == 200
    assert resp.headers["Cache-Control"] == "no-store"
    assert "Northwind &lt;b&gt;Outfitters&lt;/b&gt;" in html  # escaped
    assert "2026-10" in html and "2025-12" in html and "2025-11" not in html  # 12 months
    assert "99.775" in html or "99.776" in html  # October: 100 minutes down
    assert "2 × http_status" in html  # the failing checks behind the outage
    assert "5% = 50.00 USD" in html
    csv_resp = await client.get(f"/customers/{REPORT_TOKEN}?format=csv")
    rows = list(csv.DictReader(io.StringIO(await csv_resp.text())))
    assert csv_resp.headers["Content-Type"].startswith("text/csv")
    assert [r["period"] for r in rows][:2] == ["2026-11", "2026-10"]
    assert rows[1]["credit_amount"] == "50.0"
    await client.close()
    await store.close()


async def test_wrong_tokens_get_404_then_429(tmp_path, aiohttp_client):
    config = config_for(tmp_path, report_token_env="NW_TOKEN")
    client = await aiohttp_client(
        create_app(config, probe=False, environ={"NW_TOKEN": REPORT_TOKEN})
    )
    statuses = [(await client.get(f"/customers/guess-{i}")).status for i in range(22)]
    assert statuses[:20] == [404] * 20 and statuses[-1] == 429


async def test_start_never_logs_a_report_token(tmp_path, aiohttp_client, caplog):
    # The URL is the credential: start-up says who has a report, never where it is.
    config = config_for(tmp_path)
    caplog.set_level(logging.DEBUG)
    client = await aiohttp_client(create_app(config, probe=False, environ={}))
    await client.close()
    assert "/customers/" not in caplog.text
    missing = [r for r in caplog.records if "no private report yet for northwind" in r.message]
    assert missing and missing[0].levelno == logging.WARNING
    assert "report-token --customer" in missing[0].message
    caplog.clear()
    env_config = config_for(tmp_path, report_token_env="NW_TOKEN")
    client = await aiohttp_client(
        create_app(env_config, probe=False, environ={"NW_TOKEN": REPORT_TOKEN})
    )
    await client.close()
    assert REPORT_TOKEN not in caplog.text and "/customers/" not in caplog.text
    assert "1 of 1 customers have a private report (1 with the token from" in caplog.text


REPORT_TOKEN_CMD = [sys.executable, "-m", "statuswatch", "report-token", "-c"]


def report_token(path, customer: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*REPORT_TOKEN_CMD, str(path), "--customer", customer],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **env},
    )


async def test_rotating_an_env_token_says_the_env_token_wins_at_the_next_start(
    tmp_path, aiohttp_client
):
    path = tmp_path / "config.toml"
    path.write_text(TOKEN_CONFIG + 'report_token_env = "NW_TOKEN"\n', encoding="utf-8")
    proc = report_token(path, "northwind", NW_TOKEN=REPORT_TOKEN)
    assert proc.returncode == 0, proc.stderr
    url = proc.stdout.strip()
    assert proc.stdout.count("/customers/") == 1 and url not in proc.stderr  # shown once
    assert "works until statuswatch next starts with NW_TOKEN set" in proc.stderr
    assert "put a new token in NW_TOKEN and restart" in proc.stderr
    from statuswatch.config import load_config

    # ...and so it is: at the next start the env token is back and the rotated one is gone.
    env = {"NW_TOKEN": REPORT_TOKEN}
    client = await aiohttp_client(create_app(load_config(path), probe=False, environ=env))
    assert (await client.get(f"/customers/{REPORT_TOKEN}")).status == 200
    assert (await client.get(f"/customers/{url.rsplit('/', 1)[1]}")).status == 404


async def test_report_token_command_rotates(tmp_path, aiohttp_client):
    path = tmp_path / "config.toml"
    path.write_text(TOKEN_CONFIG, encoding="utf-8")
    proc = report_token(path, "northwind")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # nothing to warn about: the stored token is the customer's
    token = proc.stdout.strip().rsplit("/", 1)[1]
    assert len(token) >= 43  # 256 bits, URL-safe base64
    from statuswatch.config import load_config

    for _restart in range(2):  # kept across restarts
        client = await aiohttp_client(create_app(load_config(path), probe=False, environ={}))
        assert (await client.get(f"/customers/{token}")).status == 200
        await client.close()
    assert token.encode() not in (tmp_path / "sw.db").read_bytes()  # only the digest is kept
    bad = report_token(path, "nobody")
    assert bad.returncode == 2 and "unknown customer 'nobody'" in bad.stderr
