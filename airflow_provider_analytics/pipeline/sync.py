"""Run one resource of the API into one warehouse table with a dlt pipeline, and say what landed."""

from __future__ import annotations

import logging
import tempfile
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from typing import Any, Optional

from ..source.http.pacer import pacer_for
from ..source.incremental import CursorState
from ..source.log import Log
from ..source.plan import BuiltinPlan, ChildPlan, plan_for
from ..source.settings import ApiSettings
from .child_sync import ChildLoads, child_reader, load_children, log_children
from .deletions import SeenIds, apply_deletions
from .dlt_env import prepare_dlt_environment
from .dlt_source import RunSessions, dlt_source
from .errors import child_sync_error, root_cause, sync_error
from .gc_freeze import collections_skip_older_objects
from .loading import drop_staging_dataset, extract_and_load, table_rows, table_rows_locked
from .names import pipeline_name_for
from .options import SyncOptions
from .progress import SyncProgress
from .report import summary_block
from .warehouse import Warehouse

__all__ = ["SyncSummary", "run_sync"]

log = logging.getLogger(__name__)


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
    cursor_field: Optional[str] = None
    cursor_start: Optional[int] = None
    cursor_end: Optional[int] = None
    #: how an incremental run read (`updatedAt search`, `recent first`, `full read`, `createdAt`)
    method: Optional[str] = None
    #: what the account's search does with `updatedAt`: accepted, rejected, ignored (None: not found out)
    updated_at_search: Optional[str] = None
    #: requests sent (retries included), how many the API throttled, seconds spent waiting for budget
    requests: int = 0
    throttled: int = 0
    budget_wait_seconds: float = 0.0
    #: from the first request to the last answer: the part of `seconds` the request budget bounds
    request_seconds: float = 0.0
    #: resources read per parent: parents read by this run, those gone upstream (404), whether an
    #: unfinished pass of an earlier run was continued, and the parents that run had done
    parents: Optional[int] = None
    parents_gone: int = 0
    resumed: bool = False
    parents_skipped: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_sync(
    resource: str,
    api: ApiSettings,
    warehouse: Warehouse,
    options: Optional[SyncOptions] = None,
    *,
    config: Optional[dict[str, Any]] = None,
    logger: Log | None = None,
) -> SyncSummary:
    """Extract `resource`, merge it into `<dataset>.<table>` and say what landed.

    Built-in alerts and incidents resume from the cursor stored in the warehouse and read up to
    `max_concurrent_requests` pages at a time; the resources read whole handle rows gone
    upstream per `deletions`. `full_refresh` re-reads everything and replaces the table. With a
    seed-style `config`, `resource` is the config's resource of that name. A failure raises a
    `SyncError` naming the resource and what to do; nothing of a failed run is loaded. A run that
    succeeds ends by logging its summary as one block (`pipeline.report`).
    """
    options = options or SyncOptions()
    logger = logger or log
    prepare_dlt_environment(options.use_airflow_secrets)
    plan = plan_for(resource, api, config, options.guards)
    table = options.table_for(resource)
    dataset = options.dataset_name
    progress = SyncProgress(resource, logger, options.progress_interval)
    pacer = pacer_for(plan.base_url, api.api_key, api.max_requests_per_second)
    sessions = RunSessions(plan, progress, pacer)
    cursor = (
        CursorState(resource, options.incremental, full_refresh=options.full_refresh, logger=logger,
                    api=plan.flavour)
        if isinstance(plan, BuiltinPlan) and plan.incremental else None
    )
    key = plan.spec.key if isinstance(plan, BuiltinPlan) else "id"
    tracks_deletions = plan.snapshot and not options.full_refresh and options.deletions != "keep"
    seen = SeenIds(key)
    children = ChildLoads(child_reader(plan, sessions, options, logger)) if isinstance(plan, ChildPlan) else None
    source = None if isinstance(plan, ChildPlan) else dlt_source(plan, sessions, progress, options, cursor=cursor,
                                                                 seen=seen if tracks_deletions else None)

    import dlt

    destination = warehouse.destination(
        staging_dataset_name_layout=f"%s_staging_{table}", replace_strategy="insert-from-staging"
    )
    logger.info("Syncing %s from %s into %s (%s.%s)", resource, plan.base_url, warehouse.location, dataset, table)
    started = time.monotonic()
    with ExitStack() as stack:
        workdir = options.pipelines_dir or stack.enter_context(tempfile.TemporaryDirectory(prefix="analytics-dlt-"))
        pipeline = dlt.pipeline(
            pipeline_name=options.pipeline_name or pipeline_name_for(dataset, table),
            destination=destination,
            dataset_name=dataset,
            pipelines_dir=workdir,
        )

        def after_load() -> tuple[int, int]:
            gone = apply_deletions(pipeline, table, seen.ids, options.deletions, key) if tracks_deletions else 0
            return gone, table_rows(pipeline, table)

        try:
            with collections_skip_older_objects():
                if children is not None:
                    assert isinstance(plan, ChildPlan)
                    load_children(pipeline, plan, children, progress, options, warehouse, logger)
                    rows, deleted, load_ids = children.rows, children.deleted, children.load_ids
                    rows_now = table_rows_locked(pipeline, warehouse, dataset, table, logger)
                    cursor = children.reader.cursor
                else:
                    normalize_info, load_info, (deleted, rows_now) = extract_and_load(
                        pipeline, source, warehouse, dataset, after_load, logger
                    )
                    rows = int(normalize_info.row_counts.get(table, 0)) if normalize_info else 0
                    load_ids = list(load_info.loads_ids)
                drop_staging_dataset(pipeline, warehouse, dataset, logger)  # every load done: only the dataset stays
        except Exception as error:  # dlt wraps every step failure; report the root cause
            target = f"{dataset}.{table}"
            if children is not None:
                raise child_sync_error(error, resource, plan.base_url, sessions, target,
                                       children.parents_loaded) from root_cause(error)
            raise sync_error(error, resource, plan.base_url, sessions, target) from root_cause(error)
    if children is not None:
        log_children(children.reader, logger)
    if deleted:
        verb = "marked deleted" if options.deletions == "mark" else "removed"
        logger.info("%s: %d row(s) gone upstream %s in %s.%s", resource, deleted, verb, dataset, table)
    seconds = time.monotonic() - started
    budget = sessions.budget
    if budget.throttled or pacer.rate is not None:
        logger.info(
            "%s: request budget: %d request(s) in %.1f s (%.1f/s), %d throttled (%.1f%%), %.1f s waiting for "
            "budget; settled at %s",
            resource, budget.requests, budget.request_seconds,
            budget.requests / budget.request_seconds if budget.request_seconds > 0 else 0.0,
            budget.throttled, 100.0 * budget.throttled / max(budget.requests, 1), budget.wait_seconds,
            f"{pacer.rate:.1f} requests/s" if pacer.rate is not None else "no limit",
        )
    summary = SyncSummary(
        resource=resource,
        table=table,
        dataset=dataset,
        warehouse=warehouse.location,
        rows=rows,
        pages=progress.pages,
        records_fetched=progress.records,
        seconds=round(seconds, 3),
        records_per_second=round(progress.records / seconds, 1) if seconds else 0.0,
        load_ids=load_ids,
        table_rows=rows_now,
        mode=_mode(options, cursor, children),
        deleted=deleted,
        cursor_field=options.incremental.cursor_field if cursor else None,
        cursor_start=cursor.start_ms if cursor else None,
        cursor_end=cursor.last_ms if cursor else None,
        method=cursor.method if cursor else None,
        updated_at_search=cursor.search if cursor else None,
        requests=budget.requests,
        throttled=budget.throttled,
        budget_wait_seconds=round(budget.wait_seconds, 3),
        request_seconds=round(budget.request_seconds, 3),
        parents=children.reader.parents if children else None,
        parents_gone=children.reader.gone if children else 0,
        resumed=children.reader.resumed if children else False,
        parents_skipped=children.reader.skipped if children else 0,
    )
    logger.info("%s", summary_block(summary))
    return summary


def _mode(options: SyncOptions, cursor: Optional[CursorState], children: Optional[ChildLoads]) -> str:
    """`replace`, `incremental` (from a cursor) or `merge`; a child's pass over every parent merges."""
    if children is not None:
        child_pass = children.reader.parent_pass
        return "incremental" if child_pass is not None and child_pass.bound is not None else "merge"
    if options.full_refresh:
        return "replace"
    return "incremental" if cursor else "merge"
