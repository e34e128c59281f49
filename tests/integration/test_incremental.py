"""Incremental alerts and incidents on DuckDB and PostgreSQL: cursor in the warehouse, lookback, refresh."""

from __future__ import annotations

import pytest

from airflow_provider_analytics.operators.analytics import AnalyticsSyncOperator
from airflow_provider_analytics.source.timestamps import epoch_ms
from airflow_provider_analytics.testing.fake_api import FakeAnalyticsAPI
from tests.helpers import assert_same_record, sync_to as sync


def requests_for(api: FakeAnalyticsAPI, path: str) -> list[str]:
    return [p for _, p, status in api.request_log if p.startswith(path) and status == 200]


def change_one_percent(api: FakeAnalyticsAPI, resource: str, total: int) -> tuple[list[str], list[str]]:
    """Update 0.5% of the records (nested fields too) and add 0.5% new ones; returns (updated, added) ids."""
    step = 200
    updated = []
    for index in range(7, total, step):
        fields = {"status": "closed", "message": f"changed {index}", "tags": ["changed", f"n{index}"]}
        if resource == "alerts":
            fields["report"] = {"ackTime": 1000 + index, "closeTime": 2000 + index, "acknowledgedBy": "ops", "closedBy": "ops"}
        updated.append(api.update(resource, index, **fields)["id"])
    added = [row["id"] for row in api.add(resource, total // step)]
    return updated, added


def test_one_percent_change_rereads_a_few_pages_and_lands_field_for_field(new_api, target):
    total = 20_000
    api = new_api(alerts=total)
    first = sync(target, "alerts")
    assert first["rows"] == total and first["mode"] == "incremental" and first["cursor_start"] is None
    assert target.count("alerts") == (total, total)

    updated, added = change_one_percent(api, "alerts", total)
    api.reset_log()
    second = sync(target, "alerts")
    pages = requests_for(api, "/v2/alerts")
    assert second["pages"] == len(pages) <= 0.05 * first["pages"], (first["pages"], second["pages"])
    assert second["cursor_start"] == first["cursor_end"] - 300_000
    assert second["cursor_end"] > first["cursor_end"]

    upstream = {record["id"]: record for record in api.records("alerts")}
    assert target.count("alerts") == (len(upstream), len(upstream))
    stored = target.records("alerts", where="id in ({})".format(", ".join(f"'{i}'" for i in updated + added)))
    assert set(stored) == set(updated) | set(added)
    for record_id, row in stored.items():
        assert_same_record(upstream[record_id], row, "alerts")


def test_the_cursor_lives_in_the_warehouse_so_an_empty_working_dir_resumes(new_api, target, tmp_path):
    # updatedAt search accepted: the cheap method reads only the lookback window, which shows where it resumed
    api = new_api(updated_at_search="accepted", incidents=450)
    first = sync(target, "incidents", pipelines_dir=str(tmp_path / "worker-a"))
    api.update("incidents", 3, message="changed")
    api.reset_log()
    second = sync(target, "incidents", pipelines_dir=str(tmp_path / "worker-b"))
    assert second["cursor_start"] == first["cursor_end"] - 300_000
    assert second["pages"] == 1 and second["rows"] < 450
    (state_rows,) = target.rows(
        f"select count(*) from {target.table('_dlt_pipeline_state')} "
        f"where pipeline_name = 'analytics__{target.dataset}__incidents'"
    )
    assert state_rows[0] >= 2
    assert target.records("incidents")[api.records("incidents")[3]["id"]]["message"] == "changed"


def test_lookback_catches_a_change_that_became_visible_late_and_zero_lookback_would_not(new_api, target):
    api = new_api(alerts=600)
    first = sync(target, "alerts")
    late_ms = first["cursor_end"] - 60_000  # changed a minute before the cursor, visible only now
    late = api.update("alerts", 5, message="late change", updatedAt=late_ms)
    without = sync(target, "alerts", lookback_seconds=0)
    assert target.records("alerts")[late["id"]]["message"] != "late change"
    assert without["cursor_start"] == first["cursor_end"]
    with_lookback = sync(target, "alerts", lookback_seconds=120)
    assert with_lookback["cursor_start"] == first["cursor_end"] - 120_000
    assert target.records("alerts")[late["id"]]["message"] == "late change"


def test_full_refresh_rereads_everything_and_replaces_the_table(new_api, target):
    api = new_api(alerts=700)
    first = sync(target, "alerts")
    gone = api.records("alerts")[10]["id"]
    api.remove("alerts", gone)
    api.reset_log()
    refreshed = sync(target, "alerts", full_refresh=True)
    assert refreshed["mode"] == "replace" and refreshed["cursor_start"] is None
    assert refreshed["rows"] == 699 and refreshed["pages"] >= first["pages"] - 1
    assert target.count("alerts") == (699, 699)
    assert gone not in target.records("alerts")
    # the refresh stored a cursor: the next run is incremental again
    assert sync(target, "alerts")["mode"] == "incremental"


def test_backfill_start_bounds_the_first_run(new_api, target):
    api = new_api(incidents=500)
    records = api.records("incidents")
    start_ms = sorted(epoch_ms(r["updatedAt"]) for r in records)[300]
    summary = sync(target, "incidents", backfill_start=start_ms)
    expected = {r["id"] for r in records if epoch_ms(r["updatedAt"]) >= start_ms}
    assert summary["cursor_start"] == start_ms
    assert set(target.records("incidents")) == expected and summary["rows"] == len(expected)


def test_created_at_cursor_takes_new_records_only(new_api, target):
    api = new_api(alerts=400)
    sync(target, "alerts", cursor_field="createdAt")
    old = api.update("alerts", 2, message="changed old alert")
    new = api.add("alerts", 3)
    summary = sync(target, "alerts", cursor_field="createdAt")
    stored = target.records("alerts")
    assert {row["id"] for row in new} <= set(stored) and summary["cursor_field"] == "createdAt"
    assert stored[old["id"]]["message"] != "changed old alert"
    # switching the cursor field starts over on the new field rather than misreading the stored value
    switched = sync(target, "alerts", cursor_field="updatedAt")
    assert switched["cursor_start"] is None and switched["rows"] == 403
    assert target.records("alerts")[old["id"]]["message"] == "changed old alert"


@pytest.mark.parametrize("search", ["accepted", "rejected"])
def test_a_record_changed_during_the_sync_lands_by_the_next_run(new_api, target, search):
    api = new_api(updated_at_search=search, alerts=500)
    sync(target, "alerts")
    by_created = sorted(api.records("alerts"), key=lambda r: epoch_ms(r["createdAt"]))
    victim = by_created[0]["id"]  # read on the first page of a full read
    changed = []

    def change_after_first_page(request):
        if request.path == "/v2/alerts" and not changed and api.request_log:
            changed.append(api.update("alerts", victim, message="changed mid-sync"))
        return None

    api.reset_log()
    api.faults.append(change_after_first_page)
    during = sync(target, "alerts", full_refresh=True)
    assert changed
    assert during["cursor_end"] <= epoch_ms(changed[0]["updatedAt"])  # the change is after the stored cursor
    api.faults.clear()
    sync(target, "alerts")
    assert target.count("alerts") == (500, 500)
    assert target.records("alerts")[victim]["message"] == "changed mid-sync"


def test_more_records_in_one_millisecond_than_a_page_land_once_each(new_api, target):
    api = new_api(incidents=700)
    shared = api.records("incidents")[100]["updatedAt"]
    for index in range(100, 360):  # 260 records share one updatedAt: more than two pages of 100
        api.update("incidents", index, updatedAt=shared)
    summary = sync(target, "incidents")
    assert summary["rows"] == 700 and target.count("incidents") == (700, 700)


def test_a_retry_after_a_load_that_failed_late_leaves_no_duplicates(new_api, target):
    api = new_api(alerts=300, users=120)

    class FailsAfterLoading(AnalyticsSyncOperator):
        attempts = 0

        def execute(self, context):
            result = super().execute(context)
            FailsAfterLoading.attempts += 1
            if FailsAfterLoading.attempts == 1:
                raise RuntimeError("worker lost after the load")
            return result

    for resource in ("alerts", "users"):
        FailsAfterLoading.attempts = 0
        op = FailsAfterLoading(
            task_id=f"retry_{resource}", resource=resource, warehouse_conn_id=target.conn_id,
            dataset_name=target.dataset, progress_interval=0,
        )
        with pytest.raises(RuntimeError):
            op.execute({})
        api.update(resource, 0, **({"message": "after retry"} if resource == "alerts" else {"fullName": "After Retry"}))
        op.execute({})
        expected = len(api.records(resource))
        assert target.count(resource) == (expected, expected)
