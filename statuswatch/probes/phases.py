"""Per-phase durations of one http check, as blackbox_exporter's probe_http_duration_seconds.

`resolve` (the name lookup), `connect` (the TCP handshake), `tls` (the TLS handshake),
`processing` (connection ready, request written, until the response headers are parsed) and
`transfer` (headers until the body is read). Each is summed over the hops of a redirect chain,
as blackbox does; a reused connection adds 0 to resolve, connect and tls. Only phases that
finished are reported: `transfer` only when the probe read the body (a body check), `tls` only
when the handshake could be told apart from TCP. Time waiting for a free connection slot
(`probing.max_connections`) is in no phase.
"""

from __future__ import annotations

from time import perf_counter

PHASES = ("resolve", "connect", "tls", "processing", "transfer")

Phases = tuple[tuple[str, float], ...]

# How far a check got: the phases up to there are reported.
_NONE, _RESOLVED, _CONNECTED, _HEADERS = 0, 1, 2, 3


class PhaseTimer:
    """The instants of one check's hops, folded into per-phase sums as they happen.

    Fed by the probe connector (probes/context.py: lookup, TCP, connection ready) and the http
    probe (headers, body); each method is one clock reading and a few additions, since it runs
    on the probe path of every http check.
    """

    __slots__ = (
        "_headers_at",
        "_looked_up",
        "_lookup_start",
        "_ready_at",
        "_tcp_at",
        "connect",
        "processing",
        "reached",
        "resolve",
        "tls",
        "tls_known",
        "transfer",
    )

    def __init__(self) -> None:
        self.resolve = self.connect = self.tls = self.processing = 0.0
        self.transfer: float | None = None
        self.tls_known = True
        self.reached = _NONE
        self._lookup_start = 0.0
        self._looked_up: float | None = None  # None: this hop made no new connection
        self._tcp_at: float | None = None
        self._ready_at: float | None = None
        self._headers_at: float | None = None

    def hop(self) -> None:
        """A request asks the connector for a connection."""
        self._looked_up = self._tcp_at = self._ready_at = self._headers_at = None

    def looking_up(self) -> None:
        """A new connection starts with the name lookup (a cache hit or an address is quick)."""
        self._lookup_start = perf_counter()

    def looked_up(self) -> None:
        """The lookup ended: the TCP handshake starts."""
        now = self._looked_up = perf_counter()
        self.resolve += now - self._lookup_start
        self.reached = max(self.reached, _RESOLVED)

    def tcp_connected(self) -> None:
        """The TCP handshake ended: the TLS handshake starts (https only)."""
        self._tcp_at = perf_counter()

    def ready(self, *, tls: bool) -> None:
        """The connector handed the request its connection (new, or reused from the pool)."""
        now = self._ready_at = perf_counter()
        looked_up = self._looked_up
        if looked_up is not None:  # a new connection; a reused one adds nothing here
            if not tls:
                self.connect += now - looked_up
            elif self._tcp_at is not None:
                self.connect += self._tcp_at - looked_up
                self.tls += now - self._tcp_at
            else:  # the TLS handshake could not be told apart from TCP: connect holds both
                self.connect += now - looked_up
                self.tls_known = False
        self.reached = max(self.reached, _CONNECTED)

    def headers(self) -> None:
        """The response's headers are in."""
        if self._ready_at is None:
            return
        now = self._headers_at = perf_counter()
        self.processing += now - self._ready_at
        self.reached = _HEADERS

    def body_read(self) -> None:
        """The probe finished reading the body."""
        if self._headers_at is not None:
            self.transfer = (self.transfer or 0.0) + perf_counter() - self._headers_at

    def result(self) -> Phases | None:
        """The finished phases in PHASES order, or None when the check finished none."""
        reached = self.reached
        if reached == _NONE:
            return None
        out = [("resolve", self.resolve)]
        if reached >= _CONNECTED:
            out.append(("connect", self.connect))
            if self.tls_known:
                out.append(("tls", self.tls))
        if reached >= _HEADERS:
            out.append(("processing", self.processing))
            if self.transfer is not None:
                out.append(("transfer", self.transfer))
        return tuple(out)
