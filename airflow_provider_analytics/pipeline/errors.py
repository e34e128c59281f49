"""A failed sync, reduced to its root cause and said in words a DAG author can act on (never the key)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional, Protocol

from ..source.errors import (
    ForeignHostError,
    MalformedPageError,
    MaxPagesExceededError,
    PaginationError,
    PaginationLoopError,
)
from ..source.http.retry import header_wait
from ..source.http.status import api_message, key_refusal
from ..source.http.urls import origin, origin_text

if TYPE_CHECKING:
    from requests import Response

    from ..source.http.retry import RetryPolicy
    from ..source.http.session import Wire


class RequestSource(Protocol):
    """What made a run's requests (a session, or a run's sessions), for what a failure does not say itself."""

    @property
    def policy(self) -> RetryPolicy: ...

    @property
    def wire(self) -> Optional[Wire]: ...

    @property
    def last_attempts(self) -> int: ...


class SyncError(RuntimeError):
    """A sync failed; the message names the resource and what to do, never the key."""


class ApiKeyRefusedError(SyncError):
    """The API answered 401/403: retrying cannot help."""


class SchemaFrozenError(SyncError):
    """The schema is frozen and the API sent a field (or a type) the table does not have."""


def root_cause(error: BaseException) -> BaseException:
    """The innermost exception: dlt wraps step failures in its own."""
    seen = set()
    while id(error) not in seen:
        seen.add(id(error))
        nxt = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
        if nxt is None:
            break
        error = nxt
    return error


#: What a failed run leaves in the warehouse, unless it loaded in steps (a resource read per parent).
NOTHING_LOADED = "Nothing was loaded by this run."


def sync_error(
    error: Exception, resource: str, base_url: str, session: RequestSource, target: str, outcome: str = NOTHING_LOADED
) -> SyncError:
    """The error to raise for a failed run of `resource` into `target` (dataset.table).

    `session` is what made the requests (a session, or a run's sessions): its `policy` and
    `last_attempts` fill in what the failed response or error does not say itself. `outcome`
    says what the failed run left loaded.
    """
    root = root_cause(error)
    from dlt.common.schema.exceptions import DataValidationError

    if isinstance(root, MalformedPageError):  # already says resource, page and what is wrong
        return SyncError(str(root))

    if isinstance(root, DataValidationError):
        what = f"a new field '{root.column_name}'" if root.column_name else "a new table"
        if root.schema_entity == "data_type" or "__v_" in (root.column_name or ""):
            column, _, got = (root.column_name or "").partition("__v_")
            what = f"a value of another type for column '{column}'" + (f" ({got})" if got else "")
        return SchemaFrozenError(
            f"{resource}: the schema of {target} is frozen and the API sent {what} for table "
            f"'{root.table_name}'. Nothing was loaded. Allow it with freeze_schema=False, or ignore it upstream."
        )
    response = getattr(root, "response", None)
    status = getattr(response, "status_code", None)
    if response is not None and status is not None:
        return _status_error(response, status, resource, base_url, session, outcome)
    guard = _pagination_guard_error(error, resource, outcome)
    if guard is not None:
        return guard
    unanswered = _find_in_chain(error, _request_exception_types())
    if unanswered is not None:
        return _no_answer_error(unanswered, resource, base_url, session, outcome)
    return SyncError(f"{resource}: sync failed: {type(root).__name__}: {root}")


def _status_error(
    response: Response, status: int, resource: str, base_url: str, session: RequestSource, outcome: str
) -> SyncError:
    """The API (or a host it redirected to) answered with an error status, after any retries."""
    attempts = _attempts(response, session)
    request_id = _request_id(response)
    message = _message(response).strip()
    details = (f" (requestId {request_id})" if request_id else "") + (f": {_sentence(message)}" if message else ".")
    elsewhere = _redirected_to(response, base_url)
    if elsewhere is not None:
        return SyncError(
            f"{resource}: the API at {base_url} redirected the request to another host, {elsewhere}, which "
            f"answered HTTP {status}{details} The API key is never sent along a redirect to another host; "
            f"if {elsewhere} is the API's address, make it the connection's host."
        )
    wire = getattr(session, "wire", None)
    refusal = key_refusal(status, wire.name) if wire is not None else key_refusal(status)
    if refusal is not None:
        return ApiKeyRefusedError(f"{resource}: the API at {base_url} {refusal.what} (HTTP {status}). {refusal.advice}.")
    hint = _throttle_hint(response, session) if status == 429 else ""
    return SyncError(
        f"{resource}: the API at {base_url} answered HTTP {status} after {attempts} attempt(s){details} "
        f"{outcome}{hint}"
    )


def _throttle_hint(response: Response, session: RequestSource) -> str:
    """What to do when 429s outlasted the retries; notes when the waits were capped below the API's ask."""
    asked = header_wait(response.headers)
    max_wait = getattr(getattr(session, "policy", None), "max_wait", None)
    hint = " The API is still throttling this key" + (f" (it asked for a {asked:g} s pause)" if asked is not None else "")
    hint += ". Run fewer syncs against this account at once, or retry later"
    if asked is not None and max_wait is not None and max_wait < asked:
        hint += f"; each retry waited only {max_wait:g} s (the connection's max_retry_wait)"
    return hint + "."


def _pagination_guard_error(error: BaseException, resource: str, outcome: str) -> SyncError | None:
    """Paging stopped by a guard (foreign host, repeated link, max_pages): say which, and that nothing loaded."""
    reasons = (
        (ForeignHostError, "a next-page link points to another host"),
        (PaginationLoopError, "the API's pagination loops"),
        (MaxPagesExceededError, "the run would fetch more pages than max_pages allows"),
        (PaginationError, "the listing cannot be paged further"),
    )
    for kind, reason in reasons:
        guard = _find_in_chain(error, (kind,))
        if guard is not None:
            return SyncError(
                f"{resource}: stopped paging because {reason}: {_sentence(str(guard))} {outcome}"
            )
    return None


def _no_answer_error(
    exc: BaseException, resource: str, base_url: str, session: RequestSource, outcome: str
) -> SyncError:
    """A connection error or timeout that outlasted the retries: the API gave no usable answer."""
    from requests.exceptions import ChunkedEncodingError, ConnectTimeout, ReadTimeout, Timeout

    attempts = _attempts(exc, session)
    timeout = getattr(getattr(session, "policy", None), "timeout", None)
    within = f" within {timeout:g} s" if timeout is not None else ""
    if isinstance(exc, ConnectTimeout):
        what = f"no connection could be made{within} (the connection's `timeout` extra)"
    elif isinstance(exc, (ReadTimeout, Timeout)):
        what = f"no response{within} (the connection's `timeout` extra; raise it for a slow API)"
    elif isinstance(exc, ChunkedEncodingError):
        what = "its response broke off midway"
    elif _find_in_chain(exc, (ConnectionRefusedError,)) is not None:
        what = "the connection was refused (check the host and port, and that the API is up)"
    elif _find_in_chain(exc, (ConnectionResetError, ConnectionAbortedError)) is not None or _closed_without_answer(exc):
        what = "it closed the connection without a response"
    else:
        what = f"the connection failed ({type(root_cause(exc)).__name__})"
    return SyncError(
        f"{resource}: the API at {base_url} did not answer after {attempts} attempt(s): {what}. {outcome}"
    )


def _closed_without_answer(exc: BaseException) -> bool:
    from http.client import RemoteDisconnected

    from urllib3.exceptions import ProtocolError

    return _find_in_chain(exc, (RemoteDisconnected, ProtocolError)) is not None


def _request_exception_types() -> tuple[type[BaseException], ...]:
    from requests.exceptions import ChunkedEncodingError, ConnectionError, Timeout

    return (ConnectionError, Timeout, ChunkedEncodingError)


def _find_in_chain(error: BaseException, kinds: tuple[type[BaseException], ...]) -> BaseException | None:
    """The outermost exception of one of `kinds` in `error`'s cause/context chain (error included)."""
    seen = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, kinds):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _attempts(failure: Response | BaseException, session: RequestSource) -> int:
    """Attempts of the failed request: marked on the response or error by the retrying session."""
    attempts = getattr(failure, "analytics_attempts", None) or getattr(session, "last_attempts", 0)
    return int(attempts or 1)


