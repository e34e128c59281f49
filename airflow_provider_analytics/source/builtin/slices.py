"""Cutting what is left of an incremental range into slices that workers read side by side.

A slice is a stretch of the cursor's range, read by a keyset walk with an upper bound; the last
slice is open, so a record changed while the sync runs is still read. (Not to be confused with
the cap walks' windows, which carry one listing past the API's offset cap.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional

SLICES_PER_WORKER = 4  # more slices than workers: a busy stretch of time does not hold up the rest
MIN_PAGES_PER_SLICE = 2


@dataclass(frozen=True)
class Slice:
    """A stretch of the cursor's range: `start <= cursor < end` (end None: open).

    :param delivered: ids at `start` that were already read (by the first page), dropped from this slice.
    """

    start: int
    end: Optional[int]
    delivered: frozenset[Any] = frozenset()


def plan_slices(first_min: int, resume: int, last: int, max_workers: int, delivered: set[Any]) -> list[Slice]:
    """Slices over `[resume, last]`, sized from how much time one page covered (`first_min`..`resume`).

    Returns no slices when the rest looks too short to be worth reading side by side.
    """
    if max_workers < 2 or last <= resume:
        return []
    per_page = max(resume - first_min, 1)
    pages_left = (last - resume) / per_page
    count = min(SLICES_PER_WORKER * max_workers, math.floor(pages_left / MIN_PAGES_PER_SLICE))
    if count < 2:
        return []
    step = (last - resume) / count
    bounds = [resume + round(step * i) for i in range(count)]
    slices = [Slice(bounds[i], bounds[i + 1]) for i in range(count - 1)]
    slices.append(Slice(bounds[-1], None))
    first = slices[0]
    slices[0] = Slice(first.start, first.end, frozenset(delivered))
    return slices
