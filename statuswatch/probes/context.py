"""Resources probes share for the life of the service: HTTP sessions, TLS contexts, resolvers."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp

from statuswatch.clock import Clock
from statuswatch.probes.inconclusive import ResolverHealth
from statuswatch.probes.phases import PhaseTimer
from statuswatch.probes.proxies import EnvProxies

if TYPE_CHECKING:
    import dns.asyncresolver


# Set by the http probe around a request: the connector hands it the TLS object of the
# connection the request got. aiohttp releases (and with force_close closes) a connection as
# soon as a small body has arrived, so the response alone cannot show the peer certificate.
# connect() runs in the requesting task, so each probe sees only its own connections.
tls_peer_hook: ContextVar[Callable[[ssl.SSLObject | None], None] | None] = ContextVar(
    "tls_peer_hook", default=None
)


@dataclass(slots=True)
class Attempt:
    """What the runner needs to know about one check in progress."""

    # The resolver a lookup under way depends on (a dns monitor's `server`, None for the
    # system's), or False outside a lookup: a deadline during a lookup may be the resolver's.
    resolver: str | bool | None = False
    # The http probe's per-phase clock, fed by the connector below; None for other kinds.
    phases: PhaseTimer | None = None


# Set by run_probe for each check (each probe runs in its own task, so each sees its own).
current_attempt: ContextVar[Attempt | None] = ContextVar("current_attempt", default=None)


def mark_resolving(on: bool, server: str | None = None) -> None:
    """Note that the current check starts (True) or ends (False) a lookup through `server`."""
    attempt = current_attempt.get()
    if attempt is not None:
        attempt.resolver = server if on else False


class _PeerAwareConnector(aiohttp.TCPConnector):
    """A TCPConnector that shows each connection's TLS object to the probe that asked."""

    # The signature aiohttp calls (timeout= included), hence the noqa.
    async def connect(
        self,
        req: Any,
        traces: Any,
        timeout: Any,  # noqa: ASYNC109
    ) -> aiohttp.connector.Connection:
        attempt = current_attempt.get()
        timer = None if attempt is None else attempt.phases
        if timer is not None:
            timer.hop()
        conn = await super().connect(req, traces=traces, timeout=timeout)
        if timer is not None:
            timer.ready(tls=req.is_ssl())
        hook = tls_peer_hook.get()
        if hook is not None and conn.transport is not None:
            hook(conn.transport.get_extra_info("ssl_object"))
        return conn

    async def _resolve_host(self, host: str, port: int, traces: Any = None) -> Any:
        # Waiting on another request's lookup of the same name is a lookup too. Only a lookup
        # that finished clears the mark: a deadline that cancels it must still see it.
        attempt = current_attempt.get()
        timer = None if attempt is None else attempt.phases
        if timer is not None:
            timer.looking_up()
        mark_resolving(True)
        addresses = await super()._resolve_host(host, port, traces)
        mark_resolving(False)
        if timer is not None:
            timer.looked_up()
        return addresses

    async def _wrap_create_connection(
        self, factory: Callable[[], Any], *args: Any, **kwargs: Any
    ) -> Any:
        # aiohttp opens the TCP socket (aiohappyeyeballs), then hands it to
        # loop.create_connection(sock=...), which builds the protocol (calls `factory`) before
        # it starts the TLS handshake: that call is the instant TCP ended and TLS began.
        attempt = current_attempt.get()
        timer = None if attempt is None else attempt.phases
        if timer is None or not kwargs.get("ssl"):
            return await super()._wrap_create_connection(factory, *args, **kwargs)

        tcp_connected = timer.tcp_connected

        def marked() -> Any:
            tcp_connected()
            return factory()

        return await super()._wrap_create_connection(marked, *args, **kwargs)


class ProbeContext:
    """Opened once by the service (or a test), passed to every probe, closed at shutdown."""

    def __init__(self, clock: Clock, *, max_connections: int = 0, trust_env: bool = False) -> None:
        self.clock = clock
        self.max_connections = max_connections
        # HTTP(S)_PROXY / NO_PROXY from the environment, read once (an agent behind an egress
        # proxy); the central process connects directly, as it always has.
        self.proxies = EnvProxies() if trust_env else None
        # Last time each push monitor was pushed to (epoch seconds); seeded from the database
        # at start-up and by the service's start time for monitors never pushed to.
        self.last_push: dict[str, float] = {}
        self.started_at = clock.time()
        self._sessions: dict[bool, aiohttp.ClientSession] = {}
        self._ssl: dict[tuple[bool, str | None], ssl.SSLContext] = {}
        self._resolvers: dict[str | None, dns.asyncresolver.Resolver] = {}
        self.resolver_health = ResolverHealth(clock)

    def session(self, *, reuse: bool) -> aiohttp.ClientSession:
        """The shared client session: fresh connection per request unless `reuse`."""
        session = self._sessions.get(reuse)
        if session is None:
            connector = _PeerAwareConnector(
                force_close=not reuse,
                limit=self.max_connections,
                ttl_dns_cache=60,
                enable_cleanup_closed=False,
            )
            session = aiohttp.ClientSession(
                connector=connector,
                # The probe runner owns the deadline; aiohttp's own 5-minute default must not cut
                # in first or differently.
                timeout=aiohttp.ClientTimeout(total=None),
                auto_decompress=False,
                cookie_jar=aiohttp.DummyCookieJar(),
                headers={"User-Agent": "statuswatch/0.1 (+uptime monitor)"},
                skip_auto_headers=("Accept-Encoding",),
                # Never: aiohttp would re-read the environment and ~/.netrc for every request.
                trust_env=False,
            )
            self._sessions[reuse] = session
        return session

    def ssl_context(self, *, verify: bool, ca_file: str | None) -> ssl.SSLContext:
        """A cached client TLS context (building one costs ~1 ms; probes run thousands a minute)."""
        key = (verify, ca_file)
        ctx = self._ssl.get(key)
        if ctx is None:
            ctx = ssl.create_default_context(cafile=ca_file)
            if not verify:
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            self._ssl[key] = ctx
        return ctx

    def resolver(self, server: str | None) -> dns.asyncresolver.Resolver:
        """A dnspython resolver for `server` ("host" or "host:port"), or the system's."""
        res = self._resolvers.get(server)
        if res is None:
            import dns.asyncresolver

            if server is None:
                res = dns.asyncresolver.Resolver()
            else:
                res = dns.asyncresolver.Resolver(configure=False)
                host, _, port = (
                    server.rpartition(":") if server.count(":") == 1 else (server, "", "")
                )
                res.nameservers = [host or server]
                if port:
                    res.port = int(port)
            self._resolvers[server] = res
        return res

    async def close(self) -> None:
        for session in self._sessions.values():
            await session.close()
        self._sessions.clear()
