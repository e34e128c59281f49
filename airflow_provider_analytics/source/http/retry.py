"""What to retry and how long to wait: the connection's policy, or a seed config's `error_handler`.

The API throttles with 429 (saying how long in `X-RateLimit-Period-In-Sec`) and has transient
5xx errors. The waits honour what the API asks (that header, or `Retry-After`), else back off
exponentially; no single wait exceeds `max_wait`. The retrying itself is the session's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Optional

from ..settings import DEFAULT_MAX_RETRY_WAIT, DEFAULT_TIMEOUT
from .server_clock import http_date

__all__ = ["ERROR_HANDLER_KEYS", "RetryPolicy", "header_wait"]

#: The keys a seed config's `error_handler` may hold.
ERROR_HANDLER_KEYS = ("retry_on_status_codes", "max_retries", "backoff_factor", "max_wait")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class RetryPolicy:
    """What to retry and how long to wait; every field is checked when the policy is made.

    The wait before retry n (1-based) is `backoff_factor * 2 ** (n - 1)` seconds, unless the
    response says how long to wait (`Retry-After`, `X-RateLimit-Period-In-Sec`). No single
    wait exceeds `max_wait`.
    """

    retry_on_status_codes: tuple[int, ...] = (429, 500, 502, 503, 504)
    max_retries: int = 4
    backoff_factor: float = 1.0
    max_wait: float = DEFAULT_MAX_RETRY_WAIT
    retry_on_connection_errors: bool = True
    timeout: float = DEFAULT_TIMEOUT

    def __post_init__(self) -> None:
        codes = self.retry_on_status_codes
        if not isinstance(codes, (tuple, list)) or not all(
            isinstance(c, int) and not isinstance(c, bool) and 100 <= c <= 599 for c in codes
        ):
            raise ValueError("retry_on_status_codes must be a list of HTTP status codes (100-599)")
        object.__setattr__(self, "retry_on_status_codes", tuple(codes))
        retries = self.max_retries
        if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
            raise ValueError("max_retries must be an integer >= 0")
        if not _is_number(self.backoff_factor) or self.backoff_factor < 0:
            raise ValueError("backoff_factor must be a number >= 0")
        if not _is_number(self.max_wait) or self.max_wait < 0:
            raise ValueError("max_wait must be a number >= 0")
        if not _is_number(self.timeout) or self.timeout <= 0:
            raise ValueError("timeout must be a number > 0")

    @classmethod
    def from_error_handler(cls, handler: Mapping[str, Any], **defaults: Any) -> RetryPolicy:
        """A policy from an Airbyte-style `error_handler` mapping; what it leaves out comes from `defaults`.

        Unknown keys raise ValueError naming the key, so a typo does not silently fall back to
        defaults; wrong values are refused by the policy's own checks, which name the key too.
        """
        if not isinstance(handler, Mapping):
            raise ValueError(f"error_handler must be a mapping, got {type(handler).__name__}")
        for key in handler:
            if key not in ERROR_HANDLER_KEYS:
                raise ValueError(f"error_handler has unknown key {key!r}; known keys: {', '.join(ERROR_HANDLER_KEYS)}")
        return cls(**{**defaults, **handler})

    def backoff(self, retry: int) -> float:
        """Exponential wait before retry number `retry` (1-based), capped."""
        try:
            wait = self.backoff_factor * 2 ** (retry - 1)
        except OverflowError:
            wait = self.max_wait
        return float(min(wait, self.max_wait))

    def wait_for(self, retry: int, headers: Optional[Mapping[str, str]]) -> float:
        """Seconds to wait before `retry`: the response's own hint (its headers), else backoff."""
        hinted = header_wait(headers) if headers is not None else None
        if hinted is None:
            return self.backoff(retry)
        return float(min(hinted, self.max_wait))


def header_wait(headers: Mapping[str, str]) -> Optional[float]:
    """The larger of Retry-After and X-RateLimit-Period-In-Sec, if any is usable."""
    waits = [w for w in (_retry_after(headers.get("Retry-After")), _seconds(headers.get("X-RateLimit-Period-In-Sec")))
             if w is not None]
    return max(waits) if waits else None


def _seconds(value: Optional[str]) -> Optional[float]:
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except (ValueError, AttributeError):
        return None
    if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN or infinite
        return None
    return max(seconds, 0.0)


def _retry_after(value: Optional[str]) -> Optional[float]:
    """Retry-After is either delta-seconds or an HTTP date."""
    seconds = _seconds(value)
    if seconds is not None or value is None:
        return seconds
    when = http_date(value)
    if when is None:
        return None
    return max((when - datetime.now(timezone.utc)).total_seconds(), 0.0)
