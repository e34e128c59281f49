"""The seed configuration, run as written: every resource it defines, one task each.

`seed_config.json` next to this file is the seed document's `rest_api_source` dict, with its
Airbyte-style cursor paginators and error handler. Only two things come from elsewhere: the base
URL and the key, both from the `analytics_default` connection (the file leaves them out).
Edit the JSON to start your own sync from it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pendulum
from airflow.sdk import DAG

from airflow_provider_analytics import DEFAULT_CONN_ID
from airflow_provider_analytics.operators.analytics import AnalyticsSyncOperator
from airflow_provider_analytics.task_defaults import SYNC_TASK_DEFAULTS, api_pool

CONFIG = json.loads((Path(__file__).parent / "seed_config.json").read_text())

with DAG(
    dag_id="analytics_seed_sync",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["analytics", "seed"],
    default_args=SYNC_TASK_DEFAULTS,
    doc_md=__doc__,
) as dag:
    for entry in CONFIG["resources"]:
        AnalyticsSyncOperator(
            task_id=f"sync_{entry['name']}",
            resource=entry["name"],
            config=CONFIG,
            pool=api_pool(DEFAULT_CONN_ID),
            dataset_name="analytics_seed",
        )
