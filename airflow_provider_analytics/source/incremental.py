"""Incremental alerts and incidents: where each run starts, and the cursor kept in the warehouse.

The cursor lives in dlt's resource state, which dlt loads into the warehouse together with the
rows (`_dlt_pipeline_state`) and restores into an empty working folder, so a fresh worker
continues where the last run stopped, and a run that fails before its load leaves it untouched.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from .errors import IncrementalConfigError
from .flavour import FLAVOUR_OPSGENIE
from .log import Log
from .timestamps import iso_from_ms, to_epoch_ms

STATE_KEY = "incremental"
CURSOR_FIELDS = ("updatedAt", "createdAt")
DEFAULT_CURSOR_FIELD = "updatedAt"
DEFAULT_LOOKBACK_SECONDS = 300.0

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IncrementalOptions:
    """How alerts and incidents sync incrementally.

    :param cursor_field: `updatedAt` (default: catches changes to old records, whatever the account's
        search supports) or `createdAt` (new records only: cheapest, but a change to a record created
        before the cursor is not seen until a full refresh).
    :param lookback_seconds: each run starts this far before the stored cursor, so records whose
        change became visible late are not missed; they are merged again, not duplicated.
    :param start_date: the first run (and a full refresh) starts here; None means everything.
    """

    cursor_field: str = DEFAULT_CURSOR_FIELD
    lookback_seconds: float = DEFAULT_LOOKBACK_SECONDS
    start_date: Any = None
    start_ms: Optional[int] = field(init=False, default=None)

    def __post_init__(self) -> None:
        if self.cursor_field not in CURSOR_FIELDS:
            raise IncrementalConfigError(
                f"cursor_field={self.cursor_field!r} is not supported; use one of {', '.join(CURSOR_FIELDS)}"
            )
        if isinstance(self.lookback_seconds, bool) or not isinstance(self.lookback_seconds, (int, float)) or (
            self.lookback_seconds < 0
        ):
            raise IncrementalConfigError(f"lookback_seconds must be a number >= 0, not {self.lookback_seconds!r}")
        object.__setattr__(self, "start_ms", to_epoch_ms(self.start_date))


#: What the account's search did with an `updatedAt` term, as remembered in the state.
SEARCH_ACCEPTED, SEARCH_REJECTED, SEARCH_IGNORED = "accepted", "rejected", "ignored"
SEARCH_OUTCOMES = (SEARCH_ACCEPTED, SEARCH_REJECTED, SEARCH_IGNORED)

#: How a run read its records (the summary says which ran): see docs/incremental.md.
METHOD_SEARCH = "updatedAt search"
METHOD_RECENT_FIRST = "recent first"
METHOD_FULL_READ = "full read"
METHOD_CREATED = "createdAt"


class CursorState:
    """The stored cursor of one resource: where a run starts, what it read, what it stores.

    The state holds the cursor and what the account's search did with `updatedAt` (found out once,
    remembered with the cursor in the warehouse). A run stores as its cursor the lower of the
    newest cursor value it read and the run's start on the API's clock: a record changed while the
    run read is then always read again by the next one.

    :param full_refresh: ignore the stored cursor and re-sync from the options' `start_date`.
    :param api: the flavour of the API read (`source/flavour.py`): the search's answer is remembered
        for that API only, so a connection switched to the successor API finds it out again.
    :param state: returns the resource's dlt state dict; the default reads
        `dlt.current.resource_state`, which only exists while dlt extracts, which is exactly
        when the walk asks.
    """

    def __init__(
        self,
        resource: str,
        options: IncrementalOptions,
        full_refresh: bool = False,
        state: Callable[[], dict[str, Any]] | None = None,
        logger: Log | None = None,
        api: str = FLAVOUR_OPSGENIE,
    ) -> None:
        self.resource = resource
        self.api = api
        self.options = options
        self.full_refresh = full_refresh
        self._state_provider = state or _dlt_resource_state(resource)
        self._logger = logger or log
        self._baseline: Optional[int] = None
        self._max_seen: Optional[int] = None
        self.start_ms: Optional[int] = None
        self.last_ms: Optional[int] = None
        #: what the account's search does with `updatedAt` (None: not found out yet)
        self.search: Optional[str] = None
        #: how this run read its records (METHOD_*), set by the reader
        self.method: Optional[str] = None

    @property
    def field(self) -> str:
        return self.options.cursor_field

    def start(self) -> Optional[int]:
        """The lowest cursor value this run needs: the stored cursor minus the lookback, or the start date."""
        stored = self._state_provider().get(STATE_KEY) or {}
        options = self.options
        remembered = stored.get("updated_at_search") if stored.get("api", FLAVOUR_OPSGENIE) == self.api else None
        self.search = remembered if remembered in SEARCH_OUTCOMES else None
        reusable = (
            not self.full_refresh
            and stored.get("cursor_field") == options.cursor_field
            and isinstance(stored.get("last_value_ms"), int)
        )
        self._baseline = stored["last_value_ms"] if reusable else None
        self.last_ms = self._baseline
        if self._baseline is not None:
            start = self._baseline - round(options.lookback_seconds * 1000)
            if options.start_ms is not None:
                start = max(start, options.start_ms)
            self._logger.info(
                "%s: incremental run from %s>=%s (stored cursor %s minus %.0f s lookback)",
                self.resource, options.cursor_field, iso_from_ms(start), iso_from_ms(self._baseline),
                options.lookback_seconds,
            )
        else:
            start = options.start_ms
            why = "full refresh" if self.full_refresh else "no stored cursor"
            since = iso_from_ms(start) if start is not None else "the beginning"
            self._logger.info("%s: %s, syncing from %s (%s)", self.resource, why, since, options.cursor_field)
        self.start_ms = start
        return start

    def see(self, ms: int) -> None:
        """Note a cursor value read (the newest one bounds what the run stores)."""
        if self._max_seen is None or ms > self._max_seen:
            self._max_seen = ms

    def note_search(self, outcome: str) -> None:
        """Remember what the account's search did with `updatedAt` (stored with the cursor)."""
        if outcome not in SEARCH_OUTCOMES:
            raise ValueError(f"unknown search outcome {outcome!r}")
        self.search = outcome

    def finish(self, run_started_ms: Optional[int]) -> None:
        """Store the cursor and the search outcome; dlt commits them with the rows of this load.

        :param run_started_ms: when the run's first response was made, on the API's clock
            (None: unknown; the newest value read is stored).
        """
        value = self._max_seen
        if value is not None and run_started_ms is not None:
            value = min(value, run_started_ms)
        if self._baseline is not None:
            value = self._baseline if value is None else max(value, self._baseline)
        self.last_ms = value
        stored: dict[str, Any] = {"cursor_field": self.options.cursor_field, "last_value_ms": value,
                                  "last_value": iso_from_ms(value) if value is not None else None}
        if self.search is not None:
            stored["updated_at_search"] = self.search
            stored["api"] = self.api
        self._state_provider()[STATE_KEY] = stored


def _dlt_resource_state(resource: str) -> Callable[[], dict[str, Any]]:
    def read() -> dict[str, Any]:
        import dlt

        return dlt.current.resource_state(resource)

    return read

