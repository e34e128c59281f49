"""The metrics as one self-contained HTML page: weekly response times per team, on-call load per user.

One file with inline CSS and SVG, no scripts and nothing fetched, so it opens from disk, from an
artifact store or as a mail attachment exactly as it was written. Only aggregates leave the
warehouse: one row per team and week, one per user and week.
"""

from __future__ import annotations

import html
import math
import os
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

from ..pipeline.warehouse import Warehouse
from ..source.log import Log
from .sql import for_dialect

if TYPE_CHECKING:
    from dlt.destinations.sql_client import SqlClientBase

    from .build import MetricsSummary

#: How many of the latest weeks the on-call table shows, and how many users at most (the busiest).
REPORT_WEEKS = 8
REPORT_USERS = 25
_PALETTE = ("#4269d0", "#efb118", "#ff725c", "#6cc5b0", "#3ca951", "#ff8ab7", "#a463f2", "#97bbf5",
            "#9c6b4e", "#9498a0")
_NO_TEAM = "(no team)"


@dataclass(frozen=True)
class TeamWeek:
    """One team's week: alerts created, and the median minutes to acknowledge and to close."""

    team: str
    week: date
    alerts: int
    median_ack_minutes: Optional[float]
    median_close_minutes: Optional[float]


@dataclass(frozen=True)
class UserWeek:
    """One user's week of on-call load."""

    user: str
    week: date
    notified: int
    acknowledged: int
    closed: int
    outside_hours: int


def read_report_data(client: SqlClientBase[Any], dialect: Optional[str]) -> tuple[list[TeamWeek], list[UserWeek]]:
    """The report's aggregates from the metric tables of the client's dataset."""
    response = client.make_qualified_table_name("alert_response")
    load = client.make_qualified_table_name("oncall_load")
    team_sql = f"""
select coalesce(team_name, team_id, '{_NO_TEAM}') as team, cast(date_trunc('week', created_day) as date) as week,
  count(*) as alerts,
  percentile_cont(0.5) within group (order by seconds_to_acknowledge) / 60.0 as ack,
  percentile_cont(0.5) within group (order by seconds_to_close) / 60.0 as close
from {response} group by 1, 2 order by 2, 1"""
    user_sql = f"""
select coalesce(username, user_id) as who, week_start, sum(alerts_notified), sum(alerts_acknowledged),
  sum(alerts_closed),
  sum(notified_outside_working_hours + acknowledged_outside_working_hours + closed_outside_working_hours)
from {load} group by 1, 2 order by 2, 1"""
    teams = [TeamWeek(str(t), _as_date(w), int(n), _opt(a), _opt(c))
             for t, w, n, a, c in client.execute_sql(for_dialect(team_sql, dialect)) or []]
    users = [UserWeek(str(u), _as_date(w), int(n), int(a), int(c), int(o))
             for u, w, n, a, c, o in client.execute_sql(for_dialect(user_sql, dialect)) or []]
    return teams, users


def render_report(teams: Sequence[TeamWeek], users: Sequence[UserWeek], summary: MetricsSummary,
                  location: str, built_at: datetime) -> str:
    """The whole page as text."""
    weeks = sorted({t.week for t in teams})
    names = sorted({t.team for t in teams}, key=lambda n: (n == _NO_TEAM, n))
    by_team = {(t.team, t.week): t for t in teams}
    ack = {n: [_get(by_team, n, w, "median_ack_minutes") for w in weeks] for n in names}
    close = {n: [_get(by_team, n, w, "median_close_minutes") for w in weeks] for n in names}
    total = sum(t.alerts for t in teams)
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>Alert response report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Alert response report</h1>",
        f'<p class="meta">{total:,} alerts from <code>{_e(summary.source_dataset)}</code> in {_e(location)}; '
        f"metric tables in <code>{_e(summary.metrics_dataset)}</code>. Working hours: {_e(summary.working_hours)}. "
        f"Built {built_at:%Y-%m-%d %H:%M} UTC.</p>",
    ]
    if summary.warnings:
        parts.append('<ul class="warn">' + "".join(f"<li>{_e(w)}</li>" for w in summary.warnings) + "</ul>")
    parts += [
        "<h2>Median time to acknowledge, per team and week (minutes)</h2>",
        line_chart(weeks, ack, "minutes to acknowledge"),
        "<h2>Median time to close, per team and week (minutes)</h2>",
        line_chart(weeks, close, "minutes to close"),
        f"<h2>On-call load per user, latest {REPORT_WEEKS} weeks</h2>",
        load_table(users),
        '<p class="meta">Definitions: docs/metrics.md of airflow-provider-analytics. Weeks start on Monday, '
        "in the working hours' time zone.</p>",
        "</body></html>",
    ]
    return "\n".join(parts)


