"""The metric SQL's pieces: parseable everywhere, working hours exact on the local clock, the report's page."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone

import duckdb
import pytest
import sqlglot

from airflow_provider_analytics.metrics.build import MetricsSummary
from airflow_provider_analytics.metrics.names import METRIC_TABLES, SOURCE_TABLES
from airflow_provider_analytics.metrics.report import TeamWeek, UserWeek, nice_ceiling, render_report
from airflow_provider_analytics.metrics.sql import (
    SOURCE_COLUMNS,
    STATEMENTS,
    Sources,
    for_dialect,
    outside_working_hours,
    source_relation,
)
from airflow_provider_analytics.metrics.working_hours import WorkingHours
from tests.metrics_reference import is_outside


def quote(name: str) -> str:
    return f'"{name}"'


def sources(missing: tuple[str, ...] = ()) -> Sources:
    relations = {t: source_relation(None if t in missing else f'"analytics"."{t}"', set(cols), cols, quote)
                 for t, cols in SOURCE_COLUMNS.items()}
    return Sources(relations, '"analytics_metrics"."alert_response"')


def test_the_names_agree_with_the_sql():
    assert tuple(STATEMENTS) == METRIC_TABLES
    assert set(SOURCE_COLUMNS) == set(SOURCE_TABLES)


@pytest.mark.parametrize("table", METRIC_TABLES)
@pytest.mark.parametrize("dialect", ["snowflake", "bigquery", "redshift", "databricks", "tsql"])
def test_every_statement_parses_and_translates_for_other_warehouses(table, dialect):
    sql = STATEMENTS[table](sources(missing=("incidents",)), WorkingHours.parse("America/New_York", "22:00-06:00"))
    for read in ("postgres", "duckdb"):
        assert sqlglot.parse_one(sql, read=read) is not None
    translated = for_dialect(sql, dialect)
    assert translated != sql and "select" in translated.lower()


@pytest.mark.parametrize(("zone", "span", "days"), [
    ("Europe/Berlin", "09:00-17:00", "Mon-Fri"),
    ("America/New_York", "22:00-06:30", "Sun-Thu"),
    ("Australia/Lord_Howe", "08:30-18:00", "Mon,Wed,Sat"),  # a half-hour daylight-saving shift
    ("UTC", "00:00-24:00", "Mon-Fri"),
])
def test_outside_working_hours_in_sql_matches_the_local_clock_across_daylight_saving(zone, span, days):
    hours = WorkingHours.parse(zone, span, days)
    rng = random.Random(zone)
    moments = [datetime(2024, 3, 9, tzinfo=timezone.utc) + timedelta(minutes=15 * k) for k in range(4 * 24 * 60)]
    moments += [datetime(2024, 10, 25, tzinfo=timezone.utc) + timedelta(minutes=15 * k) for k in range(4 * 24 * 10)]
    moments += [datetime(2024, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=rng.randrange(366 * 86400))
                for _ in range(2000)]
    con = duckdb.connect()
    con.execute("create table t (i integer, ts timestamp with time zone)")
    con.executemany("insert into t values (?, ?)", list(enumerate(moments)))
    got = dict(con.execute(f"select i, {outside_working_hours('ts', hours)} from t").fetchall())
    wrong = [moments[i] for i, outside in got.items() if outside != is_outside(moments[i], hours)]
    assert not wrong, wrong[:5]
    assert 0 < sum(got.values()) < len(moments)


def summary(**overrides) -> MetricsSummary:
    values = dict(source_dataset="analytics", metrics_dataset="analytics_metrics",
                  working_hours="09:00-17:00 Mon,Tue,Wed,Thu,Fri, UTC", rows={t: 1 for t in METRIC_TABLES}, seconds=0.5)
    values.update(overrides)
    return MetricsSummary(**values)  # type: ignore[arg-type]


def test_the_report_escapes_names_draws_gaps_and_fetches_nothing():
    weeks = [date(2024, 1, 1) + timedelta(weeks=k) for k in range(4)]
    teams = [TeamWeek("<script>alert(1)</script>", w, 3, 12.0 if k != 2 else None, 30.0) for k, w in enumerate(weeks)]
    teams.append(TeamWeek("ops & sre", weeks[1], 1, 4.0, None))
    users = [UserWeek('eve"o@x.io', w, 5, 2, 1, 3) for w in weeks]
    page = render_report(teams, users, summary(warnings=("1 alert(s) have report.ackTime but <no> log",)),
                         "/tmp/w.duckdb", datetime(2024, 2, 1, 12, 0))
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "ops &amp; sre" in page and "eve&quot;o@x.io" in page and "&lt;no&gt; log" in page
    first_chart = page.split("<svg", 2)[1]
    assert first_chart.count("<polyline") == 2 + 1  # the gap in week 3 splits the first team's line; one point line
    assert "<circle" in first_chart  # a team's single week is a dot
    assert "src=" not in page and "href=" not in page and "@import" not in page
    assert "Built 2024-02-01 12:00 UTC" in page and "5/2/1 <span" in page


def test_an_empty_build_says_so_instead_of_drawing():
    page = render_report([], [], summary(), "/tmp/w.duckdb", datetime(2024, 2, 1))
    assert page.count("No alerts yet.") == 2 and "No on-call events yet." in page


@pytest.mark.parametrize(("value", "top"), [(0, 1), (0.3, 0.5), (1, 1), (7, 10), (12, 20), (230, 250), (1469, 2000)])
def test_axis_tops_are_round(value, top):
    assert nice_ceiling(value) == pytest.approx(top)
