"""Reads a child resource parent by parent: which parents, each one's records, and the pass kept in the state.

A run continues the pass an earlier run left unfinished (parents already done are skipped), or
starts one: every parent on a first run or a full refresh, else the parents changed since the
child's own cursor. Parents are read side by side (at most `max_workers` requests in flight,
each through the run's pacer) and finished in the pass's order; after each one the pass's place
is written into the resource's state, which dlt loads with the rows. When the pass ends, the
child's cursor becomes the time the pass began, so whatever changed while it ran is read again
by the next run.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Optional

from requests import HTTPError

from ..builtin.reader import read_pages
from ..errors import ParentRecordsError
from ..http.session import NewSession
from ..incremental import CursorState, IncrementalOptions
from ..log import Log
from ..plan import ChildPlan
from ..timestamps import epoch_ms, iso_from_ms
from .ordered_map import OrderedMap
from .parents import Parent, ParentWalk, pass_order
from .progress_state import PASS_KEY, ParentPass
from .rows import child_key, child_rows

__all__ = ["ChildReader", "ParentRecords"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ParentRecords:
    """One parent's rows; `rows` None when the parent is gone upstream (404)."""

    parent: Parent
    rows: Optional[list[dict[str, Any]]]


class ChildReader:
    """The rows of a child resource, parent by parent, in the pass's order.

    :param new_parent_session: a session checking listing pages of the parent resource.
    :param new_child_session: a session checking pages of the child's records (one per worker thread).
    :param state: the child resource's state dict (dlt's resource state while dlt extracts).
    :param server_start_ms: when this run's first response was made, on the API's clock.
    """

    def __init__(
        self,
        plan: ChildPlan,
        new_parent_session: NewSession,
        new_child_session: NewSession,
        *,
        options: IncrementalOptions,
        full_refresh: bool,
        max_workers: int,
        state: Callable[[], dict[str, Any]],
        server_start_ms: Callable[[], Optional[int]],
        logger: Log | None = None,
    ) -> None:
        self.plan = plan
        self.options = options
        self.full_refresh = full_refresh
        self.max_workers = max_workers
        self.log = logger or log
        self._state = state
        self._server_start_ms = server_start_ms
        self._new_parent_session = new_parent_session
        self._new_child_session = new_child_session
        self._sessions = threading.local()
        self.cursor: Optional[CursorState] = None
        self.parent_pass: Optional[ParentPass] = None
        self.walk: Optional[ParentWalk] = None
        self._results: Optional[OrderedMap[Parent, Optional[list[dict[str, Any]]]]] = None
        self.finished = False
        self.resumed = False
        #: parents visited by this run, their rows, the parents gone upstream (404), rows newer than their parent
        self.parents = 0
        self.skipped = 0
        self.gone = 0
        self.rows = 0
        self.newer_than_parent = 0
        self._visited: dict[str, set[tuple[Any, ...]]] = {}
        self._listed: set[str] = set()

    # -- the pass ----------------------------------------------------------------------

    def _start(self) -> None:
        """Continue the pass an earlier run left, or begin one (needs the state: called while dlt extracts)."""
        state = self._state()
        plan = self.plan
        self.cursor = CursorState(plan.resource, self.options, full_refresh=self.full_refresh, state=self._state,
                                  logger=self.log, api=plan.parent.flavour) if plan.parent.incremental else None
        earlier = ParentPass.from_state(state.get(PASS_KEY))
        if earlier is not None and (not self.full_refresh or earlier.every_parent):
            self.parent_pass, self.resumed = earlier, True
            if self.cursor is not None:
                self.cursor.start()  # the stored cursor and what the search does; the pass keeps its own bound
            self.log.info(
                "%s: continuing the pass over %s begun at %s: %d parent(s) done by %d earlier attempt(s) are skipped",
                plan.resource, plan.link.resource,
                iso_from_ms(earlier.started_ms) if earlier.started_ms is not None else "an unknown time",
                earlier.parents_done, earlier.attempts - 1,
            )
        else:
            bound = self.cursor.start() if self.cursor is not None else None
            order = pass_order(plan, bound, self.options.cursor_field)
            self.parent_pass = ParentPass(order=order, bound=bound)
        search = self.cursor.search if self.cursor is not None else None
        self.walk = ParentWalk(plan, self._new_parent_session, self.parent_pass, self.options, search, self.log)
        todo = (parent for parent in self._parents() if not self._skip(parent))
        self._results = OrderedMap(self._read, todo, self.max_workers)

    def _parents(self) -> Iterator[Parent]:
        assert self.walk is not None
        for parent in self.walk.parents():
            self._listed.add(parent.id)
            yield parent

    def _skip(self, parent: Parent) -> bool:
        assert self.parent_pass is not None
        if self.parent_pass.done(parent.place):
            self.skipped += 1
            return True
        return False

    # -- reading -------------------------------------------------------------------------

    def results(self, seconds: float) -> Iterator[ParentRecords]:
        """Parents done in order, for `seconds` (at least one); their place is written to the state as they finish."""
        if self.finished:
            return
        if self._results is None:
            self._start()
        assert self._results is not None and self.parent_pass is not None
        deadline = time.monotonic() + seconds
        for parent, rows in self._results:
            self._note(parent, rows)
            yield ParentRecords(parent, rows)
            self._save()
            if time.monotonic() >= deadline:
                return
        self._finish()

    def take_visited(self) -> tuple[dict[str, set[tuple[Any, ...]]], Optional[set[str]]]:
        """The child keys of each parent visited since the last call (empty: gone upstream) and, once a pass
        over every parent has ended, every parent listed."""
        visited, self._visited = self._visited, {}
        every = self.finished and self.parent_pass is not None and self.parent_pass.every_parent
        return visited, (set(self._listed) if every else None)

    def close(self) -> None:
        if self._results is not None:
            self._results.close()

    def _read(self, parent: Parent) -> Optional[list[dict[str, Any]]]:
        """All records of one parent (every page), as rows; None when the API no longer has the parent."""
        plan = self.plan
        session = getattr(self._sessions, "session", None)
        if session is None:
            session = self._sessions.session = self._new_child_session()
        records: list[dict[str, Any]] = []
        try:
            for page in read_pages(session, plan.url_for(parent.id), plan.params, plan.paginator(), plan.auth,
                                   plan.spec.data_selector):
                records.extend(page)
        except Exception as error:
            if isinstance(error, HTTPError) and error.response is not None and error.response.status_code == 404:
                return None  # gone between the listing and this read
            raise ParentRecordsError(plan.resource, f"{plan.link.parent_label} {parent.id}") from error
        return child_rows(plan.link, parent.id, records)

    def _note(self, parent: Parent, rows: Optional[list[dict[str, Any]]]) -> None:
        assert self.parent_pass is not None
        link = self.plan.link
        self.parents += 1
        if rows is None:
            self.gone += 1
            self._visited[parent.id] = set()
        else:
            self.rows += len(rows)
            self._visited[parent.id] = {child_key(link, row) for row in rows}
            self.newer_than_parent += _newer_than(rows, parent.updated_ms, self.parent_pass.started_ms)
        self.parent_pass.mark_done(parent.place)

    def _save(self) -> None:
        """Write the pass's place into the state (dlt stores it with the rows of this load)."""
        assert self.parent_pass is not None
        if self.parent_pass.started_ms is None:
            self.parent_pass.started_ms = self._server_start_ms()
        self._state()[PASS_KEY] = self.parent_pass.as_state()

    def _finish(self) -> None:
        """The pass is over: the cursor becomes the pass's start, and the pass leaves the state."""
        assert self.parent_pass is not None and self.walk is not None
        self.finished = True
        self.close()
        state = self._state()
        if self.parent_pass.started_ms is None:
            self.parent_pass.started_ms = self._server_start_ms()
        if self.cursor is not None:
            if self.walk.search is not None:
                self.cursor.note_search(self.walk.search)
            self.cursor.method = self.walk.method
            if self.parent_pass.started_ms is not None:  # every parent changed before it was visited by this pass
                self.cursor.see(self.parent_pass.started_ms)
            self.cursor.finish(self.parent_pass.started_ms)
        state.pop(PASS_KEY, None)


def _newer_than(rows: list[dict[str, Any]], parent_ms: Optional[int], pass_start_ms: Optional[int]) -> int:
    """Rows made after their parent's `updatedAt` as listed, and before the pass began: proof that a change
    to the child did not move the parent's `updatedAt` (a row made after the pass began proves nothing)."""
    if parent_ms is None:
        return 0
    count = 0
    for row in rows:
        made = epoch_ms(row.get("createdAt"))
        if made is not None and made > parent_ms and (pass_start_ms is None or made < pass_start_ms):
            count += 1
    return count
