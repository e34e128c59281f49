"""Typed, described columns and the JSON layout on DuckDB and PostgreSQL; schema drift and freezing."""

from __future__ import annotations

import json

import pytest

from airflow_provider_analytics.source.catalog import CATALOG, RESOURCE_NAMES
from airflow_provider_analytics.source.schema_hints import column_hints
from airflow_provider_analytics.source.timestamps import epoch_ms
from airflow_provider_analytics.pipeline.errors import SchemaFrozenError
from tests.helpers import assert_same_record, dict_rows, sync_to as sync

TYPE_NAMES = {
    "duckdb": {"timestamp": "TIMESTAMP WITH TIME ZONE", "json": "JSON", "bigint": "BIGINT", "bool": "BOOLEAN", "text": "VARCHAR"},
    "postgres": {"timestamp": "TIMESTAMP WITH TIME ZONE", "json": "JSONB", "bigint": "BIGINT", "bool": "BOOLEAN", "text": "CHARACTER VARYING"},
}


def test_every_resource_lands_typed_and_flat_with_every_field_equal_to_upstream(analytics_conn, target):
    from dlt.common.normalizers.naming.snake_case import NamingConvention

    naming = NamingConvention()
    fake = analytics_conn
    for resource in RESOURCE_NAMES:
        sync(target, resource)
        columns = target.columns(resource)
        key = CATALOG[resource].primary_key
        for field, hint in column_hints(resource).items():
            kind, nullable = columns[naming.normalize_identifier(field)]
            assert kind == TYPE_NAMES[target.kind][hint["data_type"]], (resource, field, kind)
            assert nullable == (field not in key), (resource, field)
        rows = dict_rows(target.kind, target.rows, f"select * from {target.table(resource)}")
        stored = {tuple(row[column] for column in key): row for row in rows}
        upstream = {tuple(record[column] for column in key): record for record in fake.records(resource)}
        assert set(stored) == set(upstream), resource
        for record_key in list(upstream)[:200]:
            assert_same_record(upstream[record_key], stored[record_key], resource)
    tables = {row[0] for row in target.rows(
        f"select table_name from information_schema.tables where table_schema = '{target.dataset}'"
    )}
    # one table per resource: nested objects and lists are JSON columns, not dlt's nested tables
    assert {t for t in tables if not t.startswith("_dlt")} == set(RESOURCE_NAMES)


def test_trimmed_fraction_timestamps_land_as_exact_instants(analytics_conn, target):
    sync(target, "alerts")
    upstream = analytics_conn.records("alerts")
    fraction_digits = {len(r["createdAt"].rstrip("Z").partition(".")[2]) for r in upstream}
    assert {0, 2, 3} <= fraction_digits  # ...02Z, ...41.03Z and ...40.926Z all occur
    stored = target.records("alerts")
    for record in upstream:
        got = stored[record["id"]]["created_at"]
        assert round(got.timestamp() * 1000) == epoch_ms(record["createdAt"]), record["createdAt"]


def test_column_descriptions_from_the_json_schema_are_in_the_stored_dlt_schema(analytics_conn, target):
    sync(target, "users")
    (schema_text,), = target.rows(
        f"select schema from {target.table('_dlt_version')} order by inserted_at desc limit 1"
    )
    schema = json.loads(schema_text)
    columns = schema["tables"]["users"]["columns"]
    expected = column_hints("users")["fullName"]["description"]
    assert expected and columns["full_name"]["description"] == expected
    assert columns["created_at"]["data_type"] == "timestamp"


def test_a_new_upstream_field_becomes_a_new_column_by_default(new_api, target):
    api = new_api(teams=12)
    sync(target, "teams")
    team = api.update("teams", 0, escalationPolicy={"id": "p-1", "name": "Primary"}, slackChannel="#ops")
    sync(target, "teams")
    columns = target.columns("teams")
    assert columns["slack_channel"][0] in ("VARCHAR", "CHARACTER VARYING")
    row = target.records("teams")[team["id"]]
    assert row["slack_channel"] == "#ops"
    policy = row["escalation_policy"]
    assert (json.loads(policy) if isinstance(policy, str) else policy) == {"id": "p-1", "name": "Primary"}


def test_a_frozen_schema_fails_on_a_new_field_naming_it_and_loads_nothing(new_api, target):
    api = new_api(teams=12)
    sync(target, "teams", freeze_schema=True)
    before = target.records("teams")
    changed = api.update("teams", 3, name="renamed", slackChannel="#ops")
    with pytest.raises(SchemaFrozenError) as caught:
        sync(target, "teams", freeze_schema=True)
    message = str(caught.value)
    assert "slack_channel" in message and "teams" in message and "frozen" in message
    assert "slack_channel" not in target.columns("teams")
    assert target.records("teams")[changed["id"]]["name"] == before[changed["id"]]["name"]


def test_a_frozen_schema_fails_on_a_value_of_another_type(new_api, target):
    api = new_api(alerts=50)
    sync(target, "alerts", freeze_schema=True)
    api.update("alerts", 1, count="many")
    with pytest.raises(SchemaFrozenError, match=r"alerts.*frozen.*another type for column 'count'"):
        sync(target, "alerts", freeze_schema=True)

