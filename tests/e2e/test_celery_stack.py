"""The docker-compose stack run natively: the daily DAG on Celery workers into PostgreSQL.

The compose file's own Airflow settings and init script, Airflow 3.3 with the CeleryExecutor,
this machine's Redis as the broker, a PostgreSQL database of its own as the metadata DB, and the
api-server, scheduler, dag-processor and a Celery worker as separate processes. The run is
triggered through the REST API, as a user or another system would.
"""

from __future__ import annotations

import uuid
from functools import partial

import pytest

from airflow_provider_analytics.source.catalog import RESOURCE_NAMES
from airflow_provider_analytics.testing.fake_api import FakeAnalyticsAPI
from tests.conftest import require_service
from tests.e2e.airflow_stack import AirflowStack, free_port, group_alive
from tests.e2e.celery_topology import REDIS_HOST, REDIS_PORT, celery_env, forget_queue, run_dag_on_celery
from tests.local_services import PG_HOST, PG_PORT, reachable, throwaway_databases
from tests.helpers import postgres_rows, stored_keys, upstream_keys

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

DAG_ID = "analytics_daily_sync"
KEY = "sk-celery-e2e-7d3b9a51c2"
SIZES = {"alerts": 2500, "incidents": 400}


@pytest.fixture
def databases():
    """A metadata database and a warehouse database of the test's own, dropped afterwards."""
    require_service(reachable(PG_HOST, PG_PORT), "PostgreSQL on 127.0.0.1:5432")
    require_service(reachable(REDIS_HOST, REDIS_PORT), "Redis on 127.0.0.1:6379")
    with throwaway_databases("metadata", "warehouse") as names:
        yield names


@pytest.fixture
def queue():
    """A Celery queue of the test's own on the shared Redis; its keys are removed afterwards."""
    name = f"analytics-e2e-{uuid.uuid4().hex[:8]}"
    yield name
    forget_queue(name)


def test_the_daily_dag_runs_on_celery_workers_and_merges_exact_rows_into_postgres(databases, queue, tmp_path):
    api_port = free_port()
    with FakeAnalyticsAPI(api_key=KEY, sizes=SIZES, seed=11) as api:
        env, init = celery_env(tmp_path, api_port, databases, api.base_url, KEY, queue)
        with AirflowStack(tmp_path, env, api_port) as stack:
            result = run_dag_on_celery(stack, init, DAG_ID, queue)
        upstream = {name: upstream_keys(api, name) for name in RESOURCE_NAMES}

    print(f"\nCelery run of {DAG_ID}: {result.trigger_to_finish_s:.1f}s from trigger to success")
    assert all(not group_alive(proc.pid) for proc in stack.processes.values())
    assert result.run["state"] == "success", stack.log_tails()
    assert [r["dag_run_id"] for r in result.all_runs] == [result.run["dag_run_id"]]

    # one task per resource, each run once by the Celery worker from the test's own queue
    assert sorted(t["task_id"] for t in result.tasks) == sorted(f"sync_{name}" for name in RESOURCE_NAMES)
    assert {(t["state"], t["queue"], t["try_number"]) for t in result.tasks} == {("success", queue, 1)}
    assert {t["pool"] for t in result.tasks} == {"analytics_default_api"}  # the pool the compose init creates
    assert all(t["hostname"] for t in result.tasks)
    assert result.worker_log.count(" succeeded in ") == len(RESOURCE_NAMES), result.worker_log[-3000:]

    # exactly the upstream rows: no row lost, none twice
    query = partial(postgres_rows, dbname=databases["warehouse"])
    for name in RESOURCE_NAMES:
        assert stored_keys(query, "analytics", name) == upstream[name], name

    task_logs = list(tmp_path.glob("logs/dag_id=*/run_id=*/task_id=*/attempt=*.log"))
    assert len(task_logs) == len(RESOURCE_NAMES)
    all_logs = "\n".join(p.read_text(errors="replace") for p in tmp_path.rglob("*.log"))
    assert "rows loaded" in all_logs and KEY not in all_logs


def test_a_failing_component_stops_the_stack_with_its_log(tmp_path):
    """A component that cannot start is reported with its output, and nothing is left running."""
    api_port = free_port()
    env, _ = celery_env(tmp_path, api_port, {"metadata": "x", "warehouse": "x"}, "http://127.0.0.1:9", KEY, "unused")
    env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = "postgresql+psycopg2://postgres@127.0.0.1:1/none"
    with pytest.raises(RuntimeError, match="scheduler exited with code"):
        with AirflowStack(tmp_path, env, api_port) as stack:
            stack.start("scheduler")
            stack.wait_until_healthy(timeout=120)
    assert not group_alive(stack.processes["scheduler"].pid)
