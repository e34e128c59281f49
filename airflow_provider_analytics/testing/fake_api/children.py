"""Records that hang off a parent: an alert's logs, notes and recipients, and team membership.

An alert's timeline (its logs, notes and recipients) is drawn on first request from the alert's
record and an RNG seeded from the fake's seed and the alert's id, then cached, so a fake with
200,000 alerts starts as fast as before and every timeline is still a pure function of the seed
and the sizes. The timeline agrees with its alert: one log entry "Alert created" at createdAt;
when the alert was acknowledged, an entry at createdAt + report.ackTime by report.acknowledgedBy;
when closed, one at createdAt + report.closeTime; every entry and note at or before updatedAt.
Recipients are members of the alert's owner team (plus whoever acknowledged it).

Log and note ``offset`` tokens are written as upstream writes them, ``<ms>_<ms * 10**6 + seq>``
(``1704067241030_1704067241030000003``): fixed-width digits, so they sort, as strings and as
numbers, by createdAt and then by the order entries were written; unique per alert.

Team membership starts as :func:`.data.assign_membership` draws it from the generated users and
teams; ``GET /v2/teams/{id}`` (members) and ``GET /v2/users/{id}/teams`` are two views of it.
"""

from __future__ import annotations

import bisect
import json
import random
import re
import threading
from dataclasses import dataclass, replace
from typing import Any, Iterable, NamedTuple

from .data import COLUMNS, PARENTS, encode, iso_ms, parse_ms
from .store import Tables

#: What an offset token looks like; anything else is refused (422).
OFFSET_RE = re.compile(r"^(\d{1,19})_(\d{1,25})$")

_METHODS = ("Email", "SMS", "Voice", "Mobile")
_NOTES = (
    "Looking into it", "Restarted the service", "Rolled back the last deploy", "Paged the database on-call",
    "Root cause: disk filled by debug logs", "Waiting for the cloud provider", "Watching it after the fix",
    "Customer impact confirmed", "False positive, tuning the threshold",
)
_OTHER_LOGS = (
    ("Alert description updated", "system"), ("Tags added to the alert", "system"),
    ("Alert escalated to the next level", "system"), ("Alert viewed on mobile", "alertRecipient"),
    ("Priority changed", "system"),
)


class Entry(NamedTuple):
    """One log entry or note: its sort key, the API record, and the record's JSON bytes."""

    key: tuple[int, int]
    record: dict
    blob: bytes


@dataclass(frozen=True)
class Timeline:
    """One alert's logs and notes (ascending by offset) and recipients; replaced, never changed."""

    logs: tuple[Entry, ...]
    notes: tuple[Entry, ...]
    recipients: tuple[dict, ...]
    next_seq: int


def offset_of(ms: int, seq: int) -> tuple[tuple[int, int], str]:
    """(sort key, offset token) of the ``seq``-th entry written at ``ms``."""
    second = ms * 1_000_000 + seq
    return (ms, second), f"{ms}_{second:019d}"


def parse_offset(text: str) -> tuple[int, int]:
    """An offset token -> its sort key; ValueError if it is not one."""
    m = OFFSET_RE.match(text)
    if not m:
        raise ValueError(text)
    return int(m.group(1)), int(m.group(2))


def _log(key: tuple[int, int], offset: str, ms: int, log: str, kind: str, owner: str) -> Entry:
    record = {"log": log, "type": kind, "owner": owner, "createdAt": iso_ms(ms), "offset": offset}
    return Entry(key, record, encode(record).encode())


def _note(key: tuple[int, int], offset: str, ms: int, note: str, owner: str) -> Entry:
    record = {"note": note, "owner": owner, "createdAt": iso_ms(ms), "offset": offset}
    return Entry(key, record, encode(record).encode())


