"""The six built-in resources of the API: path, envelope and paging of each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ResourceSpec:
    """One upstream endpoint: where it lives and how it pages."""

    name: str
    path: str
    paginated: bool
    sort: str | None = None
    order: str | None = None
    offset_capped: bool = False
    window_field: str | None = None

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
        ResourceSpec("incidents", "/v1/incidents", paginated=True, sort="createdAt", order="asc",
                     offset_capped=True, window_field="createdAt"),
        ResourceSpec("alerts", "/v2/alerts", paginated=True, sort="createdAt", order="asc",
                     offset_capped=True, window_field="createdAt"),
    )
}

RESOURCE_NAMES: tuple[str, ...] = tuple(CATALOG)


def builtin_resource(name: str, page_size: int) -> dict[str, Any]:
    """A dlt resource config (paginator left to the caller) for a built-in resource."""
    spec = CATALOG[name]
    endpoint: dict[str, Any] = {"path": spec.path, "data_selector": "data"}
    if spec.paginated:
        params: dict[str, Any] = {"limit": page_size}
        if spec.sort:
            params["sort"] = spec.sort
        if spec.order:
            params["order"] = spec.order
        endpoint["params"] = params
    else:
        endpoint["paginator"] = "single_page"
    return {"name": name, "primary_key": "id", "write_disposition": "merge", "endpoint": endpoint}
