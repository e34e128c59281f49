"""Everything that can go wrong reading the API, as exception types; each message names what to fix.

Raised across `source/`; the pipeline turns them into one `SyncError` for the task log. No
message ever holds a key.
"""

from __future__ import annotations


class ApiSettingsError(ValueError):
    """The API settings are unusable; the message says what to fix (and never holds the key)."""


class ConfigError(ValueError):
    """A config problem found before any request; the message names the key and the resource."""


class UnknownResourceError(ConfigError):
    """The resource is neither built in nor defined by the config: a retry asks for it again."""


class OptionError(ConfigError):
    """A sync option (an operator argument) has a value that cannot work; the message names it."""


class ResourceUnsupportedError(ConfigError):
    """The connection's API has no counterpart of the resource (the successor API has no users listing)."""

    def __init__(self, message: str, resource: str) -> None:
        super().__init__(message)
        self.resource = resource


class IncrementalConfigError(OptionError):
    """An incremental option has a value that cannot work; the message names it."""


class TemplateRenderError(ValueError):
    """A template could not be compiled or rendered."""


class MalformedPageError(ValueError):
    """A page the API sent cannot be a page of records."""


class PaginationError(RuntimeError):
    """Pagination cannot go on safely."""


class ForeignHostError(PaginationError):
    """A next-page link points to a host other than the API's."""


class PaginationLoopError(PaginationError):
    """The API handed out a next-page link that was already followed."""


class MaxPagesExceededError(PaginationError):
    """The API still had pages after the configured maximum."""


class OffsetCapError(PaginationError):
    """The API cannot page further and no window can move past the cap."""


class SearchUnsupportedError(PaginationError):
    """The API refused (422) or ignored a search term a walk relies on; the reader switches methods.

    :param outcome: `rejected` (the API answered 422) or `ignored` (records outside the term came back).
    """

    def __init__(self, message: str, outcome: str) -> None:
        super().__init__(message)
        self.outcome = outcome


class OffsetCapReachedError(PaginationError):
    """An offset walk reached the API's offset cap; the reader goes on another way."""


class ParentRecordsError(RuntimeError):
    """Reading the records of one parent (an alert's logs, a team's members) failed; the cause says why.

    :param parent: what the parent is and its id, as the task log should name it (`alert 4f0c...`).
    """

    def __init__(self, resource: str, parent: str) -> None:
        super().__init__(f"{resource}: reading the records of {parent} failed")
        self.resource = resource
        self.parent = parent
