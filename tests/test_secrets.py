"""Secrets: one reader (NAME or NAME_FILE) and one warning when a configured one is missing."""

from __future__ import annotations

import logging

import pytest

from statuswatch.config import read_secret
from statuswatch.web import create_app
from tests.helpers.config import make_config

LOGGER = "statuswatch.config.secrets"
UNSET = "the admin API answers 401 to everyone"


def _records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER]


def test_from_the_variable_silently(caplog):
    assert read_secret("TOKEN", {"TOKEN": "direct"}, unset=UNSET) == "direct"
    assert not _records(caplog)


def test_from_the_file_without_its_trailing_newline(tmp_path, caplog):
    path = tmp_path / "token"
    path.write_text("from-file\n", encoding="utf-8")
    assert read_secret("TOKEN", {"TOKEN_FILE": str(path)}, unset=UNSET) == "from-file"
    assert read_secret("TOKEN", {"TOKEN": "direct", "TOKEN_FILE": str(path)}) == "direct"
    assert not _records(caplog)


def test_unset_warns_once_naming_the_variable(tmp_path, caplog):
    empty = tmp_path / "empty"
    empty.write_text("\n", encoding="utf-8")
    for env in ({}, {"TOKEN": ""}, {"TOKEN_FILE": str(empty)}):
        caplog.clear()
        assert read_secret("TOKEN", env, unset=UNSET) is None
        [record] = _records(caplog)
        assert record.levelno == logging.WARNING
        assert record.getMessage() == f"TOKEN is not set: {UNSET}"


def test_a_consequence_may_be_an_error(caplog):
    unset = "email goes out without a DKIM signature"
    assert read_secret("DKIM_KEY", {}, unset=unset, level=logging.ERROR) is None
    [record] = _records(caplog)
    assert record.levelno == logging.ERROR


def test_silent_when_nothing_is_configured_or_nothing_is_at_stake(caplog):
    assert read_secret("", {"": "x", "_FILE": "/nonexistent"}, unset=UNSET) is None
    assert read_secret("TOKEN", {}) is None  # the CLI: the server's 401 says it
    assert not _records(caplog)


async def test_the_service_warns_for_each_missing_secret_and_logs_no_value(
    tmp_path, aiohttp_client, caplog
):
    caplog.set_level(logging.DEBUG)
    push = {"id": "cron", "kind": "push", "component": "api", "token_env": "SW_PUSH_TOKEN"}
    config = make_config(
        tmp_path,
        [push, {**push, "id": "batch", "token_env": "SW_BATCH_TOKEN"}],
        metrics={"token_env": "SW_METRICS_TOKEN"},
        email={"enabled": True, "form_secret_env": "SW_FORM_KEY"},
    )
    env = {"SW_PUSH_TOKEN": "push-secret-0123456789", "SW_FORM_KEY": "form-secret-0123456789"}
    client = await aiohttp_client(create_app(config, probe=False, environ=env))
    assert (await client.get("/metrics")).status == 401  # required but unset: nobody gets in
    assert (await client.get("/api/v1/incidents")).status == 401  # the admin API is closed
    assert (await client.post("/push/push-secret-0123456789")).status == 200
    await client.close()
    warned = sorted(r.getMessage() for r in _records(caplog))
    assert warned == [
        "SW_BATCH_TOKEN is not set: push monitor batch cannot receive pushes",
        "SW_METRICS_TOKEN is not set: /metrics answers 401 to everyone",
        "TEST_ADMIN_TOKEN is not set: the admin API answers 401 to everyone",
    ]
    # Ours only: the test server's access log shows the push URL (the service runs without one).
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("statuswatch"))
    for value in env.values():
        assert value not in ours
