"""Per-device rate limiting for the HTTP edge: one token bucket per device.

Each device earns ``rate`` events per second up to ``burst`` saved. A request is admitted
when every device in it has credit for its events; a batch larger than the burst is admitted
on a full bucket and overdraws it, and the debt delays that device's next request. A refused request
learns how many seconds to wait (``Retry-After``). The clock is injectable for tests.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping


class RateLimiter:
    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_devices: int = 100_000,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be > 0 events per second")
        self.rate = rate
        self.burst = max(1.0, rate if burst is None else burst)
        self.clock = clock
        self.max_devices = max_devices
        # device -> (tokens, time they were counted)
        self._buckets: dict[str, tuple[float, float]] = {}

    def _tokens(self, device: str, now: float) -> float:
        state = self._buckets.get(device)
        if state is None:
            return self.burst
        tokens, then = state
        return min(self.burst, tokens + (now - then) * self.rate)

    def admit(self, counts: Mapping[str, int]) -> float:
        """Take ``counts[device]`` tokens from each device, or none at all.

        Returns 0.0 when admitted, else the seconds to wait before retrying (> 0).
        """
        now = self.clock()
        wait = 0.0
        current: dict[str, float] = {}
        for device, n in counts.items():
            tokens = self._tokens(device, now)
            current[device] = tokens
            need = min(n, self.burst)
            if tokens < need:
                wait = max(wait, (need - tokens) / self.rate)
        if wait > 0:
            return wait
        if len(self._buckets) + len(counts) > self.max_devices:
            self._evict(now)
        for device, n in counts.items():
            self._buckets[device] = (current[device] - n, now)
        return 0.0

    def _evict(self, now: float) -> None:
        # Buckets that have refilled completely carry no information: forget them.
        full = [d for d in self._buckets if self._tokens(d, now) >= self.burst]
        for d in full:
            del self._buckets[d]


def retry_after_header(seconds: float) -> str:
    """``Retry-After`` takes whole seconds; round up so a client never retries too early."""
    return str(max(1, math.ceil(seconds)))
