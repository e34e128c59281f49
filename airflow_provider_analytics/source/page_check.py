"""Checks every page before dlt sees it: valid JSON, a list of records, each with its primary key.

dlt is lenient where a sync must not be: a body without `data` becomes an empty page (and an empty
snapshot would mark every user deleted), a `data` object becomes a one-record page, and a record
without `id` breaks the merge. A bad page fails the sync with the resource and the page named;
nothing of that run is loaded, and a rerun after the fault clears loads exactly.
"""

from __future__ import annotations

from typing import Any, Optional
from urllib.parse import parse_qsl, urlencode, urlsplit

from requests import Response


class MalformedPageError(ValueError):
    """A page the API sent cannot be a page of records."""


class PageCheck:
    """Validates one resource's pages; `data_selector` None (dlt guesses) checks only the JSON."""

    def __init__(self, resource: str, data_selector: Optional[str] = "data", primary_key: Any = "id") -> None:
        self.resource = resource
        self.data_selector = data_selector
        self.primary_key = primary_key if isinstance(primary_key, str) else None

    def __call__(self, response: Response, page: int) -> None:
        where = f"{self.resource}: page {page} ({_path(response.url)})"
        try:
            body = response.json()
        except ValueError as error:
            raise MalformedPageError(f"{where} is not valid JSON ({error}); nothing of this run was loaded.") from None
        if self.data_selector is None:
            return
        data = _select(body, self.data_selector)
        if data is _MISSING:
            raise MalformedPageError(f"{where} has no '{self.data_selector}' list; nothing of this run was loaded.")
        if not isinstance(data, list):
            raise MalformedPageError(
                f"{where}: '{self.data_selector}' is a {type(data).__name__}, not a list of records; "
                "nothing of this run was loaded."
            )
        if self.primary_key is None:
            return
        for index, record in enumerate(data):
            if not isinstance(record, dict) or record.get(self.primary_key) in (None, ""):
                raise MalformedPageError(
                    f"{where}: record {index} has no '{self.primary_key}', so it cannot be merged; "
                    "nothing of this run was loaded."
                )


_MISSING = object()


def _select(body: Any, selector: str) -> Any:
    """A plain dotted path (`data`, `result.items`); JSONPath selectors go through dlt's jsonpath."""
    if all(part.isidentifier() for part in selector.split(".")):
        value = body
        for part in selector.split("."):
            if not isinstance(value, dict) or part not in value:
                return _MISSING
            value = value[part]
        return value
    from dlt.common.jsonpath import find_values

    found = find_values(selector, body)
    if not found:
        return _MISSING
    return found[0] if len(found) == 1 else found


_SHOWN_PARAMS = ("offset", "limit", "sort", "order", "query")


def _path(url: Optional[str]) -> str:
    """Path plus the paging parameters only: a user's config might carry a key in the query."""
    parts = urlsplit(url or "")
    shown = [(k, v) for k, v in parse_qsl(parts.query) if k in _SHOWN_PARAMS]
    return parts.path + (f"?{urlencode(shown)}" if shown else "")


def page_check_for(rest_config: dict[str, Any], resource: str) -> PageCheck:
    """The check for `resource` as a dlt REST API config describes it (data_selector, primary_key)."""
    defaults = rest_config.get("resource_defaults") or {}
    entry = next(
        (r for r in rest_config.get("resources", []) if isinstance(r, dict) and r.get("name") == resource), {}
    )
    endpoint = entry.get("endpoint") if isinstance(entry.get("endpoint"), dict) else {}
    default_endpoint = defaults.get("endpoint") if isinstance(defaults.get("endpoint"), dict) else {}
    selector = (
        endpoint.get("data_selector")
        or default_endpoint.get("data_selector")
        or (rest_config.get("client") or {}).get("data_selector")
    )
    primary_key = entry.get("primary_key", defaults.get("primary_key"))
    return PageCheck(resource, selector, primary_key)
