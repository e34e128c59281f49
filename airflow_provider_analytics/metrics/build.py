"""Build the metric tables inside the warehouse, from the tables the syncs keep.

Every build recomputes the four tables whole, in one transaction, under the warehouse's lock:
readers see the old tables or the new ones, never a half-built one, and two builds take turns.
All the work is one SQL statement per table, run where the data is (no rows travel to the
worker), so a full rebuild is cheap enough to run after every sync (bench/metrics_rebuild.py
measures it at 200,000 alerts).

What the API's spec does not guarantee is checked on the data and said in the task log: alerts
whose report has an acknowledgement or a close that no log entry shows (the log texts did not
match `LOG_PATTERNS`), and source tables that are missing.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

from ..pipeline.dlt_env import prepare_dlt_environment
from ..pipeline.warehouse import Warehouse
from ..source.errors import ConfigError
from ..source.log import Log
from .names import DEFAULT_METRICS_DATASET, DEFAULT_SOURCE_DATASET, METRIC_TABLES, check_datasets
from .sql import LIVE_ROWS_ONLY, LOG_PATTERNS, REQUIRED_COLUMNS, SOURCE_COLUMNS, STATEMENTS, Sources, \
    for_dialect, source_relation
from .working_hours import WorkingHours

if TYPE_CHECKING:
    from dlt.destinations.sql_client import SqlClientBase


class MetricsSourceError(ConfigError):
    """The synced tables the metrics need are not there; the message says which sync to run."""


@dataclass(frozen=True)
class MetricsSummary:
    """What one build did, for the task log, XCom and the Asset events."""

    source_dataset: str
    metrics_dataset: str
    working_hours: str
    rows: dict[str, int]
    seconds: float
    missing_sources: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "source_dataset": self.source_dataset, "metrics_dataset": self.metrics_dataset,
            "working_hours": self.working_hours, "rows": dict(self.rows), "seconds": round(self.seconds, 3),
            "missing_sources": list(self.missing_sources), "warnings": list(self.warnings),
        }


def build_metrics(
    warehouse: Warehouse,
    source_dataset: str = DEFAULT_SOURCE_DATASET,
    metrics_dataset: str = DEFAULT_METRICS_DATASET,
    hours: WorkingHours = WorkingHours(),
    logger: Optional[Log] = None,
) -> MetricsSummary:
    """Rebuild `alert_response`, `response_daily`, `oncall_load` and `incident_response` in `metrics_dataset`."""
    check_datasets(source_dataset, metrics_dataset)
    started = time.monotonic()
    with metrics_sql_client(warehouse, metrics_dataset, logger) as client:
        present = source_columns(client, source_dataset)
        missing_required = [f"{t}.{c}" for t, cols in REQUIRED_COLUMNS.items() for c in cols
                            if c not in present.get(t, set())]
        if missing_required:
            raise MetricsSourceError(
                f"The dataset {source_dataset!r} in {warehouse.location} has no {', '.join(missing_required)}: "
                f"sync alerts into it first (the daily DAG, or the operator with resource='alerts'), "
                f"or set source_dataset to the dataset the syncs write."
            )
        missing = tuple(t for t in SOURCE_COLUMNS if t not in present)
        relations = {}
        with client.with_alternative_dataset_name(source_dataset):
            for table, columns in SOURCE_COLUMNS.items():
                qualified = client.make_qualified_table_name(table) if table in present else None
                relations[table] = source_relation(qualified, present.get(table, set()), columns,
                                                   client.escape_column_name, table in LIVE_ROWS_ONLY)
        sources = Sources(relations, client.make_qualified_table_name("alert_response"))
        dialect = client.capabilities.sqlglot_dialect
        if not client.has_dataset():
            client.create_dataset()
        with client.begin_transaction():  # readers see the old tables until all four are new
            for table in METRIC_TABLES:
                qualified = client.make_qualified_table_name(table)
                statement = for_dialect(STATEMENTS[table](sources, hours), dialect)
                step = time.monotonic()
                client.execute_sql(f"drop table if exists {qualified}")
                client.execute_sql(f"create table {qualified} as {statement}")
                if logger is not None:
                    logger.info("Built %s.%s in %.1f s", metrics_dataset, table, time.monotonic() - step)
        rows = {table: count_rows(client, client.make_qualified_table_name(table)) for table in METRIC_TABLES}
        warnings = [f"the dataset {source_dataset!r} has no {t} table: the metrics built from it are empty "
                    f"or NULL until it is synced" for t in missing]
        if "alert_logs" in present:
            warnings.extend(unmatched_report_warnings(client, relations, dialect))
    summary = MetricsSummary(source_dataset, metrics_dataset, hours.describe(), rows,
                             time.monotonic() - started, missing, tuple(warnings))
    if logger is not None:
        for warning in summary.warnings:
            logger.warning("Metrics: %s", warning)
    return summary


@contextmanager
def metrics_sql_client(warehouse: Warehouse, dataset: str, logger: Optional[Log] = None) -> Iterator[SqlClientBase[Any]]:
    """A dlt SQL client on `dataset`, held under the warehouse's lock (a DuckDB file: one writer at a time)."""
    import dlt

    prepare_dlt_environment()
    with tempfile.TemporaryDirectory(prefix="analytics-metrics-") as workdir:
        pipeline = dlt.pipeline(pipeline_name=f"analytics_metrics__{dataset}", destination=warehouse.destination(),
                                dataset_name=dataset, pipelines_dir=workdir)
        with warehouse.write_lock(dataset, logger), pipeline.sql_client() as client:
            yield client


def source_columns(client: SqlClientBase[Any], dataset: str) -> dict[str, set[str]]:
    """Table -> its columns, for the source tables the metrics read that `dataset` holds."""
    found: dict[str, set[str]] = {}
    rows = client.execute_sql(
        "select table_name, column_name from information_schema.columns where table_schema = %s", dataset
    ) or []
    for table, column in rows:
        if table in SOURCE_COLUMNS:
            found.setdefault(table, set()).add(column)
    return found


def count_rows(client: SqlClientBase[Any], qualified: str) -> int:
    (count,), = client.execute_sql(f"select count(*) from {qualified}") or [(0,)]
    return int(count)


def unmatched_report_warnings(client: SqlClientBase[Any], relations: dict[str, str], dialect: Optional[str]) -> list[str]:
    """Alerts whose report shows an acknowledgement or close that no log entry of theirs matches.

    Their times come from the report, which is exact for the first acknowledgement and the close;
    but reopens and escalations are counted only from the log, so a count here means the log's
    texts differ from `LOG_PATTERNS` and those columns are undercounted.
    """
    warnings = []
    for field_name, kind in (("ackTime", "acknowledged"), ("closeTime", "closed")):
        sql = (
            f"select count(*) from {relations['alerts']} a "
            f"where a.report ->> '{field_name}' is not null "
            f"and exists (select 1 from {relations['alert_logs']} l where l.alert_id = a.id) "
            f"and not exists (select 1 from {relations['alert_logs']} l where l.alert_id = a.id "
            f"and lower(l.log) like '{LOG_PATTERNS[kind]}')"
        )
        (count,), = client.execute_sql(for_dialect(sql, dialect)) or [(0,)]
        if count:
            warnings.append(
                f"{count} alert(s) have report.{field_name} but no log entry matching '{LOG_PATTERNS[kind]}': "
                f"their time comes from the report; reopens and escalations may be undercounted "
                f"(docs/metrics.md, 'When the log says it differently')"
            )
    return warnings
