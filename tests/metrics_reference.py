"""The response metrics of docs/metrics.md, computed in plain Python from the API's records.

A second, independent reading of the document: the tests build the four tables in the warehouse
and compare every column with what this module computes from the fake API's truth (records as
the API gives them, camelCase, child rows carrying `alert_id`). Nothing here reads the SQL.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterable, Mapping, Optional
from zoneinfo import ZoneInfo

from airflow_provider_analytics.metrics.working_hours import WorkingHours

Row = dict[str, Any]

#: The log's events by the start of their text, compared case-insensitively (docs/metrics.md).
STARTS = {
    "acknowledged": "alert acknowledged",
    "unacknowledged": "alert unacknowledged",
    "closed": "alert closed",
    "reopened": "alert reopened",
}
ESCALATED = "escalated"


def instant(text: Optional[str]) -> Optional[datetime]:
    """An API time (ISO 8601, UTC) as an aware datetime; None stays None."""
    if text is None:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def required_instant(text: str) -> datetime:
    """An API time that every record has (`createdAt`)."""
    moment = instant(text)
    assert moment is not None, "a record without createdAt"
    return moment


def seconds_between(start: Optional[datetime], end: Optional[datetime]) -> Optional[float]:
    if start is None or end is None:
        return None
    return (end - start) / timedelta(seconds=1)


def is_outside(moment: datetime, hours: WorkingHours) -> bool:
    """Outside working hours: by the local weekday and the local time of day, to the minute."""
    local = moment.astimezone(ZoneInfo(hours.time_zone))
    minute = local.hour * 60 + local.minute
    if hours.start_minute < hours.end_minute:
        in_hours = hours.start_minute <= minute < hours.end_minute
    else:
        in_hours = minute >= hours.start_minute or minute < hours.end_minute
    return not (local.isoweekday() in hours.days and in_hours)


def local_day(moment: datetime, hours: WorkingHours) -> date:
    return moment.astimezone(ZoneInfo(hours.time_zone)).date()


def local_week(moment: datetime, hours: WorkingHours) -> date:
    """The Monday of the local week `moment` falls in."""
    day = local_day(moment, hours)
    return day - timedelta(days=day.isoweekday() - 1)


def percentile_cont(values: Iterable[float], fraction: float) -> Optional[float]:
    """SQL's `percentile_cont`: linear interpolation between the two closest ranks; None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def event_kinds(text: Optional[str]) -> set[str]:
    """The events one log entry records (an entry may mention an escalation besides its start)."""
    lowered = (text or "").lower()
    kinds = {kind for kind, start in STARTS.items() if lowered.startswith(start)}
    if ESCALATED in lowered:
        kinds.add("escalated")
    return kinds


def alert_row(alert: Row, logs: list[Row], recipients: Optional[set[str]], team_names: Mapping[str, Optional[str]],
              hours: WorkingHours) -> Row:
    """One `alert_response` row from an alert, its log entries and its recipients' user ids."""
    created = required_instant(alert["createdAt"])
    report = alert.get("report") or {}
    timeline = sorted(logs, key=lambda entry: (instant(entry["createdAt"]), entry["offset"]))
    kinds = [(entry, event_kinds(entry.get("log"))) for entry in timeline]
    acks = [entry for entry, k in kinds if "acknowledged" in k]
    closes = [entry for entry, k in kinds if "closed" in k]

    acknowledged_at, acknowledged_by = None, None
    if acks:
        acknowledged_at, acknowledged_by = instant(acks[0]["createdAt"]), acks[0].get("owner")
    elif report.get("ackTime") is not None:
        acknowledged_at = created + timedelta(milliseconds=report["ackTime"])
        acknowledged_by = report.get("acknowledgedBy")

    closed_at, closed_by = None, None
    if alert.get("status") == "closed":
        if closes:
            closed_at, closed_by = instant(closes[-1]["createdAt"]), closes[-1].get("owner")
        elif report.get("closeTime") is not None:
            closed_at = created + timedelta(milliseconds=report["closeTime"])
            closed_by = report.get("closedBy")
        else:
            closed_at = instant(alert.get("updatedAt"))

    to_ack, to_close = seconds_between(created, acknowledged_at), seconds_between(created, closed_at)
    acted = [s for s in (to_ack, to_close) if s is not None]
    team_id = alert.get("ownerTeamId")
    return {
        "alert_id": alert["id"], "tiny_id": alert.get("tinyId"), "priority": alert.get("priority"),
        "source": alert.get("source"), "status": alert.get("status"), "created_at": created,
        "team_id": team_id, "team_name": team_names.get(team_id) if team_id is not None else None,
        "created_day": local_day(created, hours),
        "created_outside_working_hours": is_outside(created, hours),
        "first_acknowledged_at": acknowledged_at, "acknowledged_by": acknowledged_by,
        "closed_at": closed_at, "closed_by": closed_by,
        "seconds_to_acknowledge": to_ack, "seconds_to_close": to_close,
        "seconds_to_respond": min(acted) if acted else None,
        "escalations": sum(1 for _, k in kinds if "escalated" in k),
        "notified_recipients": len(recipients) if recipients else None,
        "times_reopened": sum(1 for _, k in kinds if k & {"unacknowledged", "reopened"}),
    }


