"""The endpoints the fake API serves and how each one is listed, as the vendor's OpenAPI spec states.

The parameters (`sort` enums, `limit` ranges and defaults, default order, required `query`) follow
the list operations of the vendor's published spec (`opsgenie/opsgenie-oas`); a unit test checks
them against an extract of it kept in `tests/data/`. What the spec leaves open is a switch of
`FakeAnalyticsAPI` (see `server.py`), never a silent kindness here.

:data:`RESOURCES` are the listings at fixed paths; :data:`CHILDREN` the endpoints under one parent
record (`/v2/alerts/{identifier}/logs`, `/v2/teams/{identifier}`), each named after the table it fills.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Alerts' `sort` enum in the spec (List alerts).
ALERT_SORTS = (
    "createdAt", "updatedAt", "tinyId", "alias", "message", "status", "acknowledged", "isSeen", "snoozed",
    "snoozedUntil", "count", "lastOccurredAt", "source", "owner", "integration.name", "integration.type",
    "report.ackTime", "report.closeTime", "report.acknowledgedBy", "report.closedBy",
)
#: Incidents' `sort` enum in the spec (List incidents): no `updatedAt`.
INCIDENT_SORTS = ("createdAt", "tinyId", "message", "status", "isSeen", "owner")


@dataclass(frozen=True)
class Spec:
    """How one resource is listed: paging, sorting, searching.

    :param sort_param: the query parameter that names the sort field (users and services: `sortField`).
    :param max_limit: the spec's maximum `limit`: above it the API answers 422 (None: not stated; the
        server's `max_limit` clamps instead).
    :param query_required: the spec marks `query` required (incidents); whether a request without
        one is refused is the server's `incident_query_required` switch.
    """

    name: str
    path: str
    paginated: bool = True
    default_limit: int = 20
    sorts: tuple[str, ...] = ()
    default_sort: str = ""
    default_order: str = "desc"
    sort_param: str = "sort"
    max_limit: int | None = 100
    capped: bool = False
    total_count: bool = False
    searchable: bool = False
    query_required: bool = False
    code: bool = False
    #: the response's `expandable` list (teams: `member`, schedules: `rotation`); empty: no such field
    expandable: tuple[str, ...] = ()
    #: `expand` is checked (unknown values: 422) and `rotation` adds each schedule's rotations
    expand_param: bool = False
    #: the records sit in `data.<data_key>` (heartbeats: `data.heartbeats`), not in `data`
    data_key: str = ""


RESOURCES: dict[str, Spec] = {
    s.name: s
    for s in (
        # users: `sortField` named in prose only (username, fullName, insertedAt = createdAt here), order asc.
        Spec("users", "/v2/users", default_limit=100, sorts=("username", "fullName", "insertedAt"),
             default_sort="username", default_order="asc", sort_param="sortField", max_limit=None,
             total_count=True),
        Spec("teams", "/v2/teams", paginated=False, expandable=("member",)),
        # services: the spec reuses the users' parameters; the listing's own order (by name) is unverified.
        Spec("services", "/v1/services", default_limit=100, sorts=("name",), default_sort="name",
             default_order="asc", sort_param="sortField", max_limit=None, capped=True),
        Spec("integrations", "/v2/integrations", paginated=False, code=True),
        Spec("incidents", "/v1/incidents", sorts=INCIDENT_SORTS, default_sort="createdAt", capped=True,
             total_count=True, searchable=True, query_required=True),
        Spec("alerts", "/v2/alerts", sorts=ALERT_SORTS, default_sort="createdAt", capped=True, searchable=True),
        # listSchedules: only `expand` (csv; "Possible value is 'rotation'"); BaseResponseWithExpandable
        Spec("schedules", "/v2/schedules", paginated=False, expandable=("rotation",), expand_param=True),
        # listEscalations and listHeartBeats take no parameters; heartbeats sit in data.heartbeats
        Spec("escalations", "/v2/escalations", paginated=False),
        Spec("heartbeats", "/v2/heartbeats", paginated=False, data_key="heartbeats"),
    )
}
#: The resource served at each path.
BY_PATH: dict[str, Spec] = {s.path: s for s in RESOURCES.values()}
#: Sort names that are another field of the record (`insertedAt` is when a user was created).
SORT_FIELDS: dict[str, str] = {"insertedAt": "createdAt"}


@dataclass(frozen=True)
class ChildSpec:
    """An endpoint under one parent record, named after the table it fills.

    :param path: the spec's path, with `{identifier}` for the parent.
    :param parent: the resource the identifier names (`alerts`, `users`, `teams`).
    :param paged: pages by offset token (alert logs and notes): `offset`, `direction`, `limit`, `order`.
    :param identifier_types: the spec's `identifierType` enum (empty: the spec declares none, and
        the parameter is ignored, like every undeclared one).
    :param data_key: the records sit in `data.<data_key>` (a team's `members`), not in `data`.
    """

    name: str
    path: str
    parent: str
    paged: bool = False
    default_limit: int = 20
    min_limit: int = 1
    max_limit: int = 100
    orders: tuple[str, ...] = ("asc", "desc")
    default_order: str = "desc"
    directions: tuple[str, ...] = ("next", "prev")
    default_direction: str = "next"
    identifier_types: tuple[str, ...] = ()
    default_identifier_type: str = "id"
    data_key: str = ""

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile("^" + re.escape(self.path).replace(re.escape("{identifier}"), "([^/]+)") + "$")


#: alertIdentifierType of the alert operations: AlertIdentifierType in the spec.
ALERT_IDENTIFIER_TYPES = ("id", "alias", "tiny")

CHILDREN: dict[str, ChildSpec] = {
    c.name: c
    for c in (
        # listLogs / listNotes: OffsetParam (string), PageDirectionParam (next|prev, default next),
        # AlertLimitParam (1..100, "Default value is 20" in prose), OrderParam (asc|desc, default desc)
        ChildSpec("alert_logs", "/v2/alerts/{identifier}/logs", "alerts", paged=True,
                  identifier_types=ALERT_IDENTIFIER_TYPES),
        ChildSpec("alert_notes", "/v2/alerts/{identifier}/notes", "alerts", paged=True,
                  identifier_types=ALERT_IDENTIFIER_TYPES),
        # listRecipients: identifier and identifierType only; one unpaged list
        ChildSpec("alert_recipients", "/v2/alerts/{identifier}/recipients", "alerts",
                  identifier_types=ALERT_IDENTIFIER_TYPES),
        # listUserTeams: the user identifier only (id or username); one unpaged list of {id, name}
        ChildSpec("user_teams", "/v2/users/{identifier}/teams", "users"),
        # getTeam: TeamIdentifier and TeamIdentifierType (id|name, default id); members in data.members
        ChildSpec("team_members", "/v2/teams/{identifier}", "teams", identifier_types=("id", "name"),
                  data_key="members"),
    )
}
_CHILD_PATTERNS = tuple((c.pattern, c) for c in CHILDREN.values())


def match_child(path: str) -> tuple[ChildSpec, str] | tuple[None, None]:
    """The child endpoint at ``path`` and the (still quoted) identifier in it, or (None, None)."""
    for pattern, child in _CHILD_PATTERNS:
        m = pattern.match(path)
        if m:
            return child, m.group(1)
    return None, None
