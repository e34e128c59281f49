"""Counts pages and records of a running sync and logs the pace at an interval."""

from __future__ import annotations

import threading
import time
from typing import Any

from ..source.log import Log


class SyncProgress:
    """Shared by the HTTP sessions (pages) and the dlt resource (records).

    dlt may deep-copy resources and their arguments; a copy would count into a void,
    so deep copies return the same tracker.

    :param interval: seconds between progress lines (0: none).
    """

    def __init__(self, resource: str, log: Log, interval: float) -> None:
        self.resource = resource
        self.log = log
        self.interval = interval
        self.pages = 0
        self.records = 0
        self.started = time.monotonic()
        self._last_report = self.started
        self._lock = threading.Lock()

    def __deepcopy__(self, memo: dict[int, Any]) -> SyncProgress:
        return self

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started

    def count_page(self) -> None:
        """One successful response is one page."""
        with self._lock:  # pages may arrive from several reader threads
            self.pages += 1
            self._maybe_report()

    def on_record(self, record: Any) -> Any:
        """dlt map step: counts records as they leave the API client."""
        self.records += 1
        return record

    def on_records(self, count: int) -> None:
        """Counts a page of records at once (the fast path counts pages, not items)."""
        self.records += count

    def _maybe_report(self) -> None:
        now = time.monotonic()
        if self.interval and now - self._last_report >= self.interval:
            self._last_report = now
            elapsed = now - self.started
            self.log.info(
                "%s: %d pages, %d records fetched in %.0f s (%.0f records/s)",
                self.resource,
                self.pages,
                self.records,
                elapsed,
                self.records / elapsed if elapsed else 0.0,
            )
