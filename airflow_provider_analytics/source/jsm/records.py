"""A record of the successor API -> the classic API's record: renamed fields, and a key where it has none."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from .endpoints import Endpoint

#: Marks keys made from a record's content: the successor gives its log entries no key of their own.
DERIVED_KEY_PREFIX = "jsm:"


def note_offset(record: dict[str, Any]) -> str | None:
    """A note's classic `offset`, `<ms>_<id>`, from its id.

    The reference's note id (`1704869443312000050`) is the second half of the classic offset
    (`<ms>_<ms * 10**6 + seq>`); an id of another form is kept whole behind DERIVED_KEY_PREFIX.
    """
    note_id = record.get("id")
    if note_id is None:
        return None
    text = str(note_id)
    if text.isdigit() and len(text) > 6:
        return f"{int(text) // 10**6}_{text}"
    return DERIVED_KEY_PREFIX + text


def log_offset(record: dict[str, Any]) -> str | None:
    """A log entry's key from its content: `jsm:<logTime>:<digest of type, log, owner>`.

    The same entry read again gets the same key (entries never change), so per-alert deletions
    stay right; two identical entries in one page are told apart by `records_of`.
    """
    created = record.get("createdAt")
    if created is None:
        return None
    content = "\x1f".join(str(record.get(name) or "") for name in ("type", "log", "owner"))
    digest = hashlib.sha256(content.encode()).hexdigest()[:16]
    return f"{DERIVED_KEY_PREFIX}{created}:{digest}"


DERIVED_KEYS: dict[str, Callable[[dict[str, Any]], str | None]] = {"note_offset": note_offset, "log_offset": log_offset}
#: Derived keys made from content: other than the key the OpsGenie API gives the same record.
CONTENT_KEYS = frozenset({"log_offset"})


def is_content_key(key: tuple[Any, ...]) -> bool:
    """Whether a child's stored key was made from content (written from the successor API)."""
    return bool(key) and str(key[0]).startswith(DERIVED_KEY_PREFIX)
#: The classic column a derived key fills.
DERIVED_KEY_COLUMN = "offset"


def classic_record(endpoint: Endpoint, record: Any) -> Any:
    """The record with the classic field names (nested where the classic nests them); others kept."""
    if not isinstance(record, dict):
        return record
    out: dict[str, Any] = {}
    name: str
    for name, value in record.items():
        if name in endpoint.lowercase and isinstance(value, str):
            value = value.lower()
        target = endpoint.renames.get(name, name)
        if "." not in target:
            out[target] = value
            continue
        head, *rest = target.split(".")
        node = out.setdefault(head, {})
        if not isinstance(node, dict):
            continue
        for part in rest[:-1]:
            node = node.setdefault(part, {})
        node[rest[-1]] = value
    return out


def records_of(endpoint: Endpoint, records: list[Any]) -> list[Any]:
    """A page of records, translated; derived keys made unique within the page."""
    translated = [classic_record(endpoint, record) for record in records]
    if endpoint.derived_key is None:
        return translated
    derive = DERIVED_KEYS[endpoint.derived_key]
    taken: dict[str, int] = {}
    for record in translated:
        if not isinstance(record, dict):
            continue
        key = derive(record)
        if key is not None and key.startswith(DERIVED_KEY_PREFIX):
            repeat = taken.get(key, 0)
            taken[key] = repeat + 1
            key = key if repeat == 0 else f"{key}:{repeat}"
        record[DERIVED_KEY_COLUMN] = key
    return translated
