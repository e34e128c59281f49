"""The API key never shows: not in any log line (every logger at DEBUG, dlt's and urllib3's included),
stdout/stderr, an exception's message, repr or traceback chain, the XCom summary, the rendered
template fields or the serialized DAG, dlt's trace, load info, state and working files, or the warehouse.

Each check searches for the whole key and for two 12-character fragments of it, and first asserts
that what it searches holds the expected non-secret content, so an empty capture cannot pass.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import socket
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_analytics.pipeline.errors import ApiKeyRefusedError, SyncError
from airflow_provider_analytics.hooks.analytics import AnalyticsConnectionError
from airflow_provider_analytics.operators.analytics import AnalyticsSyncOperator
from airflow_provider_analytics.source.catalog import RESOURCE_NAMES
from airflow_provider_analytics.source.errors import ConfigError
from airflow_provider_analytics.source.http.retry import RetryPolicy
from airflow_provider_analytics.pipeline.dlt_env import prepare_dlt_environment
from airflow_provider_analytics.pipeline.names import pipeline_name_for
from airflow_provider_analytics.testing.fake_api import FakeAnalyticsAPI, FakeReply
from tests.conftest import analytics_conn_json
from tests.helpers import load_seed_config

PREFIX = "sk-LEAKCHECK-"
#: The key the fake API accepts.
KEY = f"{PREFIX}{uuid.uuid4().hex}"
#: A key it refuses (401).
WRONG_KEY = f"{PREFIX}{uuid.uuid4().hex}"
#: The connection's key when the config carries the right one inline (never sent, never shown).
CONN_KEY = f"{PREFIX}{uuid.uuid4().hex}"
ALL_KEYS = (KEY, WRONG_KEY, CONN_KEY)
SIZES = {"alerts": 250, "incidents": 120}


def key_forms(*keys: str) -> list[str]:
    """Each key whole, its last 12 characters, and the first 12 after the common prefix."""
    return [form for key in keys for form in (key, key[-12:], key[len(PREFIX):len(PREFIX) + 12])]


def assert_no_key(
    where: str, text: str | bytes, expect: Iterable[str | bytes] = (), keys: Iterable[str] = ALL_KEYS
) -> None:
    """`text` is not empty, holds everything in `expect`, and no form of any key."""
    assert text, f"{where}: nothing captured"
    binary = isinstance(text, bytes)
    for wanted in expect:
        wanted = wanted.encode() if binary and isinstance(wanted, str) else wanted
        assert wanted in text, f"{where}: expected {wanted!r} in what was searched ({len(text)} chars)"
    for form in key_forms(*keys):
        needle: Any = form.encode() if binary else form
        at = text.find(needle)
        if at >= 0:
            pytest.fail(f"{where}: the key ({form!r}) appears: ...{text[max(0, at - 300):at + len(form) + 100]!r}...")


# -- capture ---------------------------------------------------------------------------------------


class Capture:
    """Everything logged (stdlib records at DEBUG, dlt's logger included) and written to fd 1 and 2."""

    def __init__(self, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture) -> None:
        self.caplog, self.capfd = caplog, capfd
        self.output: list[str] = []

    def text(self) -> str:
        out, err = self.capfd.readouterr()
        self.output += [out, err]
        messages = "\n".join(f"{record.name}: {record.getMessage()}" for record in self.caplog.records)
        return "\n".join([self.caplog.text, messages, *self.output])


def _initialize_dlt_runtime() -> logging.Logger:
    """(Re)initialise dlt's runtime, so its logger takes RUNTIME__LOG_LEVEL from the environment now."""
    from dlt.common import logger as dlt_logger
    from dlt.common.configuration.container import Container
    from dlt.common.configuration.specs.pluggable_run_context import PluggableRunContext

    Container()[PluggableRunContext].context.initialize_runtime()
    assert dlt_logger.LOGGER is not None
    return dlt_logger.LOGGER


@pytest.fixture
def debug_logs(caplog, capfd):
    """Every logger at DEBUG: root (so urllib3 and ours), urllib3 explicitly, and dlt's own logger
    (which does not propagate: its records are sent to caplog's handler too)."""
    prepare_dlt_environment()  # as every sync does first: dlt reads no Airflow Variables
    previous = os.environ.get("RUNTIME__LOG_LEVEL")
    os.environ["RUNTIME__LOG_LEVEL"] = "DEBUG"
    dlt_logger = _initialize_dlt_runtime()
    assert dlt_logger.isEnabledFor(logging.DEBUG)
    dlt_logger.addHandler(caplog.handler)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="urllib3")
    try:
        yield Capture(caplog, capfd)
    finally:
        dlt_logger.removeHandler(caplog.handler)
        if previous is None:
            os.environ.pop("RUNTIME__LOG_LEVEL", None)
        else:
            os.environ["RUNTIME__LOG_LEVEL"] = previous
        _initialize_dlt_runtime()


