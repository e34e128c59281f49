"""Response metrics from the synced tables: time to acknowledge and to close, on-call load, incidents.

Runs by itself once the daily sync (or the manual one) has updated all six tables it reads:
alerts, alert logs, alert recipients, incidents, teams and users (with a connection to the Jira
Service Management operations API, the three it still syncs: alerts, alert logs and teams). It rebuilds four tables in the
dataset `analytics_metrics` of the same warehouse (`alert_response`, `response_daily`,
`oncall_load`, `incident_response`) and writes an HTML report next to the DuckDB file (or to
the path in the `report_path` param). Working hours, local days and weeks use the params'
time zone. Every column is defined in docs/metrics.md. The warehouse is the connection named by
`ANALYTICS_WAREHOUSE_CONN_ID` (unset: the embedded DuckDB file), as for the daily DAG.
"""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import DAG, Param

from airflow_provider_analytics import DEFAULT_CONN_ID
from airflow_provider_analytics.metrics.names import DEFAULT_METRICS_DATASET, DEFAULT_SOURCE_DATASET, SOURCE_TABLES
from airflow_provider_analytics.metrics.working_hours import (
    DEFAULT_TIME_ZONE,
    DEFAULT_WORKING_DAYS,
    DEFAULT_WORKING_HOURS,
)
from airflow_provider_analytics.operators.metrics import AnalyticsMetricsOperator
from airflow_provider_analytics.table_assets import table_assets, tables_kept_current
from airflow_provider_analytics.task_defaults import METRICS_TASK_DEFAULTS

WAREHOUSE_CONN_ID = os.environ.get("ANALYTICS_WAREHOUSE_CONN_ID") or None

with DAG(
    dag_id="analytics_response_metrics",
    # all six tables updated since the last run (a list of Assets means all of them); on the successor API,
    # the three it still syncs
    schedule=table_assets(tables_kept_current(SOURCE_TABLES, DEFAULT_CONN_ID), DEFAULT_SOURCE_DATASET,
                          WAREHOUSE_CONN_ID),
    is_paused_upon_creation=False,  # it runs only after syncs: ready from the start
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["analytics"],
    default_args=METRICS_TASK_DEFAULTS,
    params={
        "time_zone": Param(DEFAULT_TIME_ZONE, type="string", minLength=1, title="Time zone",
                           description="IANA time zone of working hours, local days and weeks, e.g. Europe/Berlin."),
        "working_hours": Param(DEFAULT_WORKING_HOURS, type="string",
                               pattern=r"^\s*\d{1,2}:\d{2}\s*-\s*\d{1,2}:\d{2}\s*$", title="Working hours",
                               description="Local working hours, start-end; 22:00-06:00 spans midnight."),
        "working_days": Param(DEFAULT_WORKING_DAYS, type="string", minLength=3, title="Working days",
                              description="Local working days: Mon-Fri, or a list such as Mon,Tue,Thu."),
        "report_path": Param(None, type=["null", "string"], title="Report path",
                             description="Where the HTML report goes. Empty: next to the DuckDB file, or "
                             "$AIRFLOW_HOME/analytics for other warehouses."),
    },
    doc_md=__doc__,
) as dag:
    AnalyticsMetricsOperator(
        task_id="build_metrics",
        warehouse_conn_id=WAREHOUSE_CONN_ID,
        source_dataset=DEFAULT_SOURCE_DATASET,
        metrics_dataset=DEFAULT_METRICS_DATASET,
        time_zone="{{ params.time_zone }}",
        working_hours="{{ params.working_hours }}",
        working_days="{{ params.working_days }}",
        report_path="{{ params.report_path or '' }}",
    )
