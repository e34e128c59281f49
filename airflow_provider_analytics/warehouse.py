"""Turn an Airflow connection into a dlt destination, one small mapping per connection type.

Imported only inside a running task: it pulls in dlt and Airflow's connection lookup.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from .locks import file_lock, postgres_advisory_lock

DUCKDB_PATH_ENV = "AIRFLOW__ANALYTICS__DUCKDB_PATH"


class WarehouseConfigError(ValueError):
    """The warehouse connection cannot be turned into a destination; the message says what to fix."""


@dataclass(frozen=True)
class Warehouse:
    """How to build a dlt destination, plus a secret-free description for logs and asset URIs."""

    factory: Callable[..., Any]
    kind: str
    location: str
    lock: Callable[[str, Any], AbstractContextManager[None]] | None = None
    #: The load file format for Arrow pages (None: the destination's own). PostgreSQL takes them as
    #: INSERTs: its default, CSV loaded with FORCE_NULL, would turn empty strings into NULL.
    arrow_file_format: str | None = None

    def destination(self, **options: Any) -> Any:
        """A dlt destination; `options` are destination settings such as staging_dataset_name_layout."""
        return self.factory(**options)

    def write_lock(self, dataset: str, logger: Any = None) -> AbstractContextManager[None]:
        """Held while a sync changes `dataset`'s structure (DuckDB: while it touches the file at all).

        DuckDB files take one writer at a time; PostgreSQL serialises only the creation of a
        dataset's schema and tables; other warehouses need no lock here.
        """
        if self.lock is None:
            return nullcontext()
        return self.lock(dataset, logger)

    def asset_uri(self, dataset: str, table: str) -> str:
        """The Airflow Asset URI of a table: the warehouse's location, then dataset and table.

        `duckdb:///abs/path/warehouse.duckdb/<dataset>/<table>`,
        `postgres://host:5432/<database>/<dataset>/<table>` (the form Airflow's postgres provider
        uses), `snowflake://<account>/<database>/<dataset>/<table>`, ...
        """
        base = f"duckdb://{Path(self.location).resolve()}" if self.kind == "duckdb" else self.location.rstrip("/")
        return f"{base}/{dataset}/{table}"

    @property
    def is_single_writer(self) -> bool:
        """DuckDB files take one writer at a time; callers serialise writes to them."""
        return self.kind == "duckdb"


def default_duckdb_path() -> Path:
    """The embedded warehouse: `[analytics] duckdb_path`, else $AIRFLOW_HOME/analytics/warehouse.duckdb."""
    configured = os.environ.get(DUCKDB_PATH_ENV)
    if not configured:
        try:
            from airflow.sdk.configuration import conf

            configured = conf.get("analytics", "duckdb_path", fallback=None)
        except Exception:  # pragma: no cover - Airflow config unreadable: fall back to the default
            configured = None
    if configured:
        return Path(configured).expanduser()
    airflow_home = Path(os.environ.get("AIRFLOW_HOME", "~/airflow")).expanduser()
    return airflow_home / "analytics" / "warehouse.duckdb"


DUCKDB_MEMORY_LIMIT = "128MB"


def duckdb_warehouse(path: str | os.PathLike[str], memory_limit: str | None = DUCKDB_MEMORY_LIMIT) -> Warehouse:
    """A DuckDB file; its folder is created so a first run works.

    DuckDB runs inside the task's process and by default may take most of the machine's memory for
    a large merge; `memory_limit` (DuckDB's own setting) keeps a worker's footprint about the same
    whatever the size of the sync, spilling to disk beyond it. None leaves DuckDB's default.
    """
    import dlt
    from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

    file = Path(path).expanduser()
    file.parent.mkdir(parents=True, exist_ok=True)
    credentials = DuckDbCredentials(str(file))
    if memory_limit:
        credentials.global_config = {"memory_limit": memory_limit}

    def lock(dataset: str, logger: Any) -> AbstractContextManager[None]:
        return file_lock(f"{file}.lock", f"the DuckDB file {file}", logger=logger)

    return Warehouse(partial(dlt.destinations.duckdb, credentials=credentials), "duckdb", str(file), lock)


def _duckdb_from_connection(conn: Any) -> Warehouse:
    if (conn.host or "").startswith("md:"):  # a MotherDuck database, not a local file
        return WAREHOUSE_MAPPINGS["motherduck"](conn)
    path = conn.host or (conn.extra_dejson or {}).get("path")
    if not path:
        raise WarehouseConfigError(
            f"Warehouse connection '{conn.conn_id}' (duckdb) has no database file: "
            "put the DuckDB file path in its host field."
        )
    extra = conn.extra_dejson or {}
    return duckdb_warehouse(path, extra.get("memory_limit", DUCKDB_MEMORY_LIMIT) or None)


def _postgres_from_connection(conn: Any) -> Warehouse:
    import dlt

    if not conn.host:
        raise WarehouseConfigError(
            f"Warehouse connection '{conn.conn_id}' (postgres) has no host: set host, port, login and "
            "schema (the database name)."
        )
    database = conn.schema or "postgres"
    from airflow_provider_analytics.postgres_credentials import OptionalPasswordPostgresCredentials

    credentials = OptionalPasswordPostgresCredentials()
    credentials.host = conn.host
    credentials.port = int(conn.port or 5432)
    credentials.username = conn.login or "postgres"
    credentials.password = conn.password or None
    credentials.database = database
    extra = conn.extra_dejson or {}
    if extra.get("connect_timeout"):
        credentials.connect_timeout = int(extra["connect_timeout"])
    credentials.resolve()  # complete as given: dlt must not go looking for a password elsewhere
    location = f"postgres://{credentials.host}:{credentials.port}/{database}"

    def lock(dataset: str, logger: Any) -> AbstractContextManager[None]:
        key = f"airflow-provider-analytics:{database}.{dataset}"
        return postgres_advisory_lock(credentials, key, f"dataset {dataset} in {location}", logger=logger)

    return Warehouse(
        partial(dlt.destinations.postgres, credentials=credentials), "postgres", location, lock,
        arrow_file_format="insert_values",
    )


WAREHOUSE_MAPPINGS: dict[str, Callable[[Any], Warehouse]] = {
    "duckdb": _duckdb_from_connection,
    "postgres": _postgres_from_connection,
    "postgresql": _postgres_from_connection,
}

# Registers snowflake, google_cloud_platform, redshift, mssql, databricks and motherduck; it needs
# Warehouse and WAREHOUSE_MAPPINGS above, hence the late import.
import airflow_provider_analytics.warehouse_mappings  # noqa: E402,F401


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
