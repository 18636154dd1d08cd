"""Build small configs for service tests."""

from __future__ import annotations

from pathlib import Path

from statuswatch.config import Config, parse_config


def make_config(tmp_path: Path, monitors: list[dict], **sections) -> Config:
    raw = {
        "site": {"title": "Test Status", "admin_token_env": "TEST_ADMIN_TOKEN"},
        "storage": {"path": str(tmp_path / "sw.db")},
        "components": [
            {"id": "api", "name": "Storefront API"},
            {"id": "checkout", "name": "Checkout <script>"},
        ],
        "monitors": monitors,
        **sections,
    }
    return parse_config(raw, base_dir=tmp_path)
