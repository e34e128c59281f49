"""BigQuery: Airflow's `google_cloud_platform` connection as a dlt destination.

google-cloud-bigquery is imported by dlt only when it connects, so the mapping runs without it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

from airflow_provider_analytics.connection_extras import extra_field
from airflow_provider_analytics.pipeline.warehouse import Warehouse

from .base import WarehouseConfigError, catalog_lineage, missing, remote_warehouse, resolved

CONN_TYPE = "google_cloud_platform"


def _service_account_info(conn: Any, extras: Mapping[str, Any]) -> dict[str, Any] | None:
    """The service-account key from extra `keyfile_dict` or the file at `key_path`; None for neither."""
    keyfile = extra_field(extras, "keyfile_dict", CONN_TYPE)
    key_path = extra_field(extras, "key_path", CONN_TYPE)
    if keyfile and key_path:
        raise WarehouseConfigError(
            f"Warehouse connection '{conn.conn_id}' (google_cloud_platform) sets both extra 'key_path' "
            "and 'keyfile_dict': keep one."
        )
    if key_path:
        if not str(key_path).endswith(".json"):
            raise WarehouseConfigError(
                f"Warehouse connection '{conn.conn_id}' (google_cloud_platform): extra 'key_path' must name "
                "a JSON service-account key file."
            )
        try:
            keyfile = Path(key_path).expanduser().read_text(encoding="utf-8")
        except OSError as exc:
            raise WarehouseConfigError(
                f"Warehouse connection '{conn.conn_id}' (google_cloud_platform): cannot read the key file "
                f"in extra 'key_path' ({key_path}): {exc.strerror}."
            ) from None
    if keyfile is None:
        return None
    if isinstance(keyfile, str):
        try:
            keyfile = json.loads(keyfile)
        except ValueError:
            # the message must not quote the key: it holds a private key
            raise WarehouseConfigError(
                f"Warehouse connection '{conn.conn_id}' (google_cloud_platform): the service-account key "
                "is not valid JSON."
            ) from None
    if not isinstance(keyfile, dict) or keyfile.get("type", "service_account") != "service_account":
        raise WarehouseConfigError(
            f"Warehouse connection '{conn.conn_id}' (google_cloud_platform): the key must be a "
            "service-account key (\"type\": \"service_account\")."
        )
    return keyfile


def bigquery_from_connection(conn: Any) -> Warehouse:
    """Airflow's `google_cloud_platform` connection -> dlt BigQuery.

    With a service-account key (extra `keyfile_dict` or `key_path`) the credentials are complete.
    Without one, as in Airflow, the worker's Application Default Credentials are used: dlt looks
    them up when it connects, and extra `project` must then name the project.
    """
    import dlt
    from dlt.common.configuration.specs import GcpServiceAccountCredentials

    extras = conn.extra_dejson or {}
    project = extra_field(extras, "project", CONN_TYPE)
    location = extra_field(extras, "location", CONN_TYPE)
    info = _service_account_info(conn, extras)

    credentials = GcpServiceAccountCredentials()
    if info is None:
        if not project:
            raise missing(
                conn,
                CONN_TYPE,
                "project: set extra 'project', and extra 'key_path' or 'keyfile_dict' unless the worker "
                "has Application Default Credentials",
            )
        credentials.project_id = project  # left unresolved: dlt finds the default credentials
    else:
        credentials.project_id = info.get("project_id") or project
        credentials.private_key = info.get("private_key")  # type: ignore[assignment]  # None: named below
        credentials.private_key_id = info.get("private_key_id")
        credentials.client_email = info.get("client_email")  # type: ignore[assignment]  # None: named below
        for field in ("client_email", "private_key", "project_id"):
            if not getattr(credentials, field):
                hint = " (or set extra 'project')" if field == "project_id" else ""
                raise missing(conn, CONN_TYPE, f"'{field}' in its service-account key{hint}")
        resolved(credentials, conn, CONN_TYPE)
    options: dict[str, Any] = {"credentials": credentials}
    if project:
        options["project_id"] = project  # the project jobs run in; the key may belong to another
    if location:
        options["location"] = location
    project_id = project or credentials.project_id
    return remote_warehouse(
        partial(dlt.destinations.bigquery, **options), "bigquery", f"bigquery://{project_id}",
        lineage=partial(catalog_lineage, "bigquery", project_id),  # the spec's namespace is `bigquery` alone
    )
