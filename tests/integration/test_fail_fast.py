"""Which failures keep Airflow's retries: one real operator run per row of `FAILURE_KINDS`.

Each case runs `AnalyticsSyncOperator.execute` against the fake API on loopback into a real DuckDB
file (or a PostgreSQL connection to a closed loopback port). A mistake no retry can fix must raise
`AirflowFailException` with the message that says what to fix; a fault that can pass must not.
docs/errors-and-retries.md must be the table in words.
"""

from __future__ import annotations

import json
import socket

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_analytics.operators.analytics import AnalyticsSyncOperator
from airflow_provider_analytics.operators.failures import FAILURE_KINDS, FailureKind, fail_fast, kind_of
from airflow_provider_analytics.testing.fake_api import FakeReply
from tests.conftest import API_KEY, analytics_conn_json, jsm_conn_json
from tests.helpers import REPO, load_seed_config

DOC = REPO / "docs" / "errors-and-retries.md"
#: The connection's retries, kept short: every wait at most 10 ms.
SHORT_WAITS = {"max_retry_wait": 0.01}


def run(resource: str = "teams", **kwargs) -> dict:
    kwargs.setdefault("warehouse_conn_id", "warehouse_duckdb")
    op = AnalyticsSyncOperator(task_id=f"sync_{resource}", resource=resource, progress_interval=0, **kwargs)
    return op.execute({})


def kind(name: str) -> FailureKind:
    return next(row for row in FAILURE_KINDS if row.name.startswith(name))


