"""Incremental alerts and incidents against the spec-faithful fake, whatever the account's search does.

The spec does not promise that `query` can filter on `updatedAt`, so each test runs with the fake's
switch set three ways: the term accepted, refused with 422, or silently ignored. Incidents always
require `query` here (the spec's strict reading). Run 2 starts from an empty working folder, so
what it knows comes from the warehouse alone.
"""

from __future__ import annotations

import pytest

from airflow_provider_analytics.pipeline.errors import SyncError
from airflow_provider_analytics.source.timestamps import epoch_ms
from tests.conftest import API_KEY
from tests.helpers import assert_same_record, load_seed_config, sync_to as sync

MODES = ("accepted", "rejected", "ignored")
SIZES = {"alerts": 3000, "incidents": 600}
FIELDS = {"alerts": ("status", "message", "updatedAt", "acknowledged"), "incidents": ("status", "message", "updatedAt")}


def requests_to(api, path: str) -> int:
    return sum(1 for _, p, _ in api.request_log if p.startswith(path))


def assert_matches_upstream(api, target, resource: str) -> None:
    """The table holds exactly upstream's records, field for field."""
    upstream = {record["id"]: record for record in api.records(resource)}
    stored = target.records(resource)
    assert target.count(resource) == (len(upstream), len(upstream))
    assert set(stored) == set(upstream)
    for record_id, record in upstream.items():
        row = stored[record_id]
        for field in FIELDS[resource]:
            column = field.lower() if field != "updatedAt" else "updated_at"
            value = row[column]
            if field == "updatedAt":
                assert round(value.timestamp() * 1000) == epoch_ms(record[field]), (resource, record_id)
            else:
                assert value == record[field], (resource, record_id, field)


def change_old_records(api) -> dict[str, list[str]]:
    """Status changes on 100 old alerts and 20 old incidents; 100 new alerts and 10 new incidents."""
    changed = {"alerts": [], "incidents": []}
    for index in range(5, 1005, 10):  # old: created in the first third of the data
        fields = {"status": "closed", "acknowledged": True, "message": f"closed as old {index}"}
        changed["alerts"].append(api.update("alerts", index, **fields)["id"])
    for index in range(3, 203, 10):
        changed["incidents"].append(api.update("incidents", index, status="resolved", message=f"resolved {index}")["id"])
    changed["alerts"] += [row["id"] for row in api.add("alerts", 100)]
    changed["incidents"] += [row["id"] for row in api.add("incidents", 10)]
    return changed


@pytest.mark.parametrize("mode", MODES)
def test_second_run_from_a_fresh_worker_lands_every_change_in_every_search_mode(new_api, target, tmp_path, mode,
                                                                                record_property):
    api = new_api(updated_at_search=mode, incident_query_required=True, **SIZES)
    first = {}
    for resource, path in (("alerts", "/v2/alerts"), ("incidents", "/v1/incidents")):
        api.reset_log()
        first[resource] = sync(target, resource, pipelines_dir=str(tmp_path / f"first-{resource}"))
        first[resource]["requests"] = requests_to(api, path)
        assert first[resource]["method"] == "full read"
        assert_matches_upstream(api, target, resource)

    changed = change_old_records(api)
    second = {}
    for resource, path in (("alerts", "/v2/alerts"), ("incidents", "/v1/incidents")):
        api.reset_log()
        second[resource] = sync(target, resource, pipelines_dir=str(tmp_path / f"second-{resource}"))
        second[resource]["requests"] = requests_to(api, path)
        assert_matches_upstream(api, target, resource)
        stored = target.records(resource)
        upstream = {record["id"]: record for record in api.records(resource)}
        for record_id in changed[resource]:
            assert_same_record(upstream[record_id], stored[record_id], resource)

    expected_search = {"accepted": "accepted", "rejected": "rejected", "ignored": "ignored"}[mode]
    assert second["alerts"]["updated_at_search"] == expected_search
    assert second["incidents"]["updated_at_search"] == expected_search
    if mode == "accepted":
        assert second["alerts"]["method"] == second["incidents"]["method"] == "updatedAt search"
    else:
        assert second["alerts"]["method"] == "recent first"
        assert second["incidents"]["method"] == "full read"
    # alerts: only the changed records are read again, in every mode
    assert second["alerts"]["requests"] <= 0.2 * first["alerts"]["requests"], (first["alerts"], second["alerts"])
    shares = {r: round(second[r]["requests"] / first[r]["requests"], 3) for r in second}
    record_property("second_run_request_share", shares)
    print(f"\n[{mode}/{target.kind}] requests run 1 -> run 2: "
          + ", ".join(f"{r} {first[r]['requests']} -> {second[r]['requests']} ({shares[r]:.0%})" for r in shares))

    # a third run remembers the answer: no probe where the search failed
    api.reset_log()
    third = sync(target, "alerts", pipelines_dir=str(tmp_path / "third"))
    probes = [p for _, p, _ in api.request_log if "updatedAt%3E%3D" in p]
    assert third["updated_at_search"] == expected_search
    assert (len(probes) > 0) == (mode == "accepted"), probes


