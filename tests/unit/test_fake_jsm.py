"""The fake's JSM operations side serves the successor API as its published reference says, from the same data.

`tests/data/jsm_ops_spec_extract.json` holds the facts of the JSM operations reference; the fake's
declared parameters are checked against it, and its behaviour at the edges, its paging, auth, errors,
throttling and records against a running server. Every request goes over real HTTP on loopback.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests

from airflow_provider_analytics.testing.fake_api import (
    FAKE_CLOUD_ID,
    JSM_OPERATIONS,
    JSM_RESOURCES,
    FakeAnalyticsAPI,
    FakeReply,
    parse_ms,
)
from tests.helpers import genie_session

SPEC = json.loads((Path(__file__).parents[1] / "data" / "jsm_ops_spec_extract.json").read_text())
OPERATIONS = SPEC["operations"]
KEY = "jsm-token"
EMAIL = "ops@example.com"
# two teams, so every team owns more escalations and heartbeats than one default page holds
SIZES = {"alerts": 60, "teams": 2, "users": 20, "schedules": 30, "escalations": 50, "heartbeats": 60,
         "integrations": 120, "incidents": 5, "services": 5}
LISTS = ["alerts", "alert_logs", "alert_notes", "schedules", "escalations", "heartbeats", "integrations"]


def basic(email: str = EMAIL, key: str = KEY) -> str:
    return "Basic " + base64.b64encode(f"{email}:{key}".encode()).decode()


def jsm_session(email: str = EMAIL, key: str = KEY) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = basic(email, key)
    return session


@pytest.fixture(scope="module")
def api():
    with FakeAnalyticsAPI(api_key=KEY, sizes=SIZES, seed=5) as server:
        first = server.records("alerts")[0]["id"]
        server.append_alert_log(first, 30)  # more entries than one default page
        server.append_alert_note(first, 30)
        yield server


@pytest.fixture(scope="module")
def session():
    with jsm_session() as s:
        yield s


def resolve(api: FakeAnalyticsAPI, link: str) -> str:
    """A links.next as a client must follow it: a relative link is appended to the JSM base URL."""
    return link if link.startswith("http") else api.jsm_base_url + link


def walk(api: FakeAnalyticsAPI, session: requests.Session, path: str, params: dict | None = None,
         key: str = "values") -> tuple[list[dict], list[dict]]:
    """Follow links.next until it is absent; (records, bodies)."""
    records, bodies = [], []
    response = session.get(api.jsm_base_url + path, params=params)
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        records += body[key]
        bodies.append(body)
        nxt = body["links"].get("next")
        if nxt is None:
            assert "next" not in body["links"]  # absent on the last page, never empty or null
            return records, bodies
        assert nxt, "an empty next link"
        response = session.get(resolve(api, nxt))


def first_team(api: FakeAnalyticsAPI) -> str:
    return api.records("teams")[0]["id"]


def first_alert(api: FakeAnalyticsAPI) -> str:
    return api.records("alerts")[0]["id"]


def list_path(api: FakeAnalyticsAPI, name: str) -> str:
    return (JSM_OPERATIONS[name].path.replace("{id}", first_alert(api))
            .replace("{teamId}", first_team(api)))


def assert_error(response: requests.Response, status: int, code: str) -> dict:
    """An ErrorResponses body: errors[{title, code}] and nothing of the classic envelope."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"errors"} and len(body["errors"]) == 1
    assert set(body["errors"][0]) == {"title", "code"}
    assert body["errors"][0]["code"] == code and body["errors"][0]["title"]
    return body["errors"][0]


# -- the declared operations against the extract -----------------------------------------------------


def test_the_extract_says_where_it_came_from():
    assert SPEC["source"]["repository"] == "shitchell/jira-cloud-rest-api"
    assert all(len(commit) == 40 for commit in SPEC["source"]["files"].values())
    assert SPEC["api"]["base_path_template"] == "/jsm/ops/api/{cloudId}"


def test_the_fake_serves_every_table_the_reference_lists():
    listed = {op["table"] for op in OPERATIONS.values() if op["table"] and "single" not in op["table"]}
    assert set(JSM_RESOURCES) == listed
    assert {op.table for op in JSM_OPERATIONS.values()} == listed
    assert set(SPEC["no_counterpart"]) & set(JSM_RESOURCES) == set()


