"""Full rebuilds of the response-metric tables at 200,000 alerts on DuckDB and PostgreSQL, beside a read of the sources.

    python bench/metrics_rebuild.py                        # 200,000 alerts, 3 rounds (about 10 min)
    python bench/metrics_rebuild.py --alerts 20000 --rounds 1 --warehouses duckdb   # a quick look (under a minute)

Setup, timed apart: the fake API runs in a process of its own; the operator syncs teams, users,
incidents and alerts into each warehouse. An alert's logs and recipients take one request per
alert to sync, so their rows come from the fake's own records instead (`FakeAnalyticsAPI.records`:
a pure function of the seed and the sizes, the same the fake serves) and are loaded through the
provider's sync path (the resource's plan, its Arrow typing and table hints, `extract_and_load`),
which makes the same tables. The bench checks that first, at `--check-alerts` alerts: it fills one
dataset with real syncs of all six resources and one its own way, and stops unless both have the
same columns (name, type, nullability, order in information_schema) and the same rows.

Measured, in a fresh process per contender and round, contenders alternating: `build_metrics`
(the four tables rebuilt whole) and, right before in the same process, the floor: one scan
reading every column the build reads from alerts, alert_logs and alert_recipients, through the
same kind of dlt SQL client. The contenders are PostgreSQL and the DuckDB file twice: as the
connection maps it by default (DuckDB's `memory_limit` 128MB) and with the connection extra
`memory_limit` set; a build that fails (out of memory) is reported as such. Reported: medians
and spreads, rebuild / scan, rows per metric table and source, and the setup's times (among them
the first sync of the alerts, for scale).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the test suite's warehouse helpers
KEY = "bench-key"
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres"}
LISTED = ("teams", "users", "incidents", "alerts")
PER_ALERT = ("alert_logs", "alert_recipients")
#: What the floor reads: every column of these tables that the build reads.
SCANNED = {
    "alerts": ("id", "tiny_id", "priority", "source", "status", "owner_team_id", "created_at", "updated_at",
               "report ->> 'ackTime'", "report ->> 'closeTime'", "report ->> 'acknowledgedBy'",
               "report ->> 'closedBy'"),
    "alert_logs": ("alert_id", '"offset"', "log", "owner", "created_at"),
    "alert_recipients": ("alert_id", "user_id"),
}


# -- children: each runs in a fresh process -------------------------------------------------------


def warehouse_for(kind: str, target: str, memory_limit: str = "") -> Any:
    """The provider's Warehouse for a DuckDB file (with the connection extra `memory_limit` if given) or this
    machine's PostgreSQL, as the connection types map them."""
    from airflow_provider_analytics.warehouses import warehouse_from_connection

    extra = {"memory_limit": memory_limit} if memory_limit else {}
    conn = SimpleNamespace(conn_id="bench_warehouse", conn_type=kind, port=None, login=None, password=None,
                           schema=None, extra_dejson=extra, host=target)
    if kind == "postgres":
        conn.host, conn.port, conn.login, conn.schema = PG["host"], PG["port"], PG["user"], PG["dbname"]
    return warehouse_from_connection(conn)


def conn_json(kind: str, target: str) -> str:
    if kind == "duckdb":
        return json.dumps({"conn_type": "duckdb", "host": target})
    return json.dumps({"conn_type": "postgres", "host": PG["host"], "port": PG["port"], "login": PG["user"],
                       "schema": PG["dbname"]})


