"""The task log of a successful sync as Airflow writes it: nothing at error level, dlt's lines at their
own level through Python logging, and one summary block per sync with the numbers that landed."""

from __future__ import annotations

import re

from airflow_provider_analytics.pipeline.report import SUMMARY_TITLE
from tests.e2e.conftest import OBSERVED_KEY, ObservedRun

#: a log line as `airflow dags test` prints it: timestamp, [level], event ... [logger]
LINE = re.compile(r"^\d{4}-\d\d-\d\dT\S+ \[(?P<level>\w+)\s*\] (?P<event>.*)$")


def summary_blocks(output: str) -> dict[str, dict[str, str]]:
    """Each summary block of the output, by target table: label -> the value's first word."""
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
        assert fields["target table"] not in blocks, f"two summary blocks for {fields['target table']}"
        blocks[fields["target table"]] = fields
    return blocks


def test_a_successful_sync_logs_nothing_at_error_level_and_dlt_through_logging(observed_run: ObservedRun):
    result = observed_run.result
    levels = {LINE.match(line)["level"] for line in result.stdout.splitlines() if LINE.match(line)}
    assert levels and not levels & {"error", "critical", "exception"}, levels
    dlt_lines = [line for line in result.stdout.splitlines() if LINE.match(line) and " [dlt] loc=" in line]
    assert dlt_lines, result.stdout[-3000:]
    not_info = [line for line in dlt_lines if LINE.match(line)["level"] != "info"]
    assert not not_info, not_info[:5]
    # dlt's own stderr handler (its `|[LEVEL]|pid|thread|dlt|` format) wrote nothing
    assert "|dlt|" not in result.stderr and "|[INFO]|" not in result.stderr, result.stderr[-2000:]
    assert OBSERVED_KEY not in result.stdout + result.stderr


def test_each_sync_ends_with_one_summary_block_with_what_landed(observed_run: ObservedRun):
    result, upstream = observed_run.result, observed_run.upstream
    blocks = summary_blocks(result.stdout)
    expected = {"analytics.teams", "analytics.alerts", "analytics.team_members"}
    assert set(blocks) == expected | ({"lineage_ds.teams"} if observed_run.database else set())
    alerts, members = blocks["analytics.alerts"], blocks["analytics.team_members"]
    assert alerts["resource"] == "alerts" and members["resource"] == "team_members"
    assert alerts["method/mode"] == "incremental,"  # followed by how it read
    assert int(alerts["rows loaded"]) == int(alerts["table rows"]) == upstream["alerts"]
    assert int(members["rows loaded"]) == int(members["table rows"]) == upstream["team_members"]
    assert int(members["parents"]) == upstream["teams"] and "parents" not in alerts
    for block in (alerts, members):
        assert block["deleted"] == block["throttled"] == "0"
        assert 1 <= int(block["pages"]) <= int(block["requests"])
        assert float(block["seconds"]) > 0
