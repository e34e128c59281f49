"""OpenLineage under `airflow dags test`: the events the OpenLineage provider writes for a sync, read back.

One DAG run (`observed_run` in conftest.py), with the provider's file transport: among its syncs,
teams into the embedded DuckDB file and, where PostgreSQL runs, into PostgreSQL. The events must name the endpoint and the
tables the way the official integrations do, carry the table's schema, the rows loaded and the
run's mode, and never the API key.
"""

from __future__ import annotations

from airflow_provider_analytics.source.schema_hints import load_json_schema
from tests.conftest import require_service
from tests.e2e.conftest import OBSERVED_DAG_ID, OBSERVED_KEY, OBSERVED_PG_DATASET, ObservedRun
from tests.local_services import PG_HOST, PG_PORT

DAG_ID = OBSERVED_DAG_ID


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


def test_a_sync_into_duckdb_reports_the_endpoint_the_table_its_schema_and_the_rows(observed_run: ObservedRun):
    api, events = observed_run.api, observed_run.events
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


def test_a_sync_into_postgres_is_named_as_the_postgres_provider_names_it(observed_run: ObservedRun):
    database, events = observed_run.database, observed_run.events
    require_service(database is not None, "PostgreSQL on 127.0.0.1:5432")
    complete = task_events(events, "sync_postgres")["COMPLETE"]
    (output,) = complete["outputs"]
    assert (output["namespace"], output["name"]) == (f"postgres://{PG_HOST}:{PG_PORT}", f"{database}.{OBSERVED_PG_DATASET}.teams")
    assert output["outputFacets"]["outputStatistics"]["rowCount"] == complete["run"]["facets"]["analyticsSync"]["tableRows"]


def test_the_api_key_appears_in_no_event(observed_run: ObservedRun):
    assert observed_run.events and OBSERVED_KEY not in observed_run.events_text
