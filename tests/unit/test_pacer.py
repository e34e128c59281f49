"""The pacer's rules on a fake clock: spacing, decrease on throttle, recovery, hold, probing, the
period header, a floor, requests in flight and their order."""

from __future__ import annotations

import pytest

from airflow_provider_analytics.source.http.pacer import (
    DECREASE,
    DOUBLING_SECONDS,
    ESTIMATE_SECONDS,
    HOLD_SECONDS,
    INITIAL_WINDOW,
    MAX_HOLD_SECONDS,
    RECOVERY_SECONDS,
    Pacer,
    pacer_for,
)

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


def clean_for(p: Pacer, clock: Clock, seconds: float) -> None:
    """Answers accepted as fast as the pacer lets requests go, for `seconds`."""
    end = clock.now + seconds
    while clock.now < end:
        send(p, clock, took=0.0)


def throttled_at_steady_rate(rate: float = 20.0) -> tuple[Pacer, Clock]:
    """A pacer that sent `rate` requests a second, all accepted, for a while, then was throttled.

    Its configured ceiling (50 times more) only keeps the probing loops of these tests finite.
    """
    p, clock = pacer(50 * rate)
    for _ in range(int(rate * 10)):
        send(p, clock, took=1.0 / rate)
    send(p, clock, status=429, headers=THROTTLED, took=0.0)
    return p, clock


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


def test_the_first_throttle_paces_below_what_the_account_accepted_less_a_seconds_burst():
    p, clock = pacer()
    for _ in range(30):  # 30 accepted within half a second: a burst saved up plus the budget
        send(p, clock, took=0.5 / 30)
    send(p, clock, status=429, headers=THROTTLED, took=0.0)
    assert p.rate == pytest.approx(DECREASE * 30 / (0.5 + 1.0), rel=0.05)


def test_a_later_throttle_cuts_from_what_was_accepted_over_the_last_seconds():
    p, clock = throttled_at_steady_rate(20.0)
    clean_for(p, clock, RECOVERY_SECONDS + HOLD_SECONDS / 2)  # back at the ceiling, holding it
    before = p.rate
    clock.now += 1.0  # the account answers slower now: another task shares the budget
    send(p, clock, status=429, headers=THROTTLED, took=0.0)
    assert p.rate < DECREASE * before + 1e-9


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


def test_throttles_within_a_period_of_the_cut_belong_to_its_round():
    p, clock = pacer(40.0)
    send(p, clock, status=429, headers=THROTTLED, took=0.0)
    cut = p.rate
    send(p, clock, status=429, headers=THROTTLED, took=0.1)  # sent after the cut, but the budget was overdrawn
    assert p.rate == cut
    clock.now += 1.0
    send(p, clock, status=429, headers=THROTTLED, took=0.0)
    assert p.rate < cut


def test_after_a_throttle_the_rate_recovers_to_the_ceiling_holds_it_then_probes_above_it():
    p, clock = throttled_at_steady_rate(20.0)
    cut = p.rate
    ceiling = cut / DECREASE
    clean_for(p, clock, RECOVERY_SECONDS / 2)
    assert cut < p.rate < ceiling  # on its way back
    clean_for(p, clock, RECOVERY_SECONDS / 2 + HOLD_SECONDS / 2)
    assert p.rate == pytest.approx(ceiling, rel=0.02)  # back, and holding
    clean_for(p, clock, HOLD_SECONDS / 2 + 2 * DOUBLING_SECONDS)
    assert p.rate == pytest.approx(4 * ceiling, rel=0.15)  # probing: doubling while clean


def test_the_rate_never_passes_the_configured_one():
    p, clock = pacer(10.0)
    send(p, clock, status=429, headers=THROTTLED)
    clean_for(p, clock, RECOVERY_SECONDS + HOLD_SECONDS + 10 * DOUBLING_SECONDS)
    assert p.rate == 10.0


def test_the_rate_does_not_run_far_ahead_of_what_is_sent():
    p, clock = throttled_at_steady_rate(20.0)
    end = clock.now + RECOVERY_SECONDS + HOLD_SECONDS + 10 * DOUBLING_SECONDS
    while clock.now < end:  # one request a second: a sequential phase of the sync
        send(p, clock, took=1.0)
    assert p.rate < 20.0 * 1.2  # no credit for budget it never used


def test_a_failed_probe_keeps_the_ceiling_and_waits_longer_before_the_next():
    p, clock = throttled_at_steady_rate(20.0)
    ceiling = p.rate / DECREASE
    clean_for(p, clock, RECOVERY_SECONDS + HOLD_SECONDS + DOUBLING_SECONDS / 2)  # probing above the ceiling
    clock.now += ESTIMATE_SECONDS  # quiet, so what was accepted lately is no more than the ceiling
    send(p, clock, status=429, headers=THROTTLED, took=0.0)
    assert p.rate == pytest.approx(DECREASE * ceiling, rel=0.02)
    clean_for(p, clock, RECOVERY_SECONDS + 2 * HOLD_SECONDS - 0.1)
    assert p.rate == pytest.approx(ceiling, rel=0.02)  # still holding: the hold doubled


