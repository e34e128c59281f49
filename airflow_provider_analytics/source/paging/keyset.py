"""Keyset paging on a timestamp cursor: every page asks for `cursor>=<last ms seen>` from offset 0.

Offset paging over a listing sorted by `updatedAt` loses rows: a record updated while the walk
runs jumps to the end and every unread record shifts one place back, past the next offset.
Asking each page for `updatedAt>=<last value>` instead keeps offsets near 0, so the API's
20,000 offset cap never applies, a changed record is simply met again later (the merge keeps
its newest version), and the walk can start anywhere: at the stored cursor of an incremental
run or at a backfill start date.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Optional
from urllib.parse import urlencode

from requests import Request, Response

from ..errors import OffsetCapError, PaginationError, SearchUnsupportedError
from ..http.urls import query_params, request_params, request_url, without_query
from ..incremental import DEFAULT_CURSOR_FIELD
from ..timestamps import epoch_ms
from .cap_walks import drop_delivered
from .guards import PaginationGuards
from .next_link import NextLinkPaginator, announced_next

__all__ = ["KeysetPaginator"]

StartProvider = Callable[[], Optional[int]]


class KeysetPaginator(NextLinkPaginator):
    """Walks a listing in ascending `cursor_field` order by `query` terms instead of offsets.

    :param cursor_field: a timestamp field the API can sort and search on (`updatedAt`, `createdAt`).
    :param start: the first page's lower bound in epoch ms (None: from the beginning), or a function
        returning it, called when a walk starts so it can read state restored just before extraction.
    :param end_ms: exclusive upper bound (`cursor<end_ms`), for walking one slice of a range; None: open.
    :param delivered: ids at the start millisecond that an earlier walk already delivered (dropped).
    :param guards: the run's guards; the offset cap is only reached when more than that many records
        share one millisecond.
    """

    def __init__(
        self,
        cursor_field: str = DEFAULT_CURSOR_FIELD,
        resource: str = "resource",
        start: StartProvider | int | None = None,
        end_ms: Optional[int] = None,
        delivered: Optional[set[Any]] = None,
        base_url: Optional[str] = None,
        guards: Optional[PaginationGuards] = None,
    ) -> None:
        super().__init__(base_url=base_url, guards=guards)
        self.cursor_field = cursor_field
        self.resource = resource
        self.end_ms = end_ms
        self._start = start
        self._delivered = set(delivered or ())
        self._reset_walk()

    def _reset_walk(self) -> None:
        self._endpoint = ""
        self._params: dict[str, Any] = {}
        self._base_query: Optional[str] = None
        self.start_ms: Optional[int] = None
        self._from_ms: Optional[int] = None
        self._offset = 0
        self._boundary_ids: set[Any] = set()

    # -- dlt paginator interface -------------------------------------------------

    def init_request(self, request: Request) -> None:
        super().init_request(request)
        self._reset_walk()
        self._endpoint = without_query(request_url(request))
        params = {**query_params(request_url(request)), **request_params(request)}
        self._base_query = params.pop("query", None) or None
        params.update(sort=self.cursor_field, order="asc")
        params.pop("offset", None)
        self._params = params
        self.start_ms = self._start() if callable(self._start) else self._start
        self._from_ms = self.start_ms
        self._boundary_ids = set(self._delivered)
        request.url = self._url()
        request.params = None

    def next_token(self, response: Response, data: Optional[list[Any]]) -> Any:
        """Drop repeats of the boundary millisecond, then ask for the records after this page."""
        page = data if data is not None else []
        page_size = len(page)
        page_min, page_max, ids_at_max = self._page_bounds(page)
        drop_delivered(page, self._boundary_ids, self.cursor_field, self._from_ms)
        self._check_bounds(page_min, page_max)
        if not self._has_more(response, page_size):
            return None
        if page_max is None:
            if page_size == 0:  # an empty page that still says there is more: take the API's own link
                return super().next_token(response, data)
            raise PaginationError(
                f"{self.resource}: page {self.pages} has no {self.cursor_field} values to continue from"
            )
        if self._from_ms is None or page_max > self._from_ms:
            self._from_ms, self._offset, self._boundary_ids = page_max, 0, ids_at_max
        else:  # the whole page shares the boundary millisecond: step through it by offset
            self._offset += page_size
            self._boundary_ids |= ids_at_max
            limit = int(self._params.get("limit") or page_size)
            if self._offset + limit > self.guards.offset_cap:
                raise OffsetCapError(
                    f"{self.resource}: over {self.guards.offset_cap:,} records share {self.cursor_field} "
                    f"{self._from_ms}; the API cannot page past them."
                )
        return self._url()

    @property
    def resume_point(self) -> tuple[Optional[int], set[Any]]:
        """Where the next page starts and the ids there already delivered, to hand the walk over."""
        return self._from_ms, set(self._boundary_ids)

    # -- helpers ----------------------------------------------------------------

    def _check_bounds(self, page_min: Optional[int], page_max: Optional[int]) -> None:
        """A record outside the asked range means the API ignored the search term."""
        if page_max is None or page_min is None:
            return
        if self._from_ms is not None and page_min < self._from_ms:
            term, got = f"{self.cursor_field}>={self._from_ms}", page_min
        elif self.end_ms is not None and page_max >= self.end_ms:
            term, got = f"{self.cursor_field}<{self.end_ms}", page_max
        else:
            return
        raise SearchUnsupportedError(  # the caller names the resource
            f"asked for {term} and got a record at {got}: the API ignores {self.cursor_field} in search",
            outcome="ignored",
        )

    def _url(self) -> str:
        params = dict(self._params)
        terms = [self._base_query] if self._base_query else []
        if self._from_ms is not None:
            terms.append(f"{self.cursor_field}>={self._from_ms}")
        if self.end_ms is not None:
            terms.append(f"{self.cursor_field}<{self.end_ms}")
        if terms:
            params["query"] = " AND ".join(terms)
        if self._offset:
            params["offset"] = self._offset
        return f"{self._endpoint}?{urlencode(params)}"

    def _page_bounds(self, page: list[Any]) -> tuple[Optional[int], Optional[int], set[Any]]:
        """Lowest and highest cursor value of the page, and the ids at the highest."""
        low: Optional[int] = None
        top: Optional[int] = None
        ids: set[Any] = set()
        for record in page:
            ms = epoch_ms(record.get(self.cursor_field)) if isinstance(record, dict) else None
            if ms is None:
                continue
            low = ms if low is None else min(low, ms)
            if top is None or ms > top:
                top, ids = ms, {record.get("id")}
            elif ms == top:
                ids.add(record.get("id"))
        return low, top, ids

    @staticmethod
    def _has_more(response: Response, page_size: int) -> bool:
        """The API's next link says whether this query has more; without paging info, a full page does."""
        announced = announced_next(response)
        if announced is not None:
            return announced
        limit = query_params(response.url or "").get("limit")
        return page_size > 0 and page_size >= int(limit or page_size + 1)
