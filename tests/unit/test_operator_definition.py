"""The operator as a DAG file sees it: cheap to import, templating that leaves seed configs alone."""

from __future__ import annotations

import subprocess
import sys

import pendulum

from airflow_provider_analytics.operators.analytics import AnalyticsSyncOperator
from tests.helpers import load_seed_config


def test_importing_the_operator_loads_no_dlt_duckdb_or_requests():
    code = (
        "import sys, airflow_provider_analytics.operators.analytics, airflow_provider_analytics.hooks.analytics;"
        "print('LOADED', ','.join(sorted(m for m in ('dlt', 'duckdb', 'requests') if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True).stdout
    loaded = next(line for line in out.splitlines() if line.startswith("LOADED")).split()[1:]
    assert loaded == []


def test_airflow_templating_leaves_the_seed_paginator_expressions_intact():
    from airflow.sdk import DAG

    config = load_seed_config("http://127.0.0.1:9", "k")
    expression = config["resources"][5]["endpoint"]["paginator"]["cursor_value"]
    with DAG("render_check", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
        op = AnalyticsSyncOperator(task_id="sync", resource="{{ params.resource }}", config=config,
                                   dataset_name="ds_{{ params.suffix }}")
    op.render_template_fields({"params": {"resource": "alerts", "suffix": "x"}})
    assert op.resource == "alerts" and op.dataset_name == "ds_x"
    assert op.config["resources"][5]["endpoint"]["paginator"]["cursor_value"] == expression
    assert "{{ response" in expression
