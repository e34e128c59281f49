"""Paging past the API's offset cap (offset + limit <= 20,000) without losing or repeating a row.

A *cap walk* rides along a next-link paginator (see `next_link.py`): it sees every page before
dlt does and decides how the listing goes on when the next page would cross the cap, where the
API's `paging.next` link disappears.

`WindowWalk` (alerts, incidents) continues in `createdAt` windows, in the listing's own order:
an ascending listing opens `createdAt>=<latest ms seen>`, a descending one (the API's default)
`createdAt<=<earliest ms seen>`, at offset 0, with the listing's sort, order and query kept;
records of that boundary millisecond already delivered are dropped from the new window's pages.
`CapWalk` itself fails loudly at the cap, for listings that cannot go on at all; `two_ended.py`
walks listings without a searchable cursor (services) from both ends.
"""

from __future__ import annotations

from typing import Any, Optional
from urllib.parse import urlencode

from requests import Request

from ..catalog import OFFSET_CAP
from ..errors import OffsetCapError
from ..http.urls import query_params, request_url, without_query
from ..timestamps import epoch_ms

#: The order a listing has when the request does not say (the API's default).
API_DEFAULT_ORDER = "desc"


def drop_delivered(page: list[Any], ids: set[Any], field: str, ms: Optional[int]) -> None:
    """Remove from `page`, in place (before dlt yields it), records with an id in `ids` whose
    `field` is at millisecond `ms`: the boundary records an earlier page already delivered."""
    if not ids:
        return
    page[:] = [
        record
        for record in page
        if not (isinstance(record, dict) and record.get("id") in ids and epoch_ms(record.get(field)) == ms)
    ]


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


class CapWalk:
    """Fails loudly where the next page would cross the offset cap (the listing cannot go on).

    Subclasses go on instead. The paginator calls `start` once per run with the first request,
    `filter` with every page (drop records in place; return True when the walk is complete)
    and `after_page` with the page's URL, its size as received and the API's next link.

    :param offset_cap: the API's limit on offset + limit.
    :param resource: the resource's name, for messages.
    """

    #: The sort the API applies when the listing does not say (None: unknown).
    default_sort: Optional[str] = None

    def __init__(self, offset_cap: int = OFFSET_CAP, resource: str = "resource") -> None:
        self.offset_cap = offset_cap
        self.resource = resource
        self.start(None)

    # -- called by the paginator ----------------------------------------------

    def start(self, request: Optional[Request]) -> None:
        """A new run: remember the listing (endpoint and parameters) and forget earlier pages."""
        self._endpoint: Optional[str] = None
        self._params: dict[str, Any] = {}
        if request is not None and request.url:
            self._set_listing(request_url(request), request.params)
        self._reset()

    def filter(self, page: list[Any]) -> bool:
        return False

    def after_page(self, current_url: str, full_page_size: int, next_url: Optional[str]) -> Optional[str]:
        """The next page's URL: the API's link, a URL the walk makes, or None to stop."""
        if not self.crosses_cap(current_url, full_page_size, next_url):
            return next_url
        raise OffsetCapError(
            f"{self.resource}: the API allows at most {self.offset_cap:,} records per listing "
            "(offset + limit) and this resource has more; it cannot be paged further."
        )

    # -- helpers for subclasses ------------------------------------------------

    def _reset(self) -> None:
        """Forget the pages of an earlier run."""

    def _set_listing(self, url: str, params: Any = None) -> None:
        self._endpoint = without_query(url)
        stated = {key: value for key, value in dict(params or {}).items() if value is not None}
        self._params = {**query_params(url), **stated}

    def crosses_cap(self, current_url: str, full_page_size: int, next_url: Optional[str]) -> bool:
        """Would the page after this one ask for offset + limit beyond the cap?

        Without a next link: only when this page was full (a short page is the last one).
        """
        if self._endpoint is None and current_url:
            self._set_listing(current_url)  # started without a request: learn the listing here
            self._params.pop("offset", None)
        current = query_params(current_url)
        limit = _int(current.get("limit") or self._params.get("limit"))
        if next_url:
            following = query_params(next_url)
            return _int(following.get("offset")) + (_int(following.get("limit")) or limit) > self.offset_cap
        offset = _int(current.get("offset"))
        return limit > 0 and full_page_size >= limit and offset + 2 * limit > self.offset_cap

    def listing(self, current_url: str, name: str, default: Optional[str]) -> Optional[str]:
        """A listing parameter (`sort`, `order`) as the API applies it.

        As stated by the current page's URL (the API's own next link), else by the first
        request, else the API's default.
        """
        value = query_params(current_url).get(name) or self._params.get(name) or default
        return str(value) if value is not None else None

    def listing_url(self, **changes: Any) -> str:
        """The first request's URL with some parameters changed."""
        return f"{self._endpoint}?{urlencode({**self._params, **changes})}"

    def check_sort(self, current_url: str, field: str) -> None:
        sort = self.listing(current_url, "sort", self.default_sort)
        if sort != field:
            raise OffsetCapError(
                f"{self.resource}: the API allows at most {self.offset_cap:,} records per listing "
                f"(offset + limit) and this listing is sorted by {sort!r}; past the cap it can only "
                f"go on when sorted by {field!r}. Remove the sort parameter or set sort={field}."
            )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(resource={self.resource!r}, offset_cap={self.offset_cap})"


