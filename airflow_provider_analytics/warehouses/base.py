"""What every connection-type mapping shares: its errors, dlt credential checks and the lock wait messages.

Kept apart from the mappings so that each of them, and the registry in `__init__`, imports it
without importing one another.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from airflow_provider_analytics.connection_extras import extra_field
from airflow_provider_analytics.pipeline.warehouse import LineageNaming, Warehouse, WriteLock

#: How long a sync waits for another one holding a warehouse lock before it gives up.
LOCK_TIMEOUT_SECONDS = 4 * 3600.0


class WarehouseConfigError(ValueError):
    """The warehouse connection cannot be turned into a destination; the message says what to fix."""


class LockTimeoutError(TimeoutError):
    """Another sync held the lock for longer than the timeout."""


def log_waiting(logger: Any, what: str) -> None:
    """Say once in the task log that this sync waits for another one."""
    if logger is not None:
        logger.info("Waiting for another sync writing %s to finish", what)


def lock_timeout_error(what: str, timeout: float) -> LockTimeoutError:
    """The error for a lock wait that ran out of time."""
    return LockTimeoutError(f"Another sync has held {what} for over {timeout:.0f} s.")


def remote_warehouse(
    factory: Callable[..., Any],
    kind: str,
    location: str,
    lock: WriteLock | None = None,
    arrow_file_format: str | None = None,
    lineage: LineageNaming | None = None,
) -> Warehouse:
    """A warehouse reached over the network: its Asset URIs start with its location; writers run in parallel."""
    return Warehouse(factory, kind, location, asset_base=location, lock=lock, arrow_file_format=arrow_file_format,
                     lineage=lineage)


def catalog_lineage(namespace: str, catalog: str, dataset: str, table: str) -> tuple[str, str]:
    """OpenLineage's name for a table of a three-level warehouse: `{database}.{schema}.{table}` in its namespace.

    The dataset naming spec's rule for PostgreSQL, Redshift, Snowflake, BigQuery (project) and the
    one Airflow's MSSQL and Databricks providers follow (catalog); bind it with `functools.partial`.
    """
    return namespace, f"{catalog}.{dataset}.{table}"


def missing(conn: Any, kind: str, what: str) -> WarehouseConfigError:
    """The error for a connection field that is not set; `what` names it and how to set it."""
    return WarehouseConfigError(f"Warehouse connection '{conn.conn_id}' ({kind}) has no {what}.")


def needs_extra(conn: Any, kind: str, extra: str, what: str) -> WarehouseConfigError:
    """The error for a driver that is not installed: which dlt extra brings it."""
    return WarehouseConfigError(
        f"Warehouse connection '{conn.conn_id}' ({kind}) needs {what}, which dlt loads through "
        f'extra packages: pip install "dlt[{extra}]".'
    )


def resolved(credentials: Any, conn: Any, kind: str) -> Any:
    """Mark complete credentials as resolved, turning dlt's own checks into a WarehouseConfigError."""
    from dlt.common.exceptions import DltException

    try:
        return credentials.resolve()
    except (DltException, ValueError) as exc:
        raise WarehouseConfigError(
            f"Warehouse connection '{conn.conn_id}' ({kind}) was rejected by dlt: {exc}"
        ) from exc


def set_connect_timeout(credentials: Any, conn: Any) -> None:
    """Extra `connect_timeout` (seconds), when set, onto database-server credentials."""
    connect_timeout = extra_field(conn.extra_dejson or {}, "connect_timeout")
    if connect_timeout:
        credentials.connect_timeout = int(connect_timeout)


def server_credentials(credentials: Any, conn: Any, kind: str, default_port: int, host_hint: str = "host") -> Any:
    """Fill the fields every database-server connection has: host, port, login, password, schema = database."""
    for value, what in (
        (conn.host, f"host: set {host_hint}"),
        (conn.login, "user: set login"),
        (conn.password, "password: set password"),
        (conn.schema, "database: set schema to the database name"),
    ):
        if not value:
            raise missing(conn, kind, what)
    credentials.host = conn.host
    credentials.port = int(conn.port or default_port)
    credentials.username = conn.login
    credentials.password = conn.password
    credentials.database = conn.schema
    set_connect_timeout(credentials, conn)
    return credentials
