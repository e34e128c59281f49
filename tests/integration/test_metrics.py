"""The response-metric tables against docs/metrics.md, computed independently from the fake API's truth.

The fake's data is synced into DuckDB and PostgreSQL, the tables are built there, and every column
of every row is compared with `tests.metrics_reference`, which reads the same definitions from the
records the API serves. Alerts with the awkward timelines are made in the fake (acknowledged twice,
reopened, closed by the system, across midnight and daylight-saving changes, at the edges of
working hours) and checked to be in the data, so the comparison covers them.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Optional

import pytest

from airflow_provider_analytics.metrics.build import MetricsSourceError, build_metrics
from airflow_provider_analytics.metrics.working_hours import WorkingHours
from airflow_provider_analytics.warehouses import resolve_warehouse
from tests.helpers import dict_rows, sync_to
from tests.metrics_reference import COLUMNS, KEYS, metric_tables

SOURCES = ("alerts", "alert_logs", "alert_recipients", "incidents", "teams", "users")
BERLIN = WorkingHours.parse("Europe/Berlin", "09:00-17:00", "Mon-Fri")
#: Hours across midnight, on days across the weekend, in a zone west of UTC with its own DST dates.
NIGHT_SHIFT = WorkingHours.parse("America/New_York", "22:00-06:00", "Fri-Mon")
SIZES = {"alerts": 160, "users": 30, "teams": 5, "incidents": 40}


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


# -- reading and comparing -------------------------------------------------------------------------


def metrics_dataset(target) -> str:
    """A dataset of its own next to the synced one (PostgreSQL: dropped with it by `postgres_conn`)."""
    return f"{target.dataset}_metrics"


def build(target, hours: WorkingHours = BERLIN):
    return build_metrics(resolve_warehouse(target.conn_id), target.dataset, metrics_dataset(target), hours)


def stored(target, table: str) -> list[dict[str, Any]]:
    return dict_rows(target.kind, target.rows, f'select * from "{metrics_dataset(target)}"."{table}"')


def stored_columns(target, table: str) -> set[str]:
    rows = target.rows("select column_name from information_schema.columns "
                       f"where table_schema = '{metrics_dataset(target)}' and table_name = '{table}'")
    return {column for column, in rows}


def normalised(value: Any) -> Any:
    """Warehouse values in the reference's terms: aware UTC datetimes, floats for numbers with a fraction."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    if isinstance(value, Decimal):
        return float(value)
    return value


def same(expected: Any, got: Any) -> bool:
    """Equal, and of the same kind: floats within 1e-6 relative or 1 ms absolute, counts as integers."""
    if expected is None or got is None:
        return expected is got
    if isinstance(expected, float):
        return isinstance(got, (int, float)) and not isinstance(got, bool) and \
            math.isclose(expected, got, rel_tol=1e-6, abs_tol=1e-3)
    if isinstance(expected, bool) or isinstance(expected, int):
        return type(got) is type(expected) and got == expected
    if isinstance(expected, datetime):
        return isinstance(got, datetime) and got == expected
    if isinstance(expected, date):
        return isinstance(got, date) and not isinstance(got, datetime) and got == expected
    return type(got) is type(expected) and got == expected


def assert_tables_match(target, expected: dict[str, list[dict[str, Any]]]) -> None:
    """Every table holds exactly the reference's rows (by key), and every column of each equals it."""
    for table, rows in expected.items():
        key = KEYS[table]
        want = {tuple(row[k] for k in key): row for row in rows}
        assert len(want) == len(rows), f"{table}: the reference has duplicate keys"
        got_rows = [{k: normalised(v) for k, v in row.items()} for row in stored(target, table)]
        got = {tuple(row[k] for k in key): row for row in got_rows}
        assert len(got) == len(got_rows), f"{table}: duplicate keys in the warehouse"
        assert set(got) == set(want), (
            f"{table}: missing {sorted(set(want) - set(got), key=str)[:5]}, extra {sorted(set(got) - set(want), key=str)[:5]}"
        )
        assert stored_columns(target, table) == set(COLUMNS[table]), table
        for k, row in want.items():
            wrong = {c: (row[c], got[k][c]) for c in COLUMNS[table] if not same(row[c], got[k][c])}
            assert not wrong, f"{table} {k}: (expected, stored) {wrong}"


# -- the truth ---------------------------------------------------------------------------------------


