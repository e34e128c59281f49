"""The pieces of a child sync that need no server: rows, the pass's place, the ordered side-by-side reads."""

from __future__ import annotations

import threading
import time

import pytest

from airflow_provider_analytics.source.catalog import CATALOG, CHILD_RESOURCES
from airflow_provider_analytics.source.children.ordered_map import OrderedMap
from airflow_provider_analytics.source.children.progress_state import ORDER_UPDATED, ParentPass
from airflow_provider_analytics.source.children.rows import child_key, child_rows


def test_the_child_resources_are_keyed_on_their_parent_and_their_own_key():
    assert set(CHILD_RESOURCES) == {"alert_logs", "alert_notes", "alert_recipients", "user_teams", "team_members"}
    assert CATALOG["alert_logs"].primary_key == ("alert_id", "offset")
    assert CATALOG["user_teams"].primary_key == ("user_id", "team_id")
    assert CATALOG["team_members"].primary_key == ("team_id", "user_id")
    assert CATALOG["heartbeats"].primary_key == ("name",)


def test_child_rows_carry_the_parent_id_and_move_or_copy_the_key():
    teams = child_rows(CATALOG["user_teams"].parent, "u1", [{"id": "t1", "name": "ops"}])
    assert teams == [{"user_id": "u1", "team_id": "t1", "name": "ops"}]  # `id` became `team_id`
    members = child_rows(CATALOG["team_members"].parent, "t1", [{"user": {"id": "u9", "username": "a"}, "role": "admin"}])
    assert members == [{"team_id": "t1", "user_id": "u9", "user": {"id": "u9", "username": "a"}, "role": "admin"}]
    assert child_key(CATALOG["team_members"].parent, members[0]) == ("u9",)


def test_a_pass_survives_the_state_and_skips_what_an_earlier_attempt_did():
    first = ParentPass(order=ORDER_UPDATED, bound=1000, started_ms=5000)
    first.mark_done((2000, "b"))
    again = ParentPass.from_state(first.as_state())
    assert again is not None and again.attempts == 2 and again.parents_done == 1 and again.started_ms == 5000
    assert again.done((2000, "a")) and again.done((2000, "b"))
    assert not again.done((2000, "c")) and not again.done((2001, "a"))
    assert ParentPass.from_state({"order": "sideways"}) is None
    assert ParentPass.from_state({"order": "id", "after": ["x"]}) is None  # unreadable: start a new pass


def test_ordered_map_returns_results_in_order_while_working_side_by_side():
    running, peak, lock = [0], [0], threading.Lock()

    def slow(n: int) -> int:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.02 * (5 - n % 5))
        with lock:
            running[0] -= 1
        return n * n

    results = list(OrderedMap(slow, range(20), workers=4))
    assert results == [(n, n * n) for n in range(20)]
    assert 2 <= peak[0] <= 4


def test_ordered_map_raises_the_first_error_in_its_place_and_stops():
    pulled = []

    def items():
        for n in range(1000):
            pulled.append(n)
            yield n

    def fail_at_five(n: int) -> int:
        if n == 5:
            raise ValueError("parent 5")
        return n

    mapped = OrderedMap(fail_at_five, items(), workers=2)
    got = []
    with pytest.raises(ValueError, match="parent 5"):
        for item, _ in mapped:
            got.append(item)
    assert got == [0, 1, 2, 3, 4]
    assert len(pulled) < 20  # a few items ahead at most, never the whole stream
