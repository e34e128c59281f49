"""What a long sync says in the task log while it runs, and at the end."""

from __future__ import annotations

import logging
import re

from airflow_provider_analytics.source.settings import ApiSettings
from airflow_provider_analytics.pipeline.options import SyncOptions
from airflow_provider_analytics.pipeline.report import SUMMARY_TITLE
from airflow_provider_analytics.pipeline.sync import run_sync
from airflow_provider_analytics.testing.fake_api import FakeAnalyticsAPI
from airflow_provider_analytics.warehouses.duckdb import duckdb_warehouse

KEY = "progress-key"


def test_progress_lines_report_pages_records_and_rate_while_the_sync_runs(tmp_path, caplog):
    logger = logging.getLogger("task-log")
    with FakeAnalyticsAPI(api_key=KEY, sizes={"alerts": 1500}, latency=0.03) as api:
        with caplog.at_level(logging.INFO, logger="task-log"):
            summary = run_sync("alerts", ApiSettings(api.base_url, KEY), duckdb_warehouse(tmp_path / "p.duckdb"),
                               SyncOptions(progress_interval=0.1), logger=logger)
    lines = [r.getMessage() for r in caplog.records if r.name == "task-log"]
    progress = [m for m in lines if re.fullmatch(r"alerts: \d+ pages, \d+ records fetched in \d+ s \(\d+ records/s\)", m)]
    assert len(progress) >= 3, lines
    pages = [int(m.split(": ")[1].split()[0]) for m in progress]
    assert pages == sorted(pages) and pages[-1] <= summary.pages
    assert "Extracted; loading 1500 row(s) into" in "\n".join(lines)
    assert any(m.startswith("alerts: no stored cursor") for m in lines)
    summaries = [m for m in lines if m.startswith(SUMMARY_TITLE)]  # one block, logged by run_sync itself
    assert len(summaries) == 1 and re.search(r"\n  rows loaded +1500\n  table rows +1500\n", summaries[0]), lines
    assert re.search(rf"\n  pages +{summary.pages}\n", summaries[0]), summaries[0]
    assert KEY not in "\n".join(lines)