def daily_rows(alerts: list[Row]) -> list[Row]:
    """`response_daily`: one row per local creation day, team and priority."""
    groups: dict[tuple, list[Row]] = defaultdict(list)
    for row in alerts:
        groups[(row["created_day"], row["team_id"], row["priority"])].append(row)
    out = []
    for (day, team_id, priority), rows in groups.items():
        acked = [r["seconds_to_acknowledge"] for r in rows if r["first_acknowledged_at"] is not None]
        closed = [r["seconds_to_close"] for r in rows if r["closed_at"] is not None]
        out.append({
            "day": day, "team_id": team_id, "team_name": rows[0]["team_name"], "priority": priority,
            "alerts_created": len(rows), "alerts_acknowledged": len(acked), "alerts_closed": len(closed),
            "median_seconds_to_acknowledge": percentile_cont(acked, 0.5),
            "p90_seconds_to_acknowledge": percentile_cont(acked, 0.9),
            "median_seconds_to_close": percentile_cont(closed, 0.5),
            "p90_seconds_to_close": percentile_cont(closed, 0.9),
            "share_created_outside_working_hours": sum(r["created_outside_working_hours"] for r in rows) / len(rows),
        })
    return out


def oncall_rows(alerts: list[Row], recipients: Iterable[Row], users: list[Row], hours: WorkingHours) -> list[Row]:
    """`oncall_load`: per user and local week, the alerts they were notified of, acknowledged and closed.

    A recipient is placed by its user id (its username NULL when `users` does not know it); an
    acknowledgement or close goes to every user whose username is the name on it, and to nobody else.
    """
    username_of = {u["id"]: u.get("username") for u in users}
    ids_of: dict[str, list[str]] = defaultdict(list)
    for user in users:
        if user.get("username") is not None:
            ids_of[user["username"]].append(user["id"])
    created = {a["alert_id"]: a["created_at"] for a in alerts}
    events: list[tuple[str, str, datetime]] = []  # (user id, event, moment)
    for row in recipients:
        if row["alert_id"] in created:
            events.append((row["user_id"], "notified", created[row["alert_id"]]))
    for alert in alerts:
        for user_id in ids_of.get(alert["acknowledged_by"], ()):
            events.append((user_id, "acknowledged", alert["first_acknowledged_at"]))
        for user_id in ids_of.get(alert["closed_by"], ()):
            events.append((user_id, "closed", alert["closed_at"]))
    groups: dict[tuple[str, date], Row] = {}
    for user_id, event, moment in events:
        key = (user_id, local_week(moment, hours))
        row = groups.setdefault(key, {
            "user_id": user_id, "username": username_of.get(user_id), "week_start": key[1],
            **{f"alerts_{e}": 0 for e in ("notified", "acknowledged", "closed")},
            **{f"{e}_outside_working_hours": 0 for e in ("notified", "acknowledged", "closed")},
        })
        row[f"alerts_{event}"] += 1
        row[f"{event}_outside_working_hours"] += int(is_outside(moment, hours))
    return list(groups.values())


