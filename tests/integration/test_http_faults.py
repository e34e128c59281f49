"""HTTP faults end to end: the fake API on loopback injects them, dlt loads into DuckDB and PostgreSQL.

Throttling (429), 5xx bursts, dropped connections and read timeouts are retried and the run then
loads exactly; when they outlast the retries the task fails naming the resource and what happened,
and the next run loads exactly. A refused key is neither retried nor shown. Pagination that loops,
runs past `max_pages` or points to another host stops with a message saying so, and the other host
is never sent the key. Waits are capped small through the connection's `max_retry_wait` extra.
"""

from __future__ import annotations

import logging
import time
from urllib.parse import urlencode

import pytest

from airflow_provider_analytics.operators.analytics import AnalyticsSyncOperator
from airflow_provider_analytics.pipeline.errors import ApiKeyRefusedError, SyncError
from airflow_provider_analytics.testing.fake_api import FakeAnalyticsAPI, FakeReply, FakeRequest
from tests.conftest import API_KEY, analytics_conn_json
from tests.helpers import load_seed_config, seed_error_handler, sync_to

#: Every test's fake: 3 pages of users and of services at the connection's default page size (100).
SIZES = {"users": 250, "services": 230, "alerts": 350, "incidents": 20}
#: Connection extras keeping every retry wait short.
SHORT_WAITS = {"max_retry_wait": 0.05}
USERS = "/v2/users"


class PageFault:
    """A fault on one endpoint: requests number `first` .. `first + times - 1` to `path` (1-based,
    counting every request to it, retries included) get `reply` (a list: one reply after another,
    the last one repeated); `times=None` means from `first` on. Records when each request to `path`
    arrived and the headers it carried."""

    def __init__(self, path: str, reply: FakeReply | list[FakeReply], first: int = 2, times: int | None = 1) -> None:
        self.path, self.first, self.times = path, first, times
        self.replies = reply if isinstance(reply, list) else [reply]
        self.arrivals: list[float] = []
        self.headers: list[dict[str, str]] = []

    def __call__(self, request: FakeRequest) -> FakeReply | None:
        if request.path != self.path:
            return None
        self.arrivals.append(time.monotonic())
        self.headers.append(dict(request.headers.items()))
        faulted = len(self.arrivals) - self.first  # 0 for the first faulted request
        if faulted >= 0 and (self.times is None or faulted < self.times):
            return self.replies[min(faulted, len(self.replies) - 1)]
        return None


def start_api(new_api, monkeypatch, **extra) -> FakeAnalyticsAPI:
    """A fresh fake this test may break, as the default connection with `extra`."""
    api = new_api(**SIZES)
    connect(monkeypatch, api, **extra)
    return api


def connect(monkeypatch, api: FakeAnalyticsAPI, key: str = API_KEY, **extra) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_ANALYTICS_DEFAULT", analytics_conn_json(api.base_url, key=key, **extra))


def statuses(api: FakeAnalyticsAPI, path: str = USERS) -> list[int]:
    """Statuses of the requests to `path` in the order they were answered (0: dropped)."""
    return [status for _, logged, status in api.request_log if logged.split("?")[0] == path]


def seed_config(api: FakeAnalyticsAPI, key: str = API_KEY) -> dict:
    """The seed document's config as written (template paginators, `api_key` header) with its error_handler
    (429/500/502/503/504, max_retries 3, backoff_factor 2) in every endpoint."""
    config = load_seed_config(api.base_url, key)
    for entry in config["resources"]:
        entry["endpoint"]["error_handler"] = dict(seed_error_handler())
    return config


def assert_exact(target, api: FakeAnalyticsAPI, resource: str) -> None:
    """count == distinct ids == upstream records, and the ids are upstream's."""
    upstream = {record["id"] for record in api.records(resource)}
    assert target.count(resource) == (len(upstream), len(upstream))
    assert set(target.records(resource)) == upstream


def run_task(resource: str, **kwargs) -> dict:
    """The operator into the DuckDB warehouse connection, for runs that fail before loading."""
    op = AnalyticsSyncOperator(task_id=f"sync_{resource}", resource=resource, warehouse_conn_id="warehouse_duckdb",
                               progress_interval=0, **kwargs)
    return op.execute({})


