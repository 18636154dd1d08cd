"""Choosing the backend: [storage] url / url_env, open_store, and `statuswatch run` on each."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import psycopg
import pytest

from statuswatch.config import Config, ConfigError
from statuswatch.store import ReadOnlyStore, Store
from statuswatch.store.open import open_store, storage_url
from statuswatch.store.pg import PgStore
from tests.helpers.net import free_port
from tests.helpers.postgres import PostgresCluster
from tests.helpers.processes import (
    Statuswatch,
    Target,
    healthz,
    request,
    wait_until,
    write_config,
)

ConfigFrom = Callable[[Mapping[str, Any]], Config]
URL_ENV = "STATUSWATCH_TEST_DATABASE_URL"
COMPONENTS = [{"id": "api", "name": "API"}]


def with_url_env(config_from: ConfigFrom) -> Config:
    return config_from({"components": COMPONENTS, "storage": {"url_env": URL_ENV}})


def test_neither_url_is_sqlite(config_from: ConfigFrom) -> None:
    config = config_from({"components": COMPONENTS})
    assert (config.storage.backend, storage_url(config, {})) == ("sqlite", None)


def test_url_env_is_read_at_run_time(config_from: ConfigFrom, tmp_path: Path) -> None:
    config = with_url_env(config_from)
    assert config.storage.backend == "postgresql"
    assert storage_url(config, {URL_ENV: "postgresql://db1/sw"}) == "postgresql://db1/sw"
    secret = tmp_path / "url"
    secret.write_text("postgres://u:pw@db1,db2/sw?target_session_attrs=read-write\n")
    from_file = storage_url(config, {f"{URL_ENV}_FILE": str(secret)})
    assert from_file == "postgres://u:pw@db1,db2/sw?target_session_attrs=read-write"


def test_url_env_unset_or_not_postgresql_names_the_key(config_from: ConfigFrom) -> None:
    config = with_url_env(config_from)
    with pytest.raises(ConfigError, match=f"storage.url_env: {URL_ENV} is not set"):
        storage_url(config, {})
    with pytest.raises(ConfigError, match=f"storage.url_env: {URL_ENV} must be a postgresql://"):
        storage_url(config, {URL_ENV: "sqlite:///tmp/x.db"})


def test_a_url_without_password_may_be_in_the_config(config_from: ConfigFrom) -> None:
    url = "postgresql://statuswatch@db1:5432,db2:5432/sw?target_session_attrs=read-write"
    config = config_from({"components": COMPONENTS, "storage": {"url": url}})
    assert storage_url(config, {}) == url


async def test_open_store_opens_the_configured_backend(
    config_from: ConfigFrom, postgres: PostgresCluster
) -> None:
    sqlite = config_from({"components": COMPONENTS})
    env = {URL_ENV: postgres.database()}
    opened = [
        open_store(sqlite, {}),
        open_store(sqlite, {}, readonly=True),
        open_store(with_url_env(config_from), env),
        open_store(with_url_env(config_from), env, readonly=True),
    ]
    try:
        assert [type(s) for s in opened] == [Store, ReadOnlyStore, PgStore, PgStore]
        assert [getattr(s, "readonly", None) for s in opened[2:]] == [False, True]
    finally:
        for store in opened:
            await store.close()


def test_run_exits_2_when_url_env_is_unset(tmp_path: Path) -> None:
    config = _postgres_config(tmp_path, workers=0, target_port=free_port())
    proc = subprocess.run(
        [sys.executable, "-m", "statuswatch", "run", "-c", str(config)],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 2, proc.stderr
    assert f"config error: storage.url_env: {URL_ENV} is not set" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("workers", [0, 1])
def test_run_keeps_its_data_in_postgresql(
    tmp_path: Path, postgres: PostgresCluster, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    """The monitor writes to PostgreSQL and the site (web workers too) reads it from there."""
    url = postgres.database()
    monkeypatch.setenv(URL_ENV, url)
    target = Target()
    port = free_port()
    config = _postgres_config(tmp_path, workers=workers, target_port=target.port, port=port)
    node = Statuswatch(config)
    try:
        wait_until("healthy", lambda: _health(port, node), 30)

        def checked() -> int | None:
            with psycopg.connect(url) as conn:
                row = conn.execute("SELECT count(*) FROM checks").fetchone()
            return row[0] if row and row[0] else None

        wait_until("checks in PostgreSQL", checked, 30)
        assert not (tmp_path / "statuswatch.db").exists()  # nothing went to SQLite
        page = wait_until("the page", lambda: _page(port, node), 30)
        assert "Storefront API" in page
    finally:
        assert node.stop() == 0, node.log()[-3000:]
        target.stop()


def _postgres_config(tmp_path: Path, *, workers: int, target_port: int, port: int = 0) -> Path:
    path = write_config(
        tmp_path, site_port=port or free_port(), target_port=target_port, workers=workers
    )
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("[storage]\n", f'[storage]\nurl_env = "{URL_ENV}"\n'), encoding="utf-8"
    )
    return path


def _health(port: int, node: Statuswatch) -> dict | None:
    node.running()
    try:
        status, body = healthz(port)
    except OSError:
        return None
    return body if status == 200 else None


def _page(port: int, node: Statuswatch) -> str | None:

    node.running()
    try:
        status, _, body = request("GET", f"http://127.0.0.1:{port}/")
    except OSError:
        return None
    return body.decode() if status == 200 else None
