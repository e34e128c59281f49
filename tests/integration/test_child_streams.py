"""The records read per parent and the configuration lists: exact per parent, incremental by the parent's
`updatedAt`, resumable after a kill, and a clear error naming the parent."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import pytest

from airflow_provider_analytics.source.catalog import CATALOG
from airflow_provider_analytics.testing.fake_api import FakeReply
from tests.helpers import REPO, assert_same_record, dict_rows, stored_keys, sync_to as sync, table_key, upstream_keys

NEW_RESOURCES = ("alert_logs", "alert_notes", "alert_recipients", "user_teams", "team_members", "schedules",
                 "escalations", "heartbeats")
ALERT_CHILDREN = ("alert_logs", "alert_notes", "alert_recipients")
CHILD_PATH = re.compile(r"^/v2/alerts/([^/?]+)/(logs|notes|recipients)")


def assert_exact(target, api, resource: str) -> None:
    """The live rows equal upstream's, key by key and field by field, with no duplicate keys."""
    key = table_key(resource)
    assert stored_keys(target.rows, target.dataset, resource) == upstream_keys(api, resource)
    all_keys = stored_keys(target.rows, target.dataset, resource, live_only=False) if _has_deleted(target, resource) \
        else stored_keys(target.rows, target.dataset, resource)
    assert len(all_keys) == len(set(all_keys)), f"{resource}: duplicate keys"
    stored = {tuple(str(row[c]) for c in key): row
              for row in dict_rows(target.kind, target.rows, f"select * from {target.table(resource)}")}
    for row in api.records(resource):
        assert_same_record(row, stored[tuple(str(row[c]) for c in key)], resource)


def _has_deleted(target, resource: str) -> bool:
    return "_deleted_at" in target.columns(resource)


def child_requests(api, kind: str = "logs") -> list[str]:
    """Alert ids whose `kind` endpoint was requested, in order."""
    return [m.group(1) for _, path, _ in api.request_log if (m := CHILD_PATH.match(path)) and m.group(2) == kind]


def test_every_new_resource_lands_exactly_as_upstream(new_api, target):
    api = new_api(alerts=120, users=40, teams=6)
    for resource in NEW_RESOURCES:
        summary = sync(target, resource, checkpoint_interval=0.2)
        assert summary["table_rows"] == len(api.records(resource)), resource
        assert_exact(target, api, resource)
    logs_per_alert = {}
    for row in api.records("alert_logs"):
        logs_per_alert[row["alert_id"]] = logs_per_alert.get(row["alert_id"], 0) + 1
    assert set(logs_per_alert) == {alert["id"] for alert in api.records("alerts")}  # every alert has a timeline


@pytest.mark.parametrize("search", ["accepted", "rejected", "ignored"])
@pytest.mark.parametrize("resource", ALERT_CHILDREN)
def test_an_incremental_run_reads_only_the_changed_and_new_alerts(new_api, target, resource, search):
    """Whatever the account's search does with `updatedAt` (the parents are found as alerts are read)."""
    api = new_api(alerts=400, updated_at_search=search)
    first = sync(target, resource)
    assert first["parents"] == 400 and first["mode"] == "merge"
    changed = {api.update("alerts", i, status="closed")["id"] for i in range(3, 400, 13)[:30]}
    created = {alert["id"] for alert in api.add("alerts", 10)}
    api.reset_log()
    second = sync(target, resource)
    kind = resource.split("_")[1]
    read = child_requests(api, kind)
    assert sorted(read) == sorted(changed | created)  # exactly the 40 changed and new alerts, each once
    assert second["mode"] == "incremental" and second["parents"] == 40
    assert second["updated_at_search"] == search
    assert_exact(target, api, resource)


