"""What a refusing status from the API means, said once for the connection test and for a failed sync."""

from __future__ import annotations

from typing import Any, NamedTuple, Optional

from ..flavour import FLAVOUR_JSM, FLAVOUR_OPSGENIE


class Refusal(NamedTuple):
    """A status that retrying cannot cure, for the key as it is: what the API did, and what to do."""

    what: str
    advice: str


KEY_REFUSALS: dict[int, Refusal] = {
    401: Refusal(
        "refused the API key",
        "Check the key in the connection's password field, and its key header and auth scheme",
    ),
    403: Refusal(
        "denied access with this API key",
        "Check that the key's API integration may read this resource",
    ),
}


#: The successor API signs in with an Atlassian account's email and API token (basic auth).
JSM_KEY_REFUSALS: dict[int, Refusal] = {
    401: Refusal(
        "refused the email and API token",
        "Check the Atlassian account's email in the connection's login field and its API token in the password field",
    ),
    403: Refusal(
        "denied access to this Atlassian account",
        "Check that the account may read this resource on the site (alerts need the operations product; "
        "teams, schedules and escalations show only what the account's role may see)",
    ),
}


def key_refusal(status: Optional[int], flavour: str = FLAVOUR_OPSGENIE) -> Optional[Refusal]:
    """The refusal an HTTP status stands for, or None when the key was not refused."""
    refusals = JSM_KEY_REFUSALS if flavour == FLAVOUR_JSM else KEY_REFUSALS
    return refusals.get(status) if status is not None else None


def api_message(body: Any) -> Optional[str]:
    """The message of an error body: `message` (OpsGenie, and the successor's 401), or the successor's
    `errors[].title`."""
    if not isinstance(body, dict):
        return None
    if body.get("message"):
        return str(body["message"])
    errors = body.get("errors")
    if isinstance(errors, list):
        titles = [str(error.get("title")) for error in errors if isinstance(error, dict) and error.get("title")]
        return "; ".join(titles) or None
    return None