class WindowWalk(CapWalk):
    """At the cap, goes on in windows of a searchable, sortable time field, in the listing's order.

    :param field: record field the API can search (`query=<field>>=<ms>`) and sort on.
    """

    def __init__(self, field: str = "createdAt", offset_cap: int = OFFSET_CAP, resource: str = "resource") -> None:
        if not field:
            raise ValueError("field must name a searchable time field")
        self.field = field
        self.default_sort = field  # the API lists alerts and incidents by createdAt unless told
        super().__init__(offset_cap, resource)

    def _reset(self) -> None:
        self.windows = 1
        self._window_start: Optional[int] = None
        self._boundary_ids: set[Any] = set()
        self._low_ms: Optional[int] = None
        self._low_ids: set[Any] = set()
        self._high_ms: Optional[int] = None
        self._high_ids: set[Any] = set()

    def filter(self, page: list[Any]) -> bool:
        if self._boundary_ids:
            self._drop_boundary_repeats(page)
        for record in page:
            ms = epoch_ms(record.get(self.field)) if isinstance(record, dict) else None
            if ms is None:
                continue
            rid = record.get("id")
            if self._low_ms is None or ms < self._low_ms:
                self._low_ms, self._low_ids = ms, {rid}
            elif ms == self._low_ms:
                self._low_ids.add(rid)
            if self._high_ms is None or ms > self._high_ms:
                self._high_ms, self._high_ids = ms, {rid}
            elif ms == self._high_ms:
                self._high_ids.add(rid)
        return False

    def _drop_boundary_repeats(self, page: list[Any]) -> None:
        """Remove, in place, records of the window's first millisecond that were already delivered."""
        drop_delivered(page, self._boundary_ids, self.field, self._window_start)

    def after_page(self, current_url: str, full_page_size: int, next_url: Optional[str]) -> Optional[str]:
        if not self.crosses_cap(current_url, full_page_size, next_url):
            return next_url
        self.check_sort(current_url, self.field)
        ascending = (self.listing(current_url, "order", API_DEFAULT_ORDER) or "").lower() == "asc"
        if ascending:
            ms, ids, op = self._high_ms, self._high_ids, ">="
        else:
            ms, ids, op = self._low_ms, self._low_ids, "<="
        if ms is None:
            raise OffsetCapError(
                f"{self.resource}: the API allows at most {self.offset_cap:,} records per listing and "
                f"the records carry no readable {self.field}, so no window can move past the cap."
            )
        if ms == self._window_start:
            raise OffsetCapError(
                f"{self.resource}: over {self.offset_cap:,} records share {self.field} {ms} "
                "(epoch ms); the API cannot page past them."
            )
        self._window_start = ms
        self._boundary_ids = set(ids)
        term = f"{self.field}{op}{ms}"
        base_query = self._params.get("query")
        self.windows += 1
        return self.listing_url(offset=0, query=f"{base_query} AND {term}" if base_query else term)

