"""The embedded warehouse: a DuckDB file, which takes one writer at a time, and the file lock writers queue on.

Also maps Airflow's `duckdb` connection; a host starting `md:` names a MotherDuck database instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from airflow_provider_analytics.connection_extras import extra_field
from airflow_provider_analytics.pipeline.warehouse import Warehouse

from .base import LOCK_TIMEOUT_SECONDS, WarehouseConfigError, catalog_lineage, lock_timeout_error, log_waiting
from .motherduck import MOTHERDUCK_PREFIX, motherduck_from_connection

DUCKDB_PATH_ENV = "AIRFLOW__ANALYTICS__DUCKDB_PATH"
DUCKDB_MEMORY_LIMIT = "128MB"


@contextmanager
def file_lock(
    path: str, what: str, timeout: float = LOCK_TIMEOUT_SECONDS, poll: float = 0.2, logger: Any = None
) -> Iterator[None]:
    """An exclusive `flock` on `path` (created if missing, left in place), held until the block ends.

    A new FileLock per call: filelock's locks are reentrant per object, and a fresh one opens its
    own file descriptor, so two holders in one process exclude each other as two processes do.
    """
    from filelock import FileLock, Timeout

    lock = FileLock(path)
    try:
        lock.acquire(blocking=False)
    except Timeout:
        log_waiting(logger, what)
        try:
            lock.acquire(timeout=timeout, poll_interval=poll)
        except Timeout:
            raise lock_timeout_error(what, timeout) from None
    try:
        yield
    finally:
        lock.release()


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


def duckdb_asset_base(path: str | os.PathLike[str]) -> str:
    """The start of the Asset URI of a DuckDB file's tables: `duckdb://` and the file's absolute path."""
    return f"duckdb://{Path(path).expanduser().resolve()}"


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

    return Warehouse(
        partial(dlt.destinations.duckdb, credentials=credentials),
        "duckdb",
        str(file),
        asset_base=duckdb_asset_base(file),
        lock=lock,
        is_single_writer=True,
        # as OpenLineage's dbt integration names it: duckdb://<path>, <catalog>.<schema>.<table>; DuckDB names
        # a file's catalog after its name up to the first dot (warehouse.duckdb -> warehouse)
        lineage=partial(catalog_lineage, f"duckdb://{file.resolve()}", file.name.split(".", 1)[0]),
    )


def duckdb_file_of(conn: Any) -> str | None:
    """The file a `duckdb` connection names: its host, else its extra `path`; None for none or MotherDuck."""
    path = conn.host or extra_field(conn.extra_dejson or {}, "path")
    return None if not path or str(path).startswith(MOTHERDUCK_PREFIX) else str(path)


def duckdb_from_connection(conn: Any) -> Warehouse:
    """Airflow's `duckdb` connection: host = the file's path (extra `path` also), extra `memory_limit`."""
    if (conn.host or "").startswith(MOTHERDUCK_PREFIX):  # a MotherDuck database, not a local file
        return motherduck_from_connection(conn)
    extras = conn.extra_dejson or {}
    path = duckdb_file_of(conn)
    if not path:
        raise WarehouseConfigError(
            f"Warehouse connection '{conn.conn_id}' (duckdb) has no database file: "
            "put the DuckDB file path in its host field."
        )
    # a blank memory_limit means DuckDB's own default, a missing one ours
    return duckdb_warehouse(path, extras.get("memory_limit", DUCKDB_MEMORY_LIMIT) or None)
