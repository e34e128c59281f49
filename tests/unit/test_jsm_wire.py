"""The successor API's flavour: which API a connection speaks, its base URL and auth, and the wire translation."""

from __future__ import annotations

import base64

import pytest

from airflow_provider_analytics.source.errors import ApiSettingsError, ConfigError
from airflow_provider_analytics.source.flavour import api_base_url, flavour_of
from airflow_provider_analytics.source.http.status import api_message, key_refusal
from airflow_provider_analytics.source.jsm.endpoints import ENDPOINTS, UNSUPPORTED
from airflow_provider_analytics.source.jsm.records import is_content_key, records_of
from airflow_provider_analytics.source.jsm.wire import JsmWire
from airflow_provider_analytics.source.plan import plan_for
from airflow_provider_analytics.source.settings import ApiSettings

CLOUD = "35273b54-3f06-40d2-880f-dd28cf8daafa"
BASE = f"https://api.atlassian.com/jsm/ops/api/{CLOUD}"


def jsm_settings(**kwargs) -> ApiSettings:
    return ApiSettings(**{"base_url": BASE, "api_key": "tok-secret-1", "flavour": "jsm", "login": "ops@example.com",
                          **kwargs})


@pytest.mark.parametrize("host, stated, expected", [
    ("https://api.atlassian.com", None, "jsm"),
    ("https://API.atlassian.com/", "auto", "jsm"),
    ("https://api.opsgenie.com", None, "opsgenie"),
    ("http://127.0.0.1:8080", "jsm", "jsm"),
    ("https://api.atlassian.com", "opsgenie", "opsgenie"),
    (f"http://127.0.0.1:9/jsm/ops/api/{CLOUD}", None, "jsm"),
])
def test_the_flavour_follows_the_host_unless_stated(host, stated, expected):
    assert flavour_of(host, stated) == expected


def test_an_unknown_flavour_is_refused_with_the_choices():
    with pytest.raises(ApiSettingsError, match="auto, opsgenie, jsm"):
        flavour_of("https://api.atlassian.com", "servicedesk")


def test_the_successor_base_url_carries_the_cloud_id():
    assert api_base_url("https://api.atlassian.com/", "jsm", f" {CLOUD} ") == BASE
    assert api_base_url(BASE, "jsm", None) == BASE  # already in the host
    assert api_base_url("https://api.opsgenie.com/", "opsgenie", CLOUD) == "https://api.opsgenie.com"
    with pytest.raises(ApiSettingsError, match="_edge/tenant_info"):
        api_base_url("https://api.atlassian.com", "jsm", "")
    with pytest.raises(ApiSettingsError, match="keep one"):
        api_base_url(BASE, "jsm", "another-cloud")
    with pytest.raises(ApiSettingsError, match="not a cloud id"):
        api_base_url("https://api.atlassian.com", "jsm", "a/b")


def test_successor_settings_sign_in_with_email_and_token_and_never_show_them():
    settings = jsm_settings()
    expected = base64.b64encode(b"ops@example.com:tok-secret-1").decode()
    assert settings.headers() == {"Authorization": f"Basic {expected}"}
    assert set(settings.secrets) == {"tok-secret-1", expected}
    assert "tok-secret-1" not in repr(settings) and expected not in repr(settings)
    auth = settings.dlt_auth()
    assert (auth.username, auth.password) == ("ops@example.com", "tok-secret-1")
    with pytest.raises(ApiSettingsError, match="email in the connection's login field"):
        jsm_settings(login=" ")
    with pytest.raises(ApiSettingsError, match="No API token"):
        jsm_settings(api_key="")


def test_a_resource_without_counterpart_fails_naming_it_before_any_request():
    assert set(UNSUPPORTED) | set(ENDPOINTS) == set(__import__(
        "airflow_provider_analytics.source.catalog", fromlist=["CATALOG"]).CATALOG)
    for resource in UNSUPPORTED:
        with pytest.raises(ConfigError, match=rf"Resource '{resource}' cannot be synced from this connection"):
            plan_for(resource, jsm_settings())
    with pytest.raises(ConfigError, match="seed-style config"):
        plan_for("alerts", jsm_settings(), config={"client": {}, "resources": []})


def test_plans_take_the_successor_paths_and_keep_the_tables_keys():
    settings = jsm_settings()
    alerts = plan_for("alerts", settings)
    assert alerts.url == f"{BASE}/v1/alerts" and alerts.spec.key == "id"
    assert alerts.spec.window_field == "createdAt" and not alerts.spec.sorts_on_updated_at
    logs = plan_for("alert_logs", settings)
    assert logs.url_for("a/1") == f"{BASE}/v1/alerts/a%2F1/logs" and logs.spec.primary_key == ("alert_id", "offset")
    assert logs.params == {"limit": 100} and logs.wire is not None
    escalations = plan_for("escalations", settings)
    assert escalations.teams is not None and escalations.teams.url == f"{BASE}/v1/teams"
    assert escalations.url_for("t1") == f"{BASE}/v1/teams/t1/escalations"
    assert plan_for("heartbeats", settings).spec.key == "name"
    classic = plan_for("alerts", ApiSettings(base_url="https://api.opsgenie.com", api_key="k"))
    assert classic.wire is None and classic.url == "https://api.opsgenie.com/v2/alerts"


