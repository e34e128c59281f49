"""Reads a built-in resource page by page; alerts and incidents in keyset slices side by side.

The first page is read on its own. If it shows that the range left is many pages long, the rest
of the range is cut into slices of the cursor (`slices.py`) that worker threads read at the same
time (at most `max_concurrent_requests` requests in flight); otherwise the walk simply goes on.
Users, teams, services and integrations are read one page after another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Optional
from urllib.parse import urlsplit

from requests import Request
from requests.utils import resolve_proxies

from ..plan import BuiltinPlan
from ..timestamps import epoch_ms
from .concurrent_pages import concurrent_pages
from .slices import Slice, plan_slices

__all__ = ["BuiltinReader", "read_pages"]

Page = list[dict[str, Any]]


def read_pages(session: Any, url: str, params: dict[str, Any], paginator: Any, auth: Any = None) -> Iterator[Page]:
    """Pages of a listing, as dlt's REST client reads them, without its per-page JSONPath work.

    The session checks each page (valid JSON, a `data` list of records with ids) and retries.
    """
    request = Request("GET", url, params=dict(params), auth=auth)
    paginator.init_request(request)
    proxies: dict[tuple[str, str], Any] = {}
    while True:
        prepared = session.prepare_request(request)
        response = session.send(prepared, proxies=_proxies_for(session, prepared, proxies))
        response.raise_for_status()
        data = response.json()["data"]
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
    :param cursor_field: the incremental resources' cursor (`updatedAt` or `createdAt`).
    :param start: where an incremental resource starts (the stored cursor minus the lookback);
        called when the walk starts, after dlt has restored the stored state.
    :param max_concurrent_requests: slices read at the same time (1: one page after another).
    """

    def __init__(
        self,
        plan: BuiltinPlan,
        new_session: Callable[[], Any],
        *,
        max_concurrent_requests: int,
        cursor_field: Optional[str] = None,
        start: Optional[Callable[[], Optional[int]]] = None,
    ) -> None:
        self.plan = plan
        self.new_session = new_session
        self.cursor_field = cursor_field or plan.spec.window_field
        self.start = start or (lambda: None)
        self.max_concurrent_requests = max_concurrent_requests
        self.slices: list[Slice] = []

    def pages(self) -> Iterator[Page]:
        if not self.plan.incremental:
            yield from self._read(self.plan.listing_paginator())
            return
        yield from self._incremental_pages()

    def _read(self, paginator: Any, session: Any = None) -> Iterator[Page]:
        plan = self.plan
        yield from read_pages(session or self.new_session(), plan.url, plan.params, paginator, plan.auth)

    def _keyset(self, start: Optional[int], end: Optional[int] = None, delivered: Any = ()) -> Any:
        assert self.cursor_field is not None
        return self.plan.keyset_paginator(self.cursor_field, start, end, delivered)

    def _incremental_pages(self) -> Iterator[Page]:
        session = self.new_session()
        first = self._keyset(self.start())
        pages = self._read(first, session)
        page = next(pages, None)
        if page is None:
            return
        first_min = min((ms for ms in (epoch_ms(r.get(self.cursor_field)) for r in page) if ms is not None),
                        default=None)
        yield page
        if not first.has_next_page:
            return
        if self.max_concurrent_requests < 2:
            yield from pages
            return
        resume, delivered = first.resume_point
        last = self._latest(session, resume) if first_min is not None and resume is not None else None
        self.slices = plan_slices(first_min, resume, last, self.max_concurrent_requests, delivered) if last else []
        if not self.slices:
            yield from pages
            return
        pages.close()
        yield from concurrent_pages(self.slices, self._read_slice, self.max_concurrent_requests)

    def _latest(self, session: Any, since: int) -> Optional[int]:
        """The highest cursor value now: one record, newest first."""
        plan = self.plan
        params = {**plan.params, "sort": self.cursor_field, "order": "desc", "limit": 1,
                  "query": f"{self.cursor_field}>={since}"}
        response = session.send(session.prepare_request(Request("GET", plan.url, params=params, auth=plan.auth)))
        response.raise_for_status()
        data = response.json().get("data") or []
        return epoch_ms(data[0].get(self.cursor_field)) if data else None

    def _read_slice(self, piece: Slice) -> Iterator[Page]:
        yield from self._read(self._keyset(piece.start, piece.end, piece.delivered))
