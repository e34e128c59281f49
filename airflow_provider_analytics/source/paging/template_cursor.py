"""Airbyte-style cursor pagination driven by Jinja templates: the seed config's paginator, guarded.

dlt rejects the seed's `{"type": "cursor", "cursor_value": ..., "stop_condition": ...}`; this
paginator gives those templates their Airbyte meaning. It is built per run from the config (with
the run's base URL, guards and cap walks), not registered under a type name in dlt: the seed's
type name, `cursor`, is dlt's own paginator's, and a registered class would get none of those.
"""

from __future__ import annotations

from typing import Any, Optional
from urllib.parse import urlsplit

from requests import Response
from requests.structures import CaseInsensitiveDict

from ..errors import PaginationError, TemplateRenderError
from ..templates import check_template, is_falsy, render
from .cap_walks import CapWalk
from .guards import PaginationGuards
from .next_link import NextLinkPaginator

__all__ = ["TemplateCursorPaginator"]


class TemplateCursorPaginator(NextLinkPaginator):
    """Next-page tokens rendered from templates; every token goes through the next-link guards.

    Templates see `response` (JSON body), `headers` (case-insensitive), `last_record`,
    `last_page_size` and `config`. `stop_condition` is evaluated first and stops when true;
    otherwise `cursor_value` renders the next token, and a falsy result stops.

    `cap_walks` maps endpoint paths (e.g. `/v2/alerts`) to the cap walk that carries a listing
    of that endpoint on past the API's offset cap, where the templates would see no next link
    and stop; the walk is picked per run from the request's path, so one paginator may serve
    several endpoints.
    """

    def __init__(
        self,
        cursor_value: str,
        stop_condition: Optional[str] = None,
        config: Optional[dict[str, Any]] = None,
        cap_walks: Optional[dict[str, CapWalk]] = None,
        base_url: Optional[str] = None,
        guards: Optional[PaginationGuards] = None,
    ) -> None:
        if not isinstance(cursor_value, str) or not cursor_value.strip():
            raise ValueError("cursor_value must be a non-empty template string")
        if stop_condition is not None and not isinstance(stop_condition, str):
            raise ValueError("stop_condition must be a template string")
        for name, template in (("cursor_value", cursor_value), ("stop_condition", stop_condition)):
            if template is not None:
                try:
                    check_template(template)
                except TemplateRenderError as error:
                    raise TemplateRenderError(f"{name}: {error}") from None
        super().__init__(base_url=base_url, guards=guards)
        self.cursor_value = cursor_value
        self.stop_condition = stop_condition
        self.config = dict(config or {})
        self.cap_walks = {"/" + path.strip("/"): walk for path, walk in (cap_walks or {}).items()}

    def walk_for(self, url: str) -> Optional[CapWalk]:
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
