"""Half-open [start, end) intervals in whole UTC seconds: normalise, combine, measure. Pure.

Every function takes and returns *normalised* lists (sorted, non-overlapping, non-adjacent,
non-empty) except `normalize`, which makes one from anything. Integers keep every sum exact.
"""

from __future__ import annotations

from collections.abc import Iterable

Interval = tuple[int, int]


def normalize(
    intervals: Iterable[tuple[int, int]], lo: int | None = None, hi: int | None = None
) -> list[Interval]:
    """Clip to [lo, hi), drop empties, sort, and merge overlapping or adjacent intervals."""
    clipped = []
    for start, end in intervals:
        if lo is not None and start < lo:
            start = lo
        if hi is not None and end > hi:
            end = hi
        if end > start:
            clipped.append((start, end))
    clipped.sort()
    merged: list[Interval] = []
    for start, end in clipped:
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def union(*lists: list[Interval]) -> list[Interval]:
    """Everything covered by any of the lists."""
    return normalize(iv for lst in lists for iv in lst)


def intersect(a: list[Interval], b: list[Interval]) -> list[Interval]:
    """What both lists cover (a linear merge of two sorted lists)."""
    out: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            out.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def subtract(a: list[Interval], b: list[Interval]) -> list[Interval]:
    """What `a` covers and `b` does not."""
    out: list[Interval] = []
    j = 0
    for start, end in a:
        while j < len(b) and b[j][1] <= start:
            j += 1
        k, cur = j, start
        while k < len(b) and b[k][0] < end:
            if b[k][0] > cur:
                out.append((cur, b[k][0]))
            cur = max(cur, b[k][1])
            k += 1
        if cur < end:
            out.append((cur, end))
    return out


def measure(intervals: list[Interval]) -> int:
    """Total seconds covered by a normalised list."""
    return sum(end - start for start, end in intervals)
