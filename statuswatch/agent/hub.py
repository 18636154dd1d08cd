"""What the server keeps about its locations: their agents' tokens (as digests) and agents."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from statuswatch.agent.registry import AgentRegistry
from statuswatch.agent.stored import StoredChecks
from statuswatch.auth.tokens import find_owner, token_digest
from statuswatch.clock import Clock
from statuswatch.config import Config, read_secret


class LocationHub:
    """Tokens by digest -> location id, the agents registry, the upload lock, what is stored."""

    def __init__(self, tokens: dict[bytes, str], clock: Clock) -> None:
        self._tokens = tokens
        self.registry = AgentRegistry(clock)
        # Uploads are checked against the store and then written one at a time, so two copies
        # of one batch in flight at once cannot both be counted as accepted.
        self.upload_lock = asyncio.Lock()
        self.stored = StoredChecks()
        # Each location's monitor ids, worked out once: the config does not change while the
        # process runs, and scanning the fleet per upload was O(monitors) a request.
        self.probed: dict[str, frozenset[str]] = {}
        self.encoded: dict[str, dict[str, bytes]] = {}  # and the monitors as agents get them

    @classmethod
    def for_config(cls, config: Config, environ: Mapping[str, str], clock: Clock) -> LocationHub:
        """Read every location's token from its token_env (kept only as a digest)."""
        tokens: dict[bytes, str] = {}
        for loc in config.locations:
            unset = f"agents of location {loc.id} are refused (401)"
            token = read_secret(loc.token_env, environ, unset=unset)
            if token:
                tokens[token_digest(token)] = loc.id
        return cls(tokens, clock)

    def location_of(self, token: str) -> str | None:
        """The location whose agents send `token` (constant-time), None when none does."""
        return find_owner(self._tokens, token)