def truth(api, without_children_of: frozenset[str] = frozenset(), missing: tuple[str, ...] = ()) -> dict:
    """The live source rows the warehouse should hold: the API's records, less the child rows of
    `without_children_of` (alerts whose logs and recipients are marked deleted) and the `missing` tables."""
    sources: dict[str, Optional[list]] = {}
    for name in SOURCES:
        if name in missing:
            sources[name] = None
            continue
        rows = api.records(name)
        if name in ("alert_logs", "alert_recipients"):
            rows = [r for r in rows if r["alert_id"] not in without_children_of]
        sources[name] = rows
    return sources


def sync_all(target, resources=SOURCES) -> None:
    for resource in resources:
        sync_to(target, resource)


# -- alerts with awkward timelines ---------------------------------------------------------------------


class Crafter:
    """Makes alerts in the fake whose log says exactly what happened, at chosen instants.

    Each is added (the fake draws its first entries then, at the time of adding: "Alert created",
    maybe an escalation), moved to `created`, and changed step by step: every change writes the
    entry the fake writes for it ("Alert acknowledged", "Alert reopened"...) at its `updatedAt`.
    """

    def __init__(self, api):
        self.api = api
        self.users = [u["username"] for u in api.records("users")]
        self.made: dict[str, str] = {}  # case name -> alert id

    def alert(self, case: str, created: datetime, *steps: tuple[timedelta, dict], **fields: Any) -> str:
        """A new alert created at `created`; each step changes it `delta` after creation (`updatedAt` then)."""
        alert = self.api.add("alerts")[0]
        start = int(created.timestamp() * 1000)
        self.api.update("alerts", alert["id"], createdAt=start, updatedAt=start, lastOccurredAt=start, **fields)
        for delta, change in steps:
            self.api.update("alerts", alert["id"], updatedAt=start + int(delta / timedelta(milliseconds=1)), **change)
        self.made[case] = alert["id"]
        return alert["id"]

    def user(self, n: int) -> str:
        return self.users[n]


