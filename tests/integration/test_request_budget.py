"""Syncs behind the account's request budget: every row lands, and few requests are throttled.

The fake API answers 429 (`X-RateLimit-State: THROTTLED`, `X-RateLimit-Period-In-Sec`) past its
token bucket. Timing is measured in `bench/request_budget.py`; these tests assert behaviour.
Learning a budget ("auto") costs a few throttled requests however long the sync, so the share
allowed here (for syncs of 25 to 40 requests) is wider than what long syncs reach (the bench).
"""

from __future__ import annotations

import threading

import pytest

from airflow_provider_analytics.pipeline.options import SyncOptions
from airflow_provider_analytics.pipeline.sync import run_sync
from airflow_provider_analytics.source.settings import ApiSettings
from airflow_provider_analytics.testing.fake_api import FakeAnalyticsAPI
from airflow_provider_analytics.warehouses.duckdb import duckdb_warehouse
from tests.helpers import duckdb_rows

KEY = "budget-key"
SIZES = {"alerts": 2500, "incidents": 2500, "users": 2500}  # 25+ requests each
#: Throttled share allowed for these short syncs: learning costs a few requests, not a share.
LEARNING_SHARE = 0.15


def sync(api: FakeAnalyticsAPI, resource: str, path, rate=None, concurrency: int = 4):
    settings = ApiSettings(api.base_url, KEY, max_requests_per_second=rate)
    return run_sync(resource, settings, duckdb_warehouse(path),
                    SyncOptions(progress_interval=0, max_concurrent_requests=concurrency))


def assert_exact(api: FakeAnalyticsAPI, path, resource: str) -> None:
    rows = duckdb_rows(path, f"select count(*), count(distinct id) from analytics.{resource}")
    assert rows == [(len(api.records(resource)),) * 2]


def test_three_syncs_at_once_on_one_budget_land_exactly_with_few_throttled(tmp_path):
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


def test_a_known_plan_limit_is_never_exceeded(tmp_path):
    with FakeAnalyticsAPI(api_key=KEY, sizes={"alerts": 3000}, seed=3, budget=15, latency=0.02) as api:
        summary = sync(api, "alerts", tmp_path / "a.duckdb", rate=15.0, concurrency=8)
        assert_exact(api, tmp_path / "a.duckdb", "alerts")
    assert summary.throttled == 0 and summary.requests > 30
    assert summary.budget_wait_seconds > 0  # it waited for budget instead of being throttled


@pytest.mark.parametrize("budget", [5, 30])
def test_auto_learns_the_budget_and_says_so_in_the_summary(tmp_path, budget):
    with FakeAnalyticsAPI(api_key=KEY, sizes={"alerts": 2500}, seed=4, budget=budget, latency=0.02) as api:
        summary = sync(api, "alerts", tmp_path / "a.duckdb", concurrency=8)
        assert_exact(api, tmp_path / "a.duckdb", "alerts")
    assert summary.throttled / summary.requests <= LEARNING_SHARE, (summary.throttled, summary.requests)
    assert summary.as_dict()["requests"] == summary.requests and "budget_wait_seconds" in summary.as_dict()
