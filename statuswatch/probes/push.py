"""Push monitors: a job calls /push/<token>; silence past interval + grace is a failure.

The pushes themselves are recorded by the web handler (web/push_api.py) as results; this periodic
check only records something when the job has gone quiet.
"""

from __future__ import annotations

from statuswatch.config.durations import format_duration
from statuswatch.config.model import PushMonitor
from statuswatch.probes.base import ErrorClass, Observation, ProbeFailure
from statuswatch.probes.context import ProbeContext


async def probe(monitor: PushMonitor, ctx: ProbeContext) -> Observation | None:
    """Fail when the last push is older than interval + grace; otherwise record nothing."""
    assert monitor.interval is not None
    last = ctx.last_push.get(monitor.id, ctx.started_at)
    silence = ctx.clock.time() - last
    if silence > monitor.interval + monitor.grace:
        raise ProbeFailure(
            ErrorClass.MISSED_PUSH,
            f"no push for {format_duration(silence)} (expected every "
            f"{format_duration(monitor.interval)} + {format_duration(monitor.grace)} grace)",
        )
    return None
