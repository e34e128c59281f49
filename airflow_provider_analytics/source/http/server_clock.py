"""The API's clock: when a response was made, from its `Date` header.

A run stores the time it started on the API's clock, because `updatedAt` is stamped by that
clock too; this machine's clock may be off by any amount.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from requests import Response

__all__ = ["http_date", "local_now_ms", "response_date_ms"]


def http_date(value: Optional[str]) -> Optional[datetime]:
    """An HTTP date (`Date`, `Retry-After`) as an aware datetime; HTTP dates are always GMT."""
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


def response_date_ms(response: Response) -> Optional[int]:
    """The response's `Date` header in epoch ms (whole seconds, rounded down), or None."""
    when = http_date(getattr(response, "headers", {}).get("Date"))
    return int(when.timestamp()) * 1000 if when is not None else None


def local_now_ms() -> int:
    """This machine's clock, for when the API sends no `Date`."""
    return int(time.time() * 1000)