@pytest.mark.parametrize("name", sorted(JSM_OPERATIONS))
def test_parameters_match_the_extract(name):
    fake, spec = JSM_OPERATIONS[name], OPERATIONS[name]
    assert fake.path == spec["path"] and spec["method"] == "get"
    assert set(re.findall(r"\{(\w+)\}", fake.path)) == {k for k, v in spec["parameters"].items() if v["in"] == "path"}
    declared = {k: v for k, v in spec["parameters"].items() if v["in"] == "query"}
    assert [p.name for p in fake.params] == list(declared)
    for p in fake.params:
        d = declared[p.name]
        assert (p.required, p.default) == (d["required"], d.get("default")), p.name
        if d["type"] == "integer":
            assert (p.kind, p.int_format) == ("int", d["format"])
            assert (p.minimum, p.maximum) == (d.get("minimum"), d.get("maximum")), p.name
        elif d["type"] == "array":
            assert p.kind == "expand" and p.values == tuple(re.findall(r"`(\w+)`", d["description"]))
        elif "enum" in d:
            assert p.kind == "enum" and p.values == tuple(d["enum"])
        else:
            assert p.kind == "string" and p.max_length == d.get("maximum_as_written")


# -- the parameters at their edges, over HTTP ---------------------------------------------------------


@pytest.mark.parametrize("name", LISTS)
def test_bounds_defaults_and_enums_over_http(api, session, name):
    url = api.jsm_base_url + list_path(api, name)
    declared = {k: v for k, v in OPERATIONS[name]["parameters"].items() if v["in"] == "query"}
    for pname, d in declared.items():
        if d["type"] == "integer":
            assert_error(session.get(url, params={pname: "abc"}), 422, "UNPROCESSABLE_ENTITY")
            too_big = 2**31 if d["format"] == "int32" else 2**63
            assert_error(session.get(url, params={pname: too_big}), 422, "UNPROCESSABLE_ENTITY")
            if "minimum" in d:
                assert_error(session.get(url, params={pname: d["minimum"] - 1}), 422, "UNPROCESSABLE_ENTITY")
                assert session.get(url, params={pname: d["minimum"]}).status_code == 200
            if "maximum" in d:
                error = assert_error(session.get(url, params={pname: d["maximum"] + 1}), 422, "UNPROCESSABLE_ENTITY")
                assert str(d["maximum"]) in error["title"]
                assert session.get(url, params={pname: d["maximum"]}).status_code == 200
        elif "enum" in d:
            assert_error(session.get(url, params={pname: "bogus"}), 422, "UNPROCESSABLE_ENTITY")
            for value in d["enum"]:
                assert session.get(url, params={pname: value}).status_code == 200, (pname, value)
            if "default" in d:
                plain, explicit = session.get(url).json(), session.get(url, params={pname: d["default"]}).json()
                assert plain["values"] == explicit["values"]
        elif d["type"] == "array":
            assert_error(session.get(url, params={pname: "bogus"}), 422, "UNPROCESSABLE_ENTITY")
            for value in re.findall(r"`(\w+)`", d["description"]):
                assert session.get(url, params={pname: value}).status_code == 200
    default = declared["size"]["default"]
    body = session.get(url).json()
    assert len(body["values"]) == default  # every fixture list holds more than one default page
    assert parse_qs(urlsplit(body["links"]["next"]).query)["size"] == [str(default)]


def test_integrations_size_declares_no_bounds_but_a_page_must_hold_something(api, session):
    url = api.jsm_base_url + "/v1/integrations"
    assert "maximum" not in OPERATIONS["integrations"]["parameters"]["size"]
    assert len(session.get(url, params={"size": 500}).json()["values"]) == api.max_limit  # clamped
    assert_error(session.get(url, params={"size": 0}), 422, "UNPROCESSABLE_ENTITY")


