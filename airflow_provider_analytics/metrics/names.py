"""The metric tables' names and the datasets they are read from and written to, checked once."""

from __future__ import annotations

import re

from ..pipeline.options import DEFAULT_DATASET as DEFAULT_SOURCE_DATASET
from ..source.errors import OptionError

__all__ = ["DEFAULT_METRICS_DATASET", "DEFAULT_SOURCE_DATASET", "METRIC_TABLES", "SOURCE_TABLES", "check_datasets"]

#: The metrics get a dataset of their own beside the synced one.
DEFAULT_METRICS_DATASET = f"{DEFAULT_SOURCE_DATASET}_metrics"
#: The metric tables in build order (the later ones read `alert_response`).
METRIC_TABLES = ("alert_response", "response_daily", "oncall_load", "incident_response")
#: The synced tables the metrics read; the example DAG is scheduled on their Assets.
SOURCE_TABLES = ("alerts", "alert_logs", "alert_recipients", "teams", "users", "incidents")
_DATASET_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def check_datasets(source_dataset: str, metrics_dataset: str) -> None:
    """Both names usable as written (they go into SQL), and distinct; else OptionError naming the option."""
    for option, name in (("source_dataset", source_dataset), ("metrics_dataset", metrics_dataset)):
        if not isinstance(name, str) or not _DATASET_RE.match(name):
            raise OptionError(
                f"{option}={name!r} is not a dataset name: use letters, digits and underscores, "
                "starting with a letter or underscore (at most 63)."
            )
    if source_dataset == metrics_dataset:
        raise OptionError(f"metrics_dataset={metrics_dataset!r} is the synced dataset; the metrics need their own.")
