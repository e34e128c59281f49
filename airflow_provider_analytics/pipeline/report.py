"""The end of a sync as one block of the task log: the numbers a reader checks first, one per line."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .sync import SyncSummary

#: The block's first line; what to search a task log for.
SUMMARY_TITLE = "Sync summary"


def summary_block(summary: SyncSummary) -> str:
    """`summary` as a titled block of `label  value` lines (one log record keeps it together)."""
    method = f"{summary.mode}, {summary.method}" if summary.method else summary.mode
    rate = f" ({summary.records_per_second:.0f} records/s)" if summary.records_fetched else ""
    lines = [
        ("resource", summary.resource),
        ("target table", f"{summary.dataset}.{summary.table}"),
        ("method/mode", method),
        ("rows loaded", str(summary.rows)),
        ("table rows", str(summary.table_rows)),
        ("deleted", str(summary.deleted)),
        ("pages", str(summary.pages)),
        ("requests", str(summary.requests)),
        ("throttled", str(summary.throttled)),
        ("seconds", f"{summary.seconds:.1f}{rate}"),
    ]
    if summary.parents is not None:
        lines.append(("parents", _parents(summary)))
    width = max(len(label) for label, _ in lines)
    return "\n".join([SUMMARY_TITLE, *(f"  {label:<{width}}  {value}" for label, value in lines)])


def _parents(summary: SyncSummary) -> str:
    notes = []
    if summary.parents_gone:
        notes.append(f"{summary.parents_gone} gone upstream")
    if summary.resumed:
        notes.append(f"continued a pass that had done {summary.parents_skipped}")
    return f"{summary.parents}" + (f" ({'; '.join(notes)})" if notes else "")
