"""Redshift: Airflow's `redshift` connection (password authentication) as a dlt destination."""

from __future__ import annotations

from functools import partial
from typing import Any

from airflow_provider_analytics.connection_extras import extra_field
from airflow_provider_analytics.pipeline.warehouse import Warehouse

from .base import WarehouseConfigError, catalog_lineage, remote_warehouse, resolved, server_credentials


def redshift_lineage_authority(host: str, port: int) -> str:
    """`{cluster_identifier}.{region}:{port}` from a cluster endpoint, as Airflow's Redshift hook reads it.

    `examplecluster.abc123xyz789.us-west-1.redshift.amazonaws.com` -> `examplecluster.us-west-1`;
    any other host (an IP, a proxy) is kept whole, as the hook does.
    """
    parts = host.split(".")
    identifier = f"{parts[0]}.{parts[2]}" if host.endswith("amazonaws.com") and len(parts) == 6 else host
    return f"{identifier}:{port}"


def redshift_from_connection(conn: Any) -> Warehouse:
    """Airflow's `redshift` connection: host, port (5439), login, password, schema = database."""
    import dlt
    from dlt.destinations.impl.redshift.configuration import RedshiftCredentials

    kind = "redshift"
    if str(extra_field(conn.extra_dejson or {}, "iam")).lower() in ("true", "1"):
        raise WarehouseConfigError(
            f"Warehouse connection '{conn.conn_id}' (redshift) uses IAM authentication, which dlt does "
            "not support: set login and password."
        )
    credentials = server_credentials(RedshiftCredentials(), conn, kind, 5439, "host to the cluster endpoint")
    resolved(credentials, conn, kind)
    location = f"redshift://{credentials.host}:{credentials.port}/{credentials.database}"
    namespace = f"redshift://{redshift_lineage_authority(credentials.host, credentials.port)}"
    lineage = partial(catalog_lineage, namespace, credentials.database)
    return remote_warehouse(partial(dlt.destinations.redshift, credentials=credentials), kind, location,
                            lineage=lineage)
