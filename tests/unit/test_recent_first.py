"""RecentFirstWalk against the fake API: newest first down to a bound; movement costs duplicates, never rows."""

from __future__ import annotations

import pytest
from dlt.sources.helpers.rest_client import RESTClient

from airflow_provider_analytics.source.errors import OffsetCapReachedError, PaginationError
from airflow_provider_analytics.source.paging.recent_first import MAX_STEP_BACKS, RecentFirstWalk
from airflow_provider_analytics.source.settings import ApiSettings
from airflow_provider_analytics.source.timestamps import epoch_ms
from airflow_provider_analytics.testing.fake_api import FakeAnalyticsAPI, FakeReply

KEY = "recent-key"


@pytest.fixture
def api():
    with FakeAnalyticsAPI(api_key=KEY, sizes={"alerts": 900}, seed=5, offset_cap=2000) as fake:
        yield fake


def walk(api: FakeAnalyticsAPI, paginator: RecentFirstWalk, limit: int = 50, on_page=None) -> list[dict]:
    client = RESTClient(base_url=api.base_url, auth=ApiSettings(api.base_url, KEY).dlt_auth())
    records: list[dict] = []
    for page in client.paginate("/v2/alerts", params={"limit": limit}, paginator=paginator, data_selector="data"):
        records.extend(page)
        if on_page:
            on_page(len(records))
    return records


def updated(records) -> list[int]:
    return sorted(epoch_ms(r["updatedAt"]) for r in records)


def test_reads_exactly_the_records_at_or_above_the_bound_newest_first(api):
    bound = updated(api.records("alerts"))[-300]
    records = walk(api, RecentFirstWalk("alerts", bound))
    assert {r["id"] for r in records} == {r["id"] for r in api.records("alerts") if epoch_ms(r["updatedAt"]) >= bound}
    assert len(records) == len({r["id"] for r in records})  # the pages' overlap is not delivered twice
    sent = [path for _, path, _ in api.request_log]
    assert all("sort=updatedAt" in p and "order=desc" in p and "query=" not in p for p in sent)
    assert len(sent) <= 300 // 49 + 2  # one record of overlap a page


def test_without_a_bound_it_reads_the_whole_listing(api):
    records = walk(api, RecentFirstWalk("alerts", None), limit=100)
    assert {r["id"] for r in records} == {r["id"] for r in api.records("alerts")}


def test_records_changed_or_created_during_the_walk_never_push_one_out_of_reach(api):
    bound = updated(api.records("alerts"))[-400]
    wanted = {r["id"] for r in api.records("alerts") if epoch_ms(r["updatedAt"]) >= bound}
    unread_old = [r["id"] for r in sorted(api.records("alerts"), key=lambda r: epoch_ms(r["updatedAt"]))][-380:-360]

    def change_some(read: int) -> None:
        if read == 50:  # after the first page: records not yet read jump to the front, new ones arrive
            for record_id in unread_old:
                api.update("alerts", record_id, message="changed mid-walk")
            api.add("alerts", 7)

    records = walk(api, RecentFirstWalk("alerts", bound), on_page=change_some)
    # each changed record was either read before its change or is read again by the next run (its
    # updatedAt is now above the run's start); every other record is read in this walk
    assert wanted - set(unread_old) <= {r["id"] for r in records}
    assert len(records) == len({r["id"] for r in records})


def test_records_deleted_during_the_walk_make_it_step_back_instead_of_skipping(api):
    bound = updated(api.records("alerts"))[-400]
    newest_first = sorted(api.records("alerts"), key=lambda r: epoch_ms(r["updatedAt"]), reverse=True)
    wanted = {r["id"] for r in newest_first if epoch_ms(r["updatedAt"]) >= bound}
    deleted: list[str] = []

    def delete_read_ones(read: int) -> None:
        if read >= 99 and not deleted:  # after two pages five records already read vanish: the rest shift forward
            for record in newest_first[10:15]:
                deleted.append(api.remove("alerts", record["id"])["id"])

    paginator = RecentFirstWalk("alerts", bound)
    records = walk(api, paginator, on_page=delete_read_ones)
    assert paginator.step_backs >= 1
    assert wanted - set(deleted) <= {r["id"] for r in records}


def test_the_offset_cap_is_reported_for_the_reader_to_go_on_another_way(api):
    with pytest.raises(OffsetCapReachedError, match="changed since the bound"):
        walk(api, RecentFirstWalk("alerts", None, offset_cap=300), limit=100)


def test_a_listing_that_keeps_shrinking_stops_after_a_bounded_number_of_step_backs(api):
    oldest = sorted(api.records("alerts"), key=lambda r: epoch_ms(r["updatedAt"]))[:50][::-1]

    def always_past_the_anchor(request):
        if int(request.query.get("offset", 0)) > 0:  # every later page starts far below the anchor
            return FakeReply(200, {"data": oldest, "paging": {"next": api.base_url + "/v2/alerts?offset=1"}})
        return None

    api.faults.append(always_past_the_anchor)
    with pytest.raises(PaginationError, match=f"{MAX_STEP_BACKS} step-backs"):
        walk(api, RecentFirstWalk("alerts", None))
    assert len(api.request_log) <= 2 * MAX_STEP_BACKS + 3  # each step back re-reads the page before
