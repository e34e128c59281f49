"""The fake API's in-memory tables: each resource's records as JSON bytes plus key columns.

Generates a resource's table on first use and applies the mutations tests ask for (update, add, remove).
It also keeps the team membership drawn from the generated users and teams (:meth:`Tables.base`),
which schedules, escalations and the records in :mod:`.children` refer to.
"""

from __future__ import annotations

import json
import random
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable

from .data import (
    COLUMNS,
    DEFAULT_SIZES,
    DEPENDS,
    GENERATORS,
    KEYS,
    TIME_FIELDS,
    Context,
    assign_membership,
    encode,
    iso_ms,
    now_ms,
    parse_ms,
    spread,
)

#: Key columns holding plain ints (nulls stored as -1), usable as sort keys directly.
_INT_COLUMNS = frozenset(TIME_FIELDS + ("tinyId",))


class Table:
    """One immutable snapshot of a resource; every mutation builds a new one.

    Records live only as JSON bytes (what gets served). ``columns`` hold the
    keys needed on hot paths (id, createdAt/updatedAt in ms, tinyId as int,
    status); any other field is decoded from the bytes on demand and cached. A request
    takes ``store.table`` once, so it never sees a half-applied change, and
    every cache dies with its snapshot.
    """

    def __init__(self, blobs: list[bytes], columns: dict[str, list]):
        self.blobs = blobs
        self.columns = columns
        self._keys: dict[str, Any] = {}  # per key prefix: a list, or an index dict
        self._orders: dict[str, list[int]] = {}
        self._results: OrderedDict[tuple, list[int]] = OrderedDict()
        self._ids: dict[str, int] | None = None
        self._lock = threading.Lock()

    def row(self, pos: int) -> dict:
        return json.loads(self.blobs[pos])

    def values(self, name: str) -> list:
        """Raw value of ``name`` per record: a column, or decoded from the bytes."""
        column = self.columns.get(name)
        if column is not None:
            return column
        path = name.split(".")
        return [_field(json.loads(b), path) for b in self.blobs]

    def keys(self, name: str) -> list:
        """Sortable key per record for field ``name``."""
        if name in _INT_COLUMNS and name in self.columns:
            return self.columns[name]
        keys = self._keys.get(name)
        if keys is None:
            keys = self._keys[name] = [_sortable(v) for v in self.values(name)]
        return keys

    def texts(self, name: str) -> list[str]:
        """Lower-cased text per record, for ``field:value`` terms."""
        cache_key = "text:" + name
        texts = self._keys.get(cache_key)
        if texts is None:
            texts = self._keys[cache_key] = [_text(v) for v in self.values(name)]
        return texts

    def order(self, name: str) -> list[int]:
        """Record positions ascending by ``name``, ties by position."""
        order = self._orders.get(name)
        if order is None:
            order = sorted(range(len(self.blobs)), key=self.keys(name).__getitem__)
            self._orders[name] = order
        return order

    def sorted_keys(self, name: str) -> list:
        """Keys of ``name`` in ascending order, for bisecting range terms."""
        cache_key = "sorted:" + name
        result = self._keys.get(cache_key)
        if result is None:
            keys = self.keys(name)
            result = [keys[i] for i in self.order(name)]
            self._keys[cache_key] = result
        return result

    def position(self, rid: str) -> int:
        """Position of the record whose key (``id``; a heartbeat's ``name``) is ``rid``; KeyError if none."""
        if self._ids is None:
            self._ids = {r: i for i, r in enumerate(self.columns["id"])}
        return self._ids[rid]

    def index(self, name: str) -> dict:
        """Value of field ``name`` -> position of the last record holding it (the newest, for aliases)."""
        cache_key = "index:" + name
        found = self._keys.get(cache_key)
        if found is None:
            found = {v: i for i, v in enumerate(self.values(name)) if v is not None}
            self._keys[cache_key] = found
        return found

    def derived(self, name: str, compute: Callable[[], Any]) -> Any:
        """A value computed from this snapshot once (e.g. another rendering of the blobs)."""
        cache_key = "derived:" + name
        value = self._keys.get(cache_key)
        if value is None:
            value = self._keys[cache_key] = compute()
        return value

    def cached(self, key: tuple, compute: Callable[[], list[int]]) -> list[int]:
        """LRU of query results: a paged walk asks the same question per page."""
        with self._lock:
            hit = self._results.get(key)
            if hit is not None:
                self._results.move_to_end(key)
                return hit
        result = compute()
        with self._lock:
            self._results[key] = result
            while len(self._results) > 256:
                self._results.popitem(last=False)
        return result