def closed_port() -> int:
    """A loopback port nothing listens on (the OS picked it, then it was closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def set_conn(monkeypatch, conn_id: str, conn: dict) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))


# -- what no retry can fix: the task fails at once ------------------------------------------------

def missing_warehouse(monkeypatch, api):
    return {"warehouse_conn_id": "warehouse_pgx"}, ["warehouse_pgx", "isn't defined", "AIRFLOW_CONN_"]


def missing_api_connection(monkeypatch, api):
    return {"analytics_conn_id": "opsgenie_prod"}, ["opsgenie_prod", "isn't defined", "airflow connections add"]


def api_connection_without_host(monkeypatch, api):
    set_conn(monkeypatch, "analytics_default", {"conn_type": "analytics", "password": API_KEY})
    return {}, ["Connection 'analytics_default' has no host", "https://api.opsgenie.com"]


def unsupported_warehouse_type(monkeypatch, api):
    set_conn(monkeypatch, "warehouse_sqlite", {"conn_type": "sqlite", "host": "/tmp/x.db"})
    return {"warehouse_conn_id": "warehouse_sqlite"}, ["'warehouse_sqlite' has type 'sqlite'", "supported types"]


def invalid_option(monkeypatch, api):
    return {"deletions": "purge"}, ["deletions='purge' is not supported", "mark"]


def unknown_resource(monkeypatch, api):
    return {"resource": "tickets"}, ["Unknown resource 'tickets'", "teams"]


def resource_the_api_does_not_serve(monkeypatch, api):
    monkeypatch.setenv("AIRFLOW_CONN_ANALYTICS_DEFAULT", jsm_conn_json(api))
    return {"resource": "users"}, ["Resource 'users' cannot be synced", "no operation that lists users"]


def invalid_config(monkeypatch, api):
    config = load_seed_config(api.base_url, API_KEY)
    config["resources"][1]["endpoint"]["data_selectr"] = "data"
    return {"config": config}, ["data_selectr", "teams"]


def refused_key(monkeypatch, api):
    monkeypatch.setenv("AIRFLOW_CONN_ANALYTICS_DEFAULT", analytics_conn_json(api.base_url, key="sk-wrong-0d9e8c7b"))
    return {}, ["refused the API key", "401", "password"]


NOT_RETRIED = [
    pytest.param(missing_warehouse, "missing connection", id="missing-warehouse-connection"),
    pytest.param(missing_api_connection, "missing connection", id="missing-api-connection"),
    pytest.param(api_connection_without_host, "unusable API connection", id="api-connection-without-host"),
    pytest.param(unsupported_warehouse_type, "unusable warehouse connection", id="unsupported-warehouse-type"),
    pytest.param(invalid_option, "invalid operator option", id="invalid-option"),
    pytest.param(unknown_resource, "unknown resource", id="unknown-resource"),
    pytest.param(resource_the_api_does_not_serve, "resource the API does not serve", id="resource-not-served"),
    pytest.param(invalid_config, "invalid config", id="invalid-config"),
    pytest.param(refused_key, "API key refused", id="refused-key"),
]


@pytest.mark.parametrize(("case", "row"), NOT_RETRIED)
def test_a_mistake_no_retry_can_fix_fails_the_task_at_once_saying_what_to_fix(
    case, row, analytics_conn, duckdb_conn, monkeypatch, capsys
):
    kwargs, expected = case(monkeypatch, analytics_conn)
    with pytest.raises(AirflowFailException) as caught:
        run(**kwargs)
    message = str(caught.value)
    assert all(part in message for part in expected), message
    assert kind_of(caught.value) is kind(row)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__  # the message is the whole story
    assert API_KEY not in message and "sk-wrong" not in message
    # the task log's first error line is the message (the task logger writes to stdout here)
    out = capsys.readouterr().out
    errors = [line for line in out.splitlines() if "[error" in line]
    assert errors and errors[0].split("] ", 1)[1].startswith(message.splitlines()[0])
    assert "(failing without retries: a retry would fail the same way)" in out


def test_a_frozen_schema_violation_fails_the_task_at_once(new_api, duckdb_conn):
    api = new_api(teams=5)
    run(freeze_schema=True)
    api.update("teams", 1, slackChannel="#ops")
    with pytest.raises(AirflowFailException) as caught:
        run(freeze_schema=True)
    assert kind_of(caught.value) is kind("frozen schema")
    assert "frozen" in str(caught.value) and "slack_channel" in str(caught.value)
    assert "freeze_schema=False" in str(caught.value)


def test_the_metrics_build_before_any_sync_and_with_a_bad_time_zone_fails_at_once(duckdb_conn, capsys):
    from airflow_provider_analytics.operators.metrics import AnalyticsMetricsOperator

    with pytest.raises(AirflowFailException) as caught:
        AnalyticsMetricsOperator(task_id="build_metrics", warehouse_conn_id="warehouse_duckdb").execute({})
    assert kind_of(caught.value) is kind("metric source tables missing")
    assert "has no alerts.id, alerts.created_at: sync alerts into it first" in str(caught.value)
    assert "(failing without retries" in capsys.readouterr().out

    with pytest.raises(AirflowFailException) as caught:
        AnalyticsMetricsOperator(task_id="build_metrics", warehouse_conn_id="warehouse_duckdb",
                                 time_zone="Europe/Berlinn").execute({})
    assert kind_of(caught.value) is kind("invalid operator option")
    assert "time_zone='Europe/Berlinn' is not an IANA time zone" in str(caught.value)


# -- what can pass by itself: the task keeps its retries ------------------------------------------

def test_5xx_beyond_the_connections_retries_keeps_airflows_retries(new_api, duckdb_conn, monkeypatch):
    api = new_api(teams=5)
    monkeypatch.setenv("AIRFLOW_CONN_ANALYTICS_DEFAULT", analytics_conn_json(api.base_url, **SHORT_WAITS))
    api.faults.append(lambda request: FakeReply(500, {"message": "Internal error"}) if request.path == "/v2/teams" else None)
    with pytest.raises(Exception) as caught:
        run()
    assert not isinstance(caught.value, AirflowFailException)
    assert kind_of(caught.value) is kind("API or warehouse unavailable") and fail_fast(caught.value) is None
    assert "HTTP 500 after 5 attempt(s)" in str(caught.value)


def test_an_api_refusing_connections_keeps_airflows_retries(monkeypatch, duckdb_conn):
    monkeypatch.setenv("AIRFLOW_CONN_ANALYTICS_DEFAULT",
                       analytics_conn_json(f"http://127.0.0.1:{closed_port()}", **SHORT_WAITS))
    with pytest.raises(Exception) as caught:
        run()
    assert not isinstance(caught.value, AirflowFailException)
    assert "connection was refused" in str(caught.value) and fail_fast(caught.value) is None


def test_a_postgres_warehouse_that_refuses_connections_keeps_airflows_retries(analytics_conn, monkeypatch):
    set_conn(monkeypatch, "warehouse_down", {"conn_type": "postgres", "host": "127.0.0.1", "port": closed_port(),
                                             "login": "postgres", "schema": "postgres"})
    with pytest.raises(Exception) as caught:
        run(warehouse_conn_id="warehouse_down")
    assert not isinstance(caught.value, AirflowFailException)
    assert kind_of(caught.value) is kind("API or warehouse unavailable") and fail_fast(caught.value) is None
    assert "refused" in str(caught.value).lower()


def test_a_warehouse_lock_held_too_long_and_an_error_of_no_row_keep_their_retries():
    from airflow_provider_analytics.warehouses.base import lock_timeout_error

    timeout = lock_timeout_error("dataset analytics", 1.0)
    assert kind_of(timeout) is kind("warehouse lock") and fail_fast(timeout) is None
    assert kind_of(RuntimeError("something else")) is None and fail_fast(RuntimeError("x")) is None


# -- the doc is the table -------------------------------------------------------------------------

def doc_rows() -> list[tuple[str, str, str, str]]:
    """(kind, raised as, retried, what to do) of each row of the doc's table."""
    rows = []
    for line in DOC.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 4 and cells[0] not in ("error kind",) and not set(cells[0]) <= {"-"}:
            rows.append(tuple(cells))
    return rows


def test_the_doc_states_each_row_of_the_table_as_the_code_decides_it():
    def code_row(row: FailureKind) -> tuple[str, str, str, str]:
        return (row.name, f"`{row.error.__name__}`", "yes" if row.retry else "**no**: fails at once", row.what_to_do)

    expected = [code_row(row) for row in FAILURE_KINDS]
    assert doc_rows() == expected, "docs/errors-and-retries.md should list:\n" + "\n".join(
        "| " + " | ".join(row) + " |" for row in expected)
