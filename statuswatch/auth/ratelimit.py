"""Token buckets per client, for anything a stranger can trigger (bad tokens, pushes)."""

from __future__ import annotations

from collections import OrderedDict

from statuswatch.clock import Clock


class RateLimiter:
    """Allow `burst` events per key at once, refilled at `rate` per second; memory is bounded."""

    def __init__(self, clock: Clock, *, rate: float, burst: int, max_keys: int = 10_000) -> None:
        self._clock = clock
        self._rate = rate
        self._burst = float(burst)
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def allow(self, key: str) -> bool:
        """Spend one token for `key`; False when its bucket is empty."""
        now = self._clock.monotonic()
        tokens, last = self._buckets.pop(key, (self._burst, now))
        tokens = min(self._burst, tokens + (now - last) * self._rate)
        allowed = tokens >= 1.0
        self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
        if len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)  # forget the least recently seen client
        return allowed
