"""Malformed pages and missing endpoints: a clear error naming resource and page, nothing partial lands."""

from __future__ import annotations

import pytest

from airflow_provider_analytics.pipeline.errors import SyncError
from airflow_provider_analytics.testing.fake_api import FakeReply
from tests.helpers import sync_to as sync


def break_page(api, path: str, offset: str, reply: FakeReply):
    """A fault answering the page at `offset` of `path` with `reply` (the first page has no offset)."""

    def fault(request):
        if request.path == path and request.query.get("offset", "0") == offset:
            return reply
        return None

    api.faults.append(fault)
    return fault


@pytest.mark.parametrize(
    "reply,message",
    [
        (FakeReply(200, b'{"data": [{"id": "u1"'), "users: page 2 (/v2/users?limit=100&sortField=username&offset=100&order=asc) is not valid JSON"),
        (FakeReply(200, {"paging": {}}), "users: page 2 (/v2/users?limit=100&sortField=username&offset=100&order=asc) has no 'data' list"),
        (FakeReply(200, {"data": {"id": "u1"}}), "'data' is a dict, not a list of records"),
        (FakeReply(200, {"data": [{"id": "u1"}, {"name": "no id"}]}), "users: page 2 (/v2/users?limit=100&sortField=username&offset=100&order=asc): record 1 has no 'id'"),
    ],
)
def test_a_malformed_page_fails_the_sync_and_changes_nothing_then_a_rerun_loads_exactly(new_api, target, reply, message):
    api = new_api(users=250)
    sync(target, "users")
    before = target.records("users")
    api.remove("users", api.records("users")[0]["id"])  # a real change the failed run must not half-apply
    fault = break_page(api, "/v2/users", "100", reply)
    with pytest.raises(SyncError) as caught:
        sync(target, "users")
    assert message in str(caught.value) and "nothing of this run was loaded" in str(caught.value)
    after = target.records("users")
    assert after.keys() == before.keys() and all(row["_deleted_at"] is None for row in after.values())
    api.faults.remove(fault)
    summary = sync(target, "users")
    assert summary["rows"] == 249 and summary["deleted"] == 1
    assert target.count("users") == (250, 250)


def test_a_bad_page_of_an_incremental_run_leaves_the_cursor_where_it_was(new_api, target):
    api = new_api(alerts=400)
    first = sync(target, "alerts")
    for index in range(0, 400, 40):
        api.update("alerts", index, message="changed")
    api.add("alerts", 150)  # the next run reads two pages; the second one breaks
    fault_hits = []

    def break_second_page(request):  # the second page of the walk (the search probe before it is refused)
        if request.path == "/v2/alerts" and "updatedAt" not in request.query.get("query", ""):
            fault_hits.append(request.query)
            if len(fault_hits) == 2:
                return FakeReply(200, b"<html>502 Bad Gateway</html>")
        return None

    api.faults.append(break_second_page)
    with pytest.raises(SyncError, match=r"alerts: page 2 .* is not valid JSON"):
        sync(target, "alerts")
    api.faults.clear()
    retry = sync(target, "alerts")
    assert retry["cursor_start"] == first["cursor_end"] - 300_000  # not advanced by the failed run
    assert target.count("alerts") == (550, 550)
    assert sum(row["message"] == "changed" for row in target.records("alerts").values()) == 10


def test_a_missing_endpoint_fails_clearly_or_is_skipped_when_asked(new_api, target):
    from airflow.sdk.exceptions import AirflowSkipException

    api = new_api(incidents=10)
    api.faults.append(lambda r: FakeReply(404, {"message": "Could not find incidents"}) if r.path == "/v1/incidents" else None)
    with pytest.raises(SyncError, match=r"incidents: .*HTTP 404.*Could not find incidents"):
        sync(target, "incidents")
    api.reset_log()
    with pytest.raises(AirflowSkipException, match=r"incidents: the API has no such endpoint .*on_not_found='skip'"):
        sync(target, "incidents", on_not_found="skip")
    assert [status for _, _, status in api.request_log] == [404]  # no retries on a 404


def test_on_not_found_takes_only_fail_or_skip():
    from airflow_provider_analytics.operators.analytics import AnalyticsSyncOperator

    with pytest.raises(ValueError, match="on_not_found='ignore' is not supported; use one of fail, skip"):
        AnalyticsSyncOperator(task_id="x", resource="alerts", on_not_found="ignore")
