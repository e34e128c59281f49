"""A worker killed in the middle of a sync (SIGKILL, no cleanup): the next run lands exact rows, no duplicates."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from tests.helpers import REPO, sync_to as sync

# Runs the operator in a process that kills itself at `point`, as an OOM kill or a lost node would.
KILLED_WORKER = """
import os, signal, sys
point, resource, conn_id, dataset, workdir = sys.argv[1:6]
if point == "before_load":  # extracted and normalized, nothing sent to the warehouse yet
    from dlt.pipeline.pipeline import Pipeline
    Pipeline.load = lambda self, *a, **k: os.kill(os.getpid(), signal.SIGKILL)
elif point == "after_merge":  # the table merged and committed, the load not yet recorded as done
    from dlt.load.load import Load
    Load.complete_package = lambda self, *a, **k: os.kill(os.getpid(), signal.SIGKILL)
from airflow_provider_analytics.operators.analytics import AnalyticsSyncOperator
AnalyticsSyncOperator(task_id="sync", resource=resource, warehouse_conn_id=conn_id, dataset_name=dataset,
                      pipelines_dir=workdir or None, progress_interval=0).execute({})
print("NOT KILLED")
"""


def run_killed(point: str, resource: str, target, workdir: str = "") -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    result = subprocess.run(
        [sys.executable, "-c", KILLED_WORKER, point, resource, target.conn_id, target.dataset, workdir],
        env=env, capture_output=True, text=True, timeout=180,
    )
    assert result.returncode == -signal.SIGKILL, result.stdout[-2000:] + result.stderr[-2000:]


@pytest.mark.parametrize("point", ["before_load", "after_merge"])
def test_an_incremental_sync_killed_mid_way_is_finished_exactly_by_the_next_run(new_api, target, point):
    api = new_api(alerts=800)
    sync(target, "alerts")
    changed = [api.update("alerts", i, message=f"after kill {i}")["id"] for i in range(0, 800, 50)]
    api.add("alerts", 40)
    run_killed(point, "alerts", target)
    summary = sync(target, "alerts")
    assert target.count("alerts") == (840, 840)
    stored = target.records("alerts")
    assert all(stored[i]["message"].startswith("after kill") for i in changed)
    assert summary["mode"] == "incremental"


def test_a_snapshot_sync_killed_after_its_merge_leaves_no_duplicates_and_deletes_on_the_next_run(new_api, target):
    api = new_api(users=230)
    sync(target, "users")
    gone = api.remove("users", api.records("users")[5]["id"])
    run_killed("after_merge", "users", target)
    assert target.count("users") == (230, 230)  # merged, but the deletion step never ran
    summary = sync(target, "users")
    assert summary["deleted"] == 1 and target.count("users") == (230, 230)
    assert target.records("users")[gone["id"]]["_deleted_at"] is not None


def test_a_kept_working_dir_finishes_the_interrupted_load_first(new_api, target, tmp_path):
    api = new_api(incidents=300)
    workdir = str(tmp_path / "kept")
    sync(target, "incidents", pipelines_dir=workdir)
    api.add("incidents", 25)
    run_killed("after_merge", "incidents", target, workdir)
    api.add("incidents", 5)
    sync(target, "incidents", pipelines_dir=workdir)
    assert target.count("incidents") == (330, 330)