def test_alert_from_and_to_are_checked_as_int32_and_otherwise_ignored(api, session):
    url = api.jsm_base_url + "/v1/alerts"
    plain, ranged = session.get(url).json(), session.get(url, params={"from": 1, "to": 2}).json()
    assert (ranged["values"], ranged["count"]) == (plain["values"], plain["count"])
    assert ranged["links"]["next"] == "/v1/alerts?offset=20&size=20&from=1&to=2"  # carried like any param
    assert_error(session.get(url, params={"from": "2024-01-01T00:00:00Z"}), 422, "UNPROCESSABLE_ENTITY")


def test_heartbeat_name_filter_is_exact_and_at_most_200_long(api, session):
    team = first_team(api)
    mine = [h for h in api.jsm_records("heartbeats") if h["ownerTeamId"] == team]
    url = f"{api.jsm_base_url}/v1/teams/{team}/heartbeats"
    assert session.get(url, params={"name": mine[3]["name"]}).json()["values"] == [mine[3]]
    assert session.get(url, params={"name": mine[3]["name"][:-1]}).json()["values"] == []
    assert_error(session.get(url, params={"name": "x" * 201}), 422, "UNPROCESSABLE_ENTITY")


def test_schedule_query_is_exact_or_prefix_and_case_insensitive(api, session):
    url = api.jsm_base_url + "/v1/schedules"
    names = [s["name"] for s in api.records("schedules")]
    exact = session.get(url, params={"query": names[0].upper()}).json()["values"]
    assert [s["name"] for s in exact] == [names[0]]
    prefix, _ = walk(api, session, "/v1/schedules", {"query": names[0][:5].upper() + "*", "size": 4})
    assert sorted(s["name"] for s in prefix) == sorted(n for n in names if n.startswith(names[0][:5]))
    assert len(prefix) > 1
    assert session.get(url, params={"query": names[0][:5]}).json()["values"] == []


def test_schedules_carry_rotations_only_with_expand(api, session):
    url = api.jsm_base_url + "/v1/schedules"
    plain = session.get(url).json()
    assert plain["_expands"] == ["rotation"] and all(s["rotations"] == [] for s in plain["values"])
    for params in ({"expand": "rotation"}, [("expand", "rotation"), ("expand", "rotation")]):
        expanded = session.get(url, params=params).json()["values"]
        assert expanded == api.jsm_records("schedules")[:25]
    rotations = [r for s in api.jsm_records("schedules") for r in s["rotations"]]
    declared = OPERATIONS["schedules"]["response"]["rotation_properties"]
    assert rotations and all(list(r) == declared for r in rotations)
    assert all(set(p) == {"type", "id"} for r in rotations for p in r["participants"])


# -- paging: every record exactly once ---------------------------------------------------------------


@pytest.mark.parametrize("sort", ["createdAt", "insertedAt", "lastOccurredAt", "priority"])
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_an_alert_walk_reaches_every_alert_once(api, session, sort, order):
    records, bodies = walk(api, session, "/v1/alerts", {"size": 7, "sort": sort, "order": order})
    assert Counter(r["id"] for r in records) == Counter(a["id"] for a in api.jsm_records("alerts"))
    assert {b["count"] for b in bodies} == {60} and len(bodies) == 9
    for body in bodies[:-1]:  # links carry the listing's params and size
        query = parse_qs(urlsplit(body["links"]["next"]).query)
        assert query["sort"] == [sort] and query["order"] == [order] and query["size"] == ["7"]
    if sort in ("createdAt", "insertedAt"):
        times = [parse_ms(r["createdAt"]) for r in records]
        assert times == sorted(times, reverse=(order == "desc"))
    if sort == "lastOccurredAt":  # by time, not by text (`...:06Z` is before `...:06.5Z`)
        times = [parse_ms(r["lastOccurredAt"]) for r in records]
        assert times == sorted(times, reverse=(order == "desc"))


def test_default_alert_order_is_newest_first(api, session):
    records, _ = walk(api, session, "/v1/alerts")
    assert [r["id"] for r in records] == [a["id"] for a in api.records("alerts")][::-1]


