"""The example DAGs as the dag-processor sees them: they load, stay light, and say what they do."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from datetime import timedelta

import pytest

from airflow_provider_analytics.source.catalog import RESOURCE_NAMES
from tests.helpers import REPO, load_seed_config, seed_error_handler

DAGS = REPO / "dags"


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_the_dag_folder_loads_without_errors_and_without_dlt():
    code = (
        "import sys, json\n"
        "from airflow.dag_processing.dagbag import DagBag\n"
        f"bag = DagBag(dag_folder={str(DAGS)!r})\n"
        "print('RESULT', json.dumps({'errors': {k: str(v) for k, v in bag.import_errors.items()},"
        " 'dags': sorted(bag.dag_ids), 'heavy': sorted(m for m in ('dlt', 'duckdb', 'requests', 'psycopg2')"
        " if m in sys.modules)}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180, check=True).stdout
    result = json.loads(next(line for line in out.splitlines() if line.startswith("RESULT"))[len("RESULT "):])
    assert result["errors"] == {}
    assert result["dags"] == ["analytics_daily_sync", "analytics_manual_sync", "analytics_response_metrics",
                              "analytics_seed_sync"]
    assert result["heavy"] == []


def test_the_daily_dag_has_one_task_per_resource_with_retries_that_suit_an_api(dagbag):
    dag = dagbag.dags["analytics_daily_sync"]
    assert dag.schedule == "@daily" and dag.catchup is False and dag.max_active_runs == 1
    assert sorted(dag.task_ids) == sorted(f"sync_{name}" for name in RESOURCE_NAMES)
    for task in dag.tasks:
        assert task.resource == task.task_id.removeprefix("sync_")
        assert task.retries == 3 and task.retry_exponential_backoff
        assert task.retry_delay == timedelta(minutes=2) and task.max_retry_delay == timedelta(minutes=30)
        assert task.execution_timeout == timedelta(hours=2)
        assert [type(o).__name__ for o in task.outlets] == ["AssetAlias"]


def test_the_seed_dag_runs_the_seed_config_as_written(dagbag):
    dag = dagbag.dags["analytics_seed_sync"]
    shipped = json.loads((DAGS / "seed_config.json").read_text())
    seed = load_seed_config("unused", "unused")
    del seed["client"]["base_url"], seed["client"]["auth"]["api_key"]  # both come from the connection
    seed["resource_defaults"]["endpoint"] = {"error_handler": seed_error_handler()}
    assert shipped == seed
    assert sorted(dag.task_ids) == sorted(f"sync_{resource['name']}" for resource in shipped["resources"])
    assert all(task.config == shipped for task in dag.tasks)


@pytest.mark.parametrize(
    "conf,message",
    [
        ({"resources": ["bogus"]}, "'bogus' is not one of"),
        ({"resources": []}, "should be non-empty"),
        ({"resources": ["users", "users"]}, "non-unique"),
        ({"full_refresh": "yes"}, "'yes' is not of type 'boolean'"),
        ({"backfill_start": "2024-13-45"}, "is not a 'date'"),
        ({"warehouse_conn_id": "bad id; drop"}, "does not match"),
    ],
)
def test_the_manual_trigger_form_refuses_bad_input_with_a_clear_message(dagbag, conf, message):
    from airflow.sdk.exceptions import ParamValidationError

    params = copy.deepcopy(dagbag.dags["analytics_manual_sync"].params)
    with pytest.raises(ParamValidationError) as caught:  # checked as the form (or the trigger) sets it
        params.update(conf)
        params.validate()
    assert message in str(caught.value)
    assert next(iter(conf)) in str(caught.value)


def test_the_manual_trigger_form_takes_good_input(dagbag):
    params = copy.deepcopy(dagbag.dags["analytics_manual_sync"].params)
    params.update({"resources": ["alerts", "teams"], "full_refresh": True, "backfill_start": "2024-06-01",
                   "warehouse_conn_id": "warehouse_pg"})
    assert params.validate()["resources"] == ["alerts", "teams"]
    defaults = copy.deepcopy(dagbag.dags["analytics_manual_sync"].params).validate()
    assert defaults == {"resources": list(RESOURCE_NAMES), "full_refresh": False, "backfill_start": None,
                        "warehouse_conn_id": None}


def test_only_the_scheduled_dags_start_paused(dagbag):
    """The manual DAG never runs by itself, so it starts unpaused; the daily one waits for its user."""
    assert dagbag.dags["analytics_manual_sync"].is_paused_upon_creation is False
    assert dagbag.dags["analytics_daily_sync"].is_paused_upon_creation is None  # Airflow's setting decides


def test_the_manual_dag_maps_one_task_per_resource_labelled_by_name(dagbag):
    dag = dagbag.dags["analytics_manual_sync"]
    sync = dag.get_task("sync")
    assert sync.partial_kwargs["map_index_template"] == "{{ task.resource }}"
    assert [type(o).__name__ for o in sync.partial_kwargs["outlets"]] == ["AssetAlias"]
    assert sorted(dag.task_ids) == ["chosen_resources", "sync"]


def test_every_sync_task_runs_in_its_api_connections_pool(dagbag):
    from airflow_provider_analytics.task_defaults import api_pool

    syncs = [task for dag in dagbag.dags.values() for task in dag.tasks if task.task_id.startswith("sync")]
    assert len(syncs) > len(RESOURCE_NAMES)  # the three DAGs' sync tasks, the manual one mapped
    assert {task.pool for task in syncs} == {api_pool("analytics_default")} == {"analytics_default_api"}
    helper = dagbag.dags["analytics_manual_sync"].get_task("chosen_resources")
    assert helper.pool == "default_pool"  # reading the form spends no API budget


def test_the_metrics_dag_waits_for_the_six_tables_the_daily_dag_syncs(dagbag):
    from airflow_provider_analytics.metrics.names import SOURCE_TABLES
    from airflow_provider_analytics.table_assets import table_assets

    dag = dagbag.dags["analytics_response_metrics"]
    assert set(SOURCE_TABLES) <= set(RESOURCE_NAMES)
    assert sorted(a.uri for a in dag.schedule) == sorted(a.uri for a in table_assets(SOURCE_TABLES, "analytics"))
    assert dag.catchup is False and dag.max_active_runs == 1 and dag.is_paused_upon_creation is False
    (task,) = dag.tasks
    assert task.retries == 2 and task.execution_timeout == timedelta(hours=1)
    assert [type(o).__name__ for o in task.outlets] == ["AssetAlias"]
    assert dict(dag.params) == {"time_zone": "UTC", "working_hours": "09:00-17:00", "working_days": "Mon-Fri",
                                "report_path": None}
    assert task.time_zone == "{{ params.time_zone }}" and "time_zone" in task.template_fields


def test_on_the_successor_api_the_metrics_dag_waits_only_for_the_tables_it_still_syncs(tmp_path):
    jsm = {"conn_type": "analytics", "host": "https://api.atlassian.com", "login": "ops@example.com",
           "password": "jsm-token", "extra": {"cloud_id": "0c4e7d2a-cloud"}}
    code = (
        "import json\n"
        "from airflow.dag_processing.dagbag import DagBag\n"
        f"bag = DagBag(dag_folder={str(DAGS)!r})\n"
        "print('RESULT', json.dumps(sorted(a.uri.rsplit('/', 1)[1] for a in bag.dags['analytics_response_metrics'].schedule)))\n"
    )
    import os

    env = dict(os.environ, AIRFLOW_CONN_ANALYTICS_DEFAULT=json.dumps(jsm),
               AIRFLOW__ANALYTICS__DUCKDB_PATH=str(tmp_path / "w.duckdb"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180, check=True,
                         env=env).stdout
    tables = json.loads(next(line for line in out.splitlines() if line.startswith("RESULT"))[len("RESULT "):])
    assert tables == ["alert_logs", "alerts", "teams"]
    assert "jsm-token" not in out
