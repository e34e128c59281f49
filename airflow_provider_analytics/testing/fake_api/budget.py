"""The account's request budget: a token bucket, as the vendor throttles (429 with its rate-limit headers).

The vendor keeps buckets per account and domain in second and minute windows; the fake keeps one
per account (every request spends from it), which is what a sync shares with everything else.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Optional

#: What the vendor answers when the budget is spent (body and headers as documented).
THROTTLED_MESSAGE = "You are making too many requests! To avoid errors, please reduce your request rate."


class RequestBudget:
    """A token bucket: `rate` requests a second, up to `burst` at once.

    :param rate: requests per second the account may make on average.
    :param burst: requests the bucket holds when full (default: one second's worth).
    :param period_seconds: what a throttled answer says to wait (`X-RateLimit-Period-In-Sec`).
    """

    def __init__(self, rate: float, burst: Optional[float] = None, period_seconds: int = 1,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError("rate must be > 0")
        self.rate = float(rate)
        self.burst = float(burst if burst is not None else max(rate, 1.0))
        self.period_seconds = period_seconds
        self._clock = clock
        self._tokens = self.burst
        self._at = clock()
        self._lock = threading.Lock()
        self.allowed = 0
        self.throttled = 0

    def take(self) -> bool:
        """Spend one request; False (throttled) when the bucket is empty."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
            self._at = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                self.allowed += 1
                return True
            self.throttled += 1
            return False

    def throttled_headers(self) -> dict[str, str]:
        return {"X-RateLimit-State": "THROTTLED", "X-RateLimit-Reason": "ACCOUNT",
                "X-RateLimit-Period-In-Sec": str(self.period_seconds)}
