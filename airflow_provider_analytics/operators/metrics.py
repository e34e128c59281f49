"""AnalyticsMetricsOperator: the response-metric tables and their HTML report, built from the synced tables.

Importing this module costs nothing beyond Airflow: dlt and the warehouse drivers load in `execute`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from airflow.sdk import AssetAlias, BaseOperator

from airflow_provider_analytics.metrics.names import (
    DEFAULT_METRICS_DATASET,
    DEFAULT_SOURCE_DATASET,
    METRIC_TABLES,
    check_datasets,
)
from airflow_provider_analytics.metrics.working_hours import (
    DEFAULT_TIME_ZONE,
    DEFAULT_WORKING_DAYS,
    DEFAULT_WORKING_HOURS,
    WorkingHours,
)
from airflow_provider_analytics.operators.failures import failing_fast
from airflow_provider_analytics.table_assets import table_asset

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_analytics.metrics.build import MetricsSummary
    from airflow_provider_analytics.pipeline.warehouse import Warehouse

#: Every build reports its tables' Assets through this alias (their URIs depend on the warehouse connection).
METRICS_ASSET_ALIAS = "analytics_metrics"


class AnalyticsMetricsOperator(BaseOperator):
    """Rebuild `alert_response`, `response_daily`, `oncall_load` and `incident_response`, and write the report.

    The tables go into `metrics_dataset` on the warehouse of `warehouse_conn_id` (None: the embedded
    DuckDB file), built from the tables the syncs keep in `source_dataset`. Each column's
    definition: docs/metrics.md.

    :param warehouse_conn_id: the warehouse connection, as for `AnalyticsSyncOperator`.
    :param source_dataset: the dataset the syncs write.
    :param metrics_dataset: the dataset the metric tables go to (its own: never the synced one).
    :param time_zone: IANA time zone of working hours, local days and weeks.
    :param working_hours: local working hours, `09:00-17:00` (`22:00-06:00` spans midnight).
    :param working_days: local working days, `Mon-Fri`, `Mon,Wed,Fri` or both mixed.
    :param report_path: where the HTML report goes; empty: next to a DuckDB file, else under
        `$AIRFLOW_HOME/analytics/`, as `<metrics_dataset>_report.html`.

    Each run emits an Asset event per metric table through the alias `analytics_metrics`, with the
    table's row count in its extra, and returns the summary (rows per table, seconds, report path).
    """

    template_fields: Sequence[str] = (
        "warehouse_conn_id", "source_dataset", "metrics_dataset", "time_zone", "working_hours", "working_days",
        "report_path",
    )
    ui_color = "#eef7e8"

    def __init__(
        self,
        *,
        warehouse_conn_id: Optional[str] = None,
        source_dataset: str = DEFAULT_SOURCE_DATASET,
        metrics_dataset: str = DEFAULT_METRICS_DATASET,
        time_zone: str = DEFAULT_TIME_ZONE,
        working_hours: str = DEFAULT_WORKING_HOURS,
        working_days: str = DEFAULT_WORKING_DAYS,
        report_path: Optional[str] = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("outlets", [AssetAlias(METRICS_ASSET_ALIAS)])
        super().__init__(**kwargs)
        self.warehouse_conn_id = warehouse_conn_id
        self.source_dataset = source_dataset
        self.metrics_dataset = metrics_dataset
        self.time_zone = time_zone
        self.working_hours = working_hours
        self.working_days = working_days
        self.report_path = report_path

    @failing_fast  # a bad option or a missing source table fails at once: operators/failures.py
    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_analytics.metrics.build import build_metrics
        from airflow_provider_analytics.metrics.report import write_report
        from airflow_provider_analytics.warehouses import resolve_warehouse

        hours = WorkingHours.parse(self.time_zone, self.working_hours, self.working_days)
        check_datasets(self.source_dataset, self.metrics_dataset)
        warehouse = resolve_warehouse(self.warehouse_conn_id or None)
        self.log.info("Building the response metrics from dataset %s into dataset %s of %s (working hours %s)",
                      self.source_dataset, self.metrics_dataset, warehouse.location, hours.describe())
        summary = build_metrics(warehouse, self.source_dataset, self.metrics_dataset, hours, logger=self.log)
        path = write_report(warehouse, summary, self._report_path(warehouse), logger=self.log)
        self.log.info("%s", summary_block(summary, path))
        result = summary.as_dict()
        result["report_path"] = str(path)
        result["asset_uris"] = {t: table_asset(warehouse.asset_uri(self.metrics_dataset, t)).uri for t in METRIC_TABLES}
        self._emit_asset_events(context, result)
        return result

    def _report_path(self, warehouse: Warehouse) -> Path:
        from airflow_provider_analytics.metrics.report import default_report_path
        from airflow_provider_analytics.warehouses.duckdb import default_duckdb_path

        if self.report_path:
            return Path(str(self.report_path)).expanduser()
        return default_report_path(warehouse, self.metrics_dataset, default_duckdb_path().parent)

    def _emit_asset_events(self, context: Context, result: dict[str, Any]) -> None:
        """Tell Airflow each metric table changed, for DAGs scheduled on it."""
        events = context.get("outlet_events") if hasattr(context, "get") else None
        if events is None:  # execute() called outside a task run
            return
        for table, uri in result["asset_uris"].items():
            events[AssetAlias(METRICS_ASSET_ALIAS)].add(
                table_asset(uri), extra={"dataset": self.metrics_dataset, "table": table, "rows": result["rows"][table]})


def summary_block(summary: MetricsSummary, report: Path) -> str:
    """The lines that end the task log: what was built, how big, how long, where the report is."""
    width = max(len(t) for t in summary.rows)
    lines = ["Metrics summary", f"  {'source'.ljust(width)}  {summary.source_dataset}",
             f"  {'working hours'.ljust(width)}  {summary.working_hours}"]
    lines += [f"  {table.ljust(width)}  {rows:,} rows" for table, rows in summary.rows.items()]
    lines += [f"  {'seconds'.ljust(width)}  {summary.seconds:.1f}", f"  {'report'.ljust(width)}  {report}"]
    return "\n".join(lines)