#: What a capture of a sync that reached the API holds: our log lines, dlt's DEBUG lines, urllib3's.
SYNC_LOG_LINES = ("Syncing ", "Starting new HTTP connection", 'HTTP/1.1" 200')


# -- the API and the operator ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def upstream():
    with FakeAnalyticsAPI(api_key=KEY, sizes=SIZES, seed=3) as api:
        yield api


@pytest.fixture
def api(upstream, monkeypatch):
    """The fake API as the default connection, with the right key; no faults."""
    upstream.faults.clear()
    monkeypatch.setenv("AIRFLOW_CONN_ANALYTICS_DEFAULT", analytics_conn_json(upstream.base_url, KEY))
    yield upstream
    upstream.faults.clear()


def use_connection(monkeypatch, host: str, key: str) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_ANALYTICS_DEFAULT", analytics_conn_json(host, key))


def run_operator(resource: str, warehouse_conn_id: str, dataset: str, pipelines_dir: Path, **kwargs: Any) -> dict:
    op = AnalyticsSyncOperator(
        task_id=f"sync_{resource}",
        resource=resource,
        warehouse_conn_id=warehouse_conn_id,
        dataset_name=dataset,
        pipelines_dir=str(pipelines_dir),
        progress_interval=0,
        **kwargs,
    )
    return op.execute({})


def seed_config(base_url: str, key: str | None) -> dict:
    """The seed document's config as written; with `key=None` its auth leaves the key to the connection."""
    config = load_seed_config(base_url, key or "unused")
    if key is None:
        del config["client"]["auth"]["api_key"]
    return config


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# -- what dlt keeps ----------------------------------------------------------------------------------


