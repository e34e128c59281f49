"""sync_error: a failure's root cause, wrapped as dlt wraps it, said in words a DAG author can act on."""

from __future__ import annotations

import json
from http.client import RemoteDisconnected
from types import SimpleNamespace

import pytest
import requests
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import NewConnectionError, ProtocolError

from airflow_provider_analytics.pipeline.errors import ApiKeyRefusedError, SyncError, sync_error
from airflow_provider_analytics.source.errors import (
    ForeignHostError,
    MaxPagesExceededError,
    PaginationLoopError,
)
from airflow_provider_analytics.source.http.retry import RetryPolicy
from airflow_provider_analytics.source.errors import OffsetCapError

BASE = "http://api.test:8080"
SESSION = SimpleNamespace(policy=RetryPolicy(timeout=0.5, max_wait=0.3), last_attempts=9)


def chain(*errors: BaseException) -> BaseException:
    """`errors[0]` raised, each next one raised while handling it (as dlt and requests do); the last one."""
    caught: BaseException | None = None
    for error in errors:
        try:
            if caught is None:
                raise error
            raise error from caught
        except BaseException as raised:  # noqa: BLE001 - building a chain
            caught = raised
    assert caught is not None
    return caught


def as_dlt_raises(error: BaseException) -> BaseException:
    return chain(error, RuntimeError("extraction of users failed"), RuntimeError("pipeline step extract failed"))


def http_error(status: int, body: object = None, headers: dict | None = None, attempts: int | None = 5,
               url: str = BASE + "/v2/users?offset=100", redirected: bool = False) -> requests.HTTPError:
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body).encode() if body is not None else b""
    response.headers = CaseInsensitiveDict({"Content-Type": "application/json", **(headers or {})})
    response.url = url
    response.encoding = "utf-8"
    if redirected:
        response.history = [requests.Response()]
    if attempts is not None:
        response.analytics_attempts = attempts
    return requests.HTTPError(f"{status} error for url", response=response)


def message_for(error: BaseException, session=SESSION) -> tuple[SyncError, str]:
    result = sync_error(as_dlt_raises(error), "users", BASE, session, "analytics.users")
    return result, str(result)


def test_429_past_the_retries_names_status_attempts_request_id_and_the_capped_wait():
    error, message = message_for(http_error(
        429, {"message": "You are making too many requests!", "requestId": "req-42"},
        {"X-RateLimit-Period-In-Sec": "60"},
    ))
    assert type(error) is SyncError
    assert message == (
        f"users: the API at {BASE} answered HTTP 429 after 5 attempt(s) (requestId req-42): You are making too "
        "many requests! Nothing was loaded by this run. The API is still throttling this key (it asked for a "
        "60 s pause). Run fewer syncs against this account at once, or retry later; each retry waited only "
        "0.3 s (the connection's max_retry_wait)."
    )


def test_5xx_message_gets_a_full_stop_and_attempts_fall_back_to_the_session():
    _, message = message_for(http_error(503, {"message": "down", "requestId": "r-1"}, attempts=None))
    assert message == (
        f"users: the API at {BASE} answered HTTP 503 after 9 attempt(s) (requestId r-1): down. "
        "Nothing was loaded by this run."
    )
    _, message = message_for(http_error(502, None))
    assert message == f"users: the API at {BASE} answered HTTP 502 after 5 attempt(s). Nothing was loaded by this run."


@pytest.mark.parametrize(("status", "said"), [(401, "refused the API key"), (403, "denied access with this API key")])
def test_401_and_403_are_a_refused_key(status, said):
    error, message = message_for(http_error(status, {"message": "Could not authenticate"}, attempts=1))
    assert isinstance(error, ApiKeyRefusedError)
    assert message.startswith(f"users: the API at {BASE} {said} (HTTP {status}).")


def test_an_error_status_from_another_host_after_a_redirect_is_not_blamed_on_the_key():
    error, message = message_for(http_error(401, {"message": "Could not authenticate"},
                                            url="https://elsewhere.example/v2/users", redirected=True))
    assert type(error) is SyncError
    assert message.startswith(
        f"users: the API at {BASE} redirected the request to another host, https://elsewhere.example:443, "
        "which answered HTTP 401"
    )
    assert "never sent along a redirect to another host" in message


def test_a_dropped_connection_past_the_retries_says_the_api_did_not_answer():
    dropped = chain(
        RemoteDisconnected("Remote end closed connection without response"),
        ProtocolError("Connection aborted."),
        requests.ConnectionError("Connection aborted."),
    )
    dropped.analytics_attempts = 3
    _, message = message_for(dropped)
    assert message == (
        f"users: the API at {BASE} did not answer after 3 attempt(s): it closed the connection without a "
        "response. Nothing was loaded by this run."
    )


def test_timeouts_name_the_timeout():
    read = chain(TimeoutError("timed out"), requests.ReadTimeout("read timed out"))
    read.analytics_attempts = 4
    assert "did not answer after 4 attempt(s): no response within 0.5 s (the connection's `timeout` extra" in (
        message_for(read)[1]
    )
    connect = requests.ConnectTimeout("connect timed out")
    assert "no connection could be made within 0.5 s" in message_for(connect)[1]


def test_a_refused_connection_and_a_broken_body_are_told_apart():
    refused = chain(ConnectionRefusedError(111, "Connection refused"),
                    NewConnectionError(None, "Failed to establish a new connection"),
                    requests.ConnectionError("Max retries exceeded"))
    assert "the connection was refused (check the host and port" in message_for(refused)[1]
    broken = requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead")
    assert "its response broke off midway" in message_for(broken)[1]


@pytest.mark.parametrize(
    ("guard", "reason"),
    [
        (ForeignHostError("page 1 links to http://evil:80, not the API host"), "a next-page link points to another host"),
        (PaginationLoopError("page 2 links to /v2/users?offset=100, which was already requested"),
         "the API's pagination loops"),
        (MaxPagesExceededError("reached max_pages=2 and the API still has a next page"),
         "the run would fetch more pages than max_pages allows"),
    ],
)
def test_pagination_guards_say_why_paging_stopped(guard, reason):
    error, message = message_for(guard)
    assert type(error) is SyncError
    assert message == f"users: stopped paging because {reason}: {guard}. Nothing was loaded by this run."


def test_a_listing_that_cannot_go_on_says_so():
    cap = OffsetCapError("services: the API lists at most 500 records")
    assert message_for(cap)[1] == (
        "users: stopped paging because the listing cannot be paged further: services: the API lists at most "
        "500 records. Nothing was loaded by this run."
    )


def test_other_failures_keep_the_root_cause():
    assert message_for(KeyError("boom"))[1] == "users: sync failed: KeyError: 'boom'"
