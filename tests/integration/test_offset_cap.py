"""Past the API's offset cap: every record once, or a loud failure where the API cannot go on."""

from __future__ import annotations

import pytest

from airflow_provider_analytics.source.config import PaginationGuards
from airflow_provider_analytics.source.settings import ApiSettings
from airflow_provider_analytics.source.windows import OffsetCapError, epoch_ms
from airflow_provider_analytics.sync import SyncError, run_sync
from airflow_provider_analytics.testing.fake_api import FakeAnalyticsAPI
from airflow_provider_analytics.warehouse import duckdb_warehouse
from tests.helpers import duckdb_rows

KEY = "cap-test-key"


def test_trimmed_fraction_timestamps_parse_to_epoch_ms():
    assert epoch_ms("2024-03-01T10:11:41.03Z") == 1709287901030
    assert epoch_ms("2024-03-01T10:11:40.926Z") == 1709287900926
    assert epoch_ms("2024-03-01T10:11:02Z") == 1709287862000
    assert epoch_ms("not a time") is None and epoch_ms(None) is None


def sync_into(tmp_path, api, resource, cap):
    warehouse = duckdb_warehouse(tmp_path / "cap.duckdb")
    summary = run_sync(resource, ApiSettings(api.base_url, KEY), warehouse, guards=PaginationGuards(offset_cap=cap),
                       progress_interval=0).as_dict()
    rows = duckdb_rows(tmp_path / "cap.duckdb", f"select count(*), count(distinct id) from analytics.{resource}")[0]
    return summary, rows


def test_alerts_beyond_a_small_cap_land_once_each_even_with_a_shared_boundary_millisecond(tmp_path):
    with FakeAnalyticsAPI(api_key=KEY, sizes={"alerts": 5250}, offset_cap=2000) as api:
        ordered = sorted(api.records("alerts"), key=lambda r: epoch_ms(r["createdAt"]))
        shared = ordered[1990]["createdAt"]
        for record in ordered[1991:2015]:  # the first window ends inside this run of equal createdAt
            api.update("alerts", record["id"], createdAt=shared, updatedAt=record["updatedAt"])
        api.reset_log()
        summary, (total, distinct) = sync_into(tmp_path, api, "alerts", cap=2000)
        queries = [path for _, path, _ in api.request_log if "query=" in path]
    assert (total, distinct) == (5250, 5250)
    assert summary["rows"] == 5250 and summary["records_fetched"] == 5250
    assert len({q.split("query=")[1].split("&")[0] for q in queries}) >= 2  # at least three windows


def test_incidents_beyond_the_cap_land_once_each(tmp_path):
    with FakeAnalyticsAPI(api_key=KEY, sizes={"incidents": 2600}, offset_cap=1000) as api:
        summary, rows = sync_into(tmp_path, api, "incidents", cap=1000)
    assert rows == (2600, 2600) and summary["rows"] == 2600


def test_services_beyond_the_cap_fail_loudly_instead_of_stopping_short(tmp_path):
    with FakeAnalyticsAPI(api_key=KEY, sizes={"services": 450}, offset_cap=200) as api:
        with pytest.raises(SyncError, match=r"services.*at most 200 records.*cannot be paged further"):
            sync_into(tmp_path, api, "services", cap=200)


def test_services_under_the_cap_land(tmp_path):
    with FakeAnalyticsAPI(api_key=KEY, sizes={"services": 199}, offset_cap=200) as api:
        summary, rows = sync_into(tmp_path, api, "services", cap=200)
    assert rows == (199, 199)


@pytest.mark.slow
def test_25000_alerts_with_the_real_cap(tmp_path):
    with FakeAnalyticsAPI(api_key=KEY, sizes={"alerts": 25_000}) as api:
        summary, rows = sync_into(tmp_path, api, "alerts", cap=20_000)
    assert rows == (25_000, 25_000) and summary["rows"] == 25_000
