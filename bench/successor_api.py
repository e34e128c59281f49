"""The same sync from both APIs of one fake, side by side: what the successor API's wire translation costs.

    python bench/successor_api.py                     # 20,000 alerts, 3 rounds
    python bench/successor_api.py --alerts 5000 --rounds 5

The fake API (both sides, the same data) runs in a process of its own, with no budget and no
latency, so what is measured is this machine's work; each sync is a full read of every alert into
a fresh DuckDB file, in a fresh process, the two APIs alternating. Reported: each sync's median
seconds and records per second, and the ratio successor / OpsGenie, taken round by round.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from request_budget import KEY, FakeApi

REPO = Path(__file__).resolve().parents[1]
EMAIL = "ops@example.com"
CLOUD_ID = "5a7c2f0e-8f3b-4d2a-9c61-0b1e2d3f4a5b"  # the fake's default


def child(base_url: str, flavour: str, warehouse: str) -> None:
    """One full alerts sync in this process; prints its seconds and rows as JSON."""
    sys.path.insert(0, str(REPO))
    from airflow_provider_analytics.pipeline.options import SyncOptions
    from airflow_provider_analytics.pipeline.sync import run_sync
    from airflow_provider_analytics.source.flavour import api_base_url
    from airflow_provider_analytics.source.settings import ApiSettings
    from airflow_provider_analytics.warehouses.duckdb import duckdb_warehouse

    api = ApiSettings(api_base_url(base_url, flavour, CLOUD_ID), KEY, flavour=flavour, login=EMAIL)
    started = time.time()
    summary = run_sync("alerts", api, duckdb_warehouse(warehouse), SyncOptions(progress_interval=0))
    print(json.dumps({"seconds": time.time() - started, "rows": summary.table_rows}))


def one(base_url: str, flavour: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="successor-bench-") as tmp:
        done = subprocess.run([sys.executable, __file__, "--child", base_url, flavour, str(Path(tmp) / "w.duckdb")],
                              capture_output=True, text=True, timeout=3600)
    if done.returncode:
        raise SystemExit(f"the {flavour} sync failed:\n" + done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alerts", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0
    api = FakeApi({"alerts": args.alerts}, None, 0.0)
    runs: dict[str, list[dict]] = {"opsgenie": [], "jsm": []}
    try:
        for _ in range(args.rounds):
            for flavour in runs:
                runs[flavour].append(one(api.base_url, flavour))
    finally:
        api.stop()
    print(f"full alerts sync, {args.alerts} alerts, {args.rounds} rounds, medians")
    for flavour, results in runs.items():
        assert all(r["rows"] == args.alerts for r in results), (flavour, results)
        seconds = statistics.median(r["seconds"] for r in results)
        print(f"  {flavour:<9} {seconds:7.2f} s  {args.alerts / seconds:9,.0f} records/s")
    ratios = [j["seconds"] / o["seconds"] for o, j in zip(runs["opsgenie"], runs["jsm"])]
    print(f"  successor / OpsGenie: {statistics.median(ratios):.2f}x (rounds: {', '.join(f'{r:.2f}' for r in ratios)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
