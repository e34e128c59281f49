"""Where an incremental run starts, and what it stores: IncrementalOptions and CursorState."""

from __future__ import annotations

import logging
from datetime import date, datetime, timezone

import pytest

from airflow_provider_analytics.pipeline.options import as_bool
from airflow_provider_analytics.source.errors import IncrementalConfigError
from airflow_provider_analytics.source.incremental import STATE_KEY, CursorState, IncrementalOptions
from airflow_provider_analytics.source.timestamps import to_epoch_ms

JAN_1 = 1_704_067_200_000  # 2024-01-01T00:00:00Z


def cursor(state: dict, full_refresh: bool = False, **options) -> CursorState:
    return CursorState("alerts", IncrementalOptions(**options), full_refresh=full_refresh, state=lambda: state,
                       logger=logging.getLogger("test"))


@pytest.mark.parametrize(
    "value",
    ["2024-01-01", "2024-01-01T00:00:00Z", "2024-01-01T01:00:00+01:00", date(2024, 1, 1),
     datetime(2024, 1, 1), datetime(2024, 1, 1, tzinfo=timezone.utc), JAN_1],
)
def test_start_dates_in_every_accepted_form_mean_the_same_instant(value):
    assert to_epoch_ms(value) == JAN_1


@pytest.mark.parametrize("bad", ["yesterday", "2024-13-01", True, [2024]])
def test_a_bad_start_date_names_the_option(bad):
    with pytest.raises(IncrementalConfigError, match="start_date"):
        IncrementalOptions(start_date=bad)


def test_bad_cursor_field_and_lookback_are_refused():
    with pytest.raises(IncrementalConfigError, match="cursor_field='tinyId'.*updatedAt, createdAt"):
        IncrementalOptions(cursor_field="tinyId")
    with pytest.raises(IncrementalConfigError, match="lookback_seconds"):
        IncrementalOptions(lookback_seconds=-1)


def test_first_run_starts_at_the_backfill_date_and_stores_the_newest_value_read():
    state: dict = {}
    c = cursor(state, start_date="2024-01-01")
    assert c.start() == JAN_1
    c.see(JAN_1 + 5000)
    c.see(JAN_1 + 1000)  # the newest value read counts
    c.finish(run_started_ms=JAN_1 + 9000)
    assert state[STATE_KEY] == {"cursor_field": "updatedAt", "last_value_ms": JAN_1 + 5000,
                                "last_value": "2024-01-01T00:00:05.000Z"}


def test_a_record_changed_after_the_run_started_does_not_move_the_cursor_past_the_start():
    """A record changed mid-run may have been read before its change: the next run must read it again."""
    state: dict = {}
    c = cursor(state)
    c.start()
    c.see(JAN_1 + 60_000)  # changed a minute after the run started, on the API's clock
    c.finish(run_started_ms=JAN_1)
    assert state[STATE_KEY]["last_value_ms"] == JAN_1


def test_later_runs_start_at_the_stored_cursor_minus_the_lookback():
    state = {STATE_KEY: {"cursor_field": "updatedAt", "last_value_ms": JAN_1 + 600_000}}
    c = cursor(state, lookback_seconds=60)
    assert c.start() == JAN_1 + 540_000
    c.see(JAN_1 + 500_000)  # re-read inside the lookback: the stored value stays
    c.finish(run_started_ms=JAN_1 + 900_000)
    assert state[STATE_KEY]["last_value_ms"] == JAN_1 + 600_000
    # a backfill date later than the resume point wins
    assert cursor(state, start_date=JAN_1 + 590_000).start() == JAN_1 + 590_000


def test_nothing_read_keeps_the_stored_cursor():
    state = {STATE_KEY: {"cursor_field": "updatedAt", "last_value_ms": JAN_1}}
    c = cursor(state)
    c.start()
    c.finish(run_started_ms=JAN_1 + 900_000)
    assert state[STATE_KEY]["last_value_ms"] == JAN_1


def test_full_refresh_and_a_changed_cursor_field_ignore_the_stored_cursor():
    state = {STATE_KEY: {"cursor_field": "updatedAt", "last_value_ms": JAN_1 + 600_000}}
    refresh = cursor(state, full_refresh=True)
    assert refresh.start() is None
    refresh.see(JAN_1 + 10)  # a refresh restarts the cursor from what it read
    refresh.finish(run_started_ms=JAN_1 + 900_000)
    assert state[STATE_KEY]["last_value_ms"] == JAN_1 + 10
    state[STATE_KEY] = {"cursor_field": "updatedAt", "last_value_ms": JAN_1 + 600_000}
    assert cursor(state, cursor_field="createdAt").start() is None


def test_what_the_search_did_is_remembered_with_the_cursor_across_refreshes():
    state: dict = {}
    c = cursor(state)
    c.start()
    assert c.search is None
    c.note_search("rejected")
    c.see(JAN_1)
    c.finish(run_started_ms=JAN_1 + 1)
    assert state[STATE_KEY]["updated_at_search"] == "rejected"
    refresh = cursor(state, full_refresh=True)
    refresh.start()
    assert refresh.search == "rejected"
    with pytest.raises(ValueError):
        refresh.note_search("maybe")


@pytest.mark.parametrize("value,expected", [(True, True), ("True", True), ("false", False), ("", False), (0, False)])
def test_flags_rendered_from_templates_are_read_as_booleans(value, expected):
    assert as_bool(value, "full_refresh") is expected


def test_an_unreadable_flag_is_refused():
    with pytest.raises(ValueError, match="full_refresh must be true or false"):
        as_bool("maybe", "full_refresh")
