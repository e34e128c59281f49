"""Assets known at parse time are the Assets the syncs emit events for, without loading dlt."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from airflow_provider_analytics.table_assets import table_asset, table_assets

CONNECTIONS = {
    "warehouse_file": {"conn_type": "duckdb", "host": "~/some/where/../w.duckdb"},
    "warehouse_path_extra": {"conn_type": "duckdb", "extra": {"path": "/data/x.duckdb"}},
    "warehouse_pg": {"conn_type": "postgres", "host": "db.internal", "port": 6432, "login": "u", "password": "pw",
                     "schema": "dwh"},
    "warehouse_pg_defaults": {"conn_type": "postgresql", "host": "127.0.0.1"},
}


@pytest.fixture
def connections(monkeypatch, tmp_path):
    monkeypatch.setenv("AIRFLOW__ANALYTICS__DUCKDB_PATH", str(tmp_path / "embedded.duckdb"))
    for conn_id, conn in CONNECTIONS.items():
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
    return tmp_path


@pytest.mark.parametrize("conn_id", [None, *CONNECTIONS])
def test_the_assets_a_dag_waits_for_are_the_ones_a_sync_emits(connections, conn_id):
    from airflow_provider_analytics.warehouses import resolve_warehouse

    warehouse = resolve_warehouse(conn_id)
    emitted = [table_asset(warehouse.asset_uri("analytics", t)) for t in ("alerts", "teams")]
    assert table_assets(["alerts", "teams"], "analytics", conn_id) == emitted
    assert all(asset.name == asset.uri for asset in emitted)
    assert "pw" not in str(emitted)


def test_the_embedded_file_and_a_postgres_connection_name_their_assets_as_documented(connections):
    embedded, = table_assets(["alerts"], "analytics")
    assert embedded.uri == f"duckdb:{connections / 'embedded.duckdb'}/analytics/alerts"
    pg, = table_assets(["alerts"], "analytics", "warehouse_pg")
    assert pg.uri == "postgres://db.internal:6432/dwh/analytics/alerts"


def test_building_them_loads_no_dlt_and_no_driver(connections):
    code = ("import sys\n"
            "from airflow_provider_analytics.table_assets import table_assets\n"
            "for conn in (None, 'warehouse_file', 'warehouse_pg'):\n"
            "    table_assets(['alerts'], 'analytics', conn)\n"
            "print(sorted(m for m in ('dlt', 'duckdb', 'psycopg2', 'requests') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


SIX = ["alerts", "alert_logs", "alert_recipients", "teams", "users", "incidents"]
JSM = {"conn_type": "analytics", "host": "https://api.atlassian.com", "login": "ops@example.com",
       "password": "jsm-token", "extra": {"cloud_id": "0c4e7d2a-cloud"}}


@pytest.mark.parametrize(("conn", "kept"), [
    ({"conn_type": "analytics", "host": "https://api.eu.opsgenie.com", "password": "k"}, SIX),
    ({"conn_type": "opsgenie", "password": "k"}, SIX),
    (JSM, ["alerts", "alert_logs", "teams"]),
    ({**JSM, "extra": {}}, SIX),  # no cloud id yet: not readable, counted as OpsGenie
    (None, SIX),  # no connection yet
])
def test_a_dag_waits_only_for_the_tables_the_connections_api_keeps_updating(monkeypatch, conn, kept):
    from airflow_provider_analytics.table_assets import tables_kept_current

    if conn is None:
        monkeypatch.delenv("AIRFLOW_CONN_ANALYTICS_METRICS_TEST", raising=False)
    else:
        monkeypatch.setenv("AIRFLOW_CONN_ANALYTICS_METRICS_TEST", json.dumps(conn))
    assert tables_kept_current(SIX, "analytics_metrics_test") == kept
