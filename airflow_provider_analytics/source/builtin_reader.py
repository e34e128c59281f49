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


class BuiltinReader:
    """Pages of one built-in resource.

    :param new_client: a dlt RESTClient with a session of its own (one per thread).
    :param paginator: the snapshot resources' paginator (from the plan); alerts and incidents
        build keyset paginators per window instead.
    :param start: where alerts and incidents start (the stored cursor minus the lookback), read lazily.
    """

    def __init__(
        self,
        resource: str,
        params: dict[str, Any],
        new_client: Callable[[], Any],
        paginator: Any = None,
        cursor_field: Optional[str] = None,
        start: Callable[[], Optional[int]] | None = None,
        max_concurrent_requests: int = 4,
        guards: Optional[dict[str, Any]] = None,
    ) -> None:
        self.resource = resource
        self.spec = CATALOG[resource]
        self.params = dict(params)
        self.new_client = new_client
        self.paginator = paginator
        self.cursor_field = cursor_field or self.spec.window_field
        self.start = start or (lambda: None)
        self.max_concurrent_requests = max_concurrent_requests
        self.guards = dict(guards or {})
        self.windows: list[Window] = []

    def pages(self) -> Iterator[list[dict[str, Any]]]:
        if not self.spec.incremental:
            yield from self.new_client().paginate(self.spec.path, params=self.params, paginator=self.paginator,
                                                  data_selector="data")
            return
        yield from self._incremental_pages()

    def _keyset(self, start: Optional[int], end: Optional[int] = None, delivered: Any = ()) -> KeysetPaginator:
        return KeysetPaginator(cursor_field=self.cursor_field, resource=self.resource, start=start, end_ms=end,
                               delivered=set(delivered), **self.guards)

    def _incremental_pages(self) -> Iterator[list[dict[str, Any]]]:
        client = self.new_client()
        first = self._keyset(self.start())
        walk = client.paginate(self.spec.path, params=self.params, paginator=first, data_selector="data")
        page = next(walk, None)
        if page is None:
            return
        first_min = min((ms for ms in (epoch_ms(r.get(self.cursor_field)) for r in page) if ms is not None),
                        default=None)
        yield page
        if not first.has_next_page:
            return
        if self.max_concurrent_requests < 2:
            yield from walk
            return
        resume, delivered = first.resume_point
        last = self._latest(client, resume) if first_min is not None and resume is not None else None
        self.windows = plan_windows(first_min, resume, last, self.max_concurrent_requests, delivered) if last else []
        if not self.windows:
            yield from walk
            return
        walk.close()
        yield from concurrent_pages(self.windows, self._walk_window, self.max_concurrent_requests)

    def _latest(self, client: Any, since: int) -> Optional[int]:
        """The highest cursor value now: one record, newest first."""
        params = {**self.params, "sort": self.cursor_field, "order": "desc", "limit": 1,
                  "query": f"{self.cursor_field}>={since}"}
        response = client.get(self.spec.path, params=params)
        response.raise_for_status()
        data = response.json().get("data") or []
        return epoch_ms(data[0].get(self.cursor_field)) if data else None

    def _walk_window(self, window: Window) -> Iterator[list[dict[str, Any]]]:
        paginator = self._keyset(window.start, window.end, window.delivered)
        yield from self.new_client().paginate(self.spec.path, params=self.params, paginator=paginator,
                                              data_selector="data")
