"""MotherDuck: a `motherduck` connection, or a `duckdb` one whose host is `md:<database>`, as a dlt destination."""

from __future__ import annotations

import os
from functools import partial
from typing import Any
from urllib.parse import parse_qsl

from airflow_provider_analytics.pipeline.warehouse import Warehouse

from .base import catalog_lineage, missing, remote_warehouse, resolved

#: A DuckDB path starting with this names a MotherDuck database.
MOTHERDUCK_PREFIX = "md:"


def _motherduck_target(text: str) -> tuple[str, dict[str, str]]:
    """`md:<database>?<params>` or `<database>` -> (database, params)."""
    text = text.strip()
    if text.startswith(MOTHERDUCK_PREFIX):
        text = text[len(MOTHERDUCK_PREFIX) :].lstrip("/")
    database, _, query = text.partition("?")
    return database, dict(parse_qsl(query))


def motherduck_from_connection(conn: Any) -> Warehouse:
    """A `motherduck` connection (password = token, schema or host = database), or `duckdb` with host `md:<db>`.

    A token in the host's query string (`md:db?motherduck_token=...`) is accepted and kept out of
    the location. Without a token, the motherduck_token environment variable is used.
    """
    import dlt
    from dlt.destinations.impl.motherduck.configuration import (
        MOTHERDUCK_DEFAULT_TOKEN_ENV,
        MotherDuckCredentials,
    )

    kind = "motherduck"
    database, params = _motherduck_target(conn.host or "")
    if (conn.conn_type or "").lower() == "motherduck" and conn.schema:
        database = conn.schema
    query_token = params.pop("motherduck_token", None) or None
    legacy_token = params.pop("token", None) or None
    token = conn.password or query_token or legacy_token
    if not database:
        raise missing(conn, kind, "database: set schema (or host) to the MotherDuck database name")
    env_token = os.environ.get(MOTHERDUCK_DEFAULT_TOKEN_ENV) or os.environ.get(MOTHERDUCK_DEFAULT_TOKEN_ENV.upper())
    if not token and not env_token:
        raise missing(conn, kind, "token: set password to a MotherDuck token (or export motherduck_token)")
    credentials = MotherDuckCredentials()
    credentials.database = database
    credentials.password = token or None  # type: ignore[assignment]  # dlt's own default is None
    if params:
        credentials.query = params
    resolved(credentials, conn, kind)
    # OpenLineage's dbt integration names a MotherDuck table duckdb://md:<database>, <database>.<schema>.<table>
    lineage = partial(catalog_lineage, f"duckdb://{MOTHERDUCK_PREFIX}{database}", database)
    return remote_warehouse(
        partial(dlt.destinations.motherduck, credentials=credentials), kind, f"motherduck://{database}",
        lineage=lineage,
    )
