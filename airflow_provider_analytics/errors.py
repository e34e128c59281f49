"""A failed sync, reduced to its root cause and said in words a DAG author can act on (never the key)."""

from __future__ import annotations

from typing import Any


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


def sync_error(error: Exception, resource: str, base_url: str, session: Any, target: str) -> SyncError:
    """The error to raise for a failed run of `resource` into `target` (dataset.table)."""
    root = root_cause(error)
    from dlt.common.schema.exceptions import DataValidationError

    from .source.page_check import MalformedPageError

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
    if status in (401, 403):
        what = "refused the API key" if status == 401 else "denied access with this API key"
        return ApiKeyRefusedError(
            f"{resource}: the API at {base_url} {what} (HTTP {status}). Check the key in the "
            "connection's password field and that its API integration may read this resource."
        )
    if status is not None:
        request_id = _request_id(response)
        return SyncError(
            f"{resource}: the API answered HTTP {status} after {getattr(session, 'last_attempts', 1)} attempt(s)"
            f"{f' (requestId {request_id})' if request_id else ''}: {_message(response)}"
        )
    return SyncError(f"{resource}: sync failed: {type(root).__name__}: {root}")


def _request_id(response: Any) -> str | None:
    try:
        body = response.json()
    except Exception:
        return None
    return body.get("requestId") if isinstance(body, dict) else None


def _message(response: Any) -> str:
    try:
        body = response.json()
        if isinstance(body, dict) and body.get("message"):
            return str(body["message"])[:500]
    except Exception:
        pass
    return (response.text or response.reason or "")[:500]
