"""URLs as the guards compare them and as logs may show them (never a query value that could be a key)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Optional, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

if TYPE_CHECKING:
    from requests import Request

DEFAULT_PORTS = {"http": 80, "https": 443}
#: The query parameters messages may show: the API's paging and search, never a user's own.
PAGING_PARAMS = ("offset", "limit", "sort", "sortField", "order", "query")

Origin = tuple[str, str, int]


def origin(url: str) -> Origin:
    """(scheme, host, port) of an absolute URL, default ports filled in; ValueError on a bad port."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS.get(scheme, 0)


def origin_text(where: Origin) -> str:
    scheme, host, port = where
    return f"{scheme}://{host}:{port}"


def origin_url(url: str) -> str:
    """`scheme://netloc` of a URL, as written."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def without_query(url: str) -> str:
    """The URL up to its path: the listing a paged request reads, whatever its page."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def normalized(url: str) -> str:
    """The URL as requests would send it, minus a default port, so equal links compare equal."""
    from requests import PreparedRequest

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
    if port is not None and port == DEFAULT_PORTS.get(parts.scheme.lower()):
        parts = parts._replace(netloc=parts.netloc.rsplit(":", 1)[0])
    return urlunsplit(parts)


def url_for_log(url: Optional[str]) -> str:
    """Scheme, host, port and path: no user info, no query."""
    if not url:
        return "<unknown url>"
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def page_for_log(url: Optional[str]) -> str:
    """Path plus the paging parameters only: a user's config might carry a key in the query."""
    parts = urlsplit(url or "")
    shown = [(k, v) for k, v in parse_qsl(parts.query) if k in PAGING_PARAMS]
    return parts.path + (f"?{urlencode(shown)}" if shown else "")


def query_params(url: str) -> dict[str, str]:
    """The query of a URL as a dict (blank values kept)."""
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def request_url(request: Request) -> str:
    """A paged request's URL, "" when unset: requests allows bytes, dlt always sets text."""
    return cast(str, request.url or "")


def request_params(request: Request) -> dict[str, Any]:
    """A copy of a paged request's parameters: requests allows a query string, dlt always sets a dict."""
    return dict(cast("Mapping[str, Any]", request.params or {}))
