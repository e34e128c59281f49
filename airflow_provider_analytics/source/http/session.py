"""The requests session every read goes through: retries, no credentials across hosts, pages decoded once.

dlt's REST client takes a session, so the retries live in `Session.send` (on tenacity): dlt's
error hooks only see the final response, and every request, each page included, gets the same
policy. What no library does is ours: dropping every credential-bearing header on a redirect to
another host (requests drops only `Authorization`, and the key may travel in any header), and
handing each good page, decoded once, to an `on_page` callback (checks and progress).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import cached_property
from typing import Any, Optional, Protocol

import orjson
import requests
import tenacity
from requests.exceptions import ChunkedEncodingError, SSLError, Timeout
from requests.hooks import default_hooks, dispatch_hook

from .pacer import Pacer, PacerStats, is_throttle
from .page_check import PageCheck
from .retry import RetryPolicy
from .urls import url_for_log

__all__ = ["RETRYABLE_ERRORS", "NewSession", "RetryingSession", "Wire", "decode_once"]

log = logging.getLogger(__name__)

#: Failures without a response that a retry can cure (an SSL error cannot).
RETRYABLE_ERRORS = (requests.ConnectionError, Timeout, ChunkedEncodingError)
#: Headers a request keeps when redirected to another host; any other (an API key in `api_key`,
#: `X-Api-Key`, ...) is dropped.
_CROSS_HOST_REDIRECT_HEADERS = frozenset(
    {"accept", "accept-encoding", "accept-language", "user-agent", "connection", "cookie", "proxy-authorization"}
)

OnPage = Callable[[requests.Response], None]


class Wire(Protocol):
    """Another API's wire format spoken through readers written for the classic one (`source/jsm/wire.py`)."""

    name: str

    def outgoing(self, url: str) -> str: ...

    def incoming(self, url: str, body: Any) -> Any: ...


class NewSession(Protocol):
    """Makes a session for one reader thread; `check` replaces the run's page check (a child's parent listing)."""

    def __call__(self, check: Optional[PageCheck] = None) -> RetryingSession: ...


