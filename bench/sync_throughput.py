"""Records/s of an alerts sync: the provider's operator next to a plain dlt rest_api_source pipeline.

Both read the same fake API data on loopback and write to DuckDB in the same run; runs alternate
and the median is reported. Usage: python bench/sync_throughput.py [--alerts 30000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
os.environ.setdefault("PROVIDERS__ENABLE_AIRFLOW_SECRETS", "false")
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bench-airflow-"))

import duckdb  # noqa: E402

from airflow_provider_analytics.testing.fake_api import FakeAnalyticsAPI  # noqa: E402

KEY = "bench-key"


def operator_run(api: FakeAnalyticsAPI, workdir: Path) -> tuple[float, int]:
    from airflow_provider_analytics.operators.analytics import AnalyticsSyncOperator

    db = workdir / "operator.duckdb"
    os.environ["AIRFLOW_CONN_ANALYTICS_DEFAULT"] = json.dumps({"conn_type": "analytics", "host": api.base_url, "password": KEY})
    os.environ["AIRFLOW_CONN_BENCH_DUCKDB"] = json.dumps({"conn_type": "duckdb", "host": str(db)})
    started = time.perf_counter()
    AnalyticsSyncOperator(task_id="bench", resource="alerts", warehouse_conn_id="bench_duckdb", progress_interval=0).execute({})
    seconds = time.perf_counter() - started
    return seconds, count(db, "analytics")


def plain_dlt_run(api: FakeAnalyticsAPI, workdir: Path) -> tuple[float, int]:
    import dlt
    from dlt.sources.rest_api import rest_api_source

    db = workdir / "plain.duckdb"
    source = rest_api_source({
        "client": {"base_url": api.base_url, "headers": {"Authorization": f"GenieKey {KEY}"}},
        "resource_defaults": {"primary_key": "id", "write_disposition": "merge"},
        "resources": [{
            "name": "alerts",
            "endpoint": {
                "path": "/v2/alerts",
                "params": {"limit": 100},
                "data_selector": "data",
                "paginator": {"type": "json_link", "next_url_path": "paging.next"},
            },
        }],
    })
    pipeline = dlt.pipeline("bench_plain", destination=dlt.destinations.duckdb(str(db)), dataset_name="analytics",
                            pipelines_dir=str(workdir / "plain-pipelines"))
    started = time.perf_counter()
    pipeline.run(source)
    seconds = time.perf_counter() - started
    return seconds, count(db, "analytics")


def count(db: Path, dataset: str) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(f"select count(*) from {dataset}.alerts").fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=30000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, list[float]] = {"operator": [], "plain dlt": []}
    # The cap is lifted here: this measures throughput; paging past 20,000 is tested elsewhere.
    with FakeAnalyticsAPI(api_key=KEY, sizes={"alerts": args.alerts}, offset_cap=args.alerts + 100) as api:
        for round_no in range(args.rounds):
            for name, run in (("operator", operator_run), ("plain dlt", plain_dlt_run)):
                with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
                    seconds, rows = run(api, Path(tmp))
                assert rows == args.alerts, f"{name} loaded {rows} rows, expected {args.alerts}"
                results[name].append(seconds)
                print(f"round {round_no + 1}: {name:<10} {seconds:7.2f} s  {args.alerts / seconds:9.0f} records/s", flush=True)
    print(f"\n{args.alerts} alerts into DuckDB, median of {args.rounds} alternating rounds")
    print(f"{'pipeline':<12}{'seconds':>10}{'records/s':>12}")
    medians = {name: statistics.median(times) for name, times in results.items()}
    for name, seconds in medians.items():
        print(f"{name:<12}{seconds:>10.2f}{args.alerts / seconds:>12.0f}")
    print(f"operator / plain dlt: {medians['plain dlt'] / medians['operator']:.2f}x")


if __name__ == "__main__":
    main()
