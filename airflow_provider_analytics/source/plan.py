"""A resource resolved once into a typed plan: everything downstream reads the plan, never the catalog.

`plan_for` is the one place a resource name is looked up: in the built-in catalog (a
`BuiltinPlan`, read by the fast path; a `ChildPlan` for a resource read per parent record, with
its parent's plan) or in a seed-style config (a `SeedPlan`, run by dlt's REST API source). Plans are frozen; what they hand out (paginators) is made new for every walk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional, Union

from urllib.parse import quote

from .catalog import CATALOG, RESOURCE_NAMES, ParentLink, ResourceSpec
from .errors import ConfigError, UnknownResourceError
from .flavour import FLAVOUR_JSM, FLAVOUR_NAMES, FLAVOUR_OPSGENIE
from .http.page_check import PageCheck
from .http.session import Wire
from .http.retry import RetryPolicy
from .paging.guards import PaginationGuards
from .paging.keyset import KeysetPaginator
from .paging.next_link import NextLinkPaginator
from .paging.two_ended import TwoEndedPaginator
from .schema_hints import column_hints
from .seed_config import SeedPlan, plan_seed_resource
from .settings import ApiSettings

if TYPE_CHECKING:
    from dlt.sources.helpers.rest_client.auth import AuthConfigBase
    from dlt.sources.helpers.rest_client.paginators import BasePaginator

__all__ = ["BuiltinPlan", "ChildPlan", "Plan", "SeedPlan", "plan_for"]


@dataclass(frozen=True)
class BuiltinPlan:
    """A built-in resource: where it lives, how it pages, how its pages are checked and typed.

    :param columns: dlt column hints from the resource's JSON Schema (also the Arrow page types).
    :param auth: dlt's auth for the connection's key; never shown.
    :param wire: the translation the run's sessions apply (the successor API), or None.
    :param teams: for a resource listed per team, the teams' plan whose records it walks.
    """

    spec: ResourceSpec
    base_url: str
    page_size: int
    guards: PaginationGuards
    retry_policy: RetryPolicy
    columns: Mapping[str, dict[str, Any]]
    page_check: PageCheck
    auth: AuthConfigBase = field(repr=False)
    wire: Optional[Wire] = None
    teams: Optional["BuiltinPlan"] = None

    @property
    def resource(self) -> str:
        return self.spec.name

    @property
    def snapshot(self) -> bool:
        return self.spec.snapshot

    @property
    def flavour(self) -> str:
        """Which API the plan reads (`source/flavour.py`)."""
        return self.wire.name if self.wire is not None else FLAVOUR_OPSGENIE

    def url_for(self, team_id: str) -> str:
        """One team's listing (a resource listed per team)."""
        return self.base_url.rstrip("/") + self.spec.path.format(id=quote(str(team_id), safe=""))

    @property
    def incremental(self) -> bool:
        return self.spec.incremental

    @property
    def url(self) -> str:
        return self.base_url.rstrip("/") + self.spec.path

    @property
    def params(self) -> dict[str, Any]:
        """The first request's query: the page size, for a paginated endpoint, and the resource's fixed parameters."""
        params: dict[str, Any] = dict(self.spec.fixed_params)
        if self.spec.paginated:
            params["limit"] = self.page_size
        return params

    def listing_paginator(self) -> BasePaginator:
        """A new paginator for a walk of the whole listing (the resources read whole on every run)."""
        from dlt.sources.helpers.rest_client.paginators import SinglePagePaginator

        if not self.spec.paginated:
            return SinglePagePaginator()
        if self.spec.offset_capped:  # no searchable cursor: walk from both ends
            return TwoEndedPaginator(resource=self.resource, base_url=self.base_url, guards=self.guards)
        return NextLinkPaginator(base_url=self.base_url, guards=self.guards)

    def keyset_paginator(
        self, cursor_field: str, start: Optional[int], end: Optional[int] = None, delivered: Iterable[Any] = ()
    ) -> KeysetPaginator:
        """A new keyset walk of `start <= cursor_field < end` (end None: open)."""
        return KeysetPaginator(cursor_field=cursor_field, resource=self.resource, start=start, end_ms=end,
                               delivered=set(delivered), base_url=self.base_url, guards=self.guards)