def _redirected_to(response: Response, base_url: str) -> Optional[str]:
    """The origin the response came from when a redirect took the request off the API's host."""
    if not getattr(response, "history", None) or not getattr(response, "url", None):
        return None
    final = origin(response.url)
    return None if final == origin(base_url) else origin_text(final)


def _sentence(text: str) -> str:
    """`text` as a sentence (ending in `.`, `!` or `?`), so another can follow it."""
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _request_id(response: Response) -> str | None:
    try:
        body = response.json()
    except Exception:
        return None
    return body.get("requestId") if isinstance(body, dict) else None


def _message(response: Response) -> str:
    try:
        message = api_message(response.json())
        if message:
            return message[:500]
    except Exception:
        pass
    return (response.text or response.reason or "")[:500]


def child_sync_error(error: Exception, resource: str, base_url: str, session: RequestSource, target: str,
                     parents_loaded: int) -> SyncError:
    """A failed sync of a resource read per parent: names the parent whose read failed and what stays loaded."""
    from ..source.errors import ParentRecordsError

    failed = _find_in_chain(error, (ParentRecordsError,))
    label = f"{resource} (records of {failed.parent})" if isinstance(failed, ParentRecordsError) else resource
    outcome = (
        f"The {parents_loaded} parent(s) loaded before stay loaded; the next run continues after them."
        if parents_loaded else NOTHING_LOADED
    )
    return sync_error(error, label, base_url, session, target, outcome)
