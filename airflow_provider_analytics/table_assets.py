"""The Airflow Assets of synced tables, known when a DAG file is parsed, for DAGs scheduled on them.

A sync emits its table's Asset event with a URI built from the warehouse connection
(`Warehouse.asset_uri`). A DAG that waits for tables needs the same URIs before any task runs:
here they are built from the same pieces, without dlt or a database driver, for the embedded
DuckDB file and for DuckDB and PostgreSQL connections (what the example DAGs use). Any other
warehouse type builds its `Warehouse` (importing dlt while the file is parsed).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Optional

from airflow.sdk import Asset

from airflow_provider_analytics.warehouses.duckdb import default_duckdb_path, duckdb_asset_base, duckdb_file_of
from airflow_provider_analytics.warehouses.postgres import postgres_location


def table_asset(uri: str) -> Asset:
    """The Asset of a table URI, named by the URI as Airflow normalises it (`duckdb:///x` -> `duckdb:/x`).

    Every event and every schedule goes through here, so their Assets agree in name and URI.
    """
    return Asset(Asset(uri).uri)


def warehouse_asset_base(warehouse_conn_id: Optional[str] = None) -> str:
    """The start of every table's Asset URI in this warehouse (None: the embedded DuckDB file)."""
    if not warehouse_conn_id:
        return duckdb_asset_base(default_duckdb_path())
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(warehouse_conn_id)
    kind = (conn.conn_type or "").lower()
    path = duckdb_file_of(conn) if kind == "duckdb" else None
    if path:
        return duckdb_asset_base(path)
    if kind in ("postgres", "postgresql") and conn.host:
        return postgres_location(conn)
    from airflow_provider_analytics.warehouses import warehouse_from_connection

    return warehouse_from_connection(conn).asset_base


def tables_kept_current(tables: Iterable[str], analytics_conn_id: str) -> list[str]:
    """The `tables` that syncs through this API connection keep updating, so that a DAG waits for no other.

    All of them on OpsGenie; on its successor, the Jira Service Management operations API, those
    it has a counterpart for (it lists no users, incidents or alert recipients: their tables keep
    the rows synced before the switch, and no sync updates them again). A connection that cannot be
    read yet (not created, no host) counts as OpsGenie; the DAG file is parsed again once it is.
    """
    from airflow.sdk.exceptions import AirflowNotFoundException

    from airflow_provider_analytics.hooks.analytics import AnalyticsConnectionError, AnalyticsHook
    from airflow_provider_analytics.source.flavour import FLAVOUR_JSM
    from airflow_provider_analytics.source.jsm.endpoints import UNSUPPORTED

    try:
        flavour = AnalyticsHook(analytics_conn_id=analytics_conn_id).api_settings.flavour
    except (AirflowNotFoundException, AnalyticsConnectionError, ValueError):
        return list(tables)
    return [t for t in tables if not (flavour == FLAVOUR_JSM and t in UNSUPPORTED)]


def table_assets(tables: Iterable[str], dataset: str, warehouse_conn_id: Optional[str] = None) -> list[Asset]:
    """One Asset per table of `dataset`, with the URI its syncs emit events for."""
    base = warehouse_asset_base(warehouse_conn_id).rstrip("/")
    return [table_asset(f"{base}/{dataset}/{table}") for table in tables]
