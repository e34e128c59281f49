"""JSON Schemas of the records and the dlt column hints built from them.

The schemas must accept everything the fake API serves (it mirrors
upstream), cover every field, and give dlt the column types the warehouse
should have: checked last with a real dlt load into DuckDB.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import jsonschema
import pytest

from airflow_provider_analytics.source.catalog import RESOURCE_NAMES
from airflow_provider_analytics.source.schema_hints import (
    SCHEMA_RESOURCES,
    column_hints,
    load_json_schema,
)
from airflow_provider_analytics.testing.fake_api import COLUMNS, FIELDS, KEYS, FakeAnalyticsAPI

DRAFT_07 = "http://json-schema.org/draft-07/schema#"

# ISO-8601 UTC as upstream writes it: 0-3 fraction digits (trimmed), always "Z".
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?Z\Z")

# jsonschema checks "date-time" only with rfc3339-validator installed, and RFC 3339
# would also allow offsets and long fractions; this checker is strict and always on.
FORMATS = jsonschema.FormatChecker(formats=())


@FORMATS.checks("date-time", raises=ValueError)
def _is_upstream_timestamp(value: object) -> bool:
    if not isinstance(value, str):
        return True  # the "type" keyword judges non-strings
    if not ISO_UTC.match(value):
        return False
    datetime.fromisoformat(value)  # ValueError (a failed check) on dates such as month 13
    return True


def validator(resource: str) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(load_json_schema(resource), format_checker=FORMATS)


def walk_properties(schema: dict, path: str = ""):
    """(path, property schema) of every described property, nested ones and list items included."""
    for name, prop in schema.get("properties", {}).items():
        yield f"{path}{name}", prop
        yield from walk_properties(prop, f"{path}{name}.")
        items = prop.get("items")
        if isinstance(items, dict):
            yield f"{path}{name}[]", items
            yield from walk_properties(items, f"{path}{name}[].")


@pytest.fixture(scope="module")
def fake() -> FakeAnalyticsAPI:
    return FakeAnalyticsAPI(api_key="k", seed=7)  # records() needs no running server


def test_every_catalog_resource_has_a_schema():
    assert set(SCHEMA_RESOURCES) == set(RESOURCE_NAMES) == set(COLUMNS)
    assert set(FIELDS) < set(COLUMNS)
    assert len(SCHEMA_RESOURCES) == 14


def keyed(resource: str) -> dict:
    """A record holding only its key columns."""
    return {name: "x" for name in KEYS[resource]}


@pytest.mark.parametrize("resource", sorted(COLUMNS))
def test_schema_is_valid_draft_07_object(resource):
    schema = load_json_schema(resource)
    jsonschema.Draft7Validator.check_schema(schema)
    assert schema["$schema"] == DRAFT_07
    assert schema["type"] == "object"
    assert schema.get("additionalProperties", True) is not False, "upstream adds fields"
    assert validator(resource).is_valid({**keyed(resource), "fieldAddedUpstreamLater": [1, {"a": None}]})


@pytest.mark.parametrize("resource", sorted(COLUMNS))
def test_schema_covers_every_field_with_a_description(resource):
    schema = load_json_schema(resource)
    assert list(schema["properties"]) == list(COLUMNS[resource])
    for path, prop in walk_properties(schema):
        assert isinstance(prop.get("description"), str) and prop["description"].strip(), path
    assert schema["description"].strip()


@pytest.mark.parametrize("resource", sorted(COLUMNS))
def test_only_the_key_columns_are_non_nullable(resource):
    schema = load_json_schema(resource)
    properties = schema["properties"]
    assert schema["required"] == list(KEYS[resource])
    for name, prop in properties.items():
        if name in KEYS[resource]:
            assert prop["type"] == "string", name
        else:
            assert isinstance(prop["type"], list) and "null" in prop["type"], name
            assert len(prop["type"]) == 2, name
    record = {name: None for name in COLUMNS[resource]}
    assert validator(resource).is_valid({**record, **keyed(resource)})
    for key in KEYS[resource]:
        assert not validator(resource).is_valid({**record, **keyed(resource), key: None})  # a key column null


@pytest.mark.parametrize("resource", sorted(COLUMNS))
def test_every_fake_record_validates(fake, resource):
    records = fake.records(resource)
    assert records
    check = validator(resource)
    for record in records:
        assert tuple(record) == COLUMNS[resource]
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in check.iter_errors(record)]
        assert not errors, ([record[k] for k in KEYS[resource]], errors)


def test_fake_timestamps_in_every_trimmed_form_validate(fake):
    """The fake serves ``...02Z``, ``...41.03Z`` and ``...40.926Z``; all pass the date-time check."""
    fractions = set()
    for record in fake.records("alerts"):
        for name in ("createdAt", "updatedAt", "lastOccurredAt", "snoozedUntil"):
            if record[name] is not None:
                match = ISO_UTC.match(record[name])
                assert match, record[name]
                fractions.add(len(match.group(1) or ".") - 1)
    assert {0, 2, 3} <= fractions


@pytest.mark.parametrize("bad", [
    "2024-01-01 00:00:41Z",          # no T
    "2024-01-01T00:00:41",           # no zone
    "2024-01-01T00:00:41+00:00",     # offset instead of Z
    "2024-01-01T00:00:41.1234Z",     # more than milliseconds
    "2024-13-01T00:00:41Z",          # no such month
    "1704067241030",                 # epoch ms as text
])
def test_format_checking_is_on(fake, bad):
    alert = fake.records("alerts")[0]
    check = validator("alerts")
    assert check.is_valid(alert)
    assert not check.is_valid({**alert, "createdAt": bad})
    assert not check.is_valid({**alert, "snoozedUntil": bad})


def test_schemas_reject_wrong_types(fake):
    alert = fake.records("alerts")[0]
    check = validator("alerts")
    assert not check.is_valid({**alert, "count": "3"})
    assert not check.is_valid({**alert, "tinyId": 1})
    assert not check.is_valid({**alert, "acknowledged": "true"})
    assert not check.is_valid({**alert, "priority": "P9"})
    assert not check.is_valid({**alert, "report": {"ackTime": "12"}})
    user = fake.records("users")[0]
    assert not validator("users").is_valid({**user, "details": {"phone": "+1 555"}})  # values are lists


def test_unknown_resource_is_refused_with_the_known_ones():
    with pytest.raises(ValueError) as err:
        load_json_schema("maintenances")
    assert "'maintenances'" in str(err.value)
    for known in SCHEMA_RESOURCES:
        assert known in str(err.value)
    with pytest.raises(ValueError, match="maintenances"):
        column_hints("maintenances")


def test_load_json_schema_returns_independent_copies():
    first = load_json_schema("teams")
    first["properties"].clear()
    assert set(load_json_schema("teams")["properties"]) == set(FIELDS["teams"])
    assert column_hints("teams").keys() == set(FIELDS["teams"])


def test_column_hints_types():
    alerts = column_hints("alerts")
    assert alerts["createdAt"]["data_type"] == "timestamp"
    assert alerts["updatedAt"]["data_type"] == "timestamp"
    assert alerts["snoozedUntil"]["data_type"] == "timestamp"
    assert alerts["count"]["data_type"] == "bigint"
    assert alerts["acknowledged"]["data_type"] == "bool"
    assert alerts["tags"]["data_type"] == "json"
    assert alerts["report"]["data_type"] == "json"
    assert alerts["tinyId"]["data_type"] == "text"
    assert alerts["id"] == {
        "name": "id", "data_type": "text", "nullable": False,
        "description": load_json_schema("alerts")["properties"]["id"]["description"],
    }
    assert alerts["createdAt"]["nullable"] is True
    users = column_hints("users")
    assert users["details"]["data_type"] == "json"
    assert users["createdAt"]["data_type"] == "timestamp"
    assert users["id"]["nullable"] is False
    assert column_hints("incidents")["impactStartDate"]["data_type"] == "timestamp"
    assert column_hints("integrations")["enabled"]["data_type"] == "bool"
    schedules, heartbeats, logs = column_hints("schedules"), column_hints("heartbeats"), column_hints("alert_logs")
    assert schedules["rotations"]["data_type"] == schedules["ownerTeam"]["data_type"] == "json"
    assert column_hints("escalations")["rules"]["data_type"] == "json"
    assert heartbeats["name"]["nullable"] is False and heartbeats["name"]["data_type"] == "text"
    assert heartbeats["lastPingTime"]["data_type"] == "timestamp"
    assert heartbeats["interval"]["data_type"] == "bigint"
    assert logs["createdAt"]["data_type"] == "timestamp"
    assert logs["offset"] == {"name": "offset", "data_type": "text", "nullable": False,
                              "description": load_json_schema("alert_logs")["properties"]["offset"]["description"]}
    assert logs["alert_id"]["nullable"] is False
    assert column_hints("team_members")["user"]["data_type"] == "json"
    assert column_hints("user_teams")["team_id"]["nullable"] is False


@pytest.mark.parametrize("resource", sorted(COLUMNS))
def test_column_hints_follow_the_schema(resource):
    properties = load_json_schema(resource)["properties"]
    hints = column_hints(resource)
    assert list(hints) == list(COLUMNS[resource])
    expected = {"string": "text", "boolean": "bool", "integer": "bigint", "number": "double",
                "object": "json", "array": "json"}
    for name, hint in hints.items():
        prop = properties[name]
        types = [prop["type"]] if isinstance(prop["type"], str) else prop["type"]
        (json_type,) = [t for t in types if t != "null"]
        wanted = "timestamp" if prop.get("format") == "date-time" else expected[json_type]
        assert hint == {"name": name, "data_type": wanted, "nullable": name not in KEYS[resource],
                        "description": prop["description"]}


def test_schema_hints_import_neither_airflow_nor_dlt():
    code = ("import sys, airflow_provider_analytics.source.schema_hints as s; s.column_hints('alerts'); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'airflow', 'dlt'}))")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "[]"


def test_dlt_loads_alerts_into_duckdb_with_hinted_types(fake, tmp_path):
    os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"
    import dlt
    import duckdb

    alerts = fake.records("alerts")[:6]
    stamps = {
        "2024-01-01T00:00:41.03Z": datetime(2024, 1, 1, 0, 0, 41, 30000, tzinfo=timezone.utc),
        "2024-01-01T00:00:40.926Z": datetime(2024, 1, 1, 0, 0, 40, 926000, tzinfo=timezone.utc),
        "2024-01-01T00:00:02Z": datetime(2024, 1, 1, 0, 0, 2, tzinfo=timezone.utc),
    }
    for alert, stamp in zip(alerts, stamps):
        alert["createdAt"] = stamp
    for alert in alerts:
        alert["snoozedUntil"] = None  # all null: without a hint dlt would drop the column
    alerts[3]["report"] = {}
    alerts[4]["tags"], alerts[4]["report"] = None, None

    path = tmp_path / "warehouse.duckdb"
    pipeline = dlt.pipeline(
        pipeline_name="schema_hints_test",
        destination=dlt.destinations.duckdb(str(path)),
        dataset_name="t",
        pipelines_dir=str(tmp_path / "p"),
    )
    resource = dlt.resource(alerts, name="alerts", primary_key="id", write_disposition="merge",
                            columns=column_hints("alerts"))
    info = pipeline.run(resource)
    assert not info.has_failed_jobs

    with duckdb.connect(str(path), read_only=True) as con:
        tables = {r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 't'").fetchall()}
        assert tables == {"alerts", "_dlt_loads", "_dlt_pipeline_state", "_dlt_version"}

        columns = dict(con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 't' and table_name = 'alerts'").fetchall())
        assert columns["created_at"] == "TIMESTAMP WITH TIME ZONE"
        assert columns["snoozed_until"] == "TIMESTAMP WITH TIME ZONE"
        assert columns["tags"] == "JSON"
        assert columns["report"] == "JSON"
        assert columns["details"] == "JSON"
        assert columns["count"] == "BIGINT"
        assert columns["acknowledged"] == "BOOLEAN"
        assert columns["tiny_id"] == "VARCHAR"
        assert not [c for c in columns if "__" in c], "nested objects were flattened"
        assert "createdAt" not in columns  # the camelCase hint met the record key in one column
        nullable = dict(con.execute(
            "select column_name, is_nullable from information_schema.columns "
            "where table_schema = 't' and table_name = 'alerts'").fetchall())
        assert nullable["id"] == "NO"

        rows = {r[0]: r[1:] for r in con.execute(
            "select id, epoch_ms(created_at), count, tags::varchar, report->>'$.ackTime', "
            "report::varchar from t.alerts").fetchall()}
    assert len(rows) == len(alerts)
    for alert, instant in zip(alerts, stamps.values()):
        assert rows[alert["id"]][0] == int(instant.timestamp() * 1000)
    assert [rows[a["id"]][0] % 60_000 for a in alerts[:3]] == [41_030, 40_926, 2_000]
    first = alerts[0]
    assert rows[first["id"]][1] == first["count"]
    assert isinstance(first["report"]["ackTime"], int)  # fixed by the seed
    assert rows[first["id"]][3] == str(first["report"]["ackTime"])  # camelCase kept inside the JSON
    for alert in alerts:
        if alert["tags"] is not None:
            assert json.loads(rows[alert["id"]][2]) == alert["tags"]
    assert any(alert["tags"] for alert in alerts)
    assert rows[alerts[3]["id"]][4] == "{}"  # an empty object is kept, not dropped
    assert rows[alerts[4]["id"]][2] is None and rows[alerts[4]["id"]][4] is None

