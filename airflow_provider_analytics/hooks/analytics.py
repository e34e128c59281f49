"""Airflow connection `analytics` -> API settings, an HTTP session, and a connection test."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from airflow.sdk import BaseHook

from airflow_provider_analytics import CONN_TYPE, UI_FIELD_BEHAVIOUR
from airflow_provider_analytics.source.settings import (
    DEFAULT_AUTH_HEADER,
    DEFAULT_AUTH_SCHEME,
    DEFAULT_MAX_RETRY_WAIT,
    DEFAULT_PAGE_SIZE,
    DEFAULT_TIMEOUT,
    ApiSettings,
    ApiSettingsError,
)

TEST_PATH = "/v2/users"
MASKED = "***"


class AnalyticsConnectionError(ValueError):
    """The Airflow connection cannot be used; the message says which connection and what to fix."""


def _extra(extras: dict[str, Any], name: str) -> Any:
    """Form fields may be stored bare or with Airflow's `extra__<type>__` prefix."""
    value = extras.get(name)
    if value in (None, ""):
        value = extras.get(f"extra__{CONN_TYPE}__{name}")
    return None if value == "" else value


def _key_header(extras: dict[str, Any]) -> str:
    """The header carrying the key: `key_header`, or `auth_header` (connections made outside the UI)."""
    for name in ("key_header", "auth_header"):
        value = _extra(extras, name)
        if value == MASKED:
            raise ApiSettingsError(
                f"extra '{name}' is '{MASKED}', a value Airflow shows in place of a secret: set the header "
                f"name itself (e.g. {DEFAULT_AUTH_HEADER}) in the 'Key header' field")
        if value:
            return str(value)
    return DEFAULT_AUTH_HEADER


class AnalyticsHook(BaseHook):
    """Reads an `analytics` connection lazily: host = API base URL, password = API key.

    Extras: `key_header` (default Authorization; `auth_header` is read too), `auth_scheme`
    (default GenieKey, empty for a bare key), `timeout` (seconds), `page_size` (1-100),
    `max_retry_wait` (seconds, default 60: the longest single wait before a retry, capping
    `Retry-After` / `X-RateLimit-Period-In-Sec` hints and backoff steps).
    """

    conn_name_attr = "analytics_conn_id"
    default_conn_name = "analytics_default"
    conn_type = CONN_TYPE
    hook_name = "Analytics API"

    def __init__(self, analytics_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.analytics_conn_id = analytics_conn_id

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """The connection form for Airflow releases that ask the hook."""
        return {key: dict(value) if isinstance(value, dict) else list(value) for key, value in UI_FIELD_BEHAVIOUR.items()}

    @cached_property
    def api_settings(self) -> ApiSettings:
        """The connection as API settings; the key is masked in task logs from here on."""
        conn = self.get_connection(self.analytics_conn_id)
        if conn.password:
            from airflow.sdk.log import mask_secret

            mask_secret(conn.password)
        extras = conn.extra_dejson or {}
        try:
            return ApiSettings(
                base_url=self._base_url(conn),
                api_key=conn.password or "",
                auth_header=_key_header(extras),
                auth_scheme=_scheme(extras),
                timeout=_number(extras, "timeout", DEFAULT_TIMEOUT, float),
                page_size=_number(extras, "page_size", DEFAULT_PAGE_SIZE, int),
                max_retry_wait=_number(extras, "max_retry_wait", DEFAULT_MAX_RETRY_WAIT, float),
            )
        except ApiSettingsError as error:
            raise AnalyticsConnectionError(f"Connection '{self.analytics_conn_id}': {error}") from None

    def _base_url(self, conn: Any) -> str:
        host = (conn.host or "").strip()
        if not host:
            raise AnalyticsConnectionError(
                f"Connection '{self.analytics_conn_id}' has no host: set it to the API base URL, "
                "e.g. https://api.opsgenie.com."
            )
        if "://" not in host:
            scheme = conn.schema if conn.schema in ("http", "https") else "https"
            host = f"{scheme}://{host}"
            if conn.port:
                host = f"{host}:{conn.port}"
        return host.rstrip("/")

    def get_session(self) -> Any:
        """A requests session with the retry policy and the auth header set."""
        from airflow_provider_analytics.source.retry import RetryingSession, RetryPolicy

        settings = self.api_settings
        session = RetryingSession(RetryPolicy(timeout=settings.timeout, max_wait=settings.max_retry_wait))
        session.headers.update(settings.headers())
        return session

    def test_connection(self) -> tuple[bool, str]:
        """One cheap real call; the message tells what to fix."""
        try:
            settings = self.api_settings
        except (AnalyticsConnectionError, ValueError) as error:
            return False, str(error)
        return check_api(settings)


def check_api(settings: ApiSettings) -> tuple[bool, str]:
    """Ask for one user: proves the URL, the key and read access in one request."""
    import requests

    url = f"{settings.base_url}{TEST_PATH}"
    try:
        response = requests.get(url, params={"limit": 1}, headers=settings.headers(), timeout=min(settings.timeout, 30))
    except requests.Timeout:
        return False, f"No answer from {settings.base_url} within {min(settings.timeout, 30):.0f} s: check the host and any proxy."
    except requests.ConnectionError:
        return False, f"Could not reach {settings.base_url}: check the host name, port and network access."
    except requests.RequestException as error:
        return False, f"Request to {settings.base_url} failed: {type(error).__name__}."
    status = response.status_code
    if status == 200:
        return True, f"Connected to {settings.base_url}: the API key was accepted."
    if status == 401:
        return False, "The API refused the key (HTTP 401): check the API key in the password field and the auth header/scheme."
    if status == 403:
        return False, "The key has no access (HTTP 403): give its API integration read access."
    if status == 404:
        return False, f"No API at {url} (HTTP 404): the host should be the API base URL, e.g. https://api.opsgenie.com."
    if status == 429:
        return False, "The API is rate limiting this key (HTTP 429): try again in a minute."
    return False, f"Unexpected answer from {settings.base_url}: HTTP {status}."


def _scheme(extras: dict[str, Any]) -> str:
    value = extras.get("auth_scheme", extras.get(f"extra__{CONN_TYPE}__auth_scheme"))
    if value is None:
        return DEFAULT_AUTH_SCHEME
    return str(value).strip()


def _number(extras: dict[str, Any], name: str, default: Any, kind: type) -> Any:
    value = _extra(extras, name)
    if value is None:
        return default
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise ApiSettingsError(f"extra '{name}' must be a number, not {value!r}.") from None
    if kind is int and float(value) != number:
        raise ApiSettingsError(f"extra '{name}' must be a whole number, not {value!r}.")
    return number
