"""One `airflow dags test` run that the task-log and the OpenLineage tests both read.

Each `airflow dags test` costs seconds of Airflow start-up per task, so the two look at the same
run: a small DAG syncing teams into the embedded DuckDB file (and into PostgreSQL where it runs),
alerts, and team_members (read per team), with dlt logging at INFO and the OpenLineage provider's
file transport writing the events.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import pytest

from airflow_provider_analytics.demo import airflow_env
from airflow_provider_analytics.testing.fake_api import FakeAnalyticsAPI
from tests.conftest import analytics_conn_json, postgres_available
from tests.local_services import PG_HOST, PG_PORT, throwaway_databases

OBSERVED_KEY = "observed-api-key-7f3c2a9d"
OBSERVED_DAG_ID = "observed_sync"
OBSERVED_PG_DATASET = "lineage_ds"

OBSERVED_DAG = textwrap.dedent(
    """
    import os

    import pendulum
    from airflow.sdk import DAG

    from airflow_provider_analytics.operators.analytics import AnalyticsSyncOperator

    with DAG(dag_id="observed_sync", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
        AnalyticsSyncOperator(task_id="sync_duckdb", resource="teams")
        AnalyticsSyncOperator(task_id="sync_alerts", resource="alerts")
        AnalyticsSyncOperator(task_id="sync_team_members", resource="team_members")
        if os.environ.get("OBSERVED_POSTGRES"):
            AnalyticsSyncOperator(task_id="sync_postgres", resource="teams", warehouse_conn_id="warehouse_pg",
                                  dataset_name="lineage_ds")
    """
)


@dataclass
class ObservedRun:
    """The run's command output, the OpenLineage events it wrote, and what the fake API holds."""

    api: FakeAnalyticsAPI
    database: Optional[str]
    result: subprocess.CompletedProcess
    events: list[dict[str, Any]]
    events_text: str
    upstream: dict[str, int]


@pytest.fixture(scope="session")
def observed_run(tmp_path_factory) -> Iterator[ObservedRun]:
    home: Path = tmp_path_factory.mktemp("observed-home")
    dags = home / "dags"
    dags.mkdir()
    (dags / "observed_sync.py").write_text(OBSERVED_DAG)
    events_file = home / "events.jsonl"
    with FakeAnalyticsAPI(api_key=OBSERVED_KEY, sizes={"alerts": 240, "incidents": 10}, seed=3) as api, \
            throwaway_databases(*(["warehouse"] if postgres_available() else [])) as databases:
        env = airflow_env(home, dags, api.base_url, home / "warehouse.duckdb")
        env.update(
            AIRFLOW_CONN_ANALYTICS_DEFAULT=analytics_conn_json(api.base_url, OBSERVED_KEY),
            RUNTIME__LOG_LEVEL="INFO",  # dlt logs what it does, so where its lines go can be checked
            AIRFLOW__OPENLINEAGE__NAMESPACE="analytics-lineage-test",
            AIRFLOW__OPENLINEAGE__TRANSPORT=json.dumps(
                {"type": "file", "log_file_path": str(events_file), "append": True}),
        )
        database = databases.get("warehouse")
        if database:
            env.update(OBSERVED_POSTGRES="1", AIRFLOW_CONN_WAREHOUSE_PG=json.dumps(
                {"conn_type": "postgres", "host": PG_HOST, "port": PG_PORT, "login": "postgres", "schema": database}))

        def airflow(*args: str) -> subprocess.CompletedProcess:
            return subprocess.run([sys.executable, "-m", "airflow", *args], env=env, capture_output=True, text=True,
                                  timeout=600)

        migrated = airflow("db", "migrate")
        assert migrated.returncode == 0, migrated.stderr[-3000:]
        result = airflow("dags", "test", OBSERVED_DAG_ID)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        text = events_file.read_text()
        upstream = {name: len(api.records(name)) for name in ("teams", "alerts", "team_members")}
        yield ObservedRun(api, database, result, [json.loads(line) for line in text.splitlines() if line.strip()],
                          text, upstream)
