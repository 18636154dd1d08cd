"""The automatic incident lifecycle, driven by component status changes with explicit times."""

from __future__ import annotations

from statuswatch.incidents.auto import AutoIncidents, AutoSettings
from statuswatch.incidents.model import Impact, IncidentStatus
from statuswatch.status.component import ComponentStatus as CS

NAMES = {"api": "Storefront API", "checkout": "Checkout"}
QUIET = 900.0


def manager() -> AutoIncidents:
    return AutoIncidents(
        AutoSettings(quiet_period=QUIET, severity_by_impact=(("major", "S1"), ("minor", "S3"))),
        NAMES,
    )


def test_outage_opens_one_incident_that_resolves_after_the_quiet_period():
    auto = manager()
    edit = auto.changed("api", CS.OPERATIONAL, CS.MAJOR, 100)
    assert edit is not None and edit.opened
    inc = edit.incident
    assert (inc.title, inc.status, inc.impact, inc.severity) == (
        "Storefront API is unavailable",
        IncidentStatus.INVESTIGATING,
        Impact.MAJOR,
        "S1",
    )
    assert inc.components == {"api": CS.MAJOR}
    assert "investigating problems with Storefront API (major outage)" in edit.update.body
    edit = auto.changed("api", CS.MAJOR, CS.OPERATIONAL, 400)
    assert inc.status is IncidentStatus.MONITORING and inc.monitoring_at == 400
    assert auto.tick(400 + QUIET - 1) is None
    edit = auto.tick(400 + QUIET)
    assert edit is not None and inc.status is IncidentStatus.RESOLVED
    assert inc.resolved_at == 400 + QUIET and auto.current is None
    assert [u.status for u in inc.updates] == [
        IncidentStatus.INVESTIGATING,
        IncidentStatus.MONITORING,
        IncidentStatus.RESOLVED,
    ]


def test_flapping_is_one_incident_not_ten():
    auto = manager()
    ids = set()
    t = 0.0
    for _ in range(10):
        edit = auto.changed("api", CS.OPERATIONAL, CS.MAJOR, t)
        ids.add(edit.incident.id)
        auto.changed("api", CS.MAJOR, CS.OPERATIONAL, t + 60)
        assert auto.tick(t + 120) is None  # never quiet long enough
        t += 180
    assert len(ids) == 1
    inc = auto.current
    assert inc is not None and inc.status is IncidentStatus.MONITORING
    assert auto.tick(t + QUIET) is not None  # quiet at last: resolved once


def test_two_components_failing_together_share_the_incident():
    auto = manager()
    first = auto.changed("api", CS.OPERATIONAL, CS.PARTIAL, 0)
    second = auto.changed("checkout", CS.OPERATIONAL, CS.MAJOR, 30)
    assert second is not None and not second.opened
    assert first.incident is second.incident
    inc = second.incident
    assert inc.components == {"api": CS.PARTIAL, "checkout": CS.MAJOR}
    assert inc.impact is Impact.MAJOR  # raised by the worse component
    auto.changed("api", CS.PARTIAL, CS.OPERATIONAL, 60)
    assert inc.status is IncidentStatus.INVESTIGATING  # checkout is still down
    auto.changed("checkout", CS.MAJOR, CS.OPERATIONAL, 90)
    assert inc.status is IncidentStatus.MONITORING and inc.recovered_at == 90


def test_downtime_in_maintenance_opens_nothing_but_its_end_does_once():
    auto = manager()
    # The caller folds maintenance into the status: a down component shows under_maintenance.
    assert auto.changed("api", CS.OPERATIONAL, CS.MAINTENANCE, 0) is None
    edit = auto.changed("api", CS.MAINTENANCE, CS.MAJOR, 7200)  # the window ended, still down
    assert edit is not None and edit.opened
    assert auto.changed("api", CS.MAJOR, CS.MAJOR, 7260) is None  # no change, no update
    assert len([u for u in edit.incident.updates if u.status is IncidentStatus.INVESTIGATING]) == 1


def test_auto_incident_can_be_disabled_per_component():
    auto = manager()
    assert auto.changed("api", CS.OPERATIONAL, CS.MAJOR, 0, enabled=False) is None


def test_operator_takeover_stops_automatic_resolution():
    auto = manager()
    inc = auto.changed("api", CS.OPERATIONAL, CS.MAJOR, 0).incident
    inc.taken_over = True
    inc.post(10, IncidentStatus.IDENTIFIED, "A bad deploy; rolling back.", "alice")
    auto.changed("api", CS.MAJOR, CS.OPERATIONAL, 60)
    assert inc.status is IncidentStatus.IDENTIFIED  # statuswatch does not move it on
    assert auto.tick(60 + 10 * QUIET) is None


def test_change_of_outage_level_is_an_update():
    auto = manager()
    inc = auto.changed("api", CS.OPERATIONAL, CS.PARTIAL, 0).incident
    edit = auto.changed("api", CS.PARTIAL, CS.MAJOR, 30)
    assert edit is not None and "now major outage" in edit.update.body
    assert inc.components["api"] is CS.MAJOR


def test_templates_are_never_evaluated():
    auto = AutoIncidents(AutoSettings(title="{{7*7}} $component ${nope} $"), NAMES)
    inc = auto.changed("api", CS.OPERATIONAL, CS.MAJOR, 0).incident
    assert inc.title == "{{7*7}} Storefront API ${nope} $"


def test_resume_with_an_open_incident_continues_it():
    auto = manager()
    inc = auto.changed("api", CS.OPERATIONAL, CS.MAJOR, 0).incident
    resumed = AutoIncidents(AutoSettings(quiet_period=QUIET), NAMES, current=inc)
    edit = resumed.changed("checkout", CS.OPERATIONAL, CS.MAJOR, 50)
    assert edit is not None and edit.incident is inc and not edit.opened