def test_the_alert_query_has_the_classic_syntax_and_answer(api, session):
    alerts = api.records("alerts")
    since = parse_ms(alerts[40]["createdAt"])
    query = f"createdAt>={since} AND status:closed"
    jsm, bodies = walk(api, session, "/v1/alerts", {"query": query, "size": 5})
    with genie_session(KEY) as genie:
        classic = genie.get(api.base_url + "/v2/alerts", params={"query": query, "limit": 100}).json()["data"]
    assert [r["id"] for r in jsm] == [r["id"] for r in classic] and jsm
    assert bodies[0]["count"] == len(classic)
    assert parse_qs(urlsplit(bodies[0]["links"]["next"]).query)["query"] == [query]
    assert_error(session.get(api.jsm_base_url + "/v1/alerts", params={"query": "nonsense"}), 422,
                 "UNPROCESSABLE_ENTITY")


@pytest.mark.parametrize("resource", ["alert_logs", "alert_notes"])
def test_walks_of_logs_and_notes_reach_every_entry_once(api, session, resource):
    stream = "logs" if resource == "alert_logs" else "notes"
    rows = []
    for alert in api.records("alerts"):
        records, _ = walk(api, session, f"/v1/alerts/{alert['id']}/{stream}", {"size": 3})
        rows += [{"alert_id": alert["id"], **r} for r in records]
    assert rows == api.jsm_records(resource)
    assert len(rows) > 60


def test_walks_of_schedules_and_integrations_reach_every_record_once(api, session):
    schedules, _ = walk(api, session, "/v1/schedules", {"size": 4, "expand": "rotation"})
    assert schedules == api.jsm_records("schedules")
    integrations, bodies = walk(api, session, "/v1/integrations", {"size": 13})
    assert integrations == api.jsm_records("integrations") and len(bodies) == 10
    assert "previous" not in bodies[0]["links"]
    assert bodies[2]["links"]["previous"] == "/v1/integrations?offset=13&size=13"
    team = first_team(api)
    mine, _ = walk(api, session, "/v1/integrations", {"size": 4, "teamId": team, "type": "API"})
    assert mine == [i for i in api.jsm_records("integrations") if i["teamId"] == team and i["type"] == "API"]


@pytest.mark.parametrize("resource", ["escalations", "heartbeats"])
def test_walks_of_every_team_reach_every_owned_record_once(api, session, resource):
    rows = []
    for team in api.records("teams"):
        records, bodies = walk(api, session, f"/v1/teams/{team['id']}/{resource}", {"size": 6})
        assert len(bodies) > 1
        assert bodies[0]["links"]["next"] == f"/v1/teams/{team['id']}/{resource}?offset=6&size=6"
        rows += records
    assert rows == api.jsm_records(resource)


def test_teams_come_whole(api, session):
    body = session.get(api.jsm_base_url + "/v1/teams", params={"size": 1, "offset": 1}).json()
    assert set(body) == set(OPERATIONS["teams"]["response"]["properties"])
    assert body["platformTeams"] == api.jsm_records("teams") and len(body["platformTeams"]) == 2


# -- the logs and notes cursors -----------------------------------------------------------------------


def test_the_logs_after_cursor_is_the_classic_offset_token(api, session):
    alert = first_alert(api)
    classic = api.children("alert_logs", alert)
    url = f"{api.jsm_base_url}/v1/alerts/{alert}/logs"
    page = session.get(url, params={"size": 5}).json()
    assert page["links"]["next"] == f"/v1/alerts/{alert}/logs?after={classic[4]['offset']}&size=5"
    assert [v["log"] for v in page["values"]] == [c["log"] for c in classic[:5]]
    after = session.get(url, params={"after": classic[9]["offset"], "size": 100}).json()
    assert [v["logTime"] for v in after["values"]] == [c["createdAt"] for c in classic[10:]]
    assert after["links"] == {}
    assert session.get(url, params={"after": classic[-1]["offset"]}).json() == {"values": [], "links": {}}
    for bad in ("abc", "1704067241030", classic[0]["offset"].replace("_", "-")):
        assert_error(session.get(url, params={"after": bad}), 422, "UNPROCESSABLE_ENTITY")