def test_a_change_to_an_alert_appends_log_entries_and_notes_that_the_next_run_catches(new_api, target):
    api = new_api(alerts=60)
    sync(target, "alert_logs")
    sync(target, "alert_notes")
    alert = api.update("alerts", 7, status="closed")
    for resource in ("alert_logs", "alert_notes"):
        before = {key for key in stored_keys(target.rows, target.dataset, resource) if key[0] == alert["id"]}
        sync(target, resource)
        after = {key for key in stored_keys(target.rows, target.dataset, resource) if key[0] == alert["id"]}
        assert after > before, resource
        assert_exact(target, api, resource)


def test_rows_gone_upstream_follow_deletions_per_parent(new_api, target):
    api = new_api(users=30, teams=5)
    sync(target, "team_members")
    sync(target, "user_teams")
    team = api.records("teams")[0]["id"]
    members = [(row["user_id"], row["role"]) for row in api.records("team_members") if row["team_id"] == team]
    api.set_team_members(team, members[1:])  # one member leaves the team
    gone_user = api.records("users")[4]["id"]
    api.remove("users", gone_user)  # a user deleted upstream: its teams follow deletions=
    assert sync(target, "team_members")["deleted"] >= 1
    assert sync(target, "user_teams")["deleted"] >= 1
    for resource in ("team_members", "user_teams"):
        assert_exact(target, api, resource)
    marked = target.rows(f"select count(*) from {target.table('team_members')} "
                         f"where team_id = '{team}' and user_id = '{members[0][0]}' and _deleted_at is not null")
    assert marked[0][0] == 1
    sync(target, "user_teams", deletions="remove")
    assert not target.rows(f"select 1 from {target.table('user_teams')} where user_id = '{gone_user}'")


def test_a_configuration_list_marks_what_is_gone_by_its_own_key(new_api, target):
    api = new_api()
    sync(target, "heartbeats")
    name = api.records("heartbeats")[0]["name"]
    api.remove("heartbeats", name)
    assert sync(target, "heartbeats")["deleted"] == 1
    assert_exact(target, api, "heartbeats")


def test_a_parent_gone_between_listing_and_reading_is_counted_not_fatal(new_api, target, capsys):
    api = new_api(alerts=50)
    gone = api.records("alerts")[10]["id"]
    api.faults.append(lambda request: FakeReply(404, {"message": "Alert does not exist"})
                      if request.path.startswith(f"/v2/alerts/{gone}/") else None)
    summary = sync(target, "alert_logs")
    assert summary["parents_gone"] == 1 and summary["parents"] == 50
    assert "1 gone upstream (404) were skipped" in capsys.readouterr().out  # the task log
    stored = stored_keys(target.rows, target.dataset, "alert_logs")
    assert gone not in {key[0] for key in stored}
    assert len({key[0] for key in stored}) == 49


def test_a_failure_names_the_parent_keeps_what_was_loaded_and_the_rerun_reads_only_the_rest(new_api, target):
    from airflow_provider_analytics.pipeline.errors import SyncError

    api = new_api(alerts=80)
    order = sorted(api.records("alerts"), key=lambda alert: (alert["createdAt"], alert["id"]))
    failing = order[50]["id"]
    api.faults.append(lambda request: FakeReply(400, {"message": "Bad request"})
                      if request.path.startswith(f"/v2/alerts/{failing}/logs") else None)
    with pytest.raises(SyncError) as raised:
        sync(target, "alert_logs", checkpoint_interval=0, max_concurrent_requests=2)
    message = str(raised.value)
    assert failing in message and "HTTP 400" in message and "stay loaded" in message
    loaded = {key[0] for key in stored_keys(target.rows, target.dataset, "alert_logs")}
    assert {alert["id"] for alert in order[:45]} <= loaded  # the parents before it were loaded
    assert failing not in loaded
    api.faults.clear()
    api.reset_log()
    summary = sync(target, "alert_logs")
    read = child_requests(api)
    assert summary["resumed"] and not set(read) & {alert["id"] for alert in order[:45]}
    assert set(read) >= {alert["id"] for alert in order[50:]}
    assert_exact(target, api, "alert_logs")


