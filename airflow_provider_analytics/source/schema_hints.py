"""JSON Schemas of the upstream records, and dlt column hints derived from them.

The schema files (``schemas/<resource>.json``, draft-07) are the one place
that says what each field is: its type, whether it may be null and what it
means. Turning them into dlt column hints gives the warehouse typed,
documented columns from the first load, instead of types guessed from
whatever the first page happened to contain (an all-null column, or a
timestamp string that stays ``text``).

Nested objects and lists become ``json`` columns: one row per record, no
child tables, the same layout on DuckDB and PostgreSQL.

Nothing here imports Airflow or dlt, so it is cheap to import anywhere.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from importlib.resources import files
from typing import Any

__all__ = ["SCHEMA_RESOURCES", "column_hints", "column_hints_if_known", "load_json_schema"]

_SCHEMA_DIR = files(__package__).joinpath("schemas")

#: Resources that ship a schema file, in name order.
SCHEMA_RESOURCES: tuple[str, ...] = tuple(
    sorted(p.name[: -len(".json")] for p in _SCHEMA_DIR.iterdir() if p.name.endswith(".json"))
)

#: JSON Schema type -> dlt data type. ``string`` with ``format: date-time`` is a timestamp.
_DLT_TYPES = {
    "string": "text",
    "boolean": "bool",
    "integer": "bigint",
    "number": "double",
    "object": "json",
    "array": "json",
}


@lru_cache(maxsize=None)
def _read(resource: str) -> dict[str, Any]:
    if resource not in SCHEMA_RESOURCES:
        raise ValueError(
            f"no JSON Schema for resource {resource!r}; known resources: {', '.join(SCHEMA_RESOURCES)}"
        )
    return json.loads(_SCHEMA_DIR.joinpath(f"{resource}.json").read_text(encoding="utf-8"))


def load_json_schema(resource: str) -> dict[str, Any]:
    """The draft-07 JSON Schema of one resource's records.

    The file is read once; each call returns a deep copy so a caller that
    edits its schema cannot change what the next caller sees. An unknown
    resource raises ``ValueError`` naming the known ones.
    """
    return copy.deepcopy(_read(resource))


def _dlt_type(field: str, prop: dict[str, Any]) -> tuple[str, bool]:
    """(dlt data type, nullable) of one schema property."""
    declared = prop.get("type")
    types = [declared] if isinstance(declared, str) else list(declared or ())
    nullable = "null" in types
    concrete = [t for t in types if t != "null"]
    if len(concrete) != 1 or concrete[0] not in _DLT_TYPES:
        # A column has one type; fail when building the hints rather than load odd data.
        raise ValueError(f"field {field!r} needs exactly one non-null JSON type, got {declared!r}")
    if concrete[0] == "string" and prop.get("format") == "date-time":
        return "timestamp", nullable
    return _DLT_TYPES[concrete[0]], nullable


def column_hints(resource: str) -> dict[str, dict[str, Any]]:
    """dlt column hints for ``resource``, keyed by the field name as it is in the records.

    Names stay in the upstream camelCase (``createdAt``): dlt normalises
    hint names the same way it normalises record keys, so both meet in one
    column (``created_at``). Pass the result as ``columns=`` of a dlt
    resource.
    """
    properties = _read(resource).get("properties", {})
    hints: dict[str, dict[str, Any]] = {}
    for field, prop in properties.items():
        data_type, nullable = _dlt_type(field, prop)
        hints[field] = {
            "name": field,
            "data_type": data_type,
            "nullable": nullable,
            "description": prop.get("description", ""),
        }
    return hints


def column_hints_if_known(resource: str) -> dict[str, dict[str, Any]]:
    """``column_hints`` for a resource that ships a schema; nothing for another (a seed config's own)."""
    return column_hints(resource) if resource in SCHEMA_RESOURCES else {}
