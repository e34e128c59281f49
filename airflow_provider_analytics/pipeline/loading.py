"""Running a dlt pipeline's steps so parallel syncs overlap, touching the warehouse only under its lock."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from typing import Any, TypeVar

from ..source.log import Log as Logger
from .warehouse import Warehouse

T = TypeVar("T")


def restore_state(pipeline: Any, warehouse: Warehouse, dataset: str, logger: Logger) -> None:
    """The stored cursor and schema, into an empty working dir; a package an earlier run left is loaded first.

    DuckDB holds its file lock whenever dlt opens the file (state restore, load).
    """
    exclusive = warehouse.is_single_writer
    with warehouse.write_lock(dataset, logger) if exclusive else nullcontext():
        pipeline.sync_destination()
    if pipeline.has_pending_data:  # an earlier run left a package in a kept pipelines_dir: finish it first
        pipeline.normalize()
        _load(pipeline, warehouse, dataset, lambda: None, logger)


def extract_and_load(
    pipeline: Any,
    source: Any,
    warehouse: Warehouse,
    dataset: str,
    after_load: Callable[[], T],
    logger: Logger,
    *,
    before_load: Callable[[], int] | None = None,
    restore: bool = True,
) -> tuple[Any, Any, T]:
    """Extract and normalize outside any lock; restore state and load under the warehouse's lock.

    PostgreSQL holds its per-dataset lock only while missing schemas and tables are created.
    `before_load` and `after_load` run right before and after the load, under the same lock on a
    single-writer file. `restore` False: the pipeline already holds the stored state (a later
    load of the same run). Returns dlt's normalize and load infos and what `after_load` returned.
    """
    if restore:
        restore_state(pipeline, warehouse, dataset, logger)
    pipeline.extract(source, loader_file_format=warehouse.arrow_file_format)
    normalize_info = pipeline.normalize()
    rows = sum(n for t, n in normalize_info.row_counts.items() if not t.startswith("_dlt")) if normalize_info else 0
    logger.info("Extracted; loading %d row(s) into %s (dataset %s)", rows, warehouse.location, dataset)
    load_info, after = _load(pipeline, warehouse, dataset, after_load, logger, before_load)
    return normalize_info, load_info, after


def _load(
    pipeline: Any,
    warehouse: Warehouse,
    dataset: str,
    after_load: Callable[[], T],
    logger: Logger,
    before_load: Callable[[], int] | None = None,
) -> tuple[Any, T]:
    with warehouse.write_lock(dataset, logger):
        pipeline.sync_schema()
        if before_load is not None:
            before_load()
        if warehouse.is_single_writer:
            return pipeline.load(), after_load()
    return pipeline.load(), after_load()


def drop_staging_dataset(pipeline: Any, warehouse: Warehouse, dataset: str, logger: Logger) -> None:
    """Drop the table's staging dataset once the sync's loads are all done, under the warehouse's lock.

    Each table stages in a dataset of its own (`<dataset>_staging_<table>`) so parallel syncs of
    different tables never share one; kept, they would sit beside the dataset in the warehouse
    with a copy of the last load. dlt creates it again on the next load. A failure to drop is
    only a warning: the rows have landed.
    """
    staging = f"the staging dataset of {dataset}"
    try:
        with warehouse.write_lock(dataset, logger), pipeline.sql_client() as client, client.with_staging_dataset():
            staging = client.staging_dataset_name
            if not client.has_dataset():
                return
            client.drop_dataset()
    except Exception as error:  # the data is loaded; only the clean-up failed (a lock wait too)
        logger.warning("Could not drop %s (%s); the sync's rows are loaded. Drop it by hand, or grant the "
                       "warehouse user DROP on it.", staging, error)
        return
    logger.info("Dropped the staging dataset %s", staging)


def table_rows_locked(pipeline: Any, warehouse: Warehouse, dataset: str, table: str, logger: Logger) -> int:
    """`table_rows` under the lock of a single-writer file, which DuckDB opens for one process at a time.

    Unlocked, the count fails a sync whose rows have landed when another sync's load holds the file.
    """
    with warehouse.write_lock(dataset, logger) if warehouse.is_single_writer else nullcontext():
        return table_rows(pipeline, table)


def table_rows(pipeline: Any, table: str) -> int:
    """Rows the table holds after this run (0 when nothing was ever loaded into it)."""
    from dlt.destinations.exceptions import DatabaseUndefinedRelation

    with pipeline.sql_client() as client:
        try:
            rows = client.execute_sql(f"SELECT COUNT(*) FROM {client.make_qualified_table_name(table)}")
        except DatabaseUndefinedRelation:
            return 0
    return int(rows[0][0]) if rows else 0
