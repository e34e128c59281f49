"""The API key never shows in Airflow: `airflow dags test` of the seed and the daily DAGs (SQLite
metadata, the fake API, every logger at DEBUG), then a search of the command output, every file
under the AIRFLOW_HOME logs/ folder, every table of the metadata DB (XCom and rendered template
fields first) and the warehouse.

Each search first asserts what it must find (the task log lines, the XCom summaries, the rendered
fields, the synced rows), so an empty capture cannot pass.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import uuid

import duckdb
import pytest

from airflow_provider_analytics.demo import airflow_env
from airflow_provider_analytics.source.catalog import RESOURCE_NAMES
from airflow_provider_analytics.testing.fake_api import FakeAnalyticsAPI
from tests.conftest import analytics_conn_json
from tests.helpers import REPO

PREFIX = "sk-LEAKCHECK-"
KEY = f"{PREFIX}{uuid.uuid4().hex}"
DAGS = {"analytics_seed_sync": "analytics_seed", "analytics_daily_sync": "analytics"}
#: The resources each DAG syncs: the seed config defines six of the built-in ones.
SEED_RESOURCES = ("users", "teams", "services", "integrations", "incidents", "alerts")
DAG_RESOURCES = {"analytics_seed_sync": SEED_RESOURCES, "analytics_daily_sync": RESOURCE_NAMES}


def key_forms(key: str = KEY) -> list[str]:
    """The key whole, its last 12 characters, and the first 12 after the common prefix."""
    return [key, key[-12:], key[len(PREFIX):len(PREFIX) + 12]]


def assert_no_key(where: str, text: str | bytes, expect=()) -> None:
    assert text, f"{where}: nothing captured"
    binary = isinstance(text, bytes)
    for wanted in expect:
        wanted = wanted.encode() if binary and isinstance(wanted, str) else wanted
        assert wanted in text, f"{where}: expected {wanted!r} in what was searched ({len(text)} chars)"
    for form in key_forms():
        needle = form.encode() if binary else form
        at = text.find(needle)
        if at >= 0:
            pytest.fail(f"{where}: the key ({form!r}) appears: ...{text[max(0, at - 300):at + len(form) + 100]!r}...")


@pytest.fixture(scope="module")
def airflow_runs(tmp_path_factory):
    """Both DAGs run once with `airflow dags test`; yields (home, warehouse, {dag_id: output}, upstream counts)."""
    home = tmp_path_factory.mktemp("airflow-home-leakcheck")
    warehouse = home / "warehouse.duckdb"
    with FakeAnalyticsAPI(api_key=KEY, sizes={"alerts": 300, "incidents": 100}, seed=13) as api:
        env = airflow_env(home, REPO / "dags", api.base_url, warehouse)
        env.update(
            AIRFLOW_CONN_ANALYTICS_DEFAULT=analytics_conn_json(api.base_url, KEY),
            AIRFLOW__LOGGING__LOGGING_LEVEL="DEBUG",
            RUNTIME__LOG_LEVEL="DEBUG",  # dlt's own logger
        )

        def airflow(*args: str) -> subprocess.CompletedProcess:
            command = [sys.executable, "-m", "airflow", *args]
            return subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)

        migrated = airflow("db", "migrate")
        assert migrated.returncode == 0, migrated.stderr[-3000:]
        outputs = {}
        for dag_id in DAGS:
            result = airflow("dags", "test", dag_id)
            assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
            outputs[dag_id] = result.stdout + "\n" + result.stderr
        upstream = {name: len(api.records(name)) for name in RESOURCE_NAMES}
    yield home, warehouse, outputs, upstream


#: Airflow's own echo of a mask request under `airflow dags test` at DEBUG (upstream, not this provider):
#: the in-process supervisor channel (`InProcessSupervisorComms.send`) logs every message the task
#: sends, `MaskSecret(value=<the secret>)` included, while the real supervisor omits that body. Airflow
#: sends one when it fetches the connection (it masks the password) and the hook sends one more.
AIRFLOW_MASK_ECHO = re.compile(
    r"^.*\[debug\s*\] Sending request\s+loc=supervisor\.py:\d+ "
    r"msg=MaskSecret\(value='([^']*)', name=None, type='MaskSecret'\)$",
    re.M,
)


def without_airflow_mask_echo(output: str) -> tuple[str, list[str]]:
    """The output without Airflow's MaskSecret echo lines, and the values those lines carried."""
    return AIRFLOW_MASK_ECHO.sub("<Airflow's MaskSecret echo>", output), AIRFLOW_MASK_ECHO.findall(output)


@pytest.mark.parametrize("dag_id", DAGS)
def test_the_command_output_holds_the_task_logs_but_not_the_key(airflow_runs, dag_id):
    _, _, outputs, _ = airflow_runs
    output, echoed = without_airflow_mask_echo(outputs[dag_id])
    assert set(echoed) <= {KEY}, echoed  # nothing else is echoed: the lines removed are exactly those
    expect = [f"Syncing {name} from" for name in DAG_RESOURCES[dag_id]] + ["[debug", "HTTP/1.1\" 200", "connectionpool"]
    assert_no_key(f"`airflow dags test {dag_id}` output", output, expect=expect)