KILLED_CHILD_SYNC = """
import os, signal, sys
loads_before_kill, resource, conn_id, dataset = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
from dlt.pipeline.pipeline import Pipeline
load = Pipeline.load
done = []
def load_then_maybe_die(self, *args, **kwargs):
    info = load(self, *args, **kwargs)
    done.append(info)
    if len(done) >= loads_before_kill:
        os.kill(os.getpid(), signal.SIGKILL)
    return info
Pipeline.load = load_then_maybe_die
from airflow_provider_analytics.operators.analytics import AnalyticsSyncOperator
AnalyticsSyncOperator(task_id="sync", resource=resource, warehouse_conn_id=conn_id, dataset_name=dataset,
                      progress_interval=0, checkpoint_interval=0, max_concurrent_requests=2).execute({})
print("NOT KILLED")
"""


def test_a_child_sync_killed_half_way_continues_with_the_remaining_parents_and_ends_exact(new_api, target):
    api = new_api(alerts=60)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    result = subprocess.run(
        [sys.executable, "-c", KILLED_CHILD_SYNC, "30", "alert_logs", target.conn_id, target.dataset],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == -signal.SIGKILL, result.stdout[-2000:] + result.stderr[-2000:]
    loaded = {key[0] for key in stored_keys(target.rows, target.dataset, "alert_logs")}
    assert len(loaded) == 30  # one parent per load
    api.reset_log()
    summary = sync(target, "alert_logs")
    read = child_requests(api)
    assert summary["resumed"] and summary["parents_skipped"] == len(loaded)
    assert not set(read) & loaded  # no parent loaded before the kill is read again
    assert sorted(read) == sorted({alert["id"] for alert in api.records("alerts")} - loaded)
    assert_exact(target, api, "alert_logs")
    assert summary["mode"] == "merge"


def test_a_record_newer_than_its_alert_is_reported_as_a_change_that_does_not_move_updated_at(new_api, target, capsys):
    from airflow_provider_analytics.testing.fake_api import iso_ms, parse_ms

    api = new_api(alerts=30)
    alert = api.records("alerts")[3]
    entries = api.children("alert_logs", alert["id"])
    late = {**entries[-1], "offset": entries[-1]["offset"] + "9", "log": "Note added from the mobile app",
            "createdAt": iso_ms(parse_ms(alert["updatedAt"]) + 1000)}  # after the alert's updatedAt, long ago
    api.faults.append(lambda request: FakeReply(200, {"data": [*entries, late], "paging": {}})
                      if request.path == f"/v2/alerts/{alert['id']}/logs" else None)
    summary = sync(target, "alert_logs")
    assert summary["rows"] == len(api.records("alert_logs")) + 1
    assert "1 record(s) were made after their alert's updatedAt" in capsys.readouterr().out


def test_a_retried_full_refresh_continues_its_pass_instead_of_starting_over(new_api, target):
    from airflow_provider_analytics.pipeline.errors import SyncError

    api = new_api(alerts=40)
    sync(target, "alert_recipients")
    order = sorted(api.records("alerts"), key=lambda alert: (alert["createdAt"], alert["id"]))
    failing = order[25]["id"]
    api.faults.append(lambda request: FakeReply(400, {"message": "Bad request"})
                      if request.path.startswith(f"/v2/alerts/{failing}/recipients") else None)
    with pytest.raises(SyncError, match=failing):
        sync(target, "alert_recipients", full_refresh=True, checkpoint_interval=0, max_concurrent_requests=1)
    api.faults.clear()
    api.reset_log()
    retry = sync(target, "alert_recipients", full_refresh=True)  # Airflow's retry of the same task
    assert retry["resumed"] and retry["parents_skipped"] == 25 and retry["parents"] == 15
    assert set(child_requests(api, "recipients")) == {alert["id"] for alert in order[25:]}
    assert_exact(target, api, "alert_recipients")