def _columns_of(resource: str, row: dict) -> dict[str, Any]:
    """Key-column values of one record (for mutations); ``id`` holds the record's key."""
    cols: dict[str, Any] = {"id": row.get(KEYS[resource][0])}
    for name in TIME_FIELDS:
        if name in COLUMNS[resource]:
            value = row.get(name)
            cols[name] = parse_ms(value) if value is not None else -1
    if "tinyId" in COLUMNS[resource]:
        tiny = str(row.get("tinyId") or "")
        cols["tinyId"] = int(tiny) if tiny.isdigit() else -1
    if "status" in COLUMNS[resource]:
        cols["status"] = row.get("status")
    return cols


def _field(record: dict, path: list[str]) -> Any:
    """A field of a record by dotted path (`report.ackTime`); None where a step is missing."""
    value: Any = record
    for step in path:
        value = value.get(step) if isinstance(value, dict) else None
    return value


def _sortable(value: Any) -> tuple:
    """Total order over mixed or null values (nulls first)."""
    if value is None:
        return (0, "")
    if isinstance(value, (bool, int, float)):
        return (1, value)
    return (2, str(value))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value).lower()


@dataclass(frozen=True)
class Base:
    """What the generated users and teams were, and who was in which team.

    Fixed before the first change to users or teams, so generated records that refer to it
    (schedules, escalations, alert recipients) stay a pure function of the seed and the sizes.
    """

    users: tuple[dict, ...]
    teams: tuple[dict, ...]
    members: dict[str, tuple[tuple[str, str], ...]]
    username_to_id: dict[str, str]
    id_to_username: dict[str, str]


@dataclass
class _Store:
    """One resource's current table, and the RNG that goes on generating its records."""

    size: int
    table: Table | None = None
    rng: random.Random | None = None
    next_index: int = 0


