"""The Airflow UI in a real browser: the provider's connection form and the manual DAG's trigger form.

Airflow 3.3 runs from a temporary home as an operator would run it (api-server, scheduler with the
LocalExecutor, dag-processor; a PostgreSQL metadata database of the test's own), and Chromium,
driven by Playwright, does what a user does: sign in on the login page, add the `analytics`
connection through Admin -> Connections, trigger `analytics_manual_sync` from its form, read a
sync's task log, and look at the daily DAG. The DAG runs use the connection saved through the form,
against the fake API.

Then the daily DAG, paused until now, is unpaused over the REST API: the scheduler runs its latest
scheduled run, whose syncs update the six tables' Assets, and starts `analytics_response_metrics`
by itself; its task log is read in the UI and the HTML report it wrote is opened from disk in
the browser.

Screenshots of every step land in the artifacts directory (see tests/e2e/browser.py); with
`ANALYTICS_UPDATE_DOCS_IMAGES=1` the connection forms, the trigger form, the task log and the
metrics report are also copied to docs/images/.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from airflow_provider_analytics import DEFAULT_CONN_ID
from airflow_provider_analytics.metrics.names import DEFAULT_METRICS_DATASET, METRIC_TABLES
from airflow_provider_analytics.pipeline.report import SUMMARY_TITLE
from airflow_provider_analytics.source.catalog import RESOURCE_NAMES
from airflow_provider_analytics.task_defaults import API_POOL_SLOTS, api_pool, api_pool_description
from airflow_provider_analytics.testing.fake_api import FakeAnalyticsAPI
from tests.conftest import require_service
from tests.e2e.airflow_stack import (
    ADMIN_PASSWORD,
    ADMIN_USER,
    AirflowStack,
    RestClient,
    base_env,
    free_port,
    wait_for,
)
from tests.e2e.browser import (
    VIEWPORT,
    Screens,
    accordion_panel,
    artifacts_dir,
    assert_not_on_page,
    label_texts,
    labelled_field,
    launch,
    publish,
    require_browser,
)
from tests.local_services import PG_HOST, PG_PORT, reachable, throwaway_databases
from tests.helpers import REPO, duckdb_rows

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

KEY = "sk-browser-e2e-5e8f1d3a97"
SIZES = {"alerts": 480, "incidents": 30, "teams": 4, "users": 30}  # enough alerts per team and week for the report
MANUAL, DAILY, METRICS = "analytics_manual_sync", "analytics_daily_sync", "analytics_response_metrics"
CHOSEN = ["teams", "alerts"]
PAGE_SIZE = 50
JSM_CONN_ID = "analytics_jsm"
EXTRA_FIELDS = {  # label -> (help text, default shown in the form; None: a choice, not a text input)
    "API": ("Which API the host serves: 'auto' decides from the host", None),
    "Cloud id (Jira Service Management)": ("The site's cloud id, part of every request's path", ""),
    "Key header": ("HTTP header that carries the API key (OpsGenie; Jira Service Management uses basic auth).",
                   "Authorization"),
    "Auth scheme": ("Word sent before the key in the auth header; empty sends the bare key.", "GenieKey"),
    "Request timeout (seconds)": ("Per-request connect and read timeout.", "60"),
    "Page size": ("Records per page (the API's maximum is 100).", "100"),
    "Longest retry wait (seconds)": (
        "Caps each wait before a retry: the API's Retry-After / X-RateLimit-Period-In-Sec and backoff.", "60"),
    "Max requests per second": (
        "Requests per second each sync task may send to the account, never exceeded (tasks running at once each "
        "get it); 'auto' learns the budget from the API's throttling.", "auto"),
}
TIMEOUT_MS = 20_000
REPORT_VIEWPORT = {"width": 1040, "height": 900}


@pytest.fixture
def metadata_db():
    """A PostgreSQL metadata database of the test's own: four processes write to it at once."""
    require_service(reachable(PG_HOST, PG_PORT), "PostgreSQL on 127.0.0.1:5432")
    with throwaway_databases("metadata") as names:
        yield f"postgresql+psycopg2://postgres@{PG_HOST}:{PG_PORT}/{names['metadata']}"


