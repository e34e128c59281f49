"""Reading an Airflow connection's extras the way its form and its JSON may store them.

The connection form stores a custom field under Airflow's `extra__<conn_type>__<name>` key
(older releases) or bare (newer ones, and connections written as JSON); both are read, the bare
name first. Shared by the hook and the warehouse mappings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def extra_field(extras: Mapping[str, Any], name: str, conn_type: str | None = None, *, keep_blank: bool = False) -> Any:
    """The extra `name`, else `extra__<conn_type>__<name>`; None when neither is set.

    A blank value counts as unset unless `keep_blank` (a field where empty means something,
    such as an auth scheme left empty to send the bare key).
    """
    unset = (None,) if keep_blank else (None, "")
    value = extras.get(name)
    if value in unset and conn_type:
        value = extras.get(f"extra__{conn_type}__{name}")
    return None if value in unset else value
