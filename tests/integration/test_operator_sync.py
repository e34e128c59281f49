"""The operator against the fake API over loopback, into real DuckDB and PostgreSQL."""

from __future__ import annotations

import json
import time
from functools import partial

import pytest

from airflow_provider_analytics.operators.analytics import AnalyticsSyncOperator
from airflow_provider_analytics.source.catalog import CATALOG, RESOURCE_NAMES
from airflow_provider_analytics.pipeline.errors import ApiKeyRefusedError
from airflow_provider_analytics.source.errors import ConfigError
from tests.conftest import API_KEY, analytics_conn_json
from tests.helpers import (
    count_and_distinct,
    duckdb_rows,
    load_seed_config,
    postgres_rows,
    seed_error_handler,
    stored_keys,
    upstream_keys,
)


def sync(resource: str, **kwargs) -> dict:
    op = AnalyticsSyncOperator(task_id=f"sync_{resource}", resource=resource, progress_interval=0, **kwargs)
    return op.execute({})


def test_each_builtin_resource_lands_exactly_in_duckdb_and_rerun_adds_no_duplicates(analytics_conn, duckdb_conn):
    fake = analytics_conn
    for resource in RESOURCE_NAMES:
        expected = len(fake.records(resource))
        first = sync(resource, warehouse_conn_id="warehouse_duckdb")
        assert first["rows"] == expected, resource
        assert first["table"] == resource and first["resource"] == resource
        assert first["pages"] >= 1 and first["seconds"] > 0
        json.dumps(first)  # the summary is XCom material
        second = sync(resource, warehouse_conn_id="warehouse_duckdb")
        assert_rerun(second, resource, expected)
        query = partial(duckdb_rows, duckdb_conn)
        keys = stored_keys(query, "analytics", resource, live_only=False)
        assert len(keys) == len(set(keys)) == expected and keys == upstream_keys(fake, resource), resource
    ids = {row[0] for row in duckdb_rows(duckdb_conn, 'select id from analytics.alerts')}
    assert ids == {record["id"] for record in fake.records("alerts")}


def assert_rerun(summary: dict, resource: str, expected: int) -> None:
    """A rerun re-reads snapshots whole; alerts and incidents load only the lookback window.

    The fake refuses `updatedAt` search (its strict default): alerts are read recent first (one
    page), incidents whole (the spec offers nothing narrower), keeping only the lookback window.
    """
    spec = CATALOG[resource]
    if spec.parent is not None and CATALOG[spec.parent.resource].incremental:  # per alert changed since the cursor
        assert summary["mode"] == "incremental" and summary["parents"] == summary["rows"] == 0, resource
    elif spec.incremental:
        assert summary["mode"] == "incremental" and summary["updated_at_search"] == "rejected", resource
        if resource == "alerts":
            assert summary["method"] == "recent first" and summary["pages"] == 1
        else:
            assert summary["method"] == "full read"
        assert 0 < summary["rows"] < expected, resource
    else:
        assert summary["mode"] == "merge" and summary["rows"] == expected, resource


