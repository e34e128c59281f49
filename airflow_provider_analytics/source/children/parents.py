"""The parents a child sync visits, in the order of its pass, found the way the parent resource is read.

Alerts are found by the method their own sync uses (`updatedAt` search, recent first or a full
read, see docs/incremental.md), one page after another so the order holds: changed since the
pass's bound, in `updatedAt` order (collected first: recent first reads newest first); every
alert, in `createdAt` order (streamed: a first pass over a large account). Users and teams have
no time the API can search on: every run visits all of them, in id order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Optional

from ..builtin.reader import BuiltinReader
from ..http.session import NewSession
from ..incremental import STATE_KEY, CursorState, IncrementalOptions
from ..log import Log
from ..plan import ChildPlan
from ..timestamps import epoch_ms
from .progress_state import ORDER_CREATED, ORDER_ID, ORDER_UPDATED, ParentPass, Place


@dataclass(frozen=True)
class Parent:
    """One parent to visit: its id, its place in the pass, its `updatedAt` when it has one."""

    id: str
    place: Place
    updated_ms: Optional[int]


def pass_order(plan: ChildPlan, bound: Optional[int], cursor_field: str) -> str:
    """The order a new pass visits the parents in."""
    if not plan.parent.incremental:
        return ORDER_ID
    return ORDER_UPDATED if bound is not None and cursor_field == "updatedAt" else ORDER_CREATED


class ParentWalk:
    """Lists the parents of one pass, in its order; the account's answer to the search is learnt on the way.

    :param search: what the account's search did with `updatedAt` when last tried (None: unknown).
    """

    def __init__(
        self,
        plan: ChildPlan,
        new_session: NewSession,
        parent_pass: ParentPass,
        options: IncrementalOptions,
        search: Optional[str],
        logger: Log,
    ) -> None:
        self.plan = plan
        self.parent_pass = parent_pass
        stored: dict[str, Any] = {}
        if parent_pass.bound is not None:
            stored = {"cursor_field": options.cursor_field, "last_value_ms": parent_pass.bound}
        if search is not None:
            stored.update(updated_at_search=search, api=plan.parent.flavour)
        self._state = {STATE_KEY: stored}
        self.cursor: Optional[CursorState] = None
        if plan.parent.incremental:
            walk_options = IncrementalOptions(cursor_field=options.cursor_field, lookback_seconds=0,
                                              start_date=options.start_date)
            self.cursor = CursorState(plan.parent.resource, walk_options, full_refresh=parent_pass.bound is None,
                                      state=lambda: self._state, logger=logger, api=plan.parent.flavour)
        # One page after another: the pass's order is the listing's order.
        self._reader = BuiltinReader(plan.parent, new_session, max_concurrent_requests=1, cursor=self.cursor,
                                     logger=logger)

    def parents(self) -> Iterator[Parent]:
        """Every parent of the pass, in its order (those an earlier attempt did are included)."""
        order = self.parent_pass.order
        if order == ORDER_CREATED:
            yield from self._listed(ORDER_CREATED)
            return
        found: dict[str, Parent] = {}
        for parent in self._listed(order):  # a record read twice (it changed during the walk) counts once, as its latest
            if parent.id not in found or parent.place > found[parent.id].place:
                found[parent.id] = parent
        yield from sorted(found.values(), key=lambda parent: parent.place)

    @property
    def method(self) -> Optional[str]:
        return self.cursor.method if self.cursor is not None else None

    @property
    def search(self) -> Optional[str]:
        return self.cursor.search if self.cursor is not None else None

    def _listed(self, order: str) -> Iterator[Parent]:
        for page in self._reader.pages():
            for record in page:
                if not isinstance(record, dict) or not record.get("id"):
                    continue
                parent_id = str(record["id"])
                updated = epoch_ms(record.get("updatedAt"))
                if order == ORDER_ID:
                    place: Place = (0, parent_id)
                else:
                    place = (epoch_ms(record.get(order)) or 0, parent_id)
                yield Parent(parent_id, place, updated)
