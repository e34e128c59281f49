"""Syncs behind the account's request budget: every row lands, and few requests are throttled.

The fake API answers 429 (`X-RateLimit-State: THROTTLED`, `X-RateLimit-Period-In-Sec`) past its
token bucket. Timing is measured in `bench/request_budget.py`; these tests assert behaviour.
Learning a budget ("auto") costs a few throttled requests however long the sync, so the share
allowed here (for syncs of 25 to 40 requests) is wider than what long syncs reach (the bench),
and tasks learning on their own are bounded per task, not by a share of a short run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest

from airflow_provider_analytics.pipeline.options import SyncOptions
from airflow_provider_analytics.pipeline.sync import run_sync
from airflow_provider_analytics.source.settings import ApiSettings
from airflow_provider_analytics.testing.fake_api import FakeAnalyticsAPI
from airflow_provider_analytics.warehouses.duckdb import duckdb_warehouse
from tests.helpers import REPO, duckdb_rows

KEY = "budget-key"
SIZES = {"alerts": 2500, "incidents": 2500, "users": 2500}  # 25+ requests each
#: Throttled share allowed for these short syncs: learning costs a few requests, not a share.
LEARNING_SHARE = 0.15
#: Throttles each task in its own process pays to learn its share: the requests it had in flight
#: when the budget ran out (docs/request-budget.md), whatever the length of its sync.
THROTTLES_PER_LEARNING_TASK = 6


def sync(api: FakeAnalyticsAPI, resource: str, path, rate=None, concurrency: int = 4):
    settings = ApiSettings(api.base_url, KEY, max_requests_per_second=rate)
    return run_sync(resource, settings, duckdb_warehouse(path),
                    SyncOptions(progress_interval=0, max_concurrent_requests=concurrency))


def assert_exact(api: FakeAnalyticsAPI, path, resource: str) -> None:
    rows = duckdb_rows(path, f"select count(*), count(distinct id) from analytics.{resource}")
    assert rows == [(len(api.records(resource)),) * 2]


#: One sync in a process of its own, as an Airflow task runs: its summary as JSON on the last line.
SYNC_IN_A_PROCESS = """
import json, sys
from airflow_provider_analytics.pipeline.options import SyncOptions
from airflow_provider_analytics.pipeline.sync import run_sync
from airflow_provider_analytics.source.settings import ApiSettings
from airflow_provider_analytics.warehouses.duckdb import duckdb_warehouse
base_url, key, resource, path = sys.argv[1:]
summary = run_sync(resource, ApiSettings(base_url, key), duckdb_warehouse(path),
                   SyncOptions(progress_interval=0, max_concurrent_requests=8))
print(json.dumps(summary.as_dict()))
"""


def test_three_tasks_at_once_each_learning_the_budget_land_exactly_with_few_throttled(tmp_path):
    """Three processes, each with its own pacer, as three Airflow tasks: they share the budget
    only through the throttles they all see."""
    sizes = {"alerts": 8000, "incidents": 2500, "users": 2500}  # 80, 25 and 25+ requests
    with FakeAnalyticsAPI(api_key=KEY, sizes=sizes, seed=6, budget=40, latency=0.05) as api:
        running = {resource: subprocess.Popen(
            [sys.executable, "-c", SYNC_IN_A_PROCESS, api.base_url, KEY, resource, str(tmp_path / f"{resource}.duckdb")],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for resource in sizes}
        outputs = {resource: process.communicate(timeout=300) for resource, process in running.items()}
        for resource, process in running.items():
            assert process.returncode == 0, outputs[resource][1][-3000:]
            assert_exact(api, tmp_path / f"{resource}.duckdb", resource)
        summaries = {resource: json.loads(out.strip().splitlines()[-1]) for resource, (out, _) in outputs.items()}
        requests = sum(s["requests"] for s in summaries.values())
        throttled = sum(s["throttled"] for s in summaries.values())
        assert throttled == api.budget.throttled  # every 429 the account gave is counted
    assert all(s["requests"] >= 25 for s in summaries.values()), summaries
    assert all(s["throttled"] <= THROTTLES_PER_LEARNING_TASK for s in summaries.values()), summaries
    assert throttled < requests / 10, (throttled, requests)
    assert all(0 < s["request_seconds"] <= s["seconds"] for s in summaries.values())
    assert KEY not in "".join(out + err for out, err in outputs.values())


def test_three_syncs_at_once_on_one_budget_land_exactly_with_few_throttled(tmp_path):
    """Three syncs in one process share one pacer."""
    with FakeAnalyticsAPI(api_key=KEY, sizes=SIZES, seed=2, budget=20, latency=0.02) as api:
        summaries: dict[str, object] = {}
        errors: list[BaseException] = []

        def run(resource: str) -> None:
            try:
                summaries[resource] = sync(api, resource, tmp_path / f"{resource}.duckdb")
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)

        threads = [threading.Thread(target=run, args=(resource,)) for resource in SIZES]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(300)
        assert not errors, errors
        for resource in SIZES:
            assert_exact(api, tmp_path / f"{resource}.duckdb", resource)
        requests = sum(s.requests for s in summaries.values())
        throttled = sum(s.throttled for s in summaries.values())
        assert requests >= 3 * 25
        assert throttled == api.budget.throttled  # every 429 the account gave is counted
        assert throttled / requests <= LEARNING_SHARE, (throttled, requests)


def test_a_known_plan_limit_is_never_exceeded(tmp_path, caplog):
    with FakeAnalyticsAPI(api_key=KEY, sizes={"alerts": 3000}, seed=3, budget=15, latency=0.02) as api:
        with caplog.at_level("INFO"):
            summary = sync(api, "alerts", tmp_path / "a.duckdb", rate=15.0, concurrency=8)
        assert_exact(api, tmp_path / "a.duckdb", "alerts")
    assert summary.throttled == 0 and summary.requests > 30
    assert summary.budget_wait_seconds > 0  # it waited for budget instead of being throttled
    assert summary.requests / summary.request_seconds <= 15.0 * 1.05
    # the task log says it: requests, time, throttled, the wait, the rate it settled at
    line = next(r.getMessage() for r in caplog.records if "request budget:" in r.getMessage())
    assert f"alerts: request budget: {summary.requests} request(s) in " in line
    assert ", 0 throttled (0.0%), " in line and " s waiting for budget; settled at 15.0 requests/s" in line


@pytest.mark.parametrize("budget", [5, 30])
def test_auto_learns_the_budget_and_says_so_in_the_summary(tmp_path, budget):
    with FakeAnalyticsAPI(api_key=KEY, sizes={"alerts": 2500}, seed=4, budget=budget, latency=0.02) as api:
        summary = sync(api, "alerts", tmp_path / "a.duckdb", concurrency=8)
        assert_exact(api, tmp_path / "a.duckdb", "alerts")
    assert summary.throttled / summary.requests <= LEARNING_SHARE, (summary.throttled, summary.requests)
    assert summary.as_dict()["requests"] == summary.requests and "budget_wait_seconds" in summary.as_dict()