def working_files(pipelines_dir: Path) -> dict[str, bytes]:
    """Every file under dlt's working folder as bytes: gzip-compressed load files decompressed,
    Parquet load files (the Arrow fast path, compressed column chunks) as their rows in JSON."""
    files = {}
    for path in sorted(pipelines_dir.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            if data[:2] == b"\x1f\x8b":
                data = gzip.decompress(data)
            elif data[:4] == b"PAR1":
                import pyarrow.parquet as pq

                rows = pq.read_table(path).to_pylist()
                data += b"\n" + json.dumps(rows, default=str).encode()
            files[str(path.relative_to(pipelines_dir))] = data
    return files


def assert_working_files_hold_no_key(pipelines_dir: Path, expect: Iterable[str]) -> None:
    files = working_files(pipelines_dir)
    assert any(name.endswith("trace.pickle") for name in files), sorted(files)
    for name, data in files.items():
        assert_no_key(f"file {name}", data or b"<empty>")
    assert_no_key("all working files", b"\n".join(files.values()), expect=expect)


def dlt_records(pipelines_dir: Path, pipeline_name: str) -> dict[str, str]:
    """What dlt says about the last run: its trace (text and dict), step infos and the pipeline state."""
    import dlt

    pipeline = dlt.attach(pipeline_name=pipeline_name, pipelines_dir=str(pipelines_dir))
    trace = pipeline.last_trace
    assert trace is not None, pipeline_name
    return {
        "str(last_trace)": str(trace),
        "last_trace.asdict()": json.dumps(trace.asdict(), default=str),
        "extract info": str(trace.last_extract_info),
        "normalize info": str(trace.last_normalize_info),
        "load info": str(trace.last_load_info),
        "pipeline state": json.dumps(pipeline.state, default=str),
    }


def warehouse_text(rows: Callable[[str], list[tuple]], dataset: str) -> tuple[str, str]:
    """(every row of every table of the dataset and its staging datasets; the decoded dlt states)."""
    from dlt.common.versioned_state import decompress_state

    tables = rows(
        "select table_schema, table_name from information_schema.tables "
        f"where table_schema like '{dataset}%' order by 1, 2"
    )
    names = {name for _, name in tables}
    assert {"_dlt_pipeline_state", "_dlt_version", "_dlt_loads"} <= names, names
    dumped, states = [], []
    for schema, name in tables:
        table = f'"{schema}"."{name}"'
        dumped.append(f"{table}: {rows(f'select * from {table}')!r}")
        if name == "_dlt_pipeline_state":
            for (state,) in rows(f"select state from {table}"):
                states.append(json.dumps(decompress_state(state), default=str))
    return "\n".join(dumped), "\n".join(states)


def assert_sync_shows_no_key(
    capture: Capture,
    summaries: dict[str, dict],
    pipelines_dir: Path,
    dataset: str,
    rows: Callable[[str], list[tuple]],
    upstream: FakeAnalyticsAPI,
) -> None:
    """Logs, XCom, dlt's records and files, and the warehouse of a successful sync hold no key."""
    syncing = [f"Syncing {resource} from" for resource in summaries]
    assert_no_key("logs and output", capture.text(), expect=(*SYNC_LOG_LINES, *syncing))
    for resource, summary in summaries.items():
        assert summary["rows"] == len(upstream.records(resource)), resource
        assert_no_key(f"XCom of {resource}", json.dumps(summary), expect=(f'"resource": "{resource}"',))
        name = pipeline_name_for(dataset, resource)
        for where, text in dlt_records(pipelines_dir, name).items():
            expect = summary["load_ids"] if where.endswith(" info") else (name,)
            assert_no_key(f"{resource}: {where}", text, expect=expect)
    first_ids = [next(iter(upstream.records(resource)[0].values())) for resource in summaries]  # a key of each
    names = [pipeline_name_for(dataset, resource) for resource in summaries]
    assert_working_files_hold_no_key(pipelines_dir, expect=(*first_ids, *names))
    tables, states = warehouse_text(rows, dataset)
    assert_no_key("warehouse tables", tables, expect=(*first_ids, *names))
    assert_no_key("warehouse pipeline states", states, expect=tuple(summaries))


# -- successful syncs --------------------------------------------------------------------------------


def test_syncing_every_builtin_resource_never_shows_the_key(api, target, debug_logs, tmp_path):
    pipelines_dir = tmp_path / "dlt"
    summaries = {
        resource: run_operator(resource, target.conn_id, target.dataset, pipelines_dir) for resource in RESOURCE_NAMES
    }
    assert_sync_shows_no_key(debug_logs, summaries, pipelines_dir, target.dataset, target.rows, api)


@pytest.mark.parametrize("key_from", ["config", "connection"])
def test_syncing_the_seed_config_never_shows_the_key(key_from, api, duckdb_conn, debug_logs, monkeypatch, tmp_path):
    """The seed's config as written (key inline in client.auth.api_key), or with the key from the connection."""
    from functools import partial

    from tests.helpers import duckdb_rows

    if key_from == "config":
        use_connection(monkeypatch, api.base_url, CONN_KEY)  # never sent: the config's own key wins
    config = seed_config(api.base_url, KEY if key_from == "config" else None)
    pipelines_dir = tmp_path / "dlt"
    summaries = {
        resource: run_operator(resource, "warehouse_duckdb", "analytics", pipelines_dir, config=config)
        for resource in (entry["name"] for entry in config["resources"])
    }
    assert config["client"]["auth"].get("api_key") == (KEY if key_from == "config" else None)  # left as it was
    rows = partial(duckdb_rows, duckdb_conn)
    assert_sync_shows_no_key(debug_logs, summaries, pipelines_dir, "analytics", rows, api)


# -- failed syncs ------------------------------------------------------------------------------------


def _fault(path: str, reply: FakeReply) -> Callable:
    return lambda request: reply if request.path == path else None


def _seed_with_retries(base_url: str, key: str | None, retries: int) -> dict:
    config = seed_config(base_url, key)
    handler = {"retry_on_status_codes": [429, 500, 502, 503, 504], "max_retries": retries, "backoff_factor": 0}
    config["resource_defaults"]["endpoint"] = {"error_handler": handler}
    return config


def _seed_with_typo(base_url: str) -> dict:
    config = seed_config(base_url, KEY)
    config["resources"][0]["endpoint"]["data_selectr"] = "data"
    return config


def _seed_with_auth_in_resource_defaults(base_url: str) -> dict:
    """An auth block in resource_defaults (valid dlt), next to a typo: dlt quotes the section as written."""
    config = seed_config(base_url, KEY)
    config["resource_defaults"]["endpoint"] = {"auth": config["client"].pop("auth"), "data_selectr": "data"}
    return config


def _seed_with_key_in_query(base_url: str) -> dict:
    config = seed_config(base_url, KEY)
    config["client"]["auth"]["location"] = "query"
    return config


def _seed_with_key_in_base_url(base_url: str) -> dict:
    config = seed_config(base_url, KEY)
    config["client"]["base_url"] = base_url.replace("://", f"://analytics:{KEY}@")
    return config


BROKEN_JSON = FakeReply(200, b'{"data": [{"id": "a1", "name": ', headers={"Content-Type": "application/json"})
SERVER_ERROR = FakeReply(500, {"message": "Internal Server Error"})


@dataclass
class Failure:
    resource: str
    error: type[Exception]
    says: str
    #: the connection's key
    conn_key: str = KEY
    #: base URL -> the operator's config (None: built-in resource)
    config: Callable[[str], dict] | None = None
    fault: Callable | None = None
    #: connection host and config base URL point at a port nobody listens on
    refused: bool = False
    #: the connection host carries the key as user info
    key_in_host: bool = False
    #: the failure comes before dlt starts: no request, no working folder
    before_dlt: bool = False
    #: the message names the resource (a connection error names the connection instead)
    names_resource: bool = True
    also_says: tuple[str, ...] = field(default_factory=tuple)


FAILURES = {
    "401 wrong key from the connection": Failure(
        "alerts", ApiKeyRefusedError, "refused the API key (HTTP 401)", conn_key=WRONG_KEY
    ),
    "401 wrong key inline in the seed config": Failure(
        "users", ApiKeyRefusedError, "refused the API key (HTTP 401)", config=lambda url: seed_config(url, WRONG_KEY)
    ),
    "500 until retries run out": Failure(
        "users", SyncError, "HTTP 500 after 5 attempt(s)", fault=_fault("/v2/users", SERVER_ERROR),
        also_says=("Internal Server Error",),
    ),
    "500 until the seed error_handler gives up": Failure(
        "teams", SyncError, "HTTP 500 after 3 attempt(s)", config=lambda url: _seed_with_retries(url, KEY, 2),
        fault=_fault("/v2/teams", SERVER_ERROR),
    ),
    "connection refused": Failure("incidents", SyncError, "the connection was refused", refused=True),
    "connection refused, seed config with the key inline": Failure(
        "teams", SyncError, "the connection was refused", config=lambda url: _seed_with_retries(url, KEY, 1), refused=True
    ),
    "malformed JSON page": Failure("users", SyncError, "is not valid JSON", fault=_fault("/v2/users", BROKEN_JSON)),
    "malformed JSON page, seed config with the key inline": Failure(
        "services", SyncError, "is not valid JSON", config=lambda url: seed_config(url, KEY),
        fault=_fault("/v1/services", BROKEN_JSON),
    ),
    "config error": Failure("users", ConfigError, "data_selectr", config=_seed_with_typo, before_dlt=True),
    "config error quoting an auth block in resource_defaults": Failure(
        "users", ConfigError, "data_selectr", config=_seed_with_auth_in_resource_defaults, before_dlt=True
    ),
    "config sending the key in the URL": Failure(
        "users", ConfigError, "puts the API key in the request URL", config=_seed_with_key_in_query, before_dlt=True
    ),
    "config with the key in the base URL": Failure(
        "users", ConfigError, "carries credentials", config=_seed_with_key_in_base_url, before_dlt=True
    ),
    "connection with the key in the host": Failure(
        "users", AnalyticsConnectionError, "carries credentials", key_in_host=True, before_dlt=True,
        names_resource=False,
    ),
}


def exception_texts(error: BaseException) -> dict[str, str]:
    """str, repr and formatted traceback of the error and of every exception it chains to,
    including a context that `raise ... from` hides from the printed traceback."""
    texts = {"traceback.format_exception(error)": "".join(traceback.format_exception(error))}
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        name = type(current).__name__
        texts[f"str({name})"] = str(current) or f"<empty str of {name}>"
        texts[f"repr({name})"] = repr(current)
        texts[f"format_exception({name})"] = "".join(traceback.format_exception(current))
        pending += [e for e in (current.__cause__, current.__context__) if e is not None]
    return texts


@pytest.mark.parametrize("case", FAILURES.values(), ids=FAILURES.keys())
def test_failed_syncs_never_show_the_key(case, api, duckdb_conn, debug_logs, monkeypatch, tmp_path):
    monkeypatch.setattr(RetryPolicy, "backoff", lambda self, retry: 0.0)  # every retry the policy allows, no waits
    base_url = closed_port_url() if case.refused else api.base_url
    host = base_url.replace("://", f"://analytics:{KEY}@") if case.key_in_host else base_url
    use_connection(monkeypatch, host, case.conn_key)
    if case.fault:
        api.faults.append(case.fault)
    api.reset_log()
    pipelines_dir = tmp_path / "dlt"

    with pytest.raises(case.error) as caught:
        run_operator(
            case.resource, "warehouse_duckdb", "analytics", pipelines_dir,
            config=case.config(base_url) if case.config else None,
        )

    error = caught.value
    for says in (case.says, *case.also_says):
        assert says in str(error), str(error)
    texts = exception_texts(error)
    names = (case.resource,) if case.names_resource else ("analytics_default",)
    assert_no_key("the raised error", str(error), expect=names)
    for where, text in texts.items():
        assert_no_key(where, text, expect=("Traceback",) if where.startswith(("traceback", "format")) else ())
    assert_no_key("the printed traceback", texts["traceback.format_exception(error)"], expect=(case.says,))

    logs = debug_logs.text()
    if case.before_dlt:
        assert api.request_log == [] and not pipelines_dir.exists()
        assert_no_key("logs and output", logs or "<nothing logged>")
        return
    assert_no_key("logs and output", logs, expect=(f"Syncing {case.resource} ", "Starting new HTTP connection"))
    if not case.refused:
        assert api.request_log, "the API was never asked"
        assert_no_key("urllib3's DEBUG lines", logs, expect=(f'"GET {api.request_log[0][1]} HTTP/1.1"',))
    name = pipeline_name_for("analytics", case.resource)
    records = dlt_records(pipelines_dir, name)
    assert '"step_exception"' in records["last_trace.asdict()"]
    for where, text in records.items():
        assert_no_key(f"dlt after the failure: {where}", text, expect=(name,) if where == "pipeline state" else ())
    assert_working_files_hold_no_key(pipelines_dir, expect=(name,))


# -- what Airflow stores about the task --------------------------------------------------------------


def test_rendered_template_fields_and_the_serialized_dag_hold_no_key(api):
    from airflow.sdk import DAG
    from airflow.serialization.serialized_objects import DagSerialization

    config = seed_config(api.base_url, KEY)
    with DAG("leak_check", schedule=None) as dag:
        op = AnalyticsSyncOperator(
            task_id="sync_users",
            resource="{{ params.resource }}",
            dataset_name="analytics_{{ params.suffix }}",
            table_name="{{ params.resource }}_copy",
            backfill_start="{{ params.start }}",
            config=config,
        )
    assert "config" not in op.template_fields  # its templates are the paginator's, and it holds the key
    assert not any(path.split(".")[0] == "config" for path in getattr(op, "template_fields_renderers", {}))

    # what the dag-processor stores (and the UI shows): the template fields, not the config
    serialized = json.dumps(DagSerialization.to_dict(dag), default=str)
    assert_no_key("the serialized DAG", serialized, expect=("sync_users", "analytics_{{ params.suffix }}"))

    op.render_template_fields({"params": {"resource": "users", "suffix": "eu", "start": "2026-01-01"}})

    rendered = {name: getattr(op, name) for name in op.template_fields}
    assert rendered["resource"] == "users" and rendered["dataset_name"] == "analytics_eu"
    assert rendered["table_name"] == "users_copy" and rendered["backfill_start"] == "2026-01-01"
    for name, value in rendered.items():
        assert_no_key(f"rendered {name}", f"{name}={value!r}", expect=(name,))
    assert_no_key("all rendered fields", json.dumps(rendered, default=str), expect=("analytics_eu", "users_copy"))
    # the untemplated config still holds the key (it is the one sent), templates untouched
    assert op.config["client"]["auth"]["api_key"] == KEY
    assert op.config["resources"][0]["endpoint"]["paginator"]["cursor_value"].startswith("{{ response")



# -- the successor API -------------------------------------------------------------------------------


def test_syncing_from_the_successor_api_never_shows_the_token_or_its_basic_auth_value(
        upstream, duckdb_conn, debug_logs, monkeypatch, tmp_path):
    """Email + API token as basic auth: neither the token nor the base64 value sent with it shows anywhere."""
    import base64
    from functools import partial

    from airflow_provider_analytics.source.jsm.endpoints import ENDPOINTS
    from tests.conftest import jsm_conn_json
    from tests.helpers import duckdb_rows

    basic = base64.b64encode(f"{upstream.jsm_email}:{KEY}".encode()).decode()
    secrets = (KEY, basic, WRONG_KEY, base64.b64encode(f"{upstream.jsm_email}:{WRONG_KEY}".encode()).decode())
    monkeypatch.setenv("AIRFLOW_CONN_ANALYTICS_DEFAULT", jsm_conn_json(upstream, key=KEY))
    pipelines_dir = tmp_path / "dlt"
    summaries = {resource: run_operator(resource, "warehouse_duckdb", "analytics", pipelines_dir)
                 for resource in ENDPOINTS}
    assert_no_key("logs and output", debug_logs.text(), keys=secrets,
                  expect=(*SYNC_LOG_LINES, f"/jsm/ops/api/{upstream.cloud_id}", *(f"Syncing {r} from" for r in summaries)))
    for resource, summary in summaries.items():
        assert summary["table_rows"] > 0, resource
        assert_no_key(f"XCom of {resource}", json.dumps(summary), keys=secrets, expect=(f'"resource": "{resource}"',))
        for where, text in dlt_records(pipelines_dir, pipeline_name_for("analytics", resource)).items():
            assert_no_key(f"{resource}: {where}", text, keys=secrets)
    files = working_files(pipelines_dir)
    assert_no_key("all working files", b"\n".join(files.values()), keys=secrets)
    tables, states = warehouse_text(partial(duckdb_rows, duckdb_conn), "analytics")
    assert_no_key("warehouse tables", tables, keys=secrets, expect=(upstream.records("alerts")[0]["id"],))
    assert_no_key("warehouse pipeline states", states, keys=secrets)

    monkeypatch.setenv("AIRFLOW_CONN_ANALYTICS_DEFAULT", jsm_conn_json(upstream, key=WRONG_KEY))
    with pytest.raises(ApiKeyRefusedError) as refused:
        run_operator("alerts", "warehouse_duckdb", "analytics", pipelines_dir)
    text = "".join(traceback.format_exception(refused.value)) + repr(refused.value)
    assert_no_key("the refusal", text, keys=secrets, expect=("refused the email and API token", "HTTP 401"))
    assert_no_key("logs of the refusal", debug_logs.text(), keys=secrets)
