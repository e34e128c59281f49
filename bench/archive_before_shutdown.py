"""The one-off archive before the OpsGenie API shuts down: a full refresh of all fourteen resources
(the records read per parent included) under a request budget, and how long it takes.

    python bench/archive_before_shutdown.py                      # 2,000 alerts, 20 requests/s, 50 ms away
    python bench/archive_before_shutdown.py --alerts 500 --budget 10

The fake API runs in a process of its own with a token-bucket budget and `--latency` added to
every request; the fourteen syncs run one after another in a fresh process (one pacer, on
`auto`), each with `full_refresh=True`, into one DuckDB file. Reported per resource and in all:
requests, seconds, rows; the floor (requests / budget) and seconds / floor; and the requests per
alert, from which the time for another account follows (docs/migration-to-jsm.md).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from request_budget import budget_bench_args, run_behind_budget

REPO = Path(__file__).resolve().parents[1]


def child(base_url: str, warehouse: str) -> None:
    """The fourteen full refreshes in this process; prints one JSON line per resource."""
    sys.path.insert(0, str(REPO))
    from airflow_provider_analytics.pipeline.options import SyncOptions
    from airflow_provider_analytics.pipeline.sync import run_sync
    from airflow_provider_analytics.source.catalog import RESOURCE_NAMES
    from airflow_provider_analytics.source.settings import ApiSettings
    from airflow_provider_analytics.warehouses.duckdb import duckdb_warehouse
    from request_budget import KEY

    api, target = ApiSettings(base_url, KEY), duckdb_warehouse(warehouse)
    for resource in RESOURCE_NAMES:
        started = time.time()
        summary = run_sync(resource, api, target, SyncOptions(full_refresh=True, progress_interval=0)).as_dict()
        print(json.dumps({"resource": resource, "seconds": time.time() - started, "requests": summary["requests"],
                          "rows": summary["table_rows"], "throttled": summary["throttled"]}), flush=True)


def main() -> int:
    args = budget_bench_args(__doc__, alerts=2_000, budget=20.0, latency=0.05)
    if args.child:
        child(*args.child)
        return 0
    stdout = run_behind_budget(__file__, args)
    results = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    print(f"archive: full refresh of {len(results)} resources, {args.alerts} alerts, budget {args.budget:g}/s, "
          f"latency {args.latency * 1000:.0f} ms")
    print(f"  {'resource':<18}{'requests':>10}{'seconds':>10}{'rows':>10}")
    for r in results:
        print(f"  {r['resource']:<18}{r['requests']:>10}{r['seconds']:>10.1f}{r['rows']:>10}")
    requests = sum(r["requests"] for r in results)
    seconds = sum(r["seconds"] for r in results)
    floor = requests / args.budget
    throttled = sum(r["throttled"] for r in results)
    print(f"  total: {requests} requests in {seconds:.1f} s; floor {floor:.1f} s (requests / budget); "
          f"seconds / floor = {seconds / floor:.2f}x; throttled {100.0 * throttled / max(requests, 1):.1f}%")
    print(f"  requests per alert: {requests / args.alerts:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
