"""The successor API's wire format <-> the classic one, applied by the HTTP session of a connection to it.

Outgoing: `limit` becomes `size`, cut to what the operation accepts. Incoming: a 2xx list body
`{values | platformTeams, links: {next}, count}` becomes `{data, paging: {next}, totalCount}`
with classic records (`records.py`), and the next link's `size` reads `limit` again, so every
paginator and check upstream of the session works unchanged.
"""

from __future__ import annotations

import re
from typing import Any, Optional
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .endpoints import ENDPOINTS, PARAM_NAMES, Endpoint
from .records import records_of

_CLASSIC_NAMES = {wire: classic for classic, wire in PARAM_NAMES.items()}


def _pattern(path: str) -> re.Pattern[str]:
    return re.compile(re.escape(path).replace(re.escape("{id}"), "[^/]+") + "/?$")


_ROUTES = tuple((_pattern(endpoint.path), endpoint) for endpoint in ENDPOINTS.values())


def endpoint_for(url: str) -> Optional[Endpoint]:
    """The operation a URL asks for (by its path's end), None when it is none of ours."""
    path = urlsplit(url).path
    return next((endpoint for pattern, endpoint in _ROUTES if pattern.search(path)), None)


def _renamed_query(url: str, names: dict[str, str], max_size: Optional[int] = None) -> str:
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = []
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        name = names.get(name, name)
        if max_size is not None and name == "size" and value.isdigit():
            value = str(min(int(value), max_size))
        pairs.append((name, value))
    return urlunsplit(parts._replace(query=urlencode(pairs)))


class JsmWire:
    """Translates one connection's requests and list pages; stateless, shared by a run's sessions."""

    name = "jsm"

    def outgoing(self, url: str) -> str:
        """The URL as the successor API takes it."""
        endpoint = endpoint_for(url)
        return _renamed_query(url, PARAM_NAMES, endpoint.max_size if endpoint else None)

    def incoming(self, url: str, body: Any) -> Any:
        """A list body in the classic shape; anything else (an error, an unknown path) as it came."""
        endpoint = endpoint_for(url)
        if endpoint is None or not isinstance(body, dict) or not isinstance(body.get(endpoint.records_key), list):
            return body
        links = body.get("links")
        following = links.get("next") if isinstance(links, dict) else None
        paging: dict[str, Any] = {}
        if isinstance(following, str) and following:
            paging["next"] = _renamed_query(following, _CLASSIC_NAMES)
        classic: dict[str, Any] = {"data": records_of(endpoint, body[endpoint.records_key]), "paging": paging}
        if isinstance(body.get("count"), int):
            classic["totalCount"] = body["count"]
        return classic
