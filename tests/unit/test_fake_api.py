"""The fake upstream API: envelope, auth, paging, search, data, mutations.

Every test talks to a real server on loopback through ``requests``, as the
provider does. Print throughput numbers with ``python -m tests.unit.test_fake_api [alerts]``.
"""

from __future__ import annotations

import http.client
import re
import subprocess
import sys
import time
import uuid
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from airflow_provider_analytics.testing.fake_api import (
    DEFAULT_SIZES,
    FIELDS,
    FakeAnalyticsAPI,
    FakeReply,
    iso_ms,
    parse_ms,
)
from tests.helpers import genie_session

KEY = "test-key"
PAGED = {"users": "/v2/users", "services": "/v1/services", "incidents": "/v1/incidents", "alerts": "/v2/alerts"}
ISO_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?Z$")


@pytest.fixture(scope="module")
def api():
    with FakeAnalyticsAPI(api_key=KEY) as server:
        yield server


@pytest.fixture()
def session():
    with genie_session(KEY) as s:
        yield s


def walk(session: requests.Session, url: str, params: dict | None = None) -> tuple[list[dict], int]:
    """Follow paging.next; return all records and the page count."""
    records, pages = [], 0
    response = session.get(url, params=params)
    while True:
        response.raise_for_status()
        body = response.json()
        records.extend(body["data"])
        pages += 1
        nxt = body.get("paging", {}).get("next")
        if not nxt:
            return records, pages
        response = session.get(nxt)


# -- envelope, auth, routing ------------------------------------------------


def test_list_envelope(api, session):
    response = session.get(api.base_url + "/v2/alerts")
    body = response.json()
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert set(body) == {"data", "paging", "took", "requestId"}  # alerts: no totalCount
    assert isinstance(body["took"], float)
    uuid.UUID(body["requestId"])
    assert set(body["paging"]) == {"next", "first", "last"}


@pytest.mark.parametrize("path", ["/v2/users", "/v1/incidents"])
def test_total_count(api, session, path):
    body = session.get(api.base_url + path, params={"limit": 5}).json()
    name = "users" if "users" in path else "incidents"
    assert body["totalCount"] == DEFAULT_SIZES[name]


def test_auth_both_headers(api):
    url = api.base_url + "/v2/teams"
    assert requests.get(url, headers={"Authorization": f"GenieKey {KEY}"}).status_code == 200
    assert requests.get(url, headers={"api_key": KEY}).status_code == 200


@pytest.mark.parametrize("headers", [{}, {"Authorization": "GenieKey wrong"}, {"api_key": "wrong"},
                                     {"Authorization": KEY}, {"Authorization": f"Bearer {KEY}"}])
def test_auth_rejected(api, headers):
    response = requests.get(api.base_url + "/v2/alerts", headers=headers)
    body = response.json()
    assert response.status_code == 401
    assert body["message"] == "Could not authenticate"
    assert isinstance(body["took"], float)
    uuid.UUID(body["requestId"])


def test_unknown_path_404(api, session):
    response = session.get(api.base_url + "/v2/nothing")
    assert response.status_code == 404
    assert set(response.json()) == {"message", "took", "requestId"}


def test_keep_alive_one_connection(api):
    conn = http.client.HTTPConnection("127.0.0.1", api.port)
    for _ in range(3):
        conn.request("GET", "/v2/teams", headers={"Authorization": f"GenieKey {KEY}"})
        response = conn.getresponse()
        assert response.status == 200
        assert int(response.getheader("Content-Length")) == len(response.read())
        assert response.getheader("Connection") is None
    assert conn.sock is not None  # never closed by the server
    conn.close()


def test_loopback_only():
    with pytest.raises(ValueError):
        FakeAnalyticsAPI(host="0.0.0.0")


