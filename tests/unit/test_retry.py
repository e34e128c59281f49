"""Retry policy and session, against a real local HTTP server."""

from __future__ import annotations

import copy
import json
import logging
import sys
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator, Union

import pytest
import requests

from dlt.common.configuration.specs.runtime_configuration import RuntimeConfiguration
from dlt.sources.helpers.rest_client import RESTClient

from airflow_provider_analytics.source.paging.template_cursor import TemplateCursorPaginator
from airflow_provider_analytics.source.http.retry import RetryPolicy
from airflow_provider_analytics.source.http.session import RetryingSession

# A scripted reply: (status, headers, body), "close" (drop the connection
# without replying) or ("slow", seconds) (reply 200 after a delay).
Reply = Union[tuple, str]


class QuietServer(ThreadingHTTPServer):
    """A client that gave up on a slow reply (the timeouts under test) hangs up: no traceback for it."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class ScriptedServer:
    """A local HTTP server that answers requests from a script, in order."""

    def __init__(self) -> None:
        self.script: list[Reply] = []
        self.paths: list[str] = []
        self.headers: list[dict[str, str]] = []
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server naming
                scripted.paths.append(self.path)
                scripted.headers.append(dict(self.headers))
                reply = scripted.script.pop(0) if scripted.script else (418, {}, {"message": "script exhausted"})
                if reply == "close":
                    self.close_connection = True
                    return
                if reply[0] == "slow":
                    time.sleep(reply[1])
                    reply = (200, {}, {"data": []})
                status, headers, body = reply
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.httpd = QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def reply(self, *replies: Reply) -> None:
        self.script.extend(replies)


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    yield from _serve()


@pytest.fixture
def other_server() -> Iterator[ScriptedServer]:
    """A second server: another host as far as redirects are concerned (another port)."""
    yield from _serve()


def _serve() -> Iterator[ScriptedServer]:
    scripted = ScriptedServer()
    thread = threading.Thread(target=scripted.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield scripted
    scripted.httpd.shutdown()
    scripted.httpd.server_close()


class SleepRecorder:
    """Stands in for time.sleep: records the waits instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def make_session(**policy: Any) -> tuple[RetryingSession, SleepRecorder]:
    sleep = SleepRecorder()
    return RetryingSession(RetryPolicy(**policy), sleep=sleep), sleep


OK = (200, {}, {"data": [1]})


