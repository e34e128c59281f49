"""Bad configs and connections are refused before any request; odd but valid data lands as sent."""

from __future__ import annotations

import json

import pytest

from airflow_provider_analytics.hooks.analytics import AnalyticsConnectionError
from airflow_provider_analytics.source.errors import ConfigError
from airflow_provider_analytics.testing.fake_api import FIELDS, FakeReply
from tests.conftest import API_KEY
from tests.helpers import load_seed_config, sync_to as sync


def seed_with(base_url: str, change) -> dict:
    config = load_seed_config(base_url, API_KEY)
    change(config)
    return config


BAD_CONFIGS = [
    ("alerts", lambda c: c.update(clients={}), ["'clients'", "top-level"]),
    ("alerts", lambda c: c["resources"][5]["endpoint"].update(data_selectr="data"), ["data_selectr", "alerts"]),
    ("users", lambda c: c["resources"][0]["endpoint"].update(paginator=5), ["paginator", "users"]),
    ("users", lambda c: c["resources"][0]["endpoint"].update(
        error_handler={"retry_on_status_codes": [429], "max_retries": "three"}), ["max_retries", "users"]),
    ("teams", lambda c: c["resources"][1]["endpoint"]["paginator"].update(cursor_value="{{ response.get( }}"),
     ["cursor_value", "teams"]),
    ("teams", lambda c: c["resources"][1]["endpoint"]["paginator"].update(stop_condition=5), ["stop_condition", "teams"]),
    ("tickets", lambda c: None, ["'tickets'", "not in config.resources"]),
]


@pytest.mark.parametrize("resource,change,words", BAD_CONFIGS)
def test_a_bad_config_is_refused_before_any_request_naming_the_key_and_resource(
    new_api, duckdb_target, resource, change, words
):
    api = new_api(teams=3)
    with pytest.raises(ConfigError) as caught:
        sync(duckdb_target, resource, config=seed_with(api.base_url, change))
    message = str(caught.value)
    assert all(word in message for word in words), message
    assert API_KEY not in message
    assert api.request_log == []


def test_an_unknown_builtin_resource_is_refused_before_any_request(new_api, duckdb_target):
    api = new_api(teams=3)
    with pytest.raises(ConfigError, match="Unknown resource 'tickets': the built-in resources are users, teams"):
        sync(duckdb_target, "tickets")
    assert api.request_log == []


@pytest.mark.parametrize(
    "conn,message",
    [
        ({"conn_type": "analytics", "password": "k"}, "has no host: set it to the API base URL"),
        ({"conn_type": "analytics", "host": "http://127.0.0.1:9"}, "No API key: put the key in the connection's password field"),
        ({"conn_type": "analytics", "host": "ftp://files.example.com", "password": "k"}, "http"),
    ],
)
def test_a_bad_connection_is_reported_at_the_start_with_what_to_fix(
    monkeypatch, duckdb_conn, duckdb_target, conn, message
):
    monkeypatch.setenv("AIRFLOW_CONN_ANALYTICS_DEFAULT", json.dumps(conn))
    with pytest.raises(AnalyticsConnectionError) as caught:
        sync(duckdb_target, "teams")
    assert "analytics_default" in str(caught.value) and message in str(caught.value)
    assert not duckdb_conn.exists()  # nothing was written


def test_empty_resources_sync_to_empty_tables(new_api, target):
    new_api(teams=0, alerts=0, users=0)
    for resource in ("teams", "alerts", "users"):
        summary = sync(target, resource)
        assert summary["rows"] == 0 and summary["records_fetched"] == 0 and summary["table_rows"] == 0, resource


def test_a_page_with_no_records_but_a_next_link_is_followed(new_api, target):
    api = new_api(alerts=300, users=250)
    served = []

    def empty_first_page(request):
        if request.path in ("/v2/alerts", "/v2/users") and "offset" not in request.query and request.path not in served:
            served.append(request.path)
            next_url = f"{api.base_url}{request.path}?" + "&".join(f"{k}={v}" for k, v in request.query.items()) + "&offset=0"
            return FakeReply(200, {"data": [], "paging": {"next": next_url}})
        return None

    api.faults.append(empty_first_page)
    for resource in ("alerts", "users"):
        summary = sync(target, resource)
        expected = len(api.records(resource))
        assert summary["rows"] == expected and target.count(resource) == (expected, expected), resource
    assert served == ["/v2/alerts", "/v2/users"]


def test_unicode_long_strings_and_nulls_in_every_nullable_field_land_as_sent(new_api, target):
    api = new_api(alerts=30, teams=5)
    text = "Ünïcödé ✓ 日本語の警告 — שלום עולם — 🚨🔥 — e\u0301 — \u200b"
    long_text = "x" * 50_000 + "🚨" * 1000
    loud = api.update("alerts", 0, message=text, description=long_text, tags=[text, "🚨"],
                      details={"ключ": text, "emoji": "🔥"})
    nullable = {field: None for field in FIELDS["alerts"] if field not in ("id", "createdAt", "updatedAt")}
    empty = api.update("alerts", 1, **nullable)
    team = api.update("teams", 0, name=text, description=None, links=None)
    sync(target, "alerts")
    sync(target, "teams")
    alerts = target.records("alerts")
    assert alerts[loud["id"]]["message"] == text and alerts[loud["id"]]["description"] == long_text
    tags = alerts[loud["id"]]["tags"]
    assert (json.loads(tags) if isinstance(tags, str) else tags) == [text, "🚨"]
    row = alerts[empty["id"]]
    assert all(row[column] is None for column in row if column not in
               ("id", "created_at", "updated_at", "_dlt_load_id", "_dlt_id"))
    teams = target.records("teams")
    assert teams[team["id"]]["name"] == text and teams[team["id"]]["links"] is None
