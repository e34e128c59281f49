"""Reads a built-in resource page by page; alerts and incidents by the method the account allows.

Users, teams, services and integrations are read whole, one page after another. Alerts and
incidents are read from the stored cursor (see `docs/incremental.md` for why each method is
exact):
- `createdAt` cursor: a keyset walk on `createdAt` (new records only);
- `updatedAt` cursor, first run: every record, by `createdAt` (which the API can search);
- `updatedAt` cursor, later runs: `updatedAt` search where the account supports it (cheapest;
  alerts by a keyset walk on `updatedAt`, incidents by `createdAt` filtered on `updatedAt`);
  else, and as soon as a search term comes back refused (422) or ignored, the methods the spec
  guarantees: alerts recent first (`sort=updatedAt&order=desc` down to the bound; past the offset
  cap, every record by `createdAt`), incidents every record by `createdAt`.
Keyset walks read their first page alone; when it shows many pages left, the rest of the range is
cut into slices (`slices.py`) that worker threads read side by side (at most
`max_concurrent_requests` requests in flight).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterator
from typing import TYPE_CHECKING, Any, Optional
from urllib.parse import urlsplit

import requests
from requests import HTTPError, Request
from requests.utils import resolve_proxies

from ..catalog import DATA_SELECTOR
from ..errors import OffsetCapReachedError, SearchUnsupportedError
from ..http.page_check import select_path
from ..http.session import NewSession
from ..http.status import api_message
from ..incremental import (
    METHOD_CREATED,
    METHOD_FULL_READ,
    METHOD_RECENT_FIRST,
    METHOD_SEARCH,
    SEARCH_ACCEPTED,
    SEARCH_IGNORED,
    SEARCH_REJECTED,
    CursorState,
)
from ..log import Log
from ..paging.recent_first import RecentFirstWalk
from ..plan import BuiltinPlan
from ..timestamps import epoch_ms
from .concurrent_pages import concurrent_pages
from .slices import Slice, plan_slices

if TYPE_CHECKING:
    from dlt.sources.helpers.rest_client.auth import AuthConfigBase
    from dlt.sources.helpers.rest_client.paginators import BasePaginator

__all__ = ["BuiltinReader", "read_pages"]

Page = list[dict[str, Any]]
log = logging.getLogger(__name__)


def read_pages(
    session: requests.Session,
    url: str,
    params: dict[str, Any],
    paginator: BasePaginator,
    auth: Optional[AuthConfigBase] = None,
    data_selector: str = DATA_SELECTOR,
) -> Iterator[Page]:
    """Pages of a listing, as dlt's REST client reads them, without its per-page JSONPath work.

    The session checks each page (valid JSON, a list of records with their keys where the
    selector points) and retries.
    """
    request = Request("GET", url, params=dict(params), auth=auth)
    paginator.init_request(request)
    proxies: dict[tuple[str, str], Any] = {}
    while True:
        prepared = session.prepare_request(request)
        response = session.send(prepared, proxies=_proxies_for(session, prepared, proxies))
        response.raise_for_status()
        body = response.json()
        data = body["data"] if data_selector == DATA_SELECTOR else select_path(body, data_selector)
        paginator.update_state(response, data)
        paginator.update_request(request)
        yield data
        if not paginator.has_next_page:
            return


def _proxies_for(session: Any, prepared: Any, known: dict[tuple[str, str], Any]) -> Any:
    """The proxies for this request, as `Session.send` would resolve them, worked out once per host.

    Resolving reads the whole environment (`*_proxy`, `no_proxy`) on every request; the answer
    depends only on the URL's scheme and host, which stay the same page after page.
    """
    parts = urlsplit(prepared.url or "")
    key = (parts.scheme, parts.netloc)
    if key not in known:
        known[key] = resolve_proxies(prepared, session.proxies, session.trust_env)
    return known[key]


class BuiltinReader:
    """Pages of one built-in resource.

    :param new_session: a checked, retrying session (one per thread).
    :param cursor: the stored cursor of an incremental resource; the reader asks it where to
        start, tells it how it read (`method`) and what the account's search did.
    :param max_concurrent_requests: slices read at the same time (1: one page after another).
    """

    def __init__(
        self,
        plan: BuiltinPlan,
        new_session: NewSession,
        *,
        max_concurrent_requests: int,
        cursor: Optional[CursorState] = None,
        logger: Log | None = None,
    ) -> None:
        self.plan = plan
        self.new_session = new_session
        self.cursor = cursor
        self.max_concurrent_requests = max_concurrent_requests
        self.log = logger or log
        self.slices: list[Slice] = []

    def pages(self) -> Iterator[Page]:
        if self.plan.teams is not None:
            yield from self._per_team()
            return
        if not self.plan.incremental or self.cursor is None:
            yield from self._read(self.plan.listing_paginator())
            return
        yield from self._incremental_pages(self.cursor)

    # -- choosing the method -------------------------------------------------------

    def _incremental_pages(self, cursor: CursorState) -> Iterator[Page]:
        bound = cursor.start()
        if cursor.field == "createdAt":
            cursor.method = METHOD_CREATED
            yield from self._keyset_walk("createdAt", self._from(bound))
            return
        if bound is None or cursor.full_refresh:  # a refresh replaces the table: one walk, no record twice
            cursor.method = METHOD_FULL_READ
            yield from self._full_read(bound)
            return
        if cursor.search not in (SEARCH_REJECTED, SEARCH_IGNORED):
            try:
                cursor.method = METHOD_SEARCH
                yield from self._search(bound)
                cursor.note_search(SEARCH_ACCEPTED)
                return
            except SearchUnsupportedError as unsupported:
                cursor.note_search(unsupported.outcome)
                self.log.warning(
                    "%s: %s; switching to the method the spec guarantees (records already read stay, "
                    "and the account's answer is remembered with the cursor)", self.plan.resource, unsupported,
                )
        yield from self._guaranteed(bound)

    def _search(self, bound: int) -> Iterator[Page]:
        """Records with `updatedAt >= bound`, by the API's search (a 422 or an ignored term raises)."""
        try:
            if self.plan.spec.sorts_on_updated_at:
                yield from self._keyset_walk("updatedAt", bound)
            else:
                yield from self._keyset_walk("createdAt", None, f"updatedAt>={bound}", _searched_since(bound))
        except HTTPError as error:
            response = error.response
            if response is None or response.status_code != 422:
                raise
            raise SearchUnsupportedError(
                f"the API refused the search term updatedAt>={bound} (HTTP 422: {_message(response)})",
                outcome=SEARCH_REJECTED,
            ) from None

    def _guaranteed(self, bound: int) -> Iterator[Page]:
        """Records with `updatedAt >= bound`, using only what the spec guarantees."""
        cursor = self.cursor
        assert cursor is not None
        if not self.plan.spec.sorts_on_updated_at:
            cursor.method = METHOD_FULL_READ
            yield from self._full_read(bound)
            return
        cursor.method = METHOD_RECENT_FIRST
        walk = RecentFirstWalk(self.plan.resource, bound, self.plan.guards.offset_cap)
        try:
            yield from self._read(walk)
        except OffsetCapReachedError as capped:
            cursor.method = METHOD_FULL_READ
            self.log.info("%s: %s; reading every record by createdAt and keeping those changed since the bound",
                          self.plan.resource, capped)
            yield from self._full_read(bound)
            return
        if walk.step_backs:
            self.log.info("%s: records were deleted during the walk; stepped back %d time(s) so none was skipped",
                          self.plan.resource, walk.step_backs)

    def _full_read(self, bound: Optional[int]) -> Iterator[Page]:
        """Every record, by `createdAt`; with a bound, only those changed at or after it are kept."""
        keep = _changed_since(bound) if bound is not None else None
        yield from self._keyset_walk("createdAt", self._from(None), page_filter=keep)

    def _from(self, start: Optional[int]) -> Optional[int]:
        """A walk's start; from 0 rather than unbounded where the API requires a `query`."""
        return 0 if start is None and self.plan.spec.query_required else start

    def _per_team(self) -> Iterator[Page]:
        """Every team's listing in turn (together, the whole snapshot); each record names its team.

        A team deleted between the teams' listing and its own (404) has nothing left to list.
        """
        teams = self.plan.teams
        assert teams is not None
        session = self.new_session(teams.page_check)
        listed = read_pages(session, teams.url, teams.params, teams.listing_paginator(), teams.auth)
        own = self.new_session()
        for team in (team for page in listed for team in page):
            owner: dict[str, Any] = {"id": team.get("id"), "name": team.get("name")}
            try:
                for page in read_pages(own, self.plan.url_for(owner["id"]), self.plan.params,
                                       self.plan.listing_paginator(), self.plan.auth):
                    yield [{**record, "ownerTeam": owner} for record in page]
            except HTTPError as error:
                if error.response is None or error.response.status_code != 404:
                    raise
                self.log.info("%s: team %s was deleted while the sync ran; it has none to list",
                              self.plan.resource, owner["id"])

    # -- reading ---------------------------------------------------------------------

    def _read(
        self, paginator: BasePaginator, session: Optional[requests.Session] = None, query: Optional[str] = None
    ) -> Generator[Page, None, None]:
        plan = self.plan
        params = {**plan.params, "query": query} if query else plan.params
        yield from read_pages(session or self.new_session(), plan.url, params, paginator, plan.auth,
                              plan.spec.data_selector)

    def _keyset_walk(
        self,
        field: str,
        start: Optional[int],
        query: Optional[str] = None,
        page_filter: Optional[PageFilter] = None,
    ) -> Iterator[Page]:
        """A keyset walk of `field >= start` (and `query`), in slices side by side when it is long."""
        keep = page_filter or _unchanged

        def read(piece: Slice) -> Iterator[Page]:
            walk = self.plan.keyset_paginator(field, piece.start, piece.end, piece.delivered)
            for page in self._read(walk, query=query):
                yield keep(page)

        session = self.new_session()
        first = self.plan.keyset_paginator(field, start)
        pages = self._read(first, session, query)
        page = next(pages, None)
        if page is None:
            return
        first_min = min((ms for ms in (epoch_ms(r.get(field)) for r in page) if ms is not None), default=None)
        yield keep(page)
        if not first.has_next_page:
            return
        rest = (keep(page) for page in pages)
        if self.max_concurrent_requests < 2:
            yield from rest
            return
        resume, delivered = first.resume_point
        last = self._latest(session, field, resume, query) if first_min is not None and resume is not None else None
        # `last` is only set when `first_min` and `resume` are
        self.slices = plan_slices(first_min, resume, last,  # type: ignore[arg-type]
                                  self.max_concurrent_requests, delivered) if last else []
        if not self.slices:
            yield from rest
            return
        pages.close()
        yield from concurrent_pages(self.slices, read, self.max_concurrent_requests)

    def _latest(self, session: requests.Session, field: str, since: int, query: Optional[str]) -> Optional[int]:
        """The highest value of `field` now: one record, newest first."""
        plan = self.plan
        terms = [query] if query else []
        terms.append(f"{field}>={since}")
        params = {**plan.params, "sort": field, "order": "desc", "limit": 1, "query": " AND ".join(terms)}
        response = session.send(session.prepare_request(Request("GET", plan.url, params=params, auth=plan.auth)))
        response.raise_for_status()
        data = response.json().get("data") or []
        return epoch_ms(data[0].get(field)) if data else None


PageFilter = Callable[[Page], Page]


def _unchanged(page: Page) -> Page:
    return page


def _older_than(bound: int, record: Any) -> bool:
    ms = epoch_ms(record.get("updatedAt")) if isinstance(record, dict) else None
    return ms is not None and ms < bound


def _changed_since(bound: int) -> PageFilter:
    """Keeps the records changed at or after `bound` (the older ones are stored, unchanged)."""
    return lambda page: [record for record in page if not _older_than(bound, record)]


def _searched_since(bound: int) -> PageFilter:
    """Passes pages of an `updatedAt>=bound` search; an older record proves the API ignored the term."""

    def check(page: Page) -> Page:
        older = next((record for record in page if _older_than(bound, record)), None)
        if older is not None:
            raise SearchUnsupportedError(
                f"asked for updatedAt>={bound} and got a record at {epoch_ms(older.get('updatedAt'))}: "
                "the API ignores updatedAt in search", outcome=SEARCH_IGNORED,
            )
        return page

    return check


def _message(response: requests.Response) -> str:
    """The API's error message, short."""
    try:
        message = api_message(response.json())
    except ValueError:
        return "no message"
    return message[:200] if message else "no message"
