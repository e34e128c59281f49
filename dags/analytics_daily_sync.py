"""Daily sync of the six analytics resources into the warehouse, one task per resource.

Alerts and incidents merge what changed since the last run; users, teams, services and
integrations are read whole and mark rows gone upstream. The warehouse is the connection named by
`ANALYTICS_WAREHOUSE_CONN_ID` (unset: the embedded DuckDB file). Tasks into one DuckDB file wait
for each other on its lock; tasks into PostgreSQL run in parallel.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import DAG

from airflow_provider_analytics.operators.analytics import AnalyticsSyncOperator
from airflow_provider_analytics.source.catalog import RESOURCE_NAMES

with DAG(
    dag_id="analytics_daily_sync",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["analytics"],
    default_args={
        "retries": 3,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=30),
        "execution_timeout": timedelta(hours=2),
    },
    doc_md=__doc__,
) as dag:
    for resource in RESOURCE_NAMES:
        AnalyticsSyncOperator(
            task_id=f"sync_{resource}",
            resource=resource,
            analytics_conn_id="analytics_default",
            warehouse_conn_id=os.environ.get("ANALYTICS_WAREHOUSE_CONN_ID") or None,
            dataset_name="analytics",
        )
