"""Record generation for the fake API: deterministic pools, timestamps and one generator per resource.

Records come out as JSON text, so the store can serve them without encoding them again. The
records that hang off a parent (an alert's logs, notes and recipients; team membership) are
built in :mod:`.children` from the parent's record; their table shapes are declared here.
"""

from __future__ import annotations

import json
import random
import re
import time
from datetime import datetime, timezone
from typing import Any, Callable

DEFAULT_SIZES: dict[str, int] = {
    "users": 120,
    "teams": 12,
    "services": 60,
    "integrations": 25,
    "incidents": 300,
    "alerts": 1000,
    "schedules": 15,
    "escalations": 10,
    "heartbeats": 20,
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

#: The columns of every warehouse table, in order: the six resources above hold the API's records
#: as they are; schedules, escalations and heartbeats too (nested objects and lists are json
#: columns); the child tables add their parent's id (and the child's own key) to the API's record.
COLUMNS: dict[str, tuple[str, ...]] = {
    **FIELDS,
    "schedules": ("id", "name", "description", "timezone", "enabled", "ownerTeam", "rotations"),
    "escalations": ("id", "name", "description", "ownerTeam", "rules", "repeat"),
    "heartbeats": (
        "name", "description", "interval", "enabled", "intervalUnit", "expired", "lastPingTime",
        "ownerTeam", "alertMessage", "alertTags", "alertPriority",
    ),
    "alert_logs": ("alert_id", "offset", "log", "type", "owner", "createdAt"),
    "alert_notes": ("alert_id", "offset", "note", "owner", "createdAt"),
    "alert_recipients": ("alert_id", "user_id", "user", "state", "method", "createdAt", "updatedAt"),
    "user_teams": ("user_id", "team_id", "name"),
    "team_members": ("team_id", "user_id", "user", "role"),
}

#: The key columns of every table (never null).
KEYS: dict[str, tuple[str, ...]] = {
    **{name: ("id",) for name in COLUMNS},
    "heartbeats": ("name",),
    "alert_logs": ("alert_id", "offset"),
    "alert_notes": ("alert_id", "offset"),
    "alert_recipients": ("alert_id", "user_id"),
    "user_teams": ("user_id", "team_id"),
    "team_members": ("team_id", "user_id"),
}

#: Tables read one parent record at a time, and the resource of their parent.
PARENTS: dict[str, str] = {
    "alert_logs": "alerts",
    "alert_notes": "alerts",
    "alert_recipients": "alerts",
    "user_teams": "users",
    "team_members": "teams",
}

#: Generated records are created within [START_MS, START_MS + SPAN_MS).
START_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z
SPAN_MS = 366 * 86_400_000

#: Fields holding times: ISO strings in records, epoch ms in key columns and queries.
TIME_FIELDS = ("createdAt", "updatedAt")


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


def now_ms() -> int:
    """The current time in epoch ms."""
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

#: Compact JSON text of a value, as the upstream sends it.
encode = json.JSONEncoder(separators=(",", ":")).encode


def _fixed_pool(make: Callable[[random.Random], Any], n: int = 64) -> tuple[str, ...]:
    """JSON texts of ``n`` values from a fixed-seed RNG (same for every fake)."""
    rng = random.Random("pool")
    return tuple(encode(make(rng)) for _ in range(n))


_TAG_LISTS = _fixed_pool(lambda r: r.sample(_TAGS, r.randrange(4)))
_ALERT_TAGS = ("[]",) * 3 + tuple(encode([t, g]) for t in _TAGS for g in _REGIONS)
_ACTION_LISTS = tuple(encode(list(a)) for a in _ACTIONS)
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


def spread(rng: random.Random, index: int, size: int) -> int:
    """createdAt of record ``index`` of ``size``: increasing, spread over SPAN_MS."""
    step = SPAN_MS / max(size, 1)
    return _jitter_ms(rng, START_MS + int(index * step + rng.random() * step))


def _later(rng: random.Random, ms: int, max_ms: int) -> int:
    """A time at or after ``ms`` (often equal: many records never change)."""
    if rng.random() < 0.3:
        return ms
    return max(ms, _jitter_ms(rng, ms + int(rng.random() ** 3 * max_ms)))


class Context:
    """Cross references (rows of other resources) plus pre-encoded fragments."""

    def __init__(self, teams: list[dict], users: list[dict], services: list[dict],
                 integrations: list[dict], schedules: list[dict] | None = None,
                 members: dict[str, tuple[tuple[str, str], ...]] | None = None):
        self.teams, self.users, self.services, self.integrations = teams, users, services, integrations
        self.schedules = schedules or []
        #: team id -> ((user id, role), ...): the generated membership (schedules, escalations)
        self.members = members or {}
        self.user_by_id = {u["id"]: u for u in users}
        # alerts: ownerTeamId, responders, visibleTo, teams in one fragment per team
        self.alert_teams = [
            '"ownerTeamId":"%s","responders":[{"id":"%s","type":"team"}],'
            '"visibleTo":[{"id":"%s","name":%s,"type":"team"}],"teams":[{"id":"%s"}]'
            % (t["id"], t["id"], t["id"], encode(t["name"]), t["id"]) for t in teams
        ] or ['"ownerTeamId":null,"responders":[],"visibleTo":[],"teams":[]']
        self.incident_teams = [(encode(t["id"]), '{"id":"%s","type":"team"}' % t["id"]) for t in teams]
        self.usernames = [encode(u["username"]) for u in users] or ["null"]
        self.user_responders = ['{"id":"%s","type":"user"}' % u["id"] for u in users]
        self.integration_parts = [
            (encode({"id": g["id"], "name": g["name"], "type": g["type"]}), encode(g["name"]),
             encode(g["type"])) for g in integrations
        ] or [("null", '"api"', "null")]
        self.service_ids = [encode(s["id"]) for s in services]


def _gen_team(rng: random.Random, i: int, ctx: Context, created: int) -> _Generated:
    tid = _uuid(rng)
    base = _TEAMS[i % len(_TEAMS)]
    name = base if i < len(_TEAMS) else f"{base}-{i}"
    return encode({
        "id": tid, "name": name, "description": rng.choice((f"The {base} team", "", None)),
        "links": {"web": f"https://app.opsgenie.com/teams/dashboard/{tid}/main",
                  "api": f"https://api.opsgenie.com/v2/teams/{tid}"},
    }), tid, created, None


def _gen_user(rng: random.Random, i: int, ctx: Context, created: int) -> _Generated:
    uid = _uuid(rng)
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    role = rng.choice(_ROLES) if rng.random() < 0.9 else {"id": _uuid(rng), "name": "Responder"}
    details = ({"department": [rng.choice(("Engineering", "Support", "Ops"))],
                "phone": ["+1 555 %04d" % rng.randrange(10000)]} if rng.random() < 0.6 else {})
    return encode({
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


def _gen_service(rng: random.Random, i: int, ctx: Context, created: int) -> _Generated:
    sid = _uuid(rng)
    name = f"{rng.choice(_NOUNS)}-{rng.choice(_KINDS)}-{i}"
    return encode({
        "id": sid,
        "name": name,
        "description": rng.choice((f"Runs {name}", "", None)),
        "teamId": rng.choice(ctx.teams)["id"] if ctx.teams else None,
        "isExternal": rng.random() < 0.15,
        "tags": rng.sample(_TAGS, rng.randrange(3)),
        "links": {"web": f"https://app.opsgenie.com/service/{sid}",
                  "api": f"https://api.opsgenie.com/v1/services/{sid}"},
    }), sid, created, None


def _gen_integration(rng: random.Random, i: int, ctx: Context, created: int) -> _Generated:
    gid = _uuid(rng)
    kind = rng.choice(_INTEGRATION_TYPES)
    team = rng.choice(ctx.teams) if ctx.teams and rng.random() < 0.7 else None
    return encode({
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


def _gen_incident(rng: random.Random, i: int, ctx: Context, created: int) -> _Generated:
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


def _gen_alert(rng: random.Random, i: int, ctx: Context, created: int) -> _Generated:
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


# --------------------------------------------------------------------------
# Team membership, schedules, escalations, heartbeats
# --------------------------------------------------------------------------


def assign_membership(seed: int, users: list[dict], teams: list[dict]) -> dict[str, tuple[tuple[str, str], ...]]:
    """Team id -> ((user id, role), ...) in user order: each user in 1-3 teams, every team with a member.

    A pure function of the seed and the generated users and teams. Roles are the spec's
    TeamMember roles, ``admin`` or ``user``.
    """
    rng = random.Random(f"{seed}:membership")
    members: dict[str, list[tuple[str, str]]] = {t["id"]: [] for t in teams}
    if not teams:
        return {}
    counts: dict[str, int] = {}
    for user in users:
        k = min(len(teams), 1 + (rng.random() < 0.45) + (rng.random() < 0.2))
        for t in sorted(rng.sample(range(len(teams)), k)):
            members[teams[t]["id"]].append((user["id"], "admin" if rng.random() < 0.15 else "user"))
        counts[user["id"]] = k
    order = {u["id"]: i for i, u in enumerate(users)}
    for team in teams:  # a team nobody drew gets the user in the fewest teams, as its admin
        if not members[team["id"]] and users:
            uid = min(counts, key=lambda u: (counts[u], order[u]))
            members[team["id"]].append((uid, "admin"))
            counts[uid] += 1
    return {tid: tuple(sorted(m, key=lambda x: order[x[0]])) for tid, m in members.items()}


def _team_meta(team: dict | None) -> dict | None:
    return {"id": team["id"], "name": team["name"]} if team else None


def _members_of(ctx: Context, team: dict | None) -> list[dict]:
    """The generated members of a team, as user rows."""
    if not team:
        return []
    return [ctx.user_by_id[uid] for uid, _ in ctx.members.get(team["id"], ()) if uid in ctx.user_by_id]


def _half_hour(rng: random.Random) -> int:
    """A time in the span on a whole half hour (rotations start on :00 or :30, as the spec says)."""
    return START_MS + rng.randrange(SPAN_MS // 1_800_000) * 1_800_000


_ROTATION_TYPES = ("daily", "weekly", "hourly")
_RESTRICTIONS = (
    None,
    None,
    {"type": "time-of-day", "restriction": {"startHour": 9, "startMin": 0, "endHour": 17, "endMin": 0}},
    {"type": "weekday-and-time-of-day", "restrictions": [
        {"startDay": "monday", "startHour": 8, "startMin": 0, "endDay": "friday", "endHour": 18, "endMin": 0}]},
    {"type": "weekday-and-time-of-day", "restrictions": [
        {"startDay": "saturday", "startHour": 0, "startMin": 0, "endDay": "sunday", "endHour": 23, "endMin": 30}]},
)


def _gen_schedule(rng: random.Random, i: int, ctx: Context, created: int) -> _Generated:
    sid = _uuid(rng)
    team = ctx.teams[i % len(ctx.teams)] if ctx.teams else None
    base = team["name"] if team else "global"
    name = f"{base}_schedule" if ctx.teams and i < len(ctx.teams) else f"{base}_schedule_{i}"
    pool = _members_of(ctx, team) or ctx.users
    rotations = []
    for r in range(1 + (rng.random() < 0.5) + (rng.random() < 0.2)):
        kind = rng.choice(_ROTATION_TYPES)
        start = _half_hour(rng)
        participants = [{"type": "user", "id": u["id"], "username": u["username"]}
                        for u in rng.sample(pool, min(len(pool), 1 + rng.randrange(3)))]
        rotations.append({
            "id": _uuid(rng),
            "name": f"{kind.title()} rotation {r + 1}",
            "startDate": iso_ms(start),
            "endDate": iso_ms(start + rng.randrange(7, 120) * _DAY_MS) if rng.random() < 0.4 else None,
            "type": kind,
            "length": rng.choice((1, 1, 1, 2, 3)),
            "participants": participants or [{"type": "none"}],
            "timeRestriction": rng.choice(_RESTRICTIONS),
        })
    return encode({
        "id": sid,
        "name": name,
        "description": rng.choice((f"On-call of the {base} team", "", None)),
        "timezone": rng.choice(_ZONES),
        "enabled": rng.random() < 0.9,
        "ownerTeam": _team_meta(team),
        "rotations": rotations,
    }), sid, created, None


_NOTIFY_TYPES = {"user": ("default",), "team": ("default", "users", "admins", "all"),
                 "schedule": ("default", "next", "previous")}


def _gen_escalation(rng: random.Random, i: int, ctx: Context, created: int) -> _Generated:
    eid = _uuid(rng)
    team = ctx.teams[i % len(ctx.teams)] if ctx.teams else None
    base = team["name"] if team else "global"
    name = f"{base}_escalation" if ctx.teams and i < len(ctx.teams) else f"{base}_escalation_{i}"
    owned = [s for s in ctx.schedules if team and (s.get("ownerTeam") or {}).get("id") == team["id"]]
    members = _members_of(ctx, team)
    rules, delay = [], 0
    for _ in range(1 + (rng.random() < 0.6) + (rng.random() < 0.3)):
        pools = (("schedule", owned or ctx.schedules), ("team", team), ("user", members or ctx.users))
        choices = [k for k, ok in pools if ok]
        kind = rng.choice(choices) if choices else "none"
        if kind == "schedule":
            target = rng.choice(owned or ctx.schedules)
            recipient = {"type": "schedule", "id": target["id"], "name": target["name"]}
        elif kind == "team":
            recipient = {"type": "team", "id": team["id"], "name": team["name"]}  # type: ignore[index]
        elif kind == "user":
            target = rng.choice(members or ctx.users)
            recipient = {"type": "user", "id": target["id"], "username": target["username"]}
        else:
            recipient = {"type": "none"}
        rules.append({
            "condition": "if-not-acked" if rng.random() < 0.8 else "if-not-closed",
            "notifyType": rng.choice(_NOTIFY_TYPES.get(kind, ("default",))),
            "delay": {"timeAmount": delay, "timeUnit": "minutes"},
            "recipient": recipient,
        })
        delay += rng.choice((5, 10, 15, 30))
    return encode({
        "id": eid,
        "name": name,
        "description": rng.choice((f"Escalation of the {base} team", "", None)),
        "ownerTeam": _team_meta(team),
        "rules": rules,
        "repeat": {
            "waitInterval": rng.choice((0, 5, 10, 30)),
            "count": rng.randrange(4),
            "resetRecipientStates": rng.random() < 0.5,
            "closeAlertAfterAll": rng.random() < 0.2,
        },
    }), eid, created, None


_INTERVALS = {"minutes": (1, 5, 10, 15, 30), "hours": (1, 2, 6, 12), "days": (1, 7)}
_UNIT_MS = {"minutes": 60_000, "hours": 3_600_000, "days": _DAY_MS}


def _gen_heartbeat(rng: random.Random, i: int, ctx: Context, created: int) -> _Generated:
    noun, kind = rng.choice(_NOUNS), rng.choice(_KINDS)
    name = f"{noun}-{kind}-{i}"
    unit = rng.choice(("minutes", "minutes", "hours", "days"))
    interval = rng.choice(_INTERVALS[unit])
    enabled = rng.random() < 0.85
    never = rng.random() < 0.1
    team = rng.choice(ctx.teams) if ctx.teams and rng.random() < 0.9 else None
    return encode({
        "name": name,
        "description": rng.choice((f"Liveness of {noun} {kind}", "", None)),
        "interval": interval,
        "enabled": enabled,
        "intervalUnit": unit,
        "expired": enabled and (never or rng.random() < 0.2),
        "lastPingTime": None if never else iso_ms(_jitter_ms(rng, created + rng.randrange(interval * _UNIT_MS[unit]))),
        "ownerTeam": _team_meta(team),
        "alertMessage": f"{name} is expired" if rng.random() < 0.7 else f"No heartbeat from {noun} {kind}",
        "alertTags": rng.sample(_TAGS, rng.randrange(3)),
        "alertPriority": rng.choice(("P3", "P3", "P3", "P1", "P2", "P4", "P5")),
    }), name, created, None


Generator = Callable[[random.Random, int, Context, int], _Generated]
#: The generator of each resource.
GENERATORS: dict[str, Generator] = {
    "teams": _gen_team,
    "users": _gen_user,
    "services": _gen_service,
    "integrations": _gen_integration,
    "incidents": _gen_incident,
    "alerts": _gen_alert,
    "schedules": _gen_schedule,
    "escalations": _gen_escalation,
    "heartbeats": _gen_heartbeat,
}
#: Resources whose rows a generator refers to.
DEPENDS: dict[str, tuple[str, ...]] = {
    "teams": (), "users": (), "services": ("teams",), "integrations": ("teams",),
    "incidents": ("teams", "users", "services"), "alerts": ("teams", "users", "integrations"),
    "schedules": ("teams", "users"), "escalations": ("teams", "users", "schedules"), "heartbeats": ("teams",),
}