class Tables:
    """The tables of one fake: a pure function of seed, resource and sizes, built on first use.

    A mutation builds a new :class:`Table` and swaps it in, so readers never lock.
    """

    def __init__(self, sizes: dict[str, int], seed: int):
        self.seed = seed
        self._stores = {name: _Store(size) for name, size in sizes.items()}
        self._lock = threading.RLock()
        self._base: Base | None = None

    def table(self, resource: str) -> Table:
        """The current snapshot of ``resource``, generated on first use."""
        store = self._stores[resource]
        table = store.table
        if table is None:
            with self._lock:
                if store.table is None:
                    self._generate(resource)
                table = store.table
        return table  # type: ignore[return-value]

    def base(self) -> Base:
        """The generated users and teams and their membership (drawn on first use)."""
        base = self._base
        if base is None:
            with self._lock:
                if self._base is None:
                    users = [json.loads(b) for b in self.table("users").blobs]
                    teams = [json.loads(b) for b in self.table("teams").blobs]
                    self._base = Base(
                        users=tuple({"id": u["id"], "username": u["username"]} for u in users),
                        teams=tuple({"id": t["id"], "name": t["name"]} for t in teams),
                        members=assign_membership(self.seed, users, teams),
                        username_to_id={u["username"]: u["id"] for u in users},
                        id_to_username={u["id"]: u["username"] for u in users},
                    )
                base = self._base
        return base

    def _freeze_base(self, resource: str) -> None:
        if resource in ("users", "teams"):
            self.base()

    def row(self, resource: str, index_or_id: int | str) -> dict:
        """One record by position or key; IndexError/KeyError if there is none."""
        table = self.table(resource)
        if isinstance(index_or_id, int):
            return table.row(range(len(table.blobs))[index_or_id])
        return table.row(table.position(index_or_id))

    def update(self, resource: str, index_or_id: int | str, **fields: Any) -> dict:
        """Change fields of one record (by position or key); returns the new record."""
        with self._lock:
            self._freeze_base(resource)
            table = self.table(resource)
            if isinstance(index_or_id, int):
                pos = range(len(table.blobs))[index_or_id]
            else:
                pos = table.position(index_or_id)
            if "updatedAt" in COLUMNS[resource] and "updatedAt" not in fields:
                fields["updatedAt"] = _fresh_ms(table)
            row = table.row(pos)
            for name, value in fields.items():
                if name in TIME_FIELDS and value is not None and not isinstance(value, str):
                    value = iso_ms(parse_ms(value))
                row[name] = value
            blobs = list(table.blobs)
            blobs[pos] = encode(row).encode()
            columns = {k: list(v) for k, v in table.columns.items()}
            for name, value in _columns_of(resource, row).items():
                columns[name][pos] = value
            self._stores[resource].table = Table(blobs, columns)
            return json.loads(blobs[pos])

    def add(self, resource: str, n: int = 1) -> list[dict]:
        """Append ``n`` new records created later than every existing time."""
        with self._lock:
            self._freeze_base(resource)
            table = self.table(resource)
            store = self._stores[resource]
            ctx = self._context(resource)
            gen, t0 = GENERATORS[resource], _fresh_ms(table)
            blobs = list(table.blobs)
            columns = {k: list(v) for k, v in table.columns.items()}
            added = []
            for k in range(n):
                text, _, _, _ = gen(store.rng, store.next_index, ctx, t0 + k)  # type: ignore[arg-type]
                store.next_index += 1
                row = _make_fresh(resource, json.loads(text), t0 + k)
                blobs.append(encode(row).encode())
                for name, value in _columns_of(resource, row).items():
                    columns[name].append(value)
                added.append(row)
            store.table = Table(blobs, columns)
            return added

    def remove(self, resource: str, id: str) -> dict:  # noqa: A002
        """Delete one record by key (``id``; a heartbeat's ``name``); returns it."""
        with self._lock:
            self._freeze_base(resource)
            table = self.table(resource)
            pos = table.position(id)
            blobs = table.blobs[:pos] + table.blobs[pos + 1:]
            columns = {k: v[:pos] + v[pos + 1:] for k, v in table.columns.items()}
            self._stores[resource].table = Table(blobs, columns)
            return table.row(pos)

    def _context(self, resource: str) -> Context:
        deps = DEPENDS[resource]
        rows = {name: [json.loads(b) for b in self.table(name).blobs] if name in deps else []
                for name in DEFAULT_SIZES}
        members = self.base().members if resource in ("schedules", "escalations") else {}
        return Context(rows["teams"], rows["users"], rows["services"], rows["integrations"],
                       schedules=rows["schedules"], members=members)

    def _generate(self, resource: str) -> None:
        """Build a resource's records: a pure function of seed, resource and sizes."""
        store = self._stores[resource]
        ctx = self._context(resource)
        rng = random.Random(f"{self.seed}:{resource}")
        gen, size = GENERATORS[resource], store.size
        blobs, ids, created, updated, statuses = [], [], [], [], []
        for i in range(size):
            c = spread(rng, i, size)
            text, rid, u, status = gen(rng, i, ctx, c)
            blobs.append(text.encode())
            ids.append(rid)
            created.append(c)
            updated.append(u)
            statuses.append(status)
        columns: dict[str, list] = {"id": ids}
        if "createdAt" in COLUMNS[resource]:
            columns["createdAt"] = created
        if "updatedAt" in COLUMNS[resource]:
            columns["updatedAt"] = updated
        if "tinyId" in COLUMNS[resource]:
            columns["tinyId"] = list(range(1, size + 1))
        if "status" in COLUMNS[resource]:
            columns["status"] = statuses
        store.rng, store.next_index = rng, size
        store.table = Table(blobs, columns)


def _fresh_ms(table: Table) -> int:
    """A "now" later than every time already in the table."""
    latest = max((max(table.columns[k], default=0) for k in TIME_FIELDS if k in table.columns),
                 default=0)
    return max(now_ms(), latest + 1)


def _make_fresh(resource: str, row: dict, ms: int) -> dict:
    """Turn a generated record into one just created at ``ms``."""
    stamp = iso_ms(ms)
    for name in ("createdAt", "updatedAt"):
        if name in row:
            row[name] = stamp
    if resource == "alerts":
        row.update(status="open", acknowledged=False, seen=False, isSeen=False, snoozed=False,
                   snoozedUntil=None, count=1, lastOccurredAt=stamp, owner="", report={})
    elif resource == "incidents":
        row.update(status="open", impactStartDate=stamp)
    return row

