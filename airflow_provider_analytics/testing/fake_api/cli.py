"""Command line of the fake API: serve it until SIGINT/SIGTERM (``python -m`` and ``analytics-fake-api``).

It prints the base URL of the classic side on the first line and that of the JSM operations side
(``<base>/jsm/ops/api/<cloud id>``) on the second, so a script can read either.
"""

from __future__ import annotations

import argparse
import signal
import threading

from .data import DEFAULT_SIZES
from .jsm import FAKE_CLOUD_ID
from .query import UPDATED_AT_SEARCH_MODES
from .server import FakeAnalyticsAPI


def main(argv: list[str] | None = None) -> int:
    """Serve the fake until SIGINT/SIGTERM; print the classic base URL, then the JSM one."""
    parser = argparse.ArgumentParser(prog="python -m airflow_provider_analytics.testing.fake_api",
                                     description="Serve a fake of the upstream analytics API.")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    parser.add_argument("--api-key", default="test-key")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-limit", type=int, default=100)
    parser.add_argument("--offset-cap", type=int, default=20000)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    parser.add_argument("--updated-at-search", choices=UPDATED_AT_SEARCH_MODES, default="rejected",
                        help="what `query` does with an updatedAt term, which the spec does not promise "
                             "(default: rejected with 422)")
    parser.add_argument("--budget", type=float, default=None,
                        help="the account's requests per second; past it, 429 THROTTLED (default: unlimited)")
    parser.add_argument("--burst", type=float, default=None, help="requests the budget allows at once "
                        "(default: one second's worth)")
    parser.add_argument("--incident-query-required", action="store_true",
                        help="refuse a list of incidents without `query` (the spec marks it required)")
    parser.add_argument("--cloud-id", default=FAKE_CLOUD_ID, help="the cloud id of the JSM operations paths")
    parser.add_argument("--jsm-email", default="ops@example.com",
                        help="the account email of JSM Basic auth (the password is --api-key)")
    parser.add_argument("--jsm-absolute-links", action="store_true",
                        help="serve JSM links.next absolute instead of relative to the JSM base URL")
    for name, size in DEFAULT_SIZES.items():
        parser.add_argument(f"--{name}", type=int, default=size, help=f"number of {name} (default {size})")
    args = parser.parse_args(argv)

    api = FakeAnalyticsAPI(
        host=args.host, port=args.port, api_key=args.api_key, seed=args.seed,
        sizes={name: getattr(args, name) for name in DEFAULT_SIZES},
        max_limit=args.max_limit, offset_cap=args.offset_cap, latency=args.latency,
        updated_at_search=args.updated_at_search, incident_query_required=args.incident_query_required,
        budget=args.budget, burst=args.burst, cloud_id=args.cloud_id, jsm_email=args.jsm_email,
        jsm_absolute_links=args.jsm_absolute_links,
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    api.start()
    print(api.base_url, flush=True)
    print(api.jsm_base_url, flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        api.stop()
    return 0
