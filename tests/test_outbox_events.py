"""The status board's changes become outbox events in one place, with keys that make them once."""

from __future__ import annotations

import ast
import json
from datetime import UTC, datetime
from pathlib import Path

import statuswatch.status
from statuswatch.config.model import Maintenance, Site
from statuswatch.incidents.model import Impact, Incident, IncidentStatus
from statuswatch.maintenance.calendar import Occurrence
from statuswatch.notify.outbox_events import OutboxEvents
from statuswatch.status.changes import IncidentChanged, MaintenanceEdge, WindowSaved
from statuswatch.status.component import ComponentStatus
from statuswatch.status.statuspage_objects import MAINTENANCE_UPDATES
from tests.helpers.config import make_config

EVENTS = OutboxEvents(
    {"checkout": "Checkout"}, Site(base_url="http://status.test/"), coalesce=300.0
)
START = 1_793_000_000.0
OCC = Occurrence(
    "db", "Database upgrade", "maintenance", frozenset({"checkout"}), START, START + 1800, False
)


def opened() -> Incident:
    inc = Incident("abc", "Checkout errors", Impact.MAJOR, IncidentStatus.INVESTIGATING, 10, 10)
    inc.components["checkout"] = ComponentStatus.MAJOR
    inc.post(10.0, IncidentStatus.INVESTIGATING, "Looking.", "ops")
    return inc


def test_an_update_is_announced_once_whatever_saves_it_again():
    inc = opened()
    first = EVENTS.event_for(IncidentChanged(inc))
    assert first is not None
    assert (first.source, first.topic, first.kind) == (
        f"incident-update:{inc.updates[0].id}",
        "incident:abc",
        "incident",
    )
    assert (first.time, first.components, first.coalesce) == (10.0, ("checkout",), 300.0)
    inc.title, inc.updated = "Checkout down", 20.0  # an edit without an update: same source
    assert EVENTS.event_for(IncidentChanged(inc)).source == first.source
    inc.post(30.0, IncidentStatus.RESOLVED, "Fixed.", "ops")
    assert EVENTS.event_for(IncidentChanged(inc)).source == f"incident-update:{inc.updates[1].id}"
    inc.post(40.0, IncidentStatus.POSTMORTEM, "What happened.", "ops")
    assert EVENTS.event_for(IncidentChanged(inc)) is None  # after the one resolution message
    inc.updates.clear()
    assert EVENTS.event_for(IncidentChanged(inc)) is None


def test_maintenance_events_keep_their_sources_and_one_topic_per_occurrence():
    saved = EVENTS.event_for(WindowSaved(make_window(), OCC, START - 60))
    edge = EVENTS.event_for(MaintenanceEdge(OCC, "completed", START + 1805))
    assert saved.source == f"maintenance:db:saved:{START - 60}"
    assert edge.source == f"maintenance:db:{START}:completed"
    assert saved.topic == edge.topic == f"maintenance:db:{START}"
    assert saved.kind == edge.kind == "maintenance"
    payload = json.loads(edge.payload)["incident"]
    assert payload["incident_updates"][0]["body"] == MAINTENANCE_UPDATES["completed"]
    assert payload["resolved_at"] == "2026-10-26T08:03:25.000Z"


def test_a_cancelled_window_is_announced_as_cancelled():
    event = EVENTS.event_for(WindowSaved(make_window(cancelled=True), OCC, START - 60))
    update = json.loads(event.payload)["incident"]["incident_updates"][0]
    assert update["status"] == "cancelled"
    assert update["body"] == MAINTENANCE_UPDATES["cancelled"]


def test_nobody_to_notify_means_no_listener(tmp_path):
    assert OutboxEvents.for_config(make_config(tmp_path, [])) is None
    hook = {"id": "h", "url": "http://127.0.0.1:9/hook", "secret_env": "HOOK_SECRET"}
    assert OutboxEvents.for_config(make_config(tmp_path, [], webhooks=[hook])) is not None


def test_the_status_package_knows_nothing_of_notifications():
    for path in Path(statuswatch.status.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(n.startswith("statuswatch.notify") for n in names), path.name


def make_window(cancelled: bool = False) -> Maintenance:
    return Maintenance(
        id="db",
        title="Database upgrade",
        components=["checkout"],
        start=datetime.fromtimestamp(START, UTC),
        duration=1800.0,
        description="Checkout may be slow.",
        cancelled=cancelled,
    )


def test_maintenance_lists_components_as_they_are_outside_the_window():
    events = OutboxEvents({"checkout": "Checkout"}, Site(base_url="http://status.test/"), 300.0)
    events.follow(lambda: {"checkout": ComponentStatus.DEGRADED})

    def listed(change) -> list[str]:
        return [
            c["status"]
            for c in json.loads(events.event_for(change).payload)["incident"]["components"]
        ]

    assert listed(WindowSaved(make_window(), OCC, START - 60)) == ["degraded_performance"]
    assert listed(MaintenanceEdge(OCC, "in_progress", START)) == ["under_maintenance"]
    assert listed(MaintenanceEdge(OCC, "completed", START + 1800)) == ["degraded_performance"]


def test_a_save_after_the_start_is_an_update_of_the_maintenance_in_progress():
    edit = EVENTS.event_for(WindowSaved(make_window(), OCC, START + 60))
    shown = json.loads(edit.payload)["incident"]
    assert shown["status"] == "in_progress"
    assert [u["status"] for u in shown["incident_updates"]] == ["in_progress", "in_progress"]
    assert edit.source == f"maintenance:db:saved:{START + 60}"
    # Saved in the second it starts (an emergency window): that is its start, announced once.
    begun = EVENTS.event_for(WindowSaved(make_window(), OCC, START + 0.5))
    assert begun.source == EVENTS.event_for(MaintenanceEdge(OCC, "in_progress", START + 3)).source
