"""Airflow connection -> dlt destination: one module per connection type, joined in one explicit registry.

Each mapping reads the connection the way that type's Airflow provider does, fills the dlt
credentials completely and resolves them, so dlt uses exactly what the connection says and does
not look for missing values in environment variables or `secrets.toml`. Imported only inside a
running task: building a warehouse imports dlt (drivers only when dlt connects).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from airflow_provider_analytics.pipeline.warehouse import Warehouse

from .base import WarehouseConfigError
from .bigquery import bigquery_from_connection
from .databricks import databricks_from_connection
from .duckdb import default_duckdb_path, duckdb_from_connection, duckdb_warehouse
from .motherduck import motherduck_from_connection
from .mssql import mssql_from_connection
from .postgres import postgres_from_connection
from .redshift import redshift_from_connection
from .snowflake import snowflake_from_connection

__all__ = ["WAREHOUSE_MAPPINGS", "WarehouseConfigError", "resolve_warehouse", "warehouse_from_connection"]

#: Airflow connection type (lower case) -> the function that maps such a connection.
WAREHOUSE_MAPPINGS: dict[str, Callable[[Any], Warehouse]] = {
    "duckdb": duckdb_from_connection,
    "postgres": postgres_from_connection,
    "postgresql": postgres_from_connection,
    "snowflake": snowflake_from_connection,
    "google_cloud_platform": bigquery_from_connection,
    "redshift": redshift_from_connection,
    "mssql": mssql_from_connection,
    "databricks": databricks_from_connection,
    "motherduck": motherduck_from_connection,
}


def warehouse_from_connection(conn: Any) -> Warehouse:
    """Map an Airflow Connection (any object with conn_type/host/...) to a destination."""
    conn_type = (conn.conn_type or "").lower()
    mapping = WAREHOUSE_MAPPINGS.get(conn_type)
    if mapping is None:
        supported = ", ".join(sorted(WAREHOUSE_MAPPINGS))
        raise WarehouseConfigError(
            f"Warehouse connection '{conn.conn_id}' has type '{conn.conn_type}', which this provider "
            f"cannot write to; supported types: {supported}."
        )
    return mapping(conn)


def resolve_warehouse(warehouse_conn_id: str | None) -> Warehouse:
    """The destination named by an Airflow connection id, or the embedded DuckDB file for None."""
    if not warehouse_conn_id:
        return duckdb_warehouse(default_duckdb_path())
    from airflow.sdk import BaseHook

    return warehouse_from_connection(BaseHook.get_connection(warehouse_conn_id))
