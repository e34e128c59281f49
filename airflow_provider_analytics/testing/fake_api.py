"""A fast, faithful fake of the upstream (OpsGenie-shaped) REST API.

The fake is a real HTTP/1.1 server on a loopback address, so the provider's
whole stack (session, auth, retries, paginators, dlt) runs unchanged against
it. It mirrors the facts in the shared API notes:

* Endpoints: ``GET /v2/users``, ``/v2/teams``, ``/v1/services``,
  ``/v2/integrations``, ``/v1/incidents``, ``/v2/alerts``. Anything else is a
  404 JSON error.
* Auth: ``Authorization: GenieKey <key>`` (the API's own scheme) and also a
  bare key in a header named ``api_key`` (``api_key: <key>``), because the
  seed config sends the key that way (``name: api_key, location: header``).
  A missing or wrong key gives 401 ``{"message": "Could not authenticate"}``.
* Envelope: every body has ``took`` and ``requestId``; lists carry
  ``data`` and absolute ``paging`` links (also as ``X-Paging-*`` headers);
  users and incidents add ``totalCount``; teams and integrations are one
  unpaginated list (integrations add ``"code": 200``).
* Paging: ``limit`` (clamped to ``max_limit``), ``offset``, ``sort``,
  ``order``. Alerts, incidents and services refuse ``offset + limit`` above
  ``offset_cap`` with 422, and their ``next`` link disappears where the cap
  would be crossed, so a client that only follows ``next`` stops there
  silently, as upstream.
* ``query`` on alerts and incidents: terms joined by `` AND ``, either
  ``createdAt>=<epoch ms>`` style ranges (``createdAt``/``updatedAt`` with
  ``>=``, ``>``, ``<=``, ``<``) or ``field:value`` equality.

Speed matters because benchmarks run against it: every record is serialised
to JSON once and pages are joined from those bytes; sorted and filtered
index lists are cached until the data changes.

Tests can change the data (:meth:`FakeAnalyticsAPI.update`, ``add``,
``remove``), slow every request (``latency``) or inject replies through
``faults``: callables that get a :class:`FakeRequest` and return a
:class:`FakeReply` to send instead (any status, headers and body, after a
delay, or a dropped connection), or ``None`` to pass.

Command line (serves until SIGINT/SIGTERM, prints the base URL first)::

    python -m airflow_provider_analytics.testing.fake_api --port 8080 \\
        --api-key KEY --alerts 30000 --incidents 5000 --seed 0
"""

from __future__ import annotations

import argparse
import bisect
import http
import ipaddress
import json
import random
import re
import signal
import socket
import socketserver
import sys
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable
from urllib.parse import parse_qsl, quote

__all__ = [
    "DEFAULT_SIZES",
    "FIELDS",
    "FakeAnalyticsAPI",
    "FakeReply",
    "FakeRequest",
    "Fault",
    "QueryError",
    "RESOURCES",
    "iso_ms",
    "main",
    "parse_ms",
    "parse_query",
]

DEFAULT_SIZES: dict[str, int] = {
    "users": 120,
    "teams": 12,
    "services": 60,
    "integrations": 25,
    "incidents": 300,
    "alerts": 1000,
}

#: Every field a record of each resource carries (all may be null upstream).
FIELDS: dict[str, tuple[str, ...]] = {
    "users": (
        "id", "username", "fullName", "role", "timeZone", "locale",
        "userAddress", "tags", "details", "blocked", "verified",
        "invitationDisabled", "skypeUsername", "createdAt",
    ),
    "teams": ("id", "name", "description", "links"),
    "services": ("id", "name", "description", "teamId", "isExternal", "tags", "links"),
    "integrations": ("id", "name", "enabled", "type", "teamId", "version", "advanced"),
    "incidents": (
        "id", "tinyId", "message", "note", "description", "status", "tags",
        "priority", "ownerTeam", "responders", "impactedServices",
        "statusPageEntry", "extraProperties", "links", "impactStartDate",
        "actions", "notifyStakeholders", "createdAt", "updatedAt",
    ),
    "alerts": (
        "id", "tinyId", "alias", "message", "note", "status", "acknowledged",
        "seen", "isSeen", "tags", "snoozed", "snoozedUntil", "count",
        "lastOccurredAt", "source", "owner", "user", "priority", "ownerTeamId",
        "responders", "visibleTo", "teams", "integration", "report", "actions",
        "entity", "description", "details", "createdAt", "updatedAt",
    ),
}

#: Generated records are created within [START_MS, START_MS + SPAN_MS).
START_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z
SPAN_MS = 366 * 86_400_000

_TIME_FIELDS = ("createdAt", "updatedAt")
#: Key columns holding plain ints (nulls stored as -1), usable as sort keys directly.
_INT_COLUMNS = frozenset(_TIME_FIELDS + ("tinyId",))


@dataclass(frozen=True)
class _Spec:
    """How one resource is listed: paging, sorting, searching."""

    name: str
    path: str
    paginated: bool = True
    default_limit: int = 20
    sorts: tuple[str, ...] = ()
    default_sort: str = ""
    default_order: str = "desc"
    capped: bool = False
    total_count: bool = False
    searchable: bool = False
    code: bool = False