def ui_env(home: Path, api_port: int, metadata: str) -> dict[str, str]:
    env = base_env(home, REPO / "dags", api_port)
    env.update(
        AIRFLOW__CORE__EXECUTOR="LocalExecutor",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=metadata,
        # the daily DAG waits, paused, until the test unpauses it (the scheduler must keep its job
        # schedule on: `use_job_schedule = False` also stops the runs that Asset events trigger)
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="True",
        AIRFLOW__CORE__TEST_CONNECTION="Enabled",  # the JSM connection is tested through the REST API
        AIRFLOW__ANALYTICS__DUCKDB_PATH=str(home / "warehouse.duckdb"),
    )
    return env


def _all_logs(home: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in home.rglob("*.log"))


def test_connection_form_and_trigger_form_in_a_browser(metadata_db, tmp_path):
    require_browser()
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    screens = Screens(artifacts_dir())
    api_port = free_port()
    with FakeAnalyticsAPI(api_key=KEY, sizes=SIZES, seed=5) as api, sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            with AirflowStack(tmp_path, ui_env(tmp_path, api_port, metadata_db), api_port) as stack:
                stack.migrate()
                stack.create_pool(api_pool(DEFAULT_CONN_ID), API_POOL_SLOTS, api_pool_description(DEFAULT_CONN_ID))
                for component in ("api-server", "scheduler", "dag-processor"):
                    stack.start(component)
                stack.wait_until_healthy()
                context = browser.new_context(viewport=VIEWPORT, base_url=stack.api_url)
                context.set_default_timeout(TIMEOUT_MS)
                context.set_default_navigation_timeout(60_000)
                page = context.new_page()
                try:
                    use_the_ui(page, browser, screens, expect, stack, api)
                except BaseException:
                    screens.failure(page)  # while the stack still runs
                    raise
        finally:
            browser.close()

        requests_made = api.request_log

    # the runs used the connection saved through the form: its key, its page size
    limits = {int(limit) for _, path, _ in requests_made for limit in re.findall(r"[?&]limit=(\d+)", path)}
    assert PAGE_SIZE in limits and limits <= {1, PAGE_SIZE}, requests_made  # 1: the newest-alert probe
    # every request answered but one: the daily run's alerts sync, incremental after the manual one, tries
    # an updatedAt search once, which the fake (as strict as the spec) refuses; the sync falls back
    refused = [(method, unquote(path), status) for method, path, status in requests_made if status != 200]
    assert len(refused) == 1 and refused[0][0] == "GET" and refused[0][2] == 422, refused
    assert refused[0][1].startswith("/v2/alerts?") and "query=updatedAt>=" in refused[0][1], refused

    assert KEY not in _all_logs(tmp_path), "the API key is in a component or task log"


def use_the_ui(page, browser, screens: Screens, expect, stack: AirflowStack, api: FakeAnalyticsAPI) -> None:
    """Every step a user takes, in order; the DAG runs in between are awaited over the REST API."""
    rest = RestClient(stack.api_url)
    for dag_id in (MANUAL, DAILY, METRICS):
        rest.wait_for_dag(dag_id, timeout=180, on_timeout=stack.log_tails)
    warehouse = Path(stack.env["AIRFLOW__ANALYTICS__DUCKDB_PATH"])
    sign_in(page, screens, expect)
    add_connection(page, browser, screens, expect, rest, api)
    add_jsm_connection(page, screens, expect, rest, api)
    run_id = trigger_manual_sync(page, screens, expect, rest)
    run = rest.wait_for_run(MANUAL, run_id, timeout=180, on_timeout=stack.log_tails)
    assert run["state"] == "success", stack.log_tails()
    assert run["conf"] == {"resources": CHOSEN, "full_refresh": False, "backfill_start": None,
                           "warehouse_conn_id": None}
    check_chosen_tables(warehouse, api)  # before the daily run adds every other table
    daily_run_id = start_daily_sync(rest, stack)  # runs while the browser looks at the manual run
    check_run_page(page, screens, expect, run_id)
    check_task_log(page, screens, expect, run_id, api)
    check_daily_dag(page, screens, expect)
    daily = rest.wait_for_run(DAILY, daily_run_id, timeout=420, on_timeout=stack.log_tails)
    assert daily["state"] == "success", stack.log_tails()
    rest.json("PATCH", f"/dags/{DAILY}", json={"is_paused": True})  # one daily run, even across midnight
    metrics_run = wait_for_asset_triggered_run(rest, stack)
    check_metric_tables(warehouse, api)
    check_metrics_log(page, screens, expect, metrics_run["dag_run_id"], api)
    check_report(browser, screens, expect, warehouse.with_name(f"{DEFAULT_METRICS_DATASET}_report.html"), api)
    stack.check_running()


