"""Records of the JSM operations side, made from the same underlying data as the classic side.

Every function here turns one classic record (as ``/v2/...`` serves it) into the record the JSM
operations reference describes, so both sides always agree: same ids, same times, same names. The
renderings are cached per table snapshot (:meth:`.store.Table.derived`), so a change to the data
shows on both sides at once and an unchanged table is serialised once.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any, Callable

from .children import Entry
from .data import encode, parse_ms
from .query import select
from .store import Table

if TYPE_CHECKING:  # pragma: no cover
    from .children import Children
    from .store import Tables

#: AlertResponse fields copied from the classic alert as they are (when the classic record has them).
ALERT_KEPT = (
    "id", "tinyId", "alias", "message", "status", "acknowledged", "count", "owner", "snoozed",
    "snoozedUntil", "lastOccurredAt", "createdAt", "updatedAt", "source", "priority", "responders", "tags",
)
#: Minutes in one classic escalation ``timeUnit`` (JSM states a rule's ``delay`` in minutes).
_MINUTES = {"milliseconds": 1 / 60_000, "seconds": 1 / 60, "minutes": 1, "hours": 60, "days": 1440,
            "weeks": 10_080, "months": 43_200}


def alert(record: dict) -> dict:
    """AlertResponse: the kept fields, ``seen`` from ``isSeen``, the integration flattened; nothing else."""
    out = {k: record[k] for k in ALERT_KEPT if k in record}
    out["seen"] = record.get("isSeen")
    integration = record.get("integration") or {}
    out["integrationType"] = integration.get("type")
    out["integrationName"] = integration.get("name")
    return out


def alert_log(record: dict) -> dict:
    """AlertLog: ``logTime`` is the classic ``createdAt``, ``logType`` its ``type``; no cursor field."""
    return {"logTime": record["createdAt"], "logType": record["type"], "log": record["log"],
            "owner": record["owner"]}


def note_id(offset: str) -> str:
    """A note's JSM id: the part of its classic offset token after ``_`` (``ms * 10**6 + seq``)."""
    return offset.partition("_")[2]


def alert_note(record: dict) -> dict:
    """AlertNote: ``id`` from the offset token; a note is never edited, so ``updatedAt`` is ``createdAt``."""
    return {"id": note_id(record["offset"]), "createdAt": record["createdAt"],
            "updatedAt": record["createdAt"], "note": record["note"], "owner": record["owner"]}


def entry_blob(entry: Entry, stream: str) -> bytes:
    """JSON bytes of one log entry (``stream="logs"``) or note as the JSM side serves it."""
    return encode(alert_log(entry.record) if stream == "logs" else alert_note(entry.record)).encode()


def team(record: dict) -> dict:
    """PlatformTeamDto."""
    return {"teamId": record["id"], "teamName": record["name"]}


def _participant(p: dict) -> dict:
    """ResponderInfo: ``type`` and ``id`` only; the classic ``none`` is the reference's ``noone`` (id null)."""
    kind = p.get("type")
    if kind in ("none", "noone", None):
        return {"type": "noone", "id": None}
    return {"type": kind, "id": p.get("id")}


def _rotation(r: dict) -> dict:
    return {"id": r.get("id"), "name": r.get("name"), "startDate": r.get("startDate"), "endDate": r.get("endDate"),
            "type": r.get("type"), "length": r.get("length"),
            "participants": [_participant(p) for p in r.get("participants") or ()],
            "timeRestriction": r.get("timeRestriction")}


def schedule(record: dict, rotations: bool) -> dict:
    """Schedule: ``teamId`` from ``ownerTeam.id``; rotations only when asked for (``expand=rotation``)."""
    return {"id": record.get("id"), "name": record.get("name"), "description": record.get("description"),
            "timezone": record.get("timezone"), "enabled": record.get("enabled"),
            "teamId": (record.get("ownerTeam") or {}).get("id"),
            "rotations": [_rotation(r) for r in record.get("rotations") or ()] if rotations else []}


def delay_minutes(delay: Any) -> int | None:
    """A classic ``{timeAmount, timeUnit}`` delay as whole minutes (rounded up); an int stays as it is."""
    if delay is None or isinstance(delay, int):
        return delay
    amount = delay.get("timeAmount") or 0
    unit = (delay.get("timeUnit") or "minutes").lower()
    if unit not in _MINUTES:
        raise ValueError(f"unknown escalation delay unit {unit!r}")
    return math.ceil(amount * _MINUTES[unit])


def _recipient(r: dict | None) -> dict | None:
    return None if r is None else {"id": r.get("id"), "type": r.get("type")}


def escalation(record: dict) -> dict:
    """EscalationResponse: no team field; ``enabled`` true unless the record says otherwise; delays in minutes."""
    rules = [{"condition": r.get("condition"), "notifyType": r.get("notifyType"),
              "delay": delay_minutes(r.get("delay")), "recipient": _recipient(r.get("recipient"))}
             for r in record.get("rules") or ()]
    enabled = record.get("enabled")
    return {"id": record.get("id"), "name": record.get("name"), "description": record.get("description"),
            "rules": rules, "enabled": True if enabled is None else enabled, "repeat": record.get("repeat")}


