"""The JSON Schemas (2020-12) of the API's bodies, for the OpenAPI document in openapi.py
(Statuspage's v2 documents: openapi_statuspage.py).

Responses forbid undocumented properties, so tests/test_openapi.py (which validates real
responses against these) fails when a handler and its schema drift apart.
"""

from __future__ import annotations

from typing import Any

from statuswatch.incidents import edits
from statuswatch.maintenance.edits import KINDS
from statuswatch.sla.availability import UNMONITORED_POLICIES

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    """A reference to a schema in components/schemas."""
    return {"$ref": f"#/components/schemas/{name}"}


def obj(required: list[str] | None = None, /, **props: Schema) -> Schema:
    """A closed object; `required` None means every property is always present."""
    return {
        "type": "object",
        "properties": props,
        "additionalProperties": False,
        "required": list(props) if required is None else required,
    }


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def enum(*values: str) -> Schema:
    return {"type": "string", "enum": list(values)}


STR: Schema = {"type": "string"}
NUM: Schema = {"type": "number"}
INT: Schema = {"type": "integer"}
BOOL: Schema = {"type": "boolean"}
UTC = ref("Timestamp")
DURATION: Schema = {
    "type": "string",
    "pattern": r"^(\d+(\.\d+)?(ms|s|m|h|d))+$",
    "examples": ["2h", "90m", "1h30m"],
}
COMPONENT_STATUSES = (
    "operational",
    "degraded_performance",
    "partial_outage",
    "major_outage",
    "under_maintenance",
)
ALL_STATUSES = (*edits.STATUSES, "postmortem")
STATES = ("scheduled", "in_progress", "completed", "cancelled")

_INCIDENTS: dict[str, Schema] = {
    "IncidentUpdate": obj(
        id=STR,
        status=enum(*ALL_STATUSES),
        body=STR,
        body_html={**STR, "description": "body as sanitised HTML"},
        created_at=UTC,
        author=STR,
        affected_components={
            "type": "array",
            "items": obj(
                code=STR,
                old_status=enum(*COMPONENT_STATUSES),
                new_status=enum(*COMPONENT_STATUSES),
            ),
        },
    ),
    "Incident": obj(
        id=STR,
        title=STR,
        impact=enum(*edits.IMPACTS),
        status=enum(*ALL_STATUSES),
        severity=nullable(STR),
        created_at=UTC,
        updated_at=UTC,
        monitoring_at=nullable(UTC),
        resolved_at=nullable(UTC),
        components={"type": "object", "additionalProperties": enum(*COMPONENT_STATUSES)},
        auto={**BOOL, "description": "opened by statuswatch from monitor transitions"},
        taken_over={**BOOL, "description": "an operator has edited it: no automatic resolution"},
        next_update_due=nullable(UTC),
        updates={"type": "array", "items": ref("IncidentUpdate"), "description": "oldest first"},
    ),
    "IncidentList": obj(incidents={"type": "array", "items": ref("Incident")}),
    "NewIncident": obj(
        ["title", "body"],
        title={**STR, "minLength": 1, "maxLength": edits.TITLE_MAX},
        body={**STR, "minLength": 1, "maxLength": edits.BODY_MAX, "description": "Markdown"},
        impact={**enum(*edits.IMPACTS), "description": "default: from the components"},
        status={**enum(*edits.STATUSES), "default": "investigating"},
        components={"type": "object", "additionalProperties": enum(*edits.OUTAGE_LEVELS)},
        severity=STR,
        author={**STR, "minLength": 1, "maxLength": edits.AUTHOR_MAX, "default": "operator"},
    ),
    "NewUpdate": obj(
        ["body"],
        body={**STR, "minLength": 1, "maxLength": edits.BODY_MAX, "description": "Markdown"},
        status={**enum(*edits.STATUSES), "description": "default: unchanged"},
        components={"type": "object", "additionalProperties": enum(*edits.UPDATE_LEVELS)},
        author={**STR, "minLength": 1, "maxLength": edits.AUTHOR_MAX, "default": "operator"},
    ),
    "IncidentPatch": obj(
        [],
        title={**STR, "minLength": 1, "maxLength": edits.TITLE_MAX},
        impact=enum(*edits.IMPACTS),
        severity=nullable(STR),
        postmortem={
            **STR,
            "minLength": 1,
            "maxLength": edits.BODY_MAX,
            "description": "Markdown; only once resolved; sets status postmortem",
        },
        author={**STR, "minLength": 1, "maxLength": edits.AUTHOR_MAX, "default": "operator"},
    ),
}

