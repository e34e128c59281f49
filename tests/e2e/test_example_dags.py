"""The example DAGs under `airflow dags test` (SQLite metadata, fake API, embedded DuckDB)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from contextlib import contextmanager
from functools import partial

import duckdb
import pytest

from airflow_provider_analytics.demo import airflow_env
from airflow_provider_analytics.source.catalog import RESOURCE_NAMES
from airflow_provider_analytics.testing.fake_api import FakeAnalyticsAPI
from tests.helpers import REPO, duckdb_rows, stored_keys, table_key, upstream_keys

KEY = "demo-api-key"


class Airflow:
    """One throwaway Airflow home shared by the tests of this module."""

    def __init__(self, home, api):
        self.home, self.api = home, api
        self.warehouse = home / "warehouse.duckdb"
        self.env = airflow_env(home, REPO / "dags", api.base_url, self.warehouse)

    def run(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "airflow", *args], env=self.env, capture_output=True,
                              text=True, timeout=timeout)

    def metadata(self, sql: str) -> list[tuple]:
        with sqlite3.connect(self.home / "airflow.db") as con:
            return con.execute(sql).fetchall()

    def counts(self, dataset: str) -> dict[str, int]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            tables = {row[0] for row in con.execute(
                f"select table_name from information_schema.tables where table_schema = '{dataset}'").fetchall()}
            return {name: con.execute(f'select count(*) from (select distinct {_key(name)} from "{dataset}"."{name}")')
                    .fetchone()[0] for name in RESOURCE_NAMES if name in tables}


def _key(resource: str) -> str:
    return ", ".join(f'"{column}"' for column in table_key(resource))


@pytest.fixture(scope="module")
def airflow(tmp_path_factory):
    home = tmp_path_factory.mktemp("airflow-home")
    with FakeAnalyticsAPI(api_key=KEY, sizes={"alerts": 700, "incidents": 150}, seed=5) as api:
        af = Airflow(home, api)
        migrated = af.run("db", "migrate")
        assert migrated.returncode == 0, migrated.stderr[-3000:]
        yield af


def test_the_manual_dag_syncs_the_chosen_resources_with_tasks_named_after_them(airflow):
    conf = {"resources": ["teams", "alerts"], "full_refresh": True, "backfill_start": "2024-01-01"}
    result = airflow.run("dags", "test", "analytics_manual_sync", "-c", json.dumps(conf))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert airflow.counts("analytics") == {"teams": 12, "alerts": 700}
    mapped = airflow.metadata(
        "select rendered_map_index, state from task_instance where dag_id = 'analytics_manual_sync' "
        "and task_id = 'sync' order by map_index")
    assert mapped == [("teams", "success"), ("alerts", "success")]
    events = airflow.metadata(
        "select a.uri, e.extra from asset_event e join asset a on a.id = e.asset_id "
        "where e.source_dag_id = 'analytics_manual_sync'")
    by_uri = {uri: json.loads(extra) for uri, extra in events}
    base = f"duckdb:{airflow.warehouse}/analytics"
    assert set(by_uri) == {f"{base}/teams", f"{base}/alerts"}
    assert by_uri[f"{base}/alerts"]["table_rows"] == 700 and by_uri[f"{base}/alerts"]["mode"] == "replace"
    assert KEY not in result.stdout + result.stderr


def test_the_manual_dag_refuses_bad_input_before_any_task_runs(airflow):
    airflow.api.reset_log()
    result = airflow.run("dags", "test", "analytics_manual_sync", "-c", json.dumps({"resources": ["tickets"]}))
    assert result.returncode != 0
    assert "Invalid input for param resources: 'tickets' is not one of" in result.stdout + result.stderr
    assert airflow.api.request_log == []


def test_the_seed_dag_runs_the_seed_config_as_written(airflow):
    result = airflow.run("dags", "test", "analytics_seed_sync")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    seed_resources = ("users", "teams", "services", "integrations", "incidents", "alerts")  # what the seed defines
    upstream = {name: len(airflow.api.records(name)) for name in seed_resources}
    assert airflow.counts("analytics_seed") == upstream
    # the seed sends the key its own way (an `api_key` header), taken from the connection
    assert KEY not in result.stdout + result.stderr


def test_the_daily_dag_twice_against_the_strict_fake_lands_every_change(airflow, tmp_path):
    """Day one reads everything; day two, after old records changed, lands them all, on an account whose
    search silently ignores `updatedAt` (the hardest of the three answers; each of the three is tested per
    resource, on both warehouses, in tests/integration/test_real_api_modes.py and test_child_streams.py)."""
    search = "ignored"
    with FakeAnalyticsAPI(api_key=KEY, sizes={"alerts": 900, "incidents": 200}, seed=8, updated_at_search=search,
                          incident_query_required=True) as api:
        warehouse = tmp_path / "warehouse.duckdb"
        env = airflow_env(airflow.home, REPO / "dags", api.base_url, warehouse)
        day_one = subprocess.run([sys.executable, "-m", "airflow", "dags", "test", "analytics_daily_sync", "2026-03-01"],
                                 env=env, capture_output=True, text=True, timeout=600)
        assert day_one.returncode == 0, day_one.stdout[-3000:] + day_one.stderr[-3000:]
        for index in range(0, 300, 3):
            api.update("alerts", index, status="closed", acknowledged=True)
        for index in range(0, 40, 2):
            api.update("incidents", index, status="resolved")
        api.add("alerts", 100)
        api.add("incidents", 10)
        day_two = subprocess.run([sys.executable, "-m", "airflow", "dags", "test", "analytics_daily_sync", "2026-03-02"],
                                 env=env, capture_output=True, text=True, timeout=600)
        assert day_two.returncode == 0, day_two.stdout[-3000:] + day_two.stderr[-3000:]
        upstream = {name: {r["id"]: r for r in api.records(name)} for name in ("alerts", "incidents")}
        every_table = {name: upstream_keys(api, name) for name in RESOURCE_NAMES}
    query = partial(duckdb_rows, warehouse)
    assert {name: stored_keys(query, "analytics", name) for name in RESOURCE_NAMES} == every_table  # all 14 exact
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for name, fields in (("alerts", "status, acknowledged"), ("incidents", "status")):
            rows = con.execute(f"select id, {fields} from analytics.{name}").fetchall()
            assert len(rows) == len({row[0] for row in rows}) == len(upstream[name])
            for row in rows:
                record = upstream[name][row[0]]
                assert row[1] == record["status"], (name, row[0])
                if name == "alerts":
                    assert row[2] == record["acknowledged"]
    assert f"alerts: read by recent first (updatedAt search: {search})" in day_two.stdout + day_two.stderr
    assert KEY not in day_one.stdout + day_one.stderr + day_two.stdout + day_two.stderr



@contextmanager
def e2e_warehouse(kind: str, tmp_path):
    """(the warehouse connection's JSON, a query function): a DuckDB file, or a throwaway PostgreSQL database."""
    if kind == "duckdb":
        path = tmp_path / "warehouse.duckdb"
        yield json.dumps({"conn_type": "duckdb", "host": str(path)}), partial(duckdb_rows, path)
        return
    from tests.conftest import postgres_available, require_service
    from tests.helpers import postgres_rows
    from tests.local_services import PG_HOST, PG_PORT, throwaway_databases

    require_service(postgres_available(), "PostgreSQL on 127.0.0.1:5432")
    with throwaway_databases("warehouse") as names:
        conn = {"conn_type": "postgres", "host": PG_HOST, "port": PG_PORT, "login": "postgres",
                "schema": names["warehouse"]}
        yield json.dumps(conn), partial(postgres_rows, dbname=names["warehouse"])


@pytest.mark.parametrize("kind", ["duckdb", "postgres"])
def test_the_daily_dag_on_the_successor_api_continues_tables_filled_from_opsgenie(airflow, tmp_path, monkeypatch,
                                                                                   kind):
    """Every table filled from OpsGenie (as the daily DAG's tasks do); then the connection speaks Jira Service
    Management and the daily DAG runs under `airflow dags test`: the mapped tables stay exact, the six it has
    no counterpart for are skipped and keep their rows."""
    from types import SimpleNamespace

    from airflow_provider_analytics.source.jsm.endpoints import ENDPOINTS, UNSUPPORTED
    from tests.conftest import analytics_conn_json, jsm_conn_json
    from tests.helpers import sync_to

    with FakeAnalyticsAPI(api_key=KEY, sizes={"alerts": 300, "incidents": 100}, seed=9) as api, \
            e2e_warehouse(kind, tmp_path) as (warehouse_conn, query):
        monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_E2E", warehouse_conn)
        monkeypatch.setenv("AIRFLOW_CONN_ANALYTICS_DEFAULT", analytics_conn_json(api.base_url, KEY))
        for resource in RESOURCE_NAMES:
            sync_to(SimpleNamespace(conn_id="warehouse_e2e", dataset="analytics"), resource)
        kept = {name: stored_keys(query, "analytics", name) for name in UNSUPPORTED}
        for index in range(0, 300, 7):
            api.update("alerts", index, status="closed")
        api.add("alerts", 30)
        env = airflow_env(airflow.home, REPO / "dags", api.base_url, tmp_path / "unused.duckdb")
        env.update(AIRFLOW_CONN_ANALYTICS_DEFAULT=jsm_conn_json(api, key=KEY), AIRFLOW_CONN_WAREHOUSE_E2E=warehouse_conn,
                   ANALYTICS_WAREHOUSE_CONN_ID="warehouse_e2e")
        day_two = subprocess.run([sys.executable, "-m", "airflow", "dags", "test", "analytics_daily_sync", "2026-04-02"],
                                 env=env, capture_output=True, text=True, timeout=600)
        assert day_two.returncode == 0, day_two.stdout[-3000:] + day_two.stderr[-3000:]
        listed_beats = {beat["name"] for beat in api.jsm_records("heartbeats")}
        upstream = {name: upstream_keys(api, name) for name in ENDPOINTS if name != "alert_logs"}
        upstream["heartbeats"] = [key for key in upstream["heartbeats"] if key[0] in listed_beats]
        log_count = len(api.records("alert_logs"))
        jsm_paths = sum(1 for _, path, _ in api.request_log if path.startswith("/jsm/ops/api/"))
        assert {name: stored_keys(query, "analytics", name) for name in upstream} == upstream
        assert query("select count(*) from analytics.alert_logs where _deleted_at is null") == [(log_count,)]
        assert {name: stored_keys(query, "analytics", name) for name in UNSUPPORTED} == kept
    states = dict(airflow.metadata(
        "select task_id, state from task_instance where run_id = (select max(run_id) from task_instance "
        "where dag_id = 'analytics_daily_sync') and dag_id = 'analytics_daily_sync'"))
    assert {task for task, state in states.items() if state == "skipped"} == {f"sync_{name}" for name in UNSUPPORTED}
    assert {task for task, state in states.items() if state == "success"} == {f"sync_{name}" for name in ENDPOINTS}
    assert jsm_paths > 0 and "has no operation that lists users" in day_two.stdout + day_two.stderr
    assert KEY not in day_two.stdout + day_two.stderr


def test_a_missing_warehouse_connection_fails_the_task_after_one_try_naming_it(airflow):
    """As a new user hits it: the DAG's tasks have 3 retries from 2 minutes, which a missing connection skips."""
    import time

    conf = {"resources": ["teams"], "warehouse_conn_id": "warehouse_pgx"}
    started = time.monotonic()
    result = airflow.run("dags", "test", "analytics_manual_sync", "-c", json.dumps(conf), timeout=90)
    assert time.monotonic() - started < 90
    (run_id,), = airflow.metadata(
        "select run_id from dag_run where dag_id = 'analytics_manual_sync' order by id desc limit 1")
    tries = airflow.metadata(
        "select state, try_number from task_instance where dag_id = 'analytics_manual_sync' and task_id = 'sync' "
        f"and run_id = '{run_id}'")
    assert tries == [("failed", 1)], result.stdout[-3000:] + result.stderr[-3000:]
    output = result.stdout + result.stderr
    assert "The conn_id `warehouse_pgx` isn't defined. Create it" in output
    assert "up_for_retry" not in output.lower() and KEY not in output


def test_the_metrics_dag_builds_the_tables_and_the_report_after_the_daily_dag(airflow, tmp_path):
    """Daily sync, then the metrics DAG, as a user runs them; the daily run queues the metrics DAG on all six Assets."""
    from airflow_provider_analytics.metrics.names import METRIC_TABLES, SOURCE_TABLES

    with FakeAnalyticsAPI(api_key=KEY, sizes={"alerts": 400, "incidents": 60}, seed=9) as api:
        home = tmp_path / "home"
        home.mkdir()
        warehouse = tmp_path / "warehouse.duckdb"
        env = airflow_env(home, REPO / "dags", api.base_url, warehouse)

        def airflow_cli(*args: str) -> subprocess.CompletedProcess:
            done = subprocess.run([sys.executable, "-m", "airflow", *args], env=env, capture_output=True, text=True,
                                  timeout=600)
            assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
            return done

        airflow_cli("db", "migrate")
        airflow_cli("dags", "reserialize")  # the metrics DAG is known, so the daily run's Asset events queue it
        daily = airflow_cli("dags", "test", "analytics_daily_sync", "2026-03-01")
        with sqlite3.connect(home / "airflow.db") as con:
            queued = {uri for (uri,) in con.execute(
                "select a.uri from asset_dag_run_queue q join asset a on a.id = q.asset_id "
                "where q.target_dag_id = 'analytics_response_metrics'")}
        assert queued == {f"duckdb:{warehouse}/analytics/{table}" for table in SOURCE_TABLES}

        metrics = airflow_cli("dags", "test", "analytics_response_metrics", "-c",
                              json.dumps({"time_zone": "Europe/Berlin"}))
        alerts = len(api.records("alerts"))
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = {table: con.execute(f"select count(*) from analytics_metrics.{table}").fetchone()[0]
                for table in METRIC_TABLES}
        acknowledged = con.execute("select count(*) from analytics_metrics.alert_response "
                                   "where first_acknowledged_at is not null").fetchone()[0]
    assert rows["alert_response"] == alerts and rows["incident_response"] == 60
    assert rows["response_daily"] > 0 and rows["oncall_load"] > 0 and 0 < acknowledged < alerts
    report = tmp_path / "analytics_metrics_report.html"
    page = report.read_text()
    assert page.startswith("<!doctype html>") and "Alert response report" in page and "Europe/Berlin" in page
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org", "")  # nothing fetched
    output = metrics.stdout + metrics.stderr
    assert "Metrics summary" in output and f"alert_response     {alerts:,} rows" in output
    assert KEY not in daily.stdout + daily.stderr + output
