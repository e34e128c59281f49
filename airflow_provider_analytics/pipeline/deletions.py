"""Rows that disappeared upstream, for resources read whole on every run (users, teams, services, integrations).

A merge only ever adds and replaces rows, so a user deleted upstream would live on in the
warehouse. After each complete snapshot, ids the table still holds but the snapshot no longer
had are marked (`_deleted_at`, the default: history and joins from old alerts keep working) or
removed. The step runs after the load and is idempotent: if it fails, the next run redoes it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

DELETED_AT_COLUMN = "_deleted_at"
DELETION_MODES = ("mark", "remove", "keep")
DEFAULT_DELETIONS = "mark"
_CHUNK = 500


class DeletionConfigError(ValueError):
    """An unknown deletion mode."""


def check_mode(mode: str) -> str:
    """`mode` if it is one of DELETION_MODES; else DeletionConfigError listing them."""
    if mode not in DELETION_MODES:
        raise DeletionConfigError(f"deletions={mode!r} is not supported; use one of {', '.join(DELETION_MODES)}")
    return mode


def deleted_at_hint() -> dict[str, dict[str, Any]]:
    """The column that marks rows gone upstream; declared up front so it exists before any deletion."""
    return {
        DELETED_AT_COLUMN: {
            "name": DELETED_AT_COLUMN,
            "data_type": "timestamp",
            "nullable": True,
            "description": "When the record was first missing from the API's listing (NULL: still there).",
        }
    }


class SeenIds:
    """Collects the ids of a snapshot as dlt extracts it (used as a dlt map step)."""

    def __init__(self) -> None:
        self.ids: set[Any] = set()

    def __call__(self, record: Any) -> Any:
        if isinstance(record, dict):
            self.ids.add(record.get("id"))
        return record


def apply_deletions(pipeline: Any, table: str, seen_ids: Iterable[Any], mode: str) -> int:
    """Mark or remove the rows of `table` whose ids the latest snapshot did not contain; returns how many."""
    if mode == "keep":
        return 0
    from dlt.destinations.exceptions import DatabaseUndefinedRelation

    seen = set(seen_ids)
    with pipeline.sql_client() as client:
        qualified = client.make_qualified_table_name(table)
        id_column = client.escape_column_name("id")
        deleted_column = client.escape_column_name(DELETED_AT_COLUMN)
        live = f" WHERE {deleted_column} IS NULL" if mode == "mark" else ""
        try:
            rows = client.execute_sql(f"SELECT {id_column} FROM {qualified}{live}") or []
        except DatabaseUndefinedRelation:  # nothing was ever loaded: nothing to delete
            return 0
        gone = [row[0] for row in rows if row[0] not in seen]
        if not gone:
            return 0
        now = datetime.now(timezone.utc)
        with client.begin_transaction():
            for start in range(0, len(gone), _CHUNK):
                chunk = gone[start : start + _CHUNK]
                placeholders = ", ".join(["%s"] * len(chunk))
                if mode == "mark":
                    client.execute_sql(
                        f"UPDATE {qualified} SET {deleted_column} = %s WHERE {id_column} IN ({placeholders})",
                        now,
                        *chunk,
                    )
                else:
                    client.execute_sql(f"DELETE FROM {qualified} WHERE {id_column} IN ({placeholders})", *chunk)
    return len(gone)

