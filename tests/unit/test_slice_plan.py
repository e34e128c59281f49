"""plan_slices: when a range is worth reading side by side, and how it is cut."""

from __future__ import annotations

from airflow_provider_analytics.source.builtin.slices import Slice, plan_slices


def test_a_long_range_is_cut_into_slices_that_cover_it_once():
    # the first page covered 1,000 ms; 100,000 ms remain: about 100 pages
    slices = plan_slices(first_min=0, resume=1_000, last=101_000, max_workers=4, delivered={"a"})
    assert len(slices) == 16  # 4 per worker
    assert slices[0].start == 1_000 and slices[0].delivered == frozenset({"a"})
    assert all(w.delivered == frozenset() for w in slices[1:])
    assert all(a.end == b.start for a, b in zip(slices, slices[1:]))  # no gap, no overlap
    assert slices[-1].end is None  # open: records changed during the run are still read


def test_a_short_range_or_a_single_worker_is_read_in_one_go():
    assert plan_slices(first_min=0, resume=1_000, last=3_000, max_workers=4, delivered=set()) == []
    assert plan_slices(first_min=0, resume=1_000, last=101_000, max_workers=1, delivered=set()) == []
    assert plan_slices(first_min=0, resume=1_000, last=1_000, max_workers=4, delivered=set()) == []


def test_fewer_slices_when_there_are_few_pages():
    slices = plan_slices(first_min=0, resume=1_000, last=7_000, max_workers=8, delivered=set())
    assert len(slices) == 3 and slices[0] == Slice(1_000, 3_000)