def line_chart(weeks: Sequence[date], series: dict[str, list[Optional[float]]], label: str) -> str:
    """An SVG line chart, one line per series, with a legend; gaps where a week has no value."""
    if not weeks or not series:
        return '<p class="empty">No alerts yet.</p>'
    width, height, left, right, top, bottom = 900, 300, 60, 170, 15, 40
    peak = nice_ceiling(max((v for values in series.values() for v in values if v is not None), default=0.0))
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(i: int) -> float:
        return left + (plot_w * i / (len(weeks) - 1) if len(weeks) > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h * (1 - v / peak)

    out = [f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{_e(label)}">']
    for k in range(5):
        value = peak * k / 4
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y(value):.1f}" y2="{y(value):.1f}" class="grid"/>'
                   f'<text x="{left - 6}" y="{y(value) + 4:.1f}" class="tick" text-anchor="end">{value:,.0f}</text>')
    step = max(1, len(weeks) // 8)
    for i in range(0, len(weeks), step):
        out.append(f'<text x="{x(i):.1f}" y="{height - bottom + 16}" class="tick" text-anchor="middle">'
                   f"{weeks[i]:%Y-%m-%d}</text>")
    for n, (name, values) in enumerate(series.items()):
        color = _PALETTE[n % len(_PALETTE)]
        for segment in _segments(values):
            points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in segment)
            out.append(f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="2"/>')
            if len(segment) == 1:
                i, v = segment[0]
                out.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="{color}"/>')
        ly = top + 14 * n + 8
        out.append(f'<rect x="{left + plot_w + 12}" y="{ly - 8}" width="10" height="10" fill="{color}"/>'
                   f'<text x="{left + plot_w + 27}" y="{ly + 1}" class="legend"><title>{_e(name)}</title>'
                   f"{_e(name if len(name) <= 22 else name[:21] + '…')}</text>")
    out.append("</svg>")
    return "".join(out)


def nice_ceiling(value: float) -> float:
    """The axis top: the smallest 1, 2, 2.5 or 5 times a power of ten at or above `value` (1 for nothing)."""
    if value <= 0:
        return 1.0
    scale = 10 ** math.floor(math.log10(value))
    return next(m * scale for m in (1, 2, 2.5, 5, 10) if m * scale >= value)


def load_table(users: Sequence[UserWeek]) -> str:
    """Users by total load over the latest weeks: notified / acknowledged / closed, and how much out of hours."""
    weeks = sorted({u.week for u in users})[-REPORT_WEEKS:]
    if not weeks:
        return '<p class="empty">No on-call events yet.</p>'
    cells: dict[str, dict[date, UserWeek]] = defaultdict(dict)
    for u in users:
        if u.week in weeks:
            cells[u.user][u.week] = u
    busiest = sorted(cells, key=lambda who: (-sum(c.notified for c in cells[who].values()), who))[:REPORT_USERS]
    peak = max((c.notified for who in busiest for c in cells[who].values()), default=1) or 1
    head = "".join(f"<th>{w:%Y-%m-%d}</th>" for w in weeks)
    rows = []
    for who in busiest:
        tds = []
        for w in weeks:
            c = cells[who].get(w)
            if c is None:
                tds.append("<td></td>")
                continue
            shade = 0.08 + 0.5 * c.notified / peak
            events = c.notified + c.acknowledged + c.closed
            tip = (f"{c.notified} notified, {c.acknowledged} acknowledged, {c.closed} closed; "
                   f"{c.outside_hours} of {events} outside working hours")
            tds.append(f'<td style="background:rgba(66,105,208,{shade:.2f})" title="{_e(tip)}">'
                       f"{c.notified}/{c.acknowledged}/{c.closed}"
                       + (f' <span class="ooh">{c.outside_hours}&#9790;</span>' if c.outside_hours else "")
                       + "</td>")
        rows.append(f"<tr><th>{_e(who)}</th>{''.join(tds)}</tr>")
    return (f'<table class="load"><thead><tr><th>user</th>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
            '<p class="meta">Each cell: alerts notified / acknowledged / closed that week; &#9790; events outside '
            f"working hours. The {len(busiest)} most notified users of these weeks.</p>")


def write_report(warehouse: Warehouse, summary: MetricsSummary, path: Path, logger: Optional[Log] = None) -> Path:
    """Read the aggregates, render the page and write it to `path` whole (a reader never sees half a file)."""
    from .build import metrics_sql_client

    with metrics_sql_client(warehouse, summary.metrics_dataset, logger) as client:
        teams, users = read_report_data(client, client.capabilities.sqlglot_dialect)
    page = render_report(teams, users, summary, warehouse.location, datetime.now(timezone.utc))
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(page)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def default_report_path(warehouse: Warehouse, metrics_dataset: str, home: Path) -> Path:
    """Next to a DuckDB file; for any other warehouse under `home`; named after the metrics dataset."""
    name = f"{metrics_dataset}_report.html"
    return Path(warehouse.location).with_name(name) if warehouse.kind == "duckdb" else home / name


def _segments(values: Sequence[Optional[float]]) -> list[list[tuple[int, float]]]:
    runs: list[list[tuple[int, float]]] = [[]]
    for i, v in enumerate(values):
        if v is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((i, v))
    return [r for r in runs if r]


def _get(by_team: dict[tuple[str, date], TeamWeek], team: str, week: date, attr: str) -> Optional[float]:
    found = by_team.get((team, week))
    return getattr(found, attr) if found is not None else None


def _as_date(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value


def _opt(value: Any) -> Optional[float]:
    return None if value is None else float(value)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:960px;color:#1d2433}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 6px}
.meta{color:#5b6475;font-size:12px}.empty{color:#5b6475}.warn{color:#8a4b00;font-size:12px}
svg{width:100%;height:auto}.grid{stroke:#e3e6ec}.tick{font-size:11px;fill:#5b6475}.legend{font-size:12px;fill:#1d2433}
table.load{border-collapse:collapse;font-size:12px;width:100%}
table.load th,table.load td{border:1px solid #e3e6ec;padding:3px 6px;text-align:right;white-space:nowrap}
table.load tbody th{text-align:left;font-weight:normal}.ooh{color:#8a4b00}
"""
