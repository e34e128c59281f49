"""What the dlt side needs to reach the API: base URL, key and request settings, never printed.

The connection's defaults are written here once; the connection form and the hook read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional
from urllib.parse import urlparse

from .errors import ApiSettingsError
from .flavour import FLAVOUR_JSM, FLAVOUR_NAMES, FLAVOUR_OPSGENIE, FLAVOURS

if TYPE_CHECKING:  # the session loads requests; settings are read at DAG-parse time
    from dlt.sources.helpers.rest_client.auth import AuthConfigBase

    from .http.session import Wire

DEFAULT_AUTH_HEADER = "Authorization"
DEFAULT_AUTH_SCHEME = "GenieKey"
#: Per-request connect and read timeout, in seconds.
DEFAULT_TIMEOUT = 60.0
#: Longest single wait before a retry (a Retry-After / X-RateLimit-Period-In-Sec hint or a backoff step).
DEFAULT_MAX_RETRY_WAIT = 60.0
#: Records per page; the API's own maximum is MAX_PAGE_SIZE.
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 100
#: Requests per second to the account: "auto" learns the budget from the API's throttling.
AUTO_RATE = "auto"
DEFAULT_MAX_REQUESTS_PER_SECOND = AUTO_RATE

__all__ = [
    "AUTO_RATE",
    "DEFAULT_AUTH_HEADER",
    "DEFAULT_MAX_REQUESTS_PER_SECOND",
    "DEFAULT_AUTH_SCHEME",
    "DEFAULT_MAX_RETRY_WAIT",
    "DEFAULT_PAGE_SIZE",
    "DEFAULT_TIMEOUT",
    "MAX_PAGE_SIZE",
    "ApiSettings",
    "ApiSettingsError",
    "has_credentials",
]


def has_credentials(url: Any) -> bool:
    """Whether a URL carries user info (`https://user:secret@host`), which would be logged with it."""
    try:
        parsed = urlparse(url) if isinstance(url, str) else None
    except ValueError:
        return False
    return bool(parsed and (parsed.username or parsed.password))


def _is_seconds(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < float("inf")


@dataclass(frozen=True)
class ApiSettings:
    """Base URL, key and request settings of one API account; checked when made.

    :param flavour: which API the base URL speaks (`opsgenie`, `jsm`; `source/flavour.py`).
    :param login: the Atlassian account's email, for the successor API's basic auth (`api_key`
        is then the account's API token).
    """

    base_url: str
    api_key: str = field(repr=False)
    auth_header: str = DEFAULT_AUTH_HEADER
    auth_scheme: str = DEFAULT_AUTH_SCHEME
    timeout: float = DEFAULT_TIMEOUT
    page_size: int = DEFAULT_PAGE_SIZE
    max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT
    #: requests per second never to exceed; None ("auto"): learnt from the API's throttling
    max_requests_per_second: Optional[float] = None
    flavour: str = FLAVOUR_OPSGENIE
    login: str = ""

    def __post_init__(self) -> None:
        parsed = urlparse(self.base_url or "")
        if has_credentials(self.base_url):
            raise ApiSettingsError(
                "The API base URL carries credentials (user:password@): remove them and put the key in the "
                "connection's password field; the base URL appears in task logs and error messages."
            )
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ApiSettingsError(
                f"The API base URL {self.base_url!r} is not an http(s) URL: use e.g. "
                "https://api.opsgenie.com or https://api.eu.opsgenie.com."
            )
        if self.flavour not in FLAVOURS:
            raise ApiSettingsError(f"Unknown API flavour {self.flavour!r}: use one of {', '.join(FLAVOURS)}.")
        if not self.api_key:
            what = "API token" if self.flavour == FLAVOUR_JSM else "API key"
            raise ApiSettingsError(f"No {what}: put the {what.removeprefix('API ')} in the connection's password field.")
        if self.flavour == FLAVOUR_JSM and not self.login.strip():
            raise ApiSettingsError(
                f"{FLAVOUR_NAMES[FLAVOUR_JSM]} signs in with an Atlassian account: put its email in the "
                "connection's login field (and the account's API token in the password field)."
            )
        if not self.auth_header:
            raise ApiSettingsError("The auth header name is empty: leave it unset for 'Authorization'.")
        if not (_is_seconds(self.timeout) and self.timeout > 0):
            raise ApiSettingsError(f"The request timeout must be a positive number of seconds, not {self.timeout!r}.")
        if not _is_seconds(self.max_retry_wait):
            raise ApiSettingsError(
                f"The longest wait before a retry (max_retry_wait) must be a number of seconds >= 0, not {self.max_retry_wait!r}."
            )
        rate = self.max_requests_per_second
        if rate is not None and not (_is_seconds(rate) and rate > 0):
            raise ApiSettingsError(
                f"max_requests_per_second must be a number above 0 or '{AUTO_RATE}', not {rate!r}."
            )
        if not (isinstance(self.page_size, int) and 1 <= self.page_size <= MAX_PAGE_SIZE):
            raise ApiSettingsError(f"The page size must be a whole number from 1 to {MAX_PAGE_SIZE}, not {self.page_size!r}.")

    @property
    def auth_value(self) -> str:
        """The auth header's value: `GenieKey <key>`, the bare key when the scheme is empty, or
        `Basic <base64 of email:token>` for the successor API."""
        if self.flavour == FLAVOUR_JSM:
            import base64

            return "Basic " + base64.b64encode(f"{self.login.strip()}:{self.api_key}".encode()).decode()
        return f"{self.auth_scheme} {self.api_key}" if self.auth_scheme else self.api_key

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every form of the secret a request carries (to mask in logs): the key, and the basic-auth value."""
        return (self.api_key, self.auth_value.partition(" ")[2]) if self.flavour == FLAVOUR_JSM else (self.api_key,)

    def dlt_auth(self) -> AuthConfigBase:
        """dlt's auth for the REST client: the key in the configured header, or basic auth (successor API)."""
        if self.flavour == FLAVOUR_JSM:
            from dlt.sources.helpers.rest_client.auth import HttpBasicAuth

            return HttpBasicAuth(username=self.login.strip(), password=self.api_key)
        from dlt.sources.helpers.rest_client.auth import APIKeyAuth

        return APIKeyAuth(name=self.auth_header, api_key=self.auth_value, location="header")

    def headers(self) -> dict[str, str]:
        """The auth header, for a request made without dlt (the connection probe)."""
        if self.flavour == FLAVOUR_JSM:
            return {"Authorization": self.auth_value}
        return {self.auth_header: self.auth_value}

    def wire(self) -> Optional["Wire"]:
        """The translation a session applies for this flavour (None: the classic wire format)."""
        if self.flavour == FLAVOUR_JSM:
            from .jsm.wire import JsmWire

            return JsmWire()
        return None