def raise_on_error(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    if response.status_code >= 400:
        raise requests.HTTPError(f"{response.status_code}", response=response)


# -- status retries -------------------------------------------------------------------


def test_429_waits_rate_limit_period_then_succeeds(server):
    throttled = {"X-RateLimit-Period-In-Sec": "7", "X-RateLimit-State": "THROTTLED"}
    server.reply((429, throttled, {"message": "slow down"}), OK)
    session, sleep = make_session()
    response = session.get(server.url + "/v2/alerts")
    assert response.status_code == 200
    assert response.json() == {"data": [1]}
    assert sleep.waits == [7.0]
    assert session.retries == 1
    assert response.analytics_attempts == 2 and session.last_attempts == 2
    assert server.paths == ["/v2/alerts", "/v2/alerts"]


def test_retry_after_seconds(server):
    server.reply((503, {"Retry-After": "3"}, {}), OK)
    session, sleep = make_session()
    assert session.get(server.url).status_code == 200
    assert sleep.waits == [3.0]


def test_retry_after_http_date_capped_by_max_wait(server):
    server.reply(
        (429, {"Retry-After": formatdate(time.time() + 120, usegmt=True)}, {}),
        (429, {"Retry-After": formatdate(time.time() - 120, usegmt=True)}, {}),
        OK,
    )
    session, sleep = make_session(max_wait=10)
    assert session.get(server.url).status_code == 200
    assert sleep.waits == [10.0, 0.0]


def test_larger_header_wait_wins(server):
    server.reply((429, {"Retry-After": "2", "X-RateLimit-Period-In-Sec": "5"}, {}), OK)
    session, sleep = make_session()
    session.get(server.url)
    assert sleep.waits == [5.0]


def test_unusable_header_falls_back_to_backoff(server):
    server.reply((429, {"Retry-After": "soon", "X-RateLimit-Period-In-Sec": "n/a"}, {}), OK)
    session, sleep = make_session(backoff_factor=1.5)
    session.get(server.url)
    assert sleep.waits == [1.5]


def test_5xx_exhausted_returns_last_response(server):
    server.reply((500, {}, {"n": 1}), (502, {}, {"n": 2}), (503, {}, {"n": 3}), OK)
    session, sleep = make_session(max_retries=2, backoff_factor=2)
    response = session.get(server.url)
    assert response.status_code == 503
    assert response.json() == {"n": 3}
    assert sleep.waits == [2.0, 4.0]
    assert response.analytics_attempts == 3
    assert len(server.paths) == 3


@pytest.mark.parametrize("status", [401, 403, 404, 422, 501])
def test_unlisted_status_not_retried(server, status):
    server.reply((status, {"Retry-After": "1"}, {"message": "no"}), OK)
    session, sleep = make_session()
    response = session.get(server.url)
    assert response.status_code == status
    assert sleep.waits == [] and session.retries == 0
    assert response.analytics_attempts == 1
    assert len(server.paths) == 1


def test_backoff_sequence(server):
    server.reply(*[(500, {}, {})] * 4, OK)
    session, sleep = make_session(max_retries=4, backoff_factor=0.5)
    assert session.get(server.url).status_code == 200
    assert sleep.waits == [0.5, 1.0, 2.0, 4.0]
    assert session.retries == 4


def test_waits_capped_by_max_wait(server):
    server.reply(*[(502, {}, {})] * 3, (429, {"X-RateLimit-Period-In-Sec": "60"}, {}), OK)
    session, sleep = make_session(max_retries=4, backoff_factor=10, max_wait=15)
    assert session.get(server.url).status_code == 200
    assert sleep.waits == [10.0, 15.0, 15.0, 15.0]


def test_zero_retries_is_a_single_attempt(server):
    server.reply((503, {}, {}), OK)
    session, sleep = make_session(max_retries=0)
    assert session.get(server.url).status_code == 503
    assert sleep.waits == []


# -- connection errors and timeouts ---------------------------------------------------


def test_connection_error_retried_then_succeeds(server):
    server.reply("close", "close", OK)
    session, sleep = make_session(backoff_factor=1)
    response = session.get(server.url + "/v2/users")
    assert response.status_code == 200
    assert sleep.waits == [1.0, 2.0]
    assert response.analytics_attempts == 3


def test_connection_error_exhausted_is_raised(server):
    server.reply("close", "close", "close", OK)
    session, sleep = make_session(max_retries=2)
    with pytest.raises(requests.ConnectionError) as info:
        session.get(server.url)
    assert info.value.analytics_attempts == 3
    assert session.last_attempts == 3
    assert sleep.waits == [1.0, 2.0]


def test_connection_errors_not_retried_when_disabled(server):
    server.reply("close", OK)
    session, sleep = make_session(retry_on_connection_errors=False)
    with pytest.raises(requests.ConnectionError):
        session.get(server.url)
    assert sleep.waits == []


def test_default_timeout_applied_and_retried(server):
    server.reply(("slow", 0.5), ("slow", 0.5))
    session, sleep = make_session(timeout=0.05, max_retries=1)
    started = time.monotonic()
    with pytest.raises(requests.Timeout):
        session.get(server.url)
    assert time.monotonic() - started < 0.4
    assert sleep.waits == [1.0]


# -- hooks, dlt and logs -----------------------------------------------------------------


def test_raising_hook_sees_only_the_final_response(server):
    calls: list[int] = []

    def hook(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        calls.append(response.status_code)
        raise_on_error(response)

    server.reply((503, {}, {}), (429, {}, {}), OK)
    session, _ = make_session(backoff_factor=0)
    assert session.get(server.url, hooks={"response": hook}).status_code == 200
    assert calls == [200]

    calls.clear()
    server.reply((503, {}, {}), (503, {}, {}))
    session, _ = make_session(max_retries=1, backoff_factor=0)
    with pytest.raises(requests.HTTPError, match="503"):
        session.get(server.url, hooks={"response": hook})
    assert calls == [503]


def test_redirect_then_retry_dispatches_hooks_once(server):
    calls: list[int] = []

    def hook(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        calls.append(response.status_code)
        raise_on_error(response)

    server.reply((302, {"Location": "/v2/moved"}, {}), (503, {}, {}), OK)
    session, sleep = make_session()
    response = session.get(server.url + "/v2/alerts", hooks={"response": hook})
    assert response.status_code == 200
    assert calls == [200]
    assert server.paths == ["/v2/alerts", "/v2/moved", "/v2/moved"]
    assert sleep.waits == [1.0]


def test_session_hooks_also_deferred(server):
    server.reply((500, {}, {}), OK)
    session, _ = make_session(backoff_factor=0)
    session.hooks["response"].append(raise_on_error)
    assert session.get(server.url).status_code == 200


def test_dlt_rest_client_retries_pages(server):
    server.reply(
        (429, {"X-RateLimit-Period-In-Sec": "1"}, {}),
        (200, {}, {"data": [{"id": 1}], "paging": {"next": server.url + "/v2/alerts?offset=1"}}),
        (502, {}, {}),
        (200, {}, {"data": [{"id": 2}]}),
    )
    session, sleep = make_session()
    paginator = TemplateCursorPaginator(
        cursor_value='{{ response.get("paging", {}).get("next", {}) }}',
        stop_condition='{{ not response.get("paging", {}).get("next", {}) }}',
        base_url=server.url,
    )
    client = RESTClient(base_url=server.url, session=session, paginator=paginator, config=RuntimeConfiguration())
    records = [r["id"] for page in client.paginate("/v2/alerts", data_selector="data") for r in page]
    assert records == [1, 2]
    assert sleep.waits == [1.0, 1.0]
    assert server.paths == ["/v2/alerts", "/v2/alerts", "/v2/alerts?offset=1", "/v2/alerts?offset=1"]


def test_dlt_rest_client_raises_when_exhausted(server):
    server.reply((503, {}, {"message": "down"}), (503, {}, {"message": "down"}))
    session, _ = make_session(max_retries=1)
    client = RESTClient(base_url=server.url, session=session, config=RuntimeConfiguration())
    with pytest.raises(requests.HTTPError, match="503") as info:
        list(client.paginate("/v2/teams", data_selector="data"))
    assert info.value.response.analytics_attempts == 2


def test_retry_log_has_no_query_or_headers(server, caplog):
    server.reply((429, {"X-RateLimit-Period-In-Sec": "2"}, {}), OK)
    session, _ = make_session()
    with caplog.at_level(logging.WARNING, logger="airflow_provider_analytics.source.http.session"):
        session.get(server.url + "/v2/alerts?apiKey=s3cr3t", headers={"Authorization": "GenieKey t0ken"})
    assert server.headers[0]["Authorization"] == "GenieKey t0ken"
    [record] = caplog.records
    message = record.getMessage()
    assert record.levelno == logging.WARNING
    assert "HTTP 429" in message and "attempt 1/5" in message and "2.0 s" in message
    assert server.url + "/v2/alerts" in message
    assert "s3cr3t" not in message and "t0ken" not in message and "?" not in message


@pytest.mark.parametrize("header", ["Authorization", "api_key", "X-Api-Key"])
def test_a_redirect_to_another_host_drops_every_credential_header(server, other_server, caplog, header):
    server.reply((302, {"Location": other_server.url + "/v2/users"}, {}))
    other_server.reply(OK)
    session, _ = make_session()
    with caplog.at_level(logging.WARNING, logger="airflow_provider_analytics.source.http.session"):
        response = session.get(server.url + "/v2/users", headers={header: "GenieKey s3cr3t-key"})
    assert response.status_code == 200
    assert server.headers[0][header] == "GenieKey s3cr3t-key"
    assert "s3cr3t-key" not in json.dumps(other_server.headers)
    assert {"User-Agent", "Accept", "Accept-Encoding"} <= set(other_server.headers[0])
    [record] = caplog.records
    assert f"redirected to another host, {other_server.url}/v2/users" in record.getMessage()
    assert header in record.getMessage() and "s3cr3t-key" not in record.getMessage()


def test_a_redirect_on_the_same_host_keeps_the_credentials(server):
    server.reply((302, {"Location": "/v2/moved"}, {}), OK)
    session, _ = make_session()
    assert session.get(server.url + "/v2/users", headers={"api_key": "s3cr3t-key"}).status_code == 200
    assert [headers["api_key"] for headers in server.headers] == ["s3cr3t-key", "s3cr3t-key"]


def test_session_survives_deepcopy():
    # dlt's rest_api_source deep-copies the whole config (session included) to validate it.
    session, sleep = make_session(max_retries=2)
    clone = copy.deepcopy(session)
    assert isinstance(clone, RetryingSession)
    assert clone.policy == session.policy and callable(clone.sleep)


# -- policy ---------------------------------------------------------------------------


def test_policy_defaults():
    policy = RetryPolicy()
    assert policy.retry_on_status_codes == (429, 500, 502, 503, 504)
    assert (policy.max_retries, policy.backoff_factor, policy.max_wait, policy.timeout) == (4, 1.0, 60.0, 60.0)
    assert [policy.backoff(n) for n in (1, 2, 3, 4, 7)] == [1.0, 2.0, 4.0, 8.0, 60.0]


def test_policy_from_seed_error_handler():
    policy = RetryPolicy.from_error_handler(
        {"retry_on_status_codes": [429, 500, 502, 503, 504], "max_retries": 3, "backoff_factor": 2}
    )
    assert policy.retry_on_status_codes == (429, 500, 502, 503, 504)
    assert policy.max_retries == 3 and policy.backoff_factor == 2.0
    assert RetryPolicy.from_error_handler({"max_wait": 5}).max_wait == 5.0
    assert RetryPolicy.from_error_handler({}) == RetryPolicy()


@pytest.mark.parametrize(
    ("handler", "key"),
    [
        ({"max_retry": 3}, "max_retry"),
        ({"backoff_strategies": []}, "backoff_strategies"),
        ({"max_retries": "3"}, "max_retries"),
        ({"max_retries": True}, "max_retries"),
        ({"max_retries": -1}, "max_retries"),
        ({"backoff_factor": "2"}, "backoff_factor"),
        ({"retry_on_status_codes": 429}, "retry_on_status_codes"),
        ({"retry_on_status_codes": ["429"]}, "retry_on_status_codes"),
        ({"retry_on_status_codes": [42]}, "retry_on_status_codes"),
        ({"max_wait": None}, "max_wait"),
    ],
)
def test_policy_rejects_bad_error_handler(handler, key):
    with pytest.raises(ValueError, match=key):
        RetryPolicy.from_error_handler(handler)


def test_policy_is_frozen():
    with pytest.raises(Exception):
        RetryPolicy().max_retries = 9  # type: ignore[misc]
