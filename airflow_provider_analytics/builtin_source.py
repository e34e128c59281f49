"""The built-in resources as a dlt source: pages read (side by side where they can be), loaded as Arrow.

Seed-style configs go through dlt's REST API source record by record; the six built-in resources
take this faster path: pages are checked, counted and turned into Arrow tables typed by the
resource's JSON Schema, several pages to a table, and the cursor advances as they arrive.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from .source.arrow_pages import ArrowPageBuilder
from .source.builtin_reader import BuiltinReader
from .source.paginators import MaxPagesExceededError
from .source.schema_hints import column_hints
from .source.windows import epoch_ms

BATCH_ROWS = 5000


def builtin_source(
    resource: str,
    plan: Any,
    api: Any,
    new_session: Callable[[], Any],
    *,
    schema_name: str,
    cursor: Any = None,
    progress: Any = None,
    seen: Callable[[Any], Any] | None = None,
    guards: Any = None,
    max_concurrent_requests: int = 4,
    batch_rows: int = BATCH_ROWS,
) -> Any:
    """A dlt source with one resource, `resource`, read by `BuiltinReader` from `plan`'s endpoint."""
    import dlt
    from dlt.sources.helpers.rest_client.paginators import SinglePagePaginator

    endpoint = plan.rest_config["resources"][0]["endpoint"]
    paginator = endpoint.get("paginator")
    max_pages = getattr(guards, "max_pages", None)
    reader = BuiltinReader(
        resource,
        endpoint.get("params") or {},
        base_url=api.base_url,
        new_session=new_session,
        auth=api.dlt_auth(),
        paginator=SinglePagePaginator() if paginator in (None, "single_page") else paginator,
        cursor_field=cursor.options.cursor_field if cursor else None,
        start=cursor.start if cursor else None,
        max_concurrent_requests=max_concurrent_requests,
        guards={
            "base_url": api.base_url,
            "allow_foreign_hosts": getattr(guards, "allow_foreign_hosts", False),
            "offset_cap": getattr(guards, "offset_cap", 20_000),
        },
    )
    builder = ArrowPageBuilder(column_hints(resource))

    def pages_as_tables() -> Iterator[Any]:
        import pyarrow as pa

        batch: list[Any] = []
        rows = 0
        for number, page in enumerate(reader.pages(), 1):
            if max_pages is not None and number > max_pages:
                raise MaxPagesExceededError(
                    f"{resource}: reached max_pages={max_pages} and the API still has pages; raise max_pages "
                    "or narrow the sync"
                )
            _account(page, progress, seen, cursor)
            table = builder.build(page)
            if table is None:  # does not fit the schema: dlt takes it as records and evolves (or refuses)
                if batch:
                    yield pa.concat_tables(batch)
                    batch, rows = [], 0
                yield page
                continue
            batch.append(table)
            rows += table.num_rows
            if rows >= batch_rows:
                yield pa.concat_tables(batch)
                batch, rows = [], 0
        if batch:
            yield pa.concat_tables(batch)

    dlt_resource = dlt.resource(pages_as_tables, name=resource, primary_key="id", write_disposition="merge")()

    @dlt.source(name=schema_name)
    def analytics() -> Any:
        return dlt_resource

    return analytics()


def _account(page: list[Any], progress: Any, seen: Any, cursor: Any) -> None:
    """Count the page, note its ids (for deletions) and move the cursor to its newest record."""
    if progress is not None:
        progress.on_records(len(page))
    if seen is not None:
        for record in page:
            seen(record)
    if cursor is not None:
        field = cursor.options.cursor_field
        newest = max((ms for ms in (epoch_ms(r.get(field)) for r in page if isinstance(r, dict)) if ms is not None),
                     default=None)
        if newest is not None:
            cursor.advance(newest)
