"""OpenLineage: each warehouse's table named as the official integrations name it, the endpoint read,
the facets, and a sync without the OpenLineage provider importing none of it.

The cloud warehouses cannot run here: their names are checked on the `Warehouse` their connection
maps to, with no connection made (as in test_warehouse_mappings.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from airflow_provider_analytics.source.settings import ApiSettings
from airflow_provider_analytics.warehouses import resolve_warehouse, warehouse_from_connection
from tests.conftest import API_KEY
from tests.unit.test_warehouse_mappings import MD_TOKEN, VALID, connection, service_account


# --- the warehouse table ------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("conn", "namespace", "name"),
    [
        # the postgres provider: postgres://host:port, database.schema.table
        (lambda: connection("postgres", host="db.internal", port=5433, schema="warehouse"),
         "postgres://db.internal:5433", "warehouse.analytics.alerts"),
        (lambda: connection("postgres", host="db.internal"), "postgres://db.internal:5432", "postgres.analytics.alerts"),
        # the spec: snowflake://<account, normalised>, upper-case names as Snowflake stores them
        (VALID["snowflake"], "snowflake://xy12345.us-west-1.aws", "ANALYTICS.ANALYTICS.ALERTS"),
        (lambda: connection("snowflake", login="L", password="p", extra={"account": "myorg-acct", "database": "Raw"}),
         "snowflake://myorg-acct", "RAW.ANALYTICS.ALERTS"),
        # the spec: bigquery, project.dataset.table (the project the connection names, else the key's)
        (VALID["google_cloud_platform"], "bigquery", "key-project.analytics.alerts"),
        (lambda: connection("google_cloud_platform",
                            extra={"project": "jobs", "keyfile_dict": json.dumps(service_account())}),
         "bigquery", "jobs.analytics.alerts"),
        # the spec and the Redshift hook: redshift://<cluster>.<region>:<port>, database.schema.table
        (lambda: connection("redshift", host="examplecluster.abc123xyz789.us-west-1.redshift.amazonaws.com",
                            login="l", password="p", schema="dev"),
         "redshift://examplecluster.us-west-1:5439", "dev.analytics.alerts"),
        (VALID["redshift"], "redshift://cluster.abc.redshift.amazonaws.com:5439", "dev.analytics.alerts"),
        # the MSSQL provider: mssql://host:port, database.schema.table
        (VALID["mssql"], "mssql://sql.internal:1433", "analytics.analytics.alerts"),
        # the Databricks provider: databricks://<workspace host>, catalog.schema.table
        (VALID["databricks"], "databricks://adb-123.4.azuredatabricks.net", "main.analytics.alerts"),
        # the dbt integration on dbt-duckdb with MotherDuck: duckdb://md:<database>, database.schema.table
        (VALID["motherduck"], "duckdb://md:analytics", "analytics.analytics.alerts"),
        (lambda: connection("duckdb", host=f"md:lake?motherduck_token={MD_TOKEN}"), "duckdb://md:lake",
         "lake.analytics.alerts"),
    ],
)
def test_each_warehouse_names_its_table_as_the_official_integration_does(conn, namespace, name):
    warehouse = warehouse_from_connection(conn())
    assert warehouse.lineage_dataset("analytics", "alerts") == (namespace, name)


def test_a_duckdb_file_is_named_by_its_path_and_its_catalog_as_duckdb_names_it(tmp_path):
    import duckdb

    path = tmp_path / "sub" / "my.warehouse.duckdb"
    warehouse = warehouse_from_connection(connection("duckdb", host=str(path)))
    with duckdb.connect(str(path)) as con:
        (catalog,) = con.execute("select current_database()").fetchone()
    assert warehouse.lineage_dataset("analytics", "teams") == (f"duckdb://{path}", f"{catalog}.analytics.teams")
    assert catalog == "my"


def test_the_embedded_duckdb_file_is_named_too(monkeypatch, tmp_path):
    monkeypatch.setenv("AIRFLOW__ANALYTICS__DUCKDB_PATH", str(tmp_path / "warehouse.duckdb"))
    assert resolve_warehouse(None).lineage_dataset("ds", "t") == (f"duckdb://{tmp_path}/warehouse.duckdb",
                                                                  "warehouse.ds.t")


# --- the API endpoint ---------------------------------------------------------------------------

def opsgenie(base_url: str = "https://api.opsgenie.com") -> ApiSettings:
    return ApiSettings(base_url=base_url, api_key=API_KEY)


def jsm() -> ApiSettings:
    return ApiSettings(base_url="https://api.atlassian.com/jsm/ops/api/cloud-1234", api_key=API_KEY,
                       login="ops@example.com", flavour="jsm")


@pytest.mark.parametrize(
    ("api", "resource", "config", "expected"),
    [
        (opsgenie, "alerts", None, ("https://api.opsgenie.com", "/v2/alerts")),
        (opsgenie, "alert_logs", None, ("https://api.opsgenie.com", "/v2/alerts/{id}/logs")),
        (opsgenie, "team_members", None, ("https://api.opsgenie.com", "/v2/teams/{id}")),
        (lambda: opsgenie("http://127.0.0.1:8081/proxy/"), "teams", None, ("http://127.0.0.1:8081", "/proxy/v2/teams")),
        (jsm, "alerts", None, ("https://api.atlassian.com", "/jsm/ops/api/cloud-1234/v1/alerts")),
        (jsm, "heartbeats", None, ("https://api.atlassian.com", "/jsm/ops/api/cloud-1234/v1/teams/{id}/heartbeats")),
        (jsm, "users", None, ("https://api.atlassian.com", None)),  # the successor has no such listing
        (opsgenie, "tickets", None, ("https://api.opsgenie.com", None)),
        # seed-style configs: the path the config states, under its own base URL or the connection's
        (opsgenie, "incidents", {"client": {"base_url": "https://api.eu.opsgenie.com/"},
                                 "resources": [{"name": "incidents", "endpoint": {"path": "/v1/incidents"}}]},
         ("https://api.eu.opsgenie.com", "/v1/incidents")),
        (opsgenie, "notes", {"resources": [{"name": "notes", "endpoint": "v2/notes"}]},
         ("https://api.opsgenie.com", "/v2/notes")),
        (opsgenie, "tags", {"resources": ["tags"]}, ("https://api.opsgenie.com", "/tags")),
    ],
)
def test_the_input_is_the_endpoint_by_scheme_host_and_path(api, resource, config, expected):
    from airflow_provider_analytics.operators.lineage import api_endpoint

    assert api_endpoint(resource, api(), config) == expected


# --- the facets ---------------------------------------------------------------------------------

def test_the_schema_facet_follows_the_json_schema_in_column_names_and_types():
    pytest.importorskip("airflow.providers.openlineage")
    from airflow_provider_analytics.operators.lineage_facets import table_schema_facet
    from airflow_provider_analytics.source.schema_hints import column_hints

    facet = table_schema_facet("alerts")
    fields = {field.name: field for field in facet.fields}
    hints = column_hints("alerts")
    assert len(fields) == len(hints)
    assert fields["created_at"].type == "timestamp" and fields["tiny_id"].type == "text"
    assert fields["created_at"].description == hints["createdAt"]["description"]
    assert table_schema_facet("my_seed_resource") is None  # a seed config's own resource has no schema


def test_a_run_that_never_named_its_datasets_reports_nothing_and_does_not_fail():
    pytest.importorskip("airflow.providers.openlineage")
    from airflow_provider_analytics.operators.analytics import AnalyticsSyncOperator

    op = AnalyticsSyncOperator(task_id="t", resource="teams", analytics_conn_id="no_such_connection")
    assert op.get_openlineage_facets_on_complete(None).outputs == []
    assert op.get_openlineage_facets_on_start().inputs == []  # the connection cannot be read: silent


# --- without the OpenLineage provider -----------------------------------------------------------

BLOCKED_SYNC = textwrap.dedent(
    """
    import importlib.abc, importlib.metadata, json, sys

    BLOCKED = ("openlineage", "airflow.providers.openlineage")

    class Blocker(importlib.abc.MetaPathFinder):
        # as if not installed: its modules cannot be imported...
        def find_spec(self, name, path=None, target=None):
            if any(name == root or name.startswith(root + ".") for root in BLOCKED):
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    def installed(distributions):
        # ...and Airflow's provider and plugin discovery does not see its package
        def without_openlineage(*args, **kwargs):
            return [dist for dist in distributions(*args, **kwargs)
                    if "openlineage" not in (dist.metadata["Name"] or "").lower()]
        return without_openlineage

    sys.meta_path.insert(0, Blocker())
    importlib.metadata.distributions = installed(importlib.metadata.distributions)
    try:
        import importlib_metadata
        importlib_metadata.distributions = installed(importlib_metadata.distributions)
    except ModuleNotFoundError:
        pass
    from airflow_provider_analytics.operators.analytics import AnalyticsSyncOperator

    op = AnalyticsSyncOperator(task_id="sync", resource="teams", warehouse_conn_id="warehouse_duckdb")
    result = op.execute({})
    loaded = sorted(m for m in sys.modules if any(m == r or m.startswith(r + ".") for r in BLOCKED))
    print("RESULT", json.dumps({"rows": result["rows"], "table_rows": result["table_rows"], "loaded": loaded}))
    """
)


def test_without_the_openlineage_provider_a_sync_works_and_imports_none_of_it(analytics_conn, duckdb_conn):
    import os

    result = subprocess.run([sys.executable, "-c", BLOCKED_SYNC], capture_output=True, text=True, timeout=120,
                            env=dict(os.environ))
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(line for line in result.stdout.splitlines() if line.startswith("RESULT "))
    outcome = json.loads(line.removeprefix("RESULT "))
    teams = len(analytics_conn.records("teams"))
    assert outcome == {"rows": teams, "table_rows": teams, "loaded": []}
