"""Sync throughput, memory and DAG parse cost: the operator next to plain dlt and a raw HTTP loop.

    python bench/sync_throughput.py                       # 50,000 alerts, 3 rounds (about 15 min)
    python bench/sync_throughput.py --alerts 20000 --rounds 1 --big 0   # a quick look

Each measurement runs in a fresh process (so its peak RSS is its own) against the fake API, which
runs in a process of its own on loopback, with the offset cap lifted so that plain dlt's
`paging.next` walk can read everything. Runs alternate between contenders; medians are reported.

Measured:
- throughput: the operator into DuckDB and into PostgreSQL; plain dlt `rest_api_source` with its
  defaults (json_link paginator on `paging.next`, limit 100) into the same destinations; a raw
  loop of HTTP requests plus JSON decoding over the same pages (the ceiling for this machine);
- peak memory of the operator at `--alerts` and at `--big` alerts;
- under latency (every request delayed `--latency` s): the operator reading keyset slices side by
  side against a raw walk of `paging.next`, one page after another;
- the import time of each DAG file in a fresh interpreter that has already imported Airflow;
- with `--against PATH`: the operator of another checkout (a release, the tree before a change)
  in the same rounds, alternating with this one, and the ratio of the two.

    git worktree add /tmp/before <rev>
    python bench/sync_throughput.py --alerts 20000 --rounds 5 --big 0 --latency 0 --against /tmp/before

(`--updated-at-search accepted` for a checkout from before the fake followed the spec: those sync
alerts by `updatedAt` search, which the fake refuses by default.)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
KEY = "bench-key"
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres"}


# -- the contenders, each run in a child process ------------------------------------------------


def child_raw(base_url: str, **_: object) -> int:
    """GET every page by following paging.next, decode the JSON, count the records."""
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"GenieKey {KEY}"
    url, rows = f"{base_url}/v2/alerts?limit=100", 0
    while url:
        body = session.get(url, timeout=60).json()
        rows += len(body["data"])
        url = (body.get("paging") or {}).get("next")
    return rows


def child_operator(base_url: str, warehouse: str, target: str, concurrency: int, **_: object) -> int:
    from airflow_provider_analytics.operators.analytics import AnalyticsSyncOperator

    os.environ["AIRFLOW_CONN_ANALYTICS_DEFAULT"] = json.dumps({"conn_type": "analytics", "host": base_url, "password": KEY})
    os.environ["AIRFLOW_CONN_BENCH_WAREHOUSE"] = _warehouse_conn(warehouse, target)
    summary = AnalyticsSyncOperator(
        task_id="bench", resource="alerts", warehouse_conn_id="bench_warehouse", dataset_name=_dataset(warehouse, target),
        progress_interval=0, max_concurrent_requests=concurrency,
    ).execute({})
    return summary["table_rows"]


def child_plain_dlt(base_url: str, warehouse: str, target: str, **_: object) -> int:
    import dlt
    from dlt.sources.rest_api import rest_api_source

    source = rest_api_source({
        "client": {"base_url": base_url, "headers": {"Authorization": f"GenieKey {KEY}"}},
        "resource_defaults": {"primary_key": "id", "write_disposition": "merge"},
        "resources": [{"name": "alerts", "endpoint": {
            "path": "/v2/alerts", "params": {"limit": 100}, "data_selector": "data",
            "paginator": {"type": "json_link", "next_url_path": "paging.next"},
        }}],
    })
    if warehouse == "duckdb":
        destination = dlt.destinations.duckdb(target)
    else:
        from airflow_provider_analytics.warehouses.postgres_credentials import OptionalPasswordPostgresCredentials

        credentials = OptionalPasswordPostgresCredentials()  # trust auth here: dlt's own class wants a password
        credentials.host, credentials.port, credentials.username, credentials.database = (
            PG["host"], PG["port"], PG["user"], PG["dbname"])
        credentials.resolve()
        destination = dlt.destinations.postgres(credentials)
    pipeline = dlt.pipeline("bench_plain", destination=destination, dataset_name=_dataset(warehouse, target),
                            pipelines_dir=tempfile.mkdtemp(prefix="bench-plain-"))
    pipeline.run(source)
    with pipeline.sql_client() as client:
        return int(client.execute_sql(f"select count(*) from {client.make_qualified_table_name('alerts')}")[0][0])


CHILDREN = {"raw": child_raw, "operator": child_operator, "plain": child_plain_dlt}


def _import_first(child: str) -> None:
    import requests  # noqa: F401

    if child == "operator":
        import importlib

        import airflow_provider_analytics.operators.analytics  # noqa: F401
        import orjson  # noqa: F401
        import pyarrow  # noqa: F401

        try:  # the sync module, wherever the checkout under test keeps it
            importlib.import_module("airflow_provider_analytics.pipeline.sync")
        except ModuleNotFoundError:
            importlib.import_module("airflow_provider_analytics.sync")
    if child in ("operator", "plain"):
        import dlt  # noqa: F401
        import duckdb  # noqa: F401
        from dlt.sources.rest_api import rest_api_source  # noqa: F401


def _warehouse_conn(warehouse: str, target: str) -> str:
    if warehouse == "duckdb":
        return json.dumps({"conn_type": "duckdb", "host": target})
    return json.dumps({"conn_type": "postgres", "host": PG["host"], "port": PG["port"], "login": PG["user"],
                       "schema": PG["dbname"]})


def _dataset(warehouse: str, target: str) -> str:
    return "analytics" if warehouse == "duckdb" else target


def run_child(argv: list[str]) -> None:
    """`--child NAME --base-url URL [--warehouse W --target T --concurrency N]`: print seconds, rows, peak RSS."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--warehouse", default="duckdb")
    parser.add_argument("--target", default="")
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args(argv)
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bench-airflow-"))
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    os.environ.setdefault("PROVIDERS__ENABLE_AIRFLOW_SECRETS", "false")
    _import_first(args.child)  # time the sync, not the interpreter loading Airflow and dlt
    started = time.perf_counter()
    rows = CHILDREN[args.child](args.base_url, warehouse=args.warehouse, target=args.target,
                                concurrency=args.concurrency)
    seconds = time.perf_counter() - started
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps({"seconds": seconds, "rows": rows, "rss_mb": rss_mb}), flush=True)


