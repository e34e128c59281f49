"""Paginators that follow a next-page link, with guards.

The API returns the next page as a link (`paging.next` in the body, or a
header). Following links blindly can send credentials to another host, spin
forever on a repeated link, or run away on a huge account, so every link
goes through the same checks here before dlt requests it.

Some endpoints stop handing out next links at an offset cap. A paginator can carry a *cap walk*
(see `windows.py` and `two_ended.py`): an object that sees every page before dlt does (to drop
records already delivered), and decides how the listing goes on where the API's links end.
Links a walk makes go through the same checks as the API's own.
"""

from __future__ import annotations

from typing import Any, Optional
from urllib.parse import urlsplit, urlunsplit

from requests import PreparedRequest, Request, Response
from requests.structures import CaseInsensitiveDict

from dlt.sources.helpers.rest_client.paginators import BasePaginator

from .templates import check_template, is_falsy, render, TemplateRenderError

__all__ = [
    "PaginationError",
    "ForeignHostError",
    "PaginationLoopError",
    "MaxPagesExceededError",
    "NextLinkPaginator",
    "TemplateCursorPaginator",
]

_DEFAULT_PORTS = {"http": 80, "https": 443}


class PaginationError(RuntimeError):
    """Pagination cannot go on safely."""


class ForeignHostError(PaginationError):
    """A next-page link points to a host other than the API's."""


class PaginationLoopError(PaginationError):
    """The API handed out a next-page link that was already followed."""


class MaxPagesExceededError(PaginationError):
    """The API still had pages after the configured maximum."""