def test_the_notes_after_cursor_is_a_note_id(api, session):
    alert = first_alert(api)
    notes = api.jsm_records("alert_notes")
    mine = [n for n in notes if n["alert_id"] == alert]
    url = f"{api.jsm_base_url}/v1/alerts/{alert}/notes"
    page = session.get(url, params={"size": 4}).json()
    assert page["links"]["next"] == f"/v1/alerts/{alert}/notes?after={mine[3]['id']}&size=4"
    rest = session.get(url, params={"after": mine[3]["id"], "size": 100}).json()["values"]
    assert [n["id"] for n in rest] == [n["id"] for n in mine[4:]]
    classic = api.children("alert_notes", alert)
    assert [n["id"] for n in mine] == [c["offset"].split("_")[1] for c in classic]
    assert all(n["updatedAt"] == n["createdAt"] for n in notes)
    for bad in (classic[0]["offset"], "1492000072838", "x"):  # a token, or the ms of the reference's example
        assert_error(session.get(url, params={"after": bad}), 422, "UNPROCESSABLE_ENTITY")


# -- auth -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("authorization", [
    None, basic(key="wrong"), basic(email="someone@example.com"), f"GenieKey {KEY}", f"Bearer {KEY}",
    "Basic not-base64!",
])
def test_jsm_paths_take_basic_auth_with_email_and_token_only(api, authorization):
    headers = {"Authorization": authorization} if authorization else {"api_key": KEY}
    response = requests.get(api.jsm_base_url + "/v1/alerts", headers=headers)
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"code", "message"} and body["code"] == 401 and isinstance(body["message"], str)


def test_classic_paths_refuse_basic_auth_and_keep_their_own(api):
    refused = requests.get(api.base_url + "/v2/alerts", headers={"Authorization": basic()})
    assert refused.status_code == 401 and {"message", "took", "requestId"} <= set(refused.json())
    with genie_session(KEY) as genie:
        assert genie.get(api.base_url + "/v2/alerts").status_code == 200
        assert genie.get(api.jsm_base_url + "/v1/alerts").status_code == 401


# -- 404s, other errors, and what the reference has no endpoint for -----------------------------------------------


def test_unknown_cloud_ids_paths_and_records_are_404_error_responses(api, session):
    alert, team = first_alert(api), first_team(api)
    user = api.records("users")[0]["id"]
    paths = [f"{api.base_url}/jsm/ops/api/00000000-0000-0000-0000-000000000000/v1/alerts",
             f"{api.base_url}/jsm/ops/api/v1/alerts", f"{api.base_url}/jsm/ops/api",
             *(api.jsm_base_url + p for p in (
                 "/v1/users", "/v1/services", "/v1/incidents", f"/v1/alerts/{alert}/recipients", f"/v1/teams/{team}",
                 f"/v1/users/{user}/teams", "/v2/alerts", "/v1/alerts/nope", "/v1/alerts/nope/logs",
                 "/v1/alerts/nope/notes", "/v1/teams/nope/escalations", "/v1/teams/nope/heartbeats", "",
                 "/v1/alerts/alias?alias=nope"))]
    for url in paths:
        assert_error(session.get(url), 404, "NOT_FOUND")
    assert_error(session.post(api.jsm_base_url + "/v1/alerts", json={}), 405, "METHOD_NOT_ALLOWED")
    assert_error(session.get(api.jsm_base_url + "/v1/alerts/alias"), 422, "UNPROCESSABLE_ENTITY")
    # a bad parameter is reported before an unknown parent
    assert_error(session.get(api.jsm_base_url + "/v1/alerts/nope/logs", params={"size": 0}), 422,
                 "UNPROCESSABLE_ENTITY")


def test_faults_latency_and_the_request_log_cover_jsm_paths(api, session):
    api.reset_log()
    api.faults.append(lambda r: FakeReply(503, {"errors": [{"title": "down", "code": "UNAVAILABLE"}]})
                      if r.path.endswith("/v1/teams") else None)
    try:
        faulty = session.get(api.jsm_base_url + "/v1/teams")
    finally:
        api.faults.clear()
    assert faulty.status_code == 503 and faulty.json() == {"errors": [{"title": "down", "code": "UNAVAILABLE"}]}
    api.latency = 0.2
    try:
        start = time.perf_counter()
        ok = session.get(api.jsm_base_url + "/v1/teams")
        assert time.perf_counter() - start >= 0.2
    finally:
        api.latency = 0.0
    assert ok.status_code == 200 and "Date" in ok.headers and "Date" in faulty.headers
    prefix = urlsplit(api.jsm_base_url).path
    assert api.request_log == [("GET", prefix + "/v1/teams", 503), ("GET", prefix + "/v1/teams", 200)]


