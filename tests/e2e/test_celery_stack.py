"""The docker-compose topology run natively: the daily DAG on Celery workers into PostgreSQL.

Airflow 3.3 with the CeleryExecutor, this machine's Redis as the broker, a PostgreSQL database of
its own as the metadata DB, and the api-server, scheduler, dag-processor and a Celery worker as
separate processes. The run is triggered through the REST API, as a user or another system would.
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from pathlib import Path

import psycopg2
import pytest

from airflow_provider_analytics.source.catalog import RESOURCE_NAMES
from airflow_provider_analytics.testing.fake_api import FakeAnalyticsAPI
from tests.conftest import PG_HOST, PG_PORT, postgres_available, require_service
from tests.e2e.airflow_stack import AirflowStack, RestClient, base_env, free_port, group_alive
from tests.helpers import REPO

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

DAG_ID = "analytics_daily_sync"
KEY = "sk-celery-e2e-7d3b9a51c2"
REDIS = ("127.0.0.1", 6379)
SIZES = {"alerts": 2500, "incidents": 400}


def redis_available() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=2):
            return True
    except OSError:
        return False


def _admin(sql: str) -> None:
    con = psycopg2.connect(host=PG_HOST, port=PG_PORT, user="postgres", dbname="postgres")
    try:
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute(sql)
    finally:
        con.close()


def _rows(dbname: str, sql: str) -> list[tuple]:
    con = psycopg2.connect(host=PG_HOST, port=PG_PORT, user="postgres", dbname=dbname)
    try:
        with con.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()
    finally:
        con.close()


@pytest.fixture
def databases():
    """A metadata database and a warehouse database of the test's own, dropped afterwards."""
    require_service(postgres_available(), "PostgreSQL on 127.0.0.1:5432")
    require_service(redis_available(), "Redis on 127.0.0.1:6379")
    suffix = uuid.uuid4().hex[:8]
    names = {"metadata": f"airflow_e2e_{suffix}", "warehouse": f"warehouse_e2e_{suffix}"}
    for name in names.values():
        _admin(f'create database "{name}"')
    yield names
    for name in names.values():
        _admin(f'drop database if exists "{name}" with (force)')


def celery_env(home: Path, api_port: int, databases: dict[str, str], api_url: str, queue: str) -> dict[str, str]:
    """The docker-compose stack's settings, pointed at this machine's services."""
    env = base_env(home, REPO / "dags", api_port)
    metadata = f"postgresql+psycopg2://postgres@{PG_HOST}:{PG_PORT}/{databases['metadata']}"
    env.update(
        AIRFLOW__CORE__EXECUTOR="CeleryExecutor",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=metadata,
        AIRFLOW__CELERY__BROKER_URL=f"redis://{REDIS[0]}:{REDIS[1]}/0",
        AIRFLOW__CELERY__RESULT_BACKEND=f"db+postgresql://postgres@{PG_HOST}:{PG_PORT}/{databases['metadata']}",
        # a queue of the test's own, so that no other worker on the shared Redis takes its tasks
        AIRFLOW__OPERATORS__DEFAULT_QUEUE=queue,
        # only the run the test triggers: no scheduled run for the latest interval
        AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE="False",
        AIRFLOW_CONN_ANALYTICS_DEFAULT=json.dumps({"conn_type": "analytics", "host": api_url, "password": KEY}),
        AIRFLOW_CONN_WAREHOUSE_PG=json.dumps({"conn_type": "postgres", "host": PG_HOST, "port": PG_PORT,
                                              "login": "postgres", "schema": databases["warehouse"]}),
        ANALYTICS_WAREHOUSE_CONN_ID="warehouse_pg",
    )
    return env


def _all_logs(home: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in home.rglob("*.log"))


def test_the_daily_dag_runs_on_celery_workers_and_merges_exact_rows_into_postgres(databases, tmp_path):
    queue = f"analytics-e2e-{uuid.uuid4().hex[:8]}"
    api_port = free_port()
    with FakeAnalyticsAPI(api_key=KEY, sizes=SIZES, seed=11) as api:
        env = celery_env(tmp_path, api_port, databases, api.base_url, queue)
        stack = AirflowStack(tmp_path, env, api_port)
        with stack:
            stack.migrate()
            stack.start("api-server")
            stack.start("scheduler")
            stack.start("dag-processor")
            stack.start("celery-worker", concurrency=3, queue=queue)
            stack.wait_until_healthy()
            rest = RestClient(stack.api_url)
            dag = rest.wait_for_dag(DAG_ID, timeout=180, on_timeout=stack.log_tails)
            assert dag["is_paused"] is True  # new DAGs start paused, as in a fresh deployment

            started = time.monotonic()
            rest.json("PATCH", f"/dags/{DAG_ID}", json={"is_paused": False})
            run = rest.json("POST", f"/dags/{DAG_ID}/dagRuns", json={"logical_date": None})
            finished = rest.wait_for_run(DAG_ID, run["dag_run_id"], timeout=420, on_timeout=stack.log_tails)
            wall_time = time.monotonic() - started
            tasks = rest.json("GET", f"/dags/{DAG_ID}/dagRuns/{run['dag_run_id']}/taskInstances")["task_instances"]
            runs = rest.json("GET", f"/dags/{DAG_ID}/dagRuns")["dag_runs"]
            stack.check_running()
            worker_log = stack.log("celery-worker")
        upstream = {name: sorted(r["id"] for r in api.records(name)) for name in RESOURCE_NAMES}

    print(f"\nCelery run of {DAG_ID}: {wall_time:.1f}s from trigger to success")
    assert all(not group_alive(proc.pid) for proc in stack.processes.values())
    assert finished["state"] == "success", stack.log_tails()
    assert [r["dag_run_id"] for r in runs] == [run["dag_run_id"]]

    # one task per resource, each run by the Celery worker from the test's queue
    assert sorted(t["task_id"] for t in tasks) == sorted(f"sync_{name}" for name in RESOURCE_NAMES)
    assert {(t["state"], t["queue"], t["try_number"]) for t in tasks} == {("success", queue, 1)}
    assert all(t["hostname"] for t in tasks)
    assert worker_log.count("succeeded in") >= len(RESOURCE_NAMES), worker_log[-3000:]

    # exactly the upstream rows: no row lost, none twice
    for name in RESOURCE_NAMES:
        landed = [row[0] for row in _rows(databases["warehouse"], f'select id from analytics."{name}" order by id collate "C"')]
        assert landed == upstream[name], name

    assert KEY not in _all_logs(tmp_path)
