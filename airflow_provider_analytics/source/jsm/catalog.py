"""The catalog's resources as the successor API serves them: the classic spec with the successor's endpoint."""

from __future__ import annotations

from dataclasses import replace

from ..catalog import CATALOG, DATA_SELECTOR, ResourceSpec
from ..errors import ResourceUnsupportedError
from .endpoints import ENDPOINTS, UNSUPPORTED

__all__ = ["JSM_RESOURCE_NAMES", "jsm_spec"]

JSM_RESOURCE_NAMES: tuple[str, ...] = tuple(name for name in CATALOG if name in ENDPOINTS)


def jsm_spec(resource: str) -> ResourceSpec:
    """The resource's spec on the successor API; ResourceUnsupportedError naming it when it has no counterpart.

    Table, key and parent stay the classic ones (the wire translates records to them). What the
    successor changes: the path, whether it pages, its fixed parameters, and that no listing
    sorts on `updatedAt` (alerts sort on createdAt, insertedAt, lastOccurredAt, priority).
    """
    if resource in UNSUPPORTED:
        raise ResourceUnsupportedError(
            f"Resource {resource!r} cannot be synced from this connection: {UNSUPPORTED[resource]}. "
            f"Resources it serves: {', '.join(JSM_RESOURCE_NAMES)}. Tables synced earlier from the "
            "OpsGenie API keep their rows.",
            resource,
        )
    endpoint = ENDPOINTS[resource]
    return replace(
        CATALOG[resource],
        path=endpoint.path,
        paginated=endpoint.paginated,
        sorts_on_updated_at=False,
        fixed_params=endpoint.fixed_params,
        per_team=endpoint.per_team,
        data_selector=DATA_SELECTOR,  # the wire puts every listing's records in `data`
    )