RESOURCES: dict[str, _Spec] = {
    s.name: s
    for s in (
        _Spec("users", "/v2/users", default_limit=100, sorts=("username", "fullName", "createdAt"),
              default_sort="username", default_order="asc", total_count=True),
        _Spec("teams", "/v2/teams", paginated=False),
        _Spec("services", "/v1/services", sorts=("name",), default_sort="name", capped=True),
        _Spec("integrations", "/v2/integrations", paginated=False, code=True),
        _Spec("incidents", "/v1/incidents", sorts=("createdAt", "tinyId", "updatedAt", "message", "status"),
              default_sort="createdAt", capped=True, total_count=True, searchable=True),
        _Spec("alerts", "/v2/alerts",
              sorts=("createdAt", "updatedAt", "tinyId", "count", "message", "status"),
              default_sort="createdAt", capped=True, searchable=True),
    )
}
_BY_PATH = {s.path: s for s in RESOURCES.values()}


# --------------------------------------------------------------------------
# Fault-injection hooks
# --------------------------------------------------------------------------


@dataclass
class FakeRequest:
    """What a fault sees of an incoming request."""

    method: str
    path: str
    query: dict[str, str]
    headers: Any  # email.message.Message: case-insensitive .get()


@dataclass
class FakeReply:
    """A reply a fault sends instead of the normal one.

    ``body`` may be bytes (sent as is, e.g. a broken body) or a JSON-able
    object; a dict gets ``took``/``requestId`` filled in when missing.
    """

    status: int
    body: bytes | dict | list | None = None
    headers: dict[str, str] = field(default_factory=dict)
    #: seconds to wait before answering (a slow upstream; longer than the client's timeout: a read timeout)
    delay: float = 0.0
    #: close the connection instead of answering (the client sees the connection aborted)
    drop: bool = False


Fault = Callable[[FakeRequest], "FakeReply | None"]


# --------------------------------------------------------------------------
# Timestamps
# --------------------------------------------------------------------------

_DAY_PREFIX: dict[int, str] = {}
_HOUR_MINUTE = tuple("%02d:%02d:" % divmod(m, 60) for m in range(1440))
_SECOND = tuple("%02d" % s for s in range(60))
_FRACTION = ("Z",) + tuple(("." + ("%03d" % f).rstrip("0") + "Z") for f in range(1, 1000))


def iso_ms(ms: int) -> str:
    """Epoch ms -> ISO-8601 UTC with trimmed fraction (``.03Z``, ``.926Z``, ``Z``).

    Built from lookup tables: it runs three times per generated alert.
    """
    sec = ms // 1000
    day = sec // 86_400
    rem = sec - day * 86_400
    prefix = _DAY_PREFIX.get(day)
    if prefix is None:
        prefix = _DAY_PREFIX[day] = time.strftime("%Y-%m-%dT", time.gmtime(day * 86_400))
    return prefix + _HOUR_MINUTE[rem // 60] + _SECOND[rem % 60] + _FRACTION[ms - sec * 1000]


def parse_ms(value: Any) -> int:
    """ISO-8601 string, datetime or epoch ms -> epoch ms (for mutations)."""
    if isinstance(value, bool):
        raise TypeError("not a timestamp: %r" % (value,))
    if isinstance(value, int):
        return value
    if isinstance(value, datetime):
        dt = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return int(round(dt.timestamp() * 1000))
    text = str(value).replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:  # fromisoformat wants 3 or 6 fraction digits on older Pythons
        digits = re.match(r"\d*", rest).group(0)  # type: ignore[union-attr]
        text = head + "." + (digits + "000000")[:6] + rest[len(digits):]
    return parse_ms(datetime.fromisoformat(text))


def _now_ms() -> int:
    return int(time.time() * 1000)


# --------------------------------------------------------------------------
# Record generation
#
# Generators return (json_text, id, updated_ms, status). The big resources (alerts,
# incidents) are rendered straight into JSON from pre-encoded fragments:
# building dicts and running json.dumps costs ~10x more, and 200k alerts
# must be ready in seconds. All pool strings are plain ASCII without quotes
# or backslashes, so they can be embedded without escaping.
# --------------------------------------------------------------------------

_FIRST = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
          "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yara")
_LAST = ("smith", "jones", "garcia", "miller", "davis", "lopez", "wilson", "anderson",
         "thomas", "moore", "martin", "lee", "perez", "white", "harris", "clark")
_ZONES = ("UTC", "Europe/London", "Europe/Berlin", "Europe/Istanbul", "America/New_York",
          "America/Los_Angeles", "Asia/Tokyo", "Australia/Sydney")
_LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "tr_TR", "ja_JP")
_ADDRESSES = (
    {"country": "US", "state": "CA", "city": "San Francisco", "line": "1 Market St", "zipCode": "94105"},
    {"country": "US", "state": "NY", "city": "New York", "line": "350 5th Ave", "zipCode": "10118"},
    {"country": "GB", "state": "", "city": "London", "line": "10 Downing St", "zipCode": "SW1A 2AA"},
    {"country": "DE", "state": "BE", "city": "Berlin", "line": "Unter den Linden 1", "zipCode": "10117"},
    {"country": "", "state": "", "city": "", "line": "", "zipCode": ""},
)
_ROLES = ({"id": "Owner", "name": "Owner"}, {"id": "Admin", "name": "Admin"},
          {"id": "User", "name": "User"}, {"id": "Stakeholder", "name": "Stakeholder"})
