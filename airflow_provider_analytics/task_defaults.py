"""Defaults that suit an API sync task (and the metrics build), shared by the example DAGs: retries, timeout, pool.

A sync fails mostly on things that pass (throttling, a flaky upstream): a few retries, spaced out
more each time, ride them out; a timeout stops a run that hangs. The sync tasks against one API
account run in that account's Airflow pool, so that only a few of them share its request budget
at once. Import it freely at DAG-parse time: it loads nothing but the standard library.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

SYNC_TASK_DEFAULTS: dict[str, Any] = {
    "retries": 3,
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=30),
    "execution_timeout": timedelta(hours=2),
}

#: The metrics build runs in the warehouse: a retry rides out a warehouse briefly down or a lock
#: held long by a big sync; a rebuild takes seconds to minutes, so an hour means it hangs.
METRICS_TASK_DEFAULTS: dict[str, Any] = {
    **SYNC_TASK_DEFAULTS,
    "retries": 2,
    "max_retry_delay": timedelta(minutes=10),
    "execution_timeout": timedelta(hours=1),
}

#: Sync tasks that may run at once against one API connection (the size of its pool).
API_POOL_SLOTS = 3


def api_pool(analytics_conn_id: str) -> str:
    """The Airflow pool of the sync tasks against one API connection: `<connection id>_api`.

    Create it before the DAGs run (`airflow pools set <name> 3 ...`): Airflow does not schedule
    a task whose pool does not exist, and shows a "non-existent pool" DAG warning.
    """
    return f"{analytics_conn_id}_api"


def api_pool_description(analytics_conn_id: str) -> str:
    """What the pool is for, as `airflow pools list` shows it."""
    return f"Sync tasks against the API account of the connection {analytics_conn_id!r}"
