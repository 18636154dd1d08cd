"""The server's view of the agents: who is live per location, their share, lag and skew (pure).

Several agents of one location split its monitors by rendezvous hashing of (agent, monitor)
over the agents seen recently: each monitor goes to the live agent with the highest score, so
an agent that joins or dies moves only its own share, and every agent computes nothing (the
server answers each poll with that agent's share). An agent is live for TTL_POLLS of its own
poll intervals after it was last heard: a dead agent's monitors move on the others' next poll,
well before their next check when the poll interval is shorter than the check interval.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass

from statuswatch.clock import Clock

# An agent polls every ~10 s unless it says otherwise (?poll=); live for this many polls.
DEFAULT_POLL = 10.0
TTL_POLLS = 2.5
POLL_RANGE = (0.1, 300.0)
# Forgotten (no longer listed) this long after it was last heard.
FORGET_AFTER = 24 * 3600.0


@dataclass(slots=True)
class AgentSeen:
    """One agent as last heard: wall times for the API, monotonic for liveness."""

    last_seen: float
    seen_mono: float
    poll: float = DEFAULT_POLL
    lag: float | None = None  # server receive time - newest result time of its last upload
    skew: float | None = None  # server receive time - the upload's sent_at


def _is_live(seen: AgentSeen, mono: float) -> bool:
    """Heard within TTL_POLLS of its own poll interval (monotonic `mono` is now)."""
    return mono - seen.seen_mono <= seen.poll * TTL_POLLS


def score(agent: str, monitor_id: str) -> bytes:
    """The rendezvous score of `agent` for `monitor_id` (stable across processes)."""
    return hashlib.blake2b(f"{agent}\0{monitor_id}".encode(), digest_size=8).digest()


def owner(agents: list[str], monitor_id: str) -> str:
    """The agent that probes `monitor_id` among `agents` (not empty)."""
    return max(agents, key=lambda agent: score(agent, monitor_id))


class AgentRegistry:
    """Agents per location, as their polls and uploads are heard (time from the clock)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._agents: dict[str, dict[str, AgentSeen]] = {}

    def heard(self, location: str, agent: str, *, poll: float | None = None) -> AgentSeen:
        """Note that `agent` of `location` was heard now (a poll or an upload)."""
        seen = self._agents.setdefault(location, {}).get(agent)
        now, mono = self._clock.time(), self._clock.monotonic()
        if seen is None:
            seen = self._agents[location][agent] = AgentSeen(now, mono)
        seen.last_seen, seen.seen_mono = now, mono
        if poll is not None:
            seen.poll = min(max(poll, POLL_RANGE[0]), POLL_RANGE[1])
        return seen

    def uploaded(self, location: str, agent: str, *, newest: float | None, sent_at: float) -> None:
        """Note an upload: its lag (to its newest result) and the agent's clock skew."""
        seen = self.heard(location, agent)
        if newest is not None:
            seen.lag = seen.last_seen - newest
        seen.skew = seen.last_seen - sent_at

    def live(self, location: str) -> list[str]:
        """The agents of `location` heard within their TTL, by id."""
        mono = self._clock.monotonic()
        agents = self._agents.get(location, {})
        return sorted(a for a, s in agents.items() if _is_live(s, mono))

    def seen(self) -> list[tuple[str, str, AgentSeen, bool]]:
        """(location, agent, as last heard, live) of every agent, copied so another thread (the
        metrics render) may read it while the event loop hears agents; forgets nobody."""
        mono = self._clock.monotonic()
        out = []
        for location, agents in sorted(self._agents.copy().items()):
            for agent, seen in sorted(agents.copy().items()):
                out.append((location, agent, copy.copy(seen), _is_live(seen, mono)))
        return out

    def share(self, location: str, agent: str, monitor_ids: list[str]) -> list[str]:
        """The monitors among `monitor_ids` that `agent` should probe (it counts as live)."""
        agents = sorted({*self.live(location), agent})
        return [m for m in monitor_ids if owner(agents, m) == agent]

    def agents(self, location: str) -> dict[str, AgentSeen]:
        """Every agent of `location` heard within FORGET_AFTER, by id."""
        mono = self._clock.monotonic()
        known = self._agents.get(location, {})
        for agent in [a for a, s in known.items() if mono - s.seen_mono > FORGET_AFTER]:
            del known[agent]
        return dict(sorted(known.items()))