def craft_edge_cases(api) -> Crafter:
    """Working hours 09:00-17:00 Mon-Fri in Europe/Berlin (CET +01:00; CEST +02:00 from 2024-03-31 01:00 UTC
    to 2024-10-27 01:00 UTC)."""
    c, m = Crafter(api), timedelta(minutes=1)
    ack = lambda n: {"acknowledged": True, "owner": c.user(n)}  # noqa: E731
    close = lambda n=None: {"status": "closed", "owner": c.user(n) if n is not None else ""}  # noqa: E731
    c.alert("never_acknowledged", utc("2024-01-10T10:00:00"))  # Wed 11:00 local
    c.alert("closed_without_ack_at_nine", utc("2024-01-09T08:00:00"), (30 * m, close(1)))  # Tue 09:00 local
    c.alert("closed_by_system_at_five", utc("2024-01-11T16:00:00"), (90 * m, close()))  # Thu 17:00 local
    c.alert("ack_unack_ack", utc("2024-02-05T12:00:00"),
            (5 * m, ack(2)), (20 * m, {"acknowledged": False}), (40 * m, ack(3)), (70 * m, close(3)))
    c.alert("close_reopen_close", utc("2024-02-06T13:00:00"),
            (10 * m, close(1)), (60 * m, {"status": "open"}), (180 * m, close(4)))
    c.alert("close_reopen_open", utc("2024-02-07T13:00:00"), (3 * m, ack(4)), (10 * m, close(4)),
            (20 * m, {"status": "open"}))
    c.alert("same_millisecond", utc("2024-02-08T13:00:00"),
            (7 * m, ack(5)), (7 * m, {"acknowledged": False}), (7 * m, ack(6)),
            (9 * m, close(5)), (9 * m, {"status": "open"}), (9 * m, close(6)))
    # Sunday 23:30 local; acknowledged Monday 00:15 local (another local day and week), closed Monday 01:30
    c.alert("across_midnight", utc("2024-03-10T22:30:00"), (45 * m, ack(7)), (120 * m, close(7)))
    # 01:30 CET on the night clocks go forward; acknowledged 03:30 CEST, one real hour later
    c.alert("dst_spring", utc("2024-03-31T00:30:00"), (60 * m, ack(8)), (100 * m, close(8)))
    # 02:30 CEST on the night clocks go back; acknowledged at 02:30 CET, one real hour later
    c.alert("dst_autumn", utc("2024-10-27T00:30:00"), (60 * m, ack(9)), (150 * m, close(9)))
    c.alert("after_spring_change_at_nine", utc("2024-04-01T07:00:00"), (2 * m, ack(10)))  # Mon 09:00 CEST
    c.alert("after_spring_change_at_five", utc("2024-04-01T15:00:00"), (2 * m, ack(10)))  # Mon 17:00 CEST
    c.alert("after_autumn_change_at_nine", utc("2024-10-28T08:00:00"), (2 * m, close(11)))  # Mon 09:00 CET
    c.alert("just_before_nine", utc("2024-05-15T06:59:59"))  # Wed 08:59:59 CEST
    c.alert("one_minute_before_five", utc("2024-05-15T14:59:00"))  # Wed 16:59 CEST
    c.alert("saturday", utc("2024-01-13T11:00:00"), (24 * 60 * m, ack(12)), (25 * 60 * m, close(12)))
    # the report says acknowledged, the log has no such entry (only "Alert updated: report")
    c.alert("ack_only_in_report", utc("2024-06-12T10:00:00"),
            (3 * m, {"report": {"ackTime": 123_456, "acknowledgedBy": c.user(13)}}))
    c.alert("no_owner_team", utc("2024-06-13T10:00:00"), (4 * m, ack(14)), ownerTeamId=None)
    # the report names someone but gives no time: nobody acknowledged it
    c.alert("ack_by_without_ack_time", utc("2024-06-12T11:00:00"),
            (3 * m, {"report": {"acknowledgedBy": c.user(13)}}))
    c.alert("no_owner_team", utc("2024-06-13T10:00:00"), (4 * m, ack(14)), ownerTeamId=None)
    escalated = c.alert("escalated_twice", utc("2024-06-14T10:00:00"), (30 * m, ack(15)))
    api.append_alert_log(escalated, 2)
    # one day, team and priority with several alerts, so the medians and 90th percentiles interpolate
    team = api.records("teams")[0]["id"]
    for n, (to_ack, to_close) in enumerate([(2, 30), (3, 50), (7, 65), (11, 95), (None, 140)]):
        steps = ([(to_ack * m, ack(16 + n))] if to_ack else []) + [(to_close * m, close(16 + n))]
        c.alert(f"busy_day_{n}", utc("2024-06-19T08:00:00") + n * 7 * m, *steps, ownerTeamId=team, priority="P1")
    return c


# -- the tests ---------------------------------------------------------------------------------------


def test_every_column_of_the_four_tables_follows_the_definitions(new_api, target):
    api = new_api(**SIZES)
    crafted = craft_edge_cases(api)
    no_impact = api.records("incidents")[3]["id"]
    api.update("incidents", no_impact, impactStartDate=None)
    sync_all(target)
    summary = build(target)

    expected = metric_tables(truth(api), BERLIN)
    rows = {r["alert_id"]: r for r in expected["alert_response"]}
    case = {name: rows[alert_id] for name, alert_id in crafted.made.items()}
    assert_edge_cases_occur(case, crafted, expected)
    assert_tables_match(target, expected)
    assert summary.rows == {table: len(table_rows) for table, table_rows in expected.items()}
    assert summary.missing_sources == ()

    reported_only = [a for a in api.records("alerts") if "ackTime" in (a.get("report") or {})
                     and not any(e["log"].lower().startswith("alert acknowledged")
                                 for e in api.children("alert_logs", a["id"]))]
    assert [a["id"] for a in reported_only] == [crafted.made["ack_only_in_report"]]
    unmatched = [w for w in summary.warnings if "no log entry" in w]  # the wording docs/metrics.md quotes
    assert len(unmatched) == 1 and unmatched[0].startswith(
        "1 alert(s) have report.ackTime but no log entry matching 'alert acknowledged%'")


