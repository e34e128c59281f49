"""After a sync the warehouse holds the dataset alone: each table's staging dataset is dropped, merges still work."""

from __future__ import annotations

from tests.helpers import sync_to as sync


def schemas_of(target) -> set[str]:
    """The warehouse's schemas whose names start with the dataset's."""
    rows = target.rows(
        f"select schema_name from information_schema.schemata where schema_name like '{target.dataset}%'"
    )
    return {name for (name,) in rows}


def test_no_staging_dataset_is_left_and_a_second_sync_still_merges(new_api, target):
    api = new_api(alerts=300, teams=3)
    assert sync(target, "alerts")["rows"] == 300
    # a child resource loaded in several steps: a load per parent, the staging dataset dropped after the last
    members = sync(target, "team_members", checkpoint_interval=0)
    assert len(members["load_ids"]) >= 3
    assert schemas_of(target) == {target.dataset}

    changed = api.update("alerts", 5, status="closed", message="changed after the first sync")["id"]
    added = {row["id"] for row in api.add("alerts", 4)}
    second = sync(target, "alerts")
    assert second["mode"] == "incremental" and second["rows"] >= 5
    assert target.count("alerts") == (304, 304)
    stored = target.records("alerts", where="id in ({})".format(", ".join(f"'{i}'" for i in {changed} | added)))
    assert set(stored) == {changed} | added
    assert stored[changed]["message"] == "changed after the first sync"
    assert schemas_of(target) == {target.dataset}
    tables = {name for (name,) in target.rows(
        f"select table_name from information_schema.tables where table_schema = '{target.dataset}'")}
    assert {"alerts", "team_members", "_dlt_loads", "_dlt_version", "_dlt_pipeline_state"} <= tables
