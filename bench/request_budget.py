"""Syncs behind an account's request budget: seconds against the budget's floor, and the share throttled.

    python bench/request_budget.py                          # 20,000 alerts, 100 ms away, budgets 5, 20, 50
    python bench/request_budget.py --budgets 20 --alerts 5000

The fake API runs in a process of its own with a token-bucket budget (`--budget`, a burst of one
second's worth) and `--latency` added to every request; each sync runs in a fresh process, so
its pacer starts from nothing, as a task does. For each budget:
- one alerts sync with `max_requests_per_second` on `auto` (the default: learnt from throttling)
  and one with it set to the budget (a known plan limit);
- three syncs at once (alerts, incidents, users), as a daily DAG's parallel tasks, on `auto`.
Reported: seconds of the syncs; seconds requesting (from the first sync's start to the last
answer: the part the budget bounds, without the load into the warehouse after it); requests made;
the floor (requests made / budget) and requesting / floor; the share of requests throttled; and
seconds / the same syncs with no budget at all (what this machine and the latency allow: where
that is above the floor, the budget is not what bounds the sync).
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
KEY = "budget-bench-key"


def child(base_url: str, resource: str, rate: str, concurrency: int, warehouse: str) -> None:
    """One sync in this process; prints its summary as JSON."""
    sys.path.insert(0, str(REPO))
    from airflow_provider_analytics.pipeline.options import SyncOptions
    from airflow_provider_analytics.pipeline.sync import run_sync
    from airflow_provider_analytics.source.settings import ApiSettings
    from airflow_provider_analytics.warehouses.duckdb import duckdb_warehouse

    api = ApiSettings(base_url, KEY, max_requests_per_second=None if rate == "auto" else float(rate))
    started = time.time()
    summary = run_sync(resource, api, duckdb_warehouse(warehouse),
                       SyncOptions(progress_interval=0, max_concurrent_requests=concurrency))
    result = summary.as_dict()
    result["started"], result["ended"] = started, time.time()  # the sync itself, not the interpreter's start
    print(json.dumps({k: result[k] for k in ("resource", "table_rows", "requests", "throttled",
                                             "budget_wait_seconds", "request_seconds", "started", "ended")}))


class FakeApi:
    """The fake API with a budget, in a process of its own."""

    def __init__(self, sizes: dict[str, int], budget: float | None, latency: float) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "airflow_provider_analytics.testing.fake_api", "--port", str(port),
                   "--api-key", KEY, "--latency", str(latency), "--offset-cap", "1000000"]
        for name, size in sizes.items():
            command += [f"--{name}", str(size)]
        if budget:
            command += ["--budget", str(budget)]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.process.stdout.readline()
        time.sleep(max(1.0, 2.0 / budget) if budget else 0.2)  # let the bucket fill, as a quiet account's is

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)



def budget_bench_args(description: str, alerts: int, budget: float, latency: float) -> argparse.Namespace:
    """The command line of a one-sync budget bench: --alerts, --budget, --latency (and the child's own)."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alerts", type=int, default=alerts)
    parser.add_argument("--budget", type=float, default=budget, help="the account's requests per second")
    parser.add_argument("--latency", type=float, default=latency, help="seconds added to every request")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    return parser.parse_args()


def run_behind_budget(script: str, args: argparse.Namespace) -> str:
    """`script --child <base URL> <warehouse>` in a fresh process, against a fake API behind the budget;
    its output (SystemExit with its errors when it fails)."""
    api = FakeApi({"alerts": args.alerts}, args.budget, args.latency)
    try:
        with tempfile.TemporaryDirectory(prefix="budget-bench-") as tmp:
            done = subprocess.run([sys.executable, script, "--child", api.base_url, str(Path(tmp) / "w.duckdb")],
                                  capture_output=True, text=True, timeout=6 * 3600)
    finally:
        api.stop()
    if done.returncode:
        raise SystemExit(f"{Path(script).name} failed:\n" + done.stderr[-3000:])
    return done.stdout


def syncs(base_url: str, resources: list[str], rate: str, concurrency: int) -> tuple[float, float, list[dict]]:
    """The resources synced at once, each in its own process: wall seconds of the syncs, seconds of
    their requests (from the first sync's start to the last answer) and their summaries."""
    with tempfile.TemporaryDirectory(prefix="budget-bench-") as tmp:
        running = [subprocess.Popen([sys.executable, __file__, "--child", base_url, resource, rate, str(concurrency),
                                     str(Path(tmp) / f"{resource}.duckdb")],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                   for resource in resources]
        outputs = [process.communicate(timeout=1800) for process in running]
    if any(process.returncode for process in running):
        raise SystemExit("a sync failed:\n" + "\n".join(err[-3000:] for _, err in outputs))
    summaries = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    # from the first sync's start to the last one's end, leaving out the interpreters' start-up
    first = min(s["started"] for s in summaries)
    requesting = max(s["started"] + s["request_seconds"] for s in summaries) - first
    return max(s["ended"] for s in summaries) - first, requesting, summaries


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=20_000)
    parser.add_argument("--incidents", type=int, default=2_500)
    parser.add_argument("--users", type=int, default=2_500)
    parser.add_argument("--budgets", default="5,20,50")
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--concurrency", type=int, default=8, help="max_concurrent_requests of each sync")
    args = parser.parse_args()
    sizes = {"alerts": args.alerts, "incidents": args.incidents, "users": args.users}

    unlimited = FakeApi(sizes, None, args.latency)
    try:
        alone_free, _, _ = syncs(unlimited.base_url, ["alerts"], "auto", args.concurrency)
        three_free, _, _ = syncs(unlimited.base_url, ["alerts", "incidents", "users"], "auto", args.concurrency)
    finally:
        unlimited.stop()

    print(f"{args.alerts:,} alerts ({args.incidents:,} incidents, {args.users:,} users for three at once), "
          f"{args.latency * 1000:.0f} ms away, max_concurrent_requests={args.concurrency}; "
          f"with no budget: alerts alone {alone_free:.1f} s, three at once {three_free:.1f} s")
    print(f"{'budget/s':>8}  {'sync':<28}{'seconds':>8}{'requesting':>11}{'requests':>9}{'floor s':>8}"
          f"{'vs floor':>9}{'throttled':>10}{'vs no budget':>13}")
    for budget in (float(b) for b in args.budgets.split(",")):
        runs = [("alerts, auto", ["alerts"], "auto", alone_free),
                ("alerts, set to the budget", ["alerts"], str(budget), alone_free),
                ("alerts+incidents+users, auto", ["alerts", "incidents", "users"], "auto", three_free)]
        for label, resources, rate, free in runs:
            api = FakeApi(sizes, budget, args.latency)
            try:
                seconds, requesting, summaries = syncs(api.base_url, resources, rate, args.concurrency)
            finally:
                api.stop()
            for summary in summaries:
                expected = sizes[summary["resource"]]
                if summary["table_rows"] != expected:
                    raise SystemExit(f"{summary['resource']}: {summary['table_rows']} rows, expected {expected}")
            requests = sum(s["requests"] for s in summaries)
            throttled = sum(s["throttled"] for s in summaries)
            floor = requests / budget
            print(f"{budget:>8.0f}  {label:<28}{seconds:>8.1f}{requesting:>11.1f}{requests:>9}{floor:>8.1f}"
                  f"{requesting / floor:>8.2f}x{throttled / requests:>10.1%}{seconds / free:>12.2f}x", flush=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6])
    else:
        raise SystemExit(main())
