"""The task log of a successful sync as Airflow writes it: nothing at error level, dlt's lines at their
own level through Python logging, and one summary block per sync with the numbers that landed."""

from __future__ import annotations

import json
import re

import pytest

from airflow_provider_analytics.demo import DEMO_KEY
from airflow_provider_analytics.pipeline.report import SUMMARY_TITLE
from airflow_provider_analytics.testing.fake_api import FakeAnalyticsAPI
from tests.e2e.test_example_dags import Airflow

KEY = DEMO_KEY  # the key `airflow_env` gives the connection
#: a log line as `airflow dags test` prints it: timestamp, [level], event ... [logger]
LINE = re.compile(r"^\d{4}-\d\d-\d\dT\S+ \[(?P<level>\w+)\s*\] (?P<event>.*)$")


def summary_blocks(output: str) -> dict[str, dict[str, str]]:
    """Each summary block of the output, by resource: label -> the value's first word."""
    blocks: dict[str, dict[str, str]] = {}
    lines = output.splitlines()
    for index, line in enumerate(lines):
        match = LINE.match(line)
        if not match or match["event"].strip() != SUMMARY_TITLE:
            continue
        fields = {}
        for body in lines[index + 1:]:
            field = re.match(r"^  (\S+(?: \S+)?)\s{2,}(\S+)", body)
            if not field:
                break
            fields[field[1]] = field[2]
        assert fields["resource"] not in blocks, f"two summary blocks for {fields['resource']}"
        blocks[fields["resource"]] = fields
    return blocks


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    """One `airflow dags test` of the manual DAG: alerts, and team_members (read per team)."""
    home = tmp_path_factory.mktemp("airflow-home")
    with FakeAnalyticsAPI(api_key=KEY, sizes={"alerts": 240, "incidents": 10}, seed=6) as api:
        airflow = Airflow(home, api)
        airflow.env["RUNTIME__LOG_LEVEL"] = "INFO"  # dlt logs what it does, so its lines can be checked
        migrated = airflow.run("db", "migrate")
        assert migrated.returncode == 0, migrated.stderr[-3000:]
        conf = {"resources": ["alerts", "team_members"]}
        result = airflow.run("dags", "test", "analytics_manual_sync", "-c", json.dumps(conf))
        upstream = {"alerts": len(api.records("alerts")), "team_members": len(api.records("team_members")),
                    "teams": len(api.records("teams"))}
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result, upstream


def test_a_successful_sync_logs_nothing_at_error_level_and_dlt_through_logging(synced):
    result, _ = synced
    levels = {LINE.match(line)["level"] for line in result.stdout.splitlines() if LINE.match(line)}
    assert levels and not levels & {"error", "critical", "exception"}, levels
    dlt_lines = [line for line in result.stdout.splitlines() if LINE.match(line) and " [dlt] loc=" in line]
    assert dlt_lines and all(LINE.match(line)["level"] == "info" for line in dlt_lines), dlt_lines[:5]
    # dlt's own stderr handler (its `|[LEVEL]|pid|thread|dlt|` format) wrote nothing
    assert "|dlt|" not in result.stderr and "|[INFO]|" not in result.stderr, result.stderr[-2000:]
    assert KEY not in result.stdout + result.stderr


def test_each_sync_ends_with_one_summary_block_with_what_landed(synced):
    result, upstream = synced
    blocks = summary_blocks(result.stdout)
    assert set(blocks) == {"alerts", "team_members"}
    alerts, members = blocks["alerts"], blocks["team_members"]
    assert alerts["target table"] == "analytics.alerts" and members["target table"] == "analytics.team_members"
    assert alerts["method/mode"] == "incremental,"  # followed by how it read
    assert int(alerts["rows loaded"]) == int(alerts["table rows"]) == upstream["alerts"]
    assert int(members["rows loaded"]) == int(members["table rows"]) == upstream["team_members"]
    assert int(members["parents"]) == upstream["teams"] and "parents" not in alerts
    for block in (alerts, members):
        assert block["deleted"] == block["throttled"] == "0"
        assert 1 <= int(block["pages"]) <= int(block["requests"])
        assert float(block["seconds"]) > 0
