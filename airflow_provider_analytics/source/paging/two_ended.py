"""Listings with no searchable cursor (services) past the offset cap: read them from both ends.

Services have no `query` the walk could window on: the spec gives them the users' parameters
(`sortField`, `order` ascending by default; a copy that names user fields) and their listing is
ordered by `name` (unverified, so the walk sends no sort field and only flips `order`). No window
can move past the cap. What remains is the other end: walk the listing in its order up
to the cap, then list it in the opposite order from offset 0 and keep going until that second
walk has passed the point where the first one ended. Together the two walks reach up to about
twice the cap; beyond that the records in the middle cannot be reached, and the walk fails
loudly instead of loading a silent subset.

Names can repeat and the server's collation is unknown, so the walk never compares names for
order. The second walk knows it has reached the first walk's end when it meets a record the
first walk delivered or the name the first walk ended on; it drops records already delivered
and stops at the first record after that whose name differs from the boundary name, by which
point every record of the boundary name has been listed by one walk or the other.
"""

from __future__ import annotations

from typing import Any, Optional

from requests import Request

from ..catalog import OFFSET_CAP
from ..errors import OffsetCapError
from ..http.urls import query_params, request_params, request_url
from .cap_walks import CapWalk
from .guards import PaginationGuards
from .next_link import NextLinkPaginator

__all__ = ["TwoEndedWalk", "TwoEndedPaginator"]

_NOTHING = object()


class TwoEndedWalk(CapWalk):
    """At the cap, lists the rest from the other end of the `sort_field` order.

    :param sort_field: the field the listing is ordered by (services: `name`).
    :param order: the first walk's order, set on the first request when it does not state one
        (None: keep the listing's own order, the API's default when unstated).
    """

    #: The order a services listing has when the request does not say (the spec: ascending).
    default_order = "asc"

    def __init__(
        self,
        sort_field: str = "name",
        order: Optional[str] = None,
        offset_cap: int = OFFSET_CAP,
        resource: str = "resource",
    ) -> None:
        if order not in (None, "asc", "desc"):
            raise ValueError("order must be 'asc', 'desc' or None")
        self.sort_field = sort_field
        self.default_sort = sort_field
        self.order = order
        super().__init__(offset_cap, resource)

    def start(self, request: Optional[Request]) -> None:
        if request is not None and self.order is not None:
            stated = {**query_params(request_url(request)), **request_params(request)}
            params = request_params(request)
            if not stated.get("order"):
                params["order"] = self.order
            request.params = params
        super().start(request)

    def _reset(self) -> None:
        self.reversed = False
        self.done = False
        self._delivered: set[Any] = set()
        self._boundary: Any = _NOTHING
        self._met = False

    def filter(self, page: list[Any]) -> bool:
        if not self.reversed:
            for record in page:
                if isinstance(record, dict):
                    self._delivered.add(record.get("id"))
                    self._boundary = record.get(self.sort_field)
            return False
        kept = []
        for record in page:
            if not isinstance(record, dict):
                kept.append(record)
                continue
            rid, value = record.get("id"), record.get(self.sort_field)
            if not self._met and (rid in self._delivered or value == self._boundary):
                self._met = True  # reached the first walk's end: its boundary name
            if self._met and value != self._boundary:
                self.done = True  # past the boundary name: the first walk listed everything from here
                break
            if rid not in self._delivered:
                kept.append(record)
        page[:] = kept
        return self.done

    def after_page(self, current_url: str, full_page_size: int, next_url: Optional[str]) -> Optional[str]:
        if self.done:
            return None
        if not self.crosses_cap(current_url, full_page_size, next_url):
            return next_url
        if self.reversed:
            raise OffsetCapError(
                f"{self.resource}: the API lists at most {self.offset_cap:,} records per order "
                f"(offset + limit <= {self.offset_cap:,}) and has no search filter for this resource; "
                f"read by {self.sort_field} from both ends it yields about {2 * self.offset_cap:,} "
                "records, and this account has more, so the ones in the middle cannot be reached. "
                f"Leave {self.resource} out of this sync, or bring the number of {self.resource} in the "
                f"account under {2 * self.offset_cap:,}."
            )
        self.check_sort(current_url, self.sort_field)
        order = (self.listing(current_url, "order", self.default_order) or "").lower()
        self.reversed = True
        return self.listing_url(offset=0, order="desc" if order == "asc" else "asc")


class TwoEndedPaginator(NextLinkPaginator):
    """Follows `paging.next` in `sort_field` order and, at the offset cap, from the other end.

    :param sort_field: the field to list by (services: `name`).
    :param order: the first walk's order (`asc`); the second walk lists `desc`.
    """

    def __init__(
        self,
        sort_field: str = "name",
        order: str = "asc",
        resource: str = "resource",
        base_url: Optional[str] = None,
        guards: Optional[PaginationGuards] = None,
    ) -> None:
        guards = guards or PaginationGuards()
        walk = TwoEndedWalk(sort_field, order, guards.offset_cap, resource)
        super().__init__(base_url=base_url, guards=guards, cap_walk=walk)