def check_chosen_tables(warehouse: Path, api: FakeAnalyticsAPI) -> None:
    """Exactly the chosen resources landed in the embedded DuckDB file, every upstream row once."""
    tables = {row[0] for row in duckdb_rows(
        warehouse, "select table_name from information_schema.tables where table_schema = 'analytics'")}
    assert {name for name in RESOURCE_NAMES if name in tables} == set(CHOSEN)
    for name in CHOSEN:
        landed = sorted(row[0] for row in duckdb_rows(warehouse, f'select id from analytics."{name}"'))
        assert landed == sorted(record["id"] for record in api.records(name)), name


def start_daily_sync(rest: RestClient, stack: AirflowStack) -> str:
    """Unpause the daily DAG, paused since its creation; the scheduler starts its latest run at once.

    With catchup off that is one run, of the latest midnight. Returns its id.
    """
    assert rest.json("GET", f"/dags/{DAILY}")["is_paused"] is True
    assert rest.json("GET", f"/dags/{DAILY}/dagRuns")["total_entries"] == 0
    assert rest.json("PATCH", f"/dags/{DAILY}", json={"is_paused": False})["is_paused"] is False

    def scheduled() -> dict | None:
        runs = rest.json("GET", f"/dags/{DAILY}/dagRuns")["dag_runs"]
        return runs[0] if runs else None

    run = wait_for(scheduled, timeout=60, interval=2, what=f"the scheduler to start a run of {DAILY}",
                   on_timeout=stack.log_tails)
    assert run["run_type"] == "scheduled", run
    return run["dag_run_id"]


def wait_for_asset_triggered_run(rest: RestClient, stack: AirflowStack) -> dict:
    """The metrics DAG's run that the scheduler started on the daily run's Asset events, once finished.

    Nothing triggers it but the six tables' Assets: no schedule, no manual trigger in this test.
    """
    def asset_triggered() -> dict | None:
        runs = rest.json("GET", f"/dags/{METRICS}/dagRuns")["dag_runs"]
        assert all(r["run_type"] == "asset_triggered" for r in runs), runs
        return runs[0] if runs else None

    def waiting_for() -> str:  # what the scheduler still waits for, when no run came
        queued = rest.request("GET", f"/dags/{METRICS}/assets/queuedEvents")
        return f"queued Asset events of {METRICS}: {queued.text[:3000]}\n{stack.log_tails()}"

    run = wait_for(asset_triggered, timeout=180, interval=2, what=f"an asset-triggered run of {METRICS}",
                   on_timeout=waiting_for)
    run = rest.wait_for_run(METRICS, run["dag_run_id"], timeout=180, on_timeout=stack.log_tails)
    assert run["state"] == "success", stack.log_tails()
    assert len(rest.json("GET", f"/dags/{METRICS}/dagRuns")["dag_runs"]) == 1  # one daily run: one metrics run
    return run


