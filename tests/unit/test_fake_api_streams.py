"""The fake API's endpoints under one parent record, and its schedules, escalations and heartbeats.

Alert logs, notes and recipients, a user's teams, a team with its members: envelopes, auth, 404 for
unknown parents, offset-token paging, determinism, agreement with the parent records, mutations, and
``records()`` holding exactly what the endpoints serve. Every request goes over real HTTP on loopback.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from airflow_provider_analytics.testing.fake_api import (
    COLUMNS,
    DEFAULT_SIZES,
    KEYS,
    PARENTS,
    FakeAnalyticsAPI,
    FakeReply,
    parse_ms,
)
from tests.helpers import genie_session

KEY = "stream-key"
SIZES = {"alerts": 120}
TIMELINE_PATHS = {"alert_logs": "logs", "alert_notes": "notes", "alert_recipients": "recipients"}


@pytest.fixture(scope="module")
def api():
    with FakeAnalyticsAPI(api_key=KEY, sizes=SIZES, seed=3) as server:
        yield server


@pytest.fixture()
def session():
    with genie_session(KEY) as s:
        yield s


def url(api: FakeAnalyticsAPI, resource: str, parent: str) -> str:
    if resource in TIMELINE_PATHS:
        return f"{api.base_url}/v2/alerts/{parent}/{TIMELINE_PATHS[resource]}"
    if resource == "user_teams":
        return f"{api.base_url}/v2/users/{parent}/teams"
    return f"{api.base_url}/v2/teams/{parent}"


def walk(session: requests.Session, first: str, params: dict | None = None) -> tuple[list[dict], int]:
    """Follow paging.next until it is absent; (records, pages)."""
    records, pages = [], 0
    response = session.get(first, params=params)
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        records += body["data"]
        pages += 1
        nxt = body["paging"].get("next")
        assert response.headers.get("X-Paging-Next") == nxt
        if not nxt:
            return records, pages
        response = session.get(nxt)


def served_rows(api: FakeAnalyticsAPI, session: requests.Session, resource: str) -> list[dict]:
    """A child table as a client builds it from the endpoints: parent ids added, keys copied."""
    rows = []
    if resource in TIMELINE_PATHS:
        for alert in api.records("alerts"):
            link = url(api, resource, alert["id"])
            if resource == "alert_recipients":
                for r in session.get(link).json()["data"]:
                    rows.append({"alert_id": alert["id"], "user_id": r["user"]["id"], **r})
            else:
                records, _ = walk(session, link, {"order": "asc", "limit": 100})
                rows += [{"alert_id": alert["id"], **r} for r in records]
    elif resource == "user_teams":
        for user in api.records("users"):
            for t in session.get(url(api, resource, user["id"])).json()["data"]:
                rows.append({"user_id": user["id"], "team_id": t["id"], "name": t["name"]})
    else:
        for team in api.records("teams"):
            for m in session.get(url(api, resource, team["id"])).json()["data"]["members"]:
                rows.append({"team_id": team["id"], "user_id": m["user"]["id"], **m})
    return [{k: row[k] for k in COLUMNS[resource]} for row in rows]


# -- envelopes, auth, 404 ------------------------------------------------------------


def test_every_endpoint_has_the_envelope(api, session):
    alert, user, team = api.records("alerts")[0], api.records("users")[0], api.records("teams")[0]
    for resource in ("alert_logs", "alert_notes"):
        response = session.get(url(api, resource, alert["id"]))
        body = response.json()
        assert response.status_code == 200 and set(body) == {"data", "paging", "took", "requestId"}
        assert isinstance(body["took"], float) and uuid.UUID(body["requestId"])
        assert set(body["paging"]) <= {"first", "next"}
        assert response.headers["X-Paging-First"] == body["paging"]["first"]
    body = session.get(url(api, "alert_recipients", alert["id"])).json()
    assert set(body) == {"data", "took", "requestId"} and body["data"]
    assert set(body["data"][0]) == {"user", "state", "method", "createdAt", "updatedAt"}
    body = session.get(url(api, "user_teams", user["id"])).json()
    assert set(body) == {"data", "took", "requestId"} and all(set(t) == {"id", "name"} for t in body["data"])
    body = session.get(url(api, "team_members", team["id"])).json()
    assert set(body) == {"data", "took", "requestId"}
    assert {k: v for k, v in body["data"].items() if k != "members"} == team
    assert all(set(m) == {"user", "role"} and set(m["user"]) == {"id", "username"} for m in body["data"]["members"])
    body = session.get(f"{api.base_url}/v2/schedules").json()
    assert set(body) == {"data", "expandable", "took", "requestId"} and body["expandable"] == ["rotation"]
    assert len(body["data"]) == DEFAULT_SIZES["schedules"]
    body = session.get(f"{api.base_url}/v2/escalations").json()
    assert set(body) == {"data", "took", "requestId"} and len(body["data"]) == DEFAULT_SIZES["escalations"]
    body = session.get(f"{api.base_url}/v2/heartbeats").json()
    assert set(body) == {"data", "took", "requestId"} and set(body["data"]) == {"heartbeats"}
    assert len(body["data"]["heartbeats"]) == DEFAULT_SIZES["heartbeats"]


@pytest.mark.parametrize("path", ["/v2/alerts/{a}/logs", "/v2/alerts/{a}/notes", "/v2/alerts/{a}/recipients",
                                  "/v2/users/{u}/teams", "/v2/teams/{t}", "/v2/schedules", "/v2/escalations",
                                  "/v2/heartbeats"])
@pytest.mark.parametrize("headers", [{}, {"Authorization": "GenieKey wrong"}])
def test_auth_is_required(api, path, headers):
    link = api.base_url + path.format(a=api.records("alerts")[0]["id"], u=api.records("users")[0]["id"],
                                      t=api.records("teams")[0]["id"])
    response = requests.get(link, headers=headers)
    assert response.status_code == 401 and response.json()["message"] == "Could not authenticate"
    assert requests.get(link, headers={"api_key": KEY}).status_code == 200


@pytest.mark.parametrize("resource", ["alert_logs", "alert_notes", "alert_recipients", "user_teams", "team_members"])
def test_unknown_parent_is_404(api, session, resource):
    response = session.get(url(api, resource, "no-such-parent"))
    body = response.json()
    assert response.status_code == 404 and set(body) == {"message", "took", "requestId"}
    assert "[no-such-parent] does not exist" in body["message"]
    if resource in TIMELINE_PATHS:
        assert body["message"] == "Alert with id [no-such-parent] does not exist"
        assert session.get(url(api, resource, "999999"), params={"identifierType": "tiny"}).status_code == 404


def test_other_identifiers(api, session):
    alerts = api.records("alerts")
    alert = alerts[7]
    by_id = session.get(url(api, "alert_logs", alert["id"])).json()["data"]
    by_tiny = session.get(url(api, "alert_logs", alert["tinyId"]), params={"identifierType": "tiny"})
    assert by_tiny.json()["data"] == by_id
    newest = [a for a in alerts if a["alias"] == alert["alias"]][-1]  # the newest alert holding the alias
    got = session.get(url(api, "alert_recipients", alert["alias"]), params={"identifierType": "alias"}).json()
    assert got["data"] == api.children("alert_recipients", newest["id"])
    user, team = api.records("users")[5], api.records("teams")[2]
    assert (session.get(url(api, "user_teams", user["username"])).json()["data"]
            == session.get(url(api, "user_teams", user["id"])).json()["data"])
    by_name = session.get(url(api, "team_members", team["name"]), params={"identifierType": "name"}).json()
    assert by_name["data"]["id"] == team["id"]
    assert session.get(url(api, "team_members", team["name"])).status_code == 404  # identifierType defaults to id
    assert session.get(url(api, "team_members", team["id"]), params={"identifierType": "tiny"}).status_code == 422


def test_schedules_carry_rotations_only_when_expanded(api, session):
    plain = session.get(f"{api.base_url}/v2/schedules").json()["data"]
    expanded = session.get(f"{api.base_url}/v2/schedules", params={"expand": "rotation"}).json()["data"]
    assert expanded == api.records("schedules")
    assert all(s["rotations"] == [] for s in plain)
    assert [{**s, "rotations": []} for s in expanded] == plain
    assert any(s["rotations"] for s in expanded)
    response = session.get(f"{api.base_url}/v2/schedules", params={"expand": "member"})
    assert response.status_code == 422 and "expand" in response.json()["message"]


# -- paging of logs and notes ------------------------------------------------------------


@pytest.fixture(scope="module")
def long_alert(api):
    alert = api.records("alerts")[3]
    api.append_alert_log(alert["id"], 250)
    api.append_alert_note(alert["id"], 130)
    return api.records("alerts")[3]


@pytest.mark.parametrize("resource", ["alert_logs", "alert_notes"])
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_paging_next_walks_a_long_timeline(api, session, long_alert, resource, order):
    truth = api.children(resource, long_alert["id"])
    assert len(truth) > 100
    got, pages = walk(session, url(api, resource, long_alert["id"]), {"limit": 100, "order": order})
    assert got == (truth if order == "asc" else truth[::-1])
    assert pages == -(-len(truth) // 100)
    offsets = [r["offset"] for r in got]
    assert len(set(offsets)) == len(offsets)


def test_paging_links_carry_the_query(api, session, long_alert):
    base = url(api, "alert_logs", long_alert["id"])
    response = session.get(base, params={"limit": 7, "order": "asc", "identifierType": "id"})
    body = response.json()
    last = body["data"][-1]["offset"]
    assert body["paging"]["next"] == f"{base}?offset={last}&direction=next&limit=7&order=asc&identifierType=id"
    assert body["paging"]["first"] == f"{base}?direction=next&limit=7&order=asc&identifierType=id"
    assert response.headers["X-Paging-Next"] == body["paging"]["next"]
    other_host = requests.get(base, params={"limit": 7}, headers={"api_key": KEY, "Host": "example.test:9"}).json()
    assert other_host["paging"]["next"].startswith(f"http://example.test:9/v2/alerts/{long_alert['id']}/logs?")
    assert parse_qs(urlsplit(other_host["paging"]["next"]).query)["direction"] == ["next"]


def test_direction_prev_and_offsets(api, session, long_alert):
    truth = api.children("alert_logs", long_alert["id"])
    base = url(api, "alert_logs", long_alert["id"])
    pivot = truth[150]["offset"]
    after = session.get(base, params={"offset": pivot, "order": "asc", "limit": 5}).json()["data"]
    assert after == truth[151:156]
    before = session.get(base, params={"offset": pivot, "order": "asc", "direction": "prev", "limit": 5}).json()["data"]
    assert before == truth[145:150]
    older = session.get(base, params={"offset": pivot, "limit": 5}).json()["data"]  # desc: older entries next
    assert older == truth[145:150][::-1]
    newer = session.get(base, params={"offset": pivot, "direction": "prev", "limit": 5}).json()["data"]
    assert newer == truth[151:156][::-1]
    end = session.get(base, params={"offset": truth[-1]["offset"], "order": "asc"}).json()
    assert end["data"] == [] and "next" not in end["paging"]


def test_limit_above_the_maximum_is_refused(api, session, long_alert):
    for resource in ("alert_logs", "alert_notes"):
        response = session.get(url(api, resource, long_alert["id"]), params={"limit": 101})
        assert response.status_code == 422 and response.json()["message"] == "limit should be at most 100"
        assert len(session.get(url(api, resource, long_alert["id"])).json()["data"]) == 20  # the default


# -- determinism -------------------------------------------------------------------------


def test_two_fakes_with_one_seed_serve_the_same_bytes():
    one, two = FakeAnalyticsAPI(api_key=KEY, sizes=SIZES, seed=11), FakeAnalyticsAPI(api_key=KEY, sizes=SIZES, seed=11)
    with one, two, requests.Session() as s:
        s.headers["api_key"] = KEY
        alert, user, team = one.records("alerts")[9], one.records("users")[9], one.records("teams")[3]
        for resource, parent in (("alert_logs", alert), ("alert_notes", alert), ("alert_recipients", alert),
                                 ("user_teams", user), ("team_members", team)):
            a, b = s.get(url(one, resource, parent["id"])), s.get(url(two, resource, parent["id"]))
            strip = (lambda r, api: r.content.split(b',"took":')[0].replace(api.base_url.encode(), b""))
            assert strip(a, one) == strip(b, two), resource
        for path in ("/v2/schedules?expand=rotation", "/v2/escalations", "/v2/heartbeats"):
            assert (s.get(one.base_url + path).content.split(b',"took":')[0]
                    == s.get(two.base_url + path).content.split(b',"took":')[0])
    for resource in COLUMNS:
        assert one.records(resource) == two.records(resource), resource
    other = FakeAnalyticsAPI(sizes=SIZES, seed=12)
    assert other.records("alert_logs") != one.records("alert_logs")


def test_children_are_drawn_lazily():
    start = time.perf_counter()
    fake = FakeAnalyticsAPI(sizes={"alerts": 50_000}).start()
    try:
        assert time.perf_counter() - start < 5
        assert fake._children._timelines == {}  # no alert's timeline exists until asked for
        alert_id = fake._table("alerts").columns["id"][-1]
        assert fake.children("alert_logs", alert_id)
        assert list(fake._children._timelines) == [alert_id]
    finally:
        fake.stop()


# -- agreement with the parents ------------------------------------------------------------


def test_membership_is_one_relation_seen_both_ways(api, session):
    users, teams = api.records("users"), api.records("teams")
    by_team = {(t["id"], m["user"]["id"]) for t in teams
               for m in session.get(url(api, "team_members", t["id"])).json()["data"]["members"]}
    by_user = {(t["id"], u["id"]) for u in users for t in session.get(url(api, "user_teams", u["id"])).json()["data"]}
    assert by_team == by_user
    per_user = Counter(uid for _, uid in by_team)
    assert set(per_user) == {u["id"] for u in users} and set(per_user.values()) <= {1, 2, 3}
    assert {tid for tid, _ in by_team} == {t["id"] for t in teams}  # every team has a member
    usernames = {u["id"]: u["username"] for u in users}
    names = {t["id"]: t["name"] for t in teams}
    for row in api.records("team_members"):
        assert row["user"] == {"id": row["user_id"], "username": usernames[row["user_id"]]}
        assert row["role"] in ("admin", "user")
    assert all(row["name"] == names[row["team_id"]] for row in api.records("user_teams"))


def test_timelines_agree_with_their_alerts(api):
    users = {u["id"]: u["username"] for u in api.records("users")}
    notes_per_alert = Counter()
    for alert in api.records("alerts"):
        created, updated = parse_ms(alert["createdAt"]), parse_ms(alert["updatedAt"])
        logs = api.children("alert_logs", alert["id"])
        notes = api.children("alert_notes", alert["id"])
        if alert["id"] != api.records("alerts")[3]["id"]:  # the long timeline has appended notes
            assert len(notes) <= 3
        notes_per_alert[len(notes)] += 1
        assert logs[0]["log"].startswith("Alert created") and parse_ms(logs[0]["createdAt"]) == created
        for entries in (logs, notes):
            stamps = [parse_ms(e["createdAt"]) for e in entries]
            assert all(created <= t <= updated for t in stamps), alert["id"]
            offsets = [e["offset"] for e in entries]
            assert offsets == sorted(offsets) and len(set(offsets)) == len(offsets)
            assert stamps == sorted(stamps)
            assert all(int(e["offset"].split("_")[0]) == parse_ms(e["createdAt"]) for e in entries)
        report = alert["report"]
        if "ackTime" in report:
            assert {"log": "Alert acknowledged via web", "owner": report["acknowledgedBy"],
                    "at": created + report["ackTime"]} in [
                {"log": e["log"], "owner": e["owner"], "at": parse_ms(e["createdAt"])} for e in logs]
        if "closeTime" in report:
            assert any(e["log"].startswith("Alert closed") and parse_ms(e["createdAt"]) == created + report["closeTime"]
                       for e in logs)
        assert any(e["log"].startswith("Alert closed") for e in logs) == (alert["status"] == "closed")
        assert any(e["log"].startswith("Alert acknowledged") for e in logs) == alert["acknowledged"]
        recipients = api.children("alert_recipients", alert["id"])
        assert 1 <= len(recipients) <= 4
        assert len({r["user"]["id"] for r in recipients}) == len(recipients)
        assert all(users[r["user"]["id"]] == r["user"]["username"] for r in recipients)
        assert all(r["createdAt"] == alert["createdAt"] and created <= parse_ms(r["updatedAt"]) <= updated
                   for r in recipients)
        if report.get("acknowledgedBy"):
            assert {"id": users_by_name(users)[report["acknowledgedBy"]], "username": report["acknowledgedBy"]} in [
                r["user"] for r in recipients if r["state"] == "action"]
    assert notes_per_alert[0] > len(api.records("alerts")) // 3  # many alerts have no note
    assert sum(n for count, n in notes_per_alert.items() if count) > 10


def users_by_name(users: dict[str, str]) -> dict[str, str]:
    return {name: uid for uid, name in users.items()}


def test_recipients_are_members_of_the_owner_team(api, session):
    members = {}
    for team in api.records("teams"):
        body = session.get(url(api, "team_members", team["id"])).json()
        members[team["id"]] = {m["user"]["id"] for m in body["data"]["members"]}
    for alert in api.records("alerts")[:40]:
        acker = alert["report"].get("acknowledgedBy") or (alert["owner"] if alert["acknowledged"] else None)
        for r in api.children("alert_recipients", alert["id"]):
            assert r["user"]["id"] in members[alert["ownerTeamId"]] or r["user"]["username"] == acker


def test_schedules_escalations_heartbeats_refer_to_existing_records(api):
    teams = {t["id"]: t["name"] for t in api.records("teams")}
    users = {u["id"]: u["username"] for u in api.records("users")}
    schedules = {s["id"]: s["name"] for s in api.records("schedules")}
    for record in api.records("schedules") + api.records("escalations") + api.records("heartbeats"):
        if record["ownerTeam"] is not None:
            assert teams[record["ownerTeam"]["id"]] == record["ownerTeam"]["name"]
    for schedule in api.records("schedules"):
        assert 1 <= len(schedule["rotations"]) <= 3
        for rotation in schedule["rotations"]:
            assert rotation["type"] in ("daily", "weekly", "hourly")
            assert parse_ms(rotation["startDate"]) % 1_800_000 == 0  # minutes 0 or 30, as the spec says
            for p in rotation["participants"]:
                assert users[p["id"]] == p["username"]
    targets = {"user": (users, "username"), "team": (teams, "name"), "schedule": (schedules, "name")}
    for escalation in api.records("escalations"):
        assert set(escalation["repeat"]) == {"waitInterval", "count", "resetRecipientStates", "closeAlertAfterAll"}
        delays = [r["delay"]["timeAmount"] for r in escalation["rules"]]
        assert delays == sorted(delays)
        for rule in escalation["rules"]:
            names, field = targets[rule["recipient"]["type"]]
            assert names[rule["recipient"]["id"]] == rule["recipient"][field]
    heartbeats = api.records("heartbeats")
    assert len({h["name"] for h in heartbeats}) == len(heartbeats)
    assert not any(h["expired"] and not h["enabled"] for h in heartbeats)


# -- records() is what the endpoints serve ---------------------------------------------------


@pytest.mark.parametrize("resource", sorted(PARENTS))
def test_records_equal_what_the_child_endpoints_serve(api, session, resource):
    rows = api.records(resource)
    assert rows == served_rows(api, session, resource)
    assert all(tuple(row) == COLUMNS[resource] for row in rows)
    keys = [tuple(row[k] for k in KEYS[resource]) for row in rows]
    assert len(set(keys)) == len(keys)


@pytest.mark.parametrize("resource,path", [("schedules", "/v2/schedules?expand=rotation"),
                                           ("escalations", "/v2/escalations"), ("heartbeats", "/v2/heartbeats")])
def test_records_equal_what_the_lists_serve(api, session, resource, path):
    data = session.get(api.base_url + path).json()["data"]
    assert api.records(resource) == (data["heartbeats"] if resource == "heartbeats" else data)
    assert all(tuple(row) == COLUMNS[resource] for row in api.records(resource))


# -- mutations ---------------------------------------------------------------------------------


def test_updating_an_alert_writes_a_log_entry_and_a_note():
    with FakeAnalyticsAPI(api_key=KEY, sizes={"alerts": 30}) as fake, requests.Session() as s:
        s.headers["api_key"] = KEY
        alert = next(a for a in fake.records("alerts") if a["status"] == "open")
        logs_before = fake.children("alert_logs", alert["id"])
        notes_before = fake.children("alert_notes", alert["id"])
        closed = fake.update("alerts", alert["id"], status="closed")
        logs = s.get(url(fake, "alert_logs", alert["id"]), params={"order": "asc", "limit": 100}).json()["data"]
        notes = s.get(url(fake, "alert_notes", alert["id"]), params={"order": "asc", "limit": 100}).json()["data"]
        assert logs[:-1] == logs_before and notes[:-1] == notes_before
        assert logs[-1]["log"] == "Alert closed" and logs[-1]["createdAt"] == closed["updatedAt"]
        assert notes[-1]["createdAt"] == closed["updatedAt"] and notes[-1]["note"]
        assert logs[-1]["offset"] > max(e["offset"] for e in logs_before + notes_before)
        changed = fake.update("alerts", alert["id"], message="disk full again")
        newest = s.get(url(fake, "alert_logs", alert["id"]), params={"limit": 1}).json()["data"][0]
        assert newest["log"] == "Alert updated: message" and newest["createdAt"] == changed["updatedAt"]
        assert newest["offset"] > logs[-1]["offset"]
        # an alert changed before its timeline was ever drawn keeps the generated part
        untouched = fake.records("alerts")[-1]
        twin = FakeAnalyticsAPI(sizes={"alerts": 30}).children("alert_logs", untouched["id"])
        fake.update("alerts", untouched["id"], priority="P1")
        assert fake.children("alert_logs", untouched["id"])[:-1] == twin


def test_each_change_of_state_writes_its_own_log_text():
    with FakeAnalyticsAPI(api_key=KEY, sizes={"alerts": 30}) as fake, requests.Session() as s:
        s.headers["api_key"] = KEY
        alert = next(a for a in fake.records("alerts") if a["status"] == "open" and not a["acknowledged"])
        user = fake.records("users")[0]["username"]
        changes = [({"acknowledged": True, "owner": user}, "Alert acknowledged"),
                   ({"acknowledged": False}, "Alert unacknowledged"),
                   ({"status": "closed"}, "Alert closed"),
                   ({"status": "open"}, "Alert reopened"),
                   ({"message": "still broken"}, "Alert updated: message"),
                   ({"status": "closed"}, "Alert closed")]
        written = []
        for fields, text in changes:
            changed = fake.update("alerts", alert["id"], **fields)
            newest = s.get(url(fake, "alert_logs", alert["id"]), params={"limit": 1}).json()["data"][0]
            assert (newest["log"], newest["createdAt"]) == (text, changed["updatedAt"]), fields
            written.append(newest)
        assert written[0]["owner"] == user
        assert [e["log"] for e in fake.children("alert_logs", alert["id"])[-len(changes):]] == [t for _, t in changes]


def test_added_and_removed_alerts():
    with FakeAnalyticsAPI(api_key=KEY, sizes={"alerts": 10}) as fake, requests.Session() as s:
        s.headers["api_key"] = KEY
        (added,) = fake.add("alerts")
        logs = s.get(url(fake, "alert_logs", added["id"])).json()["data"]
        assert logs[-1]["log"].startswith("Alert created") and all(e["createdAt"] == added["createdAt"] for e in logs)
        assert s.get(url(fake, "alert_recipients", added["id"])).json()["data"]
        victim = fake.records("alerts")[2]["id"]
        assert s.get(url(fake, "alert_notes", victim)).status_code == 200
        fake.remove("alerts", victim)
        for resource in TIMELINE_PATHS:
            assert s.get(url(fake, resource, victim)).status_code == 404
        assert victim not in {r["alert_id"] for r in fake.records("alert_logs")}
        with pytest.raises(KeyError):
            fake.children("alert_logs", victim)


def test_schedules_escalations_and_heartbeats_change():
    with FakeAnalyticsAPI(api_key=KEY, sizes={"alerts": 5}) as fake, requests.Session() as s:
        s.headers["api_key"] = KEY
        schedule, escalation, heartbeat = (fake.records(r)[0] for r in ("schedules", "escalations", "heartbeats"))
        fake.update("schedules", schedule["id"], enabled=not schedule["enabled"])
        fake.update("heartbeats", heartbeat["name"], expired=True, enabled=True)
        fake.remove("escalations", escalation["id"])
        fake.remove("heartbeats", fake.records("heartbeats")[1]["name"])
        (new_schedule,) = fake.add("schedules")
        (new_heartbeat,) = fake.add("heartbeats")
        schedules = s.get(fake.base_url + "/v2/schedules", params={"expand": "rotation"}).json()["data"]
        assert schedules[0]["enabled"] is not schedule["enabled"] and schedules[-1] == new_schedule
        heartbeats = s.get(fake.base_url + "/v2/heartbeats").json()["data"]["heartbeats"]
        assert heartbeats[0]["expired"] is True and heartbeats[-1] == new_heartbeat
        assert len(heartbeats) == DEFAULT_SIZES["heartbeats"]
        assert escalation["id"] not in {e["id"] for e in s.get(fake.base_url + "/v2/escalations").json()["data"]}


def test_team_membership_changes_show_both_ways():
    with FakeAnalyticsAPI(api_key=KEY, sizes={"alerts": 5}) as fake, requests.Session() as s:
        s.headers["api_key"] = KEY
        team = fake.records("teams")[0]
        alice, bob = fake.records("users")[:2]
        served = fake.set_team_members(team["id"], [(alice["id"], "admin"), (bob["id"], "user")])
        members = s.get(url(fake, "team_members", team["id"])).json()["data"]["members"]
        assert members == served == [{"user": {"id": alice["id"], "username": alice["username"]}, "role": "admin"},
                                     {"user": {"id": bob["id"], "username": bob["username"]}, "role": "user"}]
        for user in (alice, bob):
            assert team["id"] in {t["id"] for t in s.get(url(fake, "user_teams", user["id"])).json()["data"]}
        fake.set_team_members(team["id"], [(bob["id"], "admin")])
        assert team["id"] not in {t["id"] for t in s.get(url(fake, "user_teams", alice["id"])).json()["data"]}
        assert [r["user_id"] for r in fake.records("team_members") if r["team_id"] == team["id"]] == [bob["id"]]
        fake.update("users", bob["id"], username="bob@example.com")
        assert fake.children("team_members", team["id"])[0]["user"]["username"] == "bob@example.com"
        fake.remove("users", bob["id"])
        assert fake.children("team_members", team["id"]) == []
        assert s.get(url(fake, "user_teams", bob["id"])).status_code == 404
        with pytest.raises(KeyError):
            fake.set_team_members("no-such-team", [])
        with pytest.raises(KeyError):
            fake.set_team_members(team["id"], [("no-such-user", "user")])


# -- the machinery every endpoint shares ---------------------------------------------------------


def test_faults_budget_latency_and_log_reach_the_child_endpoints():
    with FakeAnalyticsAPI(api_key=KEY, sizes={"alerts": 5}) as fake, requests.Session() as s:
        s.headers["api_key"] = KEY
        alert = fake.records("alerts")[0]
        link = url(fake, "alert_logs", alert["id"])
        fake.faults.append(lambda r: FakeReply(503, {"message": "down"}) if r.path.endswith("/logs") else None)
        assert s.get(link).status_code == 503
        assert s.get(url(fake, "alert_notes", alert["id"])).status_code == 200
        fake.faults.clear()
        fake.latency = 0.05
        start = time.perf_counter()
        assert s.get(link).status_code == 200 and time.perf_counter() - start >= 0.05
        fake.latency = 0.0
        path = link[len(fake.base_url):]
        assert [e for e in fake.request_log if e[1] == path] == [("GET", path, 503), ("GET", path, 200)]
        assert s.post(link).status_code == 405
    with FakeAnalyticsAPI(api_key=KEY, sizes={"alerts": 5}, budget=0.5, burst=1) as fake, requests.Session() as s:
        s.headers["api_key"] = KEY
        team = fake.records("teams")[0]
        assert s.get(url(fake, "team_members", team["id"])).status_code == 200
        throttled = s.get(url(fake, "team_members", team["id"]))
        assert throttled.status_code == 429 and throttled.headers["X-RateLimit-State"] == "THROTTLED"
