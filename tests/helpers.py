"""Small helpers for reading what landed in the warehouses."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.local_services import PG_HOST, PG_PORT

REPO = Path(__file__).resolve().parents[1]
SEED_DOC = REPO / "docs" / "seed-analytics-api-config.md"
SHARED_SEED_DOC = REPO.parent / "shared" / "seed" / "analytics-api-config.md"


def duckdb_rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    import duckdb

    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def postgres_rows(sql: str, dbname: str = "postgres") -> list[tuple[Any, ...]]:
    import psycopg2

    con = psycopg2.connect(host=PG_HOST, port=PG_PORT, user="postgres", dbname=dbname)
    try:
        with con.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()
    finally:
        con.close()


def dict_rows(kind: str, rows, sql: str) -> list[dict[str, Any]]:
    """Rows as dicts; `rows` is the target's query function (used for its connection details)."""
    if kind == "duckdb":
        import duckdb

        path = rows.args[0]
        with duckdb.connect(str(path), read_only=True) as con:
            cursor = con.execute(sql)
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row)) for row in cursor.fetchall()]
    import psycopg2

    con = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres")
    try:
        with con.cursor() as cur:
            cur.execute(sql)
            names = [column[0] for column in cur.description]
            return [dict(zip(names, row)) for row in cur.fetchall()]
    finally:
        con.close()


def assert_same_record(upstream: dict[str, Any], stored: dict[str, Any], resource: str) -> None:
    """Every upstream field equals its warehouse column, compared by the column's declared type."""
    import json

    from dlt.common.normalizers.naming.snake_case import NamingConvention

    from airflow_provider_analytics.source.schema_hints import column_hints
    from airflow_provider_analytics.source.timestamps import epoch_ms

    naming = NamingConvention()
    hints = column_hints(resource)
    for field, value in upstream.items():
        column = naming.normalize_identifier(field)
        assert column in stored, f"{resource}.{field}: no column {column}"
        got = stored[column]
        kind = hints[field]["data_type"] if field in hints else None
        if kind == "timestamp" and value is not None:
            assert got is not None and round(got.timestamp() * 1000) == epoch_ms(value), (field, value, got)
        elif kind == "json" and isinstance(got, str):
            assert json.loads(got) == value, (field, value, got)
        else:
            assert got == value, (field, value, got)


def count_and_distinct(query_rows, dataset: str, table: str) -> tuple[int, int]:
    (total, distinct), = query_rows(f'select count(*), count(distinct id) from "{dataset}"."{table}"')
    return int(total), int(distinct)


def seed_code_blocks(text: str) -> list[str]:
    return re.findall(r"```(\w*)\n(.*?)```", text, flags=re.S)


def load_seed_config(base_url: str, api_token: str, doc: Path = SEED_DOC) -> dict[str, Any]:
    """Run the seed document's Python block as written, capturing the dict it passes to dlt.

    Only the base URL and the secret change: `dlt.secrets["api_token"]` resolves to `api_token`
    and the `base_url` value is replaced afterwards.
    """
    blocks = seed_code_blocks(doc.read_text())
    code = next(body for lang, body in blocks if lang == "python" and "rest_api_source(" in body)
    captured: dict[str, Any] = {}

    class _Secrets(dict):
        def __getitem__(self, key: str) -> str:
            assert key == "api_token", key
            return api_token

    class _Dlt:
        secrets = _Secrets()

    def _capture(config: dict[str, Any]) -> dict[str, Any]:
        captured["config"] = config
        return config

    code = code.replace("import dlt\n", "").replace("from dlt.sources.rest_api import rest_api_source\n", "")
    exec(compile(code, str(doc), "exec"), {"dlt": _Dlt(), "rest_api_source": _capture})
    config = captured["config"]
    config["client"]["base_url"] = base_url
    return config


def seed_error_handler(doc: Path = SEED_DOC) -> dict[str, Any]:
    """The seed's error_handler block (a fragment of an endpoint), as written."""
    import json

    blocks = seed_code_blocks(doc.read_text())
    fragment = next(body for lang, body in blocks if "error_handler" in body)
    body = fragment.strip()
    assert body.startswith('"endpoint":'), body[:40]
    endpoint = json.loads("{" + body + "}")["endpoint"]
    return endpoint["error_handler"]


def sync_to(target, resource: str, **kwargs) -> dict:
    """Run the operator for `resource` into a test target (see conftest.Target); returns its summary."""
    from airflow_provider_analytics.operators.analytics import AnalyticsSyncOperator

    op = AnalyticsSyncOperator(
        task_id=f"sync_{resource}",
        resource=resource,
        warehouse_conn_id=target.conn_id,
        dataset_name=target.dataset,
        progress_interval=0,
        **kwargs,
    )
    return op.execute({})


def table_key(resource: str) -> tuple[str, ...]:
    """The columns a built-in resource's table is keyed on (warehouse names)."""
    from airflow_provider_analytics.source.catalog import CATALOG

    return CATALOG[resource].primary_key


def upstream_keys(api, resource: str) -> list[tuple]:
    """The keys of the fake's truth of `resource`, sorted."""
    key = table_key(resource)
    return sorted(tuple(str(row[column]) for column in key) for row in api.records(resource))


def stored_keys(query_rows, dataset: str, resource: str, live_only: bool = True) -> list[tuple]:
    """The keys of the rows a table holds (live ones: not marked deleted, where the table marks them), sorted."""
    from airflow_provider_analytics.source.catalog import CATALOG

    key = table_key(resource)
    where = " where _deleted_at is null" if live_only and CATALOG[resource].snapshot else ""
    columns = ", ".join(f'"{column}"' for column in key)
    rows = query_rows(f'select {columns} from "{dataset}"."{resource}"{where}')
    return sorted(tuple(str(value) for value in row) for row in rows)


def genie_session(key: str):
    """A requests session that sends `key` the API's way (`Authorization: GenieKey <key>`)."""
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"GenieKey {key}"
    return session