def load_records(resource: str, rows: list[dict], base_url: str, warehouse: Any, dataset: str) -> int:
    """`rows` (the API's records of a per-alert resource) into `<dataset>.<resource>` as its sync loads them."""
    import logging

    import dlt

    from airflow_provider_analytics.pipeline.child_sync import child_table_source
    from airflow_provider_analytics.pipeline.dlt_source import BATCH_ROWS
    from airflow_provider_analytics.pipeline.loading import drop_staging_dataset, extract_and_load, table_rows
    from airflow_provider_analytics.pipeline.names import pipeline_name_for
    from airflow_provider_analytics.pipeline.options import SyncOptions
    from airflow_provider_analytics.source.builtin.arrow_pages import ArrowPageBuilder
    from airflow_provider_analytics.source.plan import ChildPlan, plan_for
    from airflow_provider_analytics.source.settings import ApiSettings

    plan = plan_for(resource, ApiSettings(base_url, KEY))
    assert isinstance(plan, ChildPlan), resource
    options = SyncOptions(dataset_name=dataset)
    table = options.table_for(resource)
    builder = ArrowPageBuilder(dict(plan.columns))

    def batches() -> Any:
        for start in range(0, len(rows), BATCH_ROWS):
            arrow = builder.build(rows[start:start + BATCH_ROWS])
            if arrow is None:
                raise SystemExit(f"{resource}: the fake's records do not fit the resource's schema")
            yield arrow

    source = child_table_source(plan, table, options, batches)
    destination = warehouse.destination(staging_dataset_name_layout=f"%s_staging_{table}",
                                        replace_strategy="insert-from-staging")
    logger = logging.getLogger("bench.metrics_rebuild")
    with tempfile.TemporaryDirectory(prefix="bench-metrics-dlt-") as workdir:
        pipeline = dlt.pipeline(pipeline_name=pipeline_name_for(dataset, table), destination=destination,
                                dataset_name=dataset, pipelines_dir=workdir)
        extract_and_load(pipeline, source, warehouse, dataset, lambda: None, logger)
        drop_staging_dataset(pipeline, warehouse, dataset, logger)
        return table_rows(pipeline, table)


def child_fill(args: argparse.Namespace) -> dict:
    """Sync the listed resources from the fake into every target; the per-alert ones by API or from records."""
    from airflow_provider_analytics.operators.analytics import AnalyticsSyncOperator
    from airflow_provider_analytics.testing.fake_api import FakeAnalyticsAPI

    os.environ["AIRFLOW_CONN_ANALYTICS_DEFAULT"] = json.dumps(
        {"conn_type": "analytics", "host": args.base_url, "password": KEY})
    targets = json.loads(args.targets)
    by_api = args.per_alert == "api"
    result: dict[str, Any] = {"syncs": {}, "loads": {}}
    for kind, target, dataset in targets:
        os.environ["AIRFLOW_CONN_BENCH_WAREHOUSE"] = conn_json(kind, target)
        for resource in LISTED + (PER_ALERT if by_api else ()):
            started = time.perf_counter()
            summary = AnalyticsSyncOperator(
                task_id=f"sync_{resource}", resource=resource, warehouse_conn_id="bench_warehouse",
                dataset_name=dataset, progress_interval=0,
            ).execute({})
            result["syncs"][f"{kind} {resource}"] = {"seconds": time.perf_counter() - started,
                                                     "rows": summary["table_rows"]}
    if by_api:
        return result
    started = time.perf_counter()
    api = FakeAnalyticsAPI(api_key=KEY, sizes=json.loads(args.sizes), seed=args.seed)  # not served: its records only
    records = {resource: api.records(resource) for resource in PER_ALERT}
    result["generate_seconds"] = time.perf_counter() - started
    for kind, target, dataset in targets:
        warehouse = warehouse_for(kind, target)
        for resource in PER_ALERT:
            started = time.perf_counter()
            rows = load_records(resource, records[resource], args.base_url, warehouse, dataset)
            result["loads"][f"{kind} {resource}"] = {"seconds": time.perf_counter() - started, "rows": rows}
    return result


def scan_sql(client: Any, dataset: str) -> list[str]:
    """Per source table, one statement reading each column the build reads, from the rows the build reads.

    The rows come through the build's own FROM items (`source_relation`: live rows only where the
    table marks deletions); `max` over each column is about the least work that still reads it.
    """
    from airflow_provider_analytics.metrics.build import source_columns
    from airflow_provider_analytics.metrics.sql import LIVE_ROWS_ONLY, SOURCE_COLUMNS, source_relation

    present = source_columns(client, dataset)
    statements = []
    with client.with_alternative_dataset_name(dataset):
        for table, expressions in SCANNED.items():
            relation = source_relation(client.make_qualified_table_name(table), present[table],
                                       SOURCE_COLUMNS[table], client.escape_column_name, table in LIVE_ROWS_ONLY)
            statements.append(f"select count(*), {', '.join(f'max({e})' for e in expressions)} from {relation} s")
    return statements