def check_metric_tables(warehouse: Path, api: FakeAnalyticsAPI) -> None:
    """The four metric tables in the warehouse: one response row per upstream alert and per incident."""
    rows = {table: duckdb_rows(warehouse, f'select count(*) from {DEFAULT_METRICS_DATASET}."{table}"')[0][0]
            for table in METRIC_TABLES}
    assert rows["alert_response"] == len(api.records("alerts")), rows
    assert rows["incident_response"] == len(api.records("incidents")), rows
    assert rows["response_daily"] > 0 and rows["oncall_load"] > 0, rows


def check_metrics_log(page, screens: Screens, expect, run_id: str, api: FakeAnalyticsAPI) -> None:
    """The metrics task's log page: no line at ERROR level, and the summary block with the alerts' count."""
    page.goto(f"/dags/{METRICS}/runs/{run_id}/tasks/build_metrics")
    log = page.get_by_test_id("virtualized-list")
    expect(log).to_contain_text("Metrics summary")
    text = log.inner_text()
    assert "INFO - " in text and "ERROR - " not in text, text[-3000:]
    block = text[text.index("Metrics summary"):]
    assert re.search(rf"alert_response\s+{len(api.records('alerts')):,} rows", block), block[:800]
    assert_not_on_page(page, KEY, "metrics task log")
    screens.shot(page, "metrics-task-log")


def check_report(browser, screens: Screens, expect, report: Path, api: FakeAnalyticsAPI) -> None:
    """The HTML report opened from disk: heading, both charts, the on-call table; nothing fetched."""
    context = browser.new_context(viewport=REPORT_VIEWPORT)
    try:
        page = context.new_page()
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        page.goto(report.as_uri())
        expect(page.get_by_role("heading", name="Alert response report", level=1)).to_be_visible()
        expect(page.locator("p.meta").first).to_contain_text(f"{len(api.records('alerts')):,} alerts from ")
        for what in ("acknowledge", "close"):
            expect(page.get_by_role("heading", name=f"Median time to {what}, per team and week (minutes)")
                   ).to_be_visible()
            chart = page.get_by_role("img", name=f"minutes to {what}")
            expect(chart).to_be_visible()
            assert chart.locator("polyline, circle").count() > 0, what
        expect(page.get_by_role("heading", name=re.compile(r"^On-call load per user"))).to_be_visible()
        users = page.locator("table.load tbody th").all_inner_texts()
        assert users and set(users) <= {user["username"] for user in api.records("users")}, users
        assert requested == [report.as_uri()], requested
        page.set_viewport_size({"width": REPORT_VIEWPORT["width"],
                                "height": page.evaluate("document.documentElement.scrollHeight")})
        publish(screens.shot(page, "metrics-report"), "metrics-report.png")
    finally:
        context.close()


def sign_in(page, screens: Screens, expect) -> None:
    """The simple auth manager's login page, then Airflow's home page."""
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/auth/login"))
    expect(page.get_by_role("heading", name="Sign into Airflow")).to_be_visible()
    page.get_by_label("Username").fill(ADMIN_USER)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    screens.shot(page, "login")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Welcome")).to_be_visible()
    screens.shot(page, "home")