_TEAMS = ("platform", "payments", "search", "identity", "mobile", "data", "infra",
          "security", "frontend", "backend", "sre", "support")
_NOUNS = ("checkout", "billing", "catalog", "auth", "gateway", "ledger", "inventory",
          "notifications", "reports", "profile", "search", "cart", "shipping", "pricing")
_KINDS = ("api", "worker", "db", "cache", "queue", "web")
_INTEGRATION_TYPES = ("API", "Email", "Datadog", "Prometheus", "CloudWatch", "Grafana",
                      "Jira", "Slack", "Webhook", "Heartbeat")
_PROBLEMS = ("high CPU usage", "disk almost full", "5xx rate above threshold", "latency p99 over SLO",
             "health check failing", "memory pressure", "queue backlog growing",
             "certificate expires soon", "replication lag", "pod crash looping")
_TAGS = ("prod", "staging", "critical", "network", "database", "customer-facing",
         "eu", "us", "k8s", "oncall")
_REGIONS = ("eu-west-1", "us-east-1", "us-west-2", "ap-southeast-1")
_ACTIONS = ((), ("Restart",), ("Restart", "Rollback"), ("Ping",), ("Scale up", "Page DBA"))
_PRIORITIES = ("P1", "P2", "P3", "P3", "P3", "P4", "P4", "P5")
_BOOL = ("false", "true")
_DAY_MS = 86_400_000

_encode = json.JSONEncoder(separators=(",", ":")).encode


def _fixed_pool(make: Callable[[random.Random], Any], n: int = 64) -> tuple[str, ...]:
    """JSON texts of ``n`` values from a fixed-seed RNG (same for every fake)."""
    rng = random.Random("pool")
    return tuple(_encode(make(rng)) for _ in range(n))


_TAG_LISTS = _fixed_pool(lambda r: r.sample(_TAGS, r.randrange(4)))
_ALERT_TAGS = ("[]",) * 3 + tuple(_encode([t, g]) for t in _TAGS for g in _REGIONS)
_ACTION_LISTS = tuple(_encode(list(a)) for a in _ACTIONS)
_ENTITIES = tuple(f"{n}-{k:02d}" for n in _NOUNS for k in range(20))


#: (json_text, id, updated_ms, status) of one generated record.
_Generated = tuple[str, str, int, "str | None"]


def _uuid(rng: random.Random) -> str:
    h = "%032x" % rng.getrandbits(128)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def _jitter_ms(rng: random.Random, ms: int) -> int:
    """Round some times to the second or to 10 ms, so every trimmed form occurs."""
    kind = rng.random()
    if kind < 0.2:
        return ms - ms % 1000
    if kind < 0.5:
        return ms - ms % 10
    return ms


def _spread(rng: random.Random, index: int, size: int) -> int:
    """createdAt of record ``index`` of ``size``: increasing, spread over SPAN_MS."""
    step = SPAN_MS / max(size, 1)
    return _jitter_ms(rng, START_MS + int(index * step + rng.random() * step))


def _later(rng: random.Random, ms: int, max_ms: int) -> int:
    """A time at or after ``ms`` (often equal: many records never change)."""
    if rng.random() < 0.3:
        return ms
    return max(ms, _jitter_ms(rng, ms + int(rng.random() ** 3 * max_ms)))


class _Context:
    """Cross references (rows of other resources) plus pre-encoded fragments."""

    def __init__(self, teams: list[dict], users: list[dict], services: list[dict],
                 integrations: list[dict]):
        self.teams, self.users, self.services, self.integrations = teams, users, services, integrations
        # alerts: ownerTeamId, responders, visibleTo, teams in one fragment per team
        self.alert_teams = [
            '"ownerTeamId":"%s","responders":[{"id":"%s","type":"team"}],'
            '"visibleTo":[{"id":"%s","name":%s,"type":"team"}],"teams":[{"id":"%s"}]'
            % (t["id"], t["id"], t["id"], _encode(t["name"]), t["id"]) for t in teams
        ] or ['"ownerTeamId":null,"responders":[],"visibleTo":[],"teams":[]']
        self.incident_teams = [(_encode(t["id"]), '{"id":"%s","type":"team"}' % t["id"]) for t in teams]
        self.usernames = [_encode(u["username"]) for u in users] or ["null"]
        self.user_responders = ['{"id":"%s","type":"user"}' % u["id"] for u in users]
        self.integration_parts = [
            (_encode({"id": g["id"], "name": g["name"], "type": g["type"]}), _encode(g["name"]),
             _encode(g["type"])) for g in integrations
        ] or [("null", '"api"', "null")]
        self.service_ids = [_encode(s["id"]) for s in services]


def _gen_team(rng: random.Random, i: int, ctx: _Context, created: int) -> _Generated:
    tid = _uuid(rng)
    base = _TEAMS[i % len(_TEAMS)]
    name = base if i < len(_TEAMS) else f"{base}-{i}"
    return _encode({
        "id": tid, "name": name, "description": rng.choice((f"The {base} team", "", None)),
        "links": {"web": f"https://app.opsgenie.com/teams/dashboard/{tid}/main",
                  "api": f"https://api.opsgenie.com/v2/teams/{tid}"},
    }), tid, created, None


