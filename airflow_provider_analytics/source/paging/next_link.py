"""Following the API's next-page link, with guards: no credentials to other hosts, no loops, a page limit.

The API returns the next page as a link (`paging.next` in the body, or a header). Following
links blindly can send credentials to another host, spin forever on a repeated link, or run
away on a huge account, so every link goes through the same checks here before it is requested.
dlt's `BaseNextUrlPaginator` keeps the link and points the next request at it.

Some endpoints stop handing out next links at an offset cap. A paginator can carry a *cap walk*
(`cap_walks.py`, `two_ended.py`): an object that sees every page before dlt does (to drop
records already delivered) and decides how the listing goes on where the API's links end.
Links a walk makes go through the same checks as the API's own.
"""

from __future__ import annotations

from typing import Any, Optional
from urllib.parse import urlsplit, urlunsplit

from dlt.sources.helpers.rest_client.paginators import BaseNextUrlPaginator
from requests import Request, Response

from ..errors import ForeignHostError, MaxPagesExceededError, PaginationError, PaginationLoopError
from ..http.urls import DEFAULT_PORTS, Origin, normalized, origin, origin_text, origin_url, page_for_log, request_url
from ..templates import is_falsy
from .cap_walks import CapWalk
from .guards import PaginationGuards

__all__ = ["NextLinkPaginator", "announced_next"]


def announced_next(response: Response) -> Optional[bool]:
    """Whether the page's `paging.next` announces more; None when the body has no paging object."""
    try:
        body = response.json()
    except ValueError:
        return False
    paging = body.get("paging") if isinstance(body, dict) else None
    return bool(paging.get("next")) if isinstance(paging, dict) else None


