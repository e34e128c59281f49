"""A child resource (an alert's logs, a team's members) into its table, one load per checkpoint.

The reader walks the parents in the order of its pass; every `checkpoint_interval` seconds what
was read is loaded together with the pass's place in the resource's state, so a task killed or
retried continues after the last parent loaded. Before each load, the rows of the parents just
read that upstream no longer has (and, at the end of a pass over every parent, the rows of
parents gone upstream) are marked or removed per `deletions`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..source.builtin.arrow_pages import ArrowPageBuilder
from ..source.children.reader import ChildReader
from ..source.log import Log as Logger
from ..source.plan import ChildPlan
from .deletions import apply_child_deletions
from .dlt_source import BATCH_ROWS, RunSessions, apply_table_hints
from .loading import extract_and_load
from .names import schema_name_for
from .options import SyncOptions
from .progress import SyncProgress
from .warehouse import Warehouse

if TYPE_CHECKING:
    from dlt import Pipeline


@dataclass
class ChildLoads:
    """What the loads of one child sync did."""

    reader: ChildReader
    rows: int = 0
    deleted: int = 0
    #: parents whose rows are in the warehouse (loads committed by this run)
    parents_loaded: int = 0
    load_ids: list[str] = field(default_factory=list)


def child_reader(plan: ChildPlan, sessions: RunSessions, options: SyncOptions, logger: Logger) -> ChildReader:
    """The run's reader; it reads and writes the resource's state only while dlt extracts."""

    def state() -> dict[str, Any]:
        import dlt

        return dlt.current.resource_state(plan.resource)

    return ChildReader(
        plan,
        lambda check=None: sessions.new(check or plan.parent.page_check),
        sessions.new,
        options=options.incremental,
        full_refresh=options.full_refresh,
        max_workers=options.max_concurrent_requests,
        state=state,
        server_start_ms=lambda: sessions.started_ms,
        logger=logger,
    )


def load_children(
    pipeline: Pipeline,
    plan: ChildPlan,
    loads: ChildLoads,
    progress: SyncProgress,
    options: SyncOptions,
    warehouse: Warehouse,
    logger: Logger,
) -> None:
    """Read and load until the pass ends, a load per checkpoint; each load's rows and the pass's place land together."""
    reader = loads.reader
    table = options.table_for(plan.resource)
    dataset = options.dataset_name
    builder = ArrowPageBuilder(dict(plan.columns))
    first = True
    try:
        while not reader.finished:
            source = _chunk_source(plan, reader, builder, progress, options, table)

            def before_load() -> int:
                visited, listed = reader.take_visited()
                gone = apply_child_deletions(pipeline, table, plan.link.column, plan.link.key_columns, visited,
                                             options.deletions, listed, plan.superseded)
                loads.deleted += gone
                return gone

            normalize_info, load_info, _ = extract_and_load(
                pipeline, source, warehouse, dataset, lambda: None, logger, before_load=before_load, restore=first
            )
            first = False
            loads.rows += int(normalize_info.row_counts.get(table, 0)) if normalize_info else 0
            loads.load_ids.extend(load_info.loads_ids)
            loads.parents_loaded = reader.parents
            if not reader.finished:
                logger.info(
                    "%s: checkpoint: %d parent(s) read and loaded by this run (%d row(s)); a retry continues from here",
                    plan.resource, reader.parents, loads.rows,
                )
    finally:
        reader.close()


def _chunk_source(
    plan: ChildPlan, reader: ChildReader, builder: ArrowPageBuilder, progress: SyncProgress, options: SyncOptions,
    table: str,
) -> Any:
    def rows() -> Iterator[Any]:
        batch: list[dict[str, Any]] = []
        for result in reader.results(options.checkpoint_interval):
            if result.rows:
                progress.on_records(len(result.rows))
                batch.extend(result.rows)
            if len(batch) >= BATCH_ROWS:
                yield _typed(builder, batch)
                batch = []
        if batch:
            yield _typed(builder, batch)

    return child_table_source(plan, table, options, rows)


def child_table_source(plan: ChildPlan, table: str, options: SyncOptions, pages: Callable[[], Iterator[Any]]) -> Any:
    """A dlt source of one child resource whose pages (Arrow tables or records) come from `pages`.

    Merged on the resource's key into the table's own schema, with the table's hints (`_deleted_at`,
    column types) applied, as every load of a child resource is.
    """
    import dlt

    resource = dlt.resource(pages, name=plan.resource, primary_key=list(plan.spec.primary_key),
                            write_disposition="merge")()

    @dlt.source(name=schema_name_for(table))
    def analytics() -> Any:
        return resource

    source = analytics()
    apply_table_hints(source.resources[plan.resource], plan, table, options)
    return source


def _typed(builder: ArrowPageBuilder, rows: list[dict[str, Any]]) -> Any:
    """Rows as an Arrow table typed by the schema; as records when they do not fit it (dlt evolves or refuses)."""
    table = builder.build(rows)
    return rows if table is None else table


def log_children(reader: ChildReader, logger: Logger) -> None:
    """What the run did with the parents, and a warning when the API does not move a parent's `updatedAt`."""
    plan = reader.plan
    parent_pass = reader.parent_pass
    which = "every parent" if parent_pass is None or parent_pass.every_parent else "parents changed since the cursor"
    logger.info(
        "%s: read the records of %d %s (%s, in %s order)%s; %d row(s); %d gone upstream (404) were skipped and "
        "their rows follow deletions=",
        plan.resource, reader.parents, plan.link.resource, which, parent_pass.order if parent_pass else "-",
        f", after {reader.skipped} done by an earlier attempt" if reader.resumed else "", reader.rows, reader.gone,
    )
    if reader.newer_than_parent:
        logger.warning(
            "%s: %d record(s) were made after their %s's updatedAt: on this account, adding them does not "
            "move the parent's updatedAt, so an incremental run misses such records of parents that did not "
            "change otherwise. Run with full_refresh=True now and then (docs/streams.md).",
            plan.resource, reader.newer_than_parent, plan.link.parent_label,
        )
