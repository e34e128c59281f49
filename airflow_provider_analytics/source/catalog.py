"""The API's built-in resources: where each lives and how it pages; the API's limits on paging."""

from __future__ import annotations

from dataclasses import dataclass

#: The API refuses `offset + limit` above this (alerts, incidents, services).
OFFSET_CAP = 20_000
#: Where a list response keeps its records, and the key a record is merged on, unless a resource says otherwise.
DATA_SELECTOR = "data"
PRIMARY_KEY = "id"


@dataclass(frozen=True)
class ParentLink:
    """A resource read one parent record at a time (an alert's logs, a team's members).

    :param resource: the parent resource whose records are walked (`alerts`, `users`, `teams`).
    :param column: the column that carries the parent's id in the child table (`alert_id`).
    :param key_paths: (column, dotted path in the API's record) of the child's own key: the record's
        field is moved to the column (`id` -> `team_id`), a nested one is copied (`user.id` -> `user_id`).
    """

    resource: str
    column: str
    key_paths: tuple[tuple[str, str], ...]

    @property
    def key_columns(self) -> tuple[str, ...]:
        return tuple(column for column, _ in self.key_paths)

    @property
    def parent_label(self) -> str:
        """One parent, as the task log names it (`alert`)."""
        return self.resource.removesuffix("s")


#: The parent is named by its id (the spec's `identifierType`, where the operation declares it).
_BY_ID = (("identifierType", "id"),)


@dataclass(frozen=True)
class ResourceSpec:
    """One upstream endpoint: where it lives and how it pages.

    :param paginated: lists in pages (`limit`, `offset`, `paging.next`); else one response holds all.
    :param offset_capped: the API stops at OFFSET_CAP records per listing.
    :param window_field: a time field the API can search and sort on (`createdAt`): the resource is
        read incrementally on a cursor, and past the cap its listings go on in windows of it.
    :param sorts_on_updated_at: the spec lets the listing sort on `updatedAt` (alerts, not incidents).
    :param query_required: the spec marks `query` required (incidents): every request sends one.
    :param data_selector: where a response keeps the records (`data.heartbeats`, `data.members`).
    :param key: the record's field a top-level record is merged on (heartbeats: `name`).
    :param fixed_params: query parameters every request sends (`expand=rotation`).
    :param parent: set for a resource read per parent record; `path` then holds `{id}`.
    :param per_team: one listing per team (`path` holds the team's `{id}`), read as one snapshot.
    """

    name: str
    path: str
    paginated: bool
    offset_capped: bool = False
    window_field: str | None = None
    sorts_on_updated_at: bool = False
    query_required: bool = False
    data_selector: str = DATA_SELECTOR
    key: str = PRIMARY_KEY
    fixed_params: tuple[tuple[str, str], ...] = ()
    parent: ParentLink | None = None
    per_team: bool = False

    @property
    def incremental(self) -> bool:
        """Searchable by time: synced incrementally on a cursor field."""
        return self.window_field is not None

    @property
    def snapshot(self) -> bool:
        """Read whole on every run (per parent, for a child), so rows gone upstream can be detected."""
        return not self.incremental

    @property
    def primary_key(self) -> tuple[str, ...]:
        """The table's key: the parent's id column and the child's own key, or the record's key."""
        if self.parent is None:
            return (self.key,)
        return (self.parent.column, *self.parent.key_columns)

    @property
    def record_key(self) -> str | None:
        """The field every record of a page must carry (checked before dlt sees it); None: a nested key."""
        if self.parent is None:
            return self.key
        paths = [path for _, path in self.parent.key_paths]
        return paths[0] if len(paths) == 1 and "." not in paths[0] else None


def _child(name: str, path: str, parent: ParentLink, *, paginated: bool = False, data_selector: str = DATA_SELECTOR,
           fixed_params: tuple[tuple[str, str], ...] = _BY_ID) -> ResourceSpec:
    return ResourceSpec(name, path, paginated=paginated, data_selector=data_selector, fixed_params=fixed_params,
                        parent=parent)


_ALERT_TIMELINE = (*_BY_ID, ("order", "asc"), ("direction", "next"))

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
        _child("alert_logs", "/v2/alerts/{id}/logs", ParentLink("alerts", "alert_id", (("offset", "offset"),)),
               paginated=True, fixed_params=_ALERT_TIMELINE),
        _child("alert_notes", "/v2/alerts/{id}/notes", ParentLink("alerts", "alert_id", (("offset", "offset"),)),
               paginated=True, fixed_params=_ALERT_TIMELINE),
        _child("alert_recipients", "/v2/alerts/{id}/recipients",
               ParentLink("alerts", "alert_id", (("user_id", "user.id"),))),
        _child("user_teams", "/v2/users/{id}/teams", ParentLink("users", "user_id", (("team_id", "id"),)),
               fixed_params=()),  # the spec's listUserTeams takes the user's id or username, no identifierType
        _child("team_members", "/v2/teams/{id}", ParentLink("teams", "team_id", (("user_id", "user.id"),)),
               data_selector="data.members"),
        ResourceSpec("schedules", "/v2/schedules", paginated=False, fixed_params=(("expand", "rotation"),)),
        ResourceSpec("escalations", "/v2/escalations", paginated=False),
        ResourceSpec("heartbeats", "/v2/heartbeats", paginated=False, data_selector="data.heartbeats", key="name"),
    )
}

RESOURCE_NAMES: tuple[str, ...] = tuple(CATALOG)
#: Resources read per parent record (one request or more per alert, user or team).
CHILD_RESOURCES: tuple[str, ...] = tuple(name for name, spec in CATALOG.items() if spec.parent is not None)