class RetryingSession(requests.Session):
    """A `requests.Session` whose `send` retries per a RetryPolicy.

    Statuses outside `retry_on_status_codes` (401, 403, 404...) come back at once. When retries
    run out on a status, the last response is returned and the response hooks (dlt's
    raise-for-status) see it; on a connection error the last error is raised. `retries` counts
    retries made by this session and `last_attempts` the attempts of the latest request (also
    set as `analytics_attempts` on responses and raised errors).

    :param on_page: called with every final 2xx response, its JSON decoded once (`response.json()`
        then returns the same object to every reader: the callback, dlt, the paginator).
    :param wire: translates each request's URL and each 2xx body (a connection to the successor API).
    """

    __attrs__ = requests.Session.__attrs__ + ["policy", "sleep", "on_page", "retries", "last_attempts", "pacer",
                                              "budget", "wire"]

    def __init__(
        self,
        policy: Optional[RetryPolicy] = None,
        sleep: Callable[[float], Any] = time.sleep,
        on_page: Optional[OnPage] = None,
        pacer: Optional[Pacer] = None,
        wire: Optional[Wire] = None,
    ) -> None:
        super().__init__()
        self.wire = wire
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.on_page = on_page
        self.pacer = pacer
        #: requests this session sent (retries included), how many were throttled, time spent waiting for budget
        self.budget = PacerStats()
        self.retries = 0
        self.last_attempts = 0

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.policy.timeout
        # Response hooks run inside Session.send; hold them back so a retryable status is not
        # raised before it can be retried.
        if self.wire is not None and request.url:
            request.url = self.wire.outgoing(request.url)
        hooks = request.hooks
        request.hooks = default_hooks()
        try:
            response = self._send_with_retries(request, kwargs)
        finally:
            request.hooks = hooks
        hook_kwargs = {k: v for k, v in kwargs.items() if k != "allow_redirects"}
        response = dispatch_hook("response", hooks, response, **hook_kwargs)
        if self.wire is not None and 200 <= response.status_code < 300:
            decode_once(response, self.wire)
        if self.on_page is not None and 200 <= response.status_code < 300:
            decode_once(response)
            self.on_page(response)
        return response

    def _send_with_retries(self, request: requests.PreparedRequest, kwargs: dict[str, Any]) -> requests.Response:
        self.last_attempts = 0
        try:
            response = self._retrying(self._attempt, request, kwargs)
        except RETRYABLE_ERRORS as error:
            error.analytics_attempts = self.last_attempts  # type: ignore[union-attr]  # read back by getattr
            raise
        response.analytics_attempts = self.last_attempts  # type: ignore[attr-defined]  # read back by getattr
        return response

    @cached_property
    def _retrying(self) -> tenacity.Retrying:
        """The session's retrier, made once: one per request would leave reference cycles for the
        garbage collector on every page (a few percent of a sync's time)."""
        return tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.policy.max_retries + 1),
            retry=tenacity.retry_if_exception(self._retryable_error)
            | tenacity.retry_if_result(lambda response: response.status_code in self.policy.retry_on_status_codes),
            wait=self._wait,
            sleep=lambda seconds: self.sleep(seconds),
            before_sleep=self._before_retry,
            # the last response, or raise the last error (tenacity sets `outcome` before it calls back)
            retry_error_callback=lambda state: state.outcome.result(),  # type: ignore[union-attr]
        )

    def _attempt(self, request: requests.PreparedRequest, kwargs: dict[str, Any]) -> requests.Response:
        self.last_attempts += 1
        self.budget.requests += 1
        pacer = self.pacer
        if pacer is None:
            response = requests.Session.send(self, request, **kwargs)
            self.budget.throttled += is_throttle(response.status_code, response.headers)
            return response
        self.budget.wait_seconds += pacer.acquire()
        sent_at, status, headers = pacer.now(), None, None
        if self.budget.first_sent is None:
            self.budget.first_sent = sent_at
        try:
            response = requests.Session.send(self, request, **kwargs)
            status, headers = response.status_code, response.headers
            return response
        finally:
            self.budget.throttled += pacer.release(sent_at, status, headers, self.policy.max_wait)
            self.budget.last_answered = pacer.now()

    def _retryable_error(self, error: BaseException) -> bool:
        return (
            isinstance(error, RETRYABLE_ERRORS)
            and not isinstance(error, SSLError)
            and self.policy.retry_on_connection_errors
        )

    def _wait(self, state: tenacity.RetryCallState) -> float:
        outcome = state.outcome
        assert outcome is not None
        if outcome.failed:
            return self.policy.backoff(state.attempt_number)
        return self.policy.wait_for(state.attempt_number, outcome.result().headers)

    def _before_retry(self, state: tenacity.RetryCallState) -> None:
        """Say what is retried and after how long; free the connection of the answer given up on."""
        request = state.args[0]
        outcome = state.outcome
        assert outcome is not None and state.next_action is not None
        if outcome.failed:
            reason = type(outcome.exception()).__name__
        else:
            response = outcome.result()
            reason = f"HTTP {response.status_code}"
            response.close()
        self.retries += 1
        log.warning(
            "%s on %s %s (attempt %d/%d); retrying in %.1f s",
            reason,
            request.method,
            url_for_log(request.url),
            state.attempt_number,
            self.policy.max_retries + 1,
            state.next_action.sleep,
        )

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
                    url_for_log(original),
                    url_for_log(prepared_request.url),
                    ", ".join(dropped),
                )
        super().rebuild_auth(prepared_request, response)


def decode_once(response: requests.Response, wire: Optional[Wire] = None) -> None:
    """Decode the body once, with orjson (several times faster than requests' decoder), for every reader.

    With a `wire`, readers get the body as it translates it; a response already decoded stays as it is.

    The decoder holds the body, not the response: a response holding a function that holds the
    response is a reference cycle, and the decoded page would then live on until the garbage
    collector found it instead of going as soon as the page is done with.
    """
    if getattr(response.json, "decoded_once", False):
        return
    content = response.content
    url = response.url or ""
    decoded: list[Any] = []

    def json(**kwargs: Any) -> Any:
        if not decoded:
            body = orjson.loads(content)
            decoded.append(wire.incoming(url, body) if wire is not None else body)
        return decoded[0]

    json.decoded_once = True  # type: ignore[attr-defined]

    response.json = json  # type: ignore[method-assign]
