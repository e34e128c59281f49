"""Recent first: a listing sorted by `updatedAt`, newest first, read by offset down to a bound.

The spec lets alerts sort on `updatedAt` but does not promise that search can filter on it, so
this walk asks only for what the spec guarantees: `sort=updatedAt&order=desc`, page after page
by offset, until a page reaches below the bound (the stored cursor minus the lookback).

The listing moves while it is read, and the walk is built so that movement costs a duplicate,
never a row:
- a record changed or created moves to the front: every record not yet read shifts one place
  back, so a page repeats a record already read (dropped: the walk delivers each record once),
  and none is skipped;
- a record deleted shifts the records behind it one place forward, which could skip one. Every
  page therefore starts on the last record of the page before (its *anchor*). When the anchor is
  missing and the page starts below it, records may have been skipped and the walk steps back a
  page (at most `MAX_STEP_BACKS` times a walk) until it finds its place again.
Where the next page would cross the offset cap the walk raises `OffsetCapReachedError`; the
reader then reads the rest another way (by `createdAt`, which the API can search).
"""

from __future__ import annotations

from typing import Any, Optional
from urllib.parse import urlencode

from dlt.sources.helpers.rest_client.paginators import BasePaginator
from requests import Request, Response

from ..catalog import OFFSET_CAP, PRIMARY_KEY
from ..errors import OffsetCapReachedError, PaginationError
from ..http.urls import query_params, request_params, request_url, without_query
from ..timestamps import epoch_ms
from .next_link import announced_next

__all__ = ["MAX_STEP_BACKS", "RecentFirstWalk"]

#: Step-backs a walk may take (each one re-reads a page) before it says the listing moves too fast.
MAX_STEP_BACKS = 50
FIELD = "updatedAt"


class RecentFirstWalk(BasePaginator):
    """Pages of `updatedAt >= bound_ms`, newest first, by offset with a one-record overlap.

    :param bound_ms: the oldest `updatedAt` wanted (None: walk to the end of the listing).
    :param offset_cap: the API's limit on offset + limit.
    """

    def __init__(self, resource: str, bound_ms: Optional[int], offset_cap: int = OFFSET_CAP) -> None:
        super().__init__()
        self.resource = resource
        self.bound_ms = bound_ms
        self.offset_cap = offset_cap
        self.step_backs = 0
        self._endpoint = ""
        self._params: dict[str, Any] = {}
        self._offset = 0
        self._limit = 0
        self._anchor: Optional[tuple[Any, int]] = None
        self._delivered: set[Any] = set()

    def init_request(self, request: Request) -> None:
        params = {**query_params(request_url(request)), **request_params(request)}
        params.update(sort=FIELD, order="desc")
        params.pop("offset", None)
        self._endpoint = without_query(request_url(request))
        self._params = params
        self._limit = int(params.get("limit") or 20)
        self._offset, self._anchor, self.step_backs = 0, None, 0
        self._delivered = set()
        self._has_next_page = True
        request.url, request.params = self._url(), None

    def update_state(self, response: Response, data: Optional[list[Any]] = None) -> None:
        page = data if data is not None else []
        received = len(page)
        if self._skipped_past_anchor(page):
            return
        times = [epoch_ms(record.get(FIELD)) if isinstance(record, dict) else None for record in page]
        last, last_ms = (page[-1], times[-1]) if page else (None, None)
        reached_bound = self.bound_ms is not None and any(ms is not None and ms < self.bound_ms for ms in times)
        # records below the bound were stored by an earlier run, unchanged since; records met again
        # (the page's overlap, or pushed back by a change) are the version already delivered
        page[:] = [r for r in page if not self._below_bound(r) and self._first_time(r)]
        if reached_bound or received < self._limit:
            self._has_next_page = False
            return
        if not isinstance(last, dict) or last_ms is None:
            raise PaginationError(f"{self.resource}: page at offset {self._offset} ends on a record without {FIELD}")
        next_offset = self._offset + max(received - 1, 1)
        if self._offset + 2 * self._limit > self.offset_cap:  # where the API's own next link stops
            raise OffsetCapReachedError(
                f"{self.resource}: more records changed since the bound than the API lists by offset "
                f"({self.offset_cap:,})"
            )
        if announced_next(response) is False:  # no paging info: go on until a short page
            self._has_next_page = False
            return
        self._anchor = (last.get(PRIMARY_KEY), last_ms)
        self._offset = next_offset

    def update_request(self, request: Request) -> None:
        request.url, request.params = self._url(), None

    def _skipped_past_anchor(self, page: list[Any]) -> bool:
        """True (and the offset moved back) when the page starts below its anchor without holding it."""
        if self._anchor is None or self._offset == 0:
            return False
        anchor_id, anchor_ms = self._anchor
        if any(isinstance(r, dict) and r.get(PRIMARY_KEY) == anchor_id for r in page):
            return False
        first_ms = epoch_ms(page[0].get(FIELD)) if page and isinstance(page[0], dict) else None
        if first_ms is not None and first_ms > anchor_ms:
            return False  # the page starts above the anchor: nothing below it can have been passed
        self.step_backs += 1
        if self.step_backs > MAX_STEP_BACKS:
            raise PaginationError(
                f"{self.resource}: records were deleted faster than the walk could read ({MAX_STEP_BACKS} "
                "step-backs); run again"
            )
        self._offset = max(0, self._offset - max(self._limit - 1, 1))
        page[:] = [r for r in page if not self._below_bound(r) and self._first_time(r)]
        return True

    def _first_time(self, record: Any) -> bool:
        """True the first time the walk meets this record (its ids are bounded by the offset cap)."""
        record_id = record.get(PRIMARY_KEY) if isinstance(record, dict) else None
        if record_id in self._delivered:
            return False
        self._delivered.add(record_id)
        return True

    def _below_bound(self, record: Any) -> bool:
        ms = epoch_ms(record.get(FIELD)) if isinstance(record, dict) else None
        return self.bound_ms is not None and ms is not None and ms < self.bound_ms

    def _url(self) -> str:
        params = dict(self._params)
        if self._offset:
            params["offset"] = self._offset
        return f"{self._endpoint}?{urlencode(params)}"