# -- the parent: fake API, rounds, report -----------------------------------------------------------


class FakeApiProcess:
    """The fake API in a process of its own, so the contenders do not share its interpreter."""

    def __init__(self, alerts: int, latency: float = 0.0, updated_at_search: str = "rejected") -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "airflow_provider_analytics.testing.fake_api", "--port", str(self.port),
             "--api-key", KEY, "--alerts", str(alerts), "--offset-cap", str(alerts + 1000),
             "--latency", str(latency), "--updated-at-search", updated_at_search],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self.process.stdout.readline()  # the base URL: it is listening
        self._warm_up()

    def _warm_up(self) -> None:
        """The fake builds its records on the first request: keep that out of the first measurement."""
        import urllib.request

        request = urllib.request.Request(f"{self.base_url}/v2/alerts?limit=1", headers={"api_key": KEY})
        deadline = time.monotonic() + 600
        while True:
            try:
                urllib.request.urlopen(request, timeout=600).read()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


def measure(name: str, base_url: str, checkout: str | None = None, **options: object) -> dict:
    """Run one contender in a fresh process; `checkout` puts another tree's package first on its path."""
    argv = [sys.executable, str(Path(__file__).resolve()), "--child", name, "--base-url", base_url]
    for key, value in options.items():
        argv += [f"--{key}", str(value)]
    env = {**os.environ, "PYTHONPATH": checkout} if checkout else None
    result = subprocess.run(argv, capture_output=True, text=True, timeout=3600, cwd=REPO, env=env)
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT ")]
    if result.returncode != 0 or not lines:
        raise SystemExit(f"{name} {options} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def drop_pg_schemas(prefix: str) -> None:
    import psycopg2

    with psycopg2.connect(**PG) as con:
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute("select nspname from pg_namespace where nspname like %s", (f"{prefix}%",))
            for (schema,) in cur.fetchall():
                cur.execute(f'drop schema "{schema}" cascade')


def contender_run(name: str, base_url: str, warehouse: str | None, alerts: int, concurrency: int,
                  checkout: str | None = None) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        target = str(Path(tmp) / "bench.duckdb") if warehouse == "duckdb" else f"bench_{uuid.uuid4().hex[:8]}"
        try:
            options = {"warehouse": warehouse, "target": target, "concurrency": concurrency} if warehouse else {}
            result = measure(name, base_url, checkout, **options)
        finally:
            if warehouse == "postgres":
                drop_pg_schemas(target)
    if result["rows"] != alerts:
        raise SystemExit(f"{name} into {warehouse} loaded {result['rows']} rows, expected {alerts}")
    return result


def throughput(alerts: int, rounds: int, concurrency: int, warehouses: list[str],
               against: str | None = None, updated_at_search: str = "rejected") -> dict[str, dict]:
    contenders: list[tuple[str, str, str | None, str | None]] = [("raw loop", "raw", None, None)]
    for warehouse in warehouses:
        contenders += [(f"operator -> {warehouse}", "operator", warehouse, None),
                       (f"plain dlt -> {warehouse}", "plain", warehouse, None)]
        if against:
            contenders.append((f"other operator -> {warehouse}", "operator", warehouse, against))
    runs: dict[str, list[dict]] = {label: [] for label, _, _, _ in contenders}
    api = FakeApiProcess(alerts, updated_at_search=updated_at_search)
    try:
        for round_no in range(1, rounds + 1):
            for label, name, warehouse, checkout in contenders:
                result = contender_run(name, api.base_url, warehouse, alerts, concurrency, checkout)
                runs[label].append(result)
                print(f"round {round_no}: {label:<24}{result['seconds']:8.2f} s {alerts / result['seconds']:9.0f} rec/s "
                      f"{result['rss_mb']:7.0f} MB", flush=True)
    finally:
        api.stop()
    return {label: {"seconds": statistics.median(r["seconds"] for r in results),
                    "rss_mb": max(r["rss_mb"] for r in results),
                    "each": [r["seconds"] for r in results]} for label, results in runs.items()}


def memory(alerts: int, big: int, concurrency: int) -> dict[int, float]:
    peaks = {}
    for size in (alerts, big):
        api = FakeApiProcess(size)
        try:
            peaks[size] = contender_run("operator", api.base_url, "duckdb", size, concurrency)["rss_mb"]
        finally:
            api.stop()
        print(f"memory: operator -> duckdb, {size:,} alerts: peak RSS {peaks[size]:.0f} MB", flush=True)
    return peaks


def latency(alerts: int, delay: float, concurrency: int) -> dict[str, float]:
    api = FakeApiProcess(alerts, latency=delay)
    try:
        walk = contender_run("raw", api.base_url, None, alerts, 1)["seconds"]
        print(f"latency {delay * 1000:.0f} ms: paging.next walk, one page after another: {walk:.1f} s", flush=True)
        slices = contender_run("operator", api.base_url, "duckdb", alerts, concurrency)["seconds"]
        print(f"latency {delay * 1000:.0f} ms: operator, {concurrency} slices side by side: {slices:.1f} s", flush=True)
    finally:
        api.stop()
    return {"walk": walk, "slices": slices}


def dag_import_times() -> dict[str, float]:
    """Seconds to import each DAG file, as the dag-processor pays it (Airflow already imported)."""
    code = (
        "import sys, time, runpy, airflow, airflow.sdk\n"
        "started = time.perf_counter(); runpy.run_path(sys.argv[1]); print(time.perf_counter() - started)\n"
    )
    times = {}
    for path in sorted((REPO / "dags").glob("*.py")):
        runs = [float(subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                                     timeout=300, check=True, cwd=REPO).stdout.split()[-1]) for _ in range(3)]
        times[path.name] = statistics.median(runs)
    return times