def add_connection(page, browser, screens: Screens, expect, rest: RestClient, api: FakeAnalyticsAPI) -> None:
    """Admin -> Connections -> Add Connection of type analytics; the form, the saved connection."""
    page.get_by_role("button", name="Admin").click()
    page.get_by_role("menuitem", name="Connections").click()
    expect(page).to_have_url(re.compile(r"/connections$"))
    page.get_by_role("button", name="Add Connection").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name="Add Connection")).to_be_visible()
    dialog.get_by_label("Connection ID").fill("analytics_default")
    connection_type = dialog.get_by_role("combobox", name="Connection Type")
    connection_type.fill("analytics")
    page.get_by_role("option", name="Analytics API", exact=True).click()

    # Standard Fields: host, login and password relabelled, with placeholders; schema and port hidden
    standard = accordion_panel(dialog, "Standard Fields")
    expect(standard.locator("input[name=host]")).to_be_visible()
    assert label_texts(standard) == ["Description", "API base URL", "Email (Jira Service Management)",
                                     "API key or API token"]
    host, key = dialog.get_by_label("API base URL"), dialog.get_by_label("API key or API token")
    expect(host).to_have_attribute("placeholder", re.compile(r"^https://api\.opsgenie\.com .*https://api\.atlassian\.com"))
    expect(dialog.get_by_label("Email (Jira Service Management)")).to_have_attribute(
        "placeholder", re.compile("OpsGenie: leave empty"))
    expect(key).to_have_attribute("placeholder", re.compile("^OpsGenie: an API integration's key"))
    expect(key).to_have_attribute("type", "password")
    for hidden in ("schema", "port"):
        expect(dialog.locator(f"[name={hidden}]")).to_have_count(0)
    standard_shot = screens.shot(dialog, "connection-form-standard-fields")

    dialog.get_by_label("Description").fill("The fake API of the browser test")
    host.fill(api.base_url)
    key.fill(KEY)
    expect(key).to_have_attribute("type", "password")
    assert KEY not in page.inner_text("body")

    # Extra Fields: the provider's conn-fields, labelled and described, with their defaults
    dialog.get_by_role("button", name="Extra Fields", exact=True).click()
    extra = accordion_panel(dialog, "Extra Fields")
    expect(extra.locator("input[name=element_key_header]")).to_be_visible()
    assert label_texts(extra) == list(EXTRA_FIELDS)
    for label, (help_text, default) in EXTRA_FIELDS.items():
        field = labelled_field(extra, label)
        expect(field).to_contain_text(help_text)
        if default is not None:
            expect(field.locator("input")).to_have_value(default)
    expect(labelled_field(extra, "API")).to_contain_text("auto")
    # the defaults are kept as shown: saved, they must work (a field Airflow masks would save "***")
    labelled_field(extra, "Page size").locator("input").fill(str(PAGE_SIZE))
    extra_shot = screens.shot(dialog, "connection-form-extra-fields")
    publish(screens.side_by_side(browser, "connection-form", standard_shot, extra_shot), "connection-form.png")

    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()

    # the list shows it, without the key
    row = page.get_by_role("row").filter(has_text="analytics_default")
    expect(row).to_contain_text("analytics")
    expect(row).to_contain_text(api.base_url)
    assert_not_on_page(page, KEY, "connection list")
    screens.shot(page, "connection-list")

    # stored as typed; the API, like the UI, answers with the key masked
    stored = rest.json("GET", "/connections/analytics_default")
    assert (stored["conn_type"], stored["host"], stored["password"]) == ("analytics", api.base_url, "***")
    assert stored["description"] == "The fake API of the browser test"
    extra_saved = json.loads(stored["extra"])
    assert (extra_saved["key_header"], extra_saved["auth_scheme"], extra_saved["page_size"]) == (
        "Authorization", "GenieKey", PAGE_SIZE)
    assert KEY not in stored["extra"]

    # the edit form shows the key masked, also when asked to show it
    row.get_by_role("button", name="Edit Connection").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name="Edit Connection")).to_be_visible()
    expect(dialog.get_by_label("API base URL")).to_have_value(api.base_url)
    expect(dialog.get_by_label("API key or API token")).to_have_value("***")
    dialog.get_by_role("button", name="Show value").click()
    expect(dialog.get_by_label("API key or API token")).to_have_attribute("type", "text")
    expect(dialog.get_by_label("API key or API token")).to_have_value("***")
    dialog.get_by_role("button", name="Extra Fields JSON").click()
    expect(dialog).to_contain_text('"page_size": 50')
    assert_not_on_page(page, KEY, "edit connection form")
    screens.shot(dialog, "connection-edit-form")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()


