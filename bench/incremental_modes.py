"""A daily incremental run in each search mode: requests of run 2 as a share of run 1's, side by side.

    python bench/incremental_modes.py                                  # 50,000 alerts, 5,000 incidents
    python bench/incremental_modes.py --alerts 20000 --incidents 2000 --changed 0.01

For each way an account's search can treat an `updatedAt` term (accepted, refused with 422,
ignored), a spec-faithful fake API (incidents require `query`) serves the same data; run 1 syncs
alerts and incidents into a fresh DuckDB file; then a share of old records change status and as
many new ones arrive; run 2 starts from an empty working folder (state from the warehouse only).
Printed per mode and resource: requests and seconds of each run, the method run 2 used, and run
2's requests as a share of run 1's. Every run 2 is checked to land every record exactly.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from airflow_provider_analytics.pipeline.options import SyncOptions  # noqa: E402
from airflow_provider_analytics.pipeline.sync import run_sync  # noqa: E402
from airflow_provider_analytics.source.settings import ApiSettings  # noqa: E402
from airflow_provider_analytics.testing.fake_api import UPDATED_AT_SEARCH_MODES, FakeAnalyticsAPI  # noqa: E402
from airflow_provider_analytics.warehouses.duckdb import duckdb_warehouse  # noqa: E402

KEY = "bench-key"
PATHS = {"alerts": "/v2/alerts", "incidents": "/v1/incidents"}


def one_run(api: FakeAnalyticsAPI, resource: str, warehouse, workdir: Path) -> tuple[dict, int, float]:
    api.reset_log()
    started = time.perf_counter()
    summary = run_sync(resource, ApiSettings(api.base_url, KEY), warehouse,
                       SyncOptions(progress_interval=0, pipelines_dir=str(workdir)))
    seconds = time.perf_counter() - started
    requests = sum(1 for _, path, _ in api.request_log if path.startswith(PATHS[resource]))
    return summary.as_dict(), requests, seconds


def stored_ids(path: Path, resource: str) -> tuple[int, int]:
    import duckdb

    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(f"select count(*), count(distinct id) from analytics.{resource}").fetchone()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=50_000)
    parser.add_argument("--incidents", type=int, default=5_000)
    parser.add_argument("--changed", type=float, default=0.01, help="share of old records changed, and new (0.01)")
    args = parser.parse_args()

    print(f"{'mode':<10}{'resource':<11}{'run 1 req':>10}{'run 1 s':>9}{'run 2 req':>10}{'run 2 s':>9}"
          f"{'share':>8}  run 2 method")
    failures = 0
    for mode in UPDATED_AT_SEARCH_MODES:
        sizes = {"alerts": args.alerts, "incidents": args.incidents}
        with FakeAnalyticsAPI(api_key=KEY, sizes=sizes, seed=4, updated_at_search=mode,
                              incident_query_required=True) as api, tempfile.TemporaryDirectory() as tmp:
            warehouse_path = Path(tmp) / "bench.duckdb"
            warehouse = duckdb_warehouse(warehouse_path)
            first = {r: one_run(api, r, warehouse, Path(tmp) / f"one-{r}") for r in PATHS}
            for resource, size in sizes.items():
                count = max(1, int(size * args.changed))
                step = max(1, (size // 2) // count)  # old records: the first half of the data
                for index in range(0, step * count, step):
                    api.update(resource, index, status="closed" if resource == "alerts" else "resolved")
                api.add(resource, count)
            for resource in PATHS:
                summary, requests, seconds = one_run(api, resource, warehouse, Path(tmp) / f"two-{resource}")
                _, requests_1, seconds_1 = first[resource]
                upstream = len(api.records(resource))
                exact = stored_ids(warehouse_path, resource) == (upstream, upstream)
                failures += not exact
                print(f"{mode:<10}{resource:<11}{requests_1:>10}{seconds_1:>9.1f}{requests:>10}{seconds:>9.1f}"
                      f"{requests / requests_1:>8.1%}  {summary['method']}{'' if exact else '  NOT EXACT'}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
