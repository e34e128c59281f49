"""Wall time of the daily DAG on the Celery topology next to the same DAG under `airflow dags test`.

    python bench/celery_vs_dags_test.py                          # 20,000 alerts, 3,000 incidents
    python bench/celery_vs_dags_test.py --alerts 2500 --incidents 400 --concurrency 6

Both write into a fresh PostgreSQL warehouse database from the same fake API (in this process, on
loopback). `airflow dags test` runs the tasks one after another in one process, on SQLite
metadata; the Celery topology (api-server, scheduler, dag-processor and a Celery worker, Redis
broker, PostgreSQL metadata) runs them as separate task processes, `--concurrency` at a time.
Timed: the whole `airflow dags test` command; for Celery, from the REST trigger to the run's
success (starting the components is reported apart). Every table is checked against upstream.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from airflow_provider_analytics.source.catalog import RESOURCE_NAMES  # noqa: E402
from airflow_provider_analytics.testing.fake_api import FakeAnalyticsAPI  # noqa: E402
from tests.e2e.airflow_stack import AirflowStack, base_env, free_port  # noqa: E402
from tests.e2e.celery_topology import (  # noqa: E402
    WAREHOUSE_CONN_ID,
    analytics_conn_json,
    celery_env,
    forget_queue,
    run_dag_on_celery,
    warehouse_conn_json,
)
from tests.local_services import throwaway_databases  # noqa: E402
from tests.helpers import postgres_rows, table_key  # noqa: E402

DAG_ID = "analytics_daily_sync"
KEY = "bench-celery-key"


def landed(dbname: str) -> dict[str, int | None]:
    """Rows per table, or None for a table holding some key twice."""
    counts = {}
    for name in RESOURCE_NAMES:
        key = ", ".join(f'"{column}"' for column in table_key(name))
        sql = f'select count(*), (select count(*) from (select distinct {key} from analytics."{name}") k) from analytics."{name}"'
        counts[name] = postgres_rows(sql, dbname)[0]
    return {name: rows if rows == distinct else None for name, (rows, distinct) in counts.items()}


def time_dags_test(home: Path, api_url: str, warehouse_db: str) -> float:
    env = base_env(home, REPO / "dags", free_port())
    env.update(
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home / 'airflow.db'}",
        AIRFLOW_CONN_ANALYTICS_DEFAULT=analytics_conn_json(api_url, KEY),
        AIRFLOW_CONN_WAREHOUSE_PG=warehouse_conn_json(warehouse_db),
        ANALYTICS_WAREHOUSE_CONN_ID=WAREHOUSE_CONN_ID,
    )
    airflow = [sys.executable, "-m", "airflow"]
    subprocess.run([*airflow, "db", "migrate"], env=env, check=True, capture_output=True, timeout=600)
    started = time.monotonic()
    result = subprocess.run([*airflow, "dags", "test", DAG_ID], env=env, capture_output=True, text=True,
                            timeout=3600)
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"airflow dags test failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return elapsed


def task_timeline(tasks: list[dict]) -> list[str]:
    """Per task: seconds from queued to started, and the task's own duration."""
    def at(value: str) -> datetime:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))

    lines = []
    for task in sorted(tasks, key=lambda t: t["start_date"]):
        waited = (at(task["start_date"]) - at(task["queued_when"])).total_seconds()
        lines.append(f"  {task['task_id']:<20} queued -> started {waited:5.1f} s, ran {task['duration']:5.1f} s")
    return lines


def time_celery(home: Path, api_url: str, databases: dict[str, str],
                concurrency: int) -> tuple[float, float, list[str]]:
    port = free_port()
    queue = f"analytics-bench-{uuid.uuid4().hex[:8]}"
    env, init = celery_env(home, port, databases, api_url, KEY, queue)
    started = time.monotonic()
    try:
        with AirflowStack(home, env, port) as stack:
            result = run_dag_on_celery(stack, init, DAG_ID, queue, concurrency=concurrency, timeout=3600)
    finally:
        forget_queue(queue)
    if result.run["state"] != "success":
        raise SystemExit(f"the Celery run ended {result.run['state']}")
    total = time.monotonic() - started
    return result.trigger_to_finish_s, total - result.trigger_to_finish_s, task_timeline(result.tasks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=20000)
    parser.add_argument("--incidents", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=3, help="Celery worker slots (default 3)")
    args = parser.parse_args()
    sizes = {"alerts": args.alerts, "incidents": args.incidents}
    with FakeAnalyticsAPI(api_key=KEY, sizes=sizes, seed=3) as api, tempfile.TemporaryDirectory() as tmp:
        upstream = {name: len(api.records(name)) for name in RESOURCE_NAMES}
        with throwaway_databases("warehouse") as dbs:
            home = Path(tmp) / "dags-test"
            home.mkdir()
            dags_test_s = time_dags_test(home, api.base_url, dbs["warehouse"])
            dags_test_rows = landed(dbs["warehouse"])
        with throwaway_databases("metadata", "warehouse") as dbs:
            home = Path(tmp) / "celery"
            home.mkdir()
            celery_s, startup_s, timeline = time_celery(home, api.base_url, dbs, args.concurrency)
            celery_rows = landed(dbs["warehouse"])
    print(f"upstream: {upstream}")
    rows = [
        ("airflow dags test (SQLite metadata, tasks in sequence)", dags_test_s, dags_test_rows == upstream),
        (f"Celery, trigger to success ({args.concurrency} worker slots)", celery_s, celery_rows == upstream),
    ]
    for label, seconds, rows_ok in rows:
        print(f"{label:<58}{seconds:7.1f} s   rows match upstream: {rows_ok}")
    print(f"{'Celery, init script and starting the four components':<58}{startup_s:7.1f} s")
    print("Celery tasks:", *timeline, sep="\n")


if __name__ == "__main__":
    main()
