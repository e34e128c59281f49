"""Provider discovery, the connection form, and the hook against the fake API."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

from airflow_provider_analytics import CONN_FIELDS, get_provider_info
from airflow_provider_analytics.hooks.analytics import AnalyticsConnectionError, AnalyticsHook
from airflow_provider_analytics.testing.fake_api import FakeAnalyticsAPI
from tests.conftest import API_KEY, analytics_conn_json


def test_provider_info_names_the_distribution_and_registers_the_connection_type():
    info = get_provider_info()
    assert info["package-name"] == "airflow-provider-analytics"
    (conn_type,) = info["connection-types"]
    assert conn_type["connection-type"] == "analytics"
    assert conn_type["hook-class-name"] == "airflow_provider_analytics.hooks.analytics.AnalyticsHook"
    assert set(conn_type["conn-fields"]) == {"api_flavour", "cloud_id", "key_header", "auth_scheme", "timeout",
                                             "page_size", "max_retry_wait", "max_requests_per_second"}
    behaviour = conn_type["ui-field-behaviour"]
    assert behaviour["relabeling"] == {"host": "API base URL", "login": "Email (Jira Service Management)",
                                       "password": "API key or API token"}
    assert set(behaviour["hidden-fields"]) == {"schema", "port"}  # login: the successor API's email
    assert conn_type["conn-fields"]["api_flavour"]["schema"]["enum"][:3] == ["auto", "opsgenie", "jsm"]


def test_hook_declares_the_same_form_as_the_provider_info():
    behaviour = AnalyticsHook.get_ui_field_behaviour()
    provider = get_provider_info()["connection-types"][0]["ui-field-behaviour"]
    assert behaviour["hidden_fields"] == provider["hidden-fields"]
    assert behaviour["relabeling"] == provider["relabeling"]
    assert behaviour["placeholders"] == provider["placeholders"]
    assert AnalyticsHook.conn_type == "analytics" and AnalyticsHook.default_conn_name == "analytics_default"
    assert CONN_FIELDS["page_size"]["schema"]["maximum"] == 100


def test_airflow_providers_manager_discovers_the_provider_and_its_hook():
    code = (
        "import warnings; warnings.simplefilter('ignore');"
        "from airflow.providers_manager import ProvidersManager as P; m = P();"
        "print('RESULT', 'airflow-provider-analytics' in m.providers);"
        "h = m.hooks['analytics']; print('RESULT', h.hook_class_name if h else None);"
        "print('RESULT', sorted(k for k in m.connection_form_widgets if k.startswith('extra__analytics__')));"
        "print('RESULT', m.field_behaviours.get('analytics', {}).get('relabeling'));"
        "import json; print('RESULT', json.dumps(m.field_behaviours.get('analytics', {}).get('placeholders')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True).stdout
    lines = [line.removeprefix("RESULT ") for line in out.splitlines() if line.startswith("RESULT ")]
    assert lines[0] == "True"
    assert lines[1] == "airflow_provider_analytics.hooks.analytics.AnalyticsHook"
    assert "extra__analytics__key_header" in lines[2] and "extra__analytics__page_size" in lines[2]
    assert "extra__analytics__api_flavour" in lines[2] and "extra__analytics__cloud_id" in lines[2]
    assert "API base URL" in lines[3]
    placeholders = json.loads(lines[4])  # the form shows them in the extra fields' inputs
    assert placeholders["extra__analytics__key_header"] == "Authorization"
    assert placeholders["extra__analytics__page_size"] == "100"
    assert placeholders["host"].startswith("https://api.opsgenie.com")


def test_hook_reads_the_connection_lazily(monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_ANALYTICS_DEFAULT", raising=False)
    hook = AnalyticsHook()  # no connection yet: constructing must not look it up
    monkeypatch.setenv(
        "AIRFLOW_CONN_ANALYTICS_DEFAULT",
        analytics_conn_json("https://api.eu.opsgenie.com/", auth_scheme="", page_size=25, timeout="12.5",
                            max_retry_wait="2.5"),
    )
    settings = hook.api_settings
    assert settings.base_url == "https://api.eu.opsgenie.com"
    assert settings.auth_value == API_KEY  # empty scheme: bare key
    assert settings.page_size == 25 and settings.timeout == 12.5 and settings.max_retry_wait == 2.5
    assert settings.max_requests_per_second is None  # unset: auto, learnt from throttling
    assert API_KEY not in repr(settings)


@pytest.mark.parametrize(("value", "expected"), [("auto", None), ("AUTO", None), ("20", 20.0), (7.5, 7.5)])
def test_the_request_budget_is_a_number_or_auto(monkeypatch, value, expected):
    monkeypatch.setenv("AIRFLOW_CONN_ANALYTICS_DEFAULT",
                       analytics_conn_json("https://a", max_requests_per_second=value))
    assert AnalyticsHook().api_settings.max_requests_per_second == expected


def test_hook_accepts_prefixed_form_extras(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_ANALYTICS_DEFAULT",
        analytics_conn_json("https://api.opsgenie.com", extra__analytics__key_header="X-Key", extra__analytics__page_size="40"),
    )
    settings = AnalyticsHook().api_settings
    assert settings.auth_header == "X-Key" and settings.page_size == 40 and settings.auth_scheme == "GenieKey"


def test_no_form_field_has_a_name_airflow_masks():
    """Airflow shows (and its form saves) "***" for fields named like secrets; only the key may be one."""
    from airflow._shared.secrets_masker import should_hide_value_for_key

    assert should_hide_value_for_key("auth_header")  # why the field is not called that
    for name in CONN_FIELDS:
        assert not should_hide_value_for_key(name) and not should_hide_value_for_key(f"extra__analytics__{name}")


@pytest.mark.parametrize("name", ["key_header", "auth_header", "extra__analytics__auth_header"])
def test_the_key_header_may_also_be_given_as_auth_header(monkeypatch, name):
    monkeypatch.setenv("AIRFLOW_CONN_ANALYTICS_DEFAULT", analytics_conn_json("https://a", **{name: "X-Api-Key"}))
    assert AnalyticsHook().api_settings.auth_header == "X-Api-Key"


@pytest.mark.parametrize("name", ["key_header", "auth_header"])
def test_a_masked_header_name_is_refused_with_what_to_type(monkeypatch, name):
    monkeypatch.setenv("AIRFLOW_CONN_ANALYTICS_DEFAULT", analytics_conn_json("https://a", **{name: "***"}))
    with pytest.raises(AnalyticsConnectionError, match=rf"extra '{name}' is '\*\*\*'.*'Key header' field"):
        AnalyticsHook().api_settings


@pytest.mark.parametrize(
    ("conn", "message"),
    [
        ({"conn_type": "analytics", "password": "k"}, "has no host"),
        ({"conn_type": "analytics", "host": "https://api.opsgenie.com"}, "No API key"),
        ({"conn_type": "analytics", "host": "ftp://api.opsgenie.com", "password": "k"}, "not an http"),
        ({"conn_type": "analytics", "host": "https://a", "password": "k", "extra": {"page_size": 500}}, "page size"),
        ({"conn_type": "analytics", "host": "https://a", "password": "k", "extra": {"timeout": "soon"}}, "timeout"),
        ({"conn_type": "analytics", "host": "https://a", "password": "k", "extra": {"max_retry_wait": -1}}, "wait"),
        ({"conn_type": "analytics", "host": "https://a", "password": "k", "extra": {"max_retry_wait": "inf"}}, "wait"),
        ({"conn_type": "analytics", "host": "https://a", "password": "k",
          "extra": {"max_requests_per_second": "fast"}}, "max_requests_per_second"),
        ({"conn_type": "analytics", "host": "https://a", "password": "k",
          "extra": {"max_requests_per_second": 0}}, "max_requests_per_second"),
    ],
)
def test_bad_connections_say_what_to_fix(monkeypatch, conn, message):
    monkeypatch.setenv("AIRFLOW_CONN_ANALYTICS_DEFAULT", json.dumps(conn))
    with pytest.raises(AnalyticsConnectionError, match=message):
        AnalyticsHook().api_settings
    ok, text = AnalyticsHook().test_connection()
    assert not ok and message.split()[0] in text


def test_test_connection_succeeds_against_the_api(analytics_conn):
    ok, message = AnalyticsHook().test_connection()
    assert ok, message
    assert "accepted" in message


def test_test_connection_explains_a_refused_key_without_showing_it(monkeypatch, fake_api):
    monkeypatch.setenv("AIRFLOW_CONN_ANALYTICS_DEFAULT", analytics_conn_json(fake_api.base_url, key="wrong-key-99887766"))
    ok, message = AnalyticsHook().test_connection()
    assert not ok and "401" in message and "wrong-key-99887766" not in message


def test_test_connection_explains_a_wrong_base_url(monkeypatch, fake_api):
    monkeypatch.setenv("AIRFLOW_CONN_ANALYTICS_DEFAULT", analytics_conn_json(fake_api.base_url + "/nothing-here"))
    ok, message = AnalyticsHook().test_connection()
    assert not ok and "404" in message and "base URL" in message


def test_test_connection_explains_an_unreachable_host(monkeypatch):
    with socket.socket() as probe:  # a loopback port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("AIRFLOW_CONN_ANALYTICS_DEFAULT", analytics_conn_json(f"http://127.0.0.1:{port}"))
    ok, message = AnalyticsHook().test_connection()
    assert not ok and "Could not reach" in message


def test_test_connection_explains_a_timeout(monkeypatch):
    with FakeAnalyticsAPI(api_key=API_KEY, latency=1.5, sizes={"alerts": 1}) as slow:
        monkeypatch.setenv("AIRFLOW_CONN_ANALYTICS_DEFAULT", analytics_conn_json(slow.base_url, timeout=0.3))
        ok, message = AnalyticsHook().test_connection()
    assert not ok and "No answer" in message


def test_the_hooks_settings_give_a_session_with_the_auth_header_and_the_connections_retry_policy(analytics_conn):
    from airflow_provider_analytics.source.plan import plan_for
    from airflow_provider_analytics.source.http.session import RetryingSession

    settings = AnalyticsHook().get_conn()
    session = RetryingSession(plan_for("teams", settings).retry_policy)  # the session a sync reads teams with
    session.headers.update(settings.headers())
    assert (session.policy.timeout, session.policy.max_wait) == (60.0, 60.0)  # the connection's defaults
    response = session.get(f"{analytics_conn.base_url}/v2/teams")
    assert response.status_code == 200 and len(response.json()["data"]) == len(analytics_conn.records("teams"))
    assert session.policy.max_retries >= 1