def child_rebuild(args: argparse.Namespace) -> dict:
    """The floor (one read of the sources), then `build_metrics`, each timed; rows of every table.

    A step that fails (DuckDB out of its memory limit) is a result too: which, its error and seconds.
    """
    from airflow_provider_analytics.metrics.build import build_metrics, count_rows, metrics_sql_client
    from airflow_provider_analytics.metrics.working_hours import WorkingHours
    from airflow_provider_analytics.pipeline.errors import root_cause

    warehouse = warehouse_for(args.warehouse, args.target, args.memory_limit)
    hours = WorkingHours.parse(args.time_zone)
    result: dict[str, Any] = {}
    step, started = "scan", time.perf_counter()
    try:
        with metrics_sql_client(warehouse, args.metrics_dataset) as client:
            for sql in scan_sql(client, args.dataset):
                client.execute_sql(sql)
            result["scan"] = time.perf_counter() - started
            with client.with_alternative_dataset_name(args.dataset):
                result["sources"] = {t: count_rows(client, client.make_qualified_table_name(t)) for t in SCANNED}
        step, started = "build", time.perf_counter()
        summary = build_metrics(warehouse, args.dataset, args.metrics_dataset, hours)
        result["build"] = time.perf_counter() - started
    except Exception as error:  # noqa: BLE001 - reported, not raised: the other contenders still run
        return {**result, "error": f"{step} failed after {time.perf_counter() - started:.2f} s: "
                                   f"{str(root_cause(error)).splitlines()[0]}"}
    return {**result, "rows": summary.rows, "warnings": list(summary.warnings)}


CHILDREN = {"fill": child_fill, "rebuild": child_rebuild}


def run_child(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", required=True, choices=CHILDREN)
    parser.add_argument("--base-url", default="")
    parser.add_argument("--targets", default="[]", help="JSON [[kind, target, dataset], ...]")
    parser.add_argument("--per-alert", default="records", choices=("records", "api"))
    parser.add_argument("--sizes", default="{}")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--warehouse", default="duckdb")
    parser.add_argument("--target", default="")
    parser.add_argument("--memory-limit", default="")
    parser.add_argument("--dataset", default="analytics")
    parser.add_argument("--metrics-dataset", default="analytics_metrics")
    parser.add_argument("--time-zone", default="Europe/Berlin")
    args = parser.parse_args(argv)
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bench-airflow-"))
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    os.environ.setdefault("PROVIDERS__ENABLE_AIRFLOW_SECRETS", "false")
    print("RESULT " + json.dumps(CHILDREN[args.child](args)), flush=True)


def child(name: str, timeout: float, **options: object) -> dict:
    argv = [sys.executable, str(Path(__file__).resolve()), "--child", name]
    for key, value in options.items():
        argv += [f"--{key.replace('_', '-')}", value if isinstance(value, str) else json.dumps(value)]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=REPO)
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    if result.returncode != 0 or not lines:
        raise SystemExit(f"{name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):])


# -- the parent: fake API, setup, the check, rounds, report ---------------------------------------


class FakeApiProcess:
    """The fake API in a process of its own, so the syncs do not share its interpreter."""

    def __init__(self, sizes: dict[str, int], seed: int) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        argv = [sys.executable, "-m", "airflow_provider_analytics.testing.fake_api", "--port", str(port),
                "--api-key", KEY, "--seed", str(seed), "--offset-cap", str(sizes["alerts"] + 1000)]
        for name, size in sizes.items():
            argv += [f"--{name}", str(size)]
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO)
        assert self.process.stdout is not None
        self.process.stdout.readline()  # the base URL: its data is generated and it is listening

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


def query(kind: str, target: str, sql: str) -> list[tuple]:
    from tests.helpers import duckdb_rows, postgres_rows

    return duckdb_rows(Path(target), sql) if kind == "duckdb" else postgres_rows(sql, PG["dbname"])


def drop_pg_schemas(prefix: str) -> None:
    import psycopg2

    con = psycopg2.connect(**PG)
    try:
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute("select nspname from pg_namespace where nspname like %s", (f"{prefix}%",))
            for (schema,) in cur.fetchall():
                cur.execute(f'drop schema "{schema}" cascade')
    finally:
        con.close()


def columns_of(kind: str, target: str, dataset: str, table: str) -> list[tuple]:
    return query(kind, target, "select column_name, data_type, is_nullable from information_schema.columns "
                               f"where table_schema = '{dataset}' and table_name = '{table}' order by ordinal_position")


