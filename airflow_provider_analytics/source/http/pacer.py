"""Pacing requests to one API account: spend its request budget without being throttled.

The API throttles per account (429, `X-RateLimit-State: THROTTLED`, `X-RateLimit-Period-In-Sec`)
and gives no "remaining" count, so a client learns its budget only from being throttled. A
`Pacer` spaces requests at a rate and adapts it much as TCP (CUBIC) adapts a window:

- **slow start** ("auto", no rate configured): unpaced, with `INITIAL_WINDOW` requests in flight,
  an eighth more for every answer while the window is full, until the first throttle;
- **multiplicative decrease** on a throttle: the *ceiling* becomes what the account accepted
  lately (since the slow start filled its window, or over the last `ESTIMATE_SECONDS`, less a
  one-second burst it may have saved up), and the rate `DECREASE` times that. Once per round:
  throttles of requests sent before the cut, or within a period of it, say nothing new;
- **recovery, hold, probe** while clean: back to the ceiling within `RECOVERY_SECONDS`, held for
  a while, then doubling every `DOUBLING_SECONDS`, so budget another task has freed is found
  within seconds. A probe that is throttled without finding more keeps the ceiling and doubles
  the hold (up to `MAX_HOLD_SECONDS`): an account held at its budget is throttled seldom;
- never above the connection's `max_requests_per_second`, never far above what is actually
  sent, never below one request per period; a throttle that names a period longer than a
  second (a minute window spent) holds every request for that period.

Requests in flight are capped too (`max_in_flight`): the rate times the time a request takes,
plus one, so parallel slices queue here, first come first served, instead of piling onto the
account. A slot taken before a cut is taken again at the new rate. All requests to one account
from one process share its pacer (`pacer_for`); parallel tasks in other processes each react to
the same throttles, which shares the budget out between them (see docs/request-budget.md).
"""

from __future__ import annotations

import hashlib
import itertools
import math
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Callable, Optional

__all__ = ["DECREASE", "DOUBLING_SECONDS", "ESTIMATE_SECONDS", "HOLD_SECONDS", "INITIAL_WINDOW", "MAX_HOLD_SECONDS",
           "RECOVERY_SECONDS", "Pacer", "PacerStats", "is_throttle", "pacer_for"]

#: A throttle sets the rate to this share of what the account accepted.
DECREASE = 0.8
#: A throttle's estimate of the budget counts what was accepted over the last this many seconds.
ESTIMATE_SECONDS = 2.0
#: A probe that finds this much more than the ceiling found budget; less, and the ceiling stands.
FOUND = 1.25
#: After a throttle, seconds to grow back to the rate the account accepted ...
RECOVERY_SECONDS = 2.0
#: ... seconds to hold it ...
HOLD_SECONDS = 1.0
#: (doubled after each probe that is throttled, up to this) ...
MAX_HOLD_SECONDS = 32.0
#: ... and then, while clean, seconds for each doubling above it.
DOUBLING_SECONDS = 2.0
#: Requests in flight when "auto" starts ...
INITIAL_WINDOW = 2
#: ... growing by this much for every answer while the window is full (x1.125 a round trip).
SLOW_START_GROWTH = 0.125
THROTTLED_STATE = "THROTTLED"
#: How often a request waiting for a place in flight looks again.
_POLL_SECONDS = 0.005


