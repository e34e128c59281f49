"""Run one resource of the API into one warehouse table with a dlt pipeline (no Airflow here)."""

from __future__ import annotations

import gc
import logging
import os
import re
import tempfile
import time
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import asdict, dataclass, replace
from collections.abc import Callable, Iterator
from typing import Any

import orjson

from .builtin_source import builtin_source
from .deletions import SeenIds, apply_deletions, check_mode, deleted_at_hint
from .errors import ApiKeyRefusedError, SchemaFrozenError, SyncError, root_cause, sync_error
from .progress import SyncProgress
from .source.catalog import CATALOG
from .source.config import PaginationGuards, plan_resource
from .source.incremental import CursorState, IncrementalOptions
from .source.page_check import PageCheck, page_check_for
from .source.schema_hints import SCHEMA_RESOURCES, column_hints
from .source.settings import ApiSettings

__all__ = ["ApiKeyRefusedError", "SchemaFrozenError", "SyncError", "SyncSummary", "run_sync"]

log = logging.getLogger(__name__)

AIRFLOW_SECRETS_PROVIDER = "Airflow Secrets TOML Provider"
FROZEN_SCHEMA_CONTRACT = {"tables": "evolve", "columns": "freeze", "data_type": "freeze"}


@dataclass
class SyncSummary:
    """What one sync did; JSON-serialisable for XCom."""

    resource: str
    table: str
    dataset: str
    warehouse: str
    rows: int
    pages: int
    records_fetched: int
    seconds: float
    records_per_second: float
    load_ids: list[str]
    table_rows: int = 0
    mode: str = "merge"
    deleted: int = 0
    cursor_field: str | None = None
    cursor_start: int | None = None
    cursor_end: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def prepare_dlt_environment(use_airflow_secrets: bool = False) -> None:
    """Settings dlt must see before it starts: no telemetry, and no Airflow-Variable lookups.

    Our secrets come from Airflow connections; dlt's Airflow provider would otherwise query an
    Airflow Variable for every setting it resolves (slow, and noisy without a metadata DB).
    """
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    # Arrow pages get dlt's row ids like record pages, so both kinds can land in one table.
    os.environ.setdefault("NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID", "true")
    os.environ.setdefault("NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_ID", "true")
    if not use_airflow_secrets:
        os.environ.setdefault("PROVIDERS__ENABLE_AIRFLOW_SECRETS", "false")
    if os.environ.get("PROVIDERS__ENABLE_AIRFLOW_SECRETS", "").lower() in ("false", "0", "no"):
        _drop_airflow_secrets_provider()
    _quiet_json_text_warning()


class _JsonTextHintFilter(logging.Filter):
    """dlt warns, once per Arrow table, that `json` columns arrive as text. JSON text is how dlt itself
    loads JSON from Arrow, so in a task log the warning is noise on every page batch."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "when merging arrow schema with dlt schema, several column hints were different" not in record.getMessage()


def _quiet_json_text_warning() -> None:
    dlt_logger = logging.getLogger("dlt")
    if not any(isinstance(f, _JsonTextHintFilter) for f in dlt_logger.filters):
        dlt_logger.addFilter(_JsonTextHintFilter())


def _drop_airflow_secrets_provider() -> None:
    """If dlt was initialised before our setting (e.g. imported by a DAG file), remove the provider."""
    from dlt.common.configuration.container import Container
    from dlt.common.configuration.specs.pluggable_run_context import PluggableRunContext

    context = Container()[PluggableRunContext]
    providers = context.providers.providers
    context.providers.providers = [p for p in providers if p.name != AIRFLOW_SECRETS_PROVIDER]


def schema_name_for(table: str) -> str:
    """One dlt schema per table: pipelines sharing a dataset must not restore each other's schema."""
    return "analytics_" + re.sub(r"[^a-z0-9_]", "_", table.lower())


def pipeline_name_for(dataset_name: str, table: str) -> str:
    """Stable per (dataset, table): dlt restores state by this name on a fresh worker."""
    return f"analytics__{dataset_name}__{table}"