def _gen_user(rng: random.Random, i: int, ctx: _Context, created: int) -> _Generated:
    uid = _uuid(rng)
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    role = rng.choice(_ROLES) if rng.random() < 0.9 else {"id": _uuid(rng), "name": "Responder"}
    details = ({"department": [rng.choice(("Engineering", "Support", "Ops"))],
                "phone": ["+1 555 %04d" % rng.randrange(10000)]} if rng.random() < 0.6 else {})
    return _encode({
        "id": uid,
        "username": f"{first}.{last}{i}@example.com",
        "fullName": f"{first.title()} {last.title()}",
        "role": role,
        "timeZone": rng.choice(_ZONES),
        "locale": rng.choice(_LOCALES),
        "userAddress": rng.choice(_ADDRESSES) if rng.random() < 0.85 else None,
        "tags": rng.sample(_TAGS, rng.randrange(3)),
        "details": details,
        "blocked": rng.random() < 0.05,
        "verified": rng.random() < 0.9,
        "invitationDisabled": rng.random() < 0.1,
        "skypeUsername": f"{first}.{last}" if rng.random() < 0.3 else None,
        "createdAt": iso_ms(created),
    }), uid, created, None


def _gen_service(rng: random.Random, i: int, ctx: _Context, created: int) -> _Generated:
    sid = _uuid(rng)
    name = f"{rng.choice(_NOUNS)}-{rng.choice(_KINDS)}-{i}"
    return _encode({
        "id": sid,
        "name": name,
        "description": rng.choice((f"Runs {name}", "", None)),
        "teamId": rng.choice(ctx.teams)["id"] if ctx.teams else None,
        "isExternal": rng.random() < 0.15,
        "tags": rng.sample(_TAGS, rng.randrange(3)),
        "links": {"web": f"https://app.opsgenie.com/service/{sid}",
                  "api": f"https://api.opsgenie.com/v1/services/{sid}"},
    }), sid, created, None


def _gen_integration(rng: random.Random, i: int, ctx: _Context, created: int) -> _Generated:
    gid = _uuid(rng)
    kind = rng.choice(_INTEGRATION_TYPES)
    team = rng.choice(ctx.teams) if ctx.teams and rng.random() < 0.7 else None
    return _encode({
        "id": gid,
        "name": f"{kind} - {team['name'] if team else 'global'} {i}",
        "enabled": rng.random() < 0.85,
        "type": kind,
        "teamId": team["id"] if team else None,
        "version": rng.choice(("v1", "v2")),
        "advanced": rng.random() < 0.2,
    }), gid, created, None


_INCIDENT = (
    '{"id":"%s","tinyId":"%d","message":"%s degraded","note":%s,"description":%s,"status":"%s",'
    '"tags":%s,"priority":"%s","ownerTeam":%s,"responders":[%s],"impactedServices":[%s],'
    '"statusPageEntry":%s,"extraProperties":%s,"links":{"web":"https://app.opsgenie.com/incident/'
    'detail/%s","api":"https://api.opsgenie.com/v1/incidents/%s"},"impactStartDate":"%s",'
    '"actions":%s,"notifyStakeholders":%s,"createdAt":"%s","updatedAt":"%s"}'
)


def _gen_incident(rng: random.Random, i: int, ctx: _Context, created: int) -> _Generated:
    rnd = rng.random
    iid = _uuid(rng)
    updated = _later(rng, created, 5 * _DAY_MS)
    noun = _NOUNS[int(rnd() * len(_NOUNS))]
    owner, responders = "null", []
    if ctx.incident_teams:
        owner, team_responder = ctx.incident_teams[int(rnd() * len(ctx.incident_teams))]
        responders.append(team_responder)
    if ctx.user_responders and rnd() < 0.4:
        responders.append(ctx.user_responders[int(rnd() * len(ctx.user_responders))])
    services = ctx.service_ids[int(rnd() * len(ctx.service_ids)):][:int(rnd() * 4)]
    status = "open" if rnd() < 0.15 else ("resolved", "closed")[rnd() < 0.5]
    text = _INCIDENT % (
        iid, i + 1, noun,
        ("null", '""', '"Investigating %s"' % noun)[int(rnd() * 3)],
        "null" if rnd() < 0.4 else '"Customers report %s errors"' % noun,
        status,
        _TAG_LISTS[int(rnd() * len(_TAG_LISTS))],
        _PRIORITIES[int(rnd() * len(_PRIORITIES))],
        owner, ",".join(responders), ",".join(services),
        '{"title":"%s incident","detail":"We are investigating."}' % noun.title() if rnd() < 0.3 else "null",
        '{"region":"%s"}' % _REGIONS[int(rnd() * len(_REGIONS))] if rnd() < 0.5 else "{}",
        iid, iid,
        iso_ms(created - int(rnd() * 3_600_000)),
        _ACTION_LISTS[int(rnd() * len(_ACTION_LISTS))],
        _BOOL[rnd() < 0.3],
        iso_ms(created), iso_ms(updated),
    )
    return text, iid, updated, status


_ALERT = (
    '{"id":"%s","tinyId":"%d","alias":"%s:%s","message":"%s: %s","note":%s,"status":"%s",'
    '"acknowledged":%s,"seen":%s,"isSeen":%s,"tags":%s,"snoozed":%s,"snoozedUntil":%s,"count":%d,'
    '"lastOccurredAt":"%s","source":%s,"owner":%s,"user":%s,"priority":"%s",%s,"integration":%s,'
    '"report":{%s},"actions":%s,"entity":"%s","description":%s,"details":{"host":"%s","region":"%s",'
    '"runbook":"https://runbooks.example.com/%s"},"createdAt":"%s","updatedAt":"%s"}'
)