# -- throttling and the offset cap ---------------------------------------------------------------------


def test_one_budget_for_both_sides_and_jsm_429_headers():
    with FakeAnalyticsAPI(api_key=KEY, sizes={"alerts": 5}, budget=0.01, burst=2) as fake, \
            jsm_session() as jsm, genie_session(KEY) as genie:
        assert genie.get(fake.base_url + "/v2/alerts").status_code == 200
        assert jsm.get(fake.jsm_base_url + "/v1/alerts").status_code == 200
        throttled = jsm.get(fake.jsm_base_url + "/v1/alerts")
        classic = genie.get(fake.base_url + "/v2/alerts")
    assert_error(throttled, 429, "TOO_MANY_REQUESTS")
    assert throttled.headers["Retry-After"] == str(fake.budget.period_seconds)
    reset = datetime.fromisoformat(throttled.headers["X-RateLimit-Reset"].replace("Z", "+00:00"))
    assert reset.tzinfo is not None and 0 <= (reset - datetime.now(timezone.utc)).total_seconds() <= 5
    assert not [h for h in throttled.headers if h.lower().startswith("x-ratelimit-") and h != "X-RateLimit-Reset"]
    assert classic.status_code == 429 and classic.headers["X-RateLimit-State"] == "THROTTLED"
    assert fake.budget.allowed == 2 and fake.budget.throttled == 2


def test_the_offset_cap_refuses_and_the_walk_stops_before_it():
    with FakeAnalyticsAPI(api_key=KEY, sizes={"alerts": 60}, offset_cap=30) as fake, jsm_session() as jsm:
        url = fake.jsm_base_url + "/v1/alerts"
        error = assert_error(jsm.get(url, params={"offset": 25, "size": 6}), 422, "UNPROCESSABLE_ENTITY")
        assert "Sum of offset and size should be lower than 30" in error["title"]
        last = jsm.get(url, params={"offset": 24, "size": 6}).json()
        assert len(last["values"]) == 6 and last["links"] == {} and last["count"] == 60
        records, bodies = walk(fake, jsm, "/v1/alerts", {"size": 10})
        assert len(records) == 30 and len(bodies) == 3


# -- links --------------------------------------------------------------------------------------------


def test_links_are_relative_by_default_and_absolute_on_request(api, session):
    assert api.jsm_absolute_links is False
    nxt = session.get(api.jsm_base_url + "/v1/alerts", params={"size": 5}).json()["links"]["next"]
    assert nxt == "/v1/alerts?offset=5&size=5"
    # resolved as a URL reference it would leave the JSM base for the classic root: clients append it
    assert urljoin(api.jsm_base_url + "/", nxt) == api.base_url + nxt
    assert session.get(api.jsm_base_url + nxt).status_code == 200
    with FakeAnalyticsAPI(api_key=KEY, sizes={"alerts": 12}, jsm_absolute_links=True) as fake, \
            jsm_session() as jsm:
        body = jsm.get(fake.jsm_base_url + "/v1/alerts", params={"size": 5, "order": "asc"}).json()
        assert body["links"]["next"] == fake.jsm_base_url + "/v1/alerts?offset=5&size=5&order=asc"
        records, _ = walk(fake, jsm, "/v1/alerts", {"size": 5})
        assert len(records) == 12
        alert = fake.records("alerts")[0]["id"]
        logs = jsm.get(f"{fake.jsm_base_url}/v1/alerts/{alert}/logs", params={"size": 1}).json()
        assert logs["links"]["next"].startswith(f"{fake.jsm_base_url}/v1/alerts/{alert}/logs?after=")


# -- records: the reference's shapes, the same data as the classic side ----------------------------------------


