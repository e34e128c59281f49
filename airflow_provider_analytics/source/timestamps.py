"""The API's timestamps <-> epoch milliseconds, the unit its `query` terms and our cursors use.

The API writes ISO-8601 UTC with trimmed fractions (`...41.03Z`, `...40.926Z`, `...02Z`): a
parser that expects one form breaks on the others.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any, Optional

from .errors import IncrementalConfigError


def epoch_ms(value: Any) -> Optional[int]:
    """An API timestamp (any trimmed fraction) -> epoch ms; None for anything else."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return round(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None


def to_epoch_ms(value: Any, name: str = "start_date") -> Optional[int]:
    """A user's date given as datetime, date, ISO-8601 text or epoch ms -> epoch ms (UTC if naive).

    `name` is the option's name, for the message when the value cannot be read.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise IncrementalConfigError(f"{name} must be a date, a datetime, ISO-8601 text or epoch ms, not {value!r}")
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise IncrementalConfigError(
                f"{name}={value!r} is not an ISO-8601 date or timestamp (e.g. 2024-01-31 or 2024-01-31T12:00:00Z)"
            ) from None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return round(value.timestamp() * 1000)
    raise IncrementalConfigError(f"{name} must be a date, a datetime, ISO-8601 text or epoch ms, not {type(value).__name__}")


def iso_from_ms(ms: int) -> str:
    """Epoch ms -> ISO-8601 UTC with milliseconds, for the task log and the stored cursor."""
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
