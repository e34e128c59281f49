"""Checks every page before dlt sees it: valid JSON, a list of records, each with its primary key.

dlt is lenient where a sync must not be: a body without `data` becomes an empty page (and an empty
snapshot would mark every user deleted), a `data` object becomes a one-record page, and a record
without `id` breaks the merge. A bad page fails the sync with the resource and the page named;
nothing of that run is loaded, and a rerun after the fault clears loads exactly.
"""

from __future__ import annotations

from typing import Any, Optional

from requests import Response

from ..errors import MalformedPageError
from .urls import page_for_log

__all__ = ["MalformedPageError", "PageCheck", "select_path"]

MISSING = object()


class PageCheck:
    """Validates one resource's pages; `data_selector` None (dlt guesses) checks only the JSON.

    :param primary_key: the field every record needs; a compound key (a list) is not checked.
    """

    def __init__(self, resource: str, data_selector: Optional[str] = "data", primary_key: Any = "id") -> None:
        self.resource = resource
        self.data_selector = data_selector
        self.primary_key = primary_key if isinstance(primary_key, str) else None

    def __call__(self, response: Response, page: int) -> None:
        where = f"{self.resource}: page {page} ({page_for_log(response.url)})"
        try:
            body = response.json()
        except ValueError as error:
            raise MalformedPageError(f"{where} is not valid JSON ({error}); nothing of this run was loaded.") from None
        if self.data_selector is None:
            return
        data = select_path(body, self.data_selector)
        if data is MISSING:
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


def select_path(body: Any, selector: str) -> Any:
    """A plain dotted path (`data`, `data.members`); JSONPath selectors go through dlt's jsonpath.

    Returns MISSING when the path is not in the body.
    """
    if all(part.isidentifier() for part in selector.split(".")):
        value = body
        for part in selector.split("."):
            if not isinstance(value, dict) or part not in value:
                return MISSING
            value = value[part]
        return value
    from dlt.common.jsonpath import find_values

    found = find_values(selector, body)
    if not found:
        return MISSING
    return found[0] if len(found) == 1 else found
