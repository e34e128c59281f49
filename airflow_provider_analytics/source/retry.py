"""A requests session with a bounded retry policy.

The API throttles with 429 (saying how long in `X-RateLimit-Period-In-Sec`)
and has transient 5xx errors. dlt's REST client takes a session, so the
retries live in `Session.send`: dlt's error hooks only see the final
response, and every request (including each page) gets the same policy.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Mapping, Optional
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.exceptions import ChunkedEncodingError, SSLError, Timeout
from requests.hooks import default_hooks, dispatch_hook

__all__ = ["RetryPolicy", "RetryingSession"]

log = logging.getLogger(__name__)

_RETRYABLE_ERRORS = (requests.ConnectionError, Timeout, ChunkedEncodingError)
_ERROR_HANDLER_KEYS = ("retry_on_status_codes", "max_retries", "backoff_factor", "max_wait")
#: Headers a request keeps when redirected to another host; any other (an API key in `api_key`,
#: `X-Api-Key`, ...) is dropped, as requests itself drops only `Authorization`.
_CROSS_HOST_REDIRECT_HEADERS = frozenset(
    {"accept", "accept-encoding", "accept-language", "user-agent", "connection", "cookie", "proxy-authorization"}
)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class RetryPolicy:
    """What to retry and how long to wait.

    The wait before retry n (1-based) is `backoff_factor * 2 ** (n - 1)`
    seconds, unless the response says how long to wait (`Retry-After`,
    `X-RateLimit-Period-In-Sec`). No single wait exceeds `max_wait`.
    """

    retry_on_status_codes: tuple[int, ...] = (429, 500, 502, 503, 504)
    max_retries: int = 4
    backoff_factor: float = 1.0
    max_wait: float = 60.0
    retry_on_connection_errors: bool = True
    timeout: float = 60.0

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
    def from_error_handler(cls, handler: Mapping[str, Any]) -> "RetryPolicy":
        """Build a policy from an Airbyte-style `error_handler` mapping.

        Unknown keys and wrong types raise ValueError naming the key, so a
        typo does not silently fall back to defaults.
        """
        if not isinstance(handler, Mapping):
            raise ValueError(f"error_handler must be a mapping, got {type(handler).__name__}")
        for key in handler:
            if key not in _ERROR_HANDLER_KEYS:
                raise ValueError(
                    f"error_handler has unknown key {key!r}; known keys: {', '.join(_ERROR_HANDLER_KEYS)}"
                )
        kwargs: dict[str, Any] = {}
        if "retry_on_status_codes" in handler:
            codes = handler["retry_on_status_codes"]
            if not isinstance(codes, (list, tuple)) or not all(
                isinstance(c, int) and not isinstance(c, bool) and 100 <= c <= 599 for c in codes
            ):
                raise ValueError(
                    "error_handler.retry_on_status_codes must be a list of HTTP status codes (100-599)"
                )
            kwargs["retry_on_status_codes"] = tuple(codes)
        if "max_retries" in handler:
            value = handler["max_retries"]
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError("error_handler.max_retries must be an integer >= 0")
            kwargs["max_retries"] = value
        for key in ("backoff_factor", "max_wait"):
            if key in handler:
                value = handler[key]
                if not _is_number(value) or value < 0:
                    raise ValueError(f"error_handler.{key} must be a number >= 0")
                kwargs[key] = float(value)
        return cls(**kwargs)

    def backoff(self, retry: int) -> float:
        """Exponential wait before retry number `retry` (1-based), capped."""
        try:
            wait = self.backoff_factor * 2 ** (retry - 1)
        except OverflowError:
            wait = self.max_wait
        return min(wait, self.max_wait)

    def wait_for(self, retry: int, response: Optional[requests.Response]) -> float:
        """Seconds to wait before `retry`: the response's own hint, else backoff."""
        hinted = _header_wait(response.headers) if response is not None else None
        if hinted is None:
            return self.backoff(retry)
        return min(hinted, self.max_wait)


