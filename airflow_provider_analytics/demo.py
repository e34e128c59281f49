"""The main job on embedded defaults: fake API -> example DAG under `airflow dags test` -> DuckDB.

Run `python -m airflow_provider_analytics.demo`. It uses a local AIRFLOW_HOME with SQLite
metadata, starts the bundled fake API on loopback, runs the daily sync DAG once and prints the
rows per table next to the upstream counts; then runs the response-metrics DAG and says where
its report is.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from airflow_provider_analytics import DEFAULT_CONN_ID
from airflow_provider_analytics.metrics.names import DEFAULT_METRICS_DATASET, METRIC_TABLES
from airflow_provider_analytics.source.catalog import RESOURCE_NAMES
from airflow_provider_analytics.task_defaults import API_POOL_SLOTS, api_pool, api_pool_description
from airflow_provider_analytics.testing.fake_api import FakeAnalyticsAPI
from airflow_provider_analytics.testing.fake_api.query import UPDATED_AT_SEARCH_MODES

DAG_ID = "analytics_daily_sync"
METRICS_DAG_ID = "analytics_response_metrics"
#: Each step's output goes to its own file in AIRFLOW_HOME, shown only when the step fails.
SETUP_LOG, SYNC_LOG, METRICS_LOG = "demo-setup.log", "demo-daily-sync.log", "demo-metrics.log"
DEMO_KEY = "demo-api-key"


def airflow_env(airflow_home: Path, dags_folder: Path, api_url: str, duckdb_path: Path) -> dict[str, str]:
    """Environment for a throwaway Airflow: SQLite metadata, our DAGs, the fake API connection."""
    env = dict(os.environ)
    env.update(
        AIRFLOW_HOME=str(airflow_home),
        AIRFLOW__CORE__DAGS_FOLDER=str(dags_folder),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{airflow_home / 'airflow.db'}",
        AIRFLOW__ANALYTICS__DUCKDB_PATH=str(duckdb_path),
        AIRFLOW_CONN_ANALYTICS_DEFAULT=json.dumps({"conn_type": "analytics", "host": api_url, "password": DEMO_KEY}),
    )
    return env


def run(cmd: list[str], env: dict[str, str], timeout: float, log_name: str) -> None:
    """Run an Airflow CLI command; its output goes to a log file, shown only on failure."""
    log_file = Path(env["AIRFLOW_HOME"]) / log_name
    with open(log_file, "w") as out:
        result = subprocess.run(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=timeout, check=False)
    if result.returncode != 0:
        sys.stderr.write(log_file.read_text()[-6000:])
        raise SystemExit(f"{' '.join(cmd[:4])} failed with exit code {result.returncode} (log: {log_file})")


def table_counts(duckdb_path: Path, dataset: str, tables: Sequence[str] = RESOURCE_NAMES) -> dict[str, int]:
    import duckdb

    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        # `count(*)` always returns one row
        return {name: con.execute(f'select count(*) from "{dataset}"."{name}"').fetchone()[0]  # type: ignore[index]
                for name in tables}


def shown_path(path: Path) -> str:
    """A path as the user would type it: relative when it is inside the current folder (symlinks kept:
    a venv's python is one, and resolving it would leave the venv)."""
    try:
        return str(Path(os.path.abspath(path)).relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def next_steps(duckdb_path: Path, report: Path) -> str:
    """What to do after the demo: look inside, open the report, run the DAGs yourself, use a real account."""
    query = "select status, count(*) from analytics.alerts group by status"
    return "\n".join([
        "\nNext:",
        f"  Look inside:   {shown_path(Path(sys.executable))} -c \"import duckdb; "
        f"print(duckdb.connect('{shown_path(duckdb_path)}', read_only=True).sql('{query}'))\"",
        f"  The report:    open {shown_path(report)} in a browser (README.md, section 'Metrics')",
        "  Run the DAGs yourself: README.md, section 'Run the DAGs locally'",
        "  Your account:  connection analytics_default, host https://api.opsgenie.com "
        "(EU https://api.eu.opsgenie.com), password = an API key (README.md, 'Install')",
        "  All the docs:  README.md, section 'Documentation'",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", default=".airflow", help="AIRFLOW_HOME to use (default: ./.airflow)")
    parser.add_argument("--dags", default="dags", help="DAG folder (default: ./dags)")
    parser.add_argument("--alerts", type=int, default=5000, help="alerts in the fake API (default 5000)")
    parser.add_argument("--incidents", type=int, default=800, help="incidents in the fake API (default 800)")
    parser.add_argument("--updated-at-search", choices=UPDATED_AT_SEARCH_MODES, default="rejected",
                        help="what the fake's search does with updatedAt, which the spec does not promise "
                             "(default: rejected with 422)")
    parser.add_argument("--incident-query-required", action="store_true",
                        help="the fake refuses incidents listed without `query`, as the spec reads strictly")
    args = parser.parse_args(argv)

    home = Path(args.home).resolve()
    home.mkdir(parents=True, exist_ok=True)
    duckdb_path = home / "analytics" / "warehouse.duckdb"
    sizes = {"alerts": args.alerts, "incidents": args.incidents}
    with FakeAnalyticsAPI(api_key=DEMO_KEY, sizes=sizes, updated_at_search=args.updated_at_search,
                          incident_query_required=args.incident_query_required) as api:
        env = airflow_env(home, Path(args.dags).resolve(), api.base_url, duckdb_path)
        print(f"Fake API at {api.base_url}; AIRFLOW_HOME={home}", flush=True)
        print("Migrating the SQLite metadata DB, creating the API pool ...", flush=True)
        run([sys.executable, "-m", "airflow", "db", "migrate"], env, timeout=600, log_name=SETUP_LOG)
        pool = api_pool(DEFAULT_CONN_ID)  # where the example DAGs run their sync tasks
        run([sys.executable, "-m", "airflow", "pools", "set", pool, str(API_POOL_SLOTS),
             api_pool_description(DEFAULT_CONN_ID)], env, timeout=300, log_name=SETUP_LOG)
        print(f"Running DAG {DAG_ID} with `airflow dags test` ...", flush=True)
        run([sys.executable, "-m", "airflow", "dags", "test", DAG_ID], env, timeout=1800, log_name=SYNC_LOG)
        upstream = {name: len(api.records(name)) for name in RESOURCE_NAMES}
        print(f"Running DAG {METRICS_DAG_ID}, which the sync's Assets trigger on a scheduler ...", flush=True)
        run([sys.executable, "-m", "airflow", "dags", "test", METRICS_DAG_ID], env, timeout=900, log_name=METRICS_LOG)
    landed = table_counts(duckdb_path, "analytics")
    print(f"\nWhat landed in {duckdb_path} (dataset 'analytics'):")
    print(f"{'table':<18}{'rows':>10}{'upstream':>10}")
    for name in RESOURCE_NAMES:
        print(f"{name:<18}{landed[name]:>10}{upstream[name]:>10}")
    ok = landed == upstream
    print("All tables match upstream." if ok else "MISMATCH between warehouse and upstream.")
    metrics = table_counts(duckdb_path, DEFAULT_METRICS_DATASET, METRIC_TABLES)
    report = duckdb_path.with_name(f"{DEFAULT_METRICS_DATASET}_report.html")
    print(f"\nResponse metrics in dataset '{DEFAULT_METRICS_DATASET}': "
          + ", ".join(f"{name} {rows}" for name, rows in metrics.items()))
    print(f"Report: {shown_path(report)}")
    if ok:
        print(next_steps(duckdb_path, report))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
