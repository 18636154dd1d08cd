"""Where monitors are probed from: [[locations]], [probing] locations and quorum, per monitor.

A monitor's quorum is how many of its locations must see it down for it to be down; absent (or
0 in [probing]) it is a strict majority, so one vantage point's trouble is never an outage when
there are two or more others.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from statuswatch.config.model import Config, Monitor, PushMonitor
from statuswatch.store.models import LOCAL


def majority(n: int) -> int:
    """The strict majority of n locations: more than half of them."""
    return n // 2 + 1


def monitor_locations(mon: Monitor, config: Config) -> list[str]:
    """The locations a monitor is probed from (a push monitor: where it pushes to, local)."""
    if isinstance(mon, PushMonitor):
        return [LOCAL]
    return list(mon.locations if mon.locations is not None else config.probing.locations)


def monitor_quorum(mon: Monitor, config: Config) -> int:
    """The monitor's effective quorum: its own, else [probing]'s, else a strict majority."""
    if mon.quorum is not None:
        return mon.quorum
    if config.probing.quorum:
        return config.probing.quorum
    return majority(len(monitor_locations(mon, config)))


def check_locations(config: Config) -> Iterator[str]:
    """Every location mistake, each naming its key path."""
    declared = {loc.id for loc in config.locations}
    for i, loc in enumerate(config.locations):
        if loc.id == LOCAL:
            yield (
                f"locations[{i}].id: {LOCAL!r} is reserved for the monitor process's own probes"
                " and needs no [[locations]] entry"
            )
    known = declared | {LOCAL}
    yield from _check_list("probing.locations", config.probing.locations, known)
    for i, mon in enumerate(config.monitors):
        where = f"monitors[{i}]"
        if mon.locations is not None:
            if isinstance(mon, PushMonitor) and mon.locations != [LOCAL]:
                yield f"{where}.locations: a push monitor is checked where it pushes: [{LOCAL!r}]"
            yield from _check_list(f"{where}.locations", mon.locations, known)
        yield from _check_quorum(where, mon, config)


def _check_list(key: str, ids: Sequence[str], known: set[str]) -> Iterator[str]:
    if not ids:
        yield f"{key}: needs at least one location"
    for j, ident in enumerate(ids):
        if ident not in known:
            yield f"{key}[{j}]: unknown location {ident!r}"
        if ident in ids[:j]:
            yield f"{key}[{j}]: duplicate location {ident!r}"


def _check_quorum(where: str, mon: Monitor, config: Config) -> Iterator[str]:
    n = len(monitor_locations(mon, config))
    quorum = monitor_quorum(mon, config)
    key = f"{where}.quorum" if mon.quorum is not None else "probing.quorum"
    # Below 1 is config/bounds.py's to name.
    if n and quorum > n:
        yield f"{key}: {quorum} is more than the {n} location(s) of {where} ({mon.id!r})"