def test_paginated_resources_walk_every_page(analytics_conn, duckdb_conn):
    fake = analytics_conn
    records = len(fake.records("alerts"))
    expected_pages = -(-records // 100)
    fake.reset_log()
    summary = sync("alerts", warehouse_conn_id="warehouse_duckdb", max_concurrent_requests=1)
    alert_requests = [path for _, path, status in fake.request_log if path.startswith("/v2/alerts") and status == 200]
    assert summary["records_fetched"] == records == summary["rows"]
    assert summary["pages"] == len(alert_requests)
    # one page after another, keyset pages re-read the boundary millisecond: at most one page more
    assert expected_pages <= summary["pages"] <= expected_pages + 1
    # a first run reads everything by createdAt, which the API can search
    assert summary["method"] == "full read"
    assert all("sort=createdAt" in path and "order=asc" in path for path in alert_requests)


def test_alerts_read_in_windows_side_by_side_land_once_each(analytics_conn, duckdb_conn):
    fake = analytics_conn
    records = len(fake.records("alerts"))
    fake.reset_log()
    summary = sync("alerts", warehouse_conn_id="warehouse_duckdb", max_concurrent_requests=4)
    bounded = [path for _, path, _ in fake.request_log if "createdAt%3C" in path]  # slices with an upper bound
    assert bounded, "the range was not split into windows"
    assert summary["records_fetched"] == records == summary["rows"]
    assert count_and_distinct(partial(duckdb_rows, duckdb_conn), "analytics", "alerts") == (records, records)


@pytest.mark.postgres
def test_each_builtin_resource_lands_exactly_in_postgres_and_rerun_adds_no_duplicates(analytics_conn, postgres_conn):
    fake, dataset = analytics_conn, postgres_conn
    for resource in RESOURCE_NAMES:
        expected = len(fake.records(resource))
        summary = sync(resource, warehouse_conn_id="warehouse_pg", dataset_name=dataset)
        assert summary["rows"] == expected, resource
        assert_rerun(sync(resource, warehouse_conn_id="warehouse_pg", dataset_name=dataset), resource, expected)
        keys = stored_keys(postgres_rows, dataset, resource, live_only=False)
        assert len(keys) == len(set(keys)) == expected and keys == upstream_keys(fake, resource), resource


def test_seed_config_as_written_syncs_all_six_resources(analytics_conn, duckdb_conn):
    fake = analytics_conn
    config = load_seed_config(fake.base_url, API_KEY)
    handler = seed_error_handler()
    for entry in config["resources"]:
        entry["endpoint"]["error_handler"] = dict(handler)
    for resource in (entry["name"] for entry in config["resources"]):
        summary = sync(resource, warehouse_conn_id="warehouse_duckdb", config=config)
        expected = len(fake.records(resource))
        assert summary["rows"] == expected, resource
        assert count_and_distinct(partial(duckdb_rows, duckdb_conn), "analytics", resource) == (expected, expected)
    # the caller's dict is left as it was: still Airbyte-style, still holding the templates
    assert config["resources"][0]["endpoint"]["paginator"]["type"] == "cursor"
    assert "error_handler" in config["resources"][0]["endpoint"]


def test_seed_config_without_the_key_takes_it_from_the_connection(analytics_conn, duckdb_conn):
    fake = analytics_conn
    config = load_seed_config(fake.base_url, API_KEY)
    del config["client"]["auth"]["api_key"]
    summary = sync("teams", warehouse_conn_id="warehouse_duckdb", config=config)
    assert summary["rows"] == len(fake.records("teams"))


def test_wrong_key_fails_fast_with_a_clear_message_without_the_key(monkeypatch, fake_api, duckdb_conn):
    wrong_key = "sk-wrong-0d9e8c7b6a5f4e3d"
    monkeypatch.setenv("AIRFLOW_CONN_ANALYTICS_DEFAULT", analytics_conn_json(fake_api.base_url, key=wrong_key))
    fake_api.reset_log()
    started = time.monotonic()
    with pytest.raises(ApiKeyRefusedError) as caught:
        sync("alerts", warehouse_conn_id="warehouse_duckdb")
    assert time.monotonic() - started < 10
    message = str(caught.value)
    assert "refused the API key" in message and "401" in message and "alerts" in message
    from airflow.sdk.exceptions import AirflowFailException

    assert isinstance(caught.value, AirflowFailException)  # Airflow fails the task without retrying
    assert wrong_key not in message and wrong_key not in repr(caught.value)
    assert [status for _, _, status in fake_api.request_log] == [401]


def test_invalid_config_fails_before_any_request_naming_key_and_resource(analytics_conn, duckdb_conn):
    fake = analytics_conn
    config = load_seed_config(fake.base_url, API_KEY)
    config["resources"][5]["endpoint"]["paginator"]["page_tokn"] = "x"
    fake.reset_log()
    with pytest.raises(ConfigError) as caught:
        sync("alerts", warehouse_conn_id="warehouse_duckdb", config=config)
    assert "page_tokn" in str(caught.value) and "alerts" in str(caught.value)

    config = load_seed_config(fake.base_url, API_KEY)
    config["resources"][0]["endpoint"]["data_selectr"] = "data"
    with pytest.raises(ConfigError) as caught:
        sync("users", warehouse_conn_id="warehouse_duckdb", config=config)
    assert "data_selectr" in str(caught.value) and "users" in str(caught.value)
    assert API_KEY not in str(caught.value)
    assert fake.request_log == []


def test_embedded_default_warehouse_is_a_duckdb_file_under_the_configured_path(analytics_conn, monkeypatch, tmp_path):
    path = tmp_path / "embedded" / "default.duckdb"
    monkeypatch.setenv("AIRFLOW__ANALYTICS__DUCKDB_PATH", str(path))
    summary = sync("teams")
    assert summary["warehouse"] == str(path)
    assert duckdb_rows(path, "select count(*) from analytics.teams")[0][0] == len(analytics_conn.records("teams"))
