"""What a sync read and wrote, for OpenLineage: the API endpoint, the warehouse table, the run's summary.

Plain data, no OpenLineage: `execute` keeps a `SyncLineage` on the operator (cheap, and harmless
when no lineage is collected); `lineage_facets.py` turns it into OpenLineage objects only when
the OpenLineage provider asks. Nothing here holds a secret: the API is named by its scheme,
host and path, never its key; the warehouse by its OpenLineage name, never its credentials.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Optional
from urllib.parse import urlsplit

from airflow_provider_analytics.pipeline.options import SyncOptions
from airflow_provider_analytics.pipeline.warehouse import Warehouse
from airflow_provider_analytics.source.catalog import CATALOG
from airflow_provider_analytics.source.errors import ResourceUnsupportedError
from airflow_provider_analytics.source.flavour import FLAVOUR_JSM

if TYPE_CHECKING:
    from airflow_provider_analytics.pipeline.sync import SyncSummary
    from airflow_provider_analytics.source.settings import ApiSettings

__all__ = ["SyncLineage", "api_endpoint", "planned_lineage", "sync_lineage"]


@dataclass(frozen=True)
class SyncLineage:
    """One run's datasets and, once it finished, its summary.

    :param api_namespace: the API's OpenLineage namespace: scheme and host (`https://api.opsgenie.com`).
    :param endpoint: the path read, a template for a resource read per parent
        (`/v2/alerts/{id}/logs`); None when it cannot be told (a resource the API does not serve).
    :param deletions: what the run does with rows gone upstream (`mark`, `remove`, `keep`).
    """

    resource: str
    api_namespace: str
    endpoint: Optional[str]
    warehouse: Warehouse
    dataset: str
    table: str
    deletions: str
    summary: Optional[SyncSummary] = None

    def finished(self, summary: SyncSummary) -> SyncLineage:
        """The same datasets, with what the run did."""
        return replace(self, summary=summary)


def sync_lineage(
    resource: str, api: ApiSettings, config: Optional[Mapping[str, Any]], warehouse: Warehouse, options: SyncOptions
) -> SyncLineage:
    """The datasets a sync of `resource` reads and writes, known before it runs."""
    namespace, endpoint = api_endpoint(resource, api, config)
    return SyncLineage(
        resource=resource,
        api_namespace=namespace,
        endpoint=endpoint,
        warehouse=warehouse,
        dataset=options.dataset_name,
        table=options.table_for(resource),
        deletions=options.deletions,
    )


def planned_lineage(
    resource: str,
    analytics_conn_id: str,
    warehouse_conn_id: Optional[str],
    config: Optional[Mapping[str, Any]],
    options: Callable[[], SyncOptions],
    logger: Any,
) -> Optional[SyncLineage]:
    """The datasets a run will read and write, from its connections, before it starts; None when they
    cannot be read: `execute` then says what is wrong, in words, and lineage stays silent.
    """
    from airflow_provider_analytics.hooks.analytics import AnalyticsHook
    from airflow_provider_analytics.warehouses import resolve_warehouse

    try:
        api = AnalyticsHook(analytics_conn_id=analytics_conn_id).get_conn()
        return sync_lineage(resource, api, config, resolve_warehouse(warehouse_conn_id), options())
    except Exception as error:  # the message could quote a connection's field: only its kind is logged
        logger.debug("No lineage before the run: %s", type(error).__name__)
        return None


def api_endpoint(resource: str, api: ApiSettings, config: Optional[Mapping[str, Any]] = None) -> tuple[str, Optional[str]]:
    """(namespace, path) of the endpoint a sync of `resource` reads: the catalog's path on the
    connection's API (the successor's own path on Jira Service Management), or the path a seed-style
    `config` states. The path includes the base URL's own (`/jsm/ops/api/<cloud id>/v1/alerts`).
    """
    base_url = api.base_url
    path: Optional[str] = None
    if config is None:
        path = _builtin_path(resource, api)
    else:
        stated = config.get("client")
        client: Mapping[str, Any] = stated if isinstance(stated, Mapping) else {}
        base_url = str(client.get("base_url") or base_url)
        path = _seed_path(resource, config)
    if path is not None and "://" in path:  # an endpoint given as a whole URL
        base_url, path = path, ""
    base = urlsplit(base_url)
    namespace = f"{base.scheme}://{base.hostname or ''}" + (f":{base.port}" if base.port else "")
    if path is None:
        return namespace, None
    return namespace, "/" + "/".join(part.strip("/") for part in (base.path, path) if part.strip("/"))


def _builtin_path(resource: str, api: ApiSettings) -> Optional[str]:
    if api.flavour == FLAVOUR_JSM:
        from airflow_provider_analytics.source.jsm.catalog import jsm_spec

        try:
            return jsm_spec(resource).path
        except ResourceUnsupportedError:  # the run fails or skips on it, saying so
            return None
    spec = CATALOG.get(resource)
    return spec.path if spec is not None else None


def _seed_path(resource: str, config: Mapping[str, Any]) -> Optional[str]:
    """The resource's endpoint path as dlt's REST API source reads it: endpoint (text or its `path`), else the name."""
    for entry in config.get("resources") or ():
        if entry == resource:
            return resource
        if isinstance(entry, Mapping) and entry.get("name") == resource:
            endpoint = entry.get("endpoint")
            if isinstance(endpoint, str):
                return endpoint
            if isinstance(endpoint, Mapping) and endpoint.get("path"):
                return str(endpoint["path"])
            return resource
    return None
