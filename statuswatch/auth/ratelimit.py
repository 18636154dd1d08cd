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
        tokens = self._refilled(self._buckets.pop(key, (self._burst, now)), now)
        allowed = tokens >= 1.0
        self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
        if len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)  # forget the least recently seen client
        return allowed

    def wait(self, key: str) -> float:
        """Seconds until `key` has a token again (0: it has one); spends and stores nothing."""
        if (bucket := self._buckets.get(key)) is None:
            return 0.0
        tokens = self._refilled(bucket, self._clock.monotonic())
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self._rate

    def _refilled(self, bucket: tuple[float, float], now: float) -> float:
        tokens, last = bucket
        return min(self._burst, tokens + (now - last) * self._rate)