def _gen_alert(rng: random.Random, i: int, ctx: _Context, created: int) -> _Generated:
    rnd = rng.random
    aid = _uuid(rng)
    updated = _later(rng, created, 2 * _DAY_MS)
    integration, source, integration_type = ctx.integration_parts[int(rnd() * len(ctx.integration_parts))]
    user = ctx.usernames[int(rnd() * len(ctx.usernames))]
    closed = rnd() < 0.7
    acked = closed or rnd() < 0.3
    report = []
    if acked and updated > created:
        report.append('"ackTime":%d,"acknowledgedBy":%s' % (int((updated - created) * rnd()) + 1, user))
    if closed and updated > created:
        report.append('"closeTime":%d,"closedBy":%s' % (updated - created, user))
    snoozed = not closed and rnd() < 0.1
    count = 1 if rnd() < 0.6 else int(rnd() * 50) + 1
    entity = _ENTITIES[int(rnd() * len(_ENTITIES))]
    problem = _PROBLEMS[int(rnd() * len(_PROBLEMS))]
    region = _REGIONS[int(rnd() * len(_REGIONS))]
    last = created if count == 1 else created + int((updated - created) * rnd())
    text = _ALERT % (
        aid, i + 1, entity, problem.replace(" ", "-"), entity, problem,
        "null" if rnd() < 0.8 else '"Looking into it"',
        "closed" if closed else "open",
        _BOOL[acked], _BOOL[acked or rnd() < 0.5], _BOOL[acked or rnd() < 0.5],
        _ALERT_TAGS[int(rnd() * len(_ALERT_TAGS))],
        _BOOL[snoozed], '"%s"' % iso_ms(updated + 3_600_000) if snoozed else "null",
        count, iso_ms(last), source,
        user if acked else '""',
        integration_type if integration_type != "null" else user,
        _PRIORITIES[int(rnd() * len(_PRIORITIES))],
        ctx.alert_teams[int(rnd() * len(ctx.alert_teams))],
        integration, ",".join(report),
        _ACTION_LISTS[int(rnd() * len(_ACTION_LISTS))],
        entity,
        "null" if rnd() < 0.5 else '"%s on %s in %s"' % (problem, entity, region),
        entity, region, entity,
        iso_ms(created), iso_ms(updated),
    )
    return text, aid, updated, "closed" if closed else "open"


Generator = Callable[[random.Random, int, _Context, int], _Generated]
_GENERATORS: dict[str, Generator] = {
    "teams": _gen_team,
    "users": _gen_user,
    "services": _gen_service,
    "integrations": _gen_integration,
    "incidents": _gen_incident,
    "alerts": _gen_alert,
}
#: Resources whose rows a generator refers to.
_DEPENDS = {
    "teams": (), "users": (), "services": ("teams",), "integrations": ("teams",),
    "incidents": ("teams", "users", "services"), "alerts": ("teams", "users", "integrations"),
}


# --------------------------------------------------------------------------
# In-memory tables: JSON bytes per record plus key columns
# --------------------------------------------------------------------------


class _Table:
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
        self._keys: dict[str, list] = {}
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
        return [json.loads(b).get(name) for b in self.blobs]

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
        if self._ids is None:
            self._ids = {r: i for i, r in enumerate(self.columns["id"])}
        return self._ids[rid]

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
    """Key-column values of one record (for mutations)."""
    cols: dict[str, Any] = {"id": row.get("id")}
    for name in _TIME_FIELDS:
        if name in FIELDS[resource]:
            value = row.get(name)
            cols[name] = parse_ms(value) if value is not None else -1
    if "tinyId" in FIELDS[resource]:
        tiny = str(row.get("tinyId") or "")
        cols["tinyId"] = int(tiny) if tiny.isdigit() else -1
    if "status" in FIELDS[resource]:
        cols["status"] = row.get("status")
    return cols


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


# --------------------------------------------------------------------------
# Search queries
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Term:
    field: str
    op: str
    value: Any


class QueryError(ValueError):
    """A request parameter the API refuses: answered with 422."""


_TERM_RE = re.compile(r"^([A-Za-z_][\w.]*)\s*(>=|<=|>|<|:|=)\s*(.+)$")
_AND_RE = re.compile(r"\s+AND\s+", re.IGNORECASE)


def parse_query(text: str, resource: str) -> tuple[_Term, ...]:
    """``createdAt>=1 AND status:open`` -> terms; raises QueryError."""
    terms = []
    for part in _AND_RE.split(text.strip()):
        m = _TERM_RE.match(part.strip())
        if not m:
            raise QueryError(f"Invalid query term: {part!r}")
        name, op, raw = m.group(1), m.group(2), m.group(3).strip()
        if name not in FIELDS[resource]:
            raise QueryError(f"Unknown query field: {name!r}")
        if op in (":", "="):
            if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
                raw = raw[1:-1]
            elif any(c.isspace() for c in raw):
                raise QueryError(f"Unsupported query term: {part!r}")
            terms.append(_Term(name, ":", raw.lower()))
        else:
            if name not in _TIME_FIELDS:
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


