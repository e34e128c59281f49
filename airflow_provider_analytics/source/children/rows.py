"""An API record of a parent's listing -> a row of the child table: the parent's id and the child's key as columns."""

from __future__ import annotations

from typing import Any

from ..catalog import ParentLink


def child_rows(link: ParentLink, parent_id: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of one parent: `link.column` = the parent's id; each key path moved (top level) or copied (nested)."""
    rows = []
    for record in records:
        row = {link.column: parent_id}
        for column, path in link.key_paths:
            if "." in path:
                row[column] = _at(record, path)
            else:
                row[column] = record.get(path)
        for name, value in record.items():
            if not any(name == path and name != column for column, path in link.key_paths):
                row.setdefault(name, value)
        rows.append(row)
    return rows


def child_key(link: ParentLink, row: dict[str, Any]) -> tuple[Any, ...]:
    """The child's own key in a row (without the parent's id)."""
    return tuple(row.get(column) for column in link.key_columns)


def _at(record: dict[str, Any], path: str) -> Any:
    value: Any = record
    for step in path.split("."):
        value = value.get(step) if isinstance(value, dict) else None
    return value
