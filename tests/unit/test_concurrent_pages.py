"""concurrent_pages: every page of every window once, a cap on workers, errors and early stops."""

from __future__ import annotations

import threading
import time

import pytest

from airflow_provider_analytics.source.builtin.concurrent_pages import concurrent_pages


def test_every_page_of_every_window_arrives_once_with_at_most_max_workers_in_flight():
    active, peak, lock = [0], [0], threading.Lock()

    def walk(window):
        for page in range(3):
            with lock:
                active[0] += 1
                peak[0] = max(peak[0], active[0])
            time.sleep(0.02)
            with lock:
                active[0] -= 1
            yield [(window, page)]

    pages = [item for page in concurrent_pages(range(10), walk, max_workers=3) for item in page]
    assert sorted(pages) == [(w, p) for w in range(10) for p in range(3)]
    assert 2 <= peak[0] <= 3


def test_windows_run_side_by_side():
    def walk(window):
        time.sleep(0.2)
        yield [window]

    started = time.monotonic()
    assert sorted(x for page in concurrent_pages(range(8), walk, max_workers=8) for x in page) == list(range(8))
    assert time.monotonic() - started < 1.0  # 8 x 0.2 s one after another would take 1.6 s


def test_the_first_error_is_raised_and_stops_the_other_workers():
    walked = []

    def walk(window):
        walked.append(window)
        if window == 2:
            raise ValueError("page 1 of window 2 is broken")
        for page in range(50):
            time.sleep(0.01)
            yield [window]

    with pytest.raises(ValueError, match="window 2 is broken"):
        list(concurrent_pages(range(40), walk, max_workers=4))
    time.sleep(0.3)
    assert len(walked) < 40  # the rest of the windows were never started


def test_closing_early_stops_the_workers():
    def walk(window):
        for page in range(1000):
            yield [page]

    before = threading.active_count()
    stream = concurrent_pages(range(4), walk, max_workers=4)
    next(stream)
    stream.close()
    assert threading.active_count() <= before


def test_max_workers_must_be_positive():
    with pytest.raises(ValueError, match="max_workers must be at least 1"):
        next(concurrent_pages([1], lambda w: iter([[w]]), max_workers=0))
