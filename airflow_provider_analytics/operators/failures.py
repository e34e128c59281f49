"""Which failures of a sync Airflow retries, and which fail the task at once: decided here, in one table.

A retry helps only when the fault can pass by itself: a timeout, a 5xx, a throttled key, an API or
a warehouse briefly down. A mistake in the DAG, a connection or the config fails the same way on
every try, and the task would sit in `up_for_retry` through every backoff before saying so. Those
fail the task at once (`AirflowFailException`), with the original message, which says what to
fix, first in the task log. docs/errors-and-retries.md is this table in words; a test keeps the two
equal.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Optional, TypeVar, cast

from airflow.sdk.exceptions import AirflowFailException, AirflowNotFoundException

from airflow_provider_analytics.hooks.analytics import AnalyticsConnectionError
from airflow_provider_analytics.metrics.build import MetricsSourceError
from airflow_provider_analytics.pipeline.errors import ApiKeyRefusedError, SchemaFrozenError, SyncError
from airflow_provider_analytics.source.errors import (
    ConfigError,
    OptionError,
    ResourceUnsupportedError,
    UnknownResourceError,
)
from airflow_provider_analytics.warehouses.base import LockTimeoutError, WarehouseConfigError

__all__ = ["FAILURE_KINDS", "ApiKeyRefusedFailure", "FailureKind", "fail_fast", "failing_fast", "failure_type",
           "kind_of"]


class ApiKeyRefusedFailure(AirflowFailException, ApiKeyRefusedError):
    """The key was refused: the task fails at once, and callers may still catch it as an ApiKeyRefusedError."""


@dataclass(frozen=True)
class FailureKind:
    """One row of the table: an error kind, whether Airflow retries it, and what the user does about it.

    :param error: the exception type (subclasses included; the first row that matches wins).
    :param retry: whether the task keeps its retries for it.
    :param what_to_do: the advice, as docs/errors-and-retries.md shows it.
    :param hint: added to the failure's message when the error's own text does not say what to fix.
    """

    name: str
    error: type[BaseException]
    retry: bool
    what_to_do: str
    hint: str = ""

    def failure(self, error: BaseException) -> AirflowFailException:
        """The exception that fails the task without retries: the error's own message first, and still
        an instance of the error's type, so code that calls `execute` and catches it keeps working."""
        text = str(error).strip()
        if self.hint:
            text = f"{text}{'' if text.endswith(('.', '!', '?')) else '.'} {self.hint}"
        kind = failure_type(type(error))
        failure = kind.__new__(kind, text)  # the error's own __init__ may want more than a message
        failure.__dict__.update(vars(error))
        return failure


#: One combined type per error type, made once (`isinstance` checks and pickling stay stable).
_FAILURE_TYPES: dict[type[BaseException], type[AirflowFailException]] = {ApiKeyRefusedError: ApiKeyRefusedFailure}


def failure_type(error_type: type[BaseException]) -> type[AirflowFailException]:
    """`AirflowFailException` and `error_type` in one: what Airflow reads as "no retry", what callers catch."""
    if error_type not in _FAILURE_TYPES:
        name = f"{error_type.__name__}Failure"
        namespace = {"__module__": __name__,
                     "__doc__": f"A {error_type.__name__} that fails the task without retries."}
        try:
            made = cast(type[AirflowFailException], type(name, (AirflowFailException, error_type), namespace))
        except TypeError:  # a built-in exception layout that cannot be combined: Airflow's view is what counts
            made = AirflowFailException
        _FAILURE_TYPES[error_type] = made
    return _FAILURE_TYPES[error_type]


_CREATE_CONNECTION = (
    "Create it (Admin > Connections, `airflow connections add`, or an `AIRFLOW_CONN_<ID>` environment "
    "variable), or pass the id of one that exists."
)

#: Every error kind a sync can end in, most specific first. Errors of no row keep Airflow's retries.
FAILURE_KINDS: tuple[FailureKind, ...] = (
    FailureKind("missing connection", AirflowNotFoundException, False, _CREATE_CONNECTION, hint=_CREATE_CONNECTION),
    FailureKind("unusable API connection", AnalyticsConnectionError, False,
                "Fix the connection as the message says (its host, key or extras)."),
    FailureKind("unusable warehouse connection", WarehouseConfigError, False,
                "Use a supported connection type (docs/warehouses.md) and set the fields the message names."),
    FailureKind("invalid operator option", OptionError, False,
                "Fix the operator argument the message names (or the trigger form's value for it)."),
    FailureKind("unknown resource", UnknownResourceError, False,
                "Sync one of the built-in resources the message lists, or one the `config` defines."),
    FailureKind("resource the API does not serve", ResourceUnsupportedError, False,
                "Sync it from an OpsGenie connection, or set `on_unsupported='skip'` to skip it."),
    FailureKind("metric source tables missing", MetricsSourceError, False,
                "Sync the tables first (the daily DAG), or set `source_dataset` to the dataset the syncs write."),
    FailureKind("invalid config", ConfigError, False,
                "Fix the `config` key the message names (docs/seed-analytics-api-config.md)."),
    FailureKind("API key refused (HTTP 401/403)", ApiKeyRefusedError, False,
                "Fix the key in the connection's password, or give its integration read access."),
    FailureKind("frozen schema violated", SchemaFrozenError, False,
                "Allow the new field with `freeze_schema=False`, or stop the API sending it."),
    FailureKind("warehouse lock held too long", LockTimeoutError, True,
                "Retried: another sync held the table; if it keeps happening, run fewer syncs into it at once."),
    FailureKind("API or warehouse unavailable (timeout, HTTP 5xx, 429 after the connection's retries, "
                "connection refused, warehouse down)", SyncError, True,
                "Retried by Airflow after the connection's own retries; if it persists, check the API or "
                "warehouse the message names."),
)


def kind_of(error: BaseException) -> Optional[FailureKind]:
    """The table's row for `error`, or None (an error no row names keeps its retries)."""
    return next((kind for kind in FAILURE_KINDS if isinstance(error, kind.error)), None)


def fail_fast(error: BaseException) -> Optional[AirflowFailException]:
    """The `AirflowFailException` to raise instead of `error` when retries cannot help; None to raise `error`."""
    if isinstance(error, AirflowFailException):
        return None
    kind = kind_of(error)
    return None if kind is None or kind.retry else kind.failure(error)


Execute = TypeVar("Execute", bound=Callable[..., Any])


def failing_fast(execute: Execute) -> Execute:
    """Wrap an operator's `execute`: an error retries cannot fix fails the task at once, its message logged first."""

    @functools.wraps(execute)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return execute(self, *args, **kwargs)
        except Exception as error:
            failure = fail_fast(error)
            if failure is None:
                raise
            self.log.error("%s (failing without retries: a retry would fail the same way)", failure)
            raise failure from None

    return cast(Execute, wrapper)
