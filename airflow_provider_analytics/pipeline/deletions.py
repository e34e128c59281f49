"""Rows that disappeared upstream, for resources read whole on every run (users, teams, services,
integrations, schedules, escalations, heartbeats) and for the records of each parent read whole
(an alert's logs, a team's members).

A merge only ever adds and replaces rows, so a user deleted upstream would live on in the
warehouse. After each complete snapshot, keys the table still holds but the snapshot no longer
had are marked (`_deleted_at`, the default: history and joins from old alerts keep working) or
removed. A parent's records are replaced as a set the same way: the rows of a parent that its
latest read no longer had, and the rows of parents gone upstream. Each step is idempotent: if
it fails, the next run redoes it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dlt import Pipeline

from ..source.errors import OptionError

DELETED_AT_COLUMN = "_deleted_at"
DELETION_MODES = ("mark", "remove", "keep")
DEFAULT_DELETIONS = "mark"
_CHUNK = 500


class DeletionConfigError(OptionError):
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
    """Collects the keys of a snapshot as dlt extracts it (used as a dlt map step).

    :param key: the record's field the table is merged on (`id`; heartbeats: `name`).
    """

    def __init__(self, key: str = "id") -> None:
        self.key = key
        self.ids: set[Any] = set()

    def __call__(self, record: Any) -> Any:
        if isinstance(record, dict):
            self.ids.add(record.get(self.key))
        return record


def apply_deletions(pipeline: Pipeline, table: str, seen_ids: Iterable[Any], mode: str, key: str = "id") -> int:
    """Mark or remove the rows of `table` whose keys the latest snapshot did not contain; returns how many."""
    if mode == "keep":
        return 0
    from dlt.destinations.exceptions import DatabaseUndefinedRelation

    seen = set(seen_ids)
    with pipeline.sql_client() as client:
        qualified = client.make_qualified_table_name(table)
        id_column = client.escape_column_name(key)
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



def apply_child_deletions(
    pipeline: Pipeline,
    table: str,
    parent_column: str,
    key_columns: Sequence[str],
    visited: Mapping[Any, set[tuple[Any, ...]]],
    mode: str,
    listed_parents: set[Any] | None = None,
    superseded: Callable[[tuple[Any, ...]], bool] | None = None,
) -> int:
    """Mark or remove the rows of `table` gone upstream, per parent; returns how many.

    :param visited: each parent read in this load -> the child keys its read returned (an empty
        set for a parent gone upstream: all its rows go).
    :param listed_parents: after a pass over every parent, all parents listed: the rows of any
        other parent go too (None: not such a pass).
    :param superseded: whether a missing row's key is the other API's (the record came back under
        this API's key): such rows are removed in every mode but `keep`, never marked, and not counted.
    """
    if mode == "keep" or (not visited and listed_parents is None):
        return 0
    from dlt.destinations.exceptions import DatabaseUndefinedRelation

    with pipeline.sql_client() as client:
        qualified = client.make_qualified_table_name(table)
        parent = client.escape_column_name(parent_column)
        keys = [client.escape_column_name(column) for column in key_columns]
        deleted_column = client.escape_column_name(DELETED_AT_COLUMN)
        live = f" AND {deleted_column} IS NULL" if mode == "mark" else ""
        stale: list[tuple[Any, ...]] = []
        gone_parents: list[Any] = []
        try:
            parents = list(visited)
            for start in range(0, len(parents), _CHUNK):
                chunk = parents[start : start + _CHUNK]
                placeholders = ", ".join(["%s"] * len(chunk))
                rows = client.execute_sql(
                    f"SELECT {parent}, {', '.join(keys)} FROM {qualified} WHERE {parent} IN ({placeholders}){live}",
                    *chunk,
                ) or []
                stale.extend(tuple(row) for row in rows if tuple(row[1:]) not in visited[row[0]])
            replaced = [row for row in stale if superseded is not None and superseded(row[1:])]
            if replaced:
                stale = [row for row in stale if not superseded(row[1:])]  # type: ignore[misc]
            if listed_parents is not None:
                where_live = f" WHERE {deleted_column} IS NULL" if mode == "mark" else ""
                rows = client.execute_sql(f"SELECT DISTINCT {parent} FROM {qualified}{where_live}") or []
                gone_parents = [row[0] for row in rows if row[0] not in listed_parents and row[0] not in visited]
        except DatabaseUndefinedRelation:  # nothing was ever loaded: nothing to delete
            return 0
        if not stale and not gone_parents and not replaced:
            return 0
        count = len(stale)
        now = datetime.now(timezone.utc)
        change = f"UPDATE {qualified} SET {deleted_column} = %s" if mode == "mark" else f"DELETE FROM {qualified}"
        first = [now] if mode == "mark" else []
        row_value = "(" + ", ".join([parent, *keys]) + ")"
        one_row = "(" + ", ".join(["%s"] * (1 + len(keys))) + ")"
        with client.begin_transaction():
            for start in range(0, len(replaced), _CHUNK):
                chunk_rows = replaced[start : start + _CHUNK]
                values = [value for row in chunk_rows for value in row]
                client.execute_sql(
                    f"DELETE FROM {qualified} WHERE {row_value} IN ({', '.join([one_row] * len(chunk_rows))})", *values
                )
            for start in range(0, len(stale), _CHUNK):
                chunk_rows = stale[start : start + _CHUNK]
                values = [value for row in chunk_rows for value in row]
                client.execute_sql(
                    f"{change} WHERE {row_value} IN ({', '.join([one_row] * len(chunk_rows))}){live}", *first, *values
                )
            for start in range(0, len(gone_parents), _CHUNK):
                chunk = gone_parents[start : start + _CHUNK]
                placeholders = ", ".join(["%s"] * len(chunk))
                counted = client.execute_sql(
                    f"SELECT COUNT(*) FROM {qualified} WHERE {parent} IN ({placeholders}){live}", *chunk
                )
                count += int(counted[0][0]) if counted else 0
                client.execute_sql(f"{change} WHERE {parent} IN ({placeholders}){live}", *first, *chunk)
    return count
