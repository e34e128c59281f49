"""The fake API lists every resource as the vendor's published spec says, so it cannot drift kinder.

`tests/data/opsgenie_spec_extract.json` is an extract of the list operations of the vendor's
OpenAPI description (repository `opsgenie/opsgenie-oas`; the file names the commits). The fake's
parameters are checked against it here, and its behaviour at the edges against a running server.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from airflow_provider_analytics.testing.fake_api import RESOURCES, FakeAnalyticsAPI

SPEC = json.loads((Path(__file__).parents[1] / "data" / "opsgenie_spec_extract.json").read_text())
OPERATIONS = SPEC["operations"]
KEY = "spec-key"


def parameter(resource: str, name: str) -> dict:
    return OPERATIONS[resource]["parameters"][name]


def default_of(param: dict):
    return param.get("default", param.get("default_from_description"))


def test_the_extract_says_where_it_came_from():
    assert SPEC["source"]["repository"] == "opsgenie/opsgenie-oas"
    assert all(len(commit) == 40 for commit in SPEC["source"]["files"].values())


@pytest.mark.parametrize("resource", ["alerts", "incidents"])
def test_sort_order_and_limit_of_alerts_and_incidents(resource):
    spec, fake = OPERATIONS[resource]["parameters"], RESOURCES[resource]
    assert fake.sort_param == "sort"
    assert set(fake.sorts) == set(spec["sort"]["enum"])
    assert fake.default_sort == spec["sort"]["default"]
    assert fake.default_order == spec["order"]["default"]
    assert fake.default_limit == default_of(spec["limit"])
    assert fake.max_limit == spec["limit"]["maximum"]
    assert fake.query_required == spec["query"]["required"]


def test_incidents_cannot_sort_on_updated_at_and_alerts_can():
    assert "updatedAt" not in parameter("incidents", "sort")["enum"]
    assert "updatedAt" not in RESOURCES["incidents"].sorts
    assert "updatedAt" in RESOURCES["alerts"].sorts


@pytest.mark.parametrize("resource", ["users", "services"])
def test_users_and_services_take_the_users_parameters(resource):
    spec, fake = OPERATIONS[resource]["parameters"], RESOURCES[resource]
    assert "sortField" in spec and "sort" not in spec
    assert fake.sort_param == "sortField"
    assert fake.default_order == spec["order"]["default"]
    assert fake.default_limit == default_of(spec["limit"])
    assert fake.max_limit is None and "maximum" not in spec["limit"]
    if resource == "users":
        assert set(fake.sorts) == set(spec["sortField"]["enum_from_description"])


@pytest.mark.parametrize("resource", ["teams", "integrations"])
def test_teams_and_integrations_do_not_page(resource):
    assert not RESOURCES[resource].paginated
    assert not {"limit", "offset"} & set(OPERATIONS[resource]["parameters"])


def test_paging_envelopes_match_the_response_schemas():
    with FakeAnalyticsAPI(api_key=KEY, sizes={"alerts": 30, "incidents": 30, "users": 30}) as api, \
            requests.Session() as session:
        session.headers["Authorization"] = f"GenieKey {KEY}"
        for resource in ("alerts", "incidents", "users", "teams"):
            response = session.get(api.base_url + RESOURCES[resource].path, params={"limit": 10}
                                   if RESOURCES[resource].paginated else None)
            declared = set(OPERATIONS[resource]["response"]["properties"])
            assert {"data", "took", "requestId"} <= set(response.json())
            # incidents also carry totalCount upstream (the API notes), which the spec does not declare
            assert set(response.json()) - {"totalCount"} <= declared, resource
            if "paging" in declared:
                assert response.headers["X-Paging-First"] == response.json()["paging"]["first"]


def test_errors_carry_the_spec_error_fields():
    assert {"message", "took", "requestId"} <= set(SPEC["error_response"]["properties"])
    with FakeAnalyticsAPI(api_key=KEY, sizes={"incidents": 5}) as api:
        response = requests.get(api.base_url + "/v1/incidents", params={"sort": "updatedAt"},
                                headers={"Authorization": f"GenieKey {KEY}"})
    assert response.status_code == 422
    assert {"message", "took", "requestId"} <= set(response.json())