def test_the_hold_grows_to_a_limit():
    p, clock = throttled_at_steady_rate(20.0)
    ceiling = p.rate / DECREASE
    hold = HOLD_SECONDS
    while hold < MAX_HOLD_SECONDS:  # every probe fails
        clean_for(p, clock, RECOVERY_SECONDS + hold - 0.1)
        assert p.rate == pytest.approx(ceiling, rel=0.02)
        clean_for(p, clock, 0.1 + DOUBLING_SECONDS / 4)
        assert p.rate > ceiling
        clock.now += ESTIMATE_SECONDS
        send(p, clock, status=429, headers=THROTTLED, took=0.0)
        hold = min(2 * hold, MAX_HOLD_SECONDS)
    clean_for(p, clock, RECOVERY_SECONDS + MAX_HOLD_SECONDS - 0.5)
    assert p.rate == pytest.approx(ceiling, rel=0.02)
    clean_for(p, clock, 0.5 + DOUBLING_SECONDS)
    assert p.rate > 1.5 * ceiling  # it still probes, a limited while after the last throttle


def test_a_probe_that_finds_budget_raises_the_ceiling():
    p, clock = throttled_at_steady_rate(10.0)
    ceiling = p.rate / DECREASE
    clean_for(p, clock, RECOVERY_SECONDS + HOLD_SECONDS + 3 * DOUBLING_SECONDS)  # another task ended
    send(p, clock, status=429, headers=THROTTLED, took=0.0)
    assert p.rate > 2 * ceiling


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


def test_auto_starts_with_a_small_window_and_opens_it_only_while_it_is_in_use():
    p, clock = pacer()
    assert p.max_in_flight == INITIAL_WINDOW
    for _ in range(20):  # one request at a time: the window is not what limits
        send(p, clock)
    assert p.max_in_flight == INITIAL_WINDOW
    for _ in range(20):  # rounds that fill the window: it opens
        width = p.max_in_flight
        sent = []
        for _ in range(width):
            p.acquire()
            sent.append(p.now())
        clock.now += 0.1
        for at in sent:
            p.release(at, 200, {})
    assert p.max_in_flight > 4 * INITIAL_WINDOW


def test_a_slot_taken_before_a_cut_is_spaced_at_the_new_rate():
    p, clock = pacer(10.0)
    send(p, clock, took=0.1)  # the latency is known
    first = p.acquire(), p.now()
    ticket = p._queue_up()
    start, cut_seen = p._take_place(ticket, clock.now)  # a second slot, 0.1 s on at 10/s
    clock.now += 0.05
    cut_at = clock.now
    p.release(first[1], 429, THROTTLED)  # the first one is throttled: the rate drops
    clock.now = start
    new_start, _ = p._slot_after_cut(cut_seen, start, clock.now)
    assert new_start >= cut_at + 1.0 / p.rate - 1e-9 > start


def test_places_in_flight_go_first_come_first_served():
    p, clock = pacer(100.0)
    send(p, clock, took=0.01)  # 100/s * 0.01 s + 1: two places
    a, b = p._queue_up(), p._queue_up()
    assert p._take_place(b, clock.now) is None  # b came after a
    assert p._take_place(a, clock.now) is not None
    assert p._take_place(b, clock.now) is not None


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


def stopped(seconds: float) -> None:
    raise KeyboardInterrupt  # the task is stopped while the request waits


def test_a_request_stopped_while_waiting_for_a_place_gives_back_its_turn():
    p, clock = pacer(100.0)
    send(p, clock, took=0.01)  # 100/s * 0.01 s, plus one: two places
    p.acquire()
    p.acquire()
    p._sleep = stopped
    with pytest.raises(KeyboardInterrupt):
        p.acquire()
    p.release(p.now(), 200, {})
    assert p._take_place(p._queue_up(), clock.now) is not None  # the line did not wait on it


def test_a_request_stopped_while_waiting_for_its_slot_gives_back_its_place():
    p, clock = pacer(1.0)
    p.acquire()  # the next slot is a second away
    p._sleep = stopped
    with pytest.raises(KeyboardInterrupt):
        p.acquire()
    assert p._in_flight == 1


def test_hours_without_a_throttle_keep_the_rate_finite():
    p, clock = throttled_at_steady_rate(20.0)
    clock.now += 6 * 3600.0  # a long quiet stretch, then requests again
    send(p, clock, took=0.0)
    assert 0 < p.rate <= 50 * 20.0