def test_the_api_refusing_updated_at_mid_run_switches_methods_and_stays_exact(new_api, target, tmp_path, capsys):
    api = new_api(updated_at_search="accepted", alerts=3000)  # accepted at first; the fault below turns it off
    sync(target, "alerts", pipelines_dir=str(tmp_path / "a"))
    for index in range(0, 3000, 5):  # 600 old alerts change: several pages of search
        api.update("alerts", index, status="closed", message=f"late close {index}")
    api.add("alerts", 50)
    searched = []

    def refuse_after_three_pages(request):
        if request.path == "/v2/alerts" and "updatedAt" in request.query.get("query", ""):
            searched.append(request.query["query"])
            if len(searched) > 3:
                api.updated_at_search = "rejected"
        return None

    api.faults.append(refuse_after_three_pages)
    capsys.readouterr()
    summary = sync(target, "alerts", pipelines_dir=str(tmp_path / "b"), max_concurrent_requests=1)
    assert len(searched) > 3
    assert summary["method"] == "recent first" and summary["updated_at_search"] == "rejected"
    assert "switching to the method the spec guarantees" in capsys.readouterr().out  # the task log says so
    assert_matches_upstream(api, target, "alerts")


def test_incidents_never_ask_to_sort_on_updated_at(new_api, duckdb_target, tmp_path):
    # accepted: the cheapest method is the one that might be tempted to sort on updatedAt
    api = new_api(updated_at_search="accepted", incident_query_required=True, incidents=450)
    sync(duckdb_target, "incidents", pipelines_dir=str(tmp_path / "a"))
    api.update("incidents", 4, status="closed")
    summary = sync(duckdb_target, "incidents", pipelines_dir=str(tmp_path / "b"))
    assert summary["method"] == "updatedAt search"
    sent = [p for _, p, _ in api.request_log if p.startswith("/v1/incidents")]
    assert sent and all("sort=updatedAt" not in p and "query=" in p for p in sent)
    assert_matches_upstream(api, duckdb_target, "incidents")


def test_the_seed_config_as_written_runs_against_the_strict_fake(new_api, target):
    """The seed follows `paging.next` and sends no `sort`: incidents come in the spec's default order."""
    api = new_api(incidents=450, alerts=700)
    config = load_seed_config(api.base_url, API_KEY)
    for resource, path in (("incidents", "/v1/incidents"), ("alerts", "/v2/alerts")):
        api.reset_log()
        summary = sync(target, resource, config=config)
        sent = [(p, status) for _, p, status in api.request_log if p.startswith(path)]
        assert "sort=" not in sent[0][0] and all(status == 200 for _, status in sent)
        assert summary["rows"] == len(api.records(resource))
        assert_matches_upstream(api, target, resource)


def test_the_seed_config_on_an_account_that_requires_a_query_fails_saying_so(new_api, duckdb_target):
    api = new_api(incidents=50, incident_query_required=True)
    with pytest.raises(SyncError, match="HTTP 422.*query is required"):
        sync(duckdb_target, "incidents", config=load_seed_config(api.base_url, API_KEY))
