"""AnalyticsSyncOperator: one API resource -> one warehouse table, merged on `id`.

Importing this module costs nothing beyond Airflow: dlt, duckdb and requests load in `execute`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Optional

from airflow.sdk import AssetAlias, BaseOperator

from airflow_provider_analytics import DEFAULT_CONN_ID
from airflow_provider_analytics.operators.failures import ApiKeyRefusedFailure, failing_fast  # noqa: F401 (importable here)
from airflow_provider_analytics.pipeline.deletions import DEFAULT_DELETIONS
from airflow_provider_analytics.pipeline.errors import SyncError
from airflow_provider_analytics.pipeline.options import (
    DEFAULT_CHECKPOINT_INTERVAL,
    DEFAULT_DATASET,
    DEFAULT_MAX_CONCURRENT_REQUESTS,
    DEFAULT_PROGRESS_INTERVAL,
    SyncOptions,
)
from airflow_provider_analytics.source.incremental import (
    DEFAULT_CURSOR_FIELD,
    DEFAULT_LOOKBACK_SECONDS,
    IncrementalOptions,
)
from airflow_provider_analytics.source.errors import ResourceUnsupportedError
from airflow_provider_analytics.source.paging.guards import PaginationGuards
from airflow_provider_analytics.table_assets import table_asset

if TYPE_CHECKING:
    from datetime import date

    from airflow.providers.openlineage.extractors import OperatorLineage
    from airflow.sdk import Context
    from airflow.sdk.types import RuntimeTaskInstanceProtocol

    from airflow_provider_analytics.pipeline.sync import SyncSummary
    from airflow_provider_analytics.pipeline.warehouse import Warehouse
    from airflow_provider_analytics.source.settings import ApiSettings

#: Every sync reports its table's Asset through this alias: the table's URI depends on the
#: warehouse connection, which is only read when the task runs.
ASSET_ALIAS = "analytics_sync"
ON_NOT_FOUND = ("fail", "skip")
#: What a resource the connection's API does not serve does (the successor API lists no users).
ON_UNSUPPORTED = ("fail", "skip")
#: The summary fields an Asset event carries in its extra.
ASSET_EXTRA_FIELDS = ("resource", "dataset", "table", "warehouse", "rows", "table_rows", "deleted", "mode",
                      "records_fetched", "pages")


class AnalyticsSyncOperator(BaseOperator):
    """Sync one resource of the analytics API into `<dataset_name>.<table>` with dlt merge writes.

    The arguments become one `SyncOptions`, checked when the task runs (after Airflow renders
    the template fields, so values from the trigger form are checked the same way); `on_not_found`
    is the operator's own and is checked when the operator is made.

    :param resource: a built-in resource (users, teams, services, integrations, incidents, alerts,
        alert_logs, alert_notes, alert_recipients, user_teams, team_members, schedules, escalations,
        heartbeats; docs/streams.md) or the name of a resource in `config`.
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
    :param full_refresh: re-read everything (alerts/incidents: from `backfill_start`) and replace
        the table, instead of merging changes since the last run.
    :param backfill_start: where alerts and incidents start when no cursor is stored yet (and on a
        full refresh): a date, datetime, ISO-8601 text or epoch ms; None means everything.
    :param cursor_field: `updatedAt` (default; catches changes to old records on every account,
        whatever its search supports) or `createdAt` (only new records; cheapest).
    :param lookback_seconds: each incremental run starts this far before the stored cursor.
    :param deletions: users, teams, services and integrations are read whole; rows gone upstream
        are `mark`ed (`_deleted_at` set, the default), `remove`d, or `keep` as they are.
    :param freeze_schema: fail the task, loading nothing, when the API sends a field the table
        does not have (default: it becomes a new column).
    :param max_concurrent_requests: alerts and incidents: how many pages may be requested at the
        same time (keyset slices read side by side); resources read per parent (alert_logs...):
        how many parents are read at the same time; 1 reads one page after another. The pacer
        keeps either within the account's request budget.
    :param checkpoint_interval: resources read per parent: seconds of reading between loads. Each
        load is a checkpoint: a task killed or retried continues after the last parent loaded.
    :param on_not_found: what a 404 from the endpoint does (an account without incidents, say):
        `fail` (default) or `skip` (the task ends as skipped, with the reason in the log).
    :param on_unsupported: what a resource the connection's API does not serve does (users,
        services, incidents and three per-parent resources on the Jira Service Management
        operations API; docs/jsm.md): `fail` (default) or `skip`, with the reason in the log.
    :param max_pages: fail when a run would fetch more pages than this (None: no limit).
    :param allow_foreign_hosts: follow next-page links to other hosts (off: credentials stay on
        the base URL's host).
    :param progress_interval: seconds between progress lines in the task log.
    :param pipelines_dir: dlt working folder; None uses a temporary one (state lives in the warehouse).
    :param use_dlt_airflow_secrets: let dlt read its settings from the `dlt_secrets_toml` Airflow
        Variable (off by default: one Variable lookup per setting).

    Each run emits an Asset event for its table (URI: the warehouse, dataset and table, see
    `Warehouse.asset_uri`) through the asset alias `analytics_sync`, with the row counts in its
    extra; downstream DAGs can be scheduled on that URI. With `.partial()`, pass
    `outlets=[AssetAlias(ASSET_ALIAS)]` yourself: partial() does not apply this default.

    With Airflow's OpenLineage provider installed, each run also reports the endpoint it read and
    the table it wrote as OpenLineage datasets, with the table's schema and the run's counts
    (docs/lineage.md).
    """

    template_fields: Sequence[str] = (
        "resource",
        "analytics_conn_id",
        "warehouse_conn_id",
        "dataset_name",
        "table_name",
        "full_refresh",
        "backfill_start",
        "cursor_field",
        "deletions",
    )
    ui_color = "#e8f4fd"

    def __init__(
        self,
        *,
        resource: str,
        analytics_conn_id: str = DEFAULT_CONN_ID,
        warehouse_conn_id: Optional[str] = None,
        dataset_name: str = DEFAULT_DATASET,
        config: Optional[dict[str, Any]] = None,
        table_name: Optional[str] = None,
        full_refresh: bool | str = False,
        backfill_start: date | str | float | None = None,
        cursor_field: str = DEFAULT_CURSOR_FIELD,
        lookback_seconds: float = DEFAULT_LOOKBACK_SECONDS,
        deletions: str = DEFAULT_DELETIONS,
        freeze_schema: bool = False,
        on_not_found: str = "fail",
        on_unsupported: str = "fail",
        max_concurrent_requests: int = DEFAULT_MAX_CONCURRENT_REQUESTS,
        max_pages: Optional[int] = None,
        allow_foreign_hosts: bool = False,
        progress_interval: float = DEFAULT_PROGRESS_INTERVAL,
        checkpoint_interval: float = DEFAULT_CHECKPOINT_INTERVAL,
        pipelines_dir: Optional[str] = None,
        use_dlt_airflow_secrets: bool = False,
        **kwargs: Any,
    ) -> None:
        if on_not_found not in ON_NOT_FOUND:
            raise ValueError(f"on_not_found={on_not_found!r} is not supported; use one of {', '.join(ON_NOT_FOUND)}")
        if on_unsupported not in ON_UNSUPPORTED:
            raise ValueError(
                f"on_unsupported={on_unsupported!r} is not supported; use one of {', '.join(ON_UNSUPPORTED)}")
        kwargs.setdefault("outlets", [AssetAlias(ASSET_ALIAS)])
        super().__init__(**kwargs)
        self.resource = resource
        self.analytics_conn_id = analytics_conn_id
        self.warehouse_conn_id = warehouse_conn_id
        self.dataset_name = dataset_name
        self.config = config
        self.table_name = table_name
        self.full_refresh = full_refresh
        self.backfill_start = backfill_start
        self.cursor_field = cursor_field
        self.lookback_seconds = lookback_seconds
        self.deletions = deletions
        self.freeze_schema = freeze_schema
        self.on_not_found = on_not_found
        self.on_unsupported = on_unsupported
        self.max_concurrent_requests = max_concurrent_requests
        self.max_pages = max_pages
        self.allow_foreign_hosts = allow_foreign_hosts
        self.progress_interval = progress_interval
        self.checkpoint_interval = checkpoint_interval
        self.pipelines_dir = pipelines_dir
        self.use_dlt_airflow_secrets = use_dlt_airflow_secrets

    def sync_options(self) -> SyncOptions:
        """The operator's arguments, as rendered for this run, checked as one `SyncOptions`."""
        return SyncOptions(
            dataset_name=self.dataset_name,
            table_name=self.table_name or None,
            full_refresh=self.full_refresh,  # type: ignore[arg-type]  # rendered text is read as a flag
            incremental=IncrementalOptions(
                cursor_field=self.cursor_field,
                lookback_seconds=self.lookback_seconds,
                start_date=self.backfill_start or None,
            ),
            guards=PaginationGuards(max_pages=self.max_pages, allow_foreign_hosts=self.allow_foreign_hosts),
            deletions=self.deletions,
            freeze_schema=self.freeze_schema,
            max_concurrent_requests=self.max_concurrent_requests,
            progress_interval=self.progress_interval,
            checkpoint_interval=self.checkpoint_interval,
            pipelines_dir=self.pipelines_dir,
            use_airflow_secrets=self.use_dlt_airflow_secrets,
        )

    @failing_fast  # what no retry can fix fails the task at once: operators/failures.py
    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_analytics.hooks.analytics import AnalyticsHook
        from airflow_provider_analytics.operators.lineage import sync_lineage
        from airflow_provider_analytics.warehouses import resolve_warehouse

        options = self.sync_options()
        api = AnalyticsHook(analytics_conn_id=self.analytics_conn_id).get_conn()
        self._mask_config_secrets()
        warehouse = resolve_warehouse(self.warehouse_conn_id)
        self.sync_lineage = sync_lineage(self.resource, api, self.config, warehouse, options)  # for OpenLineage
        summary = self._run(api, warehouse, options)
        self.sync_lineage = self.sync_lineage.finished(summary)
        result = summary.as_dict()
        result["asset_uri"] = table_asset(warehouse.asset_uri(summary.dataset, summary.table)).uri
        self._emit_asset_event(context, result)
        return result

    def _run(self, api: ApiSettings, warehouse: Warehouse, options: SyncOptions) -> SyncSummary:
        """The sync, with the skips the operator's options ask for; `execute` fails what no retry can fix."""
        from airflow_provider_analytics.pipeline.sync import run_sync

        try:
            return run_sync(self.resource, api, warehouse, options, config=self.config, logger=self.log)
        except ResourceUnsupportedError as error:  # the same answer on every retry
            from airflow.sdk.exceptions import AirflowSkipException

            if self.on_unsupported == "skip":
                raise AirflowSkipException(f"{error} Skipped, as on_unsupported='skip' asks.") from None
            raise
        except SyncError as error:
            if self.on_not_found == "skip" and _http_status(error.__cause__) == 404:
                from airflow.sdk.exceptions import AirflowSkipException

                raise AirflowSkipException(
                    f"{self.resource}: the API has no such endpoint for this account (HTTP 404); "
                    "skipped, as on_not_found='skip' asks."
                ) from None
            raise

    def get_openlineage_facets_on_start(self) -> OperatorLineage:
        """The endpoint and the table this run will read and write (OpenLineage; called before `execute`)."""
        from airflow_provider_analytics.operators.lineage import planned_lineage
        from airflow_provider_analytics.operators.lineage_facets import operator_lineage

        return operator_lineage(planned_lineage(self.resource, self.analytics_conn_id, self.warehouse_conn_id,
                                                self.config, self.sync_options, self.log))

    def get_openlineage_facets_on_complete(self, task_instance: RuntimeTaskInstanceProtocol) -> OperatorLineage:
        """The datasets with the rows loaded, the table's schema and what the run did (OpenLineage).

        Also what a failed run reports: the datasets, as far as `execute` got, without counts.
        """
        from airflow_provider_analytics.operators.lineage_facets import operator_lineage

        return operator_lineage(getattr(self, "sync_lineage", None))

    def _mask_config_secrets(self) -> None:
        """A key written into `config` gets the same masking as the connection's password."""
        if not self.config:
            return
        from airflow.sdk.log import mask_secret

        from airflow_provider_analytics.source.seed_config import secret_values

        for secret in secret_values(self.config):
            mask_secret(secret)

    def _emit_asset_event(self, context: Context, result: dict[str, Any]) -> None:
        """Tell Airflow the table changed, with the counts, for DAGs scheduled on its Asset."""
        events = context.get("outlet_events") if hasattr(context, "get") else None
        if events is None:  # execute() called outside a task run
            return
        extra = {key: result[key] for key in ASSET_EXTRA_FIELDS}
        events[AssetAlias(ASSET_ALIAS)].add(table_asset(result["asset_uri"]), extra=extra)


def _http_status(error: BaseException | None) -> int | None:
    return getattr(getattr(error, "response", None), "status_code", None)