# -- 1. throttling ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "value", "max_retry_wait", "expected_wait", "throttled"),
    [
        pytest.param("X-RateLimit-Period-In-Sec", "60", 0.4, 0.4, 2, id="rate-limit-period-capped"),
        pytest.param("X-RateLimit-Period-In-Sec", "1", 30, 1.0, 1, id="rate-limit-period"),
        pytest.param("Retry-After", "1", 30, 1.0, 1, id="retry-after"),
    ],
)
def test_429_waits_as_long_as_the_api_says_capped_by_max_retry_wait_then_loads_exactly(
    new_api, monkeypatch, target, caplog, header, value, max_retry_wait, expected_wait, throttled
):
    api = start_api(new_api, monkeypatch, max_retry_wait=max_retry_wait)
    reply = FakeReply(429, {"message": "You are making too many requests!"},
                      {header: value, "X-RateLimit-State": "THROTTLED", "X-RateLimit-Reason": "ConfigurationApi"})
    fault = PageFault(USERS, reply, first=2, times=throttled)
    api.faults.append(fault)
    with caplog.at_level(logging.WARNING, logger="airflow_provider_analytics.source.http.session"):
        summary = sync_to(target, "users")
    assert summary["rows"] == len(api.records("users"))
    assert_exact(target, api, "users")
    assert statuses(api) == [200] + [429] * throttled + [200, 200]
    # each retry of the throttled page came after the wait, and not much later
    gaps = [later - earlier for earlier, later in zip(fault.arrivals[1:], fault.arrivals[2:])][:throttled]
    assert all(expected_wait - 0.02 <= gap < expected_wait + 2 for gap in gaps), gaps
    retries = [r.getMessage() for r in caplog.records if "HTTP 429" in r.getMessage()]
    assert len(retries) == throttled and all(f"retrying in {expected_wait:.1f} s" in m for m in retries), retries


def test_429_that_outlasts_the_retries_fails_naming_resource_status_attempts_and_request_id(
    new_api, monkeypatch, target
):
    api = start_api(new_api, monkeypatch, **SHORT_WAITS)
    reply = FakeReply(429, {"message": "You are making too many requests!", "requestId": "req-throttled-0042"},
                      {"X-RateLimit-Period-In-Sec": "60", "X-RateLimit-State": "THROTTLED"})
    api.faults.append(PageFault(USERS, reply, first=2, times=None))
    started = time.monotonic()
    with pytest.raises(SyncError) as caught:
        sync_to(target, "users")
    assert time.monotonic() - started < 15
    message = str(caught.value)
    assert message.startswith("users: ")
    for part in ("HTTP 429", "after 5 attempt(s)", "requestId req-throttled-0042", "too many requests",
                 "Nothing was loaded", "asked for a 60 s pause", "max_retry_wait"):
        assert part in message, (part, message)
    assert statuses(api) == [200] + [429] * 5  # the connection's default policy: 4 retries
    api.faults.clear()
    sync_to(target, "users")
    assert_exact(target, api, "users")


# -- 2. 5xx bursts, dropped connections, read timeouts -------------------------------------------------


@pytest.mark.parametrize("policy", ["connection-default", "seed-error-handler"])
def test_a_5xx_burst_on_a_page_is_retried_then_the_run_loads_exactly(new_api, monkeypatch, target, policy):
    api = start_api(new_api, monkeypatch, **SHORT_WAITS)
    config = seed_config(api) if policy == "seed-error-handler" else None
    burst = [FakeReply(502, {"message": "Bad gateway"}), FakeReply(503, {"message": "Service unavailable"})]
    api.faults.append(PageFault(USERS, burst, first=2, times=2))
    sync_to(target, "users", config=config)
    assert statuses(api) == [200, 502, 503, 200, 200]
    assert_exact(target, api, "users")


