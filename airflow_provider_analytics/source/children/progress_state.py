"""A pass over the parents of a child resource, kept in the resource's state so a killed or retried sync resumes it.

A pass visits its parents in one order (`createdAt` or `updatedAt` of alerts, the id of users and
teams) and stores, with every load, the last parent done: all parents before it in that order
were read and their rows loaded. A resumed pass skips them. A parent that changes after it was
done gets a later `updatedAt`, so a pass in `updatedAt` order meets it again; a pass in
`createdAt` order leaves it to the next run, whose cursor is where this pass began.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Optional

PASS_KEY = "parent_pass"
ORDER_CREATED, ORDER_UPDATED, ORDER_ID = "createdAt", "updatedAt", "id"
ORDERS = (ORDER_CREATED, ORDER_UPDATED, ORDER_ID)

#: A parent's place in a pass: (time in epoch ms, or 0 in id order; id).
Place = tuple[int, str]


@dataclass
class ParentPass:
    """One walk over the parents whose records a child sync reads.

    :param order: the order parents are visited in (ORDERS).
    :param bound: parents changed at or after this (epoch ms); None: every parent.
    :param started_ms: when the pass's first attempt began, on the API's clock; the child's cursor
        when the pass ends.
    :param after: the place of the last parent done (None: none yet).
    :param parents_done: parents whose records were loaded, over every attempt.
    :param attempts: runs that worked on this pass.
    """

    order: str
    bound: Optional[int] = None
    started_ms: Optional[int] = None
    after: Optional[Place] = None
    parents_done: int = 0
    attempts: int = 1

    @property
    def every_parent(self) -> bool:
        """Visits every parent, so rows of parents no longer listed are gone upstream."""
        return self.bound is None

    def done(self, place: Place) -> bool:
        """Whether the parent at `place` was done by an earlier attempt."""
        return self.after is not None and place <= self.after

    def mark_done(self, place: Place) -> None:
        self.after = place
        self.parents_done += 1

    def as_state(self) -> dict[str, Any]:
        stored = asdict(self)
        stored["after"] = list(self.after) if self.after is not None else None
        return stored

    @classmethod
    def from_state(cls, stored: Any) -> Optional["ParentPass"]:
        """The pass an earlier run left unfinished; None when there is none, or it cannot be read."""
        if not isinstance(stored, dict) or stored.get("order") not in ORDERS:
            return None
        after = stored.get("after")
        try:
            place = (int(after[0]), str(after[1])) if after else None
            return cls(
                order=stored["order"], bound=_ms(stored.get("bound")), started_ms=_ms(stored.get("started_ms")),
                after=place, parents_done=int(stored.get("parents_done") or 0),
                attempts=int(stored.get("attempts") or 1) + 1,
            )
        except (TypeError, ValueError, IndexError):
            return None


def _ms(value: Any) -> Optional[int]:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
