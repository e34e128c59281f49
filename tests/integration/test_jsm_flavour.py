"""A connection to the Jira Service Management operations API: the same tables, exact, and a warehouse
filled from the OpsGenie API continues on it with no duplicate and no row wrongly marked deleted."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from airflow_provider_analytics.hooks.analytics import AnalyticsHook
from airflow_provider_analytics.source.jsm.endpoints import ENDPOINTS, UNSUPPORTED
from tests.conftest import API_KEY, analytics_conn_json, jsm_conn_json
from tests.helpers import dict_rows, stored_keys, sync_to as sync, table_key

MAPPED = ("teams", "integrations", "schedules", "escalations", "heartbeats", "alerts", "alert_logs", "alert_notes")
#: The fields each successor record carries, by their OpsGenie names (from the published reference,
#: written here apart from the provider's own mapping): a row read from it equals upstream on these.
SHARED_FIELDS: dict[str, tuple[str, ...]] = {
    "alerts": ("id", "tinyId", "alias", "message", "status", "acknowledged", "isSeen", "tags", "snoozed", "count",
               "lastOccurredAt", "source", "owner", "priority", "responders", "createdAt", "updatedAt"),
    "teams": ("id", "name"),
    "integrations": ("id", "name", "type", "enabled", "teamId"),
    "schedules": ("id", "name", "description", "timezone", "enabled"),  # rotations: the successor's own shape
    "escalations": ("id", "name", "description", "ownerTeam", "repeat"),
    "heartbeats": ("name", "description", "interval", "enabled", "intervalUnit", "ownerTeam", "alertMessage",
                   "alertTags", "alertPriority"),
    "alert_notes": ("alert_id", "offset", "note", "owner", "createdAt"),
    "alert_logs": ("alert_id", "log", "type", "owner", "createdAt"),
}
#: Nested values the successor splits into fields, checked apart: (column, the upstream path kept).
NESTED = {"alerts": ("integration", ("name", "type")), "schedules": ("owner_team", ("id",))}
#: alert logs carry no key on the successor API: their rows are compared by content.
LOG_CONTENT = ("alert_id", "created_at", "type", "log", "owner")


@pytest.fixture
def jsm_api(monkeypatch):
    """A fake serving both APIs on the same data; the default connection speaks the successor's."""
    from airflow_provider_analytics.testing.fake_api import FakeAnalyticsAPI

    with FakeAnalyticsAPI(api_key=API_KEY, sizes={"alerts": 150, "teams": 6, "users": 30}, seed=5) as api:
        monkeypatch.setenv("AIRFLOW_CONN_ANALYTICS_DEFAULT", jsm_conn_json(api))
        yield api