def heartbeat_status(record: dict) -> str:
    """Off when disabled; Unresponsive when expired; Pending when never pinged; else Responsive."""
    if not record.get("enabled"):
        return "Off"
    if record.get("expired"):
        return "Unresponsive"
    if record.get("lastPingTime") is None:
        return "Pending"
    return "Responsive"


def heartbeat(record: dict) -> dict:
    """Heartbeat: capitalised ``intervalUnit``, a ``status`` instead of ``expired``/``lastPingTime``."""
    unit = record.get("intervalUnit")
    return {"name": record.get("name"), "description": record.get("description"),
            "interval": record.get("interval"), "intervalUnit": unit.capitalize() if unit else unit,
            "enabled": record.get("enabled"), "status": heartbeat_status(record),
            "ownerTeamId": (record.get("ownerTeam") or {}).get("id"), "alertMessage": record.get("alertMessage"),
            "alertTags": record.get("alertTags"), "alertPriority": record.get("alertPriority")}


def integration(record: dict) -> dict:
    """IntegrationDetail: no apiKey, version or advanced."""
    return {"id": record.get("id"), "name": record.get("name"), "type": record.get("type"),
            "enabled": record.get("enabled"), "teamId": record.get("teamId")}


# --------------------------------------------------------------------------
# Cached renderings per table snapshot
# --------------------------------------------------------------------------


def alert_blob(table: Table, pos: int) -> bytes:
    """JSON bytes of the alert at ``pos``, rendered on first use and kept with the snapshot.

    Lazy per record: a fake with 200,000 alerts pays only for the alerts a client reads.
    """
    cache: list[bytes | None] = table.derived("jsm:alerts", lambda: [None] * len(table.blobs))
    blob = cache[pos]
    if blob is None:
        blob = cache[pos] = encode(alert(json.loads(table.blobs[pos]))).encode()
    return blob


def rendered(table: Table, name: str, render: Callable[[dict], Any]) -> list[tuple[dict, Any]]:
    """``(classic record, render(record))`` per record of a small table, once per snapshot."""
    def compute() -> list[tuple[dict, Any]]:
        rows = [json.loads(b) for b in table.blobs]
        return [(row, render(row)) for row in rows]
    return table.derived("jsm:" + name, compute)


def sort_keys(table: Table, name: str) -> list:
    """Sort key per alert for ``lastOccurredAt`` (epoch ms, nulls first) or ``priority`` (text)."""
    def compute() -> list:
        values = table.values(name)
        if name == "lastOccurredAt":
            return [parse_ms(v) if v else -1 for v in values]
        return ["" if v is None else str(v) for v in values]
    return table.derived("jsm:sort:" + name, compute)


def blob(make: Callable[[dict], dict]) -> Callable[[dict], bytes]:
    """``make`` with its result as JSON bytes."""
    return lambda row: encode(make(row)).encode()


_PER_TEAM = {"escalations": escalation, "heartbeats": heartbeat}


def by_team(table: Table, resource: str) -> list[tuple[str | None, dict, bytes]]:
    """(owner team id, classic record, JSM bytes) per escalation or heartbeat, in table order."""
    rows = rendered(table, resource + "-blobs", blob(_PER_TEAM[resource]))
    return [((row.get("ownerTeam") or {}).get("id"), row, b) for row, b in rows]


def name_matches(name: str | None, query: str | None) -> bool:
    """Schedules' ``query``: exact, case-insensitive; a trailing ``*`` makes it a prefix match."""
    if query is None:
        return True
    name, query = (name or "").lower(), query.lower()
    return name.startswith(query[:-1]) if query.endswith("*") else name == query


def select_alerts(table: Table, terms: tuple, sort: str, order: str) -> list[int]:
    """Alert positions matching ``terms`` in the JSM sort; ``insertedAt`` is creation order."""
    if sort in ("createdAt", "insertedAt"):
        return select(table, terms, "createdAt", order)
    keys = sort_keys(table, sort)
    positions = sorted(select(table, terms, "createdAt", "asc"), key=lambda i: (keys[i], i))
    return positions[::-1] if order == "desc" else positions


def records(tables: "Tables", children: "Children", resource: str) -> list[dict]:
    """Every record of a JSM resource as served: the truth a warehouse filled from the JSM side must hold."""
    if resource == "alerts":
        table = tables.table("alerts")
        return [json.loads(alert_blob(table, i)) for i in range(len(table.blobs))]
    if resource in ("alert_logs", "alert_notes"):
        stream = "logs" if resource == "alert_logs" else "notes"
        table, rows = tables.table("alerts"), []
        for pos in range(len(table.blobs)):
            parent = table.row(pos)
            timeline = children.timeline(parent)
            for e in timeline.logs if stream == "logs" else timeline.notes:
                rows.append({"alert_id": parent["id"], **json.loads(entry_blob(e, stream))})
        return rows
    if resource == "teams":
        return [t for _, t in rendered(tables.table("teams"), "teams", team)]
    if resource == "schedules":
        return [schedule(json.loads(b), True) for b in tables.table("schedules").blobs]
    if resource in _PER_TEAM:
        owned = by_team(tables.table(resource), resource)
        return [json.loads(b) for tid in tables.table("teams").columns["id"] for t, _, b in owned if t == tid]
    if resource == "integrations":
        return [json.loads(b) for _, b in rendered(tables.table("integrations"), "integrations-blobs",
                                                   blob(integration))]
    raise KeyError(resource)
