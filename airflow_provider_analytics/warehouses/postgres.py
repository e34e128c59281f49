"""PostgreSQL: Airflow's `postgres` connection as a dlt destination, and the advisory lock writers take.

PostgreSQL takes writers in parallel, but a dataset's first sync creates its schema and dlt's own
tables (`CREATE SCHEMA`, `_dlt_loads`, ...) and parallel first syncs race on that; an advisory
lock per dataset serialises just that step.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import partial
from typing import Any

from airflow_provider_analytics.pipeline.warehouse import Warehouse

from .base import (
    LOCK_TIMEOUT_SECONDS,
    WarehouseConfigError,
    catalog_lineage,
    lock_timeout_error,
    log_waiting,
    remote_warehouse,
    set_connect_timeout,
)

@contextmanager
def postgres_advisory_lock(
    credentials: Any, key: str, what: str, timeout: float = LOCK_TIMEOUT_SECONDS, poll: float = 0.2, logger: Any = None
) -> Iterator[None]:
    """A session-level advisory lock on `key`, on a connection of its own, released when the block ends.

    While another session holds it, the lock is tried again every `poll` seconds for at most
    `timeout`. Polling, not a blocking `pg_advisory_lock` under `lock_timeout`: a task blocked
    inside the driver would not see Airflow's SIGTERM (a timeout, a run marked failed).
    """
    import psycopg2
    import tenacity

    connection = psycopg2.connect(
        host=credentials.host,
        port=credentials.port,
        user=credentials.username,
        password=credentials.password or None,
        dbname=credentials.database,
        connect_timeout=int(getattr(credentials, "connect_timeout", 15) or 15),
    )
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:

            def try_lock() -> bool:
                cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (key,))
                return bool(cursor.fetchone()[0])

            if not try_lock():
                log_waiting(logger, what)
                locked = tenacity.Retrying(
                    stop=tenacity.stop_after_delay(timeout),
                    wait=tenacity.wait_fixed(poll),
                    retry=tenacity.retry_if_result(lambda got: not got),
                    retry_error_callback=lambda state: False,
                )(try_lock)
                if not locked:
                    raise lock_timeout_error(what, timeout)
            try:
                yield
            finally:
                cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))
    finally:
        connection.close()


def postgres_location(conn: Any) -> str:
    """`postgres://host:port/database`: the warehouse's secret-free location and the start of its Asset URIs."""
    return f"postgres://{conn.host}:{int(conn.port or 5432)}/{conn.schema or 'postgres'}"


def postgres_from_connection(conn: Any) -> Warehouse:
    """Airflow's `postgres` connection: host, port (5432), login (postgres), password (may be empty), schema = database."""
    import dlt

    from .postgres_credentials import OptionalPasswordPostgresCredentials

    if not conn.host:
        raise WarehouseConfigError(
            f"Warehouse connection '{conn.conn_id}' (postgres) has no host: set host, port, login and "
            "schema (the database name)."
        )
    database = conn.schema or "postgres"
    credentials = OptionalPasswordPostgresCredentials()
    credentials.host = conn.host
    credentials.port = int(conn.port or 5432)
    credentials.username = conn.login or "postgres"
    credentials.password = conn.password or None
    credentials.database = database
    set_connect_timeout(credentials, conn)
    credentials.resolve()  # complete as given: dlt must not go looking for a password elsewhere
    location = postgres_location(conn)

    def lock(dataset: str, logger: Any) -> AbstractContextManager[None]:
        key = f"airflow-provider-analytics:{database}.{dataset}"
        return postgres_advisory_lock(credentials, key, f"dataset {dataset} in {location}", logger=logger)

    # Arrow pages go in as INSERTs: the default, CSV loaded with FORCE_NULL, would turn empty strings into NULL
    return remote_warehouse(
        partial(dlt.destinations.postgres, credentials=credentials), "postgres", location, lock,
        arrow_file_format="insert_values",
        # as Airflow's postgres provider names it for OpenLineage (the host as a URL parser reads it: lower case)
        lineage=partial(catalog_lineage, f"postgres://{credentials.host.lower()}:{credentials.port}", database),
    )
