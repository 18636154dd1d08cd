"""The JSON Schemas of Atlassian Statuspage's public v2 format (/api/v2/*.json).

The mapping itself is status/statuspage.py; the schemas of our own API are openapi_schemas.py.
"""

from __future__ import annotations

from statuswatch.incidents import edits
from statuswatch.status.statuspage import INDICATORS, MAINTENANCE_STATES
from statuswatch.web.openapi_schemas import (
    ALL_STATUSES,
    BOOL,
    COMPONENT_STATUSES,
    INT,
    STR,
    Schema,
    enum,
    nullable,
    obj,
    ref,
)

_SP_TIME: Schema = {
    "type": "string",
    "format": "date-time",
    "pattern": r"[+-]\d\d:\d\d$",
    "description": "ISO 8601 in the site's timezone, with its UTC offset",
}
_SP_COMPONENT_PROPS: dict[str, Schema] = dict(
    id=STR,
    name=STR,
    status=enum(*COMPONENT_STATUSES),
    created_at=_SP_TIME,
    updated_at=_SP_TIME,
    position=INT,
    description=nullable(STR),
    showcase=BOOL,
    start_date=nullable({"type": "string", "format": "date"}),
    group_id=nullable(STR),
    group=BOOL,
    page_id=STR,
    only_show_if_degraded=BOOL,
    components={"type": "array", "items": STR, "description": "groups only: member ids"},
)
_SP_INCIDENT_PROPS: dict[str, Schema] = dict(
    id=STR,
    name=STR,
    status=enum(*ALL_STATUSES),
    impact=enum(*edits.IMPACTS),
    created_at=_SP_TIME,
    updated_at=_SP_TIME,
    monitoring_at=nullable(_SP_TIME),
    resolved_at=nullable(_SP_TIME),
    started_at=_SP_TIME,
    shortlink=STR,
    page_id=STR,
    components={"type": "array", "items": ref("SpComponent")},
    incident_updates={
        "type": "array",
        "items": ref("SpIncidentUpdate"),
        "description": "newest first",
    },
)
_SP_PAGE_ONLY = dict(page=ref("SpPage"))
_SP_EXTRAS = obj(
    components={
        "type": "object",
        "additionalProperties": obj(
            availability_30d=nullable(STR),
            coverage_30d=nullable(STR),
            availability_90d=nullable(STR),
            coverage_90d=nullable(STR),
            no_data=BOOL,
            regional_locations={
                "type": "array",
                "items": STR,
                "description": "names of the locations that see the component down while fewer"
                " than the quorum do (its status is then degraded_performance); empty otherwise",
            },
        ),
    },
    monitoring=obj(
        current={
            **BOOL,
            "description": "false while the monitor is not reporting: the figures are as_of",
        },
        as_of=nullable(_SP_TIME),
    ),
)
SCHEMAS: dict[str, Schema] = {
    "SpPage": obj(id=STR, name=STR, url=STR, time_zone=STR, updated_at=_SP_TIME),
    "SpStatus": obj(indicator=enum(*INDICATORS), description=STR),
    "SpComponent": obj(
        [k for k in _SP_COMPONENT_PROPS if k != "components"], **_SP_COMPONENT_PROPS
    ),
    "SpIncidentUpdate": obj(
        id=STR,
        status=enum(*ALL_STATUSES, *MAINTENANCE_STATES),
        body=STR,
        incident_id=STR,
        created_at=_SP_TIME,
        updated_at=_SP_TIME,
        display_at=_SP_TIME,
        deliver_notifications={**BOOL, "description": "always true: subscribers are told"},
        custom_tweet={"type": "null", "description": "always null: nothing is tweeted"},
        tweet_id={"type": "null", "description": "always null"},
        affected_components={
            "type": "array",
            "items": obj(
                code=STR,
                name=STR,
                old_status=enum(*COMPONENT_STATUSES),
                new_status=enum(*COMPONENT_STATUSES),
            ),
        },
    ),
    "SpIncident": obj(**_SP_INCIDENT_PROPS),
    "SpMaintenance": obj(
        **{
            **_SP_INCIDENT_PROPS,
            "status": enum(*MAINTENANCE_STATES),
            "impact": enum("maintenance"),
            "created_at": {**_SP_TIME, "description": "when the window was created"},
            "started_at": {
                **nullable(_SP_TIME),
                "description": "null until the occurrence starts, then its start",
            },
        },
        scheduled_for=_SP_TIME,
        scheduled_until=_SP_TIME,
    ),
    "SpSummary": obj(
        **_SP_PAGE_ONLY,
        components={"type": "array", "items": ref("SpComponent")},
        incidents={"type": "array", "items": ref("SpIncident")},
        scheduled_maintenances={"type": "array", "items": ref("SpMaintenance")},
        status=ref("SpStatus"),
        x_statuswatch=_SP_EXTRAS,
    ),
    "SpStatusDocument": obj(**_SP_PAGE_ONLY, status=ref("SpStatus")),
    "SpComponents": obj(
        **_SP_PAGE_ONLY,
        components={"type": "array", "items": ref("SpComponent")},
        x_statuswatch=_SP_EXTRAS,
    ),
    "SpIncidents": obj(**_SP_PAGE_ONLY, incidents={"type": "array", "items": ref("SpIncident")}),
    "SpMaintenances": obj(
        **_SP_PAGE_ONLY, scheduled_maintenances={"type": "array", "items": ref("SpMaintenance")}
    ),
}
