"""Six syncs at once in separate processes, as an executor's workers run them, into one DuckDB file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from airflow_provider_analytics.source.catalog import RESOURCE_NAMES
from airflow_provider_analytics.testing.fake_api import FakeAnalyticsAPI
from tests.conftest import API_KEY, analytics_conn_json
from tests.helpers import REPO, duckdb_rows

WORKER = (
    "import json, sys\n"
    "from airflow_provider_analytics.operators.analytics import AnalyticsSyncOperator\n"
    "summary = AnalyticsSyncOperator(task_id='sync', resource=sys.argv[1], warehouse_conn_id='warehouse_duckdb',"
    " progress_interval=0).execute({})\n"
    "print('SUMMARY', json.dumps(summary))\n"
)


def test_six_worker_processes_write_one_duckdb_file_at_the_same_time(tmp_path):
    path = tmp_path / "shared.duckdb"
    with FakeAnalyticsAPI(api_key=API_KEY, sizes={"alerts": 3000, "incidents": 600}, seed=9) as api:
        env = dict(os.environ)
        env.update(
            AIRFLOW_CONN_ANALYTICS_DEFAULT=analytics_conn_json(api.base_url),
            AIRFLOW_CONN_WAREHOUSE_DUCKDB=json.dumps({"conn_type": "duckdb", "host": str(path)}),
            PYTHONPATH=str(REPO),
        )
        started = time.monotonic()
        workers = {
            name: subprocess.Popen([sys.executable, "-c", WORKER, name], env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
            for name in RESOURCE_NAMES
        }
        outputs = {}
        try:
            for name, worker in workers.items():
                outputs[name] = worker.communicate(timeout=max(5.0, 300 - (time.monotonic() - started)))[0]
        finally:
            for worker in workers.values():
                worker.kill()
        for name, worker in workers.items():
            assert worker.returncode == 0, f"{name}:\n{outputs[name][-3000:]}"
        upstream = {name: len(api.records(name)) for name in RESOURCE_NAMES}
    summaries = {
        name: json.loads(next(line for line in out.splitlines() if line.startswith("SUMMARY"))[len("SUMMARY "):])
        for name, out in outputs.items()
    }
    for name in RESOURCE_NAMES:
        assert summaries[name]["rows"] == upstream[name], name
        total, distinct = duckdb_rows(path, f"select count(*), count(distinct id) from analytics.{name}")[0]
        assert (total, distinct) == (upstream[name], upstream[name]), name
    # they really ran at the same time: the others waited on the file's lock instead of failing
    waited = [name for name, out in outputs.items() if "Waiting for another sync writing" in out]
    assert len(waited) >= 3, {name: out[-500:] for name, out in outputs.items()}
