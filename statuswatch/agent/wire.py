"""The upload format agents and the server share: one result, one batch, and their limits."""

from __future__ import annotations

from typing import Annotated

import msgspec

from statuswatch.config.durations import Duration
from statuswatch.probes.base import CheckResult
from statuswatch.probes.phases import PHASES

# Results per upload, and the bytes of a body: the app's client_max_size (413 beyond it).
MAX_RESULTS = 500
MAX_BODY = 64 * 1024
# A result this far past the server's clock is refused: no clock is that wrong honestly.
MAX_FUTURE = 300.0
_Text = Annotated[str, msgspec.Meta(max_length=1000)]
_Id = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class ResultIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    """One uploaded result, the fields of CheckResult (phases by name, in seconds); a field at
    its default is left out of what an agent sends (a third of the bytes of a passing check)."""

    monitor: str
    time: float
    ok: bool
    latency: float | None = None
    status_code: int | None = None
    error_class: _Text | None = None
    message: _Text = ""
    degraded: bool = False
    cert_expiry: float | None = None
    inconclusive: _Text | None = None
    phases: dict[str, float] | None = None

    def result(self, location: str) -> CheckResult:
        """The CheckResult it stands for, observed at `location`."""
        phases = None
        if self.phases is not None:
            phases = tuple((p, self.phases[p]) for p in PHASES if p in self.phases)
        return CheckResult(
            self.monitor,
            self.time,
            self.ok,
            self.latency,
            self.status_code,
            self.error_class,
            self.message,
            self.degraded,
            self.cert_expiry,
            self.inconclusive,
            phases,
            location,
        )


class Upload(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """POST /api/v1/agent/results."""

    location: str
    agent: _Id
    sent_at: float
    results: list[ResultIn]


def result_in(result: CheckResult) -> ResultIn:
    """A result as an agent uploads it."""
    return ResultIn(
        monitor=result.monitor_id,
        time=result.time,
        ok=result.ok,
        latency=result.latency,
        status_code=result.status_code,
        error_class=result.error_class,
        message=result.message,
        degraded=result.degraded,
        cert_expiry=result.cert_expiry,
        inconclusive=result.inconclusive,
        phases=None if result.phases is None else dict(result.phases),
    )


def seconds_hook(type_: type, obj: object) -> object:
    """msgspec dec_hook: a monitor's durations come as plain seconds (sent with enc_hook=float)."""
    if type_ is Duration and isinstance(obj, int | float) and not isinstance(obj, bool):
        return Duration(obj)
    raise NotImplementedError
