"""Retry and timeout defaults that suit an API sync task, shared by the example DAGs.

A sync fails mostly on things that pass (throttling, a flaky upstream): a few retries, spaced out
more each time, ride them out; a timeout stops a run that hangs. Import it freely at DAG-parse
time: it loads nothing but the standard library.
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
