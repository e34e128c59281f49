"""A plan as a dlt source of one resource, hinted for its table: the built-in fast path or dlt's REST API source.

Built-in resources take the fast path: pages are checked, counted and turned into Arrow tables
typed by the resource's JSON Schema, several pages to a table, and the cursor advances as they
arrive. Seed-style configs go through dlt's REST API source record by record. Either way every
page goes through the run's sessions: retried, checked before dlt sees it, counted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Optional

from ..source.builtin.arrow_pages import ArrowPageBuilder
from ..source.builtin.reader import BuiltinReader
from ..source.errors import MaxPagesExceededError
from ..source.http.page_check import PageCheck
from ..source.http.retry import RetryPolicy
from ..source.http.pacer import Pacer, PacerStats
from ..source.http.server_clock import local_now_ms, response_date_ms
from ..source.http.session import OnPage, RetryingSession
from ..source.incremental import CursorState
from ..source.plan import BuiltinPlan, ChildPlan, Plan, SeedPlan
from ..source.timestamps import epoch_ms
from .deletions import deleted_at_hint
from .names import schema_name_for
from .options import SyncOptions
from .progress import SyncProgress

if TYPE_CHECKING:
    import requests
    from dlt.extract import DltResource, DltSource

#: Rows per Arrow table handed to dlt: several pages, so dlt's per-item work is paid rarely.
BATCH_ROWS = 5000
FROZEN_SCHEMA_CONTRACT = {"tables": "evolve", "columns": "freeze", "data_type": "freeze"}

Seen = Callable[[Any], Any]


class RunSessions:
    """The HTTP sessions of one run: retrying per the plan's policy, checking and counting every page.

    Each reader thread takes a session of its own (`new`). Failures name their attempts from the
    response or error; `last_attempts` is the fallback a failed run reports.
    """

    def __init__(self, plan: Plan, progress: SyncProgress, pacer: Optional[Pacer] = None) -> None:
        self.policy: RetryPolicy = plan.retry_policy
        self.pacer = pacer
        self.wire = getattr(plan, "wire", None)
        self._check = plan.page_check
        self._progress = progress
        self._last: Optional[RetryingSession] = None
        self._sessions: list[RetryingSession] = []
        self._local_start_ms = local_now_ms()
        self._server_start_ms: Optional[int] = None

    @property
    def started_ms(self) -> int:
        """When the run's first page was made on the API's clock (`Date`), else when the run began here."""
        return self._server_start_ms if self._server_start_ms is not None else self._local_start_ms

    def new(self, check: Optional[PageCheck] = None) -> RetryingSession:
        """A session of this run; `check` replaces the plan's page check (a child's parent listing)."""
        self._last = RetryingSession(self.policy, on_page=self._page_counter(check or self._check), pacer=self.pacer,
                                     wire=self.wire)
        self._sessions.append(self._last)
        return self._last

    @property
    def budget(self) -> PacerStats:
        """Requests of this run (retries included), how many were throttled, seconds waited for budget."""
        total = PacerStats()
        for session in self._sessions:
            total.add(session.budget)
        return total

    @property
    def last_attempts(self) -> int:
        return self._last.last_attempts if self._last is not None else 0

    def _page_counter(self, check: PageCheck) -> OnPage:
        def on_page(response: requests.Response) -> None:
            check(response, self._progress.pages + 1)
            if self._server_start_ms is None:
                self._server_start_ms = response_date_ms(response)
            self._progress.count_page()

        return on_page


def dlt_source(
    plan: BuiltinPlan | SeedPlan,
    sessions: RunSessions,
    progress: SyncProgress,
    options: SyncOptions,
    *,
    cursor: Optional[CursorState] = None,
    seen: Optional[Seen] = None,
) -> DltSource:
    """A dlt source with the plan's one resource, hinted for its table.

    :param cursor: the stored cursor of an incremental resource (it advances as pages arrive).
    :param seen: told every record of a snapshot, to find the rows gone upstream.
    """
    table = options.table_for(plan.resource)
    if isinstance(plan, BuiltinPlan):
        source = _builtin_source(plan, sessions, progress, options, schema_name_for(table), cursor, seen)
    else:
        source = _seed_source(plan, sessions, progress, schema_name_for(table), seen)
    apply_table_hints(source.resources[plan.resource], plan, table, options)
    return source


def _builtin_source(
    plan: BuiltinPlan,
    sessions: RunSessions,
    progress: SyncProgress,
    options: SyncOptions,
    schema_name: str,
    cursor: Optional[CursorState],
    seen: Optional[Seen],
) -> DltSource:
    import dlt

    reader = BuiltinReader(
        plan, sessions.new, max_concurrent_requests=options.max_concurrent_requests, cursor=cursor,
        logger=progress.log,
    )
    builder = ArrowPageBuilder(dict(plan.columns))
    max_pages = options.guards.max_pages

    def pages_as_tables() -> Iterator[Any]:
        import pyarrow as pa

        batch: list[Any] = []
        rows = 0
        for number, page in enumerate(reader.pages(), 1):
            if max_pages is not None and number > max_pages:
                raise MaxPagesExceededError(
                    f"{plan.resource}: reached max_pages={max_pages} and the API still has pages; raise max_pages "
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
            if rows >= BATCH_ROWS:
                yield pa.concat_tables(batch)
                batch, rows = [], 0
        if batch:
            yield pa.concat_tables(batch)
        if cursor is not None:  # every page read: the cursor and what the search did go into the state
            cursor.finish(sessions.started_ms)
            progress.log.info("%s: read by %s (updatedAt search: %s)", plan.resource, cursor.method,
                              cursor.search or "not tried")
        if builder.pages_as_records:
            progress.log.info(
                "%s: %d page(s) did not fit the resource's JSON Schema and went to dlt as records "
                "(new fields become columns, or a frozen schema refuses them)",
                plan.resource, builder.pages_as_records,
            )

    dlt_resource = dlt.resource(pages_as_tables, name=plan.resource, primary_key=plan.spec.key, write_disposition="merge")()

    @dlt.source(name=schema_name)
    def analytics() -> DltResource:
        return dlt_resource

    return analytics()


def _seed_source(plan: SeedPlan, sessions: RunSessions, progress: SyncProgress, schema_name: str,
                 seen: Optional[Seen]) -> DltSource:
    from dlt.sources.rest_api import rest_api_source

    source = rest_api_source(plan.dlt_config(sessions.new()), name=schema_name).with_resources(plan.resource)
    dlt_resource = source.resources[plan.resource]
    dlt_resource.add_map(progress.on_record)
    if seen is not None:
        dlt_resource.add_map(seen)
    return source


def _account(page: list[Any], progress: SyncProgress, seen: Optional[Seen], cursor: Optional[CursorState]) -> None:
    """Count the page, note its ids (for deletions) and show the cursor its newest record."""
    progress.on_records(len(page))
    if seen is not None:
        for record in page:
            seen(record)
    if cursor is not None:
        field = cursor.field
        newest = max((ms for ms in (epoch_ms(r.get(field)) for r in page if isinstance(r, dict)) if ms is not None),
                     default=None)
        if newest is not None:
            cursor.see(newest)


def apply_table_hints(dlt_resource: DltResource, plan: Plan, table: str, options: SyncOptions) -> None:
    """Typed, described columns from the resource's JSON Schema; nested data as JSON columns.

    When a record arrives twice in one load (changed while the sync ran), the merge keeps the
    version with the latest `updatedAt`.
    """
    columns = {name: dict(hint) for name, hint in plan.columns.items()}  # dlt may change what it is given
    if "updatedAt" in columns:
        columns["updatedAt"] = {**columns["updatedAt"], "dedup_sort": "desc"}
    if plan.snapshot and options.deletions == "mark":
        columns.update(deleted_at_hint())
    hints: dict[str, Any] = {"table_name": table}
    if columns:
        hints["columns"] = columns
    if options.full_refresh and not isinstance(plan, ChildPlan):  # a child's table fills over several loads
        hints["write_disposition"] = "replace"
    if options.freeze_schema:
        hints["schema_contract"] = FROZEN_SCHEMA_CONTRACT
    dlt_resource.apply_hints(**hints)
    dlt_resource.max_table_nesting = 0