def select(table: _Table, terms: tuple[_Term, ...], sort: str, order: str) -> list[int]:
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


# --------------------------------------------------------------------------
# Responses
# --------------------------------------------------------------------------

_PHRASES = {s.value: s.phrase for s in http.HTTPStatus}
_CONTENT_TYPE = "application/json"


def _envelope_tail(t0: float) -> bytes:
    """The ``took``/``requestId`` end of every body."""
    took = round(time.perf_counter() - t0, 3)
    return b'"took":%s,"requestId":"%s"}' % (repr(took).encode(), str(uuid.uuid4()).encode())


def _error(status: int, message: str, t0: float) -> tuple[int, dict[str, str], bytes]:
    return status, {}, b'{"message":' + _encode(message).encode() + b"," + _envelope_tail(t0)


def _int_param(params: dict[str, str], name: str, default: int) -> int:
    raw = params.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise QueryError(f"{name} should be an integer, got {raw!r}") from None
    if value < 0:
        raise QueryError(f"{name} should not be negative")
    return value


def _paging(base: str, spec: _Spec, limit: int, sort: str, order: str, query: str,
            offset: int, total: int, cap: int | None) -> dict[str, str]:
    """Absolute first/next/last links carrying the whole query."""
    tail = "&query=" + quote(query, safe="") if query else ""

    def link(off: int) -> str:
        return f"{base}{spec.path}?limit={limit}&sort={sort}&offset={off}&order={order}{tail}"

    last = (total - 1) // limit * limit if total else 0
    if cap is not None and last + limit > cap:
        last = max(0, (cap - limit) // limit * limit)
    paging = {}
    nxt = offset + limit
    if nxt < total and (cap is None or nxt + limit <= cap):
        paging["next"] = link(nxt)
    paging["first"] = link(0)
    paging["last"] = link(last)
    return paging


# --------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    """Keep-alive HTTP/1.1 handler; each reply goes out in one write."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "FakeAnalyticsAPI/1"
    server: "_Server"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Silence per-request stderr logging (it costs more than the reply)."""

    def do_GET(self) -> None:
        length = self.headers.get("Content-Length")
        if length:
            self.rfile.read(int(length))
        status, headers, body = self.server.api._respond(self.command, self.path, self.headers)
        if status == _DROPPED[0]:  # a fault asked to drop the connection: no reply at all
            self.close_connection = True
            return
        head = [f"HTTP/1.1 {status} {_PHRASES.get(status, 'Unknown')}\r\n"
                f"Content-Type: {_CONTENT_TYPE}\r\nContent-Length: {len(body)}\r\n"]
        for name, value in headers.items():
            if name.lower() == "connection" and value.lower() == "close":
                self.close_connection = True
            head.append(f"{name}: {value}\r\n")
        if self.close_connection and "Connection" not in headers:
            head.append("Connection: close\r\n")
        head.append("\r\n")
        self.wfile.write("".join(head).encode("latin-1") + body)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET


class _Server(ThreadingHTTPServer):
    """Threading server that knows its open connections, to close them on stop."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], api: "FakeAnalyticsAPI", family: int):
        self.address_family = family
        self.api = api
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn); skip it.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[0], self.server_address[1]

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._conns_lock:
            self._conns.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._conns_lock:
            self._conns.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up mid-reply is normal (timeouts, stop()); stay quiet."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)

    def close_connections(self) -> None:
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


# --------------------------------------------------------------------------
# The fake
# --------------------------------------------------------------------------


@dataclass
class _Store:
    size: int
    table: _Table | None = None
    rng: random.Random | None = None
    next_index: int = 0