def run_sync(
    resource: str,
    api: ApiSettings,
    warehouse: Any,
    *,
    dataset_name: str = "analytics",
    config: dict[str, Any] | None = None,
    table_name: str | None = None,
    pipeline_name: str | None = None,
    pipelines_dir: str | None = None,
    guards: PaginationGuards | None = None,
    incremental: IncrementalOptions | None = None,
    full_refresh: bool = False,
    deletions: str = "mark",
    freeze_schema: bool = False,
    max_concurrent_requests: int = 4,
    progress_interval: float = 10.0,
    use_airflow_secrets: bool = False,
    logger: logging.Logger | logging.LoggerAdapter | None = None,
) -> SyncSummary:
    """Extract `resource`, merge it into `<dataset_name>.<table>` and say what landed.

    Alerts and incidents (built-in) resume from the cursor stored in the warehouse; the other
    resources are read whole and rows gone upstream are handled per `deletions`. `full_refresh`
    re-reads everything and replaces the table. Built-in alerts and incidents read up to
    `max_concurrent_requests` pages at a time.
    """
    logger = logger or log
    check_mode(deletions)
    prepare_dlt_environment(use_airflow_secrets)
    import dlt
    from dlt.sources.rest_api import rest_api_source

    from .source.retry import RetryingSession

    spec = CATALOG.get(resource)
    options = incremental or IncrementalOptions()
    if full_refresh and not options.full_refresh:
        options = replace(options, full_refresh=True)
    cursor = CursorState(resource, options, logger=logger) if config is None and spec and spec.incremental else None
    snapshot = spec is not None and spec.snapshot
    tracks_deletions = snapshot and not full_refresh and deletions != "keep"

    plan = plan_resource(resource, api, config, guards)
    table = table_name or resource
    progress = SyncProgress(resource, logger, progress_interval)
    check = page_check_for(plan.rest_config, resource)

    def new_session() -> Any:
        return _counting_session(RetryingSession, plan.retry_policy, progress, check)

    session = new_session()  # a seed-style config's; failures say their attempts from this or from the response
    seen = SeenIds()
    if config is None:  # built-in: the fast path (Arrow pages, keyset windows read side by side)
        source = builtin_source(
            resource, plan, api, new_session,
            schema_name=schema_name_for(table), cursor=cursor, progress=progress,
            seen=seen if tracks_deletions else None, guards=guards,
            max_concurrent_requests=max_concurrent_requests,
        )
        dlt_resource = source.resources[resource]
    else:
        plan.rest_config["client"]["session"] = session
        source = rest_api_source(plan.rest_config, name=schema_name_for(table)).with_resources(resource)
        dlt_resource = source.resources[resource]
        dlt_resource.add_map(progress.on_record)
        if tracks_deletions:
            dlt_resource.add_map(seen)
    _apply_table_hints(dlt_resource, resource, table, full_refresh, snapshot and deletions == "mark", freeze_schema)

    name = pipeline_name or pipeline_name_for(dataset_name, table)
    destination = warehouse.destination(
        staging_dataset_name_layout=f"%s_staging_{table}", replace_strategy="insert-from-staging"
    )
    logger.info("Syncing %s from %s into %s (%s.%s)", resource, plan.base_url, warehouse.location, dataset_name, table)
    started = time.monotonic()
    with ExitStack() as stack:
        workdir = pipelines_dir or stack.enter_context(tempfile.TemporaryDirectory(prefix="analytics-dlt-"))
        pipeline = dlt.pipeline(
            pipeline_name=name,
            destination=destination,
            dataset_name=dataset_name,
            pipelines_dir=workdir,
        )

        def after_load() -> tuple[int, int]:
            gone = apply_deletions(pipeline, table, seen.ids, deletions) if tracks_deletions else 0
            return gone, _table_rows(pipeline, table)

        try:
            with _collections_skip_older_objects():
                normalize_info, load_info, (deleted, table_rows) = _run_pipeline(
                    pipeline, source, warehouse, dataset_name, after_load, logger
                )
        except Exception as error:  # dlt wraps every step failure; report the root cause
            raise sync_error(error, resource, plan.base_url, session, f"{dataset_name}.{table}") from root_cause(error)
    rows = int(normalize_info.row_counts.get(table, 0)) if normalize_info else 0
    if deleted:
        verb = "marked deleted" if deletions == "mark" else "removed"
        logger.info("%s: %d row(s) gone upstream %s in %s.%s", resource, deleted, verb, dataset_name, table)
    seconds = time.monotonic() - started
    return SyncSummary(
        resource=resource,
        table=table,
        dataset=dataset_name,
        warehouse=warehouse.location,
        rows=rows,
        pages=progress.pages,
        records_fetched=progress.records,
        seconds=round(seconds, 3),
        records_per_second=round(progress.records / seconds, 1) if seconds else 0.0,
        load_ids=list(load_info.loads_ids),
        table_rows=table_rows,
        mode="replace" if full_refresh else ("incremental" if cursor else "merge"),
        deleted=deleted,
        cursor_field=options.cursor_field if cursor else None,
        cursor_start=cursor.start_ms if cursor else None,
        cursor_end=cursor.last_ms if cursor else None,
    )


