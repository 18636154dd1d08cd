"""Operator changes to maintenance windows: request shapes and the windows they make. Pure.

A new or changed window is a config `Maintenance` checked by exactly the config rules
(`check_window`); the API stores it, and a stored window wins over a config one of the same id.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import msgspec

from statuswatch.config.durations import Duration
from statuswatch.config.loader import ID_PATTERN
from statuswatch.config.model import Maintenance
from statuswatch.config.sla_checks import check_window
from statuswatch.incidents.model import new_id

TITLE_MAX = 200
KINDS = ("scheduled", "emergency")

# Times over the API carry their offset: "02:00" alone would depend on whose clock reads it.
Instant = Annotated[datetime, msgspec.Meta(tz=True)]


class NewWindow(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    title: str
    components: list[str]
    id: str | None = None  # None: one is made up
    description: str = ""
    kind: str = "scheduled"
    start: Instant | None = None  # None: now (an emergency window opened on the spot)
    end: Instant | None = None
    duration: Duration | None = None
    rrule: str | None = None
    timezone: str = "UTC"


class WindowPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    start: Instant | msgspec.UnsetType = msgspec.UNSET
    end: Instant | msgspec.UnsetType = msgspec.UNSET
    duration: Duration | msgspec.UnsetType = msgspec.UNSET
    cancelled: bool | msgspec.UnsetType = msgspec.UNSET


def _check_fields(req: NewWindow, taken: set[str]) -> Iterator[str]:
    if req.id is not None and not ID_PATTERN.match(req.id):
        yield "id: must be lowercase letters, digits, '-', '_' or '.' (at most 64)"
    elif req.id in taken:
        yield f"id: a window {req.id!r} exists already (PATCH it instead)"
    if not req.title.strip():
        yield "title: must not be empty"
    elif len(req.title) > TITLE_MAX:
        yield f"title: at most {TITLE_MAX} characters"
    if req.kind not in KINDS:
        yield f"kind: must be one of {', '.join(KINDS)}; got {req.kind!r}"


def new_window(
    req: NewWindow, now: float, taken: set[str], components: set[str]
) -> tuple[Maintenance, list[str]]:
    """The window a POST asks for, and every problem with it (empty when it may be stored)."""
    window = Maintenance(
        id=req.id or new_id(),
        title=req.title.strip(),
        description=req.description,
        components=req.components,
        kind=req.kind,  # type: ignore[arg-type]  # checked below
        start=req.start or datetime.fromtimestamp(int(now), UTC),
        end=req.end,
        duration=req.duration,
        rrule=req.rrule,
        timezone=req.timezone,
    )
    problems = [*_check_fields(req, taken), *check_window("", window, components)]
    return window, problems


def _aware(dt: datetime | None, tz: str) -> datetime | None:
    # Config may give local times without an offset; the API's have one. Mixing the two would
    # fail check_window, so a patched window carries offsets throughout (same instants).
    if dt is None or dt.tzinfo is not None:
        return dt
    return dt.replace(tzinfo=ZoneInfo(tz))


def patched(
    window: Maintenance, req: WindowPatch, components: set[str]
) -> tuple[Maintenance, list[str]]:
    """The window after a PATCH (reschedule, extend, cancel) and every problem with it.

    A new start alone moves the window and keeps its length; a new end replaces a duration
    and a new duration replaces an end.
    """
    start = _aware(window.start, window.timezone)
    end = _aware(window.end, window.timezone)
    duration = window.duration
    assert start is not None
    if isinstance(req.start, datetime):
        if end is not None and not isinstance(req.end, datetime):
            end = req.start + (end - start)
        start = req.start
    if isinstance(req.end, datetime):
        end, duration = req.end, None
    if isinstance(req.duration, float):
        end, duration = None, req.duration
    cancelled = window.cancelled if req.cancelled is msgspec.UNSET else req.cancelled
    new = msgspec.structs.replace(
        window, start=start, end=end, duration=duration, cancelled=cancelled
    )
    problems = list(check_window("", new, components))
    if all(v is msgspec.UNSET for v in (req.start, req.end, req.duration, req.cancelled)):
        problems.insert(0, "$: nothing to change (give start, end, duration or cancelled)")
    return new, problems