def check_layout(kind: str, target: str, synced: str, loaded: str) -> list[str]:
    """Differences between the dataset the real syncs made and the one filled the bench's way (none: same tables)."""
    problems = []
    for table in LISTED + PER_ALERT:
        real, ours = columns_of(kind, target, synced, table), columns_of(kind, target, loaded, table)
        if not real or real != ours:
            problems.append(f"{kind} {table}: columns differ:\n  synced {real}\n  loaded {ours}")
            continue
        data = ", ".join(f'cast("{name}" as varchar)' for name, _, _ in real if not name.startswith("_dlt_"))
        differ = f'select {data} from "{synced}"."{table}" except select {data} from "{loaded}"."{table}"'
        (count,), = query(kind, target, f"select count(*) from ({differ}) x")
        (rows,), = query(kind, target, f'select count(*) from "{synced}"."{table}"')
        (ours_rows,), = query(kind, target, f'select count(*) from "{loaded}"."{table}"')
        if count or rows != ours_rows:
            problems.append(f"{kind} {table}: {count} synced row(s) not among the loaded ones; "
                            f"rows {rows} vs {ours_rows}")
    return problems


def layout_check(warehouses: list[str], alerts: int, seed: int, workdir: Path) -> str:
    """Fill two datasets, one by real syncs of all six resources, one the bench's way; fail unless they are the same."""
    sizes = {"alerts": alerts, "incidents": 50, "users": 40, "teams": 6}
    prefix = f"bench_layout_{uuid.uuid4().hex[:8]}"
    targets = {"duckdb": str(workdir / "layout.duckdb"), "postgres": ""}
    api = FakeApiProcess(sizes, seed)
    try:
        for per_alert, suffix in (("api", "synced"), ("records", "loaded")):
            child("fill", 900, base_url=api.base_url, per_alert=per_alert, sizes=sizes, seed=seed,
                  targets=[[kind, targets[kind], f"{prefix}_{suffix}"] for kind in warehouses])
        problems = [p for kind in warehouses
                    for p in check_layout(kind, targets[kind], f"{prefix}_synced", f"{prefix}_loaded")]
    finally:
        api.stop()
        if "postgres" in warehouses:
            drop_pg_schemas(prefix)
    if problems:
        raise SystemExit("The bench's fill does not make the tables the syncs make:\n" + "\n".join(problems))
    return (f"the same columns (name, type, nullability, order) and rows as real syncs of all six resources, "
            f"{alerts} alerts, on {' and '.join(warehouses)}")


def spread(values: list[float]) -> str:
    return f"{min(values):.2f}-{max(values):.2f}"


def parse_contenders(text: str) -> list[tuple[str, str]]:
    """`duckdb,duckdb:512MB,postgres` -> [(kind, DuckDB memory_limit or "")]; "" is the connection's default."""
    contenders = []
    for item in text.split(","):
        kind, _, limit = item.strip().partition(":")
        if kind not in ("duckdb", "postgres") or (limit and kind != "duckdb"):
            raise SystemExit(f"--warehouses: {item!r} is not duckdb, duckdb:<memory_limit> or postgres")
        contenders.append((kind, limit))
    return contenders


def label(kind: str, limit: str) -> str:
    return f"{kind}, memory_limit {limit}" if limit else kind