class FakeAnalyticsAPI:
    """The upstream API over real HTTP on loopback, with deterministic data.

    Data for a resource is a pure function of ``seed``, the resource and
    ``sizes``; it is generated on first use (``start()`` generates all of it
    up front so the first request is as fast as the rest).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str = "test-key",
        sizes: dict[str, int] | None = None,
        seed: int = 0,
        max_limit: int = 100,
        offset_cap: int = 20000,
        latency: float = 0.0,
    ):
        if host == "localhost":
            host = "127.0.0.1"
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"the fake API binds loopback addresses only, not {host!r}")
        unknown = set(sizes or ()) - set(DEFAULT_SIZES)
        if unknown:
            raise ValueError(f"unknown resources in sizes: {sorted(unknown)}")
        self.host = host
        self.api_key = api_key
        self.seed = seed
        self.max_limit = max_limit
        self.offset_cap = offset_cap
        #: Seconds added to every request.
        self.latency = latency
        #: Callables consulted in order per request; the first reply wins.
        self.faults: list[Fault] = []
        self.sizes = {**DEFAULT_SIZES, **(sizes or {})}
        self._port = port
        self._stores = {name: _Store(size) for name, size in self.sizes.items()}
        self._lock = threading.RLock()
        self._log: list[tuple[str, str, int]] = []
        self._log_lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> "FakeAnalyticsAPI":
        """Generate the data and serve it from a daemon thread."""
        if self._server is not None:
            return self
        for name in RESOURCES:
            self._table(name)
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self._server = _Server((self.host, self._port), self, family)
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"fake-api-{self._port}", daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and drop open keep-alive connections."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=2)

    def __enter__(self) -> "FakeAnalyticsAPI":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._port}"

    # -- inspection --------------------------------------------------------

    def records(self, resource: str) -> list[dict]:
        """The full upstream dataset of ``resource`` (fresh copies, insertion order)."""
        return json.loads(b"[" + b",".join(self._table(resource).blobs) + b"]")

    @property
    def request_log(self) -> list[tuple[str, str, int]]:
        """(method, path with query, status) of every request handled so far."""
        with self._log_lock:
            return list(self._log)

    def reset_log(self) -> None:
        with self._log_lock:
            self._log.clear()

    # -- mutations ---------------------------------------------------------

    def update(self, resource: str, index_or_id: int | str, **fields: Any) -> dict:
        """Change fields of one record (by position or id); returns the new record.

        ``updatedAt`` moves to "now" (later than any existing time) unless
        given, as upstream does on any change. Time fields accept epoch ms,
        datetimes or ISO strings.
        """
        with self._lock:
            table = self._table(resource)
            if isinstance(index_or_id, int):
                pos = range(len(table.blobs))[index_or_id]
            else:
                pos = table.position(index_or_id)
            if "updatedAt" in FIELDS[resource] and "updatedAt" not in fields:
                fields["updatedAt"] = self._fresh_ms(table)
            row = table.row(pos)
            for name, value in fields.items():
                if name in _TIME_FIELDS and value is not None and not isinstance(value, str):
                    value = iso_ms(parse_ms(value))
                row[name] = value
            blobs = list(table.blobs)
            blobs[pos] = _encode(row).encode()
            columns = {k: list(v) for k, v in table.columns.items()}
            for name, value in _columns_of(resource, row).items():
                columns[name][pos] = value
            self._stores[resource].table = _Table(blobs, columns)
            return json.loads(blobs[pos])

    def add(self, resource: str, n: int = 1) -> list[dict]:
        """Append ``n`` new records created "now", later than every existing time."""
        with self._lock:
            table = self._table(resource)
            store = self._stores[resource]
            ctx = self._context(resource)
            gen, t0 = _GENERATORS[resource], self._fresh_ms(table)
            blobs = list(table.blobs)
            columns = {k: list(v) for k, v in table.columns.items()}
            added = []
            for k in range(n):
                text, _, _, _ = gen(store.rng, store.next_index, ctx, t0 + k)  # type: ignore[arg-type]
                store.next_index += 1
                row = _make_fresh(resource, json.loads(text), t0 + k)
                blobs.append(_encode(row).encode())
                for name, value in _columns_of(resource, row).items():
                    columns[name].append(value)
                added.append(row)
            store.table = _Table(blobs, columns)
            return added

    def remove(self, resource: str, id: str) -> dict:  # noqa: A002
        """Delete one record by id, as when it is deleted upstream; returns it."""
        with self._lock:
            table = self._table(resource)
            pos = table.position(id)
            blobs = table.blobs[:pos] + table.blobs[pos + 1:]
            columns = {k: v[:pos] + v[pos + 1:] for k, v in table.columns.items()}
            self._stores[resource].table = _Table(blobs, columns)
            return table.row(pos)

    # -- data --------------------------------------------------------------

    def _table(self, resource: str) -> _Table:
        store = self._stores[resource]
        table = store.table
        if table is None:
            with self._lock:
                if store.table is None:
                    self._generate(resource)
                table = store.table
        return table  # type: ignore[return-value]

    def _context(self, resource: str) -> _Context:
        deps = _DEPENDS[resource]
        rows = {name: [json.loads(b) for b in self._table(name).blobs] if name in deps else []
                for name in DEFAULT_SIZES}
        return _Context(rows["teams"], rows["users"], rows["services"], rows["integrations"])

    def _generate(self, resource: str) -> None:
        """Build a resource's records: a pure function of seed, resource and sizes."""
        store = self._stores[resource]
        ctx = self._context(resource)
        rng = random.Random(f"{self.seed}:{resource}")
        gen, size = _GENERATORS[resource], store.size
        blobs, ids, created, updated, statuses = [], [], [], [], []
        for i in range(size):
            c = _spread(rng, i, size)
            text, rid, u, status = gen(rng, i, ctx, c)
            blobs.append(text.encode())
            ids.append(rid)
            created.append(c)
            updated.append(u)
            statuses.append(status)
        columns: dict[str, list] = {"id": ids}
        if "createdAt" in FIELDS[resource]:
            columns["createdAt"] = created
        if "updatedAt" in FIELDS[resource]:
            columns["updatedAt"] = updated
        if "tinyId" in FIELDS[resource]:
            columns["tinyId"] = list(range(1, size + 1))
        if "status" in FIELDS[resource]:
            columns["status"] = statuses
        store.rng, store.next_index = rng, size
        store.table = _Table(blobs, columns)

    @staticmethod
    def _fresh_ms(table: _Table) -> int:
        """A "now" later than every time already in the table."""
        latest = max((max(table.columns[k], default=0) for k in _TIME_FIELDS if k in table.columns),
                     default=0)
        return max(_now_ms(), latest + 1)

    # -- request handling ---------------------------------------------------

    def _respond(self, method: str, raw_path: str, headers: Any) -> tuple[int, dict[str, str], bytes]:
        """Turn one request into (status, headers, body); never raises."""
        t0 = time.perf_counter()
        path, _, qs = raw_path.partition("?")
        params = dict(parse_qsl(qs, keep_blank_values=True))
        try:
            reply = self._fault(method, path, params, headers)
            if reply is not None:
                if reply.delay > 0:
                    time.sleep(reply.delay)
                result = _DROPPED if reply.drop else _render(reply, t0)
            else:
                result = self._route(method, path, params, headers, t0)
        except Exception as exc:  # surfaced to the client, like an upstream 500
            result = _error(500, f"Internal error in fake API: {exc!r}", t0)
        if self.latency > 0:
            time.sleep(self.latency)
        with self._log_lock:
            self._log.append((method, raw_path, result[0]))
        return result

    def _fault(self, method: str, path: str, params: dict[str, str], headers: Any) -> FakeReply | None:
        if not self.faults:
            return None
        request = FakeRequest(method, path, params, headers)
        for fault in list(self.faults):
            reply = fault(request)
            if reply is not None:
                return reply
        return None

    def _authorized(self, headers: Any) -> bool:
        auth = headers.get("Authorization") or ""
        scheme, _, key = auth.strip().partition(" ")
        if scheme.lower() == "geniekey" and key.strip() == self.api_key:
            return True
        return (headers.get("api_key") or "").strip() == self.api_key

    def _route(self, method: str, path: str, params: dict[str, str], headers: Any,
               t0: float) -> tuple[int, dict[str, str], bytes]:
        spec = _BY_PATH.get(path.rstrip("/") or "/")
        if spec is None:
            return _error(404, f"Could not find any resource at {path}", t0)
        if method != "GET":
            return _error(405, f"Method {method} is not allowed on {path}", t0)
        if not self._authorized(headers):
            return _error(401, "Could not authenticate", t0)
        table = self._table(spec.name)
        if not spec.paginated:
            head = b'{"code":200,"data":[' if spec.code else b'{"data":['
            return 200, {}, head + b",".join(table.blobs) + b"]," + _envelope_tail(t0)
        try:
            return self._page(spec, table, params, headers, t0)
        except QueryError as exc:
            return _error(422, str(exc), t0)

    def _page(self, spec: _Spec, table: _Table, params: dict[str, str], headers: Any,
              t0: float) -> tuple[int, dict[str, str], bytes]:
        limit = _int_param(params, "limit", spec.default_limit)
        offset = _int_param(params, "offset", 0)
        if limit < 1:
            raise QueryError("limit should be greater than 0")
        limit = min(limit, self.max_limit)
        sort = params.get("sort") or spec.default_sort
        if sort not in spec.sorts:
            raise QueryError(f"sort should be one of {', '.join(spec.sorts)}")
        order = (params.get("order") or spec.default_order).lower()
        if order not in ("asc", "desc"):
            raise QueryError("order should be asc or desc")
        cap = self.offset_cap if spec.capped else None
        if cap is not None and offset + limit > cap:
            raise QueryError(f"Sum of offset and limit should be lower than {cap}")
        query = params.get("query", "").strip() if spec.searchable else ""
        terms = parse_query(query, spec.name) if query else ()
        positions = table.cached((query, sort, order), lambda: select(table, terms, sort, order))
        blobs = table.blobs
        data = b",".join([blobs[i] for i in positions[offset:offset + limit]])
        host = headers.get("Host")
        base = f"http://{host}" if host else self.base_url
        paging = _paging(base, spec, limit, sort, order, query, offset, len(positions), cap)
        out_headers = {"X-Paging-" + k.title(): v for k, v in paging.items()}
        total = b',"totalCount":%d' % len(positions) if spec.total_count else b""
        body = b"".join((b'{"data":[', data, b'],"paging":', _encode(paging).encode(),
                         total, b",", _envelope_tail(t0)))
        return 200, out_headers, body


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