class NextLinkPaginator(BaseNextUrlPaginator):
    """Follows a next-page link taken from `paging.next` in the body.

    Subclasses change where the link comes from by overriding `next_token`. A token is an
    absolute URL, a path joined to the base URL (keeping the base's path prefix), or a `?query`
    that replaces the current URL's query. Links to another scheme/host/port are refused unless
    the guards allow foreign hosts; a link seen twice, or the same page (same record ids in the
    same order) three times in a row with a next page still announced, raises
    PaginationLoopError; a next page beyond `max_pages` raises MaxPagesExceededError.

    :param base_url: the API's base URL (None: the first request's origin).
    :param cap_walk: how the listing goes on past the API's offset cap (None: it ends where the links end).
    """

    #: This many repeats in a row of one page mean a loop. Keyset paging and cap walks may re-read a
    #: page once (a page all of one millisecond, a window starting where the last one ended), never twice.
    LOOPING_REPEATS = 2

    def __init__(
        self,
        base_url: Optional[str] = None,
        guards: Optional[PaginationGuards] = None,
        cap_walk: Optional[CapWalk] = None,
    ) -> None:
        super().__init__()
        if base_url is not None:
            if not isinstance(base_url, str) or urlsplit(base_url).scheme.lower() not in DEFAULT_PORTS:
                raise ValueError("base_url must be an absolute http(s) URL")
        self.base_url = base_url
        self.guards = guards or PaginationGuards()
        self.cap_walk = cap_walk
        self._reset()

    @property
    def max_pages(self) -> Optional[int]:
        return self.guards.max_pages

    def _reset(self) -> None:
        self._next_reference = None
        self._has_next_page = True
        self._base: Optional[str] = self.base_url
        self._seen: set[str] = set()
        self._previous_ids: Optional[tuple[Any, ...]] = None
        self._repeats = 0
        self.pages = 0
        self._walk: Optional[CapWalk] = None
        self._walk_chosen = False

    # -- dlt paginator interface -------------------------------------------------

    def init_request(self, request: Request) -> None:
        """Start a new run: forget earlier pages (dlt may reuse the instance)."""
        self._reset()
        if self._base is None and request.url:
            self._base = origin_url(request_url(request))
        self._choose_walk(request_url(request))
        if self._walk is not None:
            self._walk.start(request)

    def update_state(self, response: Response, data: Optional[list[Any]] = None) -> None:
        """Work out and check the next page's URL from this page."""
        current = response.url or (response.request.url if response.request else None) or ""
        if not self._walk_chosen:  # used without init_request: the walk learns the listing from this page
            self._choose_walk(current)
            if self._walk is not None:
                self._walk.start(None)
        walk = self._walk
        page = data if data is not None else []
        full_page_size = len(page)
        as_received = list(page) if walk is not None else data
        self._count_repeats(page)
        # The walk drops (in place, before dlt yields the page) records already delivered.
        walk_done = bool(walk.filter(page)) if walk is not None else False

        self.pages += 1
        if current:
            self._seen.add(normalized(current))
        if self._base is None and current:
            self._base = origin_url(current)

        next_url = None if walk_done else self._url_from_token(self.next_token(response, as_received), current)
        if walk is not None and not walk_done:
            next_url = walk.after_page(current, full_page_size, next_url)
        if next_url is None:
            self._next_reference = None
            return
        if self._repeats >= self.LOOPING_REPEATS:
            raise PaginationLoopError(
                f"pages {self.pages - self._repeats} to {self.pages} hold the same {full_page_size} records in "
                "the same order; the API is ignoring where its next-page link points (offset or query) "
                "and would send them forever"
            )
        self._follow(next_url)

    def update_request(self, request: Request) -> None:
        """Point the request at the next link (which carries the whole query); the last page leaves it alone."""
        if self._next_reference is not None:
            super().update_request(request)

    # -- extension points -------------------------------------------------------

    def walk_for(self, url: str) -> Optional[CapWalk]:
        """The cap walk for a listing at `url` (None: the listing ends where the links end)."""
        return self.cap_walk

    def next_token(self, response: Response, data: Optional[list[Any]]) -> Any:
        """The next page's link or path, or a falsy value on the last page."""
        try:
            body = response.json()
        except ValueError:
            return None
        paging = body.get("paging") if isinstance(body, dict) else None
        return paging.get("next") if isinstance(paging, dict) else None

    def resolve(self, token: str, current_url: str) -> str:
        """Turn a token into an absolute URL (not yet host-checked)."""
        parts = urlsplit(token)
        if parts.scheme:
            if parts.scheme.lower() not in DEFAULT_PORTS:
                raise PaginationError(
                    f"next page link on page {self.pages} has scheme {parts.scheme!r}; "
                    "only http and https are followed"
                )
            return urlunsplit(parts._replace(fragment=""))
        base = self._base or current_url
        if not base:
            raise PaginationError("cannot resolve a relative next page link without a base URL")
        base_parts = urlsplit(base)
        if parts.netloc:  # scheme-relative "//host/path"
            return urlunsplit((base_parts.scheme, parts.netloc, parts.path, parts.query, ""))
        if token.startswith("?"):
            current = urlsplit(current_url or base)
            return urlunsplit((current.scheme, current.netloc, current.path, parts.query, ""))
        prefix = base_parts.path.rstrip("/")
        path = prefix + "/" + parts.path.lstrip("/")
        return urlunsplit((base_parts.scheme, base_parts.netloc, path, parts.query, ""))

    # -- guards -----------------------------------------------------------------

    def _count_repeats(self, page: list[Any]) -> None:
        """Count how often in a row a page came back with the same record ids in the same order."""
        ids: Optional[tuple[Any, ...]] = tuple(record.get("id") for record in page if isinstance(record, dict))
        if not ids or len(ids) != len(page) or None in ids:
            ids = None
        self._repeats = self._repeats + 1 if ids is not None and ids == self._previous_ids else 0
        self._previous_ids = ids

    def _url_from_token(self, token: Any, current: str) -> Optional[str]:
        """The absolute URL a next-page token points to, or None when the token says stop."""
        if is_falsy(token):
            return None
        if not isinstance(token, str):
            raise PaginationError(
                f"next page token on page {self.pages} is a {type(token).__name__}, "
                "expected a path or an absolute URL"
            )
        token = token.strip()
        if not token:
            return None
        return normalized(self.resolve(token, current))

    def _follow(self, next_url: str) -> None:
        """Make `next_url` the next request, after the host, loop and max_pages checks."""
        next_url = normalized(next_url)
        self._check_host(next_url)
        if next_url in self._seen:
            raise PaginationLoopError(
                f"page {self.pages} links to {page_for_log(next_url)}, which was already "
                "requested in this run; the API is repeating its next-page link"
            )
        if self.max_pages is not None and self.pages >= self.max_pages:
            raise MaxPagesExceededError(
                f"reached max_pages={self.max_pages} and the API still has a next page "
                f"({page_for_log(next_url)}); raise max_pages or narrow the query"
            )
        self._seen.add(next_url)
        self._next_reference = next_url

    def _check_host(self, url: str) -> None:
        if self.guards.allow_foreign_hosts or not self._base:
            return
        expected, actual = self._origin(self._base), self._origin(url)
        if actual != expected:
            raise ForeignHostError(
                f"page {self.pages} links to {origin_text(actual)}, not the API host "
                f"{origin_text(expected)}; refusing to send credentials there. "
                "Set allow_foreign_hosts=True (an operator argument) to follow such links; "
                "the API key is then sent to that host."
            )

    @staticmethod
    def _origin(url: str) -> Origin:
        try:
            return origin(url)
        except ValueError:
            raise PaginationError(f"invalid port in URL {page_for_log(url)}") from None

    def _choose_walk(self, url: str) -> None:
        self._walk = self.walk_for(url)
        self._walk_chosen = True

    def __str__(self) -> str:
        limit = f", max_pages={self.max_pages}" if self.max_pages is not None else ""
        return f"{type(self).__name__}(pages={self.pages}{limit})"

    __repr__ = __str__