@pytest.mark.parametrize(("policy", "attempts"), [("connection-default", 5), ("seed-error-handler", 4)])
def test_5xx_that_outlasts_the_retries_fails_clearly_and_the_next_run_loads_exactly(
    new_api, monkeypatch, target, policy, attempts
):
    api = start_api(new_api, monkeypatch, **SHORT_WAITS)
    config = seed_config(api) if policy == "seed-error-handler" else None  # the seed's max_retries is 3
    api.faults.append(PageFault(USERS, FakeReply(503, {"message": "Service unavailable", "requestId": "req-5xx"}),
                                first=2, times=None))
    with pytest.raises(SyncError) as caught:
        sync_to(target, "users", config=config)
    message = str(caught.value)
    assert message.startswith(f"users: the API at {api.base_url} answered HTTP 503 after {attempts} attempt(s)")
    assert "requestId req-5xx" in message and "Service unavailable" in message
    assert statuses(api) == [200] + [503] * attempts
    api.faults.clear()
    sync_to(target, "users", config=config)
    assert_exact(target, api, "users")


def test_dropped_connections_are_retried_then_the_run_loads_exactly(new_api, monkeypatch, target):
    api = start_api(new_api, monkeypatch, **SHORT_WAITS)
    api.faults.append(PageFault("/v2/alerts", FakeReply(0, drop=True), first=2, times=2))
    summary = sync_to(target, "alerts")
    got = statuses(api, "/v2/alerts")
    assert got[:3] == [200, 0, 0] and set(got[3:]) == {200}
    assert summary["rows"] == len(api.records("alerts"))
    assert_exact(target, api, "alerts")


def test_a_read_timeout_is_retried_then_the_run_loads_exactly(new_api, monkeypatch, target):
    api = start_api(new_api, monkeypatch, timeout=0.3, **SHORT_WAITS)
    # Too late to be read; were it read, its empty page would end the listing short.
    slow = PageFault(USERS, FakeReply(200, {"data": []}, delay=1.0), first=2, times=1)
    api.faults.append(slow)
    sync_to(target, "users")
    assert 0.3 <= slow.arrivals[2] - slow.arrivals[1] < 3  # the retry came after the client gave up
    assert len(slow.arrivals) == 4
    assert_exact(target, api, "users")


def test_connections_dropped_past_the_retries_fail_saying_the_api_did_not_answer_and_change_nothing(
    new_api, monkeypatch, target, tmp_path
):
    api = start_api(new_api, monkeypatch, **SHORT_WAITS)
    workdir = str(tmp_path / "dlt")  # kept between runs: a failed run's leftovers must not duplicate rows
    sync_to(target, "users", pipelines_dir=workdir)
    before = target.records("users")
    api.reset_log()
    api.faults.append(PageFault(USERS, FakeReply(0, drop=True), first=2, times=None))
    with pytest.raises(SyncError) as caught:
        sync_to(target, "users", pipelines_dir=workdir)
    assert str(caught.value) == (
        f"users: the API at {api.base_url} did not answer after 5 attempt(s): it closed the connection "
        "without a response. Nothing was loaded by this run."
    )
    assert statuses(api) == [200] + [0] * 5
    # the rows the failed run never reached are not taken for deleted upstream
    assert target.records("users") == before and all(row["_deleted_at"] is None for row in before.values())
    api.faults.clear()
    assert sync_to(target, "users", pipelines_dir=workdir)["deleted"] == 0
    assert_exact(target, api, "users")


@pytest.mark.parametrize(("policy", "attempts"), [("connection-default", 5), ("seed-error-handler", 4)])
def test_read_timeouts_past_the_retries_fail_saying_the_api_did_not_answer_and_the_next_run_loads_exactly(
    new_api, monkeypatch, target, policy, attempts
):
    api = start_api(new_api, monkeypatch, timeout=0.2, **SHORT_WAITS)
    config = seed_config(api) if policy == "seed-error-handler" else None
    slow = PageFault(USERS, FakeReply(200, {"data": []}, delay=0.6), first=2, times=None)
    api.faults.append(slow)
    with pytest.raises(SyncError) as caught:
        sync_to(target, "users", config=config)
    assert str(caught.value) == (
        f"users: the API at {api.base_url} did not answer after {attempts} attempt(s): no response within 0.2 s "
        "(the connection's `timeout` extra; raise it for a slow API). Nothing was loaded by this run."
    )
    assert len(slow.arrivals) == 1 + attempts
    api.faults.clear()
    sync_to(target, "users", config=config)
    assert_exact(target, api, "users")


