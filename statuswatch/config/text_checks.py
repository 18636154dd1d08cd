"""The texts config puts on pages, feeds and mail carry no control characters (names, titles).

One-line texts (names, titles, the one line under a name) may not hold a line break either; the
automatic incidents' update texts and maintenance descriptions are bodies and keep their line
breaks and tabs.
"""

from __future__ import annotations

from collections.abc import Iterator

from statuswatch.config.model import Config
from statuswatch.validation import MULTILINE, control_characters


def check_texts(config: Config) -> Iterator[str]:
    """Every config text holding a control character, by its key path."""
    yield from control_characters("site.title", config.site.title)
    for section, items in (("groups", config.groups), ("components", config.components)):
        for i, item in enumerate(items):
            yield from control_characters(f"{section}[{i}].name", item.name)
            yield from control_characters(
                f"{section}[{i}].description", item.description, MULTILINE
            )
    for i, mon in enumerate(config.monitors):
        yield from control_characters(f"monitors[{i}].name", mon.name)
    incidents = config.incidents
    yield from control_characters("incidents.title", incidents.title)
    for key in ("opened", "joined", "recovered", "resolved"):
        yield from control_characters(f"incidents.{key}", getattr(incidents, key), MULTILINE)