@dataclass
class PacerStats:
    """What the pacer did for one run's requests."""

    requests: int = 0
    throttled: int = 0
    wait_seconds: float = 0.0
    #: when the first request was let go and the last answer came (the pacer's clock)
    first_sent: Optional[float] = None
    last_answered: Optional[float] = None

    def __deepcopy__(self, memo: dict) -> "PacerStats":
        return self  # dlt copies the session it is given: the copy counts into the same stats

    @property
    def request_seconds(self) -> float:
        """From the first request to the last answer: the part of a sync the budget bounds."""
        if self.first_sent is None or self.last_answered is None:
            return 0.0
        return max(self.last_answered - self.first_sent, 0.0)

    def add(self, other: "PacerStats") -> None:
        """Count another session's requests in with these."""
        self.requests += other.requests
        self.throttled += other.throttled
        self.wait_seconds += other.wait_seconds
        if other.first_sent is not None:
            self.first_sent = min(other.first_sent, self.first_sent if self.first_sent is not None else math.inf)
        if other.last_answered is not None:
            self.last_answered = max(other.last_answered, self.last_answered or -math.inf)


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
        self._cut_at = -math.inf
        self._ceiling: Optional[float] = None
        self._hold = HOLD_SECONDS
        self._accepted: deque[float] = deque()
        self._latency = 0.0
        self._in_flight = 0
        self._window = float(INITIAL_WINDOW)
        self._window_filled_at = -math.inf
        self._busy_since: Optional[float] = None
        self._tickets = itertools.count()
        self._waiting: deque[int] = deque()

    def __deepcopy__(self, memo: dict) -> "Pacer":
        return self  # one pacer per account: a copied session paces with it, not with a copy

    # -- before a request ----------------------------------------------------------------

    def acquire(self) -> float:
        """Wait for a place among the requests in flight and for the next slot at the rate.

        Places go first come, first served: a slice whose answer just came does not take the place
        another slice has been waiting for. Returns the seconds waited.
        """
        ticket = self._queue_up()
        waited, place = 0.0, None
        try:
            while place is None:
                now = self._clock()
                place = self._take_place(ticket, now)
                if place is None:
                    self._sleep(_POLL_SECONDS)  # a request in flight answers within its timeout
                    waited += _POLL_SECONDS
            start, cut_seen = place
            while start > now:
                self._sleep(start - now)
                waited += start - now
                now = self._clock()
                start, cut_seen = self._slot_after_cut(cut_seen, start, now)
        except BaseException:  # interrupted (the task is stopped): give back the place or the turn
            self._give_up(ticket, place is not None)
            raise
        return waited

    def _give_up(self, ticket: int, placed: bool) -> None:
        with self._lock:
            if placed:
                self._in_flight = max(0, self._in_flight - 1)
            elif ticket in self._waiting:
                self._waiting.remove(ticket)

    def _queue_up(self) -> int:
        with self._lock:
            ticket = next(self._tickets)
            self._waiting.append(ticket)
            return ticket

    def _take_place(self, ticket: int, now: float) -> Optional[tuple[float, float]]:
        """When to send (and the last cut then), once `ticket` is first in line and a place is free."""
        with self._lock:
            if self._waiting[0] != ticket or self._in_flight >= self.max_in_flight:
                return None
            self._waiting.popleft()
            self._in_flight += 1
            if self._in_flight >= self.max_in_flight:
                self._window_filled_at = now
                if self._busy_since is None:  # from now on requests go as fast as the window lets them
                    self._busy_since = now
            return self._next_slot(now), self._cut_at

    def _slot_after_cut(self, cut_seen: float, start: float, now: float) -> tuple[float, float]:
        """A slot taken before a cut was spaced at the old rate: take a new one at the new rate."""
        with self._lock:
            if self._cut_at <= cut_seen:
                return min(start, now), cut_seen
            return self._next_slot(now), self._cut_at

    def _next_slot(self, now: float) -> float:
        start = max(now, self._next_at, self._paused_until)
        if self.rate is not None:
            self._next_at = start + 1.0 / self.rate
        return start

    @property
    def max_in_flight(self) -> int:
        """Requests allowed at once: the slow-start window while unpaced, else what the rate keeps busy."""
        if self.rate is None:
            return int(self._window)
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
        throttled = is_throttle(status, headers)
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)
            elapsed = max(now - sent_at, 0.0)
            self._latency = elapsed if self._latency <= 0 else 0.8 * self._latency + 0.2 * elapsed
            if throttled:
                self._on_throttle(sent_at, now, _period(headers), max_pause)
            elif status is not None and status < 400:
                self._on_accepted(now, window_full=self._window_filled_at >= sent_at)
        return throttled

    def _on_throttle(self, sent_at: float, now: float, period: float, max_pause: float) -> None:
        floor = 1.0 / min(period, max_pause) if max_pause > 0 else 1.0 / period
        if period > 1.0:  # a longer window is spent: nothing passes before it ends
            self._paused_until = max(self._paused_until, now + min(period, max_pause))
        if sent_at < self._cut_at or now < self._cut_at + period:
            return  # sent at the old rate, or the budget overdrawn before the cut: this round was cut
        if self.rate is None:  # the first throttle ends the slow start
            base = self._accepted_since(self._busy_since if self._busy_since is not None else -math.inf, now)
        else:
            accepted = self._accepted_since(now - ESTIMATE_SECONDS, now)
            base = min(self.rate, accepted or self.rate)
            if self._ceiling is not None and now - self._cut_at > RECOVERY_SECONDS + self._hold:
                if accepted > FOUND * self._ceiling:  # a probe found budget (another task's, freed)
                    self._hold = HOLD_SECONDS
                else:  # the ceiling stands; the next probe waits longer
                    base = max(base, self._ceiling)
                    self._hold = min(2.0 * self._hold, MAX_HOLD_SECONDS)
        self._ceiling = max(floor, base)
        self.rate = max(floor, DECREASE * base)
        self._cut_at = now
        self._next_at = max(self._next_at, now + 1.0 / self.rate)

    def _on_accepted(self, now: float, window_full: bool) -> None:
        self._accepted.append(now)
        while self._accepted and self._accepted[0] < now - 60.0:
            self._accepted.popleft()
        if self.rate is None:
            if window_full:  # only a window in use is known to be safe to open further
                self._window += SLOW_START_GROWTH
            return
        if self._ceiling is None:  # a configured rate, never throttled: nothing to learn
            return
        grown = self._ceiling * _growth(now - self._cut_at, self._hold)
        in_use = 2.0 * self._count_since(now - 1.0)  # a rate far above what is sent proves nothing
        grown = min(grown, max(self.rate, in_use))
        self.rate = min(grown, self.max_rate) if self.max_rate is not None else grown

    def _accepted_since(self, since: float, now: float) -> float:
        """Answers accepted per second since `since` (at most the last minute), allowing for a
        one-second burst the account may have had saved up; 0.0 when none were."""
        since = max(since, now - 60.0, self._accepted[0] if self._accepted else now)
        return self._count_since(since) / (now - since + 1.0)

    def _count_since(self, since: float) -> int:
        count = 0
        for at in reversed(self._accepted):  # newest first: stop at the first one too old
            if at < since:
                break
            count += 1
        return count

    def now(self) -> float:
        return self._clock()


def _growth(since_cut: float, hold: float) -> float:
    """The rate, as a share of the ceiling the last throttle found, `since_cut` seconds after it.

    Back up to the ceiling quickly and gently (the account took that much), hold it a while,
    then probe above it doubling every `DOUBLING_SECONDS`: budget another task has freed is
    taken back within seconds, while an account held at its ceiling is throttled seldom.
    """
    if since_cut < RECOVERY_SECONDS:
        return 1.0 - (1.0 - DECREASE) * ((RECOVERY_SECONDS - since_cut) / RECOVERY_SECONDS) ** 3
    probing = since_cut - RECOVERY_SECONDS - hold
    return 1.0 if probing <= 0 else 2.0 ** min(probing / DOUBLING_SECONDS, 64.0)  # hours clean stay finite


def is_throttle(status: Optional[int], headers: Optional[Mapping[str, str]]) -> bool:
    """A 429, or any answer saying `X-RateLimit-State: THROTTLED`."""
    return status == 429 or (headers is not None and
                             str(headers.get("X-RateLimit-State", "")).upper() == THROTTLED_STATE)


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
