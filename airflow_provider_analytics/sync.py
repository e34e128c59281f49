"""Run one resource of the API into one warehouse table with a dlt pipeline (no Airflow here)."""

from __future__ import annotations

import logging
import os
import tempfile
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from typing import Any

from .progress import SyncProgress
from .source.config import PaginationGuards, plan_resource
from .source.settings import ApiSettings

log = logging.getLogger(__name__)

AIRFLOW_SECRETS_PROVIDER = "Airflow Secrets TOML Provider"


class SyncError(RuntimeError):
    """A sync failed; the message names the resource and what to do, never the key."""


class ApiKeyRefusedError(SyncError):
    """The API answered 401/403: retrying cannot help."""


@dataclass
class SyncSummary:
    """What one sync did; JSON-serialisable for XCom."""

    resource: str
    table: str
    dataset: str
    warehouse: str
    rows: int
    pages: int
    records_fetched: int
    seconds: float
    records_per_second: float
    load_ids: list[str]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def prepare_dlt_environment(use_airflow_secrets: bool = False) -> None:
    """Settings dlt must see before it starts: no telemetry, and no Airflow-Variable lookups.

    Our secrets come from Airflow connections; dlt's Airflow provider would otherwise query an
    Airflow Variable for every setting it resolves (slow, and noisy without a metadata DB).
    """
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    if not use_airflow_secrets:
        os.environ.setdefault("PROVIDERS__ENABLE_AIRFLOW_SECRETS", "false")
    if os.environ.get("PROVIDERS__ENABLE_AIRFLOW_SECRETS", "").lower() in ("false", "0", "no"):
        _drop_airflow_secrets_provider()


def _drop_airflow_secrets_provider() -> None:
    """If dlt was initialised before our setting (e.g. imported by a DAG file), remove the provider."""
    from dlt.common.configuration.container import Container
    from dlt.common.configuration.specs.pluggable_run_context import PluggableRunContext

    context = Container()[PluggableRunContext]
    providers = context.providers.providers
    context.providers.providers = [p for p in providers if p.name != AIRFLOW_SECRETS_PROVIDER]


def pipeline_name_for(dataset_name: str, table: str) -> str:
    """Stable per (dataset, table): dlt restores state by this name on a fresh worker."""
    return f"analytics__{dataset_name}__{table}"


def run_sync(
    resource: str,
    api: ApiSettings,
    warehouse: Any,
    *,
    dataset_name: str = "analytics",
    config: dict[str, Any] | None = None,
    table_name: str | None = None,
    pipeline_name: str | None = None,
    pipelines_dir: str | None = None,
    guards: PaginationGuards | None = None,
    progress_interval: float = 10.0,
    use_airflow_secrets: bool = False,
    logger: logging.Logger | logging.LoggerAdapter | None = None,
) -> SyncSummary:
    """Extract `resource`, merge it into `<dataset_name>.<table>` and say what landed."""
    logger = logger or log
    prepare_dlt_environment(use_airflow_secrets)
    import dlt
    from dlt.sources.rest_api import rest_api_source

    from .source.retry import RetryingSession

    plan = plan_resource(resource, api, config, guards)
    table = table_name or resource
    progress = SyncProgress(resource, logger, progress_interval)
    session = _counting_session(RetryingSession, plan.retry_policy, progress)
    plan.rest_config["client"]["session"] = session

    source = rest_api_source(plan.rest_config, name="analytics").with_resources(resource)
    dlt_resource = source.resources[resource]
    dlt_resource.apply_hints(table_name=table)
    dlt_resource.add_map(progress.on_record)

    name = pipeline_name or pipeline_name_for(dataset_name, table)
    destination = warehouse.destination(staging_dataset_name_layout=f"%s_staging_{table}")
    logger.info("Syncing %s from %s into %s (%s.%s)", resource, plan.base_url, warehouse.location, dataset_name, table)
    started = time.monotonic()
    with ExitStack() as stack:
        stack.enter_context(warehouse.write_lock())
        workdir = pipelines_dir or stack.enter_context(tempfile.TemporaryDirectory(prefix="analytics-dlt-"))
        pipeline = dlt.pipeline(
            pipeline_name=name,
            destination=destination,
            dataset_name=dataset_name,
            pipelines_dir=workdir,
        )
        try:
            load_info = pipeline.run(source)
        except Exception as error:  # dlt wraps every step failure; report the root cause
            raise _sync_error(error, resource, plan.base_url, session) from _root_cause(error)
        rows = _rows_loaded(pipeline, table)
    seconds = time.monotonic() - started
    return SyncSummary(
        resource=resource,
        table=table,
        dataset=dataset_name,
        warehouse=warehouse.location,
        rows=rows,
        pages=progress.pages,
        records_fetched=progress.records,
        seconds=round(seconds, 3),
        records_per_second=round(progress.records / seconds, 1) if seconds else 0.0,
        load_ids=list(load_info.loads_ids),
    )


def _counting_session(session_class: type, policy: Any, progress: SyncProgress) -> Any:
    """A retrying session that reports each final response to `progress`.

    Session-level response hooks would not do: requests drops them when the request brings its
    own (dlt's raise-for-status hook).
    """

    class CountingSession(session_class):  # type: ignore[misc, valid-type]
        def send(self, request: Any, **kwargs: Any) -> Any:
            response = super().send(request, **kwargs)
            progress.on_response(response)
            return response

    return CountingSession(policy)


def _rows_loaded(pipeline: Any, table: str) -> int:
    trace = pipeline.last_trace
    normalize_info = trace.last_normalize_info if trace else None
    if not normalize_info:
        return 0
    return int(normalize_info.row_counts.get(table, 0))


def _root_cause(error: BaseException) -> BaseException:
    seen = set()
    while id(error) not in seen:
        seen.add(id(error))
        nxt = error.__cause__ or error.__context__
        if nxt is None:
            break
        error = nxt
    return error


def _sync_error(error: Exception, resource: str, base_url: str, session: Any) -> SyncError:
    root = _root_cause(error)
    response = getattr(root, "response", None)
    status = getattr(response, "status_code", None)
    if status in (401, 403):
        what = "refused the API key" if status == 401 else "denied access with this API key"
        return ApiKeyRefusedError(
            f"{resource}: the API at {base_url} {what} (HTTP {status}). Check the key in the "
            "connection's password field and that its API integration may read this resource."
        )
    if status is not None:
        request_id = _request_id(response)
        return SyncError(
            f"{resource}: the API answered HTTP {status} after {getattr(session, 'last_attempts', 1)} attempt(s)"
            f"{f' (requestId {request_id})' if request_id else ''}: {_message(response)}"
        )
    return SyncError(f"{resource}: sync failed: {type(root).__name__}: {root}")


def _request_id(response: Any) -> str | None:
    try:
        body = response.json()
    except Exception:
        return None
    return body.get("requestId") if isinstance(body, dict) else None


def _message(response: Any) -> str:
    try:
        body = response.json()
        if isinstance(body, dict) and body.get("message"):
            return str(body["message"])[:500]
    except Exception:
        pass
    return (response.text or response.reason or "")[:500]
