"""Pages of records -> Arrow tables typed by the resource's JSON Schema: the fast path into dlt.

dlt normalises Python records one value at a time; an Arrow table goes through as columns,
several times faster. The columns and their types come from the same JSON Schema as the column
hints, so the warehouse gets the same table either way: timestamps parsed from every trimmed
fraction form, nested values as JSON text in `json` columns.

A page that does not fit the schema exactly (a field the schema does not know, a value of another
type) is handed back as records: dlt then evolves the table, or fails a frozen schema, as usual.
"""

from __future__ import annotations

from typing import Any, Optional

import orjson
import pyarrow as pa

_ARROW_TYPES = {
    "text": pa.string(),
    "bool": pa.bool_(),
    "bigint": pa.int64(),
    "double": pa.float64(),
    "json": pa.string(),
}
TIMESTAMP = pa.timestamp("us", tz="UTC")


class ArrowPageBuilder:
    """Builds one Arrow table per page for the fields in `hints` (dlt column hints by record field)."""

    def __init__(self, hints: dict[str, dict[str, Any]]) -> None:
        self.fields = list(hints)
        self.kinds = {field: hint["data_type"] for field, hint in hints.items()}
        self.required = {field for field, hint in hints.items() if hint.get("nullable") is False}
        self._known = frozenset(self.fields)
        self.pages_as_records = 0

    def build(self, records: list[dict[str, Any]]) -> Optional[pa.Table]:
        """The page as a table, or None when it does not fit the schema (then load it as records)."""
        if not records or any(not self._known.issuperset(record) for record in records):
            self.pages_as_records += bool(records)
            return None
        try:
            columns = [self._column(field, [record.get(field) for record in records]) for field in self.fields]
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, orjson.JSONEncodeError):
            self.pages_as_records += 1
            return None
        if any(columns[i].null_count for i, field in enumerate(self.fields) if field in self.required):
            self.pages_as_records += 1
            return None
        schema = pa.schema(
            [pa.field(field, column.type, nullable=field not in self.required) for field, column in zip(self.fields, columns)]
        )
        return pa.Table.from_arrays(columns, schema=schema)

    def _column(self, field: str, values: list[Any]) -> pa.Array:
        kind = self.kinds[field]
        if kind == "timestamp":
            if any(value is not None and not isinstance(value, str) for value in values):
                raise TypeError(field)
            return pa.array(values, pa.string()).cast(TIMESTAMP)
        if kind == "json":
            return pa.array([None if v is None else orjson.dumps(v).decode() for v in values], pa.string())
        if kind == "text" and any(value is not None and not isinstance(value, str) for value in values):
            raise TypeError(field)  # pyarrow would not turn a number into text; dlt keeps it as a variant
        if kind == "bigint" and any(isinstance(value, (bool, float)) for value in values):
            raise TypeError(field)
        return pa.array(values, _ARROW_TYPES[kind])