def incident_row(incident: Row, team_names: Mapping[str, Optional[str]]) -> Row:
    """One `incident_response` row: resolution and close from `updatedAt`, by status."""
    created, updated = required_instant(incident["createdAt"]), instant(incident.get("updatedAt"))
    impact = instant(incident.get("impactStartDate")) or created
    status = incident.get("status")
    resolved_at = updated if status in ("resolved", "closed") else None
    closed_at = updated if status == "closed" else None
    team_id = incident.get("ownerTeam")
    return {
        "incident_id": incident["id"], "tiny_id": incident.get("tinyId"), "message": incident.get("message"),
        "priority": incident.get("priority"), "status": status, "created_at": created,
        "team_id": team_id, "team_name": team_names.get(team_id) if team_id is not None else None,
        "impact_started_at": impact, "resolved_at": resolved_at, "closed_at": closed_at,
        "seconds_impact_to_created": seconds_between(impact, created),
        "seconds_impact_to_resolved": seconds_between(impact, resolved_at),
        "seconds_impact_to_closed": seconds_between(impact, closed_at),
    }


def metric_tables(sources: Mapping[str, Optional[list[Row]]], hours: WorkingHours) -> dict[str, list[Row]]:
    """The four tables from the live source records; a source that is None was never synced (read as empty).

    :param sources: `alerts`, `alert_logs`, `alert_recipients`, `incidents`, `teams`, `users`, as the
        API's records (rows marked deleted left out of the first four; teams and users with all theirs).
    """
    teams, users = sources.get("teams") or [], sources.get("users") or []
    team_names = {t["id"]: t.get("name") for t in teams}
    logs: dict[str, list[Row]] = defaultdict(list)
    for entry in sources.get("alert_logs") or []:
        logs[entry["alert_id"]].append(entry)
    recipients = sources.get("alert_recipients") or []
    recipients_of: dict[str, set[str]] = defaultdict(set)
    for row in recipients:
        recipients_of[row["alert_id"]].add(row["user_id"])
    alerts = [alert_row(a, logs.get(a["id"], []), recipients_of.get(a["id"]), team_names, hours)
              for a in sources["alerts"] or []]
    tables = {
        "alert_response": alerts,
        "response_daily": daily_rows(alerts),
        "oncall_load": oncall_rows(alerts, recipients, users, hours),
        "incident_response": [incident_row(i, team_names) for i in sources.get("incidents") or []],
    }
    for table, rows in tables.items():
        assert all(set(row) == set(COLUMNS[table]) for row in rows), table
    return tables


#: Every column of each table, as docs/metrics.md lists them.
COLUMNS = {
    "alert_response": (
        "alert_id", "tiny_id", "priority", "source", "status", "created_at", "team_id", "team_name", "created_day",
        "created_outside_working_hours", "first_acknowledged_at", "acknowledged_by", "closed_at", "closed_by",
        "seconds_to_acknowledge", "seconds_to_close", "seconds_to_respond", "escalations", "notified_recipients",
        "times_reopened",
    ),
    "response_daily": (
        "day", "team_id", "team_name", "priority", "alerts_created", "alerts_acknowledged", "alerts_closed",
        "median_seconds_to_acknowledge", "p90_seconds_to_acknowledge", "median_seconds_to_close",
        "p90_seconds_to_close", "share_created_outside_working_hours",
    ),
    "oncall_load": (
        "user_id", "username", "week_start", "alerts_notified", "alerts_acknowledged", "alerts_closed",
        "notified_outside_working_hours", "acknowledged_outside_working_hours", "closed_outside_working_hours",
    ),
    "incident_response": (
        "incident_id", "tiny_id", "message", "priority", "status", "created_at", "team_id", "team_name",
        "impact_started_at", "resolved_at", "closed_at", "seconds_impact_to_created", "seconds_impact_to_resolved",
        "seconds_impact_to_closed",
    ),
}

#: The columns that identify a row of each table.
KEYS = {
    "alert_response": ("alert_id",),
    "response_daily": ("day", "team_id", "priority"),
    "oncall_load": ("user_id", "week_start"),
    "incident_response": ("incident_id",),
}
