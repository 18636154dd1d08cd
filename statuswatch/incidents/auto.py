"""Automatic incidents from component status changes. Pure: events and `now` in, edits out.

- A component going from no outage to an outage opens an incident (`investigating`), unless it
  is in maintenance or has `auto_incident = false`. While that incident is open, more components
  failing join it instead of opening a storm of incidents.
- When every affected component has recovered, an update says so and the incident moves to
  `monitoring`; it resolves after the quiet period, unless an operator has taken it over or a
  component fails again (then it goes back to `investigating`: flapping is one incident).
- The title follows the components still affected ("Checkout is unavailable" once Admin has
  recovered and Checkout joined; `title_several` while there are several); once all have
  recovered it keeps naming the last ones. A title an operator set is never overwritten.
- A problem announced late (its results reached us after the fact, monitor/late.py) opens its
  incident now with `opened_late`, which says when it began ($start, UTC).
- Downtime inside a maintenance window opens nothing; a component still down when its window
  ends opens an incident then, once (the caller reports the window's end as a change).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from string import Template

from statuswatch.incidents.model import (
    IMPACT_ORDER,
    ComponentChange,
    Incident,
    IncidentStatus,
    IncidentUpdate,
    impact_of,
    new_id,
)
from statuswatch.status.component import OUTAGE_STATUSES, ComponentStatus, worst

AUTHOR = "statuswatch"


@dataclass(frozen=True, slots=True)
class AutoSettings:
    """The [incidents] config: templates use $component and $status (string.Template, safe)."""

    quiet_period: float = 900.0
    title: str = "$component is unavailable"
    title_several: str = "$component are unavailable"  # $component: the names, joined
    opened: str = "We are investigating problems with $component ($status)."
    joined: str = "$component is also affected ($status)."
    recovered: str = "$component has recovered; we are monitoring."
    resolved: str = "All affected components have been operating normally for a while."
    opened_late: str = (
        "We are investigating problems with $component ($status), which began at $start."
    )
    severity_by_impact: tuple[tuple[str, str], ...] = ()  # (impact, severity) pairs


@dataclass(frozen=True, slots=True)
class Edit:
    """What the lifecycle did: the incident (as it is now) and the update it posted."""

    incident: Incident
    update: IncidentUpdate
    opened: bool = False


def _names(names: list[str]) -> str:
    """ "Admin", "Admin and Checkout", "Admin, API and Checkout"."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _fill(
    template: str, component: str, status: ComponentStatus, start: float | None = None
) -> str:
    # safe_substitute: a stray "$" in an operator's template is left alone, never an error,
    # and nothing is evaluated (never Jinja for configured text).
    label = status.value.replace("_", " ")
    began = "" if start is None else time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(start))
    return Template(template).safe_substitute(component=component, status=label, start=began)


class AutoIncidents:
    """Holds the open automatic incident (at most one) and moves it through its lifecycle."""

    def __init__(
        self, settings: AutoSettings, names: dict[str, str], current: Incident | None = None
    ) -> None:
        self.settings = settings
        self.names = names  # component id -> display name
        self.current = current if current is not None and not current.status.closed else None

    def changed(
        self,
        component: str,
        old: ComponentStatus,
        new: ComponentStatus,
        now: float,
        *,
        enabled: bool = True,
        since: float | None = None,
    ) -> Edit | None:
        """A component's status changed (maintenance already folded into `new`; `since`: when
        it began, for a change announced late)."""
        if old is new:
            return None
        was_out, is_out = old in OUTAGE_STATUSES, new in OUTAGE_STATUSES
        inc = self.current
        if is_out and enabled and (inc is None or component not in inc.components or not was_out):
            return self._failing(component, old, new, now, since)
        if inc is None or component not in inc.components:
            return None
        if is_out:  # a different outage level within the incident
            return self._post(
                inc, now, inc.status, "$component is now $status.", component, old, new
            )
        if was_out:
            return self._recovering(inc, component, old, new, now)
        return None

    def _failing(
        self,
        component: str,
        old: ComponentStatus,
        new: ComponentStatus,
        now: float,
        since: float | None = None,
    ) -> Edit:
        inc = self.current
        if inc is None:
            title = _fill(self.settings.title, self.names.get(component, component), new)
            inc = Incident(
                new_id(), title, impact_of(new), IncidentStatus.INVESTIGATING, now, now, auto=True
            )
            inc.severity = dict(self.settings.severity_by_impact).get(inc.impact.value)
            self.current = inc
            opened = self.settings.opened if since is None else self.settings.opened_late
            edit = self._post(
                inc, now, IncidentStatus.INVESTIGATING, opened, component, old, new, since
            )
            return Edit(edit.incident, edit.update, opened=True)
        if IMPACT_ORDER[impact_of(new)] > IMPACT_ORDER[inc.impact]:
            inc.impact = impact_of(new)
        inc.recovered_at = None
        status = inc.status if inc.taken_over else IncidentStatus.INVESTIGATING
        return self._post(inc, now, status, self.settings.joined, component, old, new)

    def _recovering(
        self, inc: Incident, component: str, old: ComponentStatus, new: ComponentStatus, now: float
    ) -> Edit:
        still_out = [
            c for c, s in inc.components.items() if c != component and s in OUTAGE_STATUSES
        ]
        status = inc.status
        if not still_out:
            inc.recovered_at = now
            if not inc.taken_over:
                status = IncidentStatus.MONITORING
        return self._post(inc, now, status, self.settings.recovered, component, old, new)

    def tick(self, now: float) -> Edit | None:
        """Resolve the incident once it has been quiet long enough (and nobody took it over)."""
        inc = self.current
        if (
            inc is None
            or inc.taken_over
            or inc.recovered_at is None
            or now - inc.recovered_at < self.settings.quiet_period
        ):
            return None
        update = inc.post(now, IncidentStatus.RESOLVED, self.settings.resolved, AUTHOR)
        self.current = None
        return Edit(inc, update)

    def _post(
        self,
        inc: Incident,
        now: float,
        status: IncidentStatus,
        template: str,
        component: str,
        old: ComponentStatus,
        new: ComponentStatus,
        start: float | None = None,
    ) -> Edit:
        body = _fill(template, self.names.get(component, component), new, start)
        update = inc.post(now, status, body, AUTHOR, (ComponentChange(component, old, new),))
        self._retitle(inc)
        return Edit(inc, update)

    def _retitle(self, inc: Incident) -> None:
        """Name the components still affected, unless an operator chose the title."""
        if inc.title_by_operator:
            return
        out = [c for c, s in inc.components.items() if s in OUTAGE_STATUSES]
        if not out:  # all recovered: the title keeps naming the last ones affected
            return
        template = self.settings.title if len(out) == 1 else self.settings.title_several
        status = worst([inc.components[c] for c in out])
        inc.title = _fill(template, _names([self.names.get(c, c) for c in out]), status)
