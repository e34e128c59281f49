"""Six syncs at once in separate processes, as an executor's workers run them: one DuckDB file, PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from airflow_provider_analytics.testing.fake_api import FakeAnalyticsAPI
from tests.conftest import API_KEY, analytics_conn_json
from tests.helpers import REPO

WORKER = (
    "import json, sys, time\n"
    "started = time.time()\n"
    "from airflow_provider_analytics.operators.analytics import AnalyticsSyncOperator\n"
    "summary = AnalyticsSyncOperator(task_id='sync', resource=sys.argv[1], warehouse_conn_id=sys.argv[2],"
    " dataset_name=sys.argv[3], progress_interval=0).execute({})\n"
    "print('SUMMARY', json.dumps(dict(summary, span=[started, time.time()])))\n"
)


#: Six resources, one worker process each (the fourteen at once would only queue on two cores).
SIX = ("users", "teams", "services", "integrations", "incidents", "alerts")


def run_six_workers(target) -> tuple[dict[str, str], dict[str, int]]:
    """Start one process per resource at once; wait (bounded) for all; their outputs and upstream counts."""
    with FakeAnalyticsAPI(api_key=API_KEY, sizes={"alerts": 3000, "incidents": 600}, seed=9) as api:
        env = dict(os.environ, AIRFLOW_CONN_ANALYTICS_DEFAULT=analytics_conn_json(api.base_url), PYTHONPATH=str(REPO))
        started = time.monotonic()
        workers = {
            name: subprocess.Popen([sys.executable, "-c", WORKER, name, target.conn_id, target.dataset], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for name in SIX
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
        return outputs, {name: len(api.records(name)) for name in SIX}


def test_six_worker_processes_sync_at_the_same_time_with_exact_counts(target):
    outputs, upstream = run_six_workers(target)
    summaries = {
        name: json.loads(next(line for line in out.splitlines() if line.startswith("SUMMARY"))[len("SUMMARY "):])
        for name, out in outputs.items()
    }
    for name in SIX:
        assert summaries[name]["rows"] == upstream[name], name
        assert target.count(name) == (upstream[name], upstream[name]), name
    # all six were running at one and the same moment: the last to start began before the first ended
    spans = [summary["span"] for summary in summaries.values()]
    assert max(start for start, _ in spans) < min(end for _, end in spans)
