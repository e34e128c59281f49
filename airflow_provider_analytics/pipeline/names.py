"""dlt's names for a table's pipeline and schema: stable, so any worker restores the same state."""

from __future__ import annotations

import re


def schema_name_for(table: str) -> str:
    """One dlt schema per table: pipelines sharing a dataset must not restore each other's schema."""
    return "analytics_" + re.sub(r"[^a-z0-9_]", "_", table.lower())


def pipeline_name_for(dataset_name: str, table: str) -> str:
    """Stable per (dataset, table): dlt restores state by this name on a fresh worker."""
    return f"analytics__{dataset_name}__{table}"
