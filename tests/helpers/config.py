"""Build configs for tests from plain dicts, the way `statuswatch run` parses a config file."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from statuswatch.config import Config, parse_config

# What most service tests run with; `make_config` keyword sections replace these whole.
SITE = {"title": "Test Status", "admin_token_env": "TEST_ADMIN_TOKEN"}
COMPONENTS = [
    {"id": "api", "name": "Storefront API"},
    {"id": "checkout", "name": "Checkout <script>"},
]


def build_config(tmp_path: Path, raw: Mapping[str, Any]) -> Config:
    """Parse `raw` as a config file in tmp_path, its database there unless `raw` says where."""
    return parse_config({"storage": {"path": str(tmp_path / "sw.db")}, **raw}, base_dir=tmp_path)


def make_config(tmp_path: Path, monitors: list[dict], **sections: Any) -> Config:
    """A service config: two components (one name needing escaping), `monitors`, `sections`."""
    return build_config(
        tmp_path, {"site": SITE, "components": COMPONENTS, "monitors": monitors, **sections}
    )


def lab_config(tmp_path: Path, monitors: list[dict]) -> Config:
    """A central config whose monitors are all probed from one agent location, `lab` (its
    agents' token in LAB_TOKEN), none by the process itself."""
    lab = {"id": "lab", "name": "Lab", "token_env": "LAB_TOKEN"}
    return make_config(tmp_path, monitors, locations=[lab], probing={"locations": ["lab"]})