def test_requests_ask_for_size_within_what_each_operation_accepts():
    wire = JsmWire()
    assert wire.outgoing(f"{BASE}/v1/alerts?limit=100&sort=createdAt&query=createdAt%3E%3D5") == (
        f"{BASE}/v1/alerts?size=100&sort=createdAt&query=createdAt%3E%3D5")
    assert wire.outgoing(f"{BASE}/v1/schedules?expand=rotation&limit=100") == f"{BASE}/v1/schedules?expand=rotation&size=50"
    assert wire.outgoing(f"{BASE}/v1/teams") == f"{BASE}/v1/teams"


def test_list_pages_come_back_in_the_classic_shape():
    wire = JsmWire()
    body = {"values": [{"id": "a1", "seen": True, "integrationName": "Mail", "integrationType": "Email",
                        "createdAt": "2024-01-05T07:06:47.958Z"}],
            "count": 41, "links": {"next": "/v1/alerts?offset=1&size=1&sort=createdAt"}}
    page = wire.incoming(f"{BASE}/v1/alerts?size=1", body)
    assert page["data"] == [{"id": "a1", "isSeen": True, "integration": {"name": "Mail", "type": "Email"},
                             "createdAt": "2024-01-05T07:06:47.958Z"}]
    assert page["paging"] == {"next": "/v1/alerts?offset=1&limit=1&sort=createdAt"} and page["totalCount"] == 41
    last = wire.incoming(f"{BASE}/v1/alerts", {"values": [], "links": {}})
    assert last["paging"] == {} and last["data"] == []
    teams = wire.incoming(f"{BASE}/v1/teams", {"platformTeams": [{"teamId": "t1", "teamName": "Ops"}]})
    assert teams["data"] == [{"id": "t1", "name": "Ops"}]
    beats = wire.incoming(f"{BASE}/v1/teams/t1/heartbeats", {"values": [
        {"name": "db", "intervalUnit": "Minutes", "ownerTeamId": "t1", "status": "Responsive"}]})
    assert beats["data"] == [{"name": "db", "intervalUnit": "minutes", "ownerTeam": {"id": "t1"}, "status": "Responsive"}]
    schedules = wire.incoming(f"{BASE}/v1/schedules", {"values": [{"id": "s", "teamId": "t1"}], "_expands": ["rotation"]})
    assert schedules["data"] == [{"id": "s", "ownerTeam": {"id": "t1"}}]
    error = {"errors": [{"title": "Invalid size", "code": "BAD"}]}
    assert wire.incoming(f"{BASE}/v1/alerts", error) is error
    assert wire.incoming(f"{BASE}/v1/users", {"values": []}) == {"values": []}  # not an operation of ours


def test_notes_get_their_classic_offset_and_log_entries_a_stable_key_from_content():
    notes = records_of(ENDPOINTS["alert_notes"], [{"id": "1704869443312000050", "note": "n"}, {"id": "x-1"}])
    assert [note["offset"] for note in notes] == ["1704869443312_1704869443312000050", "jsm:x-1"]
    entry = {"logTime": "2024-01-05T07:06:47.958Z", "logType": "system", "log": "Alert created", "owner": "System"}
    first = records_of(ENDPOINTS["alert_logs"], [entry, dict(entry), {**entry, "log": "Acked"}])
    again = records_of(ENDPOINTS["alert_logs"], [{**entry, "log": "Acked"}])
    keys = [row["offset"] for row in first]
    assert len(set(keys)) == 3 and keys[1] == keys[0] + ":1"  # identical entries told apart
    assert again[0]["offset"] == keys[2]  # the same entry, read again, has the same key
    assert first[0]["createdAt"] == entry["logTime"] and first[0]["type"] == "system"
    assert is_content_key((keys[0],)) and not is_content_key(("1704869443312_1704869443312000050",))


def test_child_plans_know_which_stored_keys_the_other_api_wrote():
    content = ("jsm:2024-01-05T07:06:47.958Z:0123456789abcdef",)
    classic = ("1704869443312_1704869443312000050",)
    successor_logs = plan_for("alert_logs", jsm_settings()).superseded
    opsgenie_logs = plan_for("alert_logs", ApiSettings(base_url="https://api.opsgenie.com", api_key="k")).superseded
    assert successor_logs(classic) and not successor_logs(content)
    assert opsgenie_logs(content) and not opsgenie_logs(classic)
    assert plan_for("alert_notes", jsm_settings()).superseded is None


def test_refusals_and_error_messages_speak_the_successor_api():
    assert "login field" in key_refusal(401, "jsm").advice and "key header" in key_refusal(401).advice
    assert api_message({"errors": [{"title": "size must be at most 100"}, {"title": "bad sort"}]}) == (
        "size must be at most 100; bad sort")
    assert api_message({"code": 401, "message": "Unauthorized"}) == "Unauthorized"
    assert api_message(["x"]) is None