def add_jsm_connection(page, screens: Screens, expect, rest: RestClient, api: FakeAnalyticsAPI) -> None:
    """A connection to the Jira Service Management operations API through the same form: email, token, cloud id.

    Saved, it is tested through the REST API (the api-server runs the provider's `test_connection`
    against the fake's successor side), which names the API it reached.
    """
    page.get_by_role("button", name="Add Connection").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name="Add Connection")).to_be_visible()
    dialog.get_by_label("Connection ID").fill(JSM_CONN_ID)
    dialog.get_by_role("combobox", name="Connection Type").fill("analytics")
    page.get_by_role("option", name="Analytics API", exact=True).click()
    dialog.get_by_label("API base URL").fill(api.base_url)
    dialog.get_by_label("Email (Jira Service Management)").fill(api.jsm_email)
    dialog.get_by_label("API key or API token").fill(KEY)
    dialog.get_by_role("button", name="Extra Fields", exact=True).click()
    extra = accordion_panel(dialog, "Extra Fields")
    flavour = labelled_field(extra, "API")
    flavour.get_by_role("combobox").click()
    page.get_by_role("option", name="jsm", exact=True).click()
    expect(flavour).to_contain_text("jsm")
    labelled_field(extra, "Cloud id (Jira Service Management)").locator("input").fill(api.cloud_id)
    expect(dialog.get_by_label("API key or API token")).to_have_attribute("type", "password")
    assert KEY not in page.inner_text("body")
    publish(screens.shot(dialog, "connection-form-jsm"), "connection-form-jsm.png")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("row").filter(has_text=JSM_CONN_ID)).to_contain_text(api.base_url)
    assert_not_on_page(page, KEY, "connection list")

    stored = rest.json("GET", f"/connections/{JSM_CONN_ID}")
    assert (stored["conn_type"], stored["host"], stored["login"], stored["password"]) == (
        "analytics", api.base_url, api.jsm_email, "***")
    extra_saved = json.loads(stored["extra"])
    assert (extra_saved["api_flavour"], extra_saved["cloud_id"]) == ("jsm", api.cloud_id)
    tested = rest.json("POST", "/connections/test", json={
        "connection_id": JSM_CONN_ID, "conn_type": "analytics", "host": api.base_url, "login": api.jsm_email,
        "password": KEY, "extra": stored["extra"]})
    assert tested["status"] is True, tested
    assert tested["message"].startswith("Connected to the Jira Service Management operations API at "
                                        f"{api.jsm_base_url}"), tested


def trigger_manual_sync(page, screens: Screens, expect, rest: RestClient) -> str:
    """The manual DAG's trigger form: its params, a refused value, then a run; returns the run id."""
    assert rest.json("GET", f"/dags/{MANUAL}")["is_paused"] is False  # manual only: created unpaused
    page.goto(f"/dags/{MANUAL}")
    page.get_by_role("button", name="Trigger Dag").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name=f"Trigger Dag - {MANUAL}")).to_be_visible()
    expect(dialog.get_by_text(re.compile("^Unpause"))).to_have_count(0)  # nothing to unpause
    params = accordion_panel(dialog, "Run Parameters")
    expect(params.locator("input[name=element_warehouse_conn_id]")).to_be_visible()
    assert label_texts(params) == ["Resources", "Full refresh", "Backfill start date", "Warehouse connection"]

    # Resources: a multi-select with every resource chosen; the others: switch, date, text
    resources = labelled_field(params, "Resources")
    for name in RESOURCE_NAMES:
        expect(resources.get_by_label(f"Remove {name}", exact=True)).to_be_visible()
    expect(labelled_field(params, "Full refresh").locator("input[type=checkbox]")).not_to_be_checked()
    expect(labelled_field(params, "Backfill start date").locator("input")).to_have_attribute("type", "date")
    warehouse = labelled_field(params, "Warehouse connection").locator("input")
    expect(warehouse).to_have_value("")
    screens.shot(dialog, "trigger-form-defaults")

    resources.locator("[aria-label='Clear selected options']").click()
    picker = resources.get_by_role("combobox")
    picker.click()
    expect(page.get_by_role("option")).to_have_text(list(RESOURCE_NAMES))
    for name in CHOSEN:
        picker.fill(name)
        page.get_by_role("option", name=name, exact=True).click()
    dialog.get_by_role("heading").click()  # closes the menu
    for name in RESOURCE_NAMES:
        expect(resources.get_by_label(f"Remove {name}", exact=True)).to_have_count(1 if name in CHOSEN else 0)
    assert_not_on_page(page, KEY, "trigger form")
    publish(screens.shot(dialog, "trigger-form"), "trigger-form.png")

    # a connection id with a space breaks the param's pattern: refused, no run
    warehouse.fill("my warehouse")
    submit = dialog.get_by_test_id("trigger-dag-submit")
    submit.click()
    expect(dialog).to_contain_text(
        "Invalid input for param warehouse_conn_id: 'my warehouse' does not match '^[A-Za-z0-9_.-]+$'")
    expect(page).to_have_url(re.compile(rf"/dags/{MANUAL}$"))
    screens.shot(page, "trigger-form-refused")
    assert rest.json("GET", f"/dags/{MANUAL}/dagRuns")["total_entries"] == 0

    # emptied again (the embedded DuckDB file), the run starts and the page follows it
    warehouse.fill("")
    submit.click()
    expect(page).to_have_url(re.compile(rf"/dags/{MANUAL}/runs/"))
    run_id = unquote(page.url.rsplit("/runs/", 1)[1].split("?")[0].split("/")[0])
    assert_not_on_page(page, KEY, "run page")
    return run_id


