"""Airflow connection `analytics` -> API settings, and the connection test."""

from __future__ import annotations

from functools import cached_property
from typing import Any, Optional

from airflow.sdk import BaseHook

from airflow_provider_analytics import CONN_TYPE, DEFAULT_CONN_ID, UI_FIELD_BEHAVIOUR
from airflow_provider_analytics.connection_extras import extra_field
from airflow_provider_analytics.source.flavour import FLAVOUR_OPSGENIE, OPSGENIE_BASE_URL, api_base_url, flavour_of
from airflow_provider_analytics.source.settings import (
    AUTO_RATE,
    DEFAULT_AUTH_HEADER,
    DEFAULT_AUTH_SCHEME,
    DEFAULT_MAX_RETRY_WAIT,
    DEFAULT_PAGE_SIZE,
    DEFAULT_TIMEOUT,
    ApiSettings,
    ApiSettingsError,
)

#: What Airflow shows in place of a secret; a header name saved as this came from a masked form.
MASKED = "***"
#: The connection type of the OpsGenie provider (`apache-airflow-providers-opsgenie`): an existing one
#: can be used as it is (host = base URL, empty for the default; password = the key).
OPSGENIE_CONN_TYPE = "opsgenie"


class AnalyticsConnectionError(ValueError):
    """The Airflow connection cannot be used; the message says which connection and what to fix."""


class AnalyticsHook(BaseHook):
    """Reads an `analytics` connection lazily: host = API base URL, password = API key (or token).

    Extras: `api_flavour` (`auto`, the default, decides from the host: `api.atlassian.com` is the
    Jira Service Management operations API; `opsgenie`, `jsm`), `cloud_id` (the successor's site,
    part of its base URL; login = the Atlassian account's email, password = its API token), `key_header` (default Authorization; `auth_header` is read too), `auth_scheme`
    (default GenieKey, empty for a bare key), `timeout` (seconds), `page_size` (1-100),
    `max_retry_wait` (seconds: the longest single wait before a retry, capping
    `Retry-After` / `X-RateLimit-Period-In-Sec` hints and backoff steps),
    `max_requests_per_second` (requests per second each sync task may send, or `auto` to learn
    the account's budget).

    The OpsGenie provider's `opsgenie` connection works too, read as its own hook reads it: host =
    base URL (empty: https://api.opsgenie.com), password = key. It always speaks the OpsGenie API.
    """

    conn_name_attr = "analytics_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = CONN_TYPE
    hook_name = "Analytics API"

    def __init__(self, analytics_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.analytics_conn_id = analytics_conn_id

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """The connection form for Airflow releases that ask the hook."""
        return {key: dict(value) if isinstance(value, dict) else list(value) for key, value in UI_FIELD_BEHAVIOUR.items()}

    def get_conn(self) -> ApiSettings:
        """The connection as API settings (what a sync reads the API with)."""
        return self.api_settings

    @cached_property
    def api_settings(self) -> ApiSettings:
        """The connection as API settings; the key is masked in task logs from here on."""
        from airflow.sdk.log import mask_secret

        conn = self.get_connection(self.analytics_conn_id)
        if conn.password:
            mask_secret(conn.password)
        extras = conn.extra_dejson or {}
        try:
            host_url = self._base_url(conn)
            flavour = FLAVOUR_OPSGENIE if _is_opsgenie(conn) else flavour_of(
                host_url, extra_field(extras, "api_flavour", CONN_TYPE))
            settings = ApiSettings(
                base_url=api_base_url(host_url, flavour, extra_field(extras, "cloud_id", CONN_TYPE)),
                api_key=conn.password or "",
                auth_header=_key_header(extras),
                auth_scheme=_scheme(extras),
                timeout=_number(extras, "timeout", DEFAULT_TIMEOUT, float),
                page_size=_number(extras, "page_size", DEFAULT_PAGE_SIZE, int),
                max_retry_wait=_number(extras, "max_retry_wait", DEFAULT_MAX_RETRY_WAIT, float),
                max_requests_per_second=_rate(extras),
                flavour=flavour,
                login=conn.login or "",
            )
        except ApiSettingsError as error:
            raise AnalyticsConnectionError(f"Connection '{self.analytics_conn_id}': {error}") from None
        for secret in settings.secrets:
            mask_secret(secret)
        return settings

    def _base_url(self, conn: Any) -> str:
        host = (conn.host or "").strip()
        if not host and _is_opsgenie(conn):
            return OPSGENIE_BASE_URL
        if not host:
            raise AnalyticsConnectionError(
                f"Connection '{self.analytics_conn_id}' has no host: set it to the API base URL, "
                f"e.g. {OPSGENIE_BASE_URL}."
            )
        if "://" not in host:
            scheme = conn.schema if conn.schema in ("http", "https") else "https"
            host = f"{scheme}://{host}"
            if conn.port:
                host = f"{host}:{conn.port}"
        return host.rstrip("/")

    def test_connection(self) -> tuple[bool, str]:
        """One cheap real call; the message tells what to fix."""
        from airflow_provider_analytics.source.http.probe import probe_api

        try:
            settings = self.api_settings
        except (AnalyticsConnectionError, ValueError) as error:
            return False, str(error)
        return probe_api(settings)


def _is_opsgenie(conn: Any) -> bool:
    """A connection of the OpsGenie provider's type: the OpsGenie API, never its successor."""
    return (conn.conn_type or "").strip().lower() == OPSGENIE_CONN_TYPE


def _key_header(extras: dict[str, Any]) -> str:
    """The header carrying the key: `key_header`, or `auth_header` (connections made outside the UI)."""
    for name in ("key_header", "auth_header"):
        value = extra_field(extras, name, CONN_TYPE)
        if value == MASKED:
            raise ApiSettingsError(
                f"extra '{name}' is '{MASKED}', a value Airflow shows in place of a secret: set the header "
                f"name itself (e.g. {DEFAULT_AUTH_HEADER}) in the 'Key header' field")
        if value:
            return str(value)
    return DEFAULT_AUTH_HEADER


def _scheme(extras: dict[str, Any]) -> str:
    """The auth scheme; an empty one is kept (it sends the bare key)."""
    value = extra_field(extras, "auth_scheme", CONN_TYPE, keep_blank=True)
    return DEFAULT_AUTH_SCHEME if value is None else str(value).strip()


def _rate(extras: dict[str, Any]) -> Optional[float]:
    """`max_requests_per_second`: a number, or `auto` (also when unset) to learn it."""
    value = extra_field(extras, "max_requests_per_second", CONN_TYPE)
    if value is None or str(value).strip().lower() == AUTO_RATE:
        return None
    return _number(extras, "max_requests_per_second", None, float)


def _number(extras: dict[str, Any], name: str, default: Any, kind: type) -> Any:
    value = extra_field(extras, name, CONN_TYPE)
    if value is None:
        return default
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise ApiSettingsError(f"extra '{name}' must be a number, not {value!r}.") from None
    if kind is int and float(value) != number:
        raise ApiSettingsError(f"extra '{name}' must be a whole number, not {value!r}.")
    return number
