"""Ranges of the config's numbers: every integer key has one; no number is NaN or infinite.

A number outside its range is a mistake to name when the config is loaded (exit 2), never a
value to act on: `max_redirects = 99999999999999999999` would be followed, `max_in_flight` in
the billions would size a worker pool, a port of 70000 cannot be connected to. Upper bounds are
far above any sane setting, so they only catch typos and overflows. TOML also has `nan` and
`inf`, which compare false with every bound: rejected wherever a number is read.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator

import msgspec

# (class, field) -> (lowest, highest, what a special value means). Classes by name, looked up
# along the MRO, so every monitor kind shares _MonitorBase's. tests/test_config.py fails when
# an integer key of config/model.py has no range here.
INT_RANGES: dict[tuple[str, str], tuple[int, int, str]] = {
    ("Site", "max_connections"): (0, 1_000_000, "0: derived from the descriptor limit"),
    ("Site", "workers"): (0, 64, "0: the site runs inside the monitor process"),
    ("Defaults", "confirm_failures"): (1, 100, ""),
    ("Defaults", "confirm_recoveries"): (1, 100, ""),
    ("Probing", "max_in_flight"): (1, 100_000, ""),
    ("Storage", "max_pending"): (1000, 100_000_000, ""),
    ("Probing", "quorum"): (0, 1000, "0: a strict majority of the monitor's locations"),
    ("_MonitorBase", "confirm_failures"): (1, 100, ""),
    ("_MonitorBase", "confirm_recoveries"): (1, 100, ""),
    ("_MonitorBase", "quorum"): (1, 1000, ""),
    ("HttpMonitor", "max_redirects"): (0, 30, "0: no redirect is followed"),
    ("HttpMonitor", "max_body_bytes"): (1, 64 * 1024 * 1024, ""),
    ("TcpMonitor", "port"): (1, 65535, ""),
    ("TlsMonitor", "port"): (1, 65535, ""),
    ("TlsMonitor", "warn_days"): (0, 365, ""),
    ("SlaPolicy", "claim_window_days"): (0, 3650, ""),
    ("EmailSettings", "smtp_port"): (1, 65535, ""),
    ("EmailSettings", "ip_burst"): (1, 10_000, ""),
}


def check_numbers(config: msgspec.Struct) -> Iterator[str]:
    """Every integer outside its range and every non-finite number, by key path."""
    yield from _walk("", config)


def int_range(cls: type, field: str) -> tuple[int, int, str] | None:
    """The range of `cls.field`, from the class or the nearest base that declares one."""
    for base in cls.__mro__:
        if (found := INT_RANGES.get((base.__name__, field))) is not None:
            return found
    return None


@functools.cache
def _fields(cls: type) -> tuple[tuple[str, str, tuple[int, int, str] | None], ...]:
    """(name, key, range) of each field of a config class: msgspec resolves annotations on
    every call, and a config with 10,000 monitors would pay that 10,000 times."""
    return tuple(
        (f.name, f.encode_name, int_range(cls, f.name)) for f in msgspec.structs.fields(cls)
    )


def _walk(path: str, value: object) -> Iterator[str]:
    if isinstance(value, msgspec.Struct):
        for name, encoded, bounds in _fields(type(value)):
            item = getattr(value, name)
            key = f"{path}.{encoded}" if path else encoded
            if bounds is not None and isinstance(item, int) and not isinstance(item, bool):
                yield from _in_range(key, item, bounds)
            yield from _walk(key, item)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _walk(f"{path}[{i}]", item)
    elif isinstance(value, dict):
        for name, item in value.items():
            yield from _walk(f"{path}.{name}", item)
    elif isinstance(value, float) and not math.isfinite(value):
        yield f"{path}: must be a finite number, got {value}"


def _in_range(key: str, value: int, bounds: tuple[int, int, str]) -> Iterator[str]:
    low, high, note = bounds
    if not low <= value <= high:
        meaning = f" ({note})" if note else ""
        yield f"{key}: must be from {low} to {high}{meaning}, got {value}"