_OFFSET_TIME: Schema = {
    "type": "string",
    "format": "date-time",
    "description": "ISO 8601 with an offset",
}
_MAINTENANCE: dict[str, Schema] = {
    "Window": obj(
        id=STR,
        title=STR,
        description=STR,
        components={"type": "array", "items": STR},
        kind=enum(*KINDS),
        start=UTC,
        end=nullable(UTC),
        duration=nullable(DURATION),
        rrule=nullable(STR),
        timezone=STR,
        cancelled=BOOL,
        source={
            **enum("config", "api"),
            "description": "api: created or changed through the API (wins over config)",
        },
        state=enum(*STATES),
        occurrence=nullable(obj(start=UTC, end=UTC, state=enum(*STATES))),
    ),
    "WindowList": obj(maintenance={"type": "array", "items": ref("Window")}),
    "NewWindow": obj(
        ["title", "components"],
        id={**STR, "pattern": r"^[a-z0-9][a-z0-9_.-]{0,63}$", "description": "default: made up"},
        title={**STR, "minLength": 1},
        description=STR,
        components={"type": "array", "items": STR, "minItems": 1},
        kind={**enum(*KINDS), "default": "scheduled"},
        start={**_OFFSET_TIME, "description": "default: now"},
        end=_OFFSET_TIME,
        duration=DURATION,
        rrule={**STR, "description": "RFC 5545, without DTSTART"},
        timezone={**STR, "default": "UTC"},
    ),
    "WindowPatch": obj([], start=_OFFSET_TIME, end=_OFFSET_TIME, duration=DURATION, cancelled=BOOL),
}

_CHECK_RESULT = obj(
    time=UTC,
    ok=BOOL,
    degraded=BOOL,
    error_class=nullable(STR),
    message=STR,
    latency_seconds=nullable(NUM),
    status_code=nullable(INT),
    cert_expiry=nullable(UTC),
    phases={
        **nullable(
            obj(
                resolve=nullable(NUM),
                connect=nullable(NUM),
                tls=nullable(NUM),
                processing=nullable(NUM),
                transfer=nullable(NUM),
            )
        ),
        "description": "http checks: seconds per phase, summed over redirects; a phase the "
        "check did not finish (transfer when the body was not read) is null; null for other "
        "kinds and for a check that failed before finishing any phase",
    },
)
_MINUTES = (
    "unmonitored_minutes",
    "excused_downtime_minutes",
    "unexcused_downtime_minutes",
    "eligible_minutes",
)
_OUTAGE = obj(
    monitor=STR,
    component=STR,
    start=UTC,
    end={**nullable(UTC), "description": "null while the outage is ongoing"},
    ongoing=BOOL,
    duration_minutes={**NUM, "description": "so far, while the outage is ongoing"},
    excused_minutes=NUM,
    excused=BOOL,
    error_class=STR,
    message=STR,
    location={**STR, "description": "where it was observed (local: this server)"},
    regional_minutes={**NUM, "description": "of it, down from fewer locations than the quorum"},
    split_by_gaps={"type": "array", "items": obj(start=UTC, end=UTC, reason=STR)},
)
_CREDIT_PROPS: dict[str, Schema] = dict(
    customer=STR,
    name=STR,
    plan=STR,
    unmonitored_policy=enum(*UNMONITORED_POLICIES),
    period=STR,
    currency=STR,
    fee=NUM,
    period_start=UTC,
    period_end=UTC,
    period_minutes=NUM,
    **dict.fromkeys(_MINUTES, NUM),
    target_percent=NUM,
    availability_percent=nullable(NUM),
    met=BOOL,
    allowed_downtime_minutes=NUM,
    excess_downtime_minutes=NUM,
    credit_percent=NUM,
    credit_amount=NUM,
    claim_deadline={**UTC, "description": "only when the plan has a claim window"},
    coverage_percent=nullable(NUM),
    budget_remaining_minutes=NUM,
    claim_deadline_passed=BOOL,
    regional_minutes={**NUM, "description": "down from fewer locations than the quorum"},
    regional_counts_as={
        **enum("available", "downtime"),
        "description": "how the plan counted the regional time",
    },
    outages={"type": "array", "items": _OUTAGE},
)
MONITOR_STATES = ("unknown", "up", "degraded", "down", "regional")
_CREDIT_LINE = obj([k for k in _CREDIT_PROPS if k != "claim_deadline"], **_CREDIT_PROPS)
_PUBLIC: dict[str, Schema] = {
    "Monitor": obj(
        id=STR,
        name=STR,
        kind=enum("http", "tcp", "tls", "dns", "push"),
        component=STR,
        interval_seconds=NUM,
        state=enum(*MONITOR_STATES),
        last_result=nullable(_CHECK_RESULT),
        open_outage=nullable(obj(start=UTC)),
        locations={
            "type": "array",
            "description": "each location's own verdict (state: the quorum verdict of them)",
            "items": obj(
                location=STR,
                state=enum(*MONITOR_STATES),
                last_result=nullable(_CHECK_RESULT),
                last_seen=nullable(UTC),
            ),
        },
    ),
    "MonitorList": obj(monitors={"type": "array", "items": ref("Monitor")}),
    "CreditsReport": obj(
        customers={"type": "array", "items": _CREDIT_LINE},
        totals={"type": "object", "additionalProperties": NUM},
    ),
    "Availability": obj(
        component=STR,
        window=STR,
        period_start=UTC,
        period_end=UTC,
        availability_percent=nullable(NUM),
        coverage_percent=nullable(NUM),
        **dict.fromkeys(_MINUTES, NUM),
    ),
    # In the web role `?role=web` (and a monitor never heard from) answer status and roles only.
    "Health": obj(
        ["status", "roles"],
        status=enum("ok", "degraded", "failing"),
        roles=obj(
            [],
            monitor=obj(
                ["status"],
                status=enum("ok", "degraded", "failing", "not reporting", "stopped", "not started"),
                pid=INT,
                as_of=UTC,
                age_seconds=NUM,
            ),
            web=obj(
                ["status", "pid"],
                status=enum("ok", "degraded", "failing"),
                pid=INT,
                uptime_seconds=NUM,
                store={"type": "object"},
            ),
        ),
        uptime_seconds=NUM,
        # Of several nodes on PostgreSQL, whether this one leads, and the lease (null: SQLite).
        role=enum("leader", "follower"),
        lease=nullable(
            obj(
                node=STR,
                holder=nullable(STR),
                fence=nullable(INT),
                expires=nullable(UTC),
                last_error=nullable(STR),
                # suspended: cut off from the database, the term open in memory, writes held
                state=enum("leading", "suspended", "following"),
            )
        ),
        database=obj(
            writable=BOOL,
            last_write=nullable(UTC),
            pending=INT,
            dropped=INT,
            fenced=INT,
            last_error=nullable(STR),
        ),
        scheduler=nullable(
            obj(runs=INT, skipped=INT, in_flight=INT, lag_p99_seconds=nullable(NUM))
        ),
        monitors={"type": "object", "required": ["total"], "additionalProperties": INT},
        inconclusive=obj(descriptors=INT, memory=INT, stalled=INT, resolver=INT),
        last_inconclusive=nullable(
            obj(time=UTC, monitor=STR, reason=enum("descriptors", "memory", "stalled", "resolver"))
        ),
    ),
    "PushAccepted": obj(ok={"const": True}, monitor=STR, status=enum("up", "down")),
}

