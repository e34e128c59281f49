"""What a refusing status from the API means, said once for the connection test and for a failed sync."""

from __future__ import annotations

from typing import NamedTuple, Optional


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


def key_refusal(status: Optional[int]) -> Optional[Refusal]:
    """The refusal an HTTP status stands for, or None when the key was not refused."""
    return KEY_REFUSALS.get(status) if status is not None else None
