"""Checks of the [email] section and [[webhooks]] (each problem names its key path)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from statuswatch.config.model import Config
from statuswatch.subscriptions.addresses import address_problem


def check_notify_sections(config: Config, components: set[str], base_dir: Path) -> Iterator[str]:
    """Every problem of the notification settings."""
    email = config.email
    if email.ca_file is not None and not (base_dir / email.ca_file).is_file():
        yield f"email.ca_file: no such file {email.ca_file!r}"
    if (problem := address_problem(email.from_address)) is not None:
        yield f"email.from: {problem}"
    if any(ch in email.from_name for ch in "\r\n"):
        yield "email.from_name: must be a single line"
    for key in (
        "timeout",
        "confirm_ttl",
        "confirm_interval",
        "retry_base",
        "retry_cap",
        "poll_interval",
        "ip_per_hour",
    ):
        if getattr(email, key) <= 0:
            yield f"email.{key}: must be greater than 0"
    if email.dkim_key_env and not email.dkim_selector:
        yield "email.dkim_selector: required when dkim_key_env is set"
    if email.coalesce < 0:
        yield "email.coalesce: must not be negative"
    seen: set[str] = set()
    for i, hook in enumerate(config.webhooks):
        if hook.id in seen:
            yield f"webhooks[{i}].id: duplicate id {hook.id!r}"
        seen.add(hook.id)
        if not hook.url.startswith(("http://", "https://")):
            yield f"webhooks[{i}].url: must be an http:// or https:// URL, got {hook.url!r}"
        for cid in hook.components:
            if cid not in components:
                yield f"webhooks[{i}].components: unknown component {cid!r}"