# -- 3. a refused key ---------------------------------------------------------------------------------


@pytest.mark.parametrize("client", ["builtin", "seed-config"])
@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_is_not_retried_and_never_shown(
    new_api, monkeypatch, duckdb_conn, caplog, capsys, status, client
):
    api = new_api(**SIZES)
    key = "sk-refused-7b3e1d9c0a5f" if status == 401 else API_KEY  # 401: the API does not know this key
    connect(monkeypatch, api, key=key, **SHORT_WAITS)
    if status == 403:
        api.faults.append(lambda request: FakeReply(403, {"message": "This integration may not read users"}))
    config = seed_config(api, key) if client == "seed-config" else None
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(ApiKeyRefusedError) as caught:
            run_task("users", config=config)
    assert len(api.request_log) == 1 and statuses(api) == [status]
    message = str(caught.value)
    expected = "refused the API key (HTTP 401)" if status == 401 else "denied access with this API key (HTTP 403)"
    assert message.startswith(f"users: the API at {api.base_url} {expected}"), message
    printed = capsys.readouterr()
    for text in (message, repr(caught.value), caplog.text, printed.out, printed.err):
        assert key not in text
    assert not [r for r in caplog.records if key in str(r.args) or key in str(r.msg)]


# -- 4. pagination that loops or runs too long -----------------------------------------------------------


PAGINATORS = [
    pytest.param("users", "/v2/users", None, id="users-next-link"),
    pytest.param("services", "/v1/services", None, id="services-next-link"),
    pytest.param("users", "/v2/users", "seed", id="users-seed-template"),
]


@pytest.mark.parametrize("shape", ["repeats-its-link", "links-back-to-page-1", "ignores-the-offset"])
@pytest.mark.parametrize(("resource", "path", "config"), PAGINATORS)
def test_a_pagination_loop_fails_within_a_few_pages_and_says_so(
    new_api, monkeypatch, duckdb_conn, resource, path, config, shape
):
    api = start_api(new_api, monkeypatch)
    records = api.records(resource)

    def looping(request: FakeRequest) -> FakeReply | None:
        if request.path != path:
            return None
        offset = int(request.query.get("offset", 0))
        if shape == "ignores-the-offset":  # the first page every time, under links that move on
            link = f"{api.base_url}{path}?{urlencode({**request.query, 'offset': offset + 100})}"
            return FakeReply(200, {"data": records[:100], "paging": {"next": link}})
        if offset != 100:
            return None
        target_offset = "100" if shape == "repeats-its-link" else "0"
        link = f"{api.base_url}{path}?{urlencode({**request.query, 'offset': target_offset})}"
        return FakeReply(200, {"data": records[100:200], "paging": {"next": link}})

    api.faults.append(looping)
    with pytest.raises(SyncError) as caught:
        run_task(resource, config=seed_config(api) if config else None)
    message = str(caught.value)
    assert message.startswith(f"{resource}: stopped paging because the API's pagination loops: ")
    if shape == "ignores-the-offset":
        assert "pages 1 to 3 hold the same 100 records in the same order" in message
    else:
        assert "already requested in this run" in message
    assert "Nothing was loaded by this run." in message
    assert len(statuses(api, path)) == {"repeats-its-link": 2, "links-back-to-page-1": 3, "ignores-the-offset": 3}[shape]


def test_a_walk_whose_created_at_query_the_api_ignores_fails_at_once(new_api, monkeypatch, duckdb_conn):
    """`createdAt` search is what the guaranteed methods stand on: an API ignoring it fails loudly."""
    api = start_api(new_api, monkeypatch)
    first_page = sorted(api.records("alerts"), key=lambda record: record["createdAt"])[:100]
    next_link = f"{api.base_url}/v2/alerts?limit=100&sort=createdAt&offset=100&order=asc"
    api.faults.append(lambda request: FakeReply(200, {"data": first_page, "paging": {"next": next_link}})
                      if request.path == "/v2/alerts" else None)
    with pytest.raises(SyncError) as caught:
        run_task("alerts", max_concurrent_requests=1)
    message = str(caught.value)
    assert message.startswith("alerts: stopped paging because the listing cannot be paged further: ")
    assert "the API ignores createdAt in search" in message
    assert len(statuses(api, "/v2/alerts")) <= 2  # the first page and the next one


