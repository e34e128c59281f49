"""The endpoints the fake API serves and how each one is listed, as the vendor's OpenAPI spec states.

The parameters (`sort` enums, `limit` ranges and defaults, default order, required `query`) follow
the list operations of the vendor's published spec (`opsgenie/opsgenie-oas`); a unit test checks
them against an extract of it kept in `tests/data/`. What the spec leaves open is a switch of
`FakeAnalyticsAPI` (see `server.py`), never a silent kindness here.
"""

from __future__ import annotations

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
    expandable: bool = False


RESOURCES: dict[str, Spec] = {
    s.name: s
    for s in (
        # users: `sortField` named in prose only (username, fullName, insertedAt = createdAt here), order asc.
        Spec("users", "/v2/users", default_limit=100, sorts=("username", "fullName", "insertedAt"),
             default_sort="username", default_order="asc", sort_param="sortField", max_limit=None,
             total_count=True),
        Spec("teams", "/v2/teams", paginated=False, expandable=True),
        # services: the spec reuses the users' parameters; the listing's own order (by name) is unverified.
        Spec("services", "/v1/services", default_limit=100, sorts=("name",), default_sort="name",
             default_order="asc", sort_param="sortField", max_limit=None, capped=True),
        Spec("integrations", "/v2/integrations", paginated=False, code=True),
        Spec("incidents", "/v1/incidents", sorts=INCIDENT_SORTS, default_sort="createdAt", capped=True,
             total_count=True, searchable=True, query_required=True),
        Spec("alerts", "/v2/alerts", sorts=ALERT_SORTS, default_sort="createdAt", capped=True, searchable=True),
    )
}
#: The resource served at each path.
BY_PATH: dict[str, Spec] = {s.path: s for s in RESOURCES.values()}
#: Sort names that are another field of the record (`insertedAt` is when a user was created).
SORT_FIELDS: dict[str, str] = {"insertedAt": "createdAt"}
