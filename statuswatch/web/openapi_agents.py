"""The JSON Schemas of the agents' API and the locations list (web/agent_api.py)."""

from __future__ import annotations

from statuswatch.agent.wire import MAX_RESULTS
from statuswatch.web.openapi_schemas import BOOL, INT, NUM, STR, UTC, Schema, nullable, obj, ref

_SECONDS = {**NUM, "description": "epoch seconds (UTC)"}

SCHEMAS: dict[str, Schema] = {
    "AgentMonitors": obj(
        location=STR,
        agent=STR,
        monitors={
            "type": "array",
            "items": {
                "type": "object",
                "required": ["kind", "id"],
                "description": "a monitor as config.toml has it (durations in seconds, "
                "defaults resolved), with its kind",
            },
        },
        generation={**STR, "description": "changes whenever this agent's monitors change"},
        server_time=_SECONDS,
    ),
    "AgentResult": obj(
        ["monitor", "time", "ok"],
        monitor=STR,
        time={**_SECONDS, "description": "when the check started (epoch seconds, UTC)"},
        ok=BOOL,
        latency=nullable(NUM),
        status_code=nullable(INT),
        error_class=nullable(STR),
        message=STR,
        degraded=BOOL,
        cert_expiry=nullable(NUM),
        inconclusive=nullable(STR),
        phases=nullable({"type": "object", "additionalProperties": NUM}),
    ),
    "AgentUpload": obj(
        ["location", "agent", "sent_at", "results"],
        location=STR,
        agent=STR,
        sent_at=_SECONDS,
        results={"type": "array", "maxItems": MAX_RESULTS, "items": ref("AgentResult")},
    ),
    "AgentUploaded": obj(
        accepted={**INT, "description": "results stored and judged now"},
        duplicates={**INT, "description": "results stored before (a replay): changed nothing"},
    ),
    "Agent": obj(
        id=STR,
        last_seen=UTC,
        lag_seconds={
            **nullable(NUM),
            "description": "server receive time - newest result time of its last upload",
        },
        skew_seconds={
            **nullable(NUM),
            "description": "server receive time - the upload's sent_at (its clock's error)",
        },
    ),
    "Location": obj(
        id=STR,
        name=STR,
        agents={"type": "array", "items": ref("Agent")},
        last_seen=nullable(UTC),
    ),
    "LocationList": obj(locations={"type": "array", "items": ref("Location")}),
}
