"""The cross-process locks: a second holder waits (and says so), then goes on; waits are bounded."""

from __future__ import annotations

import logging
import multiprocessing
import time
import uuid

import pytest

from airflow_provider_analytics.warehouses.base import LockTimeoutError
from airflow_provider_analytics.warehouses.duckdb import file_lock
from airflow_provider_analytics.warehouses.postgres import postgres_advisory_lock
from tests.conftest import PG_HOST, PG_PORT, postgres_available, require_service


def hold_file_lock(path: str, seconds: float, ready) -> None:
    with file_lock(path, "the test file"):
        ready.set()
        time.sleep(seconds)


def test_a_second_process_waits_for_the_file_lock_then_gets_it(tmp_path, caplog):
    path = str(tmp_path / "w.duckdb.lock")
    ready = multiprocessing.Event()
    holder = multiprocessing.Process(target=hold_file_lock, args=(path, 1.0, ready))
    holder.start()
    try:
        assert ready.wait(30)
        started = time.monotonic()
        with caplog.at_level(logging.INFO), file_lock(path, "the test file", logger=logging.getLogger("t")):
            waited = time.monotonic() - started
    finally:
        holder.join(30)
    assert waited >= 0.5
    assert "Waiting for another sync writing the test file to finish" in caplog.text


def test_the_file_lock_wait_is_bounded(tmp_path):
    path = str(tmp_path / "w.duckdb.lock")
    ready = multiprocessing.Event()
    holder = multiprocessing.Process(target=hold_file_lock, args=(path, 3.0, ready))
    holder.start()
    try:
        assert ready.wait(30)
        with pytest.raises(LockTimeoutError, match="held the test file for over 0 s"):
            with file_lock(path, "the test file", timeout=0.3, poll=0.05):
                pass
    finally:
        holder.join(30)


class Credentials:
    host, port, username, password, database = PG_HOST, PG_PORT, "postgres", None, "postgres"


def test_the_postgres_advisory_lock_serialises_holders_of_one_key_only():
    require_service(postgres_available(), "PostgreSQL on 127.0.0.1:5432")
    key = f"test-{uuid.uuid4().hex}"
    with postgres_advisory_lock(Credentials(), key, "dataset a"):
        with pytest.raises(LockTimeoutError, match="held dataset a"):
            with postgres_advisory_lock(Credentials(), key, "dataset a", timeout=0.3):
                pass
        with postgres_advisory_lock(Credentials(), key + "-other", "dataset b", timeout=0.3):
            pass  # another dataset is not blocked
    with postgres_advisory_lock(Credentials(), key, "dataset a", timeout=0.3):
        pass  # released when the first block ended