def _origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an absolute URL, with default ports filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        raise PaginationError(f"invalid port in URL {_describe(url)}") from None
    return scheme, (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(scheme, 0)


def _origin_text(origin: tuple[str, str, int]) -> str:
    scheme, host, port = origin
    return f"{scheme}://{host}:{port}"


def _describe(url: str) -> str:
    """Path and query of a URL, for messages (no scheme, host or user info)."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _normalized(url: str) -> str:
    """The URL as requests would send it, minus a default port, so equal links compare equal."""
    prepared = PreparedRequest()
    try:
        prepared.prepare_url(url, None)
    except Exception:  # noqa: BLE001 - fall back to the raw text
        return url
    parts = urlsplit(prepared.url or url)
    try:
        port = parts.port
    except ValueError:
        return prepared.url or url
    if port is not None and port == _DEFAULT_PORTS.get(parts.scheme.lower()):
        netloc = parts.netloc.rsplit(":", 1)[0]
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)


class NextLinkPaginator(BasePaginator):
    """Follows a next-page link taken from `paging.next` in the body.

    Subclasses change where the link comes from by overriding `next_token`.
    A token is an absolute URL, a path joined to the base URL (keeping the
    base's path prefix), or a `?query` that replaces the current URL's query.
    Links to another scheme/host/port are refused unless
    `allow_foreign_hosts`; a link seen twice, or the same page (same record
    ids in the same order) three times in a row with a next page still
    announced, raises PaginationLoopError; a next page beyond `max_pages`
    raises MaxPagesExceededError.
    """

    def __init__(
        self,
        base_url: Optional[str] = None,
        max_pages: Optional[int] = None,
        allow_foreign_hosts: bool = False,
    ) -> None:
        super().__init__()
        if base_url is not None:
            if not isinstance(base_url, str) or urlsplit(base_url).scheme.lower() not in _DEFAULT_PORTS:
                raise ValueError("base_url must be an absolute http(s) URL")
        if max_pages is not None and (
            isinstance(max_pages, bool) or not isinstance(max_pages, int) or max_pages < 1
        ):
            raise ValueError("max_pages must be a positive integer or None")
        self.base_url = base_url
        self.max_pages = max_pages
        self.allow_foreign_hosts = bool(allow_foreign_hosts)
        self._reset()

    #: How the listing goes on past the API's offset cap (None: it ends where the links end).
    cap_walk: Any = None

    def _reset(self) -> None:
        self._has_next_page = True
        self._base: Optional[str] = self.base_url
        self._next_url: Optional[str] = None
        self._seen: set[str] = set()
        self._previous_ids: Optional[tuple[Any, ...]] = None
        self._repeats = 0
        self.pages = 0
        self._walk: Any = None
        self._walk_chosen = False

    # -- dlt paginator interface -------------------------------------------------

    def init_request(self, request: Request) -> None:
        """Start a new run: forget earlier pages (dlt may reuse the instance)."""
        self._reset()
        if self._base is None and request.url:
            self._base = self._origin_base(request.url)
        self._choose_walk(request.url or "")
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
            self._seen.add(_normalized(current))
        if self._base is None and current:
            self._base = self._origin_base(current)

        next_url = None if walk_done else self._url_from_token(self.next_token(response, as_received), current)
        if walk is not None and not walk_done:
            next_url = walk.after_page(current, full_page_size, next_url)
        if next_url is None:
            self._stop()
            return
        if self._repeats >= self.LOOPING_REPEATS:
            raise PaginationLoopError(
                f"pages {self.pages - self._repeats} to {self.pages} hold the same {full_page_size} records in "
                "the same order; the API is ignoring where its next-page link points (offset or query) "
                "and would send them forever"
            )
        self._follow(next_url)

    #: This many repeats in a row of one page mean a loop. Keyset paging and cap walks may re-read a
    #: page once (a page all of one millisecond, a window starting where the last one ended), never twice.
    LOOPING_REPEATS = 2

    def _count_repeats(self, page: list[Any]) -> None:
        """Count how often in a row a page came back with the same record ids in the same order."""
        ids = tuple(record.get("id") for record in page if isinstance(record, dict))
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
        return _normalized(self.resolve(token, current))

    def _follow(self, next_url: str) -> None:
        """Make `next_url` the next request, after the host, loop and max_pages checks."""
        next_url = _normalized(next_url)
        self._check_host(next_url)
        if next_url in self._seen:
            raise PaginationLoopError(
                f"page {self.pages} links to {_describe(next_url)}, which was already "
                "requested in this run; the API is repeating its next-page link"
            )
        if self.max_pages is not None and self.pages >= self.max_pages:
            raise MaxPagesExceededError(
                f"reached max_pages={self.max_pages} and the API still has a next page "
                f"({_describe(next_url)}); raise max_pages or narrow the query"
            )
        self._seen.add(next_url)
        self._next_url = next_url
        self._has_next_page = True

    def update_request(self, request: Request) -> None:
        """Point the request at the next link; the link carries the whole query."""
        if not self._has_next_page or not self._next_url:
            return
        request.url = self._next_url
        request.params = None

    # -- extension points -------------------------------------------------------

    def walk_for(self, url: str) -> Any:
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
            if parts.scheme.lower() not in _DEFAULT_PORTS:
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

    # -- helpers ----------------------------------------------------------------

    @staticmethod
    def _origin_base(url: str) -> str:
        parts = urlsplit(url)
        return urlunsplit((parts.scheme, parts.netloc, "", "", ""))

    def _check_host(self, url: str) -> None:
        if self.allow_foreign_hosts or not self._base:
            return
        expected, actual = _origin(self._base), _origin(url)
        if actual != expected:
            raise ForeignHostError(
                f"page {self.pages} links to {_origin_text(actual)}, not the API host "
                f"{_origin_text(expected)}; refusing to send credentials there. "
                "Set allow_foreign_hosts=True (an operator argument) to follow such links; "
                "the API key is then sent to that host."
            )

    def _choose_walk(self, url: str) -> None:
        self._walk = self.walk_for(url)
        self._walk_chosen = True

    def _stop(self) -> None:
        self._has_next_page = False
        self._next_url = None

    def __str__(self) -> str:
        limit = f", max_pages={self.max_pages}" if self.max_pages is not None else ""
        return f"{type(self).__name__}(pages={self.pages}{limit})"

    __repr__ = __str__


class TemplateCursorPaginator(NextLinkPaginator):
    """Airbyte-style cursor pagination driven by Jinja templates.

    Templates see `response` (JSON body), `headers` (case-insensitive),
    `last_record`, `last_page_size` and `config`. `stop_condition` is
    evaluated first and stops when true; otherwise `cursor_value` renders
    the next token, and a falsy result stops.

    `cap_walks` maps endpoint paths (e.g. `/v2/alerts`) to the cap walk that
    carries a listing of that endpoint on past the API's offset cap, where
    the templates would see no next link and stop; the walk is picked per run
    from the request's path, so one paginator may serve several endpoints.
    """

    def __init__(
        self,
        cursor_value: str,
        stop_condition: Optional[str] = None,
        config: Optional[dict[str, Any]] = None,
        cap_walks: Optional[dict[str, Any]] = None,
        **guards: Any,
    ) -> None:
        if not isinstance(cursor_value, str) or not cursor_value.strip():
            raise ValueError("cursor_value must be a non-empty template string")
        check_template(cursor_value)
        if stop_condition is not None:
            if not isinstance(stop_condition, str):
                raise ValueError("stop_condition must be a template string")
            check_template(stop_condition)
        super().__init__(**guards)
        self.cursor_value = cursor_value
        self.stop_condition = stop_condition
        self.config = dict(config or {})
        self.cap_walks = {"/" + path.strip("/"): walk for path, walk in (cap_walks or {}).items()}

    def walk_for(self, url: str) -> Any:
        path = urlsplit(url).path.rstrip("/")
        for endpoint, walk in self.cap_walks.items():
            if path == endpoint or path.endswith(endpoint):
                return walk
        return None

    def next_token(self, response: Response, data: Optional[list[Any]]) -> Any:
        context = self._context(response, data)
        if self.stop_condition is not None:
            if not is_falsy(self._render("stop_condition", self.stop_condition, context)):
                return None
        return self._render("cursor_value", self.cursor_value, context)

    def _context(self, response: Response, data: Optional[list[Any]]) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            raise PaginationError(
                f"page {self.pages} is not valid JSON (content type "
                f"{response.headers.get('Content-Type', 'unknown')!r}); "
                "the cursor templates need a JSON body"
            ) from None
        records = list(data) if data else []
        return {
            "response": body,
            "headers": CaseInsensitiveDict(response.headers),
            "last_record": records[-1] if records else None,
            "last_page_size": len(records),
            "config": self.config,
        }

    @staticmethod
    def _render(name: str, template: str, context: dict[str, Any]) -> Any:
        try:
            return render(template, context)
        except TemplateRenderError as exc:
            raise TemplateRenderError(f"{name}: {exc}") from None
