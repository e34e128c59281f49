"""OpenLineage under `airflow dags test`: the events the OpenLineage provider writes for a sync, read back.

One DAG run, with the provider's file transport: a sync of teams into the embedded DuckDB file
and, where PostgreSQL runs, one into PostgreSQL. The events must name the endpoint and the
tables the way the official integrations do, carry the table's schema, the rows loaded and the
run's mode, and never the API key.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from airflow_provider_analytics.demo import airflow_env
from airflow_provider_analytics.source.schema_hints import load_json_schema
from airflow_provider_analytics.testing.fake_api import FakeAnalyticsAPI
from tests.conftest import analytics_conn_json, postgres_available, require_service
from tests.local_services import PG_HOST, PG_PORT, throwaway_databases

KEY = "lineage-api-key-7f3c2a9d"
DAG_ID = "lineage_check"
PG_DATASET = "lineage_ds"

DAG_FILE = textwrap.dedent(
    """
    import os

    import pendulum
    from airflow.sdk import DAG

    from airflow_provider_analytics.operators.analytics import AnalyticsSyncOperator

    with DAG(dag_id="lineage_check", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
        AnalyticsSyncOperator(task_id="sync_duckdb", resource="teams")
        if os.environ.get("LINEAGE_CHECK_POSTGRES"):
            AnalyticsSyncOperator(task_id="sync_postgres", resource="teams", warehouse_conn_id="warehouse_pg",
                                  dataset_name="lineage_ds")
    """
)


@pytest.fixture(scope="module")
def lineage_run(tmp_path_factory):
    """(the fake API, the PostgreSQL database or None, the events written, the run's output)."""
    home = tmp_path_factory.mktemp("lineage-home")
    dags = home / "dags"
    dags.mkdir()
    (dags / "lineage_check.py").write_text(DAG_FILE)
    events_file = home / "events.jsonl"
    with FakeAnalyticsAPI(api_key=KEY, seed=3) as api, throwaway_databases(
            *(["warehouse"] if postgres_available() else [])) as databases:
        env = airflow_env(home, dags, api.base_url, home / "warehouse.duckdb")
        env.update(
            AIRFLOW_CONN_ANALYTICS_DEFAULT=analytics_conn_json(api.base_url, KEY),
            AIRFLOW__OPENLINEAGE__NAMESPACE="analytics-lineage-test",
            AIRFLOW__OPENLINEAGE__TRANSPORT=json.dumps(
                {"type": "file", "log_file_path": str(events_file), "append": True}),
        )
        database = databases.get("warehouse")
        if database:
            env.update(LINEAGE_CHECK_POSTGRES="1", AIRFLOW_CONN_WAREHOUSE_PG=json.dumps(
                {"conn_type": "postgres", "host": PG_HOST, "port": PG_PORT, "login": "postgres", "schema": database}))

        def airflow(*args: str) -> subprocess.CompletedProcess:
            return subprocess.run([sys.executable, "-m", "airflow", *args], env=env, capture_output=True, text=True,
                                  timeout=300)

        migrated = airflow("db", "migrate")
        assert migrated.returncode == 0, migrated.stderr[-3000:]
        run = airflow("dags", "test", DAG_ID)
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        text = events_file.read_text()
        yield api, database, [json.loads(line) for line in text.splitlines() if line.strip()], text + run.stdout


def task_events(events: list[dict], task_id: str) -> dict[str, dict]:
    """The task's events by type (START, COMPLETE, ...)."""
    found = {event["eventType"]: event for event in events if event["job"]["name"] == f"{DAG_ID}.{task_id}"}
    assert found, f"no events for {task_id}; jobs: {sorted({event['job']['name'] for event in events})}"
    return found


def expected_fields() -> list[tuple[str, str]]:
    """(column, dlt type) of the teams table, from its JSON Schema (camelCase would become snake_case)."""
    types = {"string": "text", "object": "json"}
    fields = []
    for name, prop in load_json_schema("teams")["properties"].items():
        kinds = [prop["type"]] if isinstance(prop["type"], str) else [t for t in prop["type"] if t != "null"]
        fields.append((name, types[kinds[0]]))
    return fields


def test_a_sync_into_duckdb_reports_the_endpoint_the_table_its_schema_and_the_rows(lineage_run):
    api, _, events, _ = lineage_run
    by_type = task_events(events, "sync_duckdb")
    assert {"START", "COMPLETE"} <= set(by_type)
    start, complete = by_type["START"], by_type["COMPLETE"]
    assert complete["job"]["namespace"] == "analytics-lineage-test"

    api_namespace = api.base_url.rstrip("/")  # http://127.0.0.1:<port>: the fake serves at the root
    for event in (start, complete):
        assert [(d["namespace"], d["name"]) for d in event["inputs"]] == [(api_namespace, "/v2/teams")]
        (output,) = event["outputs"]
        assert output["namespace"].startswith("duckdb:///") and output["namespace"].endswith("/warehouse.duckdb")
        assert output["name"] == "warehouse.analytics.teams"
        schema = output["facets"]["schema"]["fields"]
        assert [(field["name"], field["type"]) for field in schema] == expected_fields()
        links = next(field for field in schema if field["name"] == "links")
        assert [field["name"] for field in links["fields"]] == ["web", "api"]

    (output,) = complete["outputs"]
    teams = len(api.records("teams"))
    assert output["outputFacets"]["outputStatistics"]["rowCount"] == teams > 0
    facet = complete["run"]["facets"]["analyticsSync"]
    assert facet["resource"] == "teams" and facet["mode"] == "merge" and facet["deletions"] == "mark"
    assert facet["rowsLoaded"] == facet["tableRows"] == teams and facet["rowsDeleted"] == 0
    assert facet["requests"] >= 1 and facet["throttled"] == 0
    assert facet["_schemaURL"].endswith("#/$defs/AnalyticsSyncRunFacet") and facet["_producer"]
    assert "analyticsSync" not in start["run"]["facets"]  # nothing ran yet


def test_a_sync_into_postgres_is_named_as_the_postgres_provider_names_it(lineage_run):
    _, database, events, _ = lineage_run
    require_service(database is not None, "PostgreSQL on 127.0.0.1:5432")
    complete = task_events(events, "sync_postgres")["COMPLETE"]
    (output,) = complete["outputs"]
    assert (output["namespace"], output["name"]) == (f"postgres://{PG_HOST}:{PG_PORT}", f"{database}.{PG_DATASET}.teams")
    assert output["outputFacets"]["outputStatistics"]["rowCount"] == complete["run"]["facets"]["analyticsSync"]["tableRows"]


def test_the_api_key_appears_in_no_event(lineage_run):
    _, _, events, text = lineage_run
    assert events and KEY not in text
