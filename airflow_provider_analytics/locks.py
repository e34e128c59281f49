"""Cross-process locks that keep concurrent syncs from tripping over each other in one warehouse.

A DuckDB file takes one writer at a time: writers take turns on a file lock beside it. PostgreSQL
takes writers in parallel, but a dataset's first sync creates its schema and dlt's own tables
(`CREATE SCHEMA`, `_dlt_loads`, ...), and parallel first syncs race on that; an advisory lock per
dataset serialises just that step. Every wait is bounded and said in the task log.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

LOCK_TIMEOUT_SECONDS = 4 * 3600.0


class LockTimeoutError(TimeoutError):
    """Another sync held the lock for longer than the timeout."""


def _wait(try_lock: Any, what: str, timeout: float, poll: float, logger: Any) -> None:
    """Call `try_lock()` until it returns True, logging once that we wait, failing after `timeout`."""
    deadline = time.monotonic() + timeout
    waited = False
    while not try_lock():
        if logger is not None and not waited:
            logger.info("Waiting for another sync writing %s to finish", what)
        waited = True
        if time.monotonic() >= deadline:
            raise LockTimeoutError(f"Another sync has held {what} for over {timeout:.0f} s.")
        time.sleep(poll)


@contextmanager
def file_lock(
    path: str, what: str, timeout: float = LOCK_TIMEOUT_SECONDS, poll: float = 0.2, logger: Any = None
) -> Iterator[None]:
    """An exclusive `flock` on `path` (created if missing), held by this process until the block ends."""
    import fcntl

    with open(path, "a+") as handle:

        def try_lock() -> bool:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                return False

        _wait(try_lock, what, timeout, poll, logger)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@contextmanager
def postgres_advisory_lock(
    credentials: Any, key: str, what: str, timeout: float = LOCK_TIMEOUT_SECONDS, poll: float = 0.2, logger: Any = None
) -> Iterator[None]:
    """A session-level advisory lock on `key`, on a connection of its own, released when the block ends."""
    import psycopg2

    connection = psycopg2.connect(
        host=credentials.host,
        port=credentials.port,
        user=credentials.username,
        password=credentials.password or None,
        dbname=credentials.database,
        connect_timeout=int(getattr(credentials, "connect_timeout", 15) or 15),
    )
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:

            def try_lock() -> bool:
                cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (key,))
                return bool(cursor.fetchone()[0])

            _wait(try_lock, what, timeout, poll, logger)
            try:
                yield
            finally:
                cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))
    finally:
        connection.close()
