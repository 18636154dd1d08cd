"""From recorded evidence to SLA inputs: what each component and customer was down, excused
and unobserved. Pure: the caller loads the records (store) and passes `now` in.

- A monitor is unobserved during its gaps and before it first existed.
- A component is down when any of its monitors is down (union of outages), and unobserved only
  when none of its monitors had evidence (intersection): adding a second monitor to a component
  must not make its past unknown.
- A customer is down when any covered component is down (union) and unobserved when any covered
  component is (union), per SLA.md. Maintenance excuses a component's downtime only inside that
  component's own windows, so a customer's excused time is the downtime during which every
  down component was in its own maintenance.

Locations: every outage and gap names the location that observed it (`store.models.LOCAL`, the
monitor role's own probes, or an agent's location). Evidence is collected per (monitor,
location), and each monitor's locations are combined by `combine_locations` alone, before any
of the rules above, with the live rule (monitor/quorum.py): down where at least the quorum of
locations are down, dark where fewer than the quorum have evidence, regional where some but
fewer than the quorum are down. Regional time is kept apart: a plan says whether it is downtime
(`regional_counts_as`).
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal

from statuswatch.maintenance.calendar import MaintenanceCalendar
from statuswatch.monitor.quorum import Verdict, verdict
from statuswatch.sla.availability import Figures, UnmonitoredPolicy, evaluate, from_measures
from statuswatch.sla.intervals import Interval, Timeline, intersect, normalize, subtract, union
from statuswatch.sla.periods import Period
from statuswatch.store.models import Gap, MonitorRecord, Outage


@dataclass(frozen=True, slots=True)
class ServiceInputs:
    """The three interval lists the availability engine takes, clipped to one range."""

    downtime: list[Interval]
    maintenance: list[Interval]
    unmonitored: list[Interval]
    # Down from some locations, fewer than the quorum, and not in `downtime`.
    regional: list[Interval] = field(default_factory=list)

    def figures(
        self,
        period: Period,
        target_percent: float | int | str | Fraction,
        *,
        policy: UnmonitoredPolicy,
    ) -> Figures:
        """Return the SLA.md figures of these inputs over `period` under `policy`."""
        return evaluate(
            period,
            target_percent,
            downtime=self.downtime,
            maintenance=self.maintenance,
            unmonitored=self.unmonitored,
            policy=policy,
        )


@dataclass(frozen=True, slots=True)
class MonitorEvidence:
    """What one monitor's results say over a range: down time and time without evidence."""

    down: list[Interval]
    dark: list[Interval]
    regional: list[Interval] = field(default_factory=list)


NO_EVIDENCE = MonitorEvidence([], [])
RegionalCountsAs = Literal["available", "downtime"]


def combine_locations(
    by_location: Mapping[str, MonitorEvidence], quorum: int | None = None
) -> MonitorEvidence:
    """Return one monitor's evidence from what each of its locations observed.

    `by_location` holds every location of the monitor (one with nothing recorded: NO_EVIDENCE,
    evidence throughout); `quorum` None is a strict majority of them.
    """
    if len(by_location) == 1 and quorum in (None, 1):
        (evidence,) = by_location.values()  # one location: its evidence is the monitor's
        return evidence
    total = len(by_location)
    need = total // 2 + 1 if quorum is None else quorum
    cuts = sorted({t for e in by_location.values() for iv in (*e.down, *e.dark) for t in iv})
    found: dict[Verdict, list[Interval]] = defaultdict(list)
    for lo, hi in itertools.pairwise(cuts):
        down = sum(1 for e in by_location.values() if _covers(e.down, lo))
        dark = sum(
            1 for e in by_location.values() if not _covers(e.down, lo) and _covers(e.dark, lo)
        )
        found[verdict(down=down, dark=dark, total=total, quorum=need)].append((lo, hi))
    return MonitorEvidence(
        union(found[Verdict.DOWN]), union(found[Verdict.DARK]), union(found[Verdict.REGIONAL])
    )


