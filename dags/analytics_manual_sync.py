"""Sync chosen analytics resources on demand, from the trigger form.

Pick the resources, whether to re-read everything (full refresh), where alerts and incidents
start when nothing was synced before, and the warehouse connection (empty: the embedded DuckDB
file). Airflow checks the form before the run starts; one mapped task per chosen resource,
labelled with the resource's name. With a connection to the Jira Service Management operations
API, a chosen resource it has no counterpart for ends as skipped, saying why.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, AssetAlias, Param, task

from airflow_provider_analytics import DEFAULT_CONN_ID
from airflow_provider_analytics.operators.analytics import ASSET_ALIAS, AnalyticsSyncOperator
from airflow_provider_analytics.source.catalog import RESOURCE_NAMES
from airflow_provider_analytics.task_defaults import SYNC_TASK_DEFAULTS, api_pool

with DAG(
    dag_id="analytics_manual_sync",
    schedule=None,
    is_paused_upon_creation=False,  # it runs only when triggered: ready in the UI from the start
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["analytics"],
    render_template_as_native_obj=True,
    default_args=SYNC_TASK_DEFAULTS,
    params={
        "resources": Param(
            list(RESOURCE_NAMES),
            type="array",
            items={"type": "string", "enum": list(RESOURCE_NAMES)},
            # `examples` (not `items.enum`) is what makes the Airflow UI render a multi-select
            examples=list(RESOURCE_NAMES),
            minItems=1,
            uniqueItems=True,
            title="Resources",
            description="Which resources to sync: one task each.",
        ),
        "full_refresh": Param(
            False,
            type="boolean",
            title="Full refresh",
            description="Re-read everything and replace the tables, instead of merging what changed.",
        ),
        "backfill_start": Param(
            None,
            type=["null", "string"],
            format="date",
            title="Backfill start date",
            description="Alerts, incidents and the records read per alert: where the first sync (and a full "
            "refresh) starts. Empty: everything.",
        ),
        "warehouse_conn_id": Param(
            None,
            type=["null", "string"],
            pattern="^[A-Za-z0-9_.-]+$",
            title="Warehouse connection",
            description="Airflow connection id of the target warehouse. Empty: the embedded DuckDB file.",
        ),
    },
    doc_md=__doc__,
) as dag:

    @task
    def chosen_resources(params: dict | None = None) -> list[str]:
        """The resources ticked in the form (already validated by Airflow)."""
        return list(params["resources"])

    AnalyticsSyncOperator.partial(
        task_id="sync",
        analytics_conn_id=DEFAULT_CONN_ID,
        pool=api_pool(DEFAULT_CONN_ID),
        warehouse_conn_id="{{ params.warehouse_conn_id }}",
        dataset_name="analytics",
        full_refresh="{{ params.full_refresh }}",
        backfill_start="{{ params.backfill_start }}",
        map_index_template="{{ task.resource }}",
        on_unsupported="skip",
        outlets=[AssetAlias(ASSET_ALIAS)],  # .partial() does not apply the operator's defaults
    ).expand(resource=chosen_resources())