def check_run_page(page, screens: Screens, expect, run_id: str) -> None:
    """The finished run: one mapped `sync` per chosen resource, labelled with the resource's name."""
    page.goto(f"/dags/{MANUAL}/runs/{run_id}")
    expect(page.get_by_text("3 Task Instances")).to_be_visible()
    rows = page.get_by_role("row").filter(has=page.get_by_role("link", name="sync", exact=True))
    expect(rows).to_have_count(len(CHOSEN))
    labels = set()
    for row in rows.all():
        expect(row).to_contain_text("Success")
        labels.add(row.get_by_role("cell").nth(2).inner_text().strip())
    assert labels == set(CHOSEN)
    assert_not_on_page(page, KEY, "run page")
    screens.shot(page, "manual-run")


def check_task_log(page, screens: Screens, expect, run_id: str, api: FakeAnalyticsAPI) -> None:
    """The alerts sync's log page, as a user reads it: no line at ERROR level, and the summary block."""
    page.goto(f"/dags/{MANUAL}/runs/{run_id}/tasks/sync/mapped/{CHOSEN.index('alerts')}")
    log = page.get_by_test_id("virtualized-list")
    expect(log).to_contain_text(SUMMARY_TITLE)
    text = log.inner_text()
    assert "INFO - " in text and "ERROR - " not in text, text[-3000:]
    rows = len(api.records("alerts"))
    block = text[text.index(SUMMARY_TITLE):]
    for label, value in (("resource", "alerts"), ("target table", "analytics.alerts"), ("rows loaded", rows),
                         ("table rows", rows), ("deleted", 0), ("throttled", 0)):
        assert re.search(rf"{label}\s+{re.escape(str(value))}\b", block), (label, block[:800])
    assert text.count(SUMMARY_TITLE) == 1, text[-3000:]
    assert_not_on_page(page, KEY, "task log")
    publish(screens.shot(page, "task-log"), "task-log.png")


def check_daily_dag(page, screens: Screens, expect) -> None:
    """The daily DAG: one task per resource in the grid and in the graph."""
    expected = [f"sync_{name}" for name in RESOURCE_NAMES]
    page.goto(f"/dags/{DAILY}")
    for task_id in expected:
        expect(page.get_by_text(task_id, exact=True)).to_be_visible()
    screens.shot(page, "daily-grid")
    page.get_by_role("button", name="Show Graph").click()
    nodes = page.locator(".react-flow__node")
    expect(nodes).to_have_count(len(expected))
    assert sorted(nodes.evaluate_all("nodes => nodes.map(n => n.dataset.id)")) == sorted(expected)
    for node in nodes.all():
        expect(node).to_contain_text("AnalyticsSyncOperator")
    assert_not_on_page(page, KEY, "daily DAG")
    screens.shot(page, "daily-graph")