def main() -> int:
    if "--child" in sys.argv:
        run_child(sys.argv[1:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[1:]))
    parser.add_argument("--alerts", type=int, default=200_000, help="alerts (default 200,000)")
    parser.add_argument("--incidents", type=int, default=20_000, help="incidents (default 20,000)")
    parser.add_argument("--users", type=int, default=1_000, help="users (default 1,000)")
    parser.add_argument("--teams", type=int, default=50, help="teams (default 50)")
    parser.add_argument("--rounds", type=int, default=3, help="rebuilds per contender (default 3)")
    parser.add_argument("--warehouses", default="duckdb,duckdb:512MB,postgres",
                        help="contenders, comma-separated: duckdb (the connection's defaults), duckdb:<memory_limit> "
                             "(the connection extra memory_limit, on the same file), postgres "
                             "(default duckdb,duckdb:512MB,postgres)")
    parser.add_argument("--time-zone", default="Europe/Berlin", help="the working hours' zone (default Europe/Berlin)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--check-alerts", type=int, default=300,
                        help="alerts for the check that the bench's fill makes the syncs' tables (0: skip it)")
    args = parser.parse_args()
    contenders = parse_contenders(args.warehouses)
    kinds = sorted({kind for kind, _ in contenders})
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    prefix = f"bench_metrics_{uuid.uuid4().hex[:8]}"
    sizes = {"alerts": args.alerts, "incidents": args.incidents, "users": args.users, "teams": args.teams}

    with tempfile.TemporaryDirectory(prefix="bench-metrics-") as tmp:
        workdir = Path(tmp)
        try:
            if args.check_alerts:
                started = time.perf_counter()
                checked = layout_check(kinds, args.check_alerts, args.seed, workdir)
                print(f"check ({time.perf_counter() - started:.0f} s): the bench's fill makes {checked}", flush=True)
            targets = {"duckdb": (str(workdir / "warehouse.duckdb"), "analytics", "analytics_metrics"),
                       "postgres": ("", prefix, f"{prefix}_metrics")}
            started = time.perf_counter()
            api = FakeApiProcess(sizes, args.seed)
            fake_seconds = time.perf_counter() - started
            try:
                fill = child("fill", 7200, base_url=api.base_url, sizes=sizes, seed=args.seed,
                             targets=[[kind, targets[kind][0], targets[kind][1]] for kind in kinds])
            finally:
                api.stop()
            setup = time.perf_counter() - started
            print(f"setup {setup:.0f} s: fake API up {fake_seconds:.0f} s, per-alert records drawn "
                  f"{fill['generate_seconds']:.0f} s", flush=True)
            for name, step in {**fill["syncs"], **fill["loads"]}.items():
                how = "sync" if name in fill["syncs"] else "load"
                print(f"  {how} {name}: {step['rows']:,} rows, {step['seconds']:.1f} s", flush=True)

            runs: dict[tuple[str, str], list[dict]] = {contender: [] for contender in contenders}
            for round_no in range(args.rounds):
                shift = round_no % len(contenders)
                for kind, limit in contenders[shift:] + contenders[:shift]:
                    target, dataset, metrics = targets[kind]
                    run = child("rebuild", 3600, warehouse=kind, target=target, dataset=dataset,
                                metrics_dataset=metrics, time_zone=args.time_zone, memory_limit=limit)
                    runs[(kind, limit)].append(run)
                    outcome = (run["error"] if "error" in run else
                               f"rebuild {run['build']:7.2f} s   scan {run['scan']:6.2f} s   "
                               f"{run['build'] / run['scan']:5.1f}x")
                    print(f"round {round_no + 1}: {label(kind, limit):<26} {outcome}", flush=True)
        finally:
            if "postgres" in kinds:
                drop_pg_schemas(prefix)
    report(args, runs, fill)
    return 0


def report(args: argparse.Namespace, runs: dict[tuple[str, str], list[dict]], fill: dict) -> None:
    print(f"\nFull rebuild of the metric tables, {args.alerts:,} alerts, working hours in {args.time_zone}, "
          f"{args.rounds} round(s), a fresh process each")
    print(f"{'contender':<28}{'rebuild s':>10}{'spread':>13}{'scan s':>8}{'spread':>13}{'rebuild/scan':>14}"
          f"{'first alerts sync s':>21}")
    for (kind, limit), results in runs.items():
        sync = fill["syncs"][f"{kind} alerts"]["seconds"]
        failed = [r for r in results if "error" in r]
        if failed:
            print(f"{label(kind, limit):<28}failed {len(failed)} of {len(results)}: {failed[0]['error']}")
            continue
        builds, scans = [r["build"] for r in results], [r["scan"] for r in results]
        ratios = [r["build"] / r["scan"] for r in results]
        print(f"{label(kind, limit):<28}{statistics.median(builds):>10.2f}{spread(builds):>13}"
              f"{statistics.median(scans):>8.2f}{spread(scans):>13}{statistics.median(ratios):>13.1f}x{sync:>21.1f}")
    for (kind, limit), results in runs.items():
        last = results[-1]
        if "sources" in last:
            print(f"{label(kind, limit)}: sources {', '.join(f'{t} {n:,}' for t, n in last['sources'].items())}")
        if "rows" in last:
            print(f"{label(kind, limit)}: metric rows {', '.join(f'{t} {n:,}' for t, n in last['rows'].items())}")
        for warning in last.get("warnings", ()):
            print(f"{label(kind, limit)}: build warning: {warning}")


if __name__ == "__main__":
    raise SystemExit(main())