def assert_edge_cases_occur(case: dict, crafted: Crafter, expected: dict) -> None:
    """The awkward cases are really in the data, and the reference reads them as the document says."""
    u = crafted.user
    assert case["never_acknowledged"]["first_acknowledged_at"] is None
    assert case["never_acknowledged"]["seconds_to_respond"] is None
    assert case["never_acknowledged"]["created_outside_working_hours"] is False
    no_ack = case["closed_without_ack_at_nine"]
    assert no_ack["first_acknowledged_at"] is None and no_ack["seconds_to_acknowledge"] is None
    assert no_ack["seconds_to_close"] == no_ack["seconds_to_respond"] == 1800
    assert no_ack["created_outside_working_hours"] is False  # 09:00 is inside
    system = case["closed_by_system_at_five"]
    assert system["closed_by"] == "System" and system["created_outside_working_hours"] is True  # 17:00 is outside
    again = case["ack_unack_ack"]
    assert (again["acknowledged_by"], again["seconds_to_acknowledge"], again["times_reopened"]) == (u(2), 300, 1)
    reclosed = case["close_reopen_close"]
    assert (reclosed["closed_by"], reclosed["seconds_to_close"], reclosed["times_reopened"]) == (u(4), 10800, 1)
    reopened = case["close_reopen_open"]
    assert reopened["status"] == "open" and reopened["closed_at"] is None and reopened["seconds_to_close"] is None
    assert reopened["seconds_to_respond"] == 180 and reopened["times_reopened"] == 1
    tie = case["same_millisecond"]
    assert (tie["acknowledged_by"], tie["closed_by"], tie["times_reopened"]) == (u(5), u(6), 2)
    midnight = case["across_midnight"]
    assert midnight["created_day"] == date(2024, 3, 10) and midnight["seconds_to_acknowledge"] == 2700
    spring, autumn = case["dst_spring"], case["dst_autumn"]
    assert spring["seconds_to_acknowledge"] == autumn["seconds_to_acknowledge"] == 3600
    assert spring["seconds_to_close"] == 6000 and autumn["seconds_to_close"] == 9000
    assert spring["created_day"] == date(2024, 3, 31) and autumn["created_day"] == date(2024, 10, 27)
    assert case["after_spring_change_at_nine"]["created_outside_working_hours"] is False
    assert case["after_spring_change_at_five"]["created_outside_working_hours"] is True
    assert case["after_autumn_change_at_nine"]["created_outside_working_hours"] is False
    assert case["just_before_nine"]["created_outside_working_hours"] is True
    assert case["one_minute_before_five"]["created_outside_working_hours"] is False
    assert case["saturday"]["created_outside_working_hours"] is True
    reported = case["ack_only_in_report"]
    assert (reported["acknowledged_by"], reported["seconds_to_acknowledge"]) == (u(13), 123.456)
    nobody = case["ack_by_without_ack_time"]
    assert nobody["first_acknowledged_at"] is None and nobody["acknowledged_by"] is None
    busy = [r for r in expected["response_daily"]
            if (r["day"], r["team_id"], r["priority"]) == (date(2024, 6, 19), case["busy_day_0"]["team_id"], "P1")]
    assert [(r["alerts_created"], r["alerts_acknowledged"], r["alerts_closed"]) for r in busy] == [(5, 4, 5)]
    assert busy[0]["median_seconds_to_acknowledge"] == 300  # (180 + 420) / 2
    assert busy[0]["p90_seconds_to_acknowledge"] == pytest.approx(588)  # 420 + 0.7 * 240
    assert busy[0]["p90_seconds_to_close"] == pytest.approx(7320)  # 5700 + 0.6 * 2700
    assert case["no_owner_team"]["team_id"] is None and case["no_owner_team"]["team_name"] is None
    assert case["escalated_twice"]["escalations"] >= 2
    assert any(r["team_id"] is None for r in expected["response_daily"])
    # the acknowledgement across midnight falls in the next local week; the ones at the DST changes by wall time
    weeks = {(r["username"], r["week_start"]): r for r in expected["oncall_load"]}
    assert weeks[(u(7), date(2024, 3, 11))]["alerts_acknowledged"] >= 1
    assert weeks[(u(7), date(2024, 3, 11))]["acknowledged_outside_working_hours"] >= 1
    assert weeks[(u(9), date(2024, 10, 21))]["alerts_acknowledged"] >= 1  # Sunday 02:30 CET: that week's Monday
    assert not any(r["username"] == "System" for r in expected["oncall_load"])
    # and the generated alerts and incidents bring the rest: recipients, escalations, every incident status
    alerts = expected["alert_response"]
    assert sum(r["notified_recipients"] is not None for r in alerts) > len(alerts) // 2
    assert any(r["escalations"] for r in alerts if r["alert_id"] not in crafted.made.values())
    assert {r["status"] for r in expected["incident_response"]} == {"open", "resolved", "closed"}
    assert any(r["impact_started_at"] == r["created_at"] for r in expected["incident_response"])


