"""Turn an Airflow connection into a dlt destination, one small mapping per connection type.

Imported only inside a running task: it pulls in dlt and Airflow's connection lookup.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

DUCKDB_PATH_ENV = "AIRFLOW__ANALYTICS__DUCKDB_PATH"
LOCK_TIMEOUT_SECONDS = 4 * 3600.0


class WarehouseConfigError(ValueError):
    """The warehouse connection cannot be turned into a destination; the message says what to fix."""


@dataclass(frozen=True)
class Warehouse:
    """How to build a dlt destination, plus a secret-free description for logs and asset URIs."""

    factory: Callable[..., Any]
    kind: str
    location: str

    def destination(self, **options: Any) -> Any:
        """A dlt destination; `options` are destination settings such as staging_dataset_name_layout."""
        return self.factory(**options)

    @contextmanager
    def write_lock(
        self, timeout: float = LOCK_TIMEOUT_SECONDS, poll: float = 0.2, logger: Any = None
    ) -> Iterator[None]:
        """Serialise writers of a DuckDB file across processes; other warehouses take writers in parallel."""
        if not self.is_single_writer:
            yield
            return
        import fcntl

        lock_path = f"{self.location}.lock"
        with open(lock_path, "a+") as handle:
            deadline = time.monotonic() + timeout
            waited = False
            while True:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if logger is not None and not waited:
                        logger.info("Waiting for another sync writing %s to finish (DuckDB takes one writer)", self.location)
                    waited = True
                    if time.monotonic() >= deadline:
                        raise WarehouseConfigError(
                            f"Another sync has held the DuckDB file {self.location} for over {timeout:.0f} s."
                        ) from None
                    time.sleep(poll)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

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


def duckdb_warehouse(path: str | os.PathLike[str]) -> Warehouse:
    """A DuckDB file; its folder is created so a first run works."""
    import dlt

    file = Path(path).expanduser()
    file.parent.mkdir(parents=True, exist_ok=True)
    return Warehouse(partial(dlt.destinations.duckdb, credentials=str(file)), "duckdb", str(file))


def _duckdb_from_connection(conn: Any) -> Warehouse:
    if (conn.host or "").startswith("md:"):  # a MotherDuck database, not a local file
        return WAREHOUSE_MAPPINGS["motherduck"](conn)
    path = conn.host or (conn.extra_dejson or {}).get("path")
    if not path:
        raise WarehouseConfigError(
            f"Warehouse connection '{conn.conn_id}' (duckdb) has no database file: "
            "put the DuckDB file path in its host field."
        )
    return duckdb_warehouse(path)


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
    return Warehouse(partial(dlt.destinations.postgres, credentials=credentials), "postgres", location)


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
