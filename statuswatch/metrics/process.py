"""Which statuswatch is running, and the configuration it runs with."""

from __future__ import annotations

import platform
from collections.abc import Iterator

from prometheus_client.core import Metric

from statuswatch import __version__
from statuswatch.metrics.family import Families, put

FAMILIES = Families(
    {
        "statuswatch_build_info": (
            "gauge",
            "Always 1; the labels say which statuswatch is running.",
            ("version", "python_version"),
        ),
        "statuswatch_config_last_reload_success": (
            "gauge",
            "1 when the last configuration load succeeded (it is loaded once, at start).",
            (),
        ),
        "statuswatch_config_last_reload_success_timestamp_seconds": (
            "gauge",
            "When the configuration in use was loaded.",
            (),
        ),
    }
)


def collect(loaded_at: float) -> Iterator[Metric]:
    """The build and configuration families."""
    info = FAMILIES.new("statuswatch_build_info")
    put(info, {"version": __version__, "python_version": platform.python_version()}, 1)
    yield info
    # The config is parsed once at start and a bad one stops statuswatch, so a running
    # statuswatch always has a good one; the names follow Prometheus's own.
    yield FAMILIES.gauge("statuswatch_config_last_reload_success", 1)
    yield FAMILIES.gauge("statuswatch_config_last_reload_success_timestamp_seconds", loaded_at)
