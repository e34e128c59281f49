"""The API's clock: when a response was made, from its `Date` header.

A run stores the time it started on the API's clock, because `updatedAt` is stamped by that
clock too; this machine's clock may be off by any amount.
"""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime
from typing import Any, Optional

__all__ = ["local_now_ms", "response_date_ms"]


def response_date_ms(response: Any) -> Optional[int]:
    """The response's `Date` header in epoch ms (whole seconds, rounded down), or None."""
    raw = getattr(response, "headers", {}).get("Date")
    if not raw:
        return None
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return int(when.timestamp()) * 1000


def local_now_ms() -> int:
    """This machine's clock, for when the API sends no `Date`."""
    return int(time.time() * 1000)
