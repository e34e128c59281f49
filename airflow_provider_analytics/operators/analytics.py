"""AnalyticsSyncOperator: one API resource -> one warehouse table, merged on `id`.

Importing this module costs nothing beyond Airflow: dlt, duckdb and requests load in `execute`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator


class AnalyticsSyncOperator(BaseOperator):
    """Sync one resource of the analytics API into `<dataset_name>.<table>` with dlt merge writes.

    :param resource: users, teams, services, integrations, incidents or alerts; or the name of a
        resource in `config`.
    :param analytics_conn_id: the `analytics` connection (base URL in host, key in password).
    :param warehouse_conn_id: an Airflow connection naming the destination (`duckdb`: host = file
        path; `postgres`: host, port, login, password, schema = database; the cloud types are in
        docs/warehouses.md). None writes to the embedded DuckDB file (`[analytics] duckdb_path`,
        else $AIRFLOW_HOME/analytics/warehouse.duckdb).
    :param dataset_name: schema (dataset) the table lands in.
    :param config: a seed-style dlt REST API config (client / resource_defaults / resources);
        what it leaves out (base URL, auth, page size) comes from the connection. Not templated,
        so its `{{ response... }}` paginator expressions reach the paginator untouched.
    :param table_name: table to write; defaults to the resource name.
    :param max_pages: fail when a run would fetch more pages than this (None: no limit).
    :param allow_foreign_hosts: follow next-page links to other hosts (off: credentials stay on
        the base URL's host).
    :param progress_interval: seconds between progress lines in the task log.
    :param pipelines_dir: dlt working folder; None uses a temporary one (state lives in the warehouse).
    :param use_dlt_airflow_secrets: let dlt read its settings from the `dlt_secrets_toml` Airflow
        Variable (off by default: one Variable lookup per setting).
    """

    template_fields: Sequence[str] = ("resource", "analytics_conn_id", "warehouse_conn_id", "dataset_name", "table_name")
    ui_color = "#e8f4fd"

    def __init__(
        self,
        *,
        resource: str,
        analytics_conn_id: str = "analytics_default",
        warehouse_conn_id: str | None = None,
        dataset_name: str = "analytics",
        config: dict[str, Any] | None = None,
        table_name: str | None = None,
        max_pages: int | None = None,
        allow_foreign_hosts: bool = False,
        progress_interval: float = 10.0,
        pipelines_dir: str | None = None,
        use_dlt_airflow_secrets: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.resource = resource
        self.analytics_conn_id = analytics_conn_id
        self.warehouse_conn_id = warehouse_conn_id
        self.dataset_name = dataset_name
        self.config = config
        self.table_name = table_name
        self.max_pages = max_pages
        self.allow_foreign_hosts = allow_foreign_hosts
        self.progress_interval = progress_interval
        self.pipelines_dir = pipelines_dir
        self.use_dlt_airflow_secrets = use_dlt_airflow_secrets

    def execute(self, context: Any) -> dict[str, Any]:
        from airflow_provider_analytics.hooks.analytics import AnalyticsHook
        from airflow_provider_analytics.source.config import PaginationGuards
        from airflow_provider_analytics.sync import run_sync
        from airflow_provider_analytics.warehouse import resolve_warehouse

        api = AnalyticsHook(analytics_conn_id=self.analytics_conn_id).api_settings
        warehouse = resolve_warehouse(self.warehouse_conn_id)
        summary = run_sync(
            self.resource,
            api,
            warehouse,
            dataset_name=self.dataset_name,
            config=self.config,
            table_name=self.table_name,
            pipelines_dir=self.pipelines_dir,
            guards=PaginationGuards(max_pages=self.max_pages, allow_foreign_hosts=self.allow_foreign_hosts),
            progress_interval=self.progress_interval,
            use_airflow_secrets=self.use_dlt_airflow_secrets,
            logger=self.log,
        )
        self.log.info(
            "%s -> %s.%s: %d rows loaded, %d pages, %.1f s (%.0f records/s)",
            summary.resource,
            summary.dataset,
            summary.table,
            summary.rows,
            summary.pages,
            summary.seconds,
            summary.records_per_second,
        )
        return summary.as_dict()
