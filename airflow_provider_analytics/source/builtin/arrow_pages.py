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
        kinds = {field: hint["data_type"] for field, hint in hints.items()}
        self.required = [field for field, hint in hints.items() if hint.get("nullable") is False]
        self._json = [field for field, kind in kinds.items() if kind == "json"]
        self._timestamps = [field for field, kind in kinds.items() if kind == "timestamp"]
        self._integers = [field for field, kind in kinds.items() if kind == "bigint"]
        self._known = frozenset(self.fields)
        # Timestamps are read as text first and parsed by Arrow (every trimmed-fraction form).
        self._read_schema = pa.schema(
            [pa.field(field, pa.string() if kind == "timestamp" else _ARROW_TYPES[kind], nullable=field not in self.required)
             for field, kind in kinds.items()]
        )
        self._timestamp_set = frozenset(self._timestamps)
        self._schema = pa.schema(
            [pa.field(field.name, TIMESTAMP) if field.name in self._timestamp_set else field
             for field in self._read_schema]
        )
        #: Pages handed back as records because they did not fit the schema (the task log says how many).
        self.pages_as_records = 0

    def build(self, records: list[dict[str, Any]]) -> Optional[pa.Table]:
        """The page as a table, or None when it does not fit the schema (then load it as records)."""
        if not records:
            return None
        if not self._fits(records):
            self.pages_as_records += 1
            return None
        dumps = orjson.dumps
        # Column by column, with no per-record copies; nested values as orjson's UTF-8 bytes,
        # which Arrow takes into a string column as they are.
        values = {name: [record.get(name) for record in records] for name in self._read_schema.names}
        for name in self._json:
            values[name] = [None if value is None else dumps(value) for value in values[name]]
        timestamps = self._timestamp_set
        columns = []
        try:  # Arrow refuses text in a number column, a number in a text column, and so on
            for field in self._read_schema:
                column = pa.array(values[field.name], type=field.type)
                columns.append(column.cast(TIMESTAMP) if field.name in timestamps else column)
            table = pa.Table.from_arrays(columns, schema=self._schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError, orjson.JSONEncodeError):
            self.pages_as_records += 1
            return None
        return table

    def _fits(self, records: list[dict[str, Any]]) -> bool:
        """What Arrow would accept but change: unknown fields (dropped), fractions in integers
        (truncated), booleans in integers, missing required values."""
        known = self._known
        for record in records:
            if not known.issuperset(record):
                return False
            for field in self._integers:
                if type(record.get(field)) in (float, bool):
                    return False
            for field in self.required:
                if record.get(field) is None:
                    return False
        return True
