"""A follower's monitor process hands every write route to the leader's site.

One implementation of every rule stays where it is: the leader's own handlers answer. The hop
carries the cluster token (`X-Statuswatch-Cluster`, compared in constant time) and the
stranger's address; only a request with a valid token has that address trusted. One hop only:
a forwarded request that reaches a node which does not lead (the lease moved meanwhile) is
answered 503 with Retry-After, as is any write while no leader is known, and the client (an
agent, a pusher, the admin) tries again: agents spool meanwhile.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable
from typing import Any

from aiohttp import web

from statuswatch.auth.tokens import token_digest
from statuswatch.cluster.lease import Term
from statuswatch.cluster.settings import TOKEN_HEADER
from statuswatch.roles.forward import ForwardingRouter, Handler, MonitorLink, unavailable


def has_cluster_token(request: web.Request, digest: bytes | None) -> bool:
    """True when `request` carries this cluster's token (constant-time comparison)."""
    presented = request.headers.get(TOKEN_HEADER)
    if presented is None or digest is None:
        return False
    return hmac.compare_digest(token_digest(presented), digest)


class LeaderLink:
    """Where a follower sends the writes: the current leader's advertised site."""

    def __init__(
        self,
        *,
        leading: Callable[[], bool],
        leader: Callable[[], Term | None],
        token: str,
        client: Callable[[web.Request], str],
    ) -> None:
        self._leading = leading
        self._leader = leader
        self._token = token
        self._digest = token_digest(token)
        self._client = client
        self._link = MonitorLink(None, base="")

    async def start(self) -> None:
        """Open the connection pool to the leader (connections are made on first use)."""
        await self._link.start()

    async def close(self) -> None:
        """Close the pool."""
        await self._link.close()

    def wrap(self, handler: Handler) -> Handler:
        """`handler` while this node leads; otherwise the leader's answer (or a 503)."""

        async def leader_or_forward(request: web.Request) -> web.StreamResponse:
            if self._leading():
                return await handler(request)
            return await self.forward(request)

        return leader_or_forward

    async def forward(self, request: web.Request) -> web.Response:
        """The leader's answer to `request`; 503 + Retry-After when there is none to ask."""
        if TOKEN_HEADER in request.headers:  # already forwarded once: never a second hop
            return unavailable(request, 503, "this node no longer leads; try again shortly")
        term = self._leader()
        if term is None or not term.advertise:
            return unavailable(request, 503, "no statuswatch node leads right now; try again")
        return await self._link.forward(
            request,
            client=self._client(request),
            extra={TOKEN_HEADER: self._token},
            base=term.advertise.rstrip("/"),
        )


class LeaderRouter(ForwardingRouter):
    """A route module's router on a node of several: every write route answered by the
    leader's handler when this node leads, else forwarded to the leader."""

    def __init__(
        self, router: web.UrlDispatcher, link: LeaderLink, keep: Iterable[tuple[str, str]] = ()
    ) -> None:
        super().__init__(router, link.forward, keep)
        self._link = link

    def add_route(self, method: str, path: str, handler: Handler, **kwargs: Any) -> Any:
        """Register `path` for `method`: local when leading (or kept local), else forwarded."""
        chosen = handler if (method, path) in self._keep else self._link.wrap(handler)
        return self._router.add_route(method, path, chosen, **kwargs)

    def add_get(self, path: str, handler: Handler, **kwargs: Any) -> Any:
        """GET (and HEAD, as aiohttp's add_get does)."""
        chosen = handler if ("GET", path) in self._keep else self._link.wrap(handler)
        return self._router.add_get(path, chosen, **kwargs)