def _covers(intervals: list[Interval], t: int) -> bool:
    """Whether t lies in one of the (normalized) half-open intervals."""
    return any(lo <= t < hi for lo, hi in intervals)


def whole_span(start: float, end: float | None, now: int) -> Interval:
    """An outage's or gap's whole seconds: start floored, end ceiled, open ones until now."""
    # Rounding outward never hides downtime; every figure and every report row measures
    # this same interval, so rows and their totals agree to the second.
    return (math.floor(start), math.ceil(end) if end is not None else now)


class Evidence:
    """Outages, gaps and monitor lifetimes, indexed by monitor, for one range [lo, hi).

    Built from the records themselves; `statuswatch.sla.load` reads them from the store.
    """

    def __init__(
        self,
        *,
        component_monitors: dict[str, list[str]],
        monitors: Iterable[MonitorRecord],
        outages: Iterable[Outage],
        gaps: Iterable[Gap],
        calendar: MaintenanceCalendar,
        lo: int,
        hi: int,
        now: int,
        locations: Mapping[str, Sequence[str]] | None = None,
        quorums: Mapping[str, int] | None = None,
    ) -> None:
        """`locations` and `quorums` by monitor id (the config's); absent: what was recorded,
        and a strict majority of it."""
        self.lo, self.hi, self.now = lo, hi, min(now, hi)
        self.component_monitors = component_monitors
        self.calendar = calendar
        self.first_seen = {m.id: m.first_seen for m in monitors}
        # The outage records themselves, for reports that list them (cause, message).
        self.outages = list(outages)
        down: dict[tuple[str, str], list[Interval]] = defaultdict(list)
        for o in self.outages:
            down[o.monitor_id, o.location].append(whole_span(o.start, o.end, self.now))
        dark: dict[tuple[str, str], list[Interval]] = defaultdict(list)
        for g in gaps:
            dark[g.monitor_id, g.location].append(whole_span(g.start, g.end, self.now))
        seen: dict[str, dict[str, MonitorEvidence]] = defaultdict(dict)
        for monitor, location in dict.fromkeys([*down, *dark]):
            key = (monitor, location)
            seen[monitor][location] = MonitorEvidence(
                normalize(down.get(key, []), lo, self.now), normalize(dark.get(key, []), lo, hi)
            )
        for monitor, configured in (locations or {}).items():
            if monitor in seen:  # a location with nothing recorded had evidence throughout
                seen[monitor] = {loc: NO_EVIDENCE for loc in configured} | seen[monitor]
        quorums = quorums or {}
        self._monitors = {
            m: combine_locations(by_location, quorums.get(m)) for m, by_location in seen.items()
        }
        self._components: dict[str, ServiceInputs] = {}
        self._components_regional_down: dict[str, ServiceInputs] = {}  # regional_counts_as

    def monitor_unmonitored(self, monitor_id: str) -> list[Interval]:
        """Gaps, plus the time before the monitor existed (or all of it, if it never did)."""
        first = self.first_seen.get(monitor_id)
        before = [(self.lo, self.hi if first is None else math.ceil(first))]
        # The future is not unmonitored: it simply has not happened (running periods end now).
        dark = self._monitors.get(monitor_id, NO_EVIDENCE).dark
        return normalize([*before, *dark], self.lo, self.hi)

    def component(
        self, component_id: str, *, regional_counts_as: RegionalCountsAs = "available"
    ) -> ServiceInputs:
        """Downtime, maintenance and unobserved time of one component (cached)."""
        as_down = regional_counts_as == "downtime"
        cache = self._components_regional_down if as_down else self._components
        cached = cache.get(component_id)
        if cached is not None:
            return cached
        monitors = self.component_monitors.get(component_id, [])
        down = union(*(self._monitors.get(m, NO_EVIDENCE).down for m in monitors))
        regional = subtract(
            union(*(self._monitors.get(m, NO_EVIDENCE).regional for m in monitors)), down
        )
        if as_down:
            down, regional = union(down, regional), []
        dark = [(self.lo, self.hi)]
        for m in monitors:
            dark = intersect(dark, self.monitor_unmonitored(m))
        maint = self.calendar.intervals(component_id, self.lo, self.hi)
        inputs = ServiceInputs(down, maint, subtract(dark, down), regional)
        cache[component_id] = inputs
        return inputs

    def service(
        self, component_ids: Iterable[str], *, regional_counts_as: RegionalCountsAs = "available"
    ) -> ServiceInputs:
        """The combined inputs of a service made of several components (a customer's plan)."""
        parts = [self.component(c, regional_counts_as=regional_counts_as) for c in component_ids]
        down = union(*(p.downtime for p in parts))
        unexcused = union(*(subtract(p.downtime, p.maintenance) for p in parts))
        # Handing the engine "downtime minus unexcused" as the maintenance makes its
        # |D ∩ M| and |D \ M| come out as exactly the excused and unexcused time above.
        excused = subtract(down, unexcused)
        dark = union(*(p.unmonitored for p in parts))
        if any(p.maintenance for p in parts):
            # Under policy downtime, time without evidence is excused only while every dark
            # component is in its own maintenance; inside D, downtime wins and its rule stands.
            dark_outside = union(*(subtract(p.unmonitored, p.maintenance) for p in parts))
            excused = union(excused, subtract(subtract(dark, down), dark_outside))
        regional = subtract(union(*(p.regional for p in parts)), down)
        return ServiceInputs(down, excused, dark, regional)


