"""A sync's `SyncLineage` as OpenLineage datasets and facets.

Imports OpenLineage at the top: only the operator's `get_openlineage_facets_on_*` methods import
this module, and the OpenLineage provider calls them only when it is installed.
"""

from __future__ import annotations

from typing import Any, Optional

from airflow.providers.openlineage.extractors import OperatorLineage
from attrs import define
from openlineage.client.event_v2 import InputDataset, OutputDataset
from openlineage.client.facet_v2 import RunFacet, output_statistics_output_dataset, schema_dataset

from airflow_provider_analytics.operators.lineage import SyncLineage
from airflow_provider_analytics.source.schema_hints import SCHEMA_RESOURCES, column_hints, load_json_schema

__all__ = ["AnalyticsSyncRunFacet", "RUN_FACET_KEY", "operator_lineage", "table_schema_facet"]

#: The run facet's key in an event's `run.facets`.
RUN_FACET_KEY = "analyticsSync"
#: The run facet's schema, by name and version: its JSON Schema is docs/lineage-run-facet.json.
RUN_FACET_SCHEMA_URL = "urn:airflow-provider-analytics:lineage-run-facet:1#/$defs/AnalyticsSyncRunFacet"


@define
class AnalyticsSyncRunFacet(RunFacet):
    """What one sync did: how it read (mode, method), what it changed, what it cost in requests.

    :param mode: `replace` (a full refresh), `incremental` (from the stored cursor) or `merge`.
    :param method: how an incremental run read (`updatedAt search`, `recent first`, `full read`, `createdAt`).
    :param deletions: what the run does with rows gone upstream (`mark`, `remove`, `keep`);
        `rowsDeleted` how many it marked or removed.
    :param tableRows: the table's rows after the run (`rowsLoaded` is in the output's statistics too).
    """

    resource: str
    mode: str
    deletions: str
    rowsLoaded: int  # noqa: N815 - OpenLineage facets name their fields in camelCase
    rowsDeleted: int  # noqa: N815
    tableRows: int  # noqa: N815
    requests: int
    throttled: int
    pages: int
    recordsFetched: int  # noqa: N815
    method: Optional[str] = None
    cursorField: Optional[str] = None  # noqa: N815
    updatedAtSearch: Optional[str] = None  # noqa: N815
    parents: Optional[int] = None

    @staticmethod
    def _get_schema() -> str:
        return RUN_FACET_SCHEMA_URL


def operator_lineage(lineage: Optional[SyncLineage]) -> OperatorLineage:
    """The run's input (the API endpoint) and output (the table); with its summary, the counts and the run facet."""
    if lineage is None:  # execute did not get as far as naming the datasets
        return OperatorLineage()
    inputs = []
    if lineage.endpoint is not None:
        inputs.append(InputDataset(namespace=lineage.api_namespace, name=lineage.endpoint))
    outputs = []
    named = lineage.warehouse.lineage_dataset(lineage.dataset, lineage.table)
    summary = lineage.summary
    if named is not None:
        facets: dict[str, Any] = {}
        schema = table_schema_facet(lineage.resource)
        if schema is not None:
            facets["schema"] = schema
        output_facets: dict[str, Any] = {}
        if summary is not None:
            output_facets["outputStatistics"] = output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
                rowCount=summary.rows
            )
        outputs.append(OutputDataset(namespace=named[0], name=named[1], facets=facets, outputFacets=output_facets))
    run_facets: dict[str, Any] = {}
    if summary is not None:
        run_facets[RUN_FACET_KEY] = AnalyticsSyncRunFacet(
            resource=summary.resource,
            mode=summary.mode,
            deletions=lineage.deletions,
            rowsLoaded=summary.rows,
            rowsDeleted=summary.deleted,
            tableRows=summary.table_rows,
            requests=summary.requests,
            throttled=summary.throttled,
            pages=summary.pages,
            recordsFetched=summary.records_fetched,
            method=summary.method,
            cursorField=summary.cursor_field,
            updatedAtSearch=summary.updated_at_search,
            parents=summary.parents,
        )
    return OperatorLineage(inputs=inputs, outputs=outputs, run_facets=run_facets)


def table_schema_facet(resource: str) -> Optional[schema_dataset.SchemaDatasetFacet]:
    """The table's columns from the resource's JSON Schema, named as dlt names them (`createdAt` -> `created_at`).

    Types are the dlt data types the columns are created with (`text`, `timestamp`, `bigint`,
    `json`, ...); a `json` column lists the object's own fields. None for a resource without a
    schema (a seed config's own).
    """
    if resource not in SCHEMA_RESOURCES:
        return None
    from dlt.common.normalizers.naming.snake_case import NamingConvention

    naming = NamingConvention()
    properties = load_json_schema(resource).get("properties", {})
    fields = [
        schema_dataset.SchemaDatasetFacetFields(
            name=naming.normalize_identifier(name),
            type=hint["data_type"],
            description=hint["description"] or None,
            fields=_nested_fields(properties[name]) or None,
        )
        for name, hint in column_hints(resource).items()
    ]
    return schema_dataset.SchemaDatasetFacet(fields=fields)


def _nested_fields(prop: dict[str, Any]) -> list[schema_dataset.SchemaDatasetFacetFields]:
    """An object's fields (kept inside its `json` column under their own names), each with its JSON type."""
    nested = prop.get("properties") or (prop.get("items") or {}).get("properties") or {}
    return [
        schema_dataset.SchemaDatasetFacetFields(
            name=name,
            type=_json_type(child),
            description=child.get("description"),
            fields=_nested_fields(child) or None,
        )
        for name, child in nested.items()
    ]


def _json_type(prop: dict[str, Any]) -> Optional[str]:
    declared = prop.get("type")
    types = [declared] if isinstance(declared, str) else [kind for kind in declared or () if kind != "null"]
    return types[0] if len(types) == 1 else None
