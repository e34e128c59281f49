"""Daily sync of the fourteen analytics resources into the warehouse, one task per resource.

Alerts and incidents merge what changed since the last run; users, teams, services, integrations,
schedules, escalations and heartbeats are read whole and mark rows gone upstream. The records
read per parent (alert logs, notes and recipients, user teams, team members) are read for the
parents changed since their own last run, and checkpoint as they go: a retry continues where
the task stopped. The warehouse is the connection named by
`ANALYTICS_WAREHOUSE_CONN_ID` (unset: the embedded DuckDB file). Tasks into one DuckDB file wait
for each other on its lock; tasks into PostgreSQL run in parallel, at most as many at once as the
API connection's pool `analytics_default_api` has slots (create it first:
`airflow pools set analytics_default_api 3 "..."`).

With a connection to the Jira Service Management operations API (docs/jsm.md), the six
resources it has no counterpart for (users, services, incidents, alert recipients, user teams,
team members) end as skipped, saying why; their tables keep the rows synced before.
"""

from __future__ import annotations

import os

import pendulum
from airflow.sdk import DAG

from airflow_provider_analytics import DEFAULT_CONN_ID
from airflow_provider_analytics.operators.analytics import AnalyticsSyncOperator
from airflow_provider_analytics.source.catalog import RESOURCE_NAMES
from airflow_provider_analytics.task_defaults import SYNC_TASK_DEFAULTS, api_pool

with DAG(
    dag_id="analytics_daily_sync",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["analytics"],
    default_args=SYNC_TASK_DEFAULTS,
    doc_md=__doc__,
) as dag:
    for resource in RESOURCE_NAMES:
        AnalyticsSyncOperator(
            task_id=f"sync_{resource}",
            resource=resource,
            analytics_conn_id=DEFAULT_CONN_ID,
            pool=api_pool(DEFAULT_CONN_ID),
            warehouse_conn_id=os.environ.get("ANALYTICS_WAREHOUSE_CONN_ID") or None,
            dataset_name="analytics",
            on_unsupported="skip",
        )
