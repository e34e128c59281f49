"""Which API a connection speaks: the classic one or its successor (Jira Service Management operations).

The flavour follows from the host (`api.atlassian.com` is the successor's) unless the connection
states it; the successor's base URL carries the site's cloud id.
"""

from __future__ import annotations

from typing import Optional
from urllib.parse import urlsplit

from .errors import ApiSettingsError
from .jsm.endpoints import CLOUD_ID_LOOKUP, JSM_BASE_PATH, JSM_HOST

FLAVOUR_OPSGENIE = "opsgenie"
FLAVOUR_JSM = "jsm"
#: Decided by the host.
AUTO_FLAVOUR = "auto"
FLAVOURS = (FLAVOUR_OPSGENIE, FLAVOUR_JSM)
DEFAULT_FLAVOUR = AUTO_FLAVOUR
FLAVOUR_NAMES = {FLAVOUR_OPSGENIE: "the OpsGenie API", FLAVOUR_JSM: "the Jira Service Management operations API"}
#: The OpsGenie API's base URL when a connection leaves the host empty (as the OpsGenie provider's hook does).
OPSGENIE_BASE_URL = "https://api.opsgenie.com"

__all__ = ["AUTO_FLAVOUR", "DEFAULT_FLAVOUR", "FLAVOURS", "FLAVOUR_JSM", "FLAVOUR_NAMES", "FLAVOUR_OPSGENIE",
           "OPSGENIE_BASE_URL", "api_base_url", "flavour_of"]


def flavour_of(host_url: str, stated: Optional[str]) -> str:
    """The connection's flavour: as stated (`opsgenie`, `jsm`), else from the host."""
    value = (stated or AUTO_FLAVOUR).strip().lower()
    if value in FLAVOURS:
        return value
    if value != AUTO_FLAVOUR:
        raise ApiSettingsError(
            f"api_flavour must be one of {', '.join((AUTO_FLAVOUR, *FLAVOURS))}, not {stated!r}."
        )
    host = (urlsplit(host_url).hostname or "").lower()
    return FLAVOUR_JSM if host == JSM_HOST or "/jsm/ops/api/" in urlsplit(host_url).path else FLAVOUR_OPSGENIE


def api_base_url(host_url: str, flavour: str, cloud_id: Optional[str]) -> str:
    """The base URL requests are made under: the host, plus `/jsm/ops/api/<cloud id>` for the successor.

    A host that already carries that path is taken as it is (a cloud id in the extras must then agree).
    """
    base = host_url.rstrip("/")
    if flavour != FLAVOUR_JSM:
        return base
    cloud = (cloud_id or "").strip()
    prefix = JSM_BASE_PATH.split("{", 1)[0]
    path = urlsplit(base).path
    if prefix in path:
        stated = path.split(prefix, 1)[1].strip("/")
        if cloud and stated != cloud:
            raise ApiSettingsError(f"The host's path names cloud id {stated!r} but extra cloud_id is {cloud!r}: keep one.")
        return base
    if not cloud:
        raise ApiSettingsError(
            "A Jira Service Management connection needs the site's cloud id: set extra cloud_id "
            f"(find it at {CLOUD_ID_LOOKUP})."
        )
    if "/" in cloud or "?" in cloud:
        raise ApiSettingsError(f"cloud_id {cloud!r} is not a cloud id (a UUID such as 35273b54-3f06-40d2-880f-dd28cf8daafa).")
    return base + JSM_BASE_PATH.format(cloud_id=cloud)