def test_request_log(api, session):
    api.reset_log()
    session.get(api.base_url + "/v2/teams")
    requests.get(api.base_url + "/v2/users?limit=1")
    assert api.request_log == [("GET", "/v2/teams", 200), ("GET", "/v2/users?limit=1", 401)]
    api.reset_log()
    assert api.request_log == []


# -- paging -----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PAGED))
def test_walk_returns_every_record_once(api, session, name):
    records, pages = walk(session, api.base_url + PAGED[name], {"limit": 100})
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)) == DEFAULT_SIZES[name]
    assert set(ids) == {r["id"] for r in api.records(name)}
    assert pages == -(-DEFAULT_SIZES[name] // 100)


def test_paging_links_and_headers(api, session):
    response = session.get(api.base_url + "/v2/alerts", params={"limit": 100, "offset": 100})
    paging = response.json()["paging"]
    assert response.headers["X-Paging-Next"] == paging["next"]
    assert response.headers["X-Paging-First"] == paging["first"]
    assert response.headers["X-Paging-Last"] == paging["last"]
    assert paging["next"] == api.base_url + "/v2/alerts?limit=100&sort=createdAt&offset=200&order=desc"
    assert parse_qs(urlsplit(paging["first"]).query)["offset"] == ["0"]
    assert parse_qs(urlsplit(paging["last"]).query)["offset"] == ["900"]

    last = session.get(paging["last"])
    assert "next" not in last.json()["paging"]
    assert "X-Paging-Next" not in last.headers
    assert len(last.json()["data"]) == 100


def test_links_use_host_header(api):
    response = requests.get(api.base_url + "/v2/alerts", headers={"api_key": KEY, "Host": "example.test:9"})
    assert response.json()["paging"]["next"].startswith("http://example.test:9/v2/alerts?")


@pytest.mark.parametrize("path,default", [("/v2/alerts", 20), ("/v1/incidents", 20), ("/v1/services", 100),
                                          ("/v2/users", 100)])
def test_default_limit(api, session, path, default):
    body = session.get(api.base_url + path).json()
    assert len(body["data"]) == min(default, DEFAULT_SIZES[path.split("/")[-1]])
    assert f"limit={default}&" in body["paging"]["first"]


def test_limit_above_the_spec_maximum_is_refused_where_the_spec_states_one(api, session):
    for path in ("/v2/alerts", "/v1/incidents"):
        response = session.get(api.base_url + path, params={"limit": 101})
        assert response.status_code == 422 and "at most 100" in response.json()["message"]
    # users (and services, which share their parameters) state no maximum: clamped to the server's
    body = session.get(api.base_url + "/v2/users", params={"limit": 500}).json()
    assert len(body["data"]) == 100


@pytest.mark.parametrize("params", [{"limit": "abc"}, {"limit": -1}, {"limit": 0}, {"offset": -5},
                                    {"offset": "1.5"}, {"sort": "nope"}, {"order": "sideways"}])
def test_bad_parameters_422(api, session, params):
    response = session.get(api.base_url + "/v2/alerts", params=params)
    assert response.status_code == 422
    assert response.json()["message"]


def test_sort_and_order(api, session):
    asc = session.get(api.base_url + "/v2/alerts", params={"sort": "tinyId", "order": "asc"}).json()["data"]
    assert [a["tinyId"] for a in asc] == [str(i) for i in range(1, 21)]
    desc = session.get(api.base_url + "/v2/alerts", params={"sort": "updatedAt"}).json()["data"]
    stamps = [parse_ms(a["updatedAt"]) for a in desc]
    assert stamps == sorted(stamps, reverse=True)
    users = session.get(api.base_url + "/v2/users").json()["data"]
    assert [u["username"] for u in users] == sorted(u["username"] for u in users)


def test_offset_cap():
    with FakeAnalyticsAPI(api_key=KEY, offset_cap=250) as small, requests.Session() as s:
        s.headers["api_key"] = KEY
        response = s.get(small.base_url + "/v2/alerts", params={"offset": 200, "limit": 100})
        assert response.status_code == 422
        assert response.json()["message"] == "Sum of offset and limit should be lower than 250"
        assert s.get(small.base_url + "/v1/incidents", params={"offset": 240, "limit": 20}).status_code == 422
        assert s.get(small.base_url + "/v2/alerts", params={"offset": 150, "limit": 100}).status_code == 200
        # Following next stops silently at the cap, as upstream.
        records, _ = walk(s, small.base_url + "/v2/alerts", {"limit": 50})
        assert len(records) == 250
        # Users are not capped.
        assert s.get(small.base_url + "/v2/users", params={"offset": 300, "limit": 100}).status_code == 200


# -- search -----------------------------------------------------------------


def _window(records: list[dict], field: str, lo: int, hi: int) -> set[str]:
    return {r["id"] for r in records if lo <= parse_ms(r[field]) < hi}


@pytest.mark.parametrize("name", ["alerts", "incidents"])
@pytest.mark.parametrize("field", ["createdAt", "updatedAt"])
def test_query_window(api, session, name, field):
    if field == "updatedAt":  # the spec does not promise updatedAt search: the switch must say so
        api.updated_at_search = "accepted"
    records = api.records(name)
    stamps = sorted(parse_ms(r[field]) for r in records)
    lo, hi = stamps[len(stamps) // 4], stamps[len(stamps) // 2]
    query = f"{field}>={lo} AND {field}<{hi}"
    try:
        got, _ = walk(session, api.base_url + PAGED[name], {"query": query, "limit": 100})
    finally:
        api.updated_at_search = "rejected"
    assert {r["id"] for r in got} == _window(records, field, lo, hi)
    assert len(got) == len({r["id"] for r in got}) > 0


@pytest.mark.parametrize("mode", ["rejected", "ignored", "accepted"])
def test_updated_at_search_switch(api, session, mode):
    records = api.records("alerts")
    pivot = sorted(parse_ms(r["updatedAt"]) for r in records)[len(records) // 2]
    api.updated_at_search = mode
    try:
        response = session.get(api.base_url + "/v2/alerts", params={"query": f"updatedAt>={pivot}", "limit": 100,
                                                                 "sort": "updatedAt", "order": "asc"})
    finally:
        api.updated_at_search = "rejected"
    if mode == "rejected":
        assert response.status_code == 422 and "updatedAt" in response.json()["message"]
        return
    got = response.json()["data"]
    older = [r for r in got if parse_ms(r["updatedAt"]) < pivot]
    assert bool(older) == (mode == "ignored")  # ignored: the default listing, as if the term were not there


def test_incidents_sort_and_required_query_follow_the_spec(api, session):
    response = session.get(api.base_url + "/v1/incidents", params={"sort": "updatedAt"})
    assert response.status_code == 422
    assert "Invalid sort field 'updatedAt'" in response.json()["message"]
    assert session.get(api.base_url + "/v1/incidents").status_code == 200  # the switch's default accepts it
    api.incident_query_required = True
    try:
        refused = session.get(api.base_url + "/v1/incidents")
        with_query = session.get(api.base_url + "/v1/incidents", params={"query": "createdAt>=0"})
    finally:
        api.incident_query_required = False
    assert refused.status_code == 422 and refused.json()["message"] == "query is required"
    assert set(refused.json()) >= {"message", "took", "requestId"}
    assert with_query.status_code == 200


def test_every_response_is_dated(api, session):
    from email.utils import parsedate_to_datetime

    response = session.get(api.base_url + "/v2/teams")
    assert abs(parsedate_to_datetime(response.headers["Date"]).timestamp() - time.time()) < 5


def test_query_bounds_and_links(api, session):
    records = api.records("alerts")
    pivot = parse_ms(records[500]["createdAt"])
    after = session.get(api.base_url + "/v2/alerts", params={"query": f"createdAt>{pivot}", "limit": 100})
    body = after.json()
    assert all(parse_ms(r["createdAt"]) > pivot for r in body["data"])
    assert parse_qs(urlsplit(body["paging"]["next"]).query)["query"] == [f"createdAt>{pivot}"]
    upto, _ = walk(session, api.base_url + "/v2/alerts", {"query": f"createdAt<={pivot}", "limit": 100})
    assert {r["id"] for r in upto} == {r["id"] for r in records if parse_ms(r["createdAt"]) <= pivot}


def test_query_equality_and_combined(api, session):
    records = api.records("alerts")
    got, _ = walk(session, api.base_url + "/v2/alerts", {"query": "status:open", "limit": 100})
    assert {r["id"] for r in got} == {r["id"] for r in records if r["status"] == "open"}
    mid = parse_ms(records[500]["createdAt"])
    got, _ = walk(session, api.base_url + "/v2/alerts",
                  {"query": f"status:closed AND createdAt<{mid} AND priority:P1", "sort": "tinyId", "limit": 100})
    expected = [r["id"] for r in records
                if r["status"] == "closed" and r["priority"] == "P1" and parse_ms(r["createdAt"]) < mid]
    assert [r["id"] for r in got] == expected[::-1]
    incidents, _ = walk(session, api.base_url + "/v1/incidents", {"query": "status:resolved", "limit": 100})
    assert incidents and all(r["status"] == "resolved" for r in incidents)


@pytest.mark.parametrize("query", ["createdAt>>5", "createdAt>=yesterday", "nosuchfield:1",
                                   "status:open OR status:closed", "priority>P2", "AND"])
def test_bad_query_422(api, session, query):
    response = session.get(api.base_url + "/v2/alerts", params={"query": query})
    assert response.status_code == 422
    assert response.json()["message"]


# -- unpaginated lists --------------------------------------------------------


def test_teams_and_integrations_single_page(api, session):
    teams = session.get(api.base_url + "/v2/teams", params={"limit": 1}).json()
    assert set(teams) == {"data", "expandable", "took", "requestId"}
    assert len(teams["data"]) == DEFAULT_SIZES["teams"]
    integrations = session.get(api.base_url + "/v2/integrations").json()
    assert set(integrations) == {"code", "data", "took", "requestId"}
    assert integrations["code"] == 200
    assert len(integrations["data"]) == DEFAULT_SIZES["integrations"]


# -- data -------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_records_have_every_field(api, name):
    records = api.records(name)
    assert len(records) == DEFAULT_SIZES[name]
    for record in records:
        assert tuple(record) == FIELDS[name]
        uuid.UUID(record["id"])
    assert len({r["id"] for r in records}) == len(records)


def test_record_shapes_and_references(api):
    teams = {t["id"] for t in api.records("teams")}
    alerts, incidents = api.records("alerts"), api.records("incidents")
    assert {a["ownerTeamId"] for a in alerts} <= teams
    assert {s["teamId"] for s in api.records("services")} <= teams
    assert {i["ownerTeam"] for i in incidents} <= teams
    assert {a["priority"] for a in alerts} == {"P1", "P2", "P3", "P4", "P5"}
    assert {a["status"] for a in alerts} == {"open", "closed"}
    assert {i["status"] for i in incidents} == {"open", "resolved", "closed"}
    a = alerts[0]
    assert set(a["integration"]) == {"id", "name", "type"}
    assert set(a["visibleTo"][0]) == {"id", "name", "type"}
    assert isinstance(a["details"], dict) and isinstance(a["tags"], list)
    assert any(set(x["report"]) == {"ackTime", "closeTime", "acknowledgedBy", "closedBy"} for x in alerts)
    user = next(u for u in api.records("users") if u["userAddress"])
    assert set(user["role"]) == {"id", "name"}
    assert set(user["userAddress"]) == {"country", "state", "city", "line", "zipCode"}
    assert any(v is None for a in alerts for v in (a["description"], a["snoozedUntil"], a["note"]))


def test_timestamps(api):
    forms = set()
    for name in ("alerts", "incidents", "users"):
        for r in api.records(name):
            assert ISO_RE.match(r["createdAt"]), r["createdAt"]
            if "updatedAt" in r:
                assert parse_ms(r["updatedAt"]) >= parse_ms(r["createdAt"])
            frac = r["createdAt"][19:-1]
            forms.add(len(frac) - 1 if frac else 0)
    assert forms >= {0, 2, 3}  # ...02Z, ...41.03Z, ...40.926Z
    created = sorted(parse_ms(r["createdAt"]) for r in api.records("alerts"))
    assert created[-1] - created[0] > 300 * 86_400_000  # spread out: windows are meaningful


def test_iso_helpers():
    assert iso_ms(1709287901030) == "2024-03-01T10:11:41.03Z"
    assert iso_ms(1709287900926) == "2024-03-01T10:11:40.926Z"
    assert iso_ms(1709287902000) == "2024-03-01T10:11:42Z"
    for ms in (1709287901030, 1709287900926, 1709287902000, 1709287901100):
        assert parse_ms(iso_ms(ms)) == ms
    assert parse_ms(datetime.fromisoformat("2024-03-01T10:11:42+00:00")) == 1709287902000


def test_deterministic():
    sizes = {"alerts": 300, "incidents": 50}
    one, two = FakeAnalyticsAPI(sizes=sizes, seed=7), FakeAnalyticsAPI(sizes=sizes, seed=7)
    for name in FIELDS:
        assert one.records(name) == two.records(name)
    assert FakeAnalyticsAPI(sizes=sizes, seed=8).records("alerts") != one.records("alerts")


def test_generation_is_fast():
    start = time.perf_counter()
    fake = FakeAnalyticsAPI(sizes={"alerts": 20_000})
    assert len(fake._table("alerts").blobs) == 20_000
    assert time.perf_counter() - start < 5  # ~0.3 s here; 200k alerts take ~2.5 s


# -- mutations ----------------------------------------------------------------


def test_mutations():
    with FakeAnalyticsAPI(api_key=KEY, sizes={"alerts": 50}) as fake, requests.Session() as s:
        s.headers["api_key"] = KEY
        url = fake.base_url + "/v2/alerts"
        before = fake.records("alerts")
        latest = max(parse_ms(r["updatedAt"]) for r in before)
        s.get(url, params={"limit": 100})  # warm caches, which mutations must invalidate

        changed = fake.update("alerts", 3, status="closed", message="changed")
        assert changed["message"] == "changed" and parse_ms(changed["updatedAt"]) > latest
        first = s.get(url, params={"sort": "updatedAt", "limit": 1}).json()["data"][0]
        assert first == changed
        still_open = s.get(url, params={"query": "status:open", "limit": 100}).json()["data"]
        assert changed["id"] not in {a["id"] for a in still_open}
        by_id = fake.update("alerts", before[4]["id"], updatedAt=latest + 5, note="x")
        assert by_id["updatedAt"] == iso_ms(latest + 5)

        added = fake.add("alerts", 2)
        assert [a["tinyId"] for a in added] == ["51", "52"]
        assert all(parse_ms(a["createdAt"]) > latest and a["status"] == "open" for a in added)
        newest = s.get(url, params={"limit": 2}).json()["data"]
        assert [a["id"] for a in newest] == [added[1]["id"], added[0]["id"]]

        removed = fake.remove("alerts", before[0]["id"])
        assert removed["id"] == before[0]["id"]
        got, _ = walk(s, url, {"limit": 100})
        ids = {a["id"] for a in got}
        assert len(got) == 51 and before[0]["id"] not in ids and added[0]["id"] in ids
        window = s.get(url, params={"query": f"createdAt>{latest}"}).json()["data"]
        assert {a["id"] for a in window} == {a["id"] for a in added}
        with pytest.raises(KeyError):
            fake.remove("alerts", before[0]["id"])


# -- hooks --------------------------------------------------------------------


def test_faults_and_latency():
    with FakeAnalyticsAPI(api_key=KEY) as fake, requests.Session() as s:
        s.headers["api_key"] = KEY

        def throttle(request):
            if request.path == "/v2/alerts" and request.query.get("offset") == "20":
                return FakeReply(429, {"message": "You are making too many requests!"},
                                 {"X-RateLimit-State": "THROTTLED", "X-RateLimit-Period-In-Sec": "1"})
            return None

        fake.faults.append(throttle)
        assert s.get(fake.base_url + "/v2/alerts").status_code == 200
        throttled = s.get(fake.base_url + "/v2/alerts", params={"offset": 20})
        assert throttled.status_code == 429
        assert throttled.headers["X-RateLimit-Period-In-Sec"] == "1"
        assert set(throttled.json()) == {"message", "took", "requestId"}
        fake.faults.append(lambda request: FakeReply(200, b"{not json"))
        assert s.get(fake.base_url + "/v2/users").content == b"{not json"
        fake.faults.clear()

        fake.latency = 0.1
        start = time.perf_counter()
        assert s.get(fake.base_url + "/v2/teams").status_code == 200
        assert time.perf_counter() - start >= 0.1


def test_cli_serves_until_terminated():
    proc = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_analytics.testing.fake_api", "--port", "0",
         "--api-key", "cli-key", "--alerts", "30", "--seed", "3"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        base = proc.stdout.readline().strip()
        assert re.match(r"^http://127\.0\.0\.1:\d+$", base)
        body = requests.get(base + "/v2/alerts", params={"limit": 100},
                            headers={"Authorization": "GenieKey cli-key"}).json()
        assert len(body["data"]) == 30
        assert body["data"] == FakeAnalyticsAPI(seed=3, sizes={"alerts": 30}).records("alerts")[::-1]
    finally:
        proc.terminate()
    assert proc.wait(timeout=5) == 0


# -- throughput -----------------------------------------------------------------


def measure(fake: FakeAnalyticsAPI, total: int) -> float:
    """Records/s of a requests.Session walking paging.next over ``total`` alerts."""
    with requests.Session() as s:
        s.headers["Authorization"] = f"GenieKey {fake.api_key}"
        start = time.perf_counter()
        records, _ = walk(s, fake.base_url + "/v2/alerts", {"limit": 100})
        elapsed = time.perf_counter() - start
    assert len(records) == total
    return total / elapsed


def test_throughput_smoke(capsys):
    with FakeAnalyticsAPI(sizes={"alerts": 10_000}) as fake:
        rate = measure(fake, 10_000)
    with capsys.disabled():
        print(f"\n[fake API] requests.Session walk, 10,000 alerts in-process: {rate:,.0f} records/s")
    assert rate > 2_000  # a broken fast path shows up as hundreds per second


if __name__ == "__main__":
    # Full measurement: python -m tests.unit.test_fake_api [alerts]
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 30_000
    with FakeAnalyticsAPI(sizes={"alerts": n}, offset_cap=max(20_000, n)) as fake:
        for _ in range(2):
            print(f"requests.Session + .json() walking paging.next, {n:,} alerts: "
                  f"{measure(fake, n):,.0f} records/s")
        conn = http.client.HTTPConnection("127.0.0.1", fake.port)
        path, count, start = "/v2/alerts?limit=100", 0, time.perf_counter()
        while path:
            conn.request("GET", path, headers={"Authorization": f"GenieKey {fake.api_key}"})
            response = conn.getresponse()
            response.read()
            count += 100
            nxt = response.getheader("X-Paging-Next")
            path = nxt[len(fake.base_url):] if nxt else None
        print(f"http.client, no JSON decoding (server capacity): {count / (time.perf_counter() - start):,.0f} records/s")
