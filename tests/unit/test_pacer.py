"""The pacer's rules on a fake clock: spacing, decrease on throttle, slow increase, the period header, a floor."""

from __future__ import annotations

import pytest

from airflow_provider_analytics.source.http.pacer import DECREASE, INITIAL_WINDOW, Pacer, pacer_for

THROTTLED = {"X-RateLimit-State": "THROTTLED", "X-RateLimit-Period-In-Sec": "1"}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def pacer(rate=None) -> tuple[Pacer, Clock]:
    clock = Clock()
    return Pacer(rate, clock=clock, sleep=clock.sleep), clock


def send(p: Pacer, clock: Clock, status: int = 200, headers=None, took: float = 0.1) -> float:
    """One request: wait for budget, take `took` seconds, report the answer; returns the wait."""
    waited = p.acquire()
    sent = p.now()
    clock.now += took
    p.release(sent, status, headers or {})
    return waited


def test_a_configured_rate_spaces_requests_evenly():
    p, clock = pacer(5.0)
    start = clock.now
    for _ in range(10):
        send(p, clock, took=0.0)
    assert clock.now - start == pytest.approx(9 * 0.2)


def test_auto_sends_unpaced_until_the_first_throttle():
    p, clock = pacer()
    assert sum(send(p, clock, took=0.01) for _ in range(50)) == 0.0
    assert p.rate is None


def test_a_throttle_cuts_the_rate_from_what_the_account_accepted():
    p, clock = pacer()
    for _ in range(30):  # 30 accepted within the last second: the account takes about 30/s
        send(p, clock, took=1 / 30)
    send(p, clock, status=429, headers=THROTTLED, took=0.0)
    assert p.rate == pytest.approx(DECREASE * 30, rel=0.1)


def test_a_throttle_of_a_request_sent_before_the_last_cut_does_not_cut_again():
    p, clock = pacer(40.0)
    for _ in range(3):  # three requests in flight at once
        p.acquire()
    sent = p.now()
    clock.now += 0.05
    p.release(sent, 429, THROTTLED)
    after_first = p.rate
    p.release(sent, 429, THROTTLED)
    p.release(sent, 429, THROTTLED)
    assert p.rate == after_first < 40.0


def test_the_rate_grows_slowly_while_clean_and_never_past_the_configured_one():
    p, clock = pacer(10.0)
    send(p, clock, status=429, headers=THROTTLED)
    cut = p.rate
    for _ in range(20):  # about two seconds of clean answers
        send(p, clock, took=0.0)
    assert cut < p.rate < cut * 1.2  # additive: a little each second
    for _ in range(2000):
        send(p, clock, took=0.0)
    assert p.rate == 10.0


def test_a_longer_period_holds_every_request_until_it_ends():
    p, clock = pacer(10.0)
    send(p, clock, status=429, headers={"X-RateLimit-State": "THROTTLED", "X-RateLimit-Period-In-Sec": "60"})
    thrown_at = clock.now
    send(p, clock, took=0.0)
    assert clock.now - thrown_at >= 60.0 - 0.2


def test_never_below_one_request_per_period():
    p, clock = pacer(10.0)
    for _ in range(40):  # throttled again and again, in fresh rounds
        send(p, clock, status=429, headers=THROTTLED, took=0.0)
        clock.now += 2.0
    assert p.rate == pytest.approx(1.0)


def test_requests_in_flight_follow_the_rate():
    p, clock = pacer(5.0)
    send(p, clock, took=0.4)  # learns that a request takes 0.4 s
    assert p.max_in_flight == 3  # 5/s * 0.4 s, plus one
    unpaced, clock = pacer()
    assert unpaced.max_in_flight == INITIAL_WINDOW  # auto starts small ...
    for _ in range(10):
        send(unpaced, clock)
    assert unpaced.max_in_flight == INITIAL_WINDOW + 10  # ... and opens by one per answer until throttled


def test_one_pacer_per_account_and_rate_in_a_process():
    assert pacer_for("http://a/", "k", None) is pacer_for("http://a", "k", None)
    assert pacer_for("http://a", "k", None) is not pacer_for("http://a", "other", None)
    assert pacer_for("http://a", "k", None) is not pacer_for("http://a", "k", 5.0)


def test_the_pause_for_a_longer_period_is_capped_like_the_retry_wait():
    p, clock = pacer(10.0)
    waited = p.acquire()
    sent = p.now()
    p.release(sent, 429, {"X-RateLimit-Period-In-Sec": "60"}, max_pause=0.4)
    thrown_at = clock.now
    p.acquire()
    assert clock.now - thrown_at <= 0.4 + 1e-9 and waited == 0.0
