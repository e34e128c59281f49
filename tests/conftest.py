"""Shared fixtures: an isolated AIRFLOW_HOME, the fake API on loopback, warehouses."""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from pathlib import Path

# Airflow reads its home and settings at import time: isolate them before anything imports it.
_HOME = Path(tempfile.mkdtemp(prefix="analytics-airflow-home-"))
os.environ["AIRFLOW_HOME"] = str(_HOME)
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_HOME / 'airflow.db'}"
os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"

import pytest  # noqa: E402

from airflow_provider_analytics.testing.fake_api import FakeAnalyticsAPI  # noqa: E402
from tests.local_services import PG_HOST, PG_PORT, reachable  # noqa: E402

API_KEY = "sk-test-4f1c9a7e2b8d4c6f"


def analytics_conn_json(base_url: str, key: str = API_KEY, **extra: object) -> str:
    """AIRFLOW_CONN_* value for an analytics connection."""
    conn: dict[str, object] = {"conn_type": "analytics", "host": base_url, "password": key}
    if extra:
        conn["extra"] = extra
    return json.dumps(conn)


def jsm_conn_json(api: FakeAnalyticsAPI, key: str = API_KEY, **extra: object) -> str:
    """AIRFLOW_CONN_* value for a connection to the fake's Jira Service Management operations side."""
    conn: dict[str, object] = {"conn_type": "analytics", "host": api.base_url, "login": api.jsm_email,
                               "password": key, "extra": {"api_flavour": "jsm", "cloud_id": api.cloud_id, **extra}}
    return json.dumps(conn)


def postgres_available() -> bool:
    return reachable(PG_HOST, PG_PORT)


def require_service(available: bool, name: str) -> None:
    """Skip only on a developer machine without the service; in CI a missing service fails."""
    if available:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{name} is not reachable, and CI must run this test")
    pytest.skip(f"{name} is not running here and CI is unset (CI runs this test)")


@pytest.fixture(scope="session")
def fake_api():
    """One fake API for the session, with default sizes; tests must not mutate it."""
    with FakeAnalyticsAPI(api_key=API_KEY, seed=7) as api:
        yield api


@pytest.fixture
def analytics_conn(monkeypatch, fake_api):
    """The default analytics connection pointing at the session's fake API."""
    monkeypatch.setenv("AIRFLOW_CONN_ANALYTICS_DEFAULT", analytics_conn_json(fake_api.base_url))
    return fake_api


@pytest.fixture
def duckdb_conn(monkeypatch, tmp_path):
    """A `duckdb` warehouse connection to a fresh file; yields the file path."""
    path = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_DUCKDB", json.dumps({"conn_type": "duckdb", "host": str(path)}))
    return path


@pytest.fixture
def postgres_conn(monkeypatch):
    """A `postgres` warehouse connection (trust auth, no password) and a fresh dataset name."""
    require_service(postgres_available(), "PostgreSQL on 127.0.0.1:5432")
    monkeypatch.setenv(
        "AIRFLOW_CONN_WAREHOUSE_PG",
        json.dumps({"conn_type": "postgres", "host": PG_HOST, "port": PG_PORT, "login": "postgres", "schema": "postgres"}),
    )
    dataset = f"analytics_test_{uuid.uuid4().hex[:8]}"
    yield dataset
    import psycopg2

    with psycopg2.connect(host=PG_HOST, port=PG_PORT, user="postgres", dbname="postgres") as con:
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute(
                "select nspname from pg_namespace where nspname like %s", (f"{dataset}%",)
            )
            for (schema,) in cur.fetchall():
                cur.execute(f'drop schema "{schema}" cascade')
    con.close()


class Target:
    """A warehouse under test: the connection id, the dataset, and how to query it."""

    def __init__(self, kind: str, conn_id: str, dataset: str, rows) -> None:
        self.kind, self.conn_id, self.dataset, self.rows = kind, conn_id, dataset, rows

    def table(self, name: str) -> str:
        return f'"{self.dataset}"."{name}"'

    def count(self, name: str) -> tuple[int, int]:
        """(rows, distinct ids) of a table."""
        (total, distinct), = self.rows(f"select count(*), count(distinct id) from {self.table(name)}")
        return int(total), int(distinct)

    def records(self, name: str, where: str = "true") -> dict:
        """Rows of a table as dicts keyed by id."""
        from tests.helpers import dict_rows

        rows = dict_rows(self.kind, self.rows, f"select * from {self.table(name)} where {where}")
        return {row["id"]: row for row in rows}

    def columns(self, name: str) -> dict:
        """column name -> (data type, nullable) as the warehouse reports them."""
        rows = self.rows(
            "select column_name, data_type, is_nullable from information_schema.columns "
            f"where table_schema = '{self.dataset}' and table_name = '{name}'"
        )
        return {column: (kind.upper(), nullable == "YES") for column, kind, nullable in rows}

    def __repr__(self) -> str:
        return f"Target({self.kind})"


@pytest.fixture
def duckdb_target(duckdb_conn):
    """Just the DuckDB warehouse, for tests about what happens before anything is written."""
    from functools import partial

    from tests.helpers import duckdb_rows

    return Target("duckdb", "warehouse_duckdb", "analytics", partial(duckdb_rows, duckdb_conn))


@pytest.fixture(params=["duckdb", "postgres"])
def target(request, monkeypatch, tmp_path):
    """Each warehouse in turn: a fresh DuckDB file, then a fresh dataset in the real PostgreSQL."""
    from functools import partial

    from tests.helpers import duckdb_rows, postgres_rows

    if request.param == "duckdb":
        path = request.getfixturevalue("duckdb_conn")
        return Target("duckdb", "warehouse_duckdb", "analytics", partial(duckdb_rows, path))
    dataset = request.getfixturevalue("postgres_conn")
    return Target("postgres", "warehouse_pg", dataset, postgres_rows)


@pytest.fixture
def new_api(monkeypatch):
    """Start a fake API of the given sizes that this test may change, as the default connection.

    The fake follows the spec; its two open switches keep their strict defaults unless a test sets them.
    """
    started: list[FakeAnalyticsAPI] = []

    def start(updated_at_search: str = "rejected", incident_query_required: bool = False,
              **sizes: int) -> FakeAnalyticsAPI:
        api = FakeAnalyticsAPI(api_key=API_KEY, sizes=sizes, seed=11, updated_at_search=updated_at_search,
                               incident_query_required=incident_query_required).start()
        started.append(api)
        monkeypatch.setenv("AIRFLOW_CONN_ANALYTICS_DEFAULT", analytics_conn_json(api.base_url))
        return api

    yield start
    for api in started:
        api.stop()
