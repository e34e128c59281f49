"""The fake API lists every resource as the vendor's published spec says, so it cannot drift kinder.

`tests/data/opsgenie_spec_extract.json` is an extract of the list operations of the vendor's
OpenAPI description and of the operations read per parent record (repository `opsgenie/opsgenie-oas`;
the file names the commits). The fake's parameters are checked against it here, and its behaviour at
the edges against a running server.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from airflow_provider_analytics.testing.fake_api import CHILDREN, RESOURCES, FakeAnalyticsAPI

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


# -- the operations under one parent record, and schedules, escalations, heartbeats ----------------

TIMELINES = ["alert_logs", "alert_notes"]


@pytest.mark.parametrize("resource", TIMELINES)
def test_logs_and_notes_page_by_offset_token_as_the_spec_says(resource):
    spec, fake = OPERATIONS[resource]["parameters"], CHILDREN[resource]
    assert fake.paged and spec["offset"]["type"] == "string"
    assert (fake.min_limit, fake.max_limit) == (spec["limit"]["minimum"], spec["limit"]["maximum"])
    assert fake.default_limit == default_of(spec["limit"])
    assert set(fake.orders) == set(spec["order"]["enum"]) and fake.default_order == spec["order"]["default"]
    assert set(fake.directions) == set(spec["direction"]["enum"])
    assert fake.default_direction == spec["direction"]["default"]
    assert OPERATIONS[resource]["response"]["paging_properties"] == ["first", "next"]


@pytest.mark.parametrize("resource", ["alert_logs", "alert_notes", "alert_recipients", "team_members", "user_teams"])
def test_identifier_types_follow_the_spec(resource):
    spec, fake = OPERATIONS[resource]["parameters"], CHILDREN[resource]
    assert fake.path == OPERATIONS[resource]["path"]
    if "identifierType" not in spec:  # listUserTeams declares none
        assert fake.identifier_types == ()
        return
    assert set(fake.identifier_types) == set(spec["identifierType"]["enum"])
    assert fake.default_identifier_type == spec["identifierType"]["default"]


@pytest.mark.parametrize("resource", ["alert_recipients", "user_teams", "team_members"])
def test_children_the_spec_does_not_page_are_not_paged(resource):
    assert not CHILDREN[resource].paged
    assert not {"limit", "offset", "direction"} & set(OPERATIONS[resource]["parameters"])


@pytest.mark.parametrize("resource", ["schedules", "escalations", "heartbeats"])
def test_schedules_escalations_and_heartbeats_are_single_lists(resource):
    fake, spec = RESOURCES[resource], OPERATIONS[resource]
    assert not fake.paginated and fake.path == spec["path"]
    assert not {"limit", "offset", "sort", "order"} & set(spec["parameters"])
    if resource == "schedules":
        assert fake.expandable == tuple(spec["parameters"]["expand"]["enum_from_description"]) == ("rotation",)
        assert "expandable" in spec["response"]["required"]
    if resource == "heartbeats":
        assert fake.data_key == "heartbeats" and spec["response"]["data_properties"] == ["heartbeats"]


@pytest.fixture(scope="module")
def served():
    with FakeAnalyticsAPI(api_key=KEY, sizes={"alerts": 20}) as api, requests.Session() as session:
        session.headers["Authorization"] = f"GenieKey {KEY}"
        yield api, session


def test_children_envelopes_and_records_match_the_response_schemas(served):
    api, session = served
    alert, user, team = api.records("alerts")[0], api.records("users")[0], api.records("teams")[0]
    for resource in TIMELINES + ["alert_recipients"]:
        response = session.get(api.base_url + CHILDREN[resource].path.replace("{identifier}", alert["id"]))
        body, declared = response.json(), OPERATIONS[resource]["response"]
        assert set(body) == set(declared["properties"]) | {"took", "requestId"}, resource
        for record in body["data"]:
            assert set(record) <= set(declared["item_properties"]), resource
        if "paging" in declared["properties"]:
            assert set(body["paging"]) <= set(declared["paging_properties"])
            assert response.headers["X-Paging-First"] == body["paging"]["first"]
    teams = session.get(f"{api.base_url}/v2/users/{user['id']}/teams").json()
    assert set(teams) == {"data", "took", "requestId"}
    assert all(set(t) == set(OPERATIONS["user_teams"]["response"]["item_properties"]) for t in teams["data"])
    got = session.get(f"{api.base_url}/v2/teams/{team['id']}").json()["data"]
    declared = OPERATIONS["team_members"]["response"]
    assert set(declared["data_properties"]) <= set(got)
    assert all(set(m) == set(declared["member_properties"]) for m in got["members"])


def test_lists_match_the_response_schemas(served):
    api, session = served
    for resource in ("schedules", "escalations", "heartbeats"):
        declared = OPERATIONS[resource]["response"]
        body = session.get(api.base_url + RESOURCES[resource].path, params={"expand": "rotation"}
                           if resource == "schedules" else None).json()
        assert set(body) == set(declared["properties"]), resource
        records = body["data"]["heartbeats"] if resource == "heartbeats" else body["data"]
        allowed = set(declared["item_properties"]) | set(declared.get("payload_only_properties", ()))
        assert records and all(set(r) <= allowed for r in records), resource
        if resource == "schedules":
            assert body["expandable"] == ["rotation"]
            rotations = [x for r in records for x in r["rotations"]]
            assert rotations and all(set(x) == set(declared["rotation_properties"]) for x in rotations)


@pytest.mark.parametrize("resource", TIMELINES)
def test_timeline_limits_orders_and_directions_at_the_edges(served, resource):
    api, session = served
    alert = api.records("alerts")[1]
    spec = OPERATIONS[resource]["parameters"]
    (api.append_alert_log if resource == "alert_logs" else api.append_alert_note)(alert["id"], 30)
    url = api.base_url + CHILDREN[resource].path.replace("{identifier}", alert["id"])
    over = session.get(url, params={"limit": spec["limit"]["maximum"] + 1})
    assert over.status_code == 422 and str(spec["limit"]["maximum"]) in over.json()["message"]
    assert session.get(url, params={"limit": spec["limit"]["minimum"] - 1}).status_code == 422
    assert session.get(url, params={"limit": spec["limit"]["maximum"]}).status_code == 200
    default = session.get(url).json()
    assert len(default["data"]) == default_of(spec["limit"])  # 30 appended: more than one default page
    offsets = [r["offset"] for r in default["data"]]
    assert offsets == sorted(offsets, reverse=(spec["order"]["default"] == "desc"))
    assert "direction=next" in default["paging"]["next"]
    for name, bad in (("order", "sideways"), ("direction", "back"), ("identifierType", "name"), ("offset", "abc")):
        response = session.get(url, params={name: bad})
        assert response.status_code == 422, name
        assert {"message", "took", "requestId"} <= set(response.json())
    for value in spec["direction"]["enum"] + spec["order"]["enum"]:
        key = "direction" if value in spec["direction"]["enum"] else "order"
        assert session.get(url, params={key: value, "offset": offsets[0]}).status_code == 200
