"""Pacing requests to one API account: spend its request budget without being throttled.

The API throttles per account (429, `X-RateLimit-State: THROTTLED`, `X-RateLimit-Period-In-Sec`)
and gives no "remaining" count, so a client learns its budget only from being throttled. A
`Pacer` spaces requests at a rate and adapts it the way TCP adapts a window:

- **multiplicative decrease** on a throttle, from the rate the account actually accepted in the
  last period (or the current rate, whichever is lower), once per round: a throttle of a request
  sent before the last decrease says nothing new;
- **additive increase** while clean: a little more each second, never above the connection's
  `max_requests_per_second` when it gives one;
- a throttle that names a period longer than a second (a minute window spent) holds every
  request for that period; never below one request per period.

Requests in flight are capped too (`max_in_flight`): the rate times the time a request takes,
plus one, so parallel slices queue here instead of piling onto the account. With no configured
rate ("auto") the pacer starts unpaced but with `INITIAL_WINDOW` requests in flight, one more
for every answer (doubling each round trip, as TCP's slow start), so a small budget is found
with a few throttles rather than a flood; from the first throttle on it paces at what it learnt. All requests to one account from one process share its pacer (`pacer_for`);
parallel tasks in other processes each react to the same throttles, which shares the budget out
between them (see docs/request-budget.md).
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Callable, Optional

__all__ = ["DECREASE", "INCREASE_PER_SECOND", "INITIAL_WINDOW", "Pacer", "PacerStats", "pacer_for"]

#: A throttle sets the rate to this share of what the account accepted.
DECREASE = 0.8
#: While clean, the rate grows by this share of itself (at least 0.1 request/s) each second.
INCREASE_PER_SECOND = 0.02
#: Requests in flight when "auto" starts; one more for each answer until the first throttle.
INITIAL_WINDOW = 2
THROTTLED_STATE = "THROTTLED"


@dataclass
class PacerStats:
    """What the pacer did for one run's requests."""

    requests: int = 0
    throttled: int = 0
    wait_seconds: float = 0.0

    def __deepcopy__(self, memo: dict) -> "PacerStats":
        return self  # dlt copies the session it is given: the copy counts into the same stats


class Pacer:
    """Spaces requests to one account at an adaptive rate; shared by every thread of a process.

    :param max_rate: requests per second never to exceed (None: "auto", learn it from throttling).
    :param clock: monotonic seconds; `sleep`: waits (both replaceable in tests).
    """

    def __init__(self, max_rate: Optional[float] = None, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], object] = time.sleep) -> None:
        if max_rate is not None and max_rate <= 0:
            raise ValueError("max_rate must be > 0 or None")
        self.max_rate = max_rate
        self.rate: Optional[float] = max_rate
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_at = 0.0
        self._paused_until = 0.0
        self._last_decrease = -math.inf
        self._last_increase = clock()
        self._accepted: deque[float] = deque()
        self._latency = 0.0
        self._in_flight = 0
        self._window = INITIAL_WINDOW

    def __deepcopy__(self, memo: dict) -> "Pacer":
        return self  # one pacer per account: a copied session paces with it, not with a copy

    # -- before a request ----------------------------------------------------------------

    def acquire(self) -> float:
        """Wait for a place among the requests in flight and for the next slot at the rate.

        Returns the seconds waited and when the request was let go (pass it back to `release`).
        """
        waited = 0.0
        while True:
            with self._lock:
                if self._in_flight < self.max_in_flight:
                    self._in_flight += 1
                    now = self._clock()
                    start = max(now, self._next_at, self._paused_until)
                    if self.rate is not None:
                        self._next_at = start + 1.0 / self.rate
                    break
            self._sleep(0.005)  # another request finishes within its timeout
            waited += 0.005
        if start > now:
            self._sleep(start - now)
            waited += start - now
        return waited

    @property
    def max_in_flight(self) -> int:
        """Requests allowed at once: the slow-start window while unpaced, else what the rate keeps busy."""
        if self.rate is None:
            return self._window
        if self._latency <= 0:
            return 1 << 30
        return max(1, math.ceil(self.rate * self._latency) + 1)

    # -- after a request -----------------------------------------------------------------

    def release(self, sent_at: float, status: Optional[int], headers: Optional[Mapping[str, str]],
                max_pause: float = math.inf) -> bool:
        """Learn from one answer (None: no answer); returns True when it was a throttle.

        :param max_pause: the longest the API's period may hold every request (the connection's
            `max_retry_wait`, which caps the throttled request's own wait too).
        """
        now = self._clock()
        throttled = status == 429 or (headers is not None and
                                      str(headers.get("X-RateLimit-State", "")).upper() == THROTTLED_STATE)
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)
            elapsed = max(now - sent_at, 0.0)
            self._latency = elapsed if self._latency <= 0 else 0.8 * self._latency + 0.2 * elapsed
            if throttled:
                self._on_throttle(sent_at, now, _period(headers), max_pause)
            elif status is not None and status < 400:
                self._on_accepted(now)
        return throttled

    def _on_throttle(self, sent_at: float, now: float, period: float, max_pause: float) -> None:
        floor = 1.0 / min(period, max_pause) if max_pause > 0 else 1.0 / period
        if period > 1.0:  # a longer window is spent: nothing passes before it ends
            self._paused_until = max(self._paused_until, now + min(period, max_pause))
        if sent_at < self._last_decrease:  # sent at the old rate: this round was already cut
            return
        accepted = self._accepted_rate(now, period)
        base = accepted if self.rate is None else min(self.rate, accepted or self.rate)
        self.rate = max(floor, DECREASE * base)
        self._last_decrease = now
        self._last_increase = now
        self._next_at = max(self._next_at, now + 1.0 / self.rate)

    def _on_accepted(self, now: float) -> None:
        if self.rate is None and self._window < 1 << 30:
            self._window += 1
        self._accepted.append(now)
        while self._accepted and self._accepted[0] < now - 60.0:
            self._accepted.popleft()
        if self.rate is None or now - self._last_increase < 1.0:
            return
        seconds = now - self._last_increase
        grown = self.rate + max(0.1, self.rate * INCREASE_PER_SECOND) * seconds
        self.rate = min(grown, self.max_rate) if self.max_rate is not None else grown
        self._last_increase = now

    def _accepted_rate(self, now: float, period: float) -> float:
        """Answers accepted per second over the last period, or over as much of it as has passed."""
        recent = [at for at in self._accepted if at > now - period]
        if not recent:
            return 0.0
        return len(recent) / max(1.0, now - recent[0])

    def now(self) -> float:
        return self._clock()


def _period(headers: Optional[Mapping[str, str]]) -> float:
    """`X-RateLimit-Period-In-Sec`, or one second."""
    try:
        value = float((headers or {}).get("X-RateLimit-Period-In-Sec") or 1.0)
    except (TypeError, ValueError):
        return 1.0
    return value if value > 0 else 1.0


_PACERS: dict[tuple[str, str, Optional[float]], Pacer] = {}
_PACERS_LOCK = threading.Lock()


def pacer_for(base_url: str, api_key: str, max_rate: Optional[float]) -> Pacer:
    """The one pacer of this process for an account (its base URL and key) and configured rate."""
    key = (base_url.rstrip("/"), hashlib.sha256(api_key.encode()).hexdigest(), max_rate)
    with _PACERS_LOCK:
        pacer = _PACERS.get(key)
        if pacer is None:
            pacer = _PACERS[key] = Pacer(max_rate)
        return pacer
