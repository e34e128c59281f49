"""KeysetPaginator against the fake API through dlt's RESTClient: every record once, in cursor order."""

from __future__ import annotations

import pytest
from dlt.sources.helpers.rest_client import RESTClient

from airflow_provider_analytics.source.paging.keyset import KeysetPaginator
from airflow_provider_analytics.source.errors import MaxPagesExceededError, OffsetCapError, SearchUnsupportedError
from airflow_provider_analytics.source.paging.guards import PaginationGuards
from airflow_provider_analytics.source.settings import ApiSettings
from airflow_provider_analytics.source.timestamps import epoch_ms
from airflow_provider_analytics.testing.fake_api import FakeAnalyticsAPI, FakeReply

KEY = "keyset-key"


@pytest.fixture
def api():
    """A keyset walk on updatedAt is what runs where the account's search accepts updatedAt: that switch."""
    with FakeAnalyticsAPI(api_key=KEY, sizes={"alerts": 450}, seed=3, offset_cap=1000,
                          updated_at_search="accepted") as fake:
        yield fake


def walk(api: FakeAnalyticsAPI, paginator: KeysetPaginator, limit: int = 100) -> list[dict]:
    client = RESTClient(base_url=api.base_url, auth=ApiSettings(api.base_url, KEY).dlt_auth())
    records: list[dict] = []
    for page in client.paginate("/v2/alerts", params={"limit": limit}, paginator=paginator, data_selector="data"):
        records.extend(page)
    return records


def test_walks_every_record_once_in_ascending_cursor_order(api):
    paginator = KeysetPaginator(resource="alerts")
    records = walk(api, paginator)
    assert sorted(r["id"] for r in records) == sorted(r["id"] for r in api.records("alerts"))
    times = [epoch_ms(r["updatedAt"]) for r in records]
    assert times == sorted(times)
    assert times[-1] == max(epoch_ms(r["updatedAt"]) for r in api.records("alerts"))
    queries = [path for _, path, _ in api.request_log]
    assert "query=" not in queries[0] and all("query=updatedAt%3E%3D" in q for q in queries[1:])
    assert all("offset=" not in q for q in queries)


def test_starts_at_the_given_lower_bound(api):
    start = sorted(epoch_ms(r["updatedAt"]) for r in api.records("alerts"))[200]
    records = walk(api, KeysetPaginator(resource="alerts", start=lambda: start))
    assert {r["id"] for r in records} == {r["id"] for r in api.records("alerts") if epoch_ms(r["updatedAt"]) >= start}


def test_steps_by_offset_through_a_millisecond_shared_by_more_than_a_page(api):
    shared = api.records("alerts")[50]["updatedAt"]
    for index in range(50, 290):
        api.update("alerts", index, updatedAt=shared)
    records = walk(api, KeysetPaginator(resource="alerts"), limit=50)
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)) == 450
    assert any("offset=" in path for _, path, _ in api.request_log)


def test_more_records_in_one_millisecond_than_the_offset_cap_fail_loudly(api):
    shared = api.records("alerts")[0]["updatedAt"]
    for index in range(0, 260):
        api.update("alerts", index, updatedAt=shared)
    with pytest.raises(OffsetCapError, match="alerts: over 100 records share updatedAt"):
        walk(api, KeysetPaginator(resource="alerts", guards=PaginationGuards(offset_cap=100)), limit=50)


def test_a_record_changed_mid_walk_is_met_again_and_nothing_is_skipped(api):
    first_id = sorted(api.records("alerts"), key=lambda r: epoch_ms(r["updatedAt"]))[0]["id"]
    done: list[bool] = []

    def change_once(request):
        if "query" in request.query and not done:
            done.append(True)
            api.update("alerts", first_id, message="changed")
        return None

    api.faults.append(change_once)
    records = walk(api, KeysetPaginator(resource="alerts"))
    assert {r["id"] for r in records} == {r["id"] for r in api.records("alerts")}
    assert [r["message"] for r in records if r["id"] == first_id][-1] == "changed"


def test_an_api_that_ignores_the_query_is_detected(api):
    early = api.records("alerts")[0]

    def ignore_query(request):
        if "query" in request.query:
            return FakeReply(200, {"data": [early], "paging": {"next": api.base_url + "/v2/alerts?offset=1"}})
        return None

    api.faults.append(ignore_query)
    with pytest.raises(SearchUnsupportedError, match="the API ignores updatedAt in search") as raised:
        walk(api, KeysetPaginator(resource="alerts"))
    assert raised.value.outcome == "ignored"


def test_a_slice_that_gets_records_past_its_upper_bound_is_detected(api):
    api.updated_at_search = "ignored"
    times = sorted(epoch_ms(r["updatedAt"]) for r in api.records("alerts"))
    with pytest.raises(SearchUnsupportedError, match="updatedAt<"):
        walk(api, KeysetPaginator(resource="alerts", start=times[0], end_ms=times[10]))


def test_max_pages_is_enforced(api):
    with pytest.raises(MaxPagesExceededError):
        walk(api, KeysetPaginator(resource="alerts", base_url=api.base_url, guards=PaginationGuards(max_pages=2)))


def test_keeps_an_existing_query_and_the_created_at_cursor(api):
    paginator = KeysetPaginator(cursor_field="createdAt", resource="alerts", start=0)
    client = RESTClient(base_url=api.base_url, auth=ApiSettings(api.base_url, KEY).dlt_auth())
    records = [r for page in client.paginate(
        "/v2/alerts", params={"limit": 100, "query": "status:open"}, paginator=paginator, data_selector="data"
    ) for r in page]
    assert records and all(r["status"] == "open" for r in records)
    assert len(records) == sum(1 for r in api.records("alerts") if r["status"] == "open")
    assert all("status%3Aopen+AND+createdAt%3E%3D" in path for _, path, _ in api.request_log)
