"""The README's main job: `airflow dags test` of the daily DAG on SQLite, fake API, DuckDB."""

from __future__ import annotations

import json
import re
import shlex
import sqlite3
import subprocess
import sys
from pathlib import Path

import duckdb

from airflow_provider_analytics.source.catalog import RESOURCE_NAMES

REPO = Path(__file__).resolve().parents[2]


def test_demo_runs_the_daily_dag_and_every_table_matches_upstream(tmp_path):
    home = tmp_path / "airflow-home"
    result = subprocess.run(
        [sys.executable, "-m", "airflow_provider_analytics.demo", "--home", str(home), "--dags", str(REPO / "dags"),
         "--alerts", "1500", "--incidents", "250"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "All tables match upstream." in result.stdout
    next_steps = result.stdout.split("All tables match upstream.", 1)[1]
    look_inside = re.search(r"Look inside: +(\S+) -c (.+)", next_steps)
    assert look_inside, next_steps
    assert "Run the DAGs locally" in next_steps and "Documentation" in next_steps
    assert "host https://api.opsgenie.com" in next_steps
    shown = subprocess.run(shlex.split(look_inside.group(1) + " -c " + look_inside.group(2)), capture_output=True,
                           text=True, timeout=60, cwd=tmp_path)  # the command it prints works as printed
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert sum(int(n) for n in re.findall(r"│\s*\w+\s*│\s*(\d+)\s*│", shown.stdout)) == 1500, shown.stdout
    with duckdb.connect(str(home / "analytics" / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select count(*), count(distinct id) from analytics.alerts").fetchone() == (1500, 1500)
        assert con.execute("select count(*) from analytics.incidents").fetchone() == (250,)
    task_log = (home / "demo-daily-sync.log").read_text()
    assert "demo-api-key" not in task_log
    assert re.search(r"Sync summary\n  resource +alerts\n  target table +analytics\.alerts\n"
                     r"  method/mode +incremental, [^\n]+\n  rows loaded +1500\n", task_log), task_log[-3000:]
    with sqlite3.connect(home / "airflow.db") as con:
        events = con.execute("select a.uri, e.extra from asset_event e join asset a on a.id = e.asset_id "
                             "where e.source_dag_id = 'analytics_daily_sync'").fetchall()
        metrics_runs = con.execute("select state from dag_run where dag_id = 'analytics_response_metrics'").fetchall()
    warehouse = home / "analytics" / "warehouse.duckdb"
    extras = {uri: json.loads(extra) for uri, extra in events}
    assert set(extras) == {f"duckdb:{warehouse}/analytics/{name}" for name in RESOURCE_NAMES}  # all fourteen
    assert extras[f"duckdb:{warehouse}/analytics/alerts"]["table_rows"] == 1500
    assert metrics_runs == [("success",)]
    shown_metrics = re.search(r"Response metrics in dataset 'analytics_metrics': alert_response (\d+), "
                              r"response_daily (\d+), oncall_load (\d+), incident_response (\d+)", result.stdout)
    assert shown_metrics and int(shown_metrics.group(1)) == 1500 and int(shown_metrics.group(4)) == 250, result.stdout
    report = home / "analytics" / "analytics_metrics_report.html"
    assert "open airflow-home/analytics/analytics_metrics_report.html in a browser" in next_steps, next_steps
    assert "Alert response report" in report.read_text()
