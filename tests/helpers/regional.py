"""What the location tests share: one health check every 60 s, two agent locations, results for
it, and a plan that says how regional time counts."""

from __future__ import annotations

from statuswatch.probes.base import CheckResult

HEALTH = {
    "id": "api-health",
    "kind": "http",
    "component": "api",
    "url": "http://127.0.0.1:9/health",
    "interval": "60s",
    "timeout": "5s",
}
EUROPE = {"id": "eu", "name": "Europe", "token_env": "EU_TOKEN"}
LOCATIONS = [EUROPE, {"id": "us", "name": "US East", "token_env": "US_TOKEN"}]


def health_result(t: float, ok: bool) -> CheckResult:
    """The health check's result at `t`: 200 when it passes, a 503 when it fails."""
    if ok:
        return CheckResult("api-health", t, True, 0.05, 200, None, "")
    return CheckResult("api-health", t, False, 0.05, 503, "http_status", "503")


def gold_plan(regional_counts_as: str) -> dict:
    """A 99.9 % plan with no credits, regional time counted as `regional_counts_as`."""
    return {
        "id": "gold",
        "name": "Gold",
        "target_percent": 99.9,
        "credit": {"scheme": "none"},
        "regional_counts_as": regional_counts_as,
    }