def test_a_source_never_synced_is_read_as_empty_and_named_in_the_warnings(new_api, target):
    api = new_api(alerts=120, users=20, teams=4, incidents=10)
    c, m = Crafter(api), timedelta(minutes=1)
    # with no log, the close comes from the report, or from updatedAt; a name without a time names nobody
    c.alert("closed_report_names_no_time", utc("2024-02-01T10:00:00"),
            (20 * m, {"status": "closed", "report": {"closedBy": c.user(1)}, "owner": c.user(1)}))
    sync_all(target, ("alerts", "alert_recipients", "teams"))
    summary = build(target, NIGHT_SHIFT)
    missing = ("alert_logs", "incidents", "users")
    assert sorted(summary.missing_sources) == sorted(missing)
    for table in missing:
        assert any(f"has no {table} table" in w for w in summary.warnings), (table, summary.warnings)
    expected = metric_tables(truth(api, missing=missing), NIGHT_SHIFT)
    closed = next(r for r in expected["alert_response"] if r["alert_id"] == c.made["closed_report_names_no_time"])
    assert closed["seconds_to_close"] == 1200 and closed["closed_by"] is None
    assert any(r["first_acknowledged_at"] for r in expected["alert_response"])  # from the reports
    assert {r["created_outside_working_hours"] for r in expected["alert_response"]} == {True, False}
    assert expected["oncall_load"] and all(r["username"] is None and r["alerts_acknowledged"] == 0
                                           for r in expected["oncall_load"])
    assert expected["incident_response"] == []
    assert_tables_match(target, expected)


def test_without_the_alerts_table_the_build_stops_and_says_what_to_sync(new_api, target):
    new_api(alerts=10, users=10, teams=3)
    sync_all(target, ("users",))
    with pytest.raises(MetricsSourceError, match=r"sync alerts into it first") as raised:
        build(target)
    assert repr(target.dataset) in str(raised.value) and "alerts.id" in str(raised.value)


def test_a_rebuild_follows_upstream_changes_and_leaves_out_child_rows_marked_deleted(new_api, target):
    from airflow_provider_analytics.testing.fake_api import FakeReply

    api = new_api(alerts=60, users=15, teams=3, incidents=10)
    sync_all(target)
    build(target)
    assert_tables_match(target, metric_tables(truth(api), BERLIN))

    alerts = api.records("alerts")
    opened = next(a for a in alerts if a["status"] == "open" and not a["acknowledged"])
    user = api.records("users")[3]["username"]
    api.update("alerts", opened["id"], acknowledged=True, owner=user)
    api.update("alerts", opened["id"], status="closed", owner=user)
    api.add("alerts", 2)
    gone = next(a for a in alerts if a["status"] == "closed" and a["id"] != opened["id"])
    api.update("alerts", gone["id"], message="moved to another account")
    api.faults.append(lambda request: FakeReply(404, {"message": "Alert does not exist"})
                      if request.path.startswith(f"/v2/alerts/{gone['id']}/") else None)
    incident = next(i for i in api.records("incidents") if i["status"] != "closed")
    api.update("incidents", incident["id"], status="closed")
    sync_all(target, ("alerts", "alert_logs", "alert_recipients", "incidents"))

    for table in ("alert_logs", "alert_recipients"):
        (marked,), = target.rows(f"select count(*) from {target.table(table)} "
                                 f"where alert_id = '{gone['id']}' and _deleted_at is not null")
        (live,), = target.rows(f"select count(*) from {target.table(table)} "
                               f"where alert_id = '{gone['id']}' and _deleted_at is null")
        assert marked > 0 and live == 0, table
    build(target)
    expected = metric_tables(truth(api, without_children_of=frozenset({gone["id"]})), BERLIN)
    rows = {r["alert_id"]: r for r in expected["alert_response"]}
    assert rows[opened["id"]]["closed_by"] == user and rows[opened["id"]]["acknowledged_by"] == user
    assert rows[gone["id"]]["notified_recipients"] is None
    assert any(r["incident_id"] == incident["id"] and r["closed_at"] for r in expected["incident_response"])
    assert_tables_match(target, expected)
