"""Past the API's offset cap: every record once, or a loud failure where the API cannot go on."""

from __future__ import annotations

import pytest

from airflow_provider_analytics.source.errors import OffsetCapError
from airflow_provider_analytics.source.paging.guards import PaginationGuards
from airflow_provider_analytics.source.settings import ApiSettings
from airflow_provider_analytics.source.timestamps import epoch_ms
from airflow_provider_analytics.pipeline.errors import SyncError
from airflow_provider_analytics.pipeline.options import SyncOptions
from airflow_provider_analytics.pipeline.sync import run_sync
from airflow_provider_analytics.testing.fake_api import FakeAnalyticsAPI
from airflow_provider_analytics.warehouses.duckdb import duckdb_warehouse
from tests.helpers import duckdb_rows, load_seed_config

KEY = "cap-test-key"


def test_trimmed_fraction_timestamps_parse_to_epoch_ms():
    assert epoch_ms("2024-03-01T10:11:41.03Z") == 1709287901030
    assert epoch_ms("2024-03-01T10:11:40.926Z") == 1709287900926
    assert epoch_ms("2024-03-01T10:11:02Z") == 1709287862000
    assert epoch_ms("not a time") is None and epoch_ms(None) is None


def sync_into(tmp_path, api, resource, cap, config=None):
    warehouse = duckdb_warehouse(tmp_path / "cap.duckdb")
    options = SyncOptions(guards=PaginationGuards(offset_cap=cap), progress_interval=0)
    summary = run_sync(resource, ApiSettings(api.base_url, KEY), warehouse, options, config=config).as_dict()
    rows = duckdb_rows(tmp_path / "cap.duckdb", f"select count(*), count(distinct id) from analytics.{resource}")[0]
    return summary, rows


def landed_ids(tmp_path, resource):
    return {id_ for (id_,) in duckdb_rows(tmp_path / "cap.duckdb", f"select id from analytics.{resource}")}


def upstream_ids(api, resource):
    return {record["id"] for record in api.records(resource)}


def assert_landed_once_each(tmp_path, api, resource, summary, rows):
    n = len(api.records(resource))
    assert rows == (n, n)
    assert summary["rows"] == n and summary["records_fetched"] == n  # fetched once each, not deduplicated later
    assert landed_ids(tmp_path, resource) == upstream_ids(api, resource)


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


def test_services_under_the_cap_land(tmp_path):
    with FakeAnalyticsAPI(api_key=KEY, sizes={"services": 199}, offset_cap=200) as api:
        summary, rows = sync_into(tmp_path, api, "services", cap=200)
        assert_landed_once_each(tmp_path, api, "services", summary, rows)


# -- services: no searchable cursor, read by name from both ends --------------------------


def test_services_beyond_the_cap_land_once_each_read_from_both_ends(tmp_path):
    with FakeAnalyticsAPI(api_key=KEY, sizes={"services": 900}, offset_cap=500) as api:
        summary, rows = sync_into(tmp_path, api, "services", cap=500)
        assert_landed_once_each(tmp_path, api, "services", summary, rows)
        orders = {path.split("order=")[1].split("&")[0] for _, path, _ in api.request_log}
    assert orders == {"asc", "desc"}


def test_services_with_a_repeated_name_across_the_boundary_land_once_each(tmp_path):
    with FakeAnalyticsAPI(api_key=KEY, sizes={"services": 900}, offset_cap=500) as api:
        by_name = sorted(api.records("services"), key=lambda s: s["name"])
        shared = by_name[480]["name"]
        for service in by_name[481:530]:  # the ascending walk ends inside this run of equal names
            api.update("services", service["id"], name=shared)
        summary, rows = sync_into(tmp_path, api, "services", cap=500)
        assert_landed_once_each(tmp_path, api, "services", summary, rows)
    (count,), = duckdb_rows(tmp_path / "cap.duckdb", f"select count(*) from analytics.services where name = '{shared}'")
    assert count == 50


def test_services_beyond_twice_the_cap_fail_loudly_instead_of_stopping_short(tmp_path):
    with FakeAnalyticsAPI(api_key=KEY, sizes={"services": 1300}, offset_cap=500) as api:
        with pytest.raises(SyncError) as raised:
            sync_into(tmp_path, api, "services", cap=500)
    assert isinstance(raised.value.__cause__, OffsetCapError)
    message = str(raised.value)
    assert message.startswith("services: stopped paging because the listing cannot be paged further: services: the API lists at most 500 records")
    assert "from both ends it yields about 1,000 records" in message and "Leave services out of this sync" in message