#: What `_respond` returns for a dropped connection (never a real status).
_DROPPED: tuple[int, dict[str, str], bytes] = (0, {}, b"")


def _render(reply: FakeReply, t0: float) -> tuple[int, dict[str, str], bytes]:
    """A fault's reply as (status, headers, body)."""
    body = reply.body
    if isinstance(body, dict):
        body = {**body}
        body.setdefault("took", round(time.perf_counter() - t0, 3))
        body.setdefault("requestId", str(uuid.uuid4()))
    if body is None:
        data = b""
    elif isinstance(body, bytes):
        data = body
    else:
        data = _encode(body).encode()
    return reply.status, dict(reply.headers), data


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Serve the fake until SIGINT/SIGTERM; print the base URL first."""
    parser = argparse.ArgumentParser(prog="python -m airflow_provider_analytics.testing.fake_api",
                                     description="Serve a fake of the upstream analytics API.")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    parser.add_argument("--api-key", default="test-key")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-limit", type=int, default=100)
    parser.add_argument("--offset-cap", type=int, default=20000)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    for name, size in DEFAULT_SIZES.items():
        parser.add_argument(f"--{name}", type=int, default=size, help=f"number of {name} (default {size})")
    args = parser.parse_args(argv)

    api = FakeAnalyticsAPI(
        host=args.host, port=args.port, api_key=args.api_key, seed=args.seed,
        sizes={name: getattr(args, name) for name in DEFAULT_SIZES},
        max_limit=args.max_limit, offset_cap=args.offset_cap, latency=args.latency,
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    api.start()
    print(api.base_url, flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        api.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
