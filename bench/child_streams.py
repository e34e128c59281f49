"""A first `alert_logs` sync (one request or more per alert) under a request budget, against its floor.

    python bench/child_streams.py                           # 10,000 alerts, 10 requests/s, 100 ms away
    python bench/child_streams.py --alerts 2000 --budget 20

The fake API runs in a process of its own with a token-bucket budget and `--latency` added to
every request; the sync runs in a fresh process on `auto` (the pacer learns the budget from the
API's throttling), with the default concurrency and checkpoints. Reported: seconds of the sync;
seconds requesting (first request to last answer); requests made (the alert listing's pages,
one per alert for its logs, retries included); the floor (requests / budget) and requesting /
floor; the share throttled; checkpoints (loads) made.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from request_budget import budget_bench_args, run_behind_budget

REPO = Path(__file__).resolve().parents[1]


def child(base_url: str, warehouse: str) -> None:
    """The sync in this process; prints its summary as JSON."""
    sys.path.insert(0, str(REPO))
    from airflow_provider_analytics.pipeline.options import SyncOptions
    from airflow_provider_analytics.pipeline.sync import run_sync
    from airflow_provider_analytics.source.settings import ApiSettings
    from airflow_provider_analytics.warehouses.duckdb import duckdb_warehouse
    from request_budget import KEY

    started = time.time()
    summary = run_sync("alert_logs", ApiSettings(base_url, KEY), duckdb_warehouse(warehouse),
                       SyncOptions(progress_interval=0)).as_dict()
    summary["started"], summary["ended"] = started, time.time()
    print(json.dumps(summary))


def main() -> int:
    args = budget_bench_args(__doc__, alerts=10_000, budget=10.0, latency=0.1)
    if args.child:
        child(*args.child)
        return 0
    stdout = run_behind_budget(__file__, args)
    s = json.loads(stdout.strip().splitlines()[-1])
    floor = s["requests"] / args.budget
    print(f"alert_logs first sync: {args.alerts} alerts, budget {args.budget:g}/s, latency {args.latency * 1000:.0f} ms")
    print(f"  rows {s['table_rows']}, parents {s['parents']}, loads {len(s['load_ids'])}")
    print(f"  seconds {s['ended'] - s['started']:.1f}, requesting {s['request_seconds']:.1f} s, requests {s['requests']}")
    print(f"  floor {floor:.1f} s (requests / budget); requesting / floor = {s['request_seconds'] / floor:.2f}x")
    print(f"  throttled {s['throttled']} ({100.0 * s['throttled'] / max(s['requests'], 1):.1f}%), "
          f"waited for budget {s['budget_wait_seconds']:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