@contextmanager
def _collections_skip_older_objects() -> Iterator[None]:
    """While a sync runs, full garbage collections skip the objects that were alive before it.

    A sync allocates a great many short-lived containers (decoded pages), so the interpreter runs
    several full collections, and each one walks every object the process holds (Airflow, dlt,
    pyarrow: most of the work). Freezing them first makes those collections look only at what
    the sync itself created; they are unfrozen afterwards. When something else already froze
    objects (Airflow does before forking workers), the process is left exactly as it is.
    """
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _apply_table_hints(
    dlt_resource: Any, resource: str, table: str, full_refresh: bool, marks_deletions: bool, freeze_schema: bool
) -> None:
    """Typed, described columns from the resource's JSON Schema; nested data as JSON columns.

    When a record arrives twice in one load (changed while the sync ran), the merge keeps the
    version with the latest `updatedAt`.
    """
    columns: dict[str, dict[str, Any]] = column_hints(resource) if resource in SCHEMA_RESOURCES else {}
    if "updatedAt" in columns:
        columns["updatedAt"] = {**columns["updatedAt"], "dedup_sort": "desc"}
    if marks_deletions:
        columns.update(deleted_at_hint())
    hints: dict[str, Any] = {"table_name": table}
    if columns:
        hints["columns"] = columns
    if full_refresh:
        hints["write_disposition"] = "replace"
    if freeze_schema:
        hints["schema_contract"] = FROZEN_SCHEMA_CONTRACT
    dlt_resource.apply_hints(**hints)
    dlt_resource.max_table_nesting = 0


def _run_pipeline(
    pipeline: Any, source: Any, warehouse: Any, dataset: str, after_load: Callable[[], Any], logger: Any
) -> tuple[Any, Any, Any]:
    """Extract and normalize outside any lock, so parallel syncs overlap; touch the warehouse under its lock.

    DuckDB holds its file lock whenever dlt opens the file (state restore, load); PostgreSQL holds
    its per-dataset lock only while missing schemas and tables are created.
    """
    exclusive = warehouse.is_single_writer
    with warehouse.write_lock(dataset, logger) if exclusive else nullcontext():
        pipeline.sync_destination()  # the stored cursor and schema, into an empty working dir
    if pipeline.has_pending_data:  # an earlier run left a package in a kept pipelines_dir: finish it first
        pipeline.normalize()
        _load(pipeline, warehouse, dataset, lambda: None, logger)
    pipeline.extract(source, loader_file_format=warehouse.arrow_file_format)
    normalize_info = pipeline.normalize()
    rows = sum(n for t, n in normalize_info.row_counts.items() if not t.startswith("_dlt")) if normalize_info else 0
    logger.info("Extracted; loading %d row(s) into %s (dataset %s)", rows, warehouse.location, dataset)
    load_info, after = _load(pipeline, warehouse, dataset, after_load, logger)
    return normalize_info, load_info, after


def _load(pipeline: Any, warehouse: Any, dataset: str, after_load: Callable[[], Any], logger: Any) -> tuple[Any, Any]:
    with warehouse.write_lock(dataset, logger):
        pipeline.sync_schema()
        if warehouse.is_single_writer:
            return pipeline.load(), after_load()
    return pipeline.load(), after_load()


def _counting_session(session_class: type, policy: Any, progress: SyncProgress, check: PageCheck) -> Any:
    """A retrying session that checks each final page and reports it to `progress`.

    The page's JSON is decoded once and shared: the check, dlt and the paginator all read it.
    Session-level response hooks would not do: requests drops them when the request brings its
    own (dlt's raise-for-status hook).
    """

    class CountingSession(session_class):  # type: ignore[misc, valid-type]
        def send(self, request: Any, **kwargs: Any) -> Any:
            response = super().send(request, **kwargs)
            if 200 <= response.status_code < 300:
                _decode_once(response)
                check(response, progress.pages + 1)
            progress.on_response(response)
            return response

    return CountingSession(policy)


def _decode_once(response: Any) -> None:
    """Decode the body once, with orjson (several times faster than requests' decoder), for every reader.

    The decoder holds the body, not the response: a response holding a function that holds the
    response is a reference cycle, and the decoded page would then live on until the garbage
    collector found it instead of going as soon as the page is done with.
    """
    content = response.content  # read already (the page check decodes it straight away)
    decoded: list[Any] = []

    def json(**kwargs: Any) -> Any:
        if not decoded:
            decoded.append(orjson.loads(content))
        return decoded[0]

    response.json = json


def _table_rows(pipeline: Any, table: str) -> int:
    """Rows the table holds after this run (0 when nothing was ever loaded into it)."""
    from dlt.destinations.exceptions import DatabaseUndefinedRelation

    with pipeline.sql_client() as client:
        try:
            rows = client.execute_sql(f"SELECT COUNT(*) FROM {client.make_qualified_table_name(table)}")
        except DatabaseUndefinedRelation:
            return 0
    return int(rows[0][0]) if rows else 0