def test_bodies_and_records_have_the_reference_fields(api, session):
    alert, team = first_alert(api), first_team(api)
    for name, path in (("alerts", "/v1/alerts"), ("alert_logs", f"/v1/alerts/{alert}/logs"),
                       ("alert_notes", f"/v1/alerts/{alert}/notes"), ("schedules", "/v1/schedules"),
                       ("escalations", f"/v1/teams/{team}/escalations"),
                       ("heartbeats", f"/v1/teams/{team}/heartbeats"), ("integrations", "/v1/integrations")):
        body = session.get(api.jsm_base_url + path).json()
        declared = OPERATIONS[name]["response"]
        assert set(body) == set(declared["properties"]), name
        assert set(body["links"]) <= set(declared["links_properties"]), name
        assert all(set(r) <= set(declared["item_properties"]) for r in body["values"]), name
    for name in ("alert_logs", "alert_notes", "heartbeats", "integrations", "escalations"):
        declared = OPERATIONS[name]["response"]["item_properties"]
        assert all(list(r)[-len(declared):] == declared for r in api.jsm_records(name)), name
    heartbeats = api.jsm_records("heartbeats")
    assert {h["intervalUnit"] for h in heartbeats} <= {"Days", "Minutes", "Hours"}
    assert {h["status"] for h in heartbeats} <= {"Unresponsive", "Responsive", "Off", "Pending"}
    rules = [r for e in api.jsm_records("escalations") for r in e["rules"]]
    assert all(isinstance(r["delay"], int) and set(r["recipient"]) == {"id", "type"} for r in rules)


def test_alerts_are_the_classic_alerts_in_the_jsm_shape(api, session):
    classic = api.records("alerts")
    jsm = api.jsm_records("alerts")
    assert [a["id"] for a in jsm] == [a["id"] for a in classic]
    kept = ("id", "tinyId", "alias", "message", "status", "acknowledged", "count", "owner", "snoozed",
            "snoozedUntil", "lastOccurredAt", "createdAt", "updatedAt", "source", "priority", "responders", "tags")
    for c, j in zip(classic, jsm, strict=True):
        assert set(j) == set(kept) | {"seen", "integrationType", "integrationName"}
        assert all(j[k] == c[k] for k in kept)
        assert (j["seen"], j["integrationType"], j["integrationName"]) == (
            c["isSeen"], c["integration"]["type"], c["integration"]["name"])
    one = session.get(f"{api.jsm_base_url}/v1/alerts/{classic[3]['id']}")
    assert one.json() == jsm[3]  # no envelope
    by_alias = session.get(f"{api.jsm_base_url}/v1/alerts/alias", params={"alias": classic[3]["alias"]}).json()
    assert by_alias["alias"] == classic[3]["alias"]


def test_teams_schedules_and_integrations_carry_the_classic_ids(api):
    assert [(t["teamId"], t["teamName"]) for t in api.jsm_records("teams")] == [
        (t["id"], t["name"]) for t in api.records("teams")]
    assert [(s["id"], s["teamId"]) for s in api.jsm_records("schedules")] == [
        (s["id"], s["ownerTeam"]["id"]) for s in api.records("schedules")]
    assert api.jsm_records("integrations") == [
        {k: i[k] for k in ("id", "name", "type", "enabled", "teamId")} for i in api.records("integrations")]


def test_logs_are_the_classic_logs_in_the_jsm_shape(api):
    classic = api.records("alert_logs")
    assert [(r["alert_id"], r["log"], r["owner"], r["logTime"], r["logType"]) for r in api.jsm_records("alert_logs")] \
        == [(c["alert_id"], c["log"], c["owner"], c["createdAt"], c["type"]) for c in classic]


def test_escalations_and_heartbeats_without_an_owner_team_are_unreachable(api):
    """Upstream lists them per team only: one whose owner team is gone is seen nowhere."""
    teams = [t["id"] for t in api.records("teams")]
    for resource in ("escalations", "heartbeats"):
        classic = api.records(resource)
        key = "id" if resource == "escalations" else "name"
        team_by_team = [r[key] for tid in teams for r in classic if (r.get("ownerTeam") or {}).get("id") == tid]
        assert [r[key] for r in api.jsm_records(resource)] == team_by_team
    orphans = [h for h in api.records("heartbeats") if not h.get("ownerTeam")]
    assert orphans and len(api.jsm_records("heartbeats")) == len(api.records("heartbeats")) - len(orphans)
    assert len(api.jsm_records("escalations")) == len(api.records("escalations"))