SCHEMAS: dict[str, Schema] = {
    "Timestamp": {
        "type": "string",
        "format": "date-time",
        "pattern": r"Z$",
        "description": "ISO 8601, UTC, with Z",
        "examples": ["2026-10-26T09:30:00Z"],
    },
    "Error": obj(error=STR),
    "ParameterError": obj(error=STR, field=STR),
    "ValidationErrors": obj(
        errors={
            "type": "array",
            "minItems": 1,
            "items": obj(
                field={
                    **STR,
                    "description": "key path, e.g. components.checkout; $: the whole body",
                },
                message=STR,
            ),
        }
    ),
    **_INCIDENTS,
    **_MAINTENANCE,
    **_PUBLIC,
}

# Subscribers (web/subscriptions.py: public subscribe; web/subscribers_admin.py: admin).
SCHEMAS.update(
    {
        "NewSubscriber": obj(
            ["email"],
            email={**STR, "maxLength": 254},
            components={
                "type": "array",
                "items": STR,
                "description": "component ids; empty or absent: all",
            },
        ),
        "SubscribeAccepted": obj(status={"const": "accepted"}, message=STR),
        "Subscriber": obj(
            id=INT,
            channel=enum("email", "webhook"),
            address={**STR, "description": "the email address, or the webhook's id"},
            state=enum("pending", "confirmed", "unsubscribed", "bounced"),
            components=nullable({"type": "array", "items": STR}),
            created_at=UTC,
            confirmed_at=nullable(UTC),
            bounce=nullable(STR),
        ),
        "SubscriberList": obj(subscribers={"type": "array", "items": ref("Subscriber")}),
    }
)
