"""One cheap real request that proves the base URL, the key and read access: the connection test."""

from __future__ import annotations

from ..settings import ApiSettings
from .status import key_refusal

#: The endpoint asked for one record: every key that can sync can read users.
PROBE_PATH = "/v2/users"
#: The longest a connection test waits, whatever the connection's own timeout.
PROBE_TIMEOUT = 30.0


def probe_api(settings: ApiSettings) -> tuple[bool, str]:
    """(reached and accepted, what to tell the user); never raises, never shows the key."""
    import requests

    url = f"{settings.base_url}{PROBE_PATH}"
    timeout = min(settings.timeout, PROBE_TIMEOUT)
    try:
        response = requests.get(url, params={"limit": 1}, headers=settings.headers(), timeout=timeout)
    except requests.Timeout:
        return False, f"No answer from {settings.base_url} within {timeout:.0f} s: check the host and any proxy."
    except requests.ConnectionError:
        return False, f"Could not reach {settings.base_url}: check the host name, port and network access."
    except requests.RequestException as error:
        return False, f"Request to {settings.base_url} failed: {type(error).__name__}."
    status = response.status_code
    if status == 200:
        return True, f"Connected to {settings.base_url}: the API key was accepted."
    refusal = key_refusal(status)
    if refusal is not None:
        return False, f"The API at {settings.base_url} {refusal.what} (HTTP {status}). {refusal.advice}."
    if status == 404:
        return False, f"No API at {url} (HTTP 404): the host should be the API base URL, e.g. https://api.opsgenie.com."
    if status == 429:
        return False, "The API is rate limiting this key (HTTP 429): try again in a minute."
    return False, f"Unexpected answer from {settings.base_url}: HTTP {status}."