def test_changes_show_on_both_sides_at_once():
    with FakeAnalyticsAPI(api_key=KEY, sizes={"alerts": 10, "teams": 2}) as fake, jsm_session() as jsm:
        alert = next(a["id"] for a in fake.records("alerts") if a["status"] == "open")
        changed = fake.update("alerts", alert, status="closed", isSeen=False, message="changed")
        got = jsm.get(f"{fake.jsm_base_url}/v1/alerts/{alert}").json()
        assert (got["status"], got["seen"], got["message"], got["updatedAt"]) == (
            "closed", False, "changed", changed["updatedAt"])
        logs = jsm.get(f"{fake.jsm_base_url}/v1/alerts/{alert}/logs", params={"size": 100}).json()["values"]
        assert logs[-1] == {"logTime": changed["updatedAt"], "logType": "system", "log": "Alert closed",
                            "owner": changed["owner"] or "System"}
        since = f"updatedAt>={parse_ms(changed['updatedAt'])}"
        assert_error(jsm.get(fake.jsm_base_url + "/v1/alerts", params={"query": since}), 422, "UNPROCESSABLE_ENTITY")
        fake.updated_at_search = "accepted"
        assert [a["id"] for a in jsm.get(fake.jsm_base_url + "/v1/alerts", params={"query": since}).json()["values"]] \
            == [alert]
        escalation = fake.records("escalations")[0]
        rules = [{**escalation["rules"][0], "delay": {"timeAmount": 2, "timeUnit": "hours"}}]
        fake.update("escalations", escalation["id"], rules=rules, enabled=False)
        team = escalation["ownerTeam"]["id"]
        served = jsm.get(f"{fake.jsm_base_url}/v1/teams/{team}/escalations").json()["values"]
        mine = next(e for e in served if e["id"] == escalation["id"])
        assert mine["rules"][0]["delay"] == 120 and mine["enabled"] is False
        heartbeat = next(h for h in fake.records("heartbeats") if h.get("ownerTeam"))
        url = f"{fake.jsm_base_url}/v1/teams/{heartbeat['ownerTeam']['id']}/heartbeats"
        for fields, status in (({"enabled": False}, "Off"), ({"enabled": True, "expired": True}, "Unresponsive"),
                               ({"expired": False, "lastPingTime": None}, "Pending"),
                               ({"lastPingTime": "2024-03-01T00:00:00Z"}, "Responsive")):
            fake.update("heartbeats", heartbeat["name"], **fields)
            got = jsm.get(url, params={"name": heartbeat["name"]}).json()["values"]
            assert [h["status"] for h in got] == [status], fields


def test_a_custom_cloud_id_and_email():
    cloud = "11111111-2222-4333-8444-555555555555"
    with FakeAnalyticsAPI(api_key=KEY, sizes={"alerts": 3}, cloud_id=cloud, jsm_email="me@corp.test") as fake:
        assert fake.jsm_base_url == f"{fake.base_url}/jsm/ops/api/{cloud}"
        assert requests.get(fake.jsm_base_url + "/v1/teams",
                            headers={"Authorization": basic("me@corp.test")}).status_code == 200
        assert requests.get(fake.jsm_base_url + "/v1/teams", headers={"Authorization": basic()}).status_code == 401
        default = f"{fake.base_url}/jsm/ops/api/{FAKE_CLOUD_ID}/v1/teams"
        assert_error(requests.get(default, headers={"Authorization": basic("me@corp.test")}), 404, "NOT_FOUND")
    with pytest.raises(KeyError):
        fake.jsm_records("users")


def test_cli_prints_the_jsm_base_url_too():
    cloud = "99999999-8888-4777-8666-555555555555"
    proc = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_analytics.testing.fake_api", "--port", "0", "--api-key", KEY,
         "--alerts", "5", "--cloud-id", cloud, "--jsm-email", "cli@example.com"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        base = proc.stdout.readline().strip()
        jsm_base = proc.stdout.readline().strip()
        assert jsm_base == f"{base}/jsm/ops/api/{cloud}"
        body = requests.get(jsm_base + "/v1/alerts", headers={"Authorization": basic("cli@example.com")}).json()
        assert body["count"] == 5
    finally:
        proc.terminate()
        proc.wait(timeout=10)
