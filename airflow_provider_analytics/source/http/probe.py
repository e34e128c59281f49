"""One cheap real request that proves the base URL, the key and read access: the connection test."""

from __future__ import annotations

from ..flavour import FLAVOUR_JSM, FLAVOUR_NAMES
from ..jsm import endpoints as jsm
from ..settings import ApiSettings
from .status import key_refusal

#: The endpoint asked for one record: every key that can sync can read users.
PROBE_PATH = "/v2/users"
PROBE_PARAMS = {"limit": 1}
#: The longest a connection test waits, whatever the connection's own timeout.
PROBE_TIMEOUT = 30.0


def probe_api(settings: ApiSettings) -> tuple[bool, str]:
    """(reached and accepted, what to tell the user); never raises, never shows the key."""
    import requests

    successor = settings.flavour == FLAVOUR_JSM
    path, params = (jsm.PROBE_PATH, jsm.PROBE_PARAMS) if successor else (PROBE_PATH, PROBE_PARAMS)
    url = f"{settings.base_url}{path}"
    api = FLAVOUR_NAMES[settings.flavour]
    timeout = min(settings.timeout, PROBE_TIMEOUT)
    try:
        response = requests.get(url, params=params, headers=settings.headers(), timeout=timeout)
    except requests.Timeout:
        return False, f"No answer from {settings.base_url} within {timeout:.0f} s: check the host and any proxy."
    except requests.ConnectionError:
        return False, f"Could not reach {settings.base_url}: check the host name, port and network access."
    except requests.RequestException as error:
        return False, f"Request to {settings.base_url} failed: {type(error).__name__}."
    status = response.status_code
    if status == 200:
        credential = "the email and API token were" if successor else "the API key was"
        return True, f"Connected to {api} at {settings.base_url}: {credential} accepted."
    refusal = key_refusal(status, settings.flavour)
    if refusal is not None:
        return False, f"The API at {settings.base_url} {refusal.what} (HTTP {status}). {refusal.advice}."
    if status == 404 and successor:
        return False, (f"No {api} at {url} (HTTP 404): check the cloud id (find it at {jsm.CLOUD_ID_LOOKUP}) "
                       f"and that the host is https://{jsm.JSM_HOST}.")
    if status == 404:
        return False, f"No API at {url} (HTTP 404): the host should be the API base URL, e.g. https://api.opsgenie.com."
    if status == 429:
        return False, "The API is rate limiting this key (HTTP 429): try again in a minute."
    return False, f"Unexpected answer from {settings.base_url}: HTTP {status}."
