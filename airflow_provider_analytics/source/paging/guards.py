"""The limits every paginator of a run shares: pages per run, foreign hosts, the API's offset cap."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ..catalog import OFFSET_CAP
from ..errors import OptionError


def _positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


@dataclass(frozen=True)
class PaginationGuards:
    """Limits on paging, checked when made.

    :param max_pages: fail when a run would fetch more pages than this (None: no limit).
    :param allow_foreign_hosts: follow next-page links to other hosts, sending the key there
        (off: credentials stay on the base URL's host).
    :param offset_cap: the API's limit on offset + limit; cap walks go on past it.
    """

    max_pages: Optional[int] = None
    allow_foreign_hosts: bool = False
    offset_cap: int = OFFSET_CAP

    def __post_init__(self) -> None:
        if self.max_pages is not None and not _positive_int(self.max_pages):
            raise OptionError(f"max_pages must be a positive integer or None, not {self.max_pages!r}")
        if not isinstance(self.allow_foreign_hosts, bool):
            raise OptionError(f"allow_foreign_hosts must be true or false, not {self.allow_foreign_hosts!r}")
        if not _positive_int(self.offset_cap):
            raise OptionError(f"offset_cap must be a positive integer, not {self.offset_cap!r}")
