"""A sync touches a DuckDB file only under the file's lock, so parallel syncs into one file never collide.

DuckDB opens a file for one process at a time. Here another process holds the file open whenever
the lock is free and closes it only while the sync holds the lock: any touch outside the lock fails
the sync every time, not only when two tasks of a DAG run happen to meet.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from airflow_provider_analytics.pipeline.sync import run_sync
from airflow_provider_analytics.source.settings import ApiSettings
from airflow_provider_analytics.testing.fake_api import FakeAnalyticsAPI
from airflow_provider_analytics.warehouses.duckdb import duckdb_warehouse
from tests.conftest import API_KEY
from tests.helpers import duckdb_rows

#: Read whole, incremental, per parent (one parent's records, then every alert's).
RESOURCES = ("users", "teams", "alerts", "team_members", "alert_logs")
ANSWER_SECONDS = 30


def hold_while_free(path: str, commands: Any) -> None:
    """The other process: keeps `path` open, closes it on "release", opens it again on "hold"."""
    import duckdb

    con = duckdb.connect(path)
    while commands.poll(120):  # bounded: a test that died leaves no process behind for long
        command = commands.recv()
        if command == "stop":
            break
        if command == "release":
            con.close()
        else:
            con = duckdb.connect(path)
        commands.send(command)
    con.close()


class OtherProcess:
    """Asks the other process to let go of the file or take it again, and waits for it to have done so."""

    def __init__(self, path: str) -> None:
        context = multiprocessing.get_context("spawn")
        self.commands, theirs = context.Pipe()
        self.process = context.Process(target=hold_while_free, args=(path, theirs), daemon=True)
        self.process.start()

    def ask(self, command: str) -> None:
        self.commands.send(command)
        assert self.commands.poll(ANSWER_SECONDS), f"the other process did not {command} the file"
        assert self.commands.recv() == command

    def stop(self) -> None:
        self.commands.send("stop")
        self.process.join(ANSWER_SECONDS)


def test_every_touch_of_the_duckdb_file_happens_under_its_lock(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    plain = duckdb_warehouse(path)
    other = OtherProcess(str(path))

    @contextmanager
    def handed_over(dataset: str, logger: Any) -> Iterator[None]:
        other.ask("release")
        try:
            with plain.write_lock(dataset, logger):
                yield
        finally:
            other.ask("hold")

    warehouse = replace(plain, lock=handed_over)
    try:
        with FakeAnalyticsAPI(api_key=API_KEY, sizes={"alerts": 40, "incidents": 5, "teams": 3, "users": 12},
                              seed=4) as api:
            settings = ApiSettings(api.base_url, API_KEY)
            summaries = {name: run_sync(name, settings, warehouse) for name in RESOURCES}
            summaries["alerts again"] = run_sync("alerts", settings, warehouse)  # from the stored cursor
            upstream = {name: len(api.records(name)) for name in RESOURCES}
    finally:
        other.stop()
    assert all(summary.table_rows == upstream[summary.resource] for summary in summaries.values()), summaries
    for name in RESOURCES:
        assert duckdb_rows(path, f'select count(*) from analytics."{name}"') == [(upstream[name],)], name
