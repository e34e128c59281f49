"""Every knob of a sync, with its default written once, checked in one place when the options are made.

The operator builds one `SyncOptions` when its task runs, after Airflow has rendered its template
fields: half of the options can come from templates (the trigger form), so that is the first
moment every value is known, and checking them all then means one check for every way in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from ..source.errors import OptionError
from ..source.incremental import IncrementalOptions
from ..source.paging.guards import PaginationGuards
from .deletions import DEFAULT_DELETIONS, check_mode

DEFAULT_DATASET = "analytics"
#: Pages of alerts and incidents requested at the same time (keyset slices read side by side).
DEFAULT_MAX_CONCURRENT_REQUESTS = 4
#: Seconds between progress lines in the task log.
DEFAULT_PROGRESS_INTERVAL = 10.0
#: Resources read per parent (an alert's logs): seconds of reading between loads, each a checkpoint a retry resumes from.
DEFAULT_CHECKPOINT_INTERVAL = 60.0


def as_bool(value: Any, name: str) -> bool:
    """A flag that may arrive rendered from a template as text ("True", "false")."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off", "", "none"):
        return False
    raise OptionError(f"{name} must be true or false, not {value!r}")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class SyncOptions:
    """How one resource is synced into one table.

    :param dataset_name: schema (dataset) the table lands in.
    :param table_name: table to write; None: the resource's name.
    :param full_refresh: re-read everything (alerts/incidents: from the backfill start) and replace
        the table, instead of merging changes since the last run. Text such as "True" is read as a flag.
    :param incremental: cursor field, lookback and backfill start of alerts and incidents.
    :param guards: max pages, foreign hosts, offset cap.
    :param deletions: resources read whole: rows gone upstream are `mark`ed (`_deleted_at`),
        `remove`d, or `keep` as they are.
    :param freeze_schema: fail, loading nothing, when the API sends a field the table does not have.
    :param max_concurrent_requests: alerts and incidents: pages requested at the same time; resources
        read per parent: parents read at the same time; 1 reads one page after another.
    :param progress_interval: seconds between progress lines (0: none).
    :param checkpoint_interval: resources read per parent: seconds of reading between loads; each load
        is a checkpoint a killed or retried task continues from (0: a load after every parent).
    :param pipelines_dir: dlt's working folder; None: a temporary one (state lives in the warehouse).
    :param pipeline_name: dlt's pipeline name; None: one per dataset and table.
    :param use_airflow_secrets: let dlt read its settings from the `dlt_secrets_toml` Airflow Variable.
    """

    dataset_name: str = DEFAULT_DATASET
    table_name: Optional[str] = None
    full_refresh: bool = False
    incremental: IncrementalOptions = field(default_factory=IncrementalOptions)
    guards: PaginationGuards = field(default_factory=PaginationGuards)
    deletions: str = DEFAULT_DELETIONS
    freeze_schema: bool = False
    max_concurrent_requests: int = DEFAULT_MAX_CONCURRENT_REQUESTS
    progress_interval: float = DEFAULT_PROGRESS_INTERVAL
    checkpoint_interval: float = DEFAULT_CHECKPOINT_INTERVAL
    pipelines_dir: Optional[str] = None
    pipeline_name: Optional[str] = None
    use_airflow_secrets: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "full_refresh", as_bool(self.full_refresh, "full_refresh"))
        if not isinstance(self.dataset_name, str) or not self.dataset_name.strip():
            raise OptionError(f"dataset_name must be a non-empty name, not {self.dataset_name!r}")
        if self.table_name is not None and (not isinstance(self.table_name, str) or not self.table_name.strip()):
            raise OptionError(f"table_name must be a non-empty name or None, not {self.table_name!r}")
        check_mode(self.deletions)
        if not isinstance(self.freeze_schema, bool):
            raise OptionError(f"freeze_schema must be true or false, not {self.freeze_schema!r}")
        requests = self.max_concurrent_requests
        if isinstance(requests, bool) or not isinstance(requests, int) or requests < 1:
            raise OptionError(f"max_concurrent_requests must be an integer >= 1, not {requests!r}")
        if not _is_number(self.progress_interval) or self.progress_interval < 0:
            raise OptionError(f"progress_interval must be a number of seconds >= 0, not {self.progress_interval!r}")
        if not _is_number(self.checkpoint_interval) or self.checkpoint_interval < 0:
            raise OptionError(
                f"checkpoint_interval must be a number of seconds >= 0, not {self.checkpoint_interval!r}"
            )

    def table_for(self, resource: str) -> str:
        """The table `resource` lands in."""
        return self.table_name or resource
