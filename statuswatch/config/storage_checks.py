"""Which database the config names: SQLite at storage.path, or PostgreSQL by URL (no secrets)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

from statuswatch.config.model import Config

SCHEMES = ("postgresql", "postgres")


def database_url_problem(url: str) -> str | None:
    """What is wrong with a PostgreSQL URL as a URL (None: nothing)."""
    scheme = urlsplit(url).scheme if "://" in url else ""
    if scheme not in SCHEMES:
        shown = f"a {scheme}:// URL" if scheme else "no URL"
        return f"must be a postgresql:// (or postgres://) URL, got {shown}"
    return None


def has_password(url: str) -> bool:
    """Whether the URL carries a password (in its user part or as a parameter)."""
    parts = urlsplit(url)
    userinfo, at, _ = parts.netloc.rpartition("@")
    return bool(at and ":" in userinfo) or "password" in parse_qs(parts.query)


def check_storage(config: Config) -> Iterator[str]:
    """storage.url and storage.url_env: one of them at most, a PostgreSQL URL, no password."""
    storage = config.storage
    if storage.url and storage.url_env:
        yield "storage.url: set url or url_env, not both"
    if storage.url:
        problem = database_url_problem(storage.url)
        if problem is not None:
            yield f"storage.url: {problem}"
        elif has_password(storage.url):
            # The config file is not a secret store (it is shown, copied, committed).
            yield (
                "storage.url: holds a password: put the whole URL in the environment "
                "(storage.url_env) or the password in PGPASSWORD or ~/.pgpass"
            )
    if storage.url_env is not None and not storage.url_env.strip():
        yield "storage.url_env: must name an environment variable"
