"""ArrowPageBuilder: pages as typed Arrow tables, or handed back when they do not fit the schema."""

from __future__ import annotations

import json

import pyarrow as pa

from airflow_provider_analytics.source.builtin.arrow_pages import TIMESTAMP, ArrowPageBuilder
from airflow_provider_analytics.source.schema_hints import column_hints
from airflow_provider_analytics.source.timestamps import epoch_ms
from airflow_provider_analytics.testing.fake_api import FakeAnalyticsAPI


def alerts(n: int = 120) -> list[dict]:
    return FakeAnalyticsAPI(api_key="k", sizes={"alerts": n}, seed=4).records("alerts")


def test_a_page_of_alerts_becomes_a_table_typed_by_the_json_schema():
    records = alerts()
    table = ArrowPageBuilder(column_hints("alerts")).build(records)
    assert table.num_rows == len(records)
    assert table.schema.field("createdAt").type == TIMESTAMP
    assert table.schema.field("count").type == pa.int64() and table.schema.field("acknowledged").type == pa.bool_()
    assert table.schema.field("tags").type == pa.string()  # JSON text, for a json column
    rows = table.to_pylist()
    for record, row in zip(records, rows):
        assert round(row["createdAt"].timestamp() * 1000) == epoch_ms(record["createdAt"])
        assert json.loads(row["report"]) == record["report"] and json.loads(row["tags"]) == record["tags"]
        assert row["message"] == record["message"] and row["count"] == record["count"]


def test_pages_that_do_not_fit_are_handed_back_as_records():
    builder = ArrowPageBuilder(column_hints("alerts"))
    records = alerts(5)
    assert builder.build([{**records[0], "newField": 1}] + records[1:]) is None
    assert builder.build([{**records[0], "count": "many"}]) is None
    assert builder.build([{**records[0], "message": 42}]) is None
    assert builder.build([{**records[0], "createdAt": 1700000000000}]) is None
    assert builder.build([{**records[0], "createdAt": "yesterday"}]) is None
    assert builder.build([{**records[0], "count": 1.5}]) is None  # Arrow would truncate it to 1
    assert builder.build([{**records[0], "count": True}]) is None
    assert builder.build([{**records[0], "id": None}]) is None
    assert builder.pages_as_records == 8
    assert builder.build([]) is None and builder.pages_as_records == 8


def test_missing_fields_and_nulls_are_nulls():
    record = {"id": "a1", "createdAt": None, "tags": None}
    table = ArrowPageBuilder(column_hints("alerts")).build([record])
    row = table.to_pylist()[0]
    assert row["id"] == "a1" and row["createdAt"] is None and row["tags"] is None and row["message"] is None
