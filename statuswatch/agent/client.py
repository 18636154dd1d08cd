"""The agent's client of the central server: fetch its monitors, upload result batches."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any

import aiohttp
import msgspec

from statuswatch import __version__
from statuswatch.agent.wire import seconds_hook
from statuswatch.config.model import Monitor

# One request never waits longer than this: a hung server must not stop the spooling.
TIMEOUT = 10.0


class ServerError(Exception):
    """The server answered, but not with success (status and its error text)."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(f"HTTP {status}: {text[:300]}")
        self.status = status
        self.text = text


@dataclass(frozen=True, slots=True)
class Assignment:
    """What one poll said: this agent's monitors and their generation."""

    monitors: list[Monitor]
    generation: str
    server_time: float


class ServerClient:
    """One connection pool to the server, with its token and (optionally) a private CA."""

    def __init__(self, server: str, token: str, *, ca_file: str | None = None) -> None:
        self.server = server.rstrip("/")
        self._token = token
        self._ssl = ssl.create_default_context(cafile=ca_file) if ca_file else True
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=TIMEOUT),
                headers={
                    "Authorization": f"Bearer {self._token}",
                    "User-Agent": f"statuswatch-agent/{__version__}",
                },
                trust_env=True,  # an egress proxy for the server too, as curl would use it
            )
        return self._session

    async def monitors(self, agent: str, poll: float) -> Assignment:
        """This agent's share of its location's monitors (the poll is also its heartbeat)."""
        params = {"agent": agent, "poll": f"{poll:g}"}
        body = await self._call("GET", "/api/v1/agent/monitors", params=params)
        monitors = [msgspec.convert(m, Monitor, dec_hook=seconds_hook) for m in body["monitors"]]
        return Assignment(monitors, str(body["generation"]), float(body["server_time"]))

    async def upload(self, batch: dict[str, Any]) -> dict[str, Any]:
        """POST one batch; the server's counts (accepted, duplicates)."""
        return await self._call("POST", "/api/v1/agent/results", json=batch)

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        async with self._client().request(
            method, self.server + path, ssl=self._ssl, **kwargs
        ) as resp:
            text = await resp.text()
            if resp.status != 200:
                raise ServerError(resp.status, text)
            return msgspec.json.decode(text)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