def _header_wait(headers: Mapping[str, str]) -> Optional[float]:
    """The larger of Retry-After and X-RateLimit-Period-In-Sec, if any is usable."""
    hints = (
        _retry_after(headers.get("Retry-After")),
        _seconds(headers.get("X-RateLimit-Period-In-Sec")),
    )
    waits = [w for w in hints if w is not None]
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
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max((when - datetime.now(timezone.utc)).total_seconds(), 0.0)


def _safe_url(url: Optional[str]) -> str:
    """URL for logs: no query string, no user info."""
    if not url:
        return "<unknown url>"
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class RetryingSession(requests.Session):
    """A `requests.Session` whose `send` retries per a RetryPolicy.

    Statuses outside `retry_on_status_codes` (401, 403, 404...) come back at
    once. When retries run out on a status, the last response is returned
    and the response hooks (dlt's raise-for-status) see it; on a connection
    error the last error is raised. `retries` counts retries made by this
    session and `last_attempts` the attempts of the latest request (also set
    as `analytics_attempts` on responses and raised errors).

    A redirect to another host carries no credentials: every header but a few
    harmless ones is dropped (requests alone drops only `Authorization`, and
    the key may travel in any header).
    """

    __attrs__ = requests.Session.__attrs__ + ["policy", "sleep", "retries", "last_attempts"]

    def __init__(
        self,
        policy: Optional[RetryPolicy] = None,
        sleep: Callable[[float], Any] = time.sleep,
    ) -> None:
        super().__init__()
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.retries = 0
        self.last_attempts = 0

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.policy.timeout
        # Response hooks run inside Session.send; hold them back so a
        # retryable status is not raised before it can be retried.
        hooks = request.hooks
        request.hooks = default_hooks()
        try:
            response = self._send_with_retries(request, **kwargs)
        finally:
            request.hooks = hooks
        hook_kwargs = {k: v for k, v in kwargs.items() if k != "allow_redirects"}
        return dispatch_hook("response", hooks, response, **hook_kwargs)

    def _send_with_retries(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        policy = self.policy
        attempts = 0
        while True:
            attempts += 1
            self.last_attempts = attempts
            can_retry = attempts <= policy.max_retries
            try:
                response = super().send(request, **kwargs)
            except _RETRYABLE_ERRORS as exc:
                if isinstance(exc, SSLError) or not policy.retry_on_connection_errors or not can_retry:
                    exc.analytics_attempts = attempts  # type: ignore[attr-defined]
                    raise
                wait = policy.backoff(attempts)
                reason = type(exc).__name__
            else:
                if response.status_code not in policy.retry_on_status_codes or not can_retry:
                    response.analytics_attempts = attempts  # type: ignore[attr-defined]
                    return response
                wait = policy.wait_for(attempts, response)
                reason = f"HTTP {response.status_code}"
                response.close()
            self.retries += 1
            log.warning(
                "%s on %s %s (attempt %d/%d); retrying in %.1f s",
                reason,
                request.method,
                _safe_url(request.url),
                attempts,
                policy.max_retries + 1,
                wait,
            )
            self.sleep(wait)

    def rebuild_auth(self, prepared_request: requests.PreparedRequest, response: requests.Response) -> None:
        """Drop credential-bearing headers when a redirect leaves the original host."""
        original = response.request.url if response.request is not None else None
        if original and self.should_strip_auth(original, prepared_request.url or ""):
            dropped = sorted(
                name for name in prepared_request.headers if name.lower() not in _CROSS_HOST_REDIRECT_HEADERS
            )
            for name in dropped:
                del prepared_request.headers[name]
            if dropped:
                log.warning(
                    "%s redirected to another host, %s; not sending the %s header(s) there",
                    _safe_url(original),
                    _safe_url(prepared_request.url),
                    ", ".join(dropped),
                )
        super().rebuild_auth(prepared_request, response)