def draw_timeline(seed: int, alert: dict, base_members: dict, base_users: dict[str, str],
                  username_to_id: dict[str, str]) -> Timeline:
    """The generated logs, notes and recipients of one alert: a pure function of seed and record.

    :param base_members: team id -> ((user id, role), ...), the generated membership.
    :param base_users: user id -> username of the generated users.
    :param username_to_id: username -> user id of the generated users.
    """
    rng = random.Random(f"{seed}:timeline:{alert['id']}")
    created, updated = parse_ms(alert["createdAt"]), parse_ms(alert["updatedAt"])
    span = max(0, updated - created)
    report = alert.get("report") or {}
    closed = alert.get("status") == "closed"
    acked = bool(alert.get("acknowledged")) or "ackTime" in report

    # recipients: 1-4 members of the owner team (any user when the team has none), and the acknowledger
    pool = [uid for uid, _ in base_members.get(alert.get("ownerTeamId"), ()) if uid in base_users]
    pool = pool or list(base_users)
    chosen = rng.sample(pool, min(len(pool), 1 + int(rng.random() * 4))) if pool else []
    acked_by = report.get("acknowledgedBy") or (alert.get("owner") or None if acked else None)
    ack_uid = username_to_id.get(acked_by) if acked_by else None
    if ack_uid and ack_uid not in chosen:
        chosen = chosen[:3] + [ack_uid]
    closed_by = report.get("closedBy")
    ack_ms = created + int(report.get("ackTime", 0))
    close_ms = created + int(report.get("closeTime", span if closed else 0))

    events: list[tuple[int, str, tuple]] = []  # (ms, "log"/"note", fields); sorted stably below
    source = alert.get("source") or "API"
    events.append((created, "log", (f"Alert created via {source}", "system", alert.get("user") or "System")))
    recipients = []
    for uid in chosen:
        username = base_users[uid]
        sent = created + min(span, int(rng.random() * 60_000))
        method = rng.choice(_METHODS)
        events.append((sent, "log", (f"[{method}] notification sent to {username}", "alertRecipient", username)))
        if uid == ack_uid:
            state, how, changed = "action", "Acknowledge", ack_ms
        elif closed and closed_by == username:
            state, how, changed = "action", "Close", close_ms
        elif acked and rng.random() < 0.5:
            state, how, changed = "notactive", "", sent
        else:
            state, how, changed = "sent", method, sent
        recipients.append({"user": {"id": uid, "username": username}, "state": state, "method": how,
                           "createdAt": iso_ms(created), "updatedAt": iso_ms(max(changed, created))})
    if acked:
        events.append((ack_ms, "log", ("Alert acknowledged via web", "system", acked_by or "System")))
    if closed:
        events.append((close_ms, "log", ("Alert closed via web", "system", closed_by or "System")))
    count = int(alert.get("count") or 1)
    if count > 1 and alert.get("lastOccurredAt"):
        last = min(updated, max(created, parse_ms(alert["lastOccurredAt"])))
        events.append((last, "log", (f"Alert deduplicated, count is now {count}", "system", "System")))
    for _ in range(int(rng.random() * 3)):
        text, kind = rng.choice(_OTHER_LOGS)
        events.append((created + int(rng.random() * span), "log", (text, kind, rng.choice(
            [base_users[u] for u in chosen] or ["System"]))))
    if rng.random() < 0.45:
        for _ in range(1 + int(rng.random() * 3)):
            owner = rng.choice([base_users[u] for u in chosen] or ["System"])
            events.append((created + int(rng.random() * span), "note", (rng.choice(_NOTES), owner)))

    events.sort(key=lambda e: e[0])
    logs, notes = [], []
    for seq, (ms, stream, fields) in enumerate(events):
        key, offset = offset_of(ms, seq)
        if stream == "log":
            logs.append(_log(key, offset, ms, *fields))
        else:
            notes.append(_note(key, offset, ms, *fields))
    return Timeline(tuple(logs), tuple(notes), tuple(recipients), len(events))


def window(entries: tuple[Entry, ...], offset: tuple[int, int] | None, direction: str, order: str,
           limit: int) -> tuple[list[Entry], bool]:
    """One page of ``entries`` (ascending) in ``order``, after (``next``) or before (``prev``) ``offset``.

    Returns the page in listing order and whether entries follow its last one.
    """
    n = len(entries)
    keys = [e.key for e in entries]
    if order == "asc":
        if offset is None:
            return list(entries[:limit]), limit < n
        if direction == "next":
            i = bisect.bisect_right(keys, offset)
            return list(entries[i:i + limit]), i + limit < n
        j = bisect.bisect_left(keys, offset)
        return list(entries[max(0, j - limit):j]), j < n
    if offset is None:
        return list(entries[::-1][:limit]), limit < n
    if direction == "next":
        j = bisect.bisect_left(keys, offset)
        return list(entries[max(0, j - limit):j][::-1]), j - limit > 0
    i = bisect.bisect_right(keys, offset)
    return list(entries[i:i + limit][::-1]), i > 0


