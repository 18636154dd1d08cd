"""HTTP status expectations: 200 or "200-299", as inclusive ranges of codes."""

from __future__ import annotations

import re

_RANGE = re.compile(r"\s*(\d{3})\s*(?:-\s*(\d{3})\s*)?")


def parse_status_range(spec: int | str) -> tuple[int, int]:
    """Turn 200 or "200-299" into an inclusive (low, high) pair of HTTP status codes."""
    if isinstance(spec, int):
        low = high = spec
    else:
        match = _RANGE.fullmatch(spec)
        if not match:
            raise ValueError(f"must be a status code or a range like '200-299', got {spec!r}")
        low, high = int(match[1]), int(match[2] or match[1])
    if not (100 <= low <= high <= 599):
        raise ValueError(f"must be status codes between 100 and 599, got {spec!r}")
    return low, high
