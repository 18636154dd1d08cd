"""What every probe kind shares: the result type, error classes and the failure exception."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ErrorClass(StrEnum):
    TIMEOUT = "timeout"  # the hard deadline passed
    CONNECT = "connect"  # refused, reset, unreachable
    DNS = "dns"  # the target's name did not resolve (http/tcp/tls)
    DNS_NXDOMAIN = "dns_nxdomain"  # dns monitor: the name does not exist
    DNS_SERVFAIL = "dns_servfail"  # dns monitor: the server failed
    DNS_ANSWER = "dns_answer"  # dns monitor: answered, but not what was expected
    TLS = "tls"  # handshake failed, certificate invalid, expired or for another host
    HTTP_STATUS = "http_status"  # status code not in expect_status
    BODY = "body"  # body text, regex or JSON field did not match
    TOO_MANY_REDIRECTS = "too_many_redirects"
    TOO_LARGE = "too_large"  # the response passed the byte cap before the check could run
    PROTOCOL = "protocol"  # garbage instead of HTTP, bad encoding, unexpected TCP reply
    MISSED_PUSH = "missed_push"  # push monitor: silence past interval + grace
    REPORTED_DOWN = "reported_down"  # push monitor: the job said status=down
    INTERNAL = "internal"  # a bug in statuswatch; logged with its traceback


class Inconclusive(StrEnum):
    """Why a failed check says nothing about the target: statuswatch's own condition.

    Such a result is no evidence (SLA.md "Evidence"): it is unmonitored time with this reason,
    never a failure. The rules are in probes/inconclusive.py.
    """

    DESCRIPTORS = "descriptors"  # EMFILE / ENFILE: out of file descriptors
    MEMORY = "memory"  # ENOMEM / ENOBUFS / MemoryError: out of memory or socket buffers
    STALLED = "stalled"  # the event loop was blocked past the check's deadline
    RESOLVER = "resolver"  # statuswatch's own resolver answers nothing, for any name


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One probe's outcome. `time` is when the check started (UTC epoch seconds)."""

    monitor_id: str
    time: float
    ok: bool
    latency: float | None = None
    status_code: int | None = None
    error_class: str | None = None
    message: str = ""
    degraded: bool = False
    cert_expiry: float | None = None
    # An Inconclusive reason when the failure was statuswatch's own (then `ok` is False and
    # `error_class` is what the probe saw, but the result is no evidence about the target).
    inconclusive: str | None = None
    # The http check's per-phase durations in seconds, (phase, seconds) in PHASES order
    # (probes/phases.py): only the phases it finished; None for other kinds and for a check
    # that failed before finishing any.
    phases: tuple[tuple[str, float], ...] | None = None
    # Where the check ran: "local" (store.models.LOCAL, this process) or an agent's location.
    location: str = "local"


@dataclass(frozen=True, slots=True)
class Observation:
    """What a passing probe saw; the runner adds monitor id, time and latency."""

    status_code: int | None = None
    degraded: bool = False
    message: str = ""
    cert_expiry: float | None = None


class ProbeFailure(Exception):
    """Raised by a probe when the target fails a check; carries the error class."""

    def __init__(
        self,
        error_class: ErrorClass,
        message: str,
        *,
        status_code: int | None = None,
        cert_expiry: float | None = None,
        resolver: str | bool | None = False,
    ) -> None:
        super().__init__(message)
        self.error_class = error_class
        self.message = message
        self.status_code = status_code
        self.cert_expiry = cert_expiry
        # The resolver whose silence may be the cause (a dns monitor's `server`, None for the
        # system's), or False when the failure is an answer about the target itself.
        self.resolver = resolver
