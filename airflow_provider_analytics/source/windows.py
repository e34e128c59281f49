"""Paging past the API's offset cap (offset + limit <= 20,000) without losing or repeating a row.

Alerts and incidents are read in ascending `createdAt` order. When the next page would cross
the cap, a new window starts at the last `createdAt` seen (`query=createdAt>=<ms>`, offset 0);
records of that same millisecond already delivered are dropped from the new window's first
pages. Resources without a searchable cursor (services) fail loudly at the cap instead of
stopping short the way a plain `paging.next` walk does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from requests import Request, Response

from .paginators import NextLinkPaginator, PaginationError

DEFAULT_OFFSET_CAP = 20_000


class OffsetCapError(PaginationError):
    """The API cannot page further and no window can move past the cap."""


def epoch_ms(value: Any) -> Optional[int]:
    """ISO-8601 timestamps with trimmed fractions (`41.03Z`, `40.926Z`, `02Z`) -> epoch ms."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return round(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None


def _query_params(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


class OffsetCapPaginator(NextLinkPaginator):
    """Follows `paging.next` and, at the offset cap, opens a `createdAt` window or fails loudly.

    :param cursor_field: record field the API can search and sort on (None: cannot window).
    :param offset_cap: the API's limit on offset + limit.
    """

    def __init__(
        self,
        cursor_field: Optional[str] = "createdAt",
        offset_cap: int = DEFAULT_OFFSET_CAP,
        resource: str = "resource",
        **guards: Any,
    ) -> None:
        super().__init__(**guards)
        self.cursor_field = cursor_field
        self.offset_cap = offset_cap
        self.resource = resource
        self._reset_windows()

    def _reset_windows(self) -> None:
        self.windows = 1
        self._endpoint: Optional[str] = None
        self._params: dict[str, Any] = {}
        self._window_start: Optional[int] = None
        self._last_ms: Optional[int] = None
        self._ids_at_last_ms: set[Any] = set()
        self._boundary_ids: set[Any] = set()

    def init_request(self, request: Request) -> None:
        super().init_request(request)
        self._reset_windows()
        parts = urlsplit(request.url or "")
        self._endpoint = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        self._params = {**dict(parse_qsl(parts.query)), **dict(request.params or {})}

    def update_state(self, response: Response, data: Optional[list[Any]] = None) -> None:
        page = data if data is not None else []
        full_page_size = len(page)
        self._drop_boundary_repeats(page)
        self._track_cursor(page)
        super().update_state(response, page)

        current = _query_params(response.url or "")
        limit = int(current.get("limit") or self._params.get("limit") or 0)
        offset = int(current.get("offset") or 0)
        if self._has_next_page and self._next_url:
            next_params = _query_params(self._next_url)
            capped = int(next_params.get("offset") or 0) + int(next_params.get("limit") or limit) > self.offset_cap
        else:
            capped = bool(limit) and full_page_size >= limit and offset + 2 * limit > self.offset_cap
        if capped:
            self._open_window()

    def _drop_boundary_repeats(self, page: list[Any]) -> None:
        """Remove, in place, records of the window's first millisecond that were already delivered."""
        if not self._boundary_ids or not self.cursor_field:
            return
        start = self._window_start
        page[:] = [
            record
            for record in page
            if not (
                isinstance(record, dict)
                and record.get("id") in self._boundary_ids
                and epoch_ms(record.get(self.cursor_field)) == start
            )
        ]

    def _track_cursor(self, page: list[Any]) -> None:
        if not self.cursor_field:
            return
        for record in page:
            ms = epoch_ms(record.get(self.cursor_field)) if isinstance(record, dict) else None
            if ms is None:
                continue
            if self._last_ms is None or ms > self._last_ms:
                self._last_ms, self._ids_at_last_ms = ms, {record.get("id")}
            elif ms == self._last_ms:
                self._ids_at_last_ms.add(record.get("id"))

    def _open_window(self) -> None:
        if not self.cursor_field:
            raise OffsetCapError(
                f"{self.resource}: the API allows at most {self.offset_cap:,} records per listing "
                "(offset + limit) and this resource has more; it cannot be paged further."
            )
        if self._last_ms is None or self._last_ms == self._window_start:
            raise OffsetCapError(
                f"{self.resource}: over {self.offset_cap:,} records share {self.cursor_field} "
                f"{self._last_ms}; the API cannot page past them."
            )
        self._window_start = self._last_ms
        self._boundary_ids = set(self._ids_at_last_ms)
        term = f"{self.cursor_field}>={self._last_ms}"
        base_query = self._params.get("query")
        params = {**self._params, "offset": 0, "query": f"{base_query} AND {term}" if base_query else term}
        self._next_url = f"{self._endpoint}?{urlencode(params)}"
        self._seen.add(self._next_url)
        self._has_next_page = True
        self.windows += 1
