"""SQL Server: Airflow's `mssql` connection as a dlt destination over ODBC.

pyodbc is imported only to find an installed ODBC driver when the connection names none.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from airflow_provider_analytics.connection_extras import extra_field
from airflow_provider_analytics.pipeline.warehouse import Warehouse

from .base import WarehouseConfigError, catalog_lineage, needs_extra, remote_warehouse, resolved, server_credentials

#: Extras passed on to the ODBC connection string (matched case-insensitively).
MSSQL_ODBC_EXTRAS = ("encrypt", "trustservercertificate")


def _mssql_driver(conn: Any, extras: Mapping[str, Any]) -> str:
    """Extra `driver`, else the newest supported ODBC driver installed (the choice dlt makes)."""
    from dlt.destinations.impl.mssql.configuration import MsSqlCredentials

    supported = MsSqlCredentials.SUPPORTED_DRIVERS
    driver = extra_field(extras, "driver")
    if driver is None:
        try:
            import pyodbc
        except ImportError:
            raise needs_extra(conn, "mssql", "mssql", "pyodbc to find its ODBC driver") from None
        driver = next((name for name in supported if name in pyodbc.drivers()), None)
        if driver is None:
            raise WarehouseConfigError(
                f"Warehouse connection '{conn.conn_id}' (mssql) found no supported ODBC driver: install "
                f"'{supported[0]}' or set extra 'driver'."
            )
    if driver not in supported:
        raise WarehouseConfigError(
            f"Warehouse connection '{conn.conn_id}' (mssql) names ODBC driver '{driver}' in extra 'driver'; "
            f"dlt supports: {', '.join(supported)}."
        )
    return driver


def mssql_from_connection(conn: Any) -> Warehouse:
    """Airflow's `mssql` connection: host, port (1433), login, password, schema = database, extra driver."""
    import dlt
    from dlt.destinations.impl.mssql.configuration import MsSqlCredentials

    kind = "mssql"
    extras = conn.extra_dejson or {}
    credentials = server_credentials(MsSqlCredentials(), conn, kind, 1433)
    credentials.driver = _mssql_driver(conn, extras)
    odbc = {key: str(value) for key, value in extras.items() if key.lower() in MSSQL_ODBC_EXTRAS}
    if odbc:
        credentials.query = odbc  # dlt appends these to the ODBC connection string
    resolved(credentials, conn, kind)
    location = f"mssql://{credentials.host}:{credentials.port}/{credentials.database}"
    # named as Airflow's MSSQL provider names it for OpenLineage: mssql://host:port, database.schema.table
    lineage = partial(catalog_lineage, f"mssql://{credentials.host.lower()}:{credentials.port}", credentials.database)
    return remote_warehouse(partial(dlt.destinations.mssql, credentials=credentials), kind, location, lineage=lineage)
