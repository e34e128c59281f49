"""The successor API (Jira Service Management operations) spoken through the same readers.

Every reader, paginator and page check of this package speaks the classic API's wire format
(`limit`, `data`, `paging.next`). For a connection to the successor API, its sessions translate
at the wire, in one place: requests on the way out (`size` for `limit`, the page size each
endpoint allows), pages on the way in (`values`/`links.next` to `data`/`paging.next`, field
names to the classic table's). What differs is data, in `endpoints.py`; `wire.py` and
`records.py` apply it. See docs/jsm.md for the facts relied on and where they come from.
"""