@pytest.mark.xfail(
    strict=True,
    raises=pytest.fail.Exception,  # assert_no_key finding the key; anything else is a real failure
    reason="Airflow's in-process supervisor (airflow dags test) logs MaskSecret(value=<key>) at DEBUG; "
    "when this passes, Airflow has fixed it: drop this test and AIRFLOW_MASK_ECHO",
)
@pytest.mark.parametrize("dag_id", DAGS)
def test_airflow_itself_does_not_echo_the_key_it_is_asked_to_mask(airflow_runs, dag_id):
    _, _, outputs, _ = airflow_runs
    assert_no_key(f"`airflow dags test {dag_id}` output, as printed", outputs[dag_id], expect=("Syncing users from",))


def test_the_files_under_airflow_home_hold_no_key(airflow_runs):
    """airflow.cfg and any log file (`airflow dags test` writes task logs to its output, not to logs/)."""
    home, warehouse, _, _ = airflow_runs
    searched_elsewhere = ("airflow.db", warehouse.name)
    files = [path for path in home.rglob("*") if path.is_file() and not path.name.startswith(searched_elsewhere)]
    assert home / "airflow.cfg" in files, files
    for path in files:
        assert_no_key(f"file {path.relative_to(home)}", path.read_bytes() or b"<empty>")
    everything = b"\n".join(path.read_bytes() for path in files)
    assert_no_key("all files", everything, expect=(b"[logging]", str(home).encode()))


def _rows(home, sql: str) -> list[tuple]:
    with sqlite3.connect(home / "airflow.db") as con:
        return con.execute(sql).fetchall()


def test_xcom_holds_the_summaries_but_not_the_key(airflow_runs):
    home, _, _, upstream = airflow_runs
    rows = _rows(home, "select dag_id, task_id, key, value from xcom")
    values = {(dag_id, task_id): value for dag_id, task_id, key, value in rows if key == "return_value"}
    assert set(values) == {(dag_id, f"sync_{name}") for dag_id in DAGS for name in DAG_RESOURCES[dag_id]}, sorted(values)
    for (dag_id, task_id), value in values.items():
        text = value.decode() if isinstance(value, bytes) else str(value)
        resource = task_id.removeprefix("sync_")
        summary = json.loads(text)
        summary = json.loads(summary) if isinstance(summary, str) else summary
        assert summary["resource"] == resource and summary["table_rows"] == upstream[resource], (dag_id, summary)
        assert_no_key(f"XCom of {dag_id}.{task_id}", text, expect=(resource, DAGS[dag_id]))
    assert_no_key("every XCom row", repr(rows), expect=("return_value",))


def test_rendered_template_fields_hold_no_key(airflow_runs):
    home, _, _, _ = airflow_runs
    rows = _rows(home, "select dag_id, task_id, rendered_fields from rendered_task_instance_fields")
    assert {(dag_id, task_id) for dag_id, task_id, _ in rows} == {
        (dag_id, f"sync_{name}") for dag_id in DAGS for name in DAG_RESOURCES[dag_id]
    }
    for dag_id, task_id, fields in rows:
        text = fields.decode() if isinstance(fields, bytes) else str(fields)
        assert '"analytics_conn_id": "analytics_default"' in text, text
        expect = (task_id.removeprefix("sync_"), DAGS[dag_id])
        assert_no_key(f"rendered fields of {dag_id}.{task_id}", text, expect=expect)


def test_no_table_of_the_metadata_db_holds_the_key(airflow_runs):
    """Every row of every table (serialized DAGs, task instances, asset events, logs, ...) and the file's bytes."""
    home, _, _, _ = airflow_runs
    tables = [name for (name,) in _rows(home, "select name from sqlite_master where type = 'table'")]
    assert {"xcom", "rendered_task_instance_fields", "serialized_dag", "task_instance"} <= set(tables)
    dumped = "\n".join(f"{name}: {_rows(home, f'select * from [{name}]')!r}" for name in tables)
    assert_no_key("the metadata DB's tables", dumped, expect=(*DAGS, "sync_alerts"))
    for path in home.glob("airflow.db*"):
        data = path.read_bytes() or b"<empty>"
        expect = (b"analytics_seed_sync",) if path.name == "airflow.db" else ()
        assert_no_key(f"the bytes of {path.name}", data, expect=expect)


def test_the_warehouse_holds_the_rows_but_not_the_key(airflow_runs):
    _, warehouse, _, upstream = airflow_runs
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute("select table_schema, table_name from information_schema.tables order by 1, 2").fetchall()
        qualified = [f'"{schema}"."{table}"' for schema, table in tables]
        dumped = "\n".join(f"{name}: {con.execute(f'select * from {name}').fetchall()!r}" for name in qualified)
        counts = {
            dataset: {name: con.execute(f'select count(*) from "{dataset}"."{name}"').fetchone()[0]
                      for name in DAG_RESOURCES[dag_id]}
            for dag_id, dataset in DAGS.items()
        }
    assert counts == {dataset: {name: upstream[name] for name in DAG_RESOURCES[dag_id]}
                      for dag_id, dataset in DAGS.items()}
    assert_no_key("the warehouse", dumped, expect=("analytics__analytics_seed__users", "analytics__analytics__alerts"))