def main() -> None:
    if "--child" in sys.argv:
        run_child(sys.argv[1:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=50_000, help="alerts for throughput (default 50,000)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--big", type=int, default=200_000, help="alerts for the memory comparison (0: skip)")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds added to every request (0: skip)")
    parser.add_argument("--latency-alerts", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=8, help="the operator's max_concurrent_requests")
    parser.add_argument("--warehouses", default="duckdb,postgres")
    parser.add_argument("--against", metavar="PATH", help="another checkout whose operator runs in the same rounds")
    parser.add_argument("--updated-at-search", default="rejected", choices=("accepted", "rejected", "ignored"),
                        help="what the fake's search does with updatedAt (accepted: what checkouts from before "
                             "the spec-faithful fake need)")
    args = parser.parse_args()
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

    against = str(Path(args.against).resolve()) if args.against else None
    medians = throughput(args.alerts, args.rounds, args.concurrency, args.warehouses.split(","), against,
                         args.updated_at_search)
    peaks = memory(args.alerts, args.big, args.concurrency) if args.big else {}
    under_latency = latency(args.latency_alerts, args.latency, args.concurrency) if args.latency else {}
    imports = dag_import_times()

    print(f"\n{args.alerts:,} alerts, median of {args.rounds} alternating rounds, "
          f"operator max_concurrent_requests={args.concurrency}")
    print(f"{'contender':<26}{'seconds':>9}{'records/s':>11}{'peak RSS':>10}")
    for label, result in medians.items():
        print(f"{label:<26}{result['seconds']:>9.2f}{args.alerts / result['seconds']:>11,.0f}{result['rss_mb']:>8.0f} MB")
    raw = medians["raw loop"]["seconds"]
    for warehouse in args.warehouses.split(","):
        operator, plain = medians[f"operator -> {warehouse}"]["seconds"], medians[f"plain dlt -> {warehouse}"]["seconds"]
        print(f"{warehouse}: operator / plain dlt {plain / operator:.1f}x; operator / raw loop {raw / operator:.0%}")
        if against:
            ours, theirs = medians[f"operator -> {warehouse}"]["each"], medians[f"other operator -> {warehouse}"]["each"]
            ratios = sorted(b / a for a, b in zip(ours, theirs))
            print(f"{warehouse}: seconds at {against} / seconds here, round by round: "
                  f"median {statistics.median(ratios):.2f} (min {ratios[0]:.2f}, max {ratios[-1]:.2f})")
    if peaks:
        small, big = peaks[args.alerts], peaks[args.big]
        print(f"peak RSS, operator -> duckdb: {small:.0f} MB at {args.alerts:,} alerts, {big:.0f} MB at "
              f"{args.big:,} ({big / small - 1:+.0%})")
    if under_latency:
        print(f"{args.latency_alerts:,} alerts, {args.latency * 1000:.0f} ms per request: paging.next walk "
              f"{under_latency['walk']:.1f} s, operator {under_latency['slices']:.1f} s "
              f"({under_latency['walk'] / under_latency['slices']:.1f}x faster)")
    for name, seconds in imports.items():
        print(f"import dags/{name}: {seconds * 1000:.0f} ms")


if __name__ == "__main__":
    main()