def as_classic(api, monkeypatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_ANALYTICS_DEFAULT", analytics_conn_json(api.base_url))


def as_successor(api, monkeypatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_ANALYTICS_DEFAULT", jsm_conn_json(api))


def live_rows(target, resource: str) -> list[dict[str, Any]]:
    where = " where _deleted_at is null" if "_deleted_at" in target.columns(resource) else ""
    return dict_rows(target.kind, target.rows, f"select * from {target.table(resource)}{where}")


def _plain(value: Any) -> Any:
    import json

    if isinstance(value, str) and value[:1] in ("[", "{"):
        return json.loads(value)
    return value


def upstream_records(api, resource: str) -> list[dict[str, Any]]:
    """Upstream's records that the successor API lists: heartbeats with no owner team are in no team's listing."""
    records = api.records(resource)
    if resource != "heartbeats":
        return records
    listed = {beat["name"] for beat in api.jsm_records("heartbeats")}
    return [record for record in records if record["name"] in listed]


def assert_exact_on_shared_fields(target, api, resource: str) -> None:
    """The live rows are upstream's, one per record, equal on every field both APIs serve."""
    from dlt.common.normalizers.naming.snake_case import NamingConvention

    from airflow_provider_analytics.source.timestamps import epoch_ms

    column = NamingConvention().normalize_identifier
    rows = live_rows(target, resource)
    upstream = upstream_records(api, resource)
    if resource == "alert_logs":
        def content(row: dict[str, Any], names: tuple[str, ...]) -> tuple:
            def ms(value: Any) -> Any:
                return round(value.timestamp() * 1000) if hasattr(value, "timestamp") else epoch_ms(value)
            return tuple(ms(row[n]) if n in ("created_at", "createdAt") else row[n] for n in names)
        got = Counter(content(row, LOG_CONTENT) for row in rows)
        want = Counter(content(row, ("alert_id", "createdAt", "type", "log", "owner")) for row in upstream)
        assert got == want, f"{resource}: {sum((got - want).values())} extra, {sum((want - got).values())} missing"
        return
    key = table_key(resource)
    assert stored_keys(target.rows, target.dataset, resource) == sorted(
        tuple(str(record[c]) for c in key) for record in upstream)
    stored = {tuple(str(row[column(c)]) for c in key): row for row in rows}
    assert len(stored) == len(rows), f"{resource}: duplicate keys"
    for record in upstream:
        row = stored[tuple(str(record[c]) for c in key)]
        for name in SHARED_FIELDS[resource]:
            value, got = record.get(name), _plain(row[column(name)])
            if name in ("createdAt", "updatedAt", "lastOccurredAt") and value is not None:
                assert round(got.timestamp() * 1000) == epoch_ms(value), (resource, name)
            else:
                assert got == value, (resource, name, value, got)
        if resource in NESTED:
            nested, kept = NESTED[resource]
            field = "integration" if nested == "integration" else "ownerTeam"
            expected = {k: (record.get(field) or {}).get(k) for k in kept}
            assert {k: (_plain(row[nested]) or {}).get(k) for k in kept} == expected, (resource, nested)


def test_every_mapped_resource_lands_exactly_from_the_successor_api(jsm_api, target):
    assert set(MAPPED) == set(ENDPOINTS)
    for resource in MAPPED:
        summary = sync(target, resource, checkpoint_interval=0.2)
        assert summary["table_rows"] == len(upstream_records(jsm_api, resource)), resource
        assert_exact_on_shared_fields(target, jsm_api, resource)
    paths = {path.split("?")[0] for _, path, _ in jsm_api.request_log}
    assert paths and all(path.startswith(f"/jsm/ops/api/{jsm_api.cloud_id}/v1/") for path in paths)


@pytest.mark.parametrize("resource", sorted(UNSUPPORTED))
def test_a_resource_without_counterpart_fails_or_skips_naming_it(jsm_api, duckdb_target, resource):
    with pytest.raises(AirflowFailException, match=rf"Resource '{resource}' cannot be synced from this connection"):
        sync(duckdb_target, resource)
    with pytest.raises(AirflowSkipException, match="on_unsupported='skip'"):
        sync(duckdb_target, resource, on_unsupported="skip")
    assert jsm_api.request_log == []  # refused before any request


def test_the_connection_test_names_the_api_it_reached(jsm_api, monkeypatch):
    ok, message = AnalyticsHook().test_connection()
    assert ok and "Jira Service Management operations API" in message and jsm_api.cloud_id in message
    monkeypatch.setenv("AIRFLOW_CONN_ANALYTICS_DEFAULT", jsm_conn_json(jsm_api, key="wrong-token"))
    ok, message = AnalyticsHook().test_connection()
    assert not ok and "HTTP 401" in message and "login field" in message and "wrong-token" not in message
    monkeypatch.setenv("AIRFLOW_CONN_ANALYTICS_DEFAULT", jsm_conn_json(jsm_api, cloud_id="not-this-site"))
    ok, message = AnalyticsHook().test_connection()
    assert not ok and "HTTP 404" in message and "cloud id" in message
    as_classic(jsm_api, monkeypatch)
    ok, message = AnalyticsHook().test_connection()
    assert ok and "OpsGenie API" in message


def test_a_warehouse_filled_from_opsgenie_continues_on_the_successor_api(jsm_api, target, monkeypatch):
    api = jsm_api
    as_classic(api, monkeypatch)
    for resource in MAPPED:
        sync(target, resource, checkpoint_interval=0.2)
    classic_log_keys = set(stored_keys(target.rows, target.dataset, "alert_logs"))

    changed = {api.update("alerts", i, status="closed")["id"] for i in range(2, 150, 17)}
    created = [alert["id"] for alert in api.add("alerts", 5)]
    gone_schedule = api.records("schedules")[0]["id"]
    api.remove("schedules", gone_schedule)
    api.update("escalations", 0, description="paged after 5 minutes")

    as_successor(api, monkeypatch)
    summaries = {resource: sync(target, resource, checkpoint_interval=0.2) for resource in MAPPED}
    assert summaries["alerts"]["mode"] == "incremental"  # the OpsGenie run's cursor carried over
    assert summaries["alert_logs"]["parents"] == len(changed | set(created))  # the child cursors carried over too
    for resource in MAPPED:
        assert_exact_on_shared_fields(target, api, resource)
        if "_deleted_at" in target.columns(resource):
            marked = dict_rows(target.kind, target.rows,
                               f"select * from {target.table(resource)} where _deleted_at is not null")
            key = table_key(resource)
            upstream = {tuple(str(record[c]) for c in key) for record in upstream_records(api, resource)}
            wrongly = [row for row in marked if tuple(str(row[c]) for c in key) in upstream]
            assert not wrongly, f"{resource}: {len(wrongly)} row(s) still upstream marked deleted"
    marked_schedules = dict_rows(target.kind, target.rows,
                                 f"select id from {target.table('schedules')} where _deleted_at is not null")
    assert [row["id"] for row in marked_schedules] == [gone_schedule]
    # The logs of the alerts read again are the same entries under the successor's keys; the others keep theirs.
    logs = live_rows(target, "alert_logs")
    rekeyed = {row["alert_id"] for row in logs if str(row["offset"]).startswith("jsm:")}
    assert rekeyed and rekeyed <= changed | set(created)
    kept = {(row["alert_id"], row["offset"]) for row in logs if row["alert_id"] not in rekeyed}
    assert kept <= classic_log_keys


@pytest.mark.parametrize("search, method", [("accepted", "updatedAt search"), ("rejected", "full read"),
                                            ("ignored", "full read")])
def test_incremental_alerts_on_the_successor_api_find_out_what_its_search_does(monkeypatch, duckdb_target,
                                                                               search, method):
    """No listing sorts on updatedAt there: an updatedAt search where the account takes it, else a full read."""
    from airflow_provider_analytics.testing.fake_api import FakeAnalyticsAPI

    with FakeAnalyticsAPI(api_key=API_KEY, sizes={"alerts": 400}, seed=2, updated_at_search=search) as api:
        as_successor(api, monkeypatch)
        first = sync(duckdb_target, "alerts")
        for index in range(0, 400, 9):
            api.update("alerts", index, status="closed")
        api.reset_log()
        second = sync(duckdb_target, "alerts")
        assert (second["mode"], second["method"], second["updated_at_search"]) == ("incremental", method, search)
        assert first["table_rows"] == 400 and second["table_rows"] == 400
        sorts = {part for _, path, _ in api.request_log for part in path.split("&") if "sort=" in part}
        assert sorts <= {"sort=createdAt"}, sorts  # the successor's alerts never sort on updatedAt
        assert_exact_on_shared_fields(duckdb_target, api, "alerts")


def test_paging_and_the_request_budget_work_the_same_on_the_successor_api(monkeypatch, duckdb_target):
    """Next links relative, as the schema examples write them; 429s with Retry-After, learnt by the pacer;
    every record once."""
    from airflow_provider_analytics.testing.fake_api import FakeAnalyticsAPI

    with FakeAnalyticsAPI(api_key=API_KEY, sizes={"alerts": 15, "schedules": 60}, seed=4, budget=25, burst=3) as api:
        as_successor(api, monkeypatch)
        schedules = sync(duckdb_target, "schedules")
        assert schedules["pages"] == 2  # pages of 50, the most the operation takes
        notes = sync(duckdb_target, "alert_notes", checkpoint_interval=0.5)
        for resource in ("schedules", "alert_notes"):
            assert_exact_on_shared_fields(duckdb_target, api, resource)
        throttled = [status for _, _, status in api.request_log if status == 429]
        assert throttled and schedules["throttled"] + notes["throttled"] == len(throttled) == api.budget.throttled
        assert notes["requests"] <= 17 + len(throttled)  # a listing page, then one request per alert
        assert {status for _, _, status in api.request_log} <= {200, 429}


def test_absolute_next_links_as_the_reference_narrative_writes_them(monkeypatch, duckdb_target):
    from airflow_provider_analytics.testing.fake_api import FakeAnalyticsAPI

    with FakeAnalyticsAPI(api_key=API_KEY, sizes={"alerts": 260, "schedules": 120}, seed=4,
                          jsm_absolute_links=True) as api:
        as_successor(api, monkeypatch)
        assert sync(duckdb_target, "schedules")["pages"] == 3
        assert sync(duckdb_target, "alert_logs")["parents"] == 260
        for resource in ("schedules", "alert_logs"):
            assert_exact_on_shared_fields(duckdb_target, api, resource)
        nexts = [path for _, path, _ in api.request_log if "offset=" in path or "after=" in path]
        assert nexts and all(path.startswith(f"/jsm/ops/api/{api.cloud_id}/v1/") for path in nexts)
