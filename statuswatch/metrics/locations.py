"""Where monitors are probed from: each location's liveness and last word, each agent's clock.

"local" is the monitor process's own probes: it is up, and heard now, whenever the monitor
answers a scrape. Any other location is up while one of its agents was heard within its TTL
(agent/registry.py, the same rule that shares out its monitors), and last seen when its most
recently heard agent was; before any agent is heard it is down with no last-seen series.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import Metric

from statuswatch.agent.registry import AgentRegistry
from statuswatch.clock import Clock
from statuswatch.config import Config
from statuswatch.metrics.family import Families, put
from statuswatch.store.models import LOCAL

FAMILIES = Families(
    {
        "statuswatch_location_up": (
            "gauge",
            "1 while the location is heard from: local while the monitor runs, another while "
            "one of its agents was heard within its TTL (2.5 of its poll intervals); 0 otherwise.",
            ("location",),
        ),
        "statuswatch_location_last_seen_timestamp_seconds": (
            "gauge",
            "When the location was last heard from (local: now); absent until an agent of it "
            "is heard.",
            ("location",),
        ),
        "statuswatch_location_agents": (
            "gauge",
            "Agents of the location heard within their TTL (they share its monitors).",
            ("location",),
        ),
        "statuswatch_agent_clock_skew_seconds": (
            "gauge",
            "The server's clock minus the agent's at its last upload (receive time - sent_at; "
            "network delay included): positive when the agent's clock is behind.",
            ("location", "agent"),
        ),
        "statuswatch_agent_upload_lag_seconds": (
            "gauge",
            "At the agent's last upload, how old its newest result was when it arrived.",
            ("location", "agent"),
        ),
    }
)


class LocationFamilies:
    """The location and agent families, from the agents registry (read on the render thread)."""

    def __init__(self, config: Config, registry: AgentRegistry | None, clock: Clock) -> None:
        probed = {loc for m in config.monitors for loc in (m.locations or [LOCAL])}
        self._local = LOCAL in probed
        self._remote = [loc.id for loc in config.locations]
        self._registry = registry
        self._clock = clock

    def collect(self) -> Iterator[Metric]:
        """Every location's up, last seen and live agents, then each agent's skew and lag."""
        up, seen, count, skew, lag = (FAMILIES.new(name) for name in FAMILIES)
        if self._local:
            for fam, value in ((up, 1.0), (seen, self._clock.time()), (count, 0.0)):
                put(fam, {"location": LOCAL}, value)
        agents = self._registry.seen() if self._registry is not None else []
        for location in self._remote:
            mine = [a for a in agents if a[0] == location]
            live = sum(1 for a in mine if a[3])
            labels = {"location": location}
            put(up, labels, 1.0 if live else 0.0)
            if mine:
                put(seen, labels, max(a[2].last_seen for a in mine))
            put(count, labels, float(live))
        for location, agent, heard, _live in agents:
            labels = {"location": location, "agent": agent}
            if heard.skew is not None:
                put(skew, labels, heard.skew)
            if heard.lag is not None:
                put(lag, labels, heard.lag)
        yield from (up, seen, count, skew, lag)
