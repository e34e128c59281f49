"""Search queries of the fake API (``createdAt>=<ms> AND status:open``) and the one place that selects records."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from .data import FIELDS, TIME_FIELDS
from .store import Table


@dataclass(frozen=True)
class _Term:
    """One condition of a query: ``field op value`` (``:`` for equality)."""

    field: str
    op: str
    value: Any


class QueryError(ValueError):
    """A request parameter the API refuses: answered with 422."""


_TERM_RE = re.compile(r"^([A-Za-z_][\w.]*)\s*(>=|<=|>|<|:|=)\s*(.+)$")
_AND_RE = re.compile(r"\s+AND\s+", re.IGNORECASE)


#: How the API treats an `updatedAt` term in `query`: the spec does not say it is searchable.
UPDATED_AT_SEARCH_MODES = ("accepted", "rejected", "ignored")


def parse_query(text: str, resource: str, updated_at: str = "accepted") -> tuple[_Term, ...]:
    """``createdAt>=1 AND status:open`` -> terms; raises QueryError.

    :param updated_at: `accepted` (filters), `rejected` (422) or `ignored` (the term is dropped).
    """
    terms = []
    for part in _AND_RE.split(text.strip()):
        m = _TERM_RE.match(part.strip())
        if not m:
            raise QueryError(f"Invalid query term: {part!r}")
        name, op, raw = m.group(1), m.group(2), m.group(3).strip()
        if name not in FIELDS[resource]:
            raise QueryError(f"Unknown query field: {name!r}")
        if name == "updatedAt" and updated_at == "rejected":
            raise QueryError(f"Invalid query field: {name!r} is not searchable")
        if name == "updatedAt" and updated_at == "ignored":
            continue
        if op in (":", "="):
            if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
                raw = raw[1:-1]
            elif any(c.isspace() for c in raw):
                raise QueryError(f"Unsupported query term: {part!r}")
            terms.append(_Term(name, ":", raw.lower()))
        else:
            if name not in TIME_FIELDS:
                raise QueryError(f"Range queries work on createdAt/updatedAt only, not {name!r}")
            if not raw.isdigit():
                raise QueryError(f"{name} needs epoch milliseconds, got {raw!r}")
            terms.append(_Term(name, op, int(raw)))
    return tuple(terms)


def _bounds(sorted_keys: list, terms: Iterable[_Term]) -> tuple[int, int]:
    """Slice of ascending ``sorted_keys`` satisfying all range ``terms``."""
    lo, hi = 0, len(sorted_keys)
    for t in terms:
        if t.op == ">=":
            lo = max(lo, bisect.bisect_left(sorted_keys, t.value))
        elif t.op == ">":
            lo = max(lo, bisect.bisect_right(sorted_keys, t.value))
        elif t.op == "<":
            hi = min(hi, bisect.bisect_left(sorted_keys, t.value))
        elif t.op == "<=":
            hi = min(hi, bisect.bisect_right(sorted_keys, t.value))
    return lo, max(lo, hi)


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    ">=": lambda a, b: a >= b, ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b, "<": lambda a, b: a < b,
}


def select(table: Table, terms: tuple[_Term, ...], sort: str, order: str) -> list[int]:
    """Positions of records matching ``terms``, sorted; the one place that filters.

    A range on the sort field (or else the first range) is answered by
    bisecting a cached sorted index, so windowed walks stay cheap.
    """
    ranges = [t for t in terms if t.op != ":"]
    base = sort if any(t.field == sort for t in ranges) else (ranges[0].field if ranges else sort)
    positions = table.order(base)
    if ranges:
        lo, hi = _bounds(table.sorted_keys(base), [t for t in ranges if t.field == base])
        positions = positions[lo:hi]
    for t in terms:
        if t.op == ":":
            texts, value = table.texts(t.field), t.value
            positions = [i for i in positions if texts[i] == value]
        elif t.field != base:
            keys, test, value = table.keys(t.field), _OPS[t.op], t.value
            positions = [i for i in positions if test(keys[i], value)]
    if base != sort:
        keys = table.keys(sort)
        positions = sorted(positions, key=lambda i: (keys[i], i))
    if order == "desc":
        positions = positions[::-1]
    return positions

