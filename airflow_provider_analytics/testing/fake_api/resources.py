"""The endpoints the fake API serves and how each one is listed: paging, sorting, searching."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Spec:
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


RESOURCES: dict[str, Spec] = {
    s.name: s
    for s in (
        Spec("users", "/v2/users", default_limit=100, sorts=("username", "fullName", "createdAt"),
             default_sort="username", default_order="asc", total_count=True),
        Spec("teams", "/v2/teams", paginated=False),
        Spec("services", "/v1/services", sorts=("name",), default_sort="name", capped=True),
        Spec("integrations", "/v2/integrations", paginated=False, code=True),
        Spec("incidents", "/v1/incidents", sorts=("createdAt", "tinyId", "updatedAt", "message", "status"),
             default_sort="createdAt", capped=True, total_count=True, searchable=True),
        Spec("alerts", "/v2/alerts",
             sorts=("createdAt", "updatedAt", "tinyId", "count", "message", "status"),
             default_sort="createdAt", capped=True, searchable=True),
    )
}
#: The resource served at each path.
BY_PATH: dict[str, Spec] = {s.path: s for s in RESOURCES.values()}
