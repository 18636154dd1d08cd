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
    ) -> None:
        super().__init__(message)
        self.error_class = error_class
        self.message = message
        self.status_code = status_code
        self.cert_expiry = cert_expiry
