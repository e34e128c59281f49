"""Airflow provider that syncs an alerting/analytics REST API into a warehouse with dlt."""

from __future__ import annotations

from typing import Any

from airflow_provider_analytics.source.flavour import AUTO_FLAVOUR, DEFAULT_FLAVOUR, FLAVOURS
from airflow_provider_analytics.source.jsm.endpoints import CLOUD_ID_LOOKUP, JSM_HOST
from airflow_provider_analytics.source.settings import (
    DEFAULT_AUTH_HEADER,
    DEFAULT_AUTH_SCHEME,
    DEFAULT_MAX_REQUESTS_PER_SECOND,
    DEFAULT_MAX_RETRY_WAIT,
    DEFAULT_PAGE_SIZE,
    DEFAULT_TIMEOUT,
    MAX_PAGE_SIZE,
)

__version__ = "0.1.0"

CONN_TYPE = "analytics"
DEFAULT_CONN_ID = "analytics_default"
HOOK_CLASS = "airflow_provider_analytics.hooks.analytics.AnalyticsHook"


def _plain(number: float) -> float:
    """A default as the form shows it: 60, not 60.0."""
    return int(number) if float(number).is_integer() else number


# The connection form, declared once: Airflow 3.2+ reads it from the provider info
# without importing the hook, older releases ask the hook (which returns the same dict).
UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden_fields": ["schema", "port"],
    "relabeling": {"host": "API base URL", "login": "Email (Jira Service Management)",
                   "password": "API key or API token"},
    "placeholders": {
        "host": f"https://api.opsgenie.com (EU: https://api.eu.opsgenie.com); Jira Service Management: https://{JSM_HOST}",
        "login": "OpsGenie: leave empty. Jira Service Management: your Atlassian account email",
        "password": "OpsGenie: an API integration's key. Jira Service Management: an Atlassian API token",
        "api_flavour": f"{DEFAULT_FLAVOUR} (from the host)",
        "cloud_id": "Jira Service Management only: your site's cloud id (a UUID)",
        "extra": f'{{"key_header": "{DEFAULT_AUTH_HEADER}", "auth_scheme": "{DEFAULT_AUTH_SCHEME}"}}',
        "key_header": DEFAULT_AUTH_HEADER,
        "auth_scheme": f"{DEFAULT_AUTH_SCHEME} (empty: send the bare key)",
        "timeout": str(_plain(DEFAULT_TIMEOUT)),
        "page_size": str(DEFAULT_PAGE_SIZE),
        "max_retry_wait": str(_plain(DEFAULT_MAX_RETRY_WAIT)),
        "max_requests_per_second": f"{DEFAULT_MAX_REQUESTS_PER_SECOND} (or your plan's requests per second)",
    },
}

# Not `auth_header`: Airflow masks fields whose name contains one of its sensitive words (that one
# is), and its form would offer and save "***" as the header's name.
CONN_FIELDS: dict[str, Any] = {
    "api_flavour": {
        "label": "API",
        "description": f"Which API the host serves: '{AUTO_FLAVOUR}' decides from the host ({JSM_HOST} is "
        "Jira Service Management operations, any other OpsGenie); 'opsgenie' or 'jsm' states it.",
        "schema": {"type": ["string", "null"], "default": DEFAULT_FLAVOUR, "enum": [AUTO_FLAVOUR, *FLAVOURS, None]},
    },
    "cloud_id": {
        "label": "Cloud id (Jira Service Management)",
        "description": f"The site's cloud id, part of every request's path; find it at {CLOUD_ID_LOOKUP}.",
        "schema": {"type": ["string", "null"]},
    },
    "key_header": {
        "label": "Key header",
        "description": "HTTP header that carries the API key (OpsGenie; Jira Service Management uses basic auth).",
        "schema": {"type": ["string", "null"], "default": DEFAULT_AUTH_HEADER},
    },
    "auth_scheme": {
        "label": "Auth scheme",
        "description": "Word sent before the key in the auth header; empty sends the bare key.",
        "schema": {"type": ["string", "null"], "default": DEFAULT_AUTH_SCHEME},
    },
    "timeout": {
        "label": "Request timeout (seconds)",
        "description": "Per-request connect and read timeout.",
        "schema": {"type": ["number", "null"], "default": _plain(DEFAULT_TIMEOUT)},
    },
    "page_size": {
        "label": "Page size",
        "description": f"Records per page (the API's maximum is {MAX_PAGE_SIZE}).",
        "schema": {"type": ["integer", "null"], "default": DEFAULT_PAGE_SIZE, "minimum": 1, "maximum": MAX_PAGE_SIZE},
    },
    "max_retry_wait": {
        "label": "Longest retry wait (seconds)",
        "description": "Caps each wait before a retry: the API's Retry-After / X-RateLimit-Period-In-Sec and backoff.",
        "schema": {"type": ["number", "null"], "default": _plain(DEFAULT_MAX_RETRY_WAIT), "minimum": 0},
    },
    "max_requests_per_second": {
        "label": "Max requests per second",
        "description": "Requests per second each sync task may send to the account, never exceeded "
        "(tasks running at once each get it); "
        f"'{DEFAULT_MAX_REQUESTS_PER_SECOND}' learns the budget from the API's throttling.",
        "schema": {"type": ["string", "null"], "default": DEFAULT_MAX_REQUESTS_PER_SECOND},
    },
}


def get_provider_info() -> dict[str, Any]:
    """Describe the provider to Airflow's providers manager (entry point `apache_airflow_provider`)."""
    return {
        "package-name": "airflow-provider-analytics",
        "name": "Analytics",
        "description": "Sync an alerting/analytics REST API (OpsGenie-shaped) into a warehouse with dlt.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "Analytics",
                "external-doc-url": "https://docs.opsgenie.com/docs/api-overview",
                "tags": ["service"],
            }
        ],
        "operators": [
            {
                "integration-name": "Analytics",
                "python-modules": ["airflow_provider_analytics.operators.analytics",
                                   "airflow_provider_analytics.operators.metrics"],
            }
        ],
        "hooks": [
            {
                "integration-name": "Analytics",
                "python-modules": ["airflow_provider_analytics.hooks.analytics"],
            }
        ],
        "connection-types": [
            {
                "hook-class-name": HOOK_CLASS,
                "hook-name": "Analytics API",
                "connection-type": CONN_TYPE,
                "conn-fields": CONN_FIELDS,
                "ui-field-behaviour": {
                    "hidden-fields": UI_FIELD_BEHAVIOUR["hidden_fields"],
                    "relabeling": UI_FIELD_BEHAVIOUR["relabeling"],
                    "placeholders": UI_FIELD_BEHAVIOUR["placeholders"],
                },
            }
        ],
    }
