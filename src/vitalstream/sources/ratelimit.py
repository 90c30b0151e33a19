"""Rate limiting for the HTTP edge: one token bucket per caller (the API key's principal).

Each caller earns ``rate`` events per second up to ``burst`` saved. A request is admitted
when its caller has credit for *every* event in it, valid or not, and takes that many tokens;
a batch larger than the whole bucket can never be admitted (the server answers 413: send
smaller batches). A refused request learns how many seconds to wait (``Retry-After``). The
clock is injectable for tests.
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
        max_buckets: int = 100_000,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be > 0 events per second")
        self.rate = rate
        self.burst = max(1.0, rate if burst is None else burst)
        self.clock = clock
        self.max_buckets = max_buckets
        # caller -> (tokens, time they were counted)
        self._buckets: dict[str, tuple[float, float]] = {}

    def _tokens(self, name: str, now: float) -> float:
        state = self._buckets.get(name)
        if state is None:
            return self.burst
        tokens, then = state
        return min(self.burst, tokens + (now - then) * self.rate)

    def admit(self, counts: Mapping[str, int]) -> float:
        """Take ``counts[name]`` tokens from each bucket, or none at all.

        Returns 0.0 when admitted, else the seconds to wait before retrying (> 0; ``inf``
        when a count is larger than the bucket: see :meth:`fits`).
        """
        now = self.clock()
        wait = 0.0
        current: dict[str, float] = {}
        for name, n in counts.items():
            tokens = self._tokens(name, now)
            current[name] = tokens
            if n > self.burst:
                return math.inf
            if tokens < n:
                wait = max(wait, (n - tokens) / self.rate)
        if wait > 0:
            return wait
        if len(self._buckets) + len(counts) > self.max_buckets:
            self._evict(now)
        for name, n in counts.items():
            self._buckets[name] = (current[name] - n, now)
        return 0.0

    def fits(self, n: int) -> bool:
        """Whether ``n`` events can ever be admitted at once (a full bucket holds them)."""
        return n <= self.burst

    def _evict(self, now: float) -> None:
        # Buckets that have refilled completely carry no information: forget them.
        full = [d for d in self._buckets if self._tokens(d, now) >= self.burst]
        for d in full:
            del self._buckets[d]


def retry_after_header(seconds: float) -> str:
    """``Retry-After`` takes whole seconds; round up so a client never retries too early."""
    return str(max(1, math.ceil(seconds)))
