"""The warehouse a sync writes into, as the pipeline sees it: a dlt destination and how writers take turns.

Built on the Airflow side (`warehouses/`, one module per connection type) from a connection;
the pipeline only asks it for a destination, a lock and a secret-free description.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

from ..source.log import Log

if TYPE_CHECKING:
    from dlt.common.destination import Destination

#: A lock factory: (dataset, logger) -> a context manager held while a sync changes the dataset.
WriteLock = Callable[[str, Optional[Log]], AbstractContextManager[None]]
#: (dataset, table) -> the table's OpenLineage (namespace, name), as the official integrations name it.
LineageNaming = Callable[[str, str], tuple[str, str]]


@dataclass(frozen=True)
class Warehouse:
    """How to build a dlt destination, plus a secret-free description for logs and Asset URIs.

    :param factory: builds the dlt destination (credentials bound); called with destination settings.
    :param kind: dlt's destination name (`duckdb`, `postgres`, `snowflake`, ...).
    :param location: where it is, without secrets (a file path, `postgres://host:port/db`, ...).
    :param asset_base: the start of the Asset URI of its tables (`duckdb:///abs/file.duckdb`, ...).
    :param lock: held while a sync changes a dataset's structure (None: no lock needed).
    :param is_single_writer: one writer at a time (a DuckDB file): every touch of it happens under the lock.
    :param arrow_file_format: the load file format for Arrow pages (None: the destination's own).
    :param lineage: how OpenLineage names its tables (set by each connection type in `warehouses/`).
    """

    factory: Callable[..., Destination[Any, Any]]
    kind: str
    location: str
    asset_base: str
    lock: WriteLock | None = None
    is_single_writer: bool = False
    arrow_file_format: str | None = None
    lineage: LineageNaming | None = field(default=None, compare=False)

    def destination(self, **options: Any) -> Destination[Any, Any]:
        """A dlt destination; `options` are destination settings such as staging_dataset_name_layout."""
        return self.factory(**options)

    def write_lock(self, dataset: str, logger: Optional[Log] = None) -> AbstractContextManager[None]:
        """Held while a sync changes `dataset`'s structure (a single-writer file: while it touches it at all)."""
        if self.lock is None:
            return nullcontext()
        return self.lock(dataset, logger)

    def asset_uri(self, dataset: str, table: str) -> str:
        """The Airflow Asset URI of a table: the warehouse's `asset_base`, then dataset and table.

        `duckdb:///abs/path/warehouse.duckdb/<dataset>/<table>`,
        `postgres://host:5432/<database>/<dataset>/<table>` (the form Airflow's postgres provider
        uses), `snowflake://<account>/<database>/<dataset>/<table>`, ...
        """
        return f"{self.asset_base.rstrip('/')}/{dataset}/{table}"

    def lineage_dataset(self, dataset: str, table: str) -> tuple[str, str] | None:
        """The table as OpenLineage datasets name it, (namespace, name); None for a warehouse without a rule.

        The official integrations' names (`postgres://host:5432`, `database.schema.table`, ...), so
        that lineage from this sync joins lineage from the jobs that read the table.
        """
        return self.lineage(dataset, table) if self.lineage is not None else None