@dataclass(frozen=True)
class ChildPlan:
    """A resource read one parent record at a time: the parent's plan walks the parents, then each
    parent's records come from `url_for(parent_id)`.

    :param columns: dlt column hints of the child table (its JSON Schema, parent and key columns included).
    :param superseded: for a child the two APIs key differently (alert logs), whether a stored key
        is the other API's: that row is the same record under its other key, replaced, not gone.
    """

    spec: ResourceSpec
    parent: BuiltinPlan
    columns: Mapping[str, dict[str, Any]]
    page_check: PageCheck
    superseded: Optional[Callable[[tuple[Any, ...]], bool]] = field(default=None, compare=False)

    @property
    def resource(self) -> str:
        return self.spec.name

    @property
    def link(self) -> ParentLink:
        assert self.spec.parent is not None
        return self.spec.parent

    @property
    def snapshot(self) -> bool:
        """Each parent's records are read whole, so rows gone upstream are found per parent."""
        return True

    @property
    def incremental(self) -> bool:
        return False

    @property
    def base_url(self) -> str:
        return self.parent.base_url

    @property
    def retry_policy(self) -> RetryPolicy:
        return self.parent.retry_policy

    @property
    def guards(self) -> PaginationGuards:
        return self.parent.guards

    @property
    def auth(self) -> AuthConfigBase:
        return self.parent.auth

    @property
    def wire(self) -> Optional[Wire]:
        return self.parent.wire

    @property
    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = dict(self.spec.fixed_params)
        if self.spec.paginated:
            params["limit"] = self.parent.page_size
        return params

    def url_for(self, parent_id: str) -> str:
        """The endpoint of one parent's records (the id quoted into the path)."""
        return self.base_url.rstrip("/") + self.spec.path.format(id=quote(str(parent_id), safe=""))

    def paginator(self) -> BasePaginator:
        """A new paginator for one parent's records: next links (logs, notes) or one page."""
        from dlt.sources.helpers.rest_client.paginators import SinglePagePaginator

        if not self.spec.paginated:
            return SinglePagePaginator()
        return NextLinkPaginator(base_url=self.base_url, guards=self.guards)


Plan = Union[BuiltinPlan, ChildPlan, SeedPlan]


def plan_for(
    resource: str,
    api: ApiSettings,
    config: Optional[dict[str, Any]] = None,
    guards: Optional[PaginationGuards] = None,
) -> Plan:
    """The plan that syncs `resource`: built-in when `config` is None, else from the seed-style config.

    What a config leaves out (base URL, auth, page size, timeouts) comes from `api`; what it
    states wins. Every problem is a ConfigError raised here, before any request.
    """
    guards = guards or PaginationGuards()
    policy = RetryPolicy(timeout=api.timeout, max_wait=api.max_retry_wait)
    if config is not None:
        if api.flavour == FLAVOUR_JSM:
            raise ConfigError(
                f"A seed-style config describes the OpsGenie API's endpoints; this connection speaks "
                f"{FLAVOUR_NAMES[FLAVOUR_JSM]}: sync the built-in resource {resource!r} without a config instead."
            )
        return plan_seed_resource(resource, api, config, guards, policy)
    if resource not in CATALOG:
        raise UnknownResourceError(
            f"Unknown resource {resource!r}: the built-in resources are {', '.join(RESOURCE_NAMES)} "
            "(or pass a config that defines it)."
        )
    spec = _spec(resource, api)
    if spec.parent is not None:
        return ChildPlan(
            spec=spec,
            parent=_builtin(_spec(spec.parent.resource, api), api, guards, policy),
            columns=column_hints(resource),
            page_check=PageCheck(resource, spec.data_selector, spec.record_key),
            superseded=_superseded(resource, api),
        )
    return _builtin(spec, api, guards, policy)


def _spec(resource: str, api: ApiSettings) -> ResourceSpec:
    """The resource as the connection's API serves it."""
    if api.flavour == FLAVOUR_JSM:
        from .jsm.catalog import jsm_spec

        return jsm_spec(resource)
    return CATALOG[resource]


def _superseded(resource: str, api: ApiSettings) -> Optional[Callable[[tuple[Any, ...]], bool]]:
    """Which stored keys the other API wrote, for a child whose keys the two APIs make differently."""
    from .jsm.endpoints import ENDPOINTS
    from .jsm.records import CONTENT_KEYS, is_content_key

    endpoint = ENDPOINTS.get(resource)
    if endpoint is None or endpoint.derived_key not in CONTENT_KEYS:
        return None
    if api.flavour == FLAVOUR_JSM:
        return lambda key: not is_content_key(key)
    return is_content_key


def _builtin(spec: ResourceSpec, api: ApiSettings, guards: PaginationGuards, policy: RetryPolicy) -> BuiltinPlan:
    teams = _builtin(_spec("teams", api), api, guards, policy) if spec.per_team else None
    return BuiltinPlan(
        spec=spec,
        base_url=api.base_url,
        page_size=api.page_size,
        guards=guards,
        retry_policy=policy,
        columns=column_hints(spec.name),
        page_check=PageCheck(spec.name, spec.data_selector, spec.key),
        auth=api.dlt_auth(),
        wire=api.wire(),
        teams=teams,
    )
