"""A component's hourly latency (p50 and p95) from the rollups, as an inline SVG's geometry.

Rollups keep per-hour histogram buckets (LATENCY_BUCKETS, cumulative) and the hour's min and
max, not exact quantiles; so p50/p95 are estimated the way Prometheus' histogram_quantile does,
by linear interpolation inside the bucket holding the rank, with the bucket edges narrowed to
the hour's min and max (which also bounds the open +Inf bucket). Several monitors of one
component are merged by adding their buckets. Pure apart from `load_latency`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from statuswatch.site.days import day_starts
from statuswatch.site.stamps import day_label
from statuswatch.store import StoreProtocol
from statuswatch.store.models import HOUR, LATENCY_BUCKETS, HourlyRollup

CHART_HOURS = 7 * 24
WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 64, 8, 10, 26


@dataclass(frozen=True, slots=True)
class HourLatency:
    hour: int  # UTC seconds at the start of the hour
    p50: float
    p95: float


def quantile(q: float, cumulative: tuple[int, ...], low: float, high: float) -> float | None:
    """The q-quantile of one hour's histogram, interpolated within its bucket."""
    total = cumulative[-1]
    if total == 0:
        return None
    rank = q * total
    i = next(n for n, count in enumerate(cumulative) if count >= rank)
    below = cumulative[i - 1] if i else 0
    lower = max(LATENCY_BUCKETS[i - 1] if i else 0.0, low)
    upper = min(LATENCY_BUCKETS[i], high)
    if upper <= lower:
        return lower
    return lower + (upper - lower) * (rank - below) / (cumulative[i] - below)


def merge_hours(rollups: Iterable[HourlyRollup]) -> list[HourLatency]:
    """Per hour, p50 and p95 over all the component's monitors' timed checks."""
    hours: dict[int, tuple[list[int], float, float]] = {}
    for r in rollups:
        if r.latency_min is None or r.latency_max is None:
            continue
        counts, low, high = hours.get(
            int(r.hour), ([0] * len(LATENCY_BUCKETS), r.latency_min, r.latency_max)
        )
        counts = [a + b for a, b in zip(counts, r.buckets, strict=True)]
        hours[int(r.hour)] = (counts, min(low, r.latency_min), max(high, r.latency_max))
    out = []
    for hour in sorted(hours):
        counts, low, high = hours[hour]
        p50, p95 = quantile(0.5, tuple(counts), low, high), quantile(0.95, tuple(counts), low, high)
        if p50 is not None and p95 is not None:
            out.append(HourLatency(hour, p50, p95))
    return out


def chart_start(now: int) -> int:
    """The first hour the chart shows: CHART_HOURS hours up to and including the current one."""
    return (now // HOUR - CHART_HOURS + 1) * HOUR


async def load_latency(store: StoreProtocol, monitor_ids: list[str], now: int) -> list[HourLatency]:
    """The last CHART_HOURS hours of a component's monitors' rollups, merged per hour."""
    since = chart_start(now)
    rollups = [r for m in monitor_ids for r in await store.rollups(m, since=since, until=now)]
    return merge_hours(rollups)


@dataclass(frozen=True, slots=True)
class Tick:
    pos: float
    label: str


@dataclass(frozen=True, slots=True)
class Dot:
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class LatencyChart:
    """What templates/_latency.html draws: polylines per unbroken run of hours, a dot for an
    hour with no neighbour (a one-point polyline draws nothing), and axes."""

    width: int
    height: int
    p50: list[str]  # SVG polyline `points`, one per run of two or more consecutive hours
    p95: list[str]
    p50_dots: list[Dot]  # hours measured alone (the first hour of data, or between gaps)
    p95_dots: list[Dot]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    median_p50_ms: int | None
    worst_p95_ms: int | None
    hours: int

    @property
    def plot_left(self) -> int:
        return LEFT

    @property
    def plot_right(self) -> int:
        return self.width - RIGHT

    @property
    def plot_bottom(self) -> int:
        return self.height - BOTTOM


def _nice_ceiling(value: float) -> float:
    for step in (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60):
        if value <= step:
            return step
    return value


def _runs(points: list[HourLatency]) -> list[list[HourLatency]]:
    runs: list[list[HourLatency]] = []
    for p in points:
        if runs and p.hour - runs[-1][-1].hour == HOUR:
            runs[-1].append(p)
        else:
            runs.append([p])
    return runs


def latency_chart(points: list[HourLatency], now: int, tz: ZoneInfo) -> LatencyChart:
    """Scale the hours onto a WIDTH x HEIGHT canvas: time left to right, seconds bottom up."""
    start = chart_start(now)
    top = _nice_ceiling(max((p.p95 for p in points), default=0.1))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(hour: int) -> float:
        return round(LEFT + plot_w * (hour - start + HOUR / 2) / (CHART_HOURS * HOUR), 1)

    def y(seconds: float) -> float:
        return round(TOP + plot_h * (1 - min(seconds, top) / top), 1)

    runs = _runs(points)

    def lines(attr: str) -> list[str]:
        return [
            " ".join(f"{x(p.hour)},{y(getattr(p, attr))}" for p in run)
            for run in runs
            if len(run) > 1
        ]

    def dots(attr: str) -> list[Dot]:
        return [Dot(x(run[0].hour), y(getattr(run[0], attr))) for run in runs if len(run) == 1]

    y_ticks = [Tick(y(top * f), f"{round(top * f * 1000)} ms") for f in (0, 0.5, 1)]
    days = [d for d in day_starts(now, tz, CHART_HOURS // 24 + 1) if start < d < now]
    x_ticks = [Tick(x(d) - plot_w / CHART_HOURS / 2, day_label(d, tz)[5:]) for d in days]
    p50s = sorted(p.p50 for p in points)
    return LatencyChart(
        WIDTH,
        HEIGHT,
        lines("p50"),
        lines("p95"),
        dots("p50"),
        dots("p95"),
        y_ticks,
        x_ticks,
        round(p50s[len(p50s) // 2] * 1000) if p50s else None,
        round(max(p.p95 for p in points) * 1000) if points else None,
        len(points),
    )
