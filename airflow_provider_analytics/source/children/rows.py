"""An API record of a parent's listing -> a row of the child table: the parent's id and the child's key as columns."""

from __future__ import annotations

from typing import Any

from ..catalog import ParentLink
from ..http.page_check import MISSING, select_path


def child_rows(link: ParentLink, parent_id: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of one parent: `link.column` = the parent's id; each key path moved (top level) or copied (nested)."""
    moved = {path for column, path in link.key_paths if "." not in path and path != column}
    rows = []
    for record in records:
        row: dict[str, Any] = {link.column: parent_id}
        for column, path in link.key_paths:
            value = select_path(record, path)
            row[column] = None if value is MISSING else value
        for name, value in record.items():
            if name not in moved:
                row.setdefault(name, value)
        rows.append(row)
    return rows


def child_key(link: ParentLink, row: dict[str, Any]) -> tuple[Any, ...]:
    """The child's own key in a row (without the parent's id)."""
    return tuple(row.get(column) for column in link.key_columns)