def component_monitors(monitors: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """{component: [monitor ids]} from (monitor id, component id) pairs."""
    out: dict[str, list[str]] = defaultdict(list)
    for monitor_id, component_id in monitors:
        out[component_id].append(monitor_id)
    return dict(out)


class ServiceTimeline:
    r"""One service's history prepared for many windows: each window is a few bisections.

    Only intersections are materialised (they are short); unexcused and unobserved time are
    measured as differences, |D| - |D ∩ M| and |G| - |G ∩ D|, which halves the build cost.
    Policy downtime also needs |(G \ D) ∩ M|: built on its first use, since the public windows
    (most timelines) never ask for it.
    """

    __slots__ = ("_excused_gaps", "_gaps_down", "_inputs", "down", "excused", "gaps", "gaps_down")

    def __init__(self, inputs: ServiceInputs) -> None:
        self.down = Timeline(inputs.downtime)
        self.excused = Timeline(intersect(inputs.downtime, inputs.maintenance))
        self.gaps = Timeline(inputs.unmonitored)
        self._gaps_down = intersect(inputs.unmonitored, inputs.downtime)
        self.gaps_down = Timeline(self._gaps_down)
        self._inputs = inputs
        self._excused_gaps: Timeline | None = None

    def excused_gaps(self) -> Timeline:
        r"""(G \ D) ∩ M, as (G ∩ M) \ (G ∩ D): both lists are short, unlike D itself."""
        if self._excused_gaps is None:
            inside = intersect(self._inputs.unmonitored, self._inputs.maintenance)
            self._excused_gaps = Timeline(subtract(inside, self._gaps_down))
        return self._excused_gaps

    def figures(
        self,
        period: Period,
        target_percent: float | int = 100,
        *,
        policy: UnmonitoredPolicy,
    ) -> Figures:
        """The SLA.md figures under `policy` for any period inside the range the inputs cover."""
        lo, hi = period.start, period.end
        excused = self.excused.measure(lo, hi)
        return from_measures(
            period,
            target_percent,
            unexcused=self.down.measure(lo, hi) - excused,
            excused=excused,
            unmonitored=self.gaps.measure(lo, hi) - self.gaps_down.measure(lo, hi),
            # Only policy downtime counts unobserved time inside maintenance (as excused).
            unmonitored_in_maintenance=self.excused_gaps().measure(lo, hi)
            if policy == "downtime"
            else 0,
            policy=policy,
        )
