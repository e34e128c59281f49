"""The metric tables as SQL: one statement each, the same text on DuckDB and PostgreSQL.

Written in the subset both engines read alike (`AT TIME ZONE`, `->>` on JSON, `percentile_cont
... WITHIN GROUP`, `extract(epoch|isodow ...)`, `date_trunc('week', ...)`); for any other
warehouse dlt serves, `for_dialect` translates it with sqlglot. Times are carried as epoch
milliseconds (bigint, exact), so differences never depend on a session's time zone; local dates
and hours are read only through `AT TIME ZONE <working hours' zone>`.

docs/metrics.md defines every column in words; a change here changes that page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .working_hours import WorkingHours

TIMESTAMP = "timestamp with time zone"

#: Source table -> the columns the metrics read, with the type a missing column is read as (NULL).
SOURCE_COLUMNS: dict[str, dict[str, str]] = {
    "alerts": {"id": "varchar", "tiny_id": "varchar", "priority": "varchar", "source": "varchar",
               "status": "varchar", "owner_team_id": "varchar", "created_at": TIMESTAMP,
               "updated_at": TIMESTAMP, "report": "json"},
    "alert_logs": {"alert_id": "varchar", "offset": "varchar", "log": "varchar", "owner": "varchar",
                   "created_at": TIMESTAMP},
    "alert_recipients": {"alert_id": "varchar", "user_id": "varchar"},
    "teams": {"id": "varchar", "name": "varchar"},
    "users": {"id": "varchar", "username": "varchar"},
    "incidents": {"id": "varchar", "tiny_id": "varchar", "message": "varchar", "priority": "varchar",
                  "status": "varchar", "owner_team": "varchar", "impact_start_date": TIMESTAMP,
                  "created_at": TIMESTAMP, "updated_at": TIMESTAMP},
}
#: Tables whose rows marked deleted upstream (`_deleted_at`) are left out. Teams and users keep theirs:
#: an alert acknowledged by someone who has left still counts, under their name.
LIVE_ROWS_ONLY = frozenset({"alerts", "alert_logs", "alert_recipients", "incidents"})
#: Without these the metrics mean nothing: the build stops and says which sync to run.
REQUIRED_COLUMNS = {"alerts": ("id", "created_at")}

#: How an alert log entry is recognised, by its text (case-insensitive SQL LIKE patterns). The API's
#: spec gives the entries' text no grammar; these are the texts the vendor writes ("Alert
#: acknowledged via web"). An entry is at most one of these events; see docs/metrics.md.
LOG_PATTERNS: dict[str, str] = {
    "acknowledged": "alert acknowledged%",
    "unacknowledged": "alert unacknowledged%",
    "closed": "alert closed%",
    "reopened": "alert reopened%",
}
#: An entry that mentions an escalation counts as one, whatever else it records.
ESCALATION_PATTERN = "%escalated%"


@dataclass(frozen=True)
class Sources:
    """What the SQL reads: each source table as a FROM item (a live-rows subquery or an empty one)."""

    relations: Mapping[str, str]
    #: the metric dataset's qualified name of `alert_response`, read by the two tables built from it
    alert_response: str


def source_relation(qualified: str | None, present: set[str], columns: Mapping[str, str],
                    quote: Callable[[str], str], live_only: bool = True) -> str:
    """A subquery giving exactly `columns`: the table's own where present, NULL of the right type where not.

    With `live_only`, rows marked deleted upstream (`_deleted_at` set) are left out. A table that is not there at all
    (`qualified` None) becomes an empty relation of the same columns.
    """
    items = [f"{quote(c)} as {quote(c)}" if c in present else f"cast(null as {t}) as {quote(c)}"
             for c, t in columns.items()]
    if qualified is None:
        return f"(select {', '.join(items)} where 1 = 0)"
    live = f" where {quote('_deleted_at')} is null" if live_only and "_deleted_at" in present else ""
    return f"(select {', '.join(items)} from {qualified}{live})"


def _epoch_ms(expr: str) -> str:
    """Milliseconds since the epoch, exact (the API's times have millisecond precision)."""
    return f"cast(round(extract(epoch from {expr}) * 1000) as bigint)"


def _seconds(ms_expr: str) -> str:
    return f"(cast({ms_expr} as double precision) / 1000.0)"


def _instant(ms_expr: str) -> str:
    return f"to_timestamp({ms_expr} / 1000.0)"


def _local(expr: str, hours: WorkingHours) -> str:
    return f"({expr} at time zone '{hours.time_zone}')"


def outside_working_hours(ts: str, hours: WorkingHours) -> str:
    """SQL truth value: the instant `ts` (timestamp with time zone) is outside working hours."""
    local = _local(ts, hours)
    minute = f"(extract(hour from {local}) * 60 + extract(minute from {local}))"
    if hours.start_minute < hours.end_minute:
        in_hours = f"{minute} >= {hours.start_minute} and {minute} < {hours.end_minute}"
    else:
        in_hours = f"({minute} >= {hours.start_minute} or {minute} < {hours.end_minute})"
    days = ", ".join(str(d) for d in hours.days)
    return f"(not (extract(isodow from {local}) in ({days}) and {in_hours}))"


def alert_response_sql(src: Sources, hours: WorkingHours) -> str:
    """One row per alert: when it was acknowledged and closed, by whom, how often reopened and escalated.

    The log is read once, and every CTE is used once: an engine keeps a CTE used twice whole in
    memory (DuckDB within the connection's `memory_limit`), and the log is the biggest table.
    """
    r = src.relations
    kind = "case " + " ".join(f"when lower(l.log) like '{p}' then '{k}'" for k, p in LOG_PATTERNS.items()) + " end"
    return f"""
with alerts as (select * from {r['alerts']} a),
events as (
  select alert_id, owner, at_ms, kind, escalation,
    row_number() over (partition by alert_id, kind order by at_ms, ord) as nth,
    row_number() over (partition by alert_id, kind order by at_ms desc, ord desc) as nth_from_last
  from (
    select l.alert_id, l.owner, {_epoch_ms('l.created_at')} as at_ms, l."offset" as ord, {kind} as kind,
      case when lower(l.log) like '{ESCALATION_PATTERN}' then 1 else 0 end as escalation
    from {r['alert_logs']} l
  ) x
  where kind is not null or escalation = 1
),
log_facts as (
  select alert_id,
    max(case when kind = 'acknowledged' and nth = 1 then at_ms end) as ack_log_ms,
    max(case when kind = 'acknowledged' and nth = 1 then owner end) as ack_log_by,
    max(case when kind = 'closed' and nth_from_last = 1 then at_ms end) as close_log_ms,
    max(case when kind = 'closed' and nth_from_last = 1 then owner end) as close_log_by,
    sum(case when kind in ('unacknowledged', 'reopened') then 1 else 0 end) as reopened,
    sum(escalation) as escalated
  from events group by alert_id
),
recipients as (select alert_id, count(distinct user_id) as n from {r['alert_recipients']} x group by alert_id),
resolved as (
  select a.*, t.name as team_name, {_epoch_ms('a.created_at')} as created_ms,
    lf.ack_log_ms, lf.ack_log_by, lf.close_log_ms, lf.close_log_by,
    cast(round(cast(a.report ->> 'ackTime' as double precision)) as bigint) as report_ack_ms,
    cast(round(cast(a.report ->> 'closeTime' as double precision)) as bigint) as report_close_ms,
    a.report ->> 'acknowledgedBy' as report_ack_by, a.report ->> 'closedBy' as report_close_by,
    coalesce(lf.reopened, 0) as reopened, coalesce(lf.escalated, 0) as escalated, rc.n as recipients_n
  from alerts a
  left join {r['teams']} t on t.id = a.owner_team_id
  left join log_facts lf on lf.alert_id = a.id
  left join recipients rc on rc.alert_id = a.id
),
timed as (
  select *,
    coalesce(ack_log_ms, created_ms + report_ack_ms) as ack_ms,
    case when ack_log_ms is not null then ack_log_by when report_ack_ms is not null then report_ack_by end as ack_by,
    case when status = 'closed'
         then coalesce(close_log_ms, created_ms + report_close_ms, {_epoch_ms('updated_at')}) end as close_ms,
    case when status = 'closed'
         then case when close_log_ms is not null then close_log_by
                   when report_close_ms is not null then report_close_by end end as close_by
  from resolved
)
select
  id as alert_id, tiny_id, owner_team_id as team_id, team_name, priority, source, status,
  created_at,
  cast({_local('created_at', hours)} as date) as created_day,
  {outside_working_hours('created_at', hours)} as created_outside_working_hours,
  {_instant('ack_ms')} as first_acknowledged_at,
  {_instant('close_ms')} as closed_at,
  {_seconds('ack_ms - created_ms')} as seconds_to_acknowledge,
  {_seconds('close_ms - created_ms')} as seconds_to_close,
  {_seconds('coalesce(least(ack_ms, close_ms), ack_ms, close_ms) - created_ms')} as seconds_to_respond,
  ack_by as acknowledged_by,
  close_by as closed_by,
  cast(escalated as bigint) as escalations,
  cast(recipients_n as bigint) as notified_recipients,
  cast(reopened as bigint) as times_reopened
from timed
"""


def response_daily_sql(src: Sources, hours: WorkingHours) -> str:
    """Per local day of creation, team and priority: counts, median and p90 times, the share out of hours."""
    return f"""
select
  created_day as day, team_id, team_name, priority,
  count(*) as alerts_created,
  count(first_acknowledged_at) as alerts_acknowledged,
  count(closed_at) as alerts_closed,
  percentile_cont(0.5) within group (order by seconds_to_acknowledge) as median_seconds_to_acknowledge,
  percentile_cont(0.9) within group (order by seconds_to_acknowledge) as p90_seconds_to_acknowledge,
  percentile_cont(0.5) within group (order by seconds_to_close) as median_seconds_to_close,
  percentile_cont(0.9) within group (order by seconds_to_close) as p90_seconds_to_close,
  cast(avg(case when created_outside_working_hours then 1.0 else 0.0 end) as double precision)
    as share_created_outside_working_hours
from {src.alert_response}
group by created_day, team_id, team_name, priority
"""


def oncall_load_sql(src: Sources, hours: WorkingHours) -> str:
    """Per user and local week: alerts the user was notified of, acknowledged first, closed; and out of hours."""
    r = src.relations
    week = f"cast(date_trunc('week', {_local('happened_at', hours)}) as date)"
    counts = []
    for kind in ("notified", "acknowledged", "closed"):
        counts.append(f"cast(sum(case when kind = '{kind}' then 1 else 0 end) as bigint) as alerts_{kind}")
    for kind in ("notified", "acknowledged", "closed"):
        counts.append(f"cast(sum(case when kind = '{kind}' and outside then 1 else 0 end) as bigint)"
                      f" as {kind}_outside_working_hours")
    return f"""
with users as (select * from {r['users']} u),
events as (
  select rc.user_id, ar.created_at as happened_at, 'notified' as kind
  from {r['alert_recipients']} rc join {src.alert_response} ar on ar.alert_id = rc.alert_id
  union all
  select u.id, ar.first_acknowledged_at, 'acknowledged'
  from {src.alert_response} ar join users u on u.username = ar.acknowledged_by
  where ar.first_acknowledged_at is not null
  union all
  select u.id, ar.closed_at, 'closed'
  from {src.alert_response} ar join users u on u.username = ar.closed_by
  where ar.closed_at is not null
),
placed as (
  select user_id, kind, {week} as week_start, {outside_working_hours('happened_at', hours)} as outside from events
)
select p.user_id, u.username, p.week_start,
  {', '.join(counts)}
from placed p left join users u on u.id = p.user_id
group by p.user_id, u.username, p.week_start
"""


def incident_response_sql(src: Sources, hours: WorkingHours) -> str:
    """Per incident: from the impact's start to creation, resolution and close (listing times; see the docs)."""
    r = src.relations
    return f"""
with incidents as (
  select x.*, {_epoch_ms('created_at')} as created_ms,
    coalesce({_epoch_ms('impact_start_date')}, {_epoch_ms('created_at')}) as start_ms,
    case when status in ('resolved', 'closed') then {_epoch_ms('updated_at')} end as resolved_ms,
    case when status = 'closed' then {_epoch_ms('updated_at')} end as closed_ms
  from {r['incidents']} x
)
select i.id as incident_id, i.tiny_id, i.message, i.priority, i.status, i.owner_team as team_id,
  t.name as team_name,
  {_instant('i.start_ms')} as impact_started_at,
  i.created_at,
  {_instant('i.resolved_ms')} as resolved_at,
  {_instant('i.closed_ms')} as closed_at,
  {_seconds('i.created_ms - i.start_ms')} as seconds_impact_to_created,
  {_seconds('i.resolved_ms - i.start_ms')} as seconds_impact_to_resolved,
  {_seconds('i.closed_ms - i.start_ms')} as seconds_impact_to_closed
from incidents i left join {r['teams']} t on t.id = i.owner_team
"""


#: Metric table -> its SQL, in build order.
STATEMENTS: dict[str, Callable[[Sources, WorkingHours], str]] = {
    "alert_response": alert_response_sql,
    "response_daily": response_daily_sql,
    "oncall_load": oncall_load_sql,
    "incident_response": incident_response_sql,
}


def for_dialect(sql: str, dialect: str | None) -> str:
    """The statement for a warehouse: unchanged for DuckDB and PostgreSQL, else translated by sqlglot."""
    if dialect in (None, "duckdb", "postgres"):
        return sql
    import sqlglot

    return sqlglot.transpile(sql, read="postgres", write=dialect)[0]