class Children:
    """The child records of one fake: alert timelines (lazy, cached) and the current team membership."""

    def __init__(self, tables: Tables):
        self.tables = tables
        self._timelines: dict[str, Timeline] = {}
        self._members: dict[str, tuple[tuple[str, str], ...]] | None = None
        self._lock = threading.Lock()

    # -- alerts ----------------------------------------------------------------

    def timeline(self, alert: dict) -> Timeline:
        """The timeline of an alert record, drawn from it on first use."""
        found = self._timelines.get(alert["id"])
        if found is not None:
            return found
        with self._lock:
            return self._timeline_locked(alert)

    def _timeline_locked(self, alert: dict) -> Timeline:
        found = self._timelines.get(alert["id"])
        if found is None:
            base = self.tables.base()
            found = draw_timeline(self.tables.seed, alert, base.members, base.id_to_username, base.username_to_id)
            self._timelines[alert["id"]] = found
        return found

    def find_alert(self, identifier: str, identifier_type: str = "id") -> dict:
        """The alert with this id, tiny id or alias (the newest one holding the alias); KeyError if none."""
        table = self.tables.table("alerts")
        if identifier_type == "id":
            return table.row(table.position(identifier))
        if identifier_type == "tiny":
            if not identifier.isdigit():
                raise KeyError(identifier)
            return table.row(table.index("tinyId")[int(identifier)])
        return table.row(table.index("alias")[identifier])

    def update_alert(self, index_or_id: int | str, fields: dict[str, Any]) -> dict:
        """Change an alert; its timeline gets a log entry and a note at the new updatedAt.

        The entry says what changed as upstream words it: ``Alert closed``, ``Alert reopened`` (closed to
        open), ``Alert acknowledged``, ``Alert unacknowledged``, else ``Alert updated: <fields>``.
        """
        with self._lock:
            old = self.tables.row("alerts", index_or_id)
            timeline = self._timeline_locked(old)
            new = self.tables.update("alerts", index_or_id, **fields)
            changed = [k for k in fields if k != "updatedAt" and old.get(k) != new.get(k)] or \
                [k for k in fields if k != "updatedAt"]
            if fields.get("status") == "closed" and old.get("status") != "closed":
                text = "Alert closed"
            elif old.get("status") == "closed" and fields.get("status", "closed") != "closed":
                text = "Alert reopened"
            elif "acknowledged" in fields and bool(fields["acknowledged"]) != bool(old.get("acknowledged")):
                text = "Alert acknowledged" if fields["acknowledged"] else "Alert unacknowledged"
            elif changed:
                text = "Alert updated: " + ", ".join(changed)
            else:
                text = "Alert updated"
            ms = parse_ms(new["updatedAt"])
            owner = new.get("owner") or "System"
            what = ", ".join(changed) or "the alert"
            self._timelines[new["id"]], _ = self._append(
                timeline, [("log", ms, (text, "system", owner)),
                           ("note", ms, (f"Note added after the change of {what}", owner))])
            return new

    def append(self, alert_id: str, stream: str, n: int) -> list[dict]:
        """Add ``n`` log entries (``stream="logs"``) or notes to an alert, after all earlier ones.

        They are spread between the alert's latest entry and its updatedAt, so they stay within the
        alert's life and their offsets come after every earlier one.
        """
        with self._lock:
            alert = self.tables.row("alerts", alert_id)
            timeline = self._timeline_locked(alert)
            entries = timeline.logs if stream == "logs" else timeline.notes
            updated = parse_ms(alert["updatedAt"])
            last = max([e.key[0] for e in entries] + [parse_ms(alert["createdAt"])])
            last = min(last, updated)
            events: list[tuple[str, int, tuple]] = []
            for k in range(n):
                ms = last + (updated - last) * (k + 1) // n
                if stream == "logs":
                    events.append(("log", ms, (f"Alert escalated to the next level ({k + 1}/{n})", "system", "System")))
                else:
                    events.append(("note", ms, (f"Follow-up {k + 1} of {n}", alert.get("owner") or "System")))
            self._timelines[alert_id], added = self._append(timeline, events)
            return [dict(e.record) for e in added]

    @staticmethod
    def _append(timeline: Timeline, events: list[tuple[str, int, tuple]]) -> tuple[Timeline, list[Entry]]:
        """A copy of ``timeline`` with ``events`` written next, and the new entries."""
        logs, notes, seq, added = list(timeline.logs), list(timeline.notes), timeline.next_seq, []
        for stream, ms, fields in events:
            key, offset = offset_of(ms, seq)
            seq += 1
            entry = _log(key, offset, ms, *fields) if stream == "log" else _note(key, offset, ms, *fields)
            bisect.insort(logs if stream == "log" else notes, entry, key=lambda e: e.key)
            added.append(entry)
        return replace(timeline, logs=tuple(logs), notes=tuple(notes), next_seq=seq), added

    def forget(self, alert_id: str) -> None:
        """Drop the timeline of a removed alert."""
        with self._lock:
            self._timelines.pop(alert_id, None)

    # -- membership --------------------------------------------------------------

    def members(self) -> dict[str, tuple[tuple[str, str], ...]]:
        """Team id -> ((user id, role), ...): the current membership."""
        members = self._members
        return members if members is not None else self.tables.base().members

    def set_team_members(self, team_id: str, members: Iterable[tuple[str, str]]) -> None:
        """Replace the members of a team; KeyError for an unknown team or user."""
        members = tuple((str(uid), str(role)) for uid, role in members)
        teams, users = self.tables.table("teams"), self.tables.table("users")
        teams.position(team_id)
        for uid, role in members:
            users.position(uid)
            if not role:
                raise ValueError("a member needs a role ('admin' or 'user')")
        if len({uid for uid, _ in members}) != len(members):
            raise ValueError("a user can be a member of a team once")
        with self._lock:
            current = dict(self.members())
            current[team_id] = members
            self._members = current

    def find_user(self, identifier: str) -> dict:
        """A user by id or username; KeyError if none."""
        table = self.tables.table("users")
        try:
            return table.row(table.position(identifier))
        except KeyError:
            return table.row(table.index("username")[identifier])

    def find_team(self, identifier: str, identifier_type: str = "id") -> dict:
        """A team by id or name; KeyError if none."""
        table = self.tables.table("teams")
        if identifier_type == "name":
            return table.row(table.index("name")[identifier])
        return table.row(table.position(identifier))

    def team_members(self, team_id: str) -> list[dict]:
        """Members of a team as ``GET /v2/teams/{id}`` serves them: ``{user: {id, username}, role}``."""
        users = self.tables.table("users")
        usernames = users.derived("usernames", lambda: dict(zip(users.columns["id"], users.values("username"))))
        return [{"user": {"id": uid, "username": usernames[uid]}, "role": role}
                for uid, role in self.members().get(team_id, ()) if uid in usernames]

    def user_teams(self, user_id: str) -> list[dict]:
        """Teams of a user as ``GET /v2/users/{id}/teams`` serves them: ``{id, name}``, in team order."""
        teams = self.tables.table("teams")
        names = teams.derived("names", lambda: teams.values("name"))
        members = self.members()
        return [{"id": tid, "name": name} for tid, name in zip(teams.columns["id"], names)
                if any(uid == user_id for uid, _ in members.get(tid, ()))]

    # -- inspection --------------------------------------------------------------

    def children(self, resource: str, parent_id: str) -> list[dict]:
        """The API records of one parent as served (logs and notes ascending by offset); KeyError if none."""
        if resource in ("alert_logs", "alert_notes", "alert_recipients"):
            timeline = self.timeline(self.find_alert(parent_id))
            if resource == "alert_recipients":
                return json.loads(json.dumps(list(timeline.recipients)))
            entries = timeline.logs if resource == "alert_logs" else timeline.notes
            return [json.loads(e.blob) for e in entries]
        if resource == "user_teams":
            return self.user_teams(self.find_user(parent_id)["id"])
        if resource == "team_members":
            return self.team_members(self.find_team(parent_id)["id"])
        raise KeyError(f"not a child resource: {resource!r}; the child resources are {', '.join(PARENTS)}")

    def records(self, resource: str) -> list[dict]:
        """Rows of a child table as the warehouse should hold them: parents in order, then children."""
        rows: list[dict] = []
        if resource in ("alert_logs", "alert_notes", "alert_recipients"):
            table = self.tables.table("alerts")
            for pos in range(len(table.blobs)):
                alert = table.row(pos)
                timeline = self.timeline(alert)
                if resource == "alert_recipients":
                    for r in timeline.recipients:
                        rows.append({"alert_id": alert["id"], "user_id": r["user"]["id"], "user": dict(r["user"]),
                                     "state": r["state"], "method": r["method"], "createdAt": r["createdAt"],
                                     "updatedAt": r["updatedAt"]})
                    continue
                for e in (timeline.logs if resource == "alert_logs" else timeline.notes):
                    rows.append({"alert_id": alert["id"], **{k: e.record[k] for k in COLUMNS[resource][1:]}})
        elif resource == "user_teams":
            for uid in self.tables.table("users").columns["id"]:
                rows.extend({"user_id": uid, "team_id": t["id"], "name": t["name"]} for t in self.user_teams(uid))
        elif resource == "team_members":
            for tid in self.tables.table("teams").columns["id"]:
                rows.extend({"team_id": tid, "user_id": m["user"]["id"], "user": m["user"], "role": m["role"]}
                            for m in self.team_members(tid))
        else:
            raise KeyError(f"not a child resource: {resource!r}")
        return rows
