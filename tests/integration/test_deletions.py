"""Rows gone upstream, for the resources read whole every run, on DuckDB and PostgreSQL."""

from __future__ import annotations

import pytest

from airflow_provider_analytics.pipeline.deletions import DeletionConfigError
from airflow_provider_analytics.pipeline.errors import ApiKeyRefusedError
from airflow_provider_analytics.testing.fake_api import FakeReply
from tests.helpers import sync_to as sync


def live_and_marked(target, table: str) -> tuple[set, set]:
    rows = target.records(table)
    return {i for i, r in rows.items() if r["_deleted_at"] is None}, {i for i, r in rows.items() if r["_deleted_at"]}


def test_a_user_deleted_upstream_is_marked_by_default_and_stays_marked(new_api, target):
    api = new_api(users=130)
    sync(target, "users")
    gone = api.remove("users", api.records("users")[40]["id"])
    summary = sync(target, "users")
    assert summary["deleted"] == 1
    live, marked = live_and_marked(target, "users")
    assert marked == {gone["id"]} and live == {r["id"] for r in api.records("users")}
    assert target.records("users")[gone["id"]]["full_name"] == gone["fullName"]  # history kept
    again = sync(target, "users")
    assert again["deleted"] == 0 and live_and_marked(target, "users")[1] == {gone["id"]}


def test_a_record_that_comes_back_is_live_again(new_api, target):
    api = new_api(teams=15)
    hidden = api.records("teams")[4]

    def without_hidden_team(request):
        if request.path == "/v2/teams":
            return FakeReply(200, {"data": [t for t in api.records("teams") if t["id"] != hidden["id"]]})
        return None

    api.faults.append(without_hidden_team)
    sync(target, "teams")  # first run never saw it: nothing to mark
    api.faults.clear()
    sync(target, "teams")
    api.faults.append(without_hidden_team)
    assert sync(target, "teams")["deleted"] == 1
    assert live_and_marked(target, "teams")[1] == {hidden["id"]}
    api.faults.clear()
    assert sync(target, "teams")["deleted"] == 0
    assert live_and_marked(target, "teams") == ({t["id"] for t in api.records("teams")}, set())


def test_remove_mode_deletes_the_row_and_keep_mode_leaves_it(new_api, target):
    api = new_api(services=60, integrations=20)
    sync(target, "services", deletions="remove")
    sync(target, "integrations", deletions="keep")
    gone_service = api.remove("services", api.records("services")[7]["id"])
    gone_integration = api.remove("integrations", api.records("integrations")[3]["id"])
    assert sync(target, "services", deletions="remove")["deleted"] == 1
    assert sync(target, "integrations", deletions="keep")["deleted"] == 0
    assert gone_service["id"] not in target.records("services") and target.count("services") == (59, 59)
    kept = target.records("integrations")
    assert gone_integration["id"] in kept and "_deleted_at" not in kept[gone_integration["id"]]


def test_full_refresh_replaces_a_snapshot_table(new_api, target):
    api = new_api(users=110)
    sync(target, "users")
    gone = api.remove("users", api.records("users")[0]["id"])
    summary = sync(target, "users", full_refresh=True)
    assert summary["mode"] == "replace" and summary["deleted"] == 0
    assert gone["id"] not in target.records("users") and target.count("users") == (109, 109)


def test_an_incomplete_snapshot_marks_nothing(new_api, target):
    api = new_api(users=250)
    sync(target, "users")
    api.remove("users", api.records("users")[10]["id"])

    def refuse_second_page(request):
        if request.path == "/v2/users" and request.query.get("offset") == "100":
            return FakeReply(401, {"message": "Could not authenticate"})
        return None

    api.faults.append(refuse_second_page)
    with pytest.raises(ApiKeyRefusedError):
        sync(target, "users")
    assert live_and_marked(target, "users")[1] == set() and target.count("users") == (250, 250)


def test_an_unknown_deletion_mode_is_refused_before_any_request(new_api, target):
    api = new_api(teams=3)
    api.reset_log()
    with pytest.raises(DeletionConfigError, match="deletions='purge'.*mark, remove, keep"):
        sync(target, "teams", deletions="purge")
    assert api.request_log == []
