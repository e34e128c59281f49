"""Databricks: Airflow's `databricks` connection (personal access token) as a dlt destination."""

from __future__ import annotations

from functools import partial
from typing import Any
from urllib.parse import urlparse

from airflow_provider_analytics.connection_extras import extra_field
from airflow_provider_analytics.pipeline.warehouse import Warehouse

from .base import catalog_lineage, missing, remote_warehouse, resolved


def databricks_from_connection(conn: Any) -> Warehouse:
    """Airflow's `databricks` connection: host, personal access token, extra http_path and catalog."""
    import dlt
    from dlt.destinations.impl.databricks.configuration import DatabricksCredentials

    kind = "databricks"
    extras = conn.extra_dejson or {}
    host = conn.host or ""
    if "://" in host:  # Airflow accepts the workspace URL; dlt wants the bare hostname
        host = urlparse(host).netloc
    host = host.rstrip("/")
    token = conn.password or extra_field(extras, "token")
    http_path = extra_field(extras, "http_path")
    catalog = extra_field(extras, "catalog")
    for value, what in (
        (host, "server hostname: set host to the workspace hostname"),
        (token, "access token: set password to a personal access token"),
        (http_path, "HTTP path: set extra 'http_path' to the SQL warehouse or cluster HTTP path"),
        (catalog, "catalog: set extra 'catalog'"),
    ):
        if not value:
            raise missing(conn, kind, what)
    credentials = DatabricksCredentials()
    credentials.server_hostname = host
    credentials.http_path = http_path
    credentials.catalog = catalog
    credentials.access_token = token
    resolved(credentials, conn, kind)
    location = f"databricks://{host}/{catalog}"
    # named as Airflow's Databricks provider names it for OpenLineage: databricks://host, catalog.schema.table
    lineage = partial(catalog_lineage, f"databricks://{host}", catalog)
    return remote_warehouse(partial(dlt.destinations.databricks, credentials=credentials), kind, location,
                            lineage=lineage)
