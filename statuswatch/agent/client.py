"""The agent's client of the central server: fetch its monitors, upload result batches."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any

import aiohttp
import msgspec
from multidict import CIMultiDict
from yarl import URL

from statuswatch import __version__
from statuswatch.agent.wire import seconds_hook
from statuswatch.config.model import Monitor
from statuswatch.probes.proxies import EnvProxies

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
    """What one poll said: this agent's monitors (None: the generation it had) and generation."""

    monitors: list[Monitor] | None
    generation: str
    server_time: float


class _Poll(msgspec.Struct):
    """A poll's answer, its monitors left undecoded until their generation is a new one."""

    monitors: msgspec.Raw
    generation: str
    server_time: float


class ServerClient:
    """One connection pool to the server, with its token and (optionally) a private CA."""

    def __init__(self, server: str, token: str, *, ca_file: str | None = None) -> None:
        self.server = server.rstrip("/")
        self._token = token
        self._ssl = ssl.create_default_context(cafile=ca_file) if ca_file else True
        self._session: aiohttp.ClientSession | None = None
        # An egress proxy for the server too, as curl would use it (read once, like the probes').
        self._route = EnvProxies().route(URL(self.server))

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=TIMEOUT),
                # No Authorization here: aiohttp copies a session's headers onto what it sends
                # the proxy, where the token would become the Proxy-Authorization.
                headers={"User-Agent": f"statuswatch-agent/{__version__}"},
                trust_env=False,  # the route above: aiohttp's re-reads the env every request
            )
        return self._session

    async def monitors(self, agent: str, poll: float, *, known: str | None = None) -> Assignment:
        """This agent's share of its location's monitors (the poll is also its heartbeat); their
        list is decoded only when its generation is not `known` (thousands, every poll)."""
        params = {"agent": agent, "poll": f"{poll:g}"}
        raw = await self._call_raw("GET", "/api/v1/agent/monitors", params=params)
        answer = msgspec.json.decode(raw, type=_Poll)
        monitors = None
        if answer.generation != known:
            listed = answer.monitors
            monitors = msgspec.json.decode(listed, type=list[Monitor], dec_hook=seconds_hook)
        return Assignment(monitors, answer.generation, answer.server_time)

    async def upload(self, body: bytes) -> dict[str, Any]:
        """POST one batch (its JSON); the server's counts (accepted, duplicates)."""
        headers = {"Content-Type": "application/json"}
        return await self._call("POST", "/api/v1/agent/results", data=body, headers=headers)

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        return msgspec.json.decode(await self._call_raw(method, path, **kwargs))

    async def _call_raw(self, method: str, path: str, **kwargs: Any) -> bytes:
        url = URL(self.server + path)
        headers = CIMultiDict(kwargs.pop("headers", {}))
        headers["Authorization"] = f"Bearer {self._token}"
        options = self._route.options(url, headers)
        async with self._client().request(method, url, ssl=self._ssl, **options, **kwargs) as resp:
            raw = await resp.read()
            if resp.status != 200:
                raise ServerError(resp.status, raw.decode(errors="replace"))
            return raw

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
