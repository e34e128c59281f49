"""The API's built-in resources: where each lives and how it pages; the API's limits on paging."""

from __future__ import annotations

from dataclasses import dataclass

#: The API refuses `offset + limit` above this (alerts, incidents, services).
OFFSET_CAP = 20_000
#: Where every list response keeps its records, and the key each record is merged on.
DATA_SELECTOR = "data"
PRIMARY_KEY = "id"


@dataclass(frozen=True)
class ResourceSpec:
    """One upstream endpoint: where it lives and how it pages.

    :param paginated: lists in pages (`limit`, `offset`, `paging.next`); else one response holds all.
    :param offset_capped: the API stops at OFFSET_CAP records per listing.
    :param window_field: a time field the API can search and sort on (`createdAt`): the resource is
        read incrementally on a cursor, and past the cap its listings go on in windows of it.
    :param sorts_on_updated_at: the spec lets the listing sort on `updatedAt` (alerts, not incidents).
    :param query_required: the spec marks `query` required (incidents): every request sends one.
    """

    name: str
    path: str
    paginated: bool
    offset_capped: bool = False
    window_field: str | None = None
    sorts_on_updated_at: bool = False
    query_required: bool = False

    @property
    def incremental(self) -> bool:
        """Searchable by time: synced incrementally on a cursor field."""
        return self.window_field is not None

    @property
    def snapshot(self) -> bool:
        """Read whole on every run, so rows gone upstream can be detected."""
        return not self.incremental


CATALOG: dict[str, ResourceSpec] = {
    spec.name: spec
    for spec in (
        ResourceSpec("users", "/v2/users", paginated=True),
        ResourceSpec("teams", "/v2/teams", paginated=False),
        ResourceSpec("services", "/v1/services", paginated=True, offset_capped=True),
        ResourceSpec("integrations", "/v2/integrations", paginated=False),
        ResourceSpec("incidents", "/v1/incidents", paginated=True, offset_capped=True, window_field="createdAt",
                     query_required=True),
        ResourceSpec("alerts", "/v2/alerts", paginated=True, offset_capped=True, window_field="createdAt",
                     sorts_on_updated_at=True),
    )
}

RESOURCE_NAMES: tuple[str, ...] = tuple(CATALOG)
