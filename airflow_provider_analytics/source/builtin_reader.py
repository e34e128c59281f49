"""Reads a built-in resource page by page, alerts and incidents in keyset windows side by side.

The first page is read on its own. If it shows that the range left is many pages long, the rest of
the range is cut into `createdAt`/`updatedAt` windows that worker threads read at the same time
(at most `max_concurrent_requests` requests in flight); otherwise the walk simply goes on. Each
window is a keyset walk with an upper bound; the last one is open, so a record changed while the
sync runs is still read. Users, teams, services and integrations are read one page after another.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Optional
from urllib.parse import urlsplit

from requests import Request
from requests.utils import resolve_proxies

from .catalog import CATALOG
from .concurrent_pages import concurrent_pages
from .keyset import KeysetPaginator
from .windows import epoch_ms

WINDOWS_PER_WORKER = 4  # more windows than workers: a busy stretch of time does not hold up the rest
MIN_PAGES_PER_WINDOW = 2


@dataclass(frozen=True)
class Window:
    """A stretch of the cursor's range: `start <= cursor < end` (end None: open)."""

    start: int
    end: Optional[int]
    delivered: frozenset = frozenset()


def plan_windows(first_min: int, resume: int, last: int, max_workers: int, delivered: set) -> list[Window]:
    """Windows over `[resume, last]`, sized from how much time one page covered (`first_min`..`resume`).

    Returns no windows when the rest looks too short to be worth reading side by side.
    """
    if max_workers < 2 or last <= resume:
        return []
    per_page = max(resume - first_min, 1)
    pages_left = (last - resume) / per_page
    count = min(WINDOWS_PER_WORKER * max_workers, math.floor(pages_left / MIN_PAGES_PER_WINDOW))
    if count < 2:
        return []
    step = (last - resume) / count
    bounds = [resume + round(step * i) for i in range(count)]
    windows = [Window(bounds[i], bounds[i + 1]) for i in range(count - 1)]
    windows.append(Window(bounds[-1], None))
    first = windows[0]
    windows[0] = Window(first.start, first.end, frozenset(delivered))
    return windows


def walk(session: Any, url: str, params: dict[str, Any], paginator: Any, auth: Any = None) -> Iterator[list[dict[str, Any]]]:
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
    :param paginator: the snapshot resources' paginator (from the plan); alerts and incidents
        build keyset paginators per window instead.
    :param start: where alerts and incidents start (the stored cursor minus the lookback), read lazily.
    """

    def __init__(
        self,
        resource: str,
        params: dict[str, Any],
        base_url: str,
        new_session: Callable[[], Any],
        auth: Any = None,
        paginator: Any = None,
        cursor_field: Optional[str] = None,
        start: Callable[[], Optional[int]] | None = None,
        max_concurrent_requests: int = 4,
        guards: Optional[dict[str, Any]] = None,
    ) -> None:
        self.resource = resource
        self.spec = CATALOG[resource]
        self.params = dict(params)
        self.url = base_url.rstrip("/") + self.spec.path
        self.new_session = new_session
        self.auth = auth
        self.paginator = paginator
        self.cursor_field = cursor_field or self.spec.window_field
        self.start = start or (lambda: None)
        self.max_concurrent_requests = max_concurrent_requests
        self.guards = dict(guards or {})
        self.windows: list[Window] = []

    def pages(self) -> Iterator[list[dict[str, Any]]]:
        if not self.spec.incremental:
            yield from walk(self.new_session(), self.url, self.params, self.paginator, self.auth)
            return
        yield from self._incremental_pages()

    def _keyset(self, start: Optional[int], end: Optional[int] = None, delivered: Any = ()) -> KeysetPaginator:
        return KeysetPaginator(cursor_field=self.cursor_field, resource=self.resource, start=start, end_ms=end,
                               delivered=set(delivered), **self.guards)

    def _incremental_pages(self) -> Iterator[list[dict[str, Any]]]:
        session = self.new_session()
        first = self._keyset(self.start())
        pages = walk(session, self.url, self.params, first, self.auth)
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
        self.windows = plan_windows(first_min, resume, last, self.max_concurrent_requests, delivered) if last else []
        if not self.windows:
            yield from pages
            return
        pages.close()
        yield from concurrent_pages(self.windows, self._walk_window, self.max_concurrent_requests)

    def _latest(self, session: Any, since: int) -> Optional[int]:
        """The highest cursor value now: one record, newest first."""
        params = {**self.params, "sort": self.cursor_field, "order": "desc", "limit": 1,
                  "query": f"{self.cursor_field}>={since}"}
        response = session.send(session.prepare_request(Request("GET", self.url, params=params, auth=self.auth)))
        response.raise_for_status()
        data = response.json().get("data") or []
        return epoch_ms(data[0].get(self.cursor_field)) if data else None

    def _walk_window(self, window: Window) -> Iterator[list[dict[str, Any]]]:
        paginator = self._keyset(window.start, window.end, window.delivered)
        yield from walk(self.new_session(), self.url, self.params, paginator, self.auth)