# -- the seed config as written: its template paginator at the cap ------------------------


def test_seed_alerts_beyond_the_cap_land_once_each_in_descending_windows(tmp_path):
    with FakeAnalyticsAPI(api_key=KEY, sizes={"alerts": 2600}, offset_cap=500) as api:
        summary, rows = sync_into(tmp_path, api, "alerts", cap=500, config=load_seed_config(api.base_url, KEY))
        assert_landed_once_each(tmp_path, api, "alerts", summary, rows)
        windows = [path for _, path, _ in api.request_log if "offset=0&query=createdAt%3C%3D" in path]
    assert len(windows) >= 5


def test_seed_alerts_with_a_shared_millisecond_across_a_window_boundary_land_once_each(tmp_path):
    with FakeAnalyticsAPI(api_key=KEY, sizes={"alerts": 1600}, offset_cap=500) as api:
        newest_first = sorted(api.records("alerts"), key=lambda r: epoch_ms(r["createdAt"]), reverse=True)
        shared = newest_first[485]["createdAt"]
        for record in newest_first[486:520]:  # the seed's descending listing reaches the cap inside this run
            api.update("alerts", record["id"], createdAt=shared, updatedAt=record["updatedAt"])
        summary, rows = sync_into(tmp_path, api, "alerts", cap=500, config=load_seed_config(api.base_url, KEY))
        assert_landed_once_each(tmp_path, api, "alerts", summary, rows)
        first_window = f"query=createdAt%3C%3D{epoch_ms(shared)}"
        assert any(first_window in path for _, path, _ in api.request_log)


def test_seed_incidents_and_services_beyond_the_cap_land_once_each(tmp_path):
    with FakeAnalyticsAPI(api_key=KEY, sizes={"incidents": 1300, "services": 900}, offset_cap=500) as api:
        seed = load_seed_config(api.base_url, KEY)
        for resource in ("incidents", "services"):
            summary, rows = sync_into(tmp_path, api, resource, cap=500, config=seed)
            assert_landed_once_each(tmp_path, api, resource, summary, rows)


@pytest.mark.parametrize("level", ["client", "resource_defaults"])
def test_a_template_paginator_shared_by_all_resources_goes_past_the_cap_too(tmp_path, level):
    with FakeAnalyticsAPI(api_key=KEY, sizes={"alerts": 1300}, offset_cap=500) as api:
        seed = load_seed_config(api.base_url, KEY)
        paginator = [entry["endpoint"].pop("paginator") for entry in seed["resources"]][0]
        if level == "client":
            seed["client"]["paginator"] = paginator
        else:
            seed["resource_defaults"]["endpoint"] = {"paginator": paginator}
        summary, rows = sync_into(tmp_path, api, "alerts", cap=500, config=seed)
        assert_landed_once_each(tmp_path, api, "alerts", summary, rows)


def test_seed_services_beyond_twice_the_cap_fail_loudly(tmp_path):
    with FakeAnalyticsAPI(api_key=KEY, sizes={"services": 1100}, offset_cap=500) as api:
        with pytest.raises(SyncError, match=r"services: .*at most 500 records.*Leave services out of this sync"):
            sync_into(tmp_path, api, "services", cap=500, config=load_seed_config(api.base_url, KEY))


# -- the real cap -------------------------------------------------------------------------


@pytest.mark.slow
def test_25000_alerts_with_the_real_cap(tmp_path):
    with FakeAnalyticsAPI(api_key=KEY, sizes={"alerts": 25_000}) as api:
        summary, rows = sync_into(tmp_path, api, "alerts", cap=20_000)
    assert rows == (25_000, 25_000) and summary["rows"] == 25_000


@pytest.mark.slow
def test_25000_services_with_the_real_cap(tmp_path):
    with FakeAnalyticsAPI(api_key=KEY, sizes={"services": 25_000}) as api:
        summary, rows = sync_into(tmp_path, api, "services", cap=20_000)
        assert_landed_once_each(tmp_path, api, "services", summary, rows)


@pytest.mark.slow
def test_25000_alerts_through_the_seed_config_with_the_real_cap(tmp_path):
    with FakeAnalyticsAPI(api_key=KEY, sizes={"alerts": 25_000}) as api:
        summary, rows = sync_into(tmp_path, api, "alerts", cap=20_000, config=load_seed_config(api.base_url, KEY))
        assert_landed_once_each(tmp_path, api, "alerts", summary, rows)