@pytest.mark.parametrize(("resource", "path", "config"), PAGINATORS)
def test_max_pages_stops_a_run_that_would_fetch_more_pages(new_api, monkeypatch, duckdb_conn, resource, path, config):
    api = start_api(new_api, monkeypatch)
    with pytest.raises(SyncError) as caught:
        run_task(resource, config=seed_config(api) if config else None, max_pages=2)
    message = str(caught.value)
    assert message.startswith(f"{resource}: stopped paging because the run would fetch more pages than max_pages")
    assert "reached max_pages=2" in message and "Nothing was loaded by this run." in message
    assert statuses(api, path) == [200, 200]


@pytest.mark.parametrize("config", [None, "seed"], ids=["next-link", "seed-template"])
def test_max_pages_equal_to_the_pages_there_are_loads_everything(new_api, monkeypatch, target, config):
    api = start_api(new_api, monkeypatch)
    summary = sync_to(target, "users", config=seed_config(api) if config else None, max_pages=3)
    assert summary["pages"] == 3
    assert_exact(target, api, "users")


# -- 5. links and redirects to another host -------------------------------------------------------------


@pytest.fixture
def foreign(new_api, monkeypatch):
    """A second fake ("another host") with the same data and key; the default connection stays on the first."""
    home = start_api(new_api, monkeypatch)
    other = FakeAnalyticsAPI(api_key=API_KEY, sizes=SIZES, seed=11).start()
    visits = PageFault(USERS, FakeReply(500), first=10**9)  # answers nothing, records the headers sent
    other.faults.append(visits)
    yield home, other, visits
    other.stop()


def point_next_link_to(home: FakeAnalyticsAPI, other: FakeAnalyticsAPI) -> None:
    """The first users page links to the other host (which then serves the whole listing)."""
    link = f"{other.base_url}/v2/users?limit=100&sort=username&offset=0&order=asc"
    home.faults.append(PageFault(USERS, FakeReply(200, {"data": [], "paging": {"next": link}}), first=1, times=1))


@pytest.mark.parametrize("config", [None, "seed"], ids=["next-link", "seed-template"])
def test_a_next_link_to_another_host_is_refused_and_that_host_gets_no_request(foreign, duckdb_conn, config):
    home, other, _ = foreign
    point_next_link_to(home, other)
    with pytest.raises(SyncError) as caught:
        run_task("users", config=seed_config(home) if config else None)
    message = str(caught.value)
    assert message.startswith("users: stopped paging because a next-page link points to another host: ")
    assert f"links to {other.base_url}, not the API host {home.base_url}" in message
    assert "allow_foreign_hosts=True" in message and "Nothing was loaded by this run." in message
    assert other.request_log == []
    assert statuses(home) == [200]


def test_allow_foreign_hosts_follows_the_link_and_sends_the_key_there(foreign, target):
    home, other, visits = foreign
    point_next_link_to(home, other)
    summary = sync_to(target, "users", allow_foreign_hosts=True)
    assert summary["pages"] == 4 and statuses(home) == [200] and statuses(other) == [200, 200, 200]
    assert all(headers.get("Authorization") == f"GenieKey {API_KEY}" for headers in visits.headers)
    assert_exact(target, other, "users")


@pytest.mark.parametrize("config", [None, "seed"], ids=["authorization-header", "seed-api-key-header"])
def test_a_redirect_to_another_host_never_carries_the_key(foreign, duckdb_conn, config):
    home, other, visits = foreign
    home.faults.append(lambda request: FakeReply(302, headers={"Location": f"{other.base_url}{request.path}"}))
    with pytest.raises(SyncError) as caught:
        run_task("users", config=seed_config(home) if config else None)
    assert not isinstance(caught.value, ApiKeyRefusedError)  # the home API never refused the key
    message = str(caught.value)
    assert message.startswith(f"users: the API at {home.base_url} redirected the request to another host, "
                              f"{other.base_url}, which answered HTTP 401")
    assert statuses(home) == [302] and statuses(other) == [401]
    assert visits.headers and not any(API_KEY in value for h in visits.headers for value in h.values())
