"""A connection of the OpsGenie provider's own type (`opsgenie`) used as it is by the sync."""

from __future__ import annotations

import json

from airflow_provider_analytics.hooks.analytics import AnalyticsHook
from airflow_provider_analytics.operators.analytics import AnalyticsSyncOperator
from airflow_provider_analytics.source.flavour import FLAVOUR_OPSGENIE
from tests.conftest import API_KEY


def opsgenie_conn(host: str | None = None, key: str = API_KEY) -> str:
    """AIRFLOW_CONN_* value as `apache-airflow-providers-opsgenie` defines its connection: host, password."""
    conn = {"conn_type": "opsgenie", "password": key}
    if host is not None:
        conn["host"] = host
    return json.dumps(conn)


def test_an_opsgenie_connection_pointing_at_the_api_syncs_its_rows(fake_api, duckdb_conn, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_OPSGENIE_DEFAULT", opsgenie_conn(fake_api.base_url))
    fake_api.reset_log()
    op = AnalyticsSyncOperator(task_id="sync_teams", resource="teams", analytics_conn_id="opsgenie_default",
                               warehouse_conn_id="warehouse_duckdb", progress_interval=0)
    summary = op.execute({})
    assert summary["rows"] == summary["table_rows"] == len(fake_api.records("teams")) > 0
    assert [status for _, path, status in fake_api.request_log if path.startswith("/v2/teams")] == [200]


def test_an_opsgenie_connection_without_host_is_the_opsgenie_api_and_never_the_successor(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_OPSGENIE_DEFAULT", opsgenie_conn())
    settings = AnalyticsHook(analytics_conn_id="opsgenie_default").get_conn()  # reads the connection, sends nothing
    assert settings.base_url == "https://api.opsgenie.com" and settings.flavour == FLAVOUR_OPSGENIE
    assert settings.api_key == API_KEY
    # the successor's host on an `opsgenie` connection still means the OpsGenie API (an `analytics` one would switch)
    monkeypatch.setenv("AIRFLOW_CONN_OPSGENIE_ATLASSIAN", opsgenie_conn("https://api.atlassian.com"))
    assert AnalyticsHook(analytics_conn_id="opsgenie_atlassian").get_conn().flavour == FLAVOUR_OPSGENIE
