"""dlt PostgreSQL credentials whose password may be empty (trust or peer auth).

No `from __future__ import annotations` here: dlt resolves the field annotations at runtime.
"""

from typing import Optional

from dlt.common.configuration import configspec
from dlt.common.typing import TSecretStrValue
from dlt.destinations.impl.postgres.configuration import PostgresCredentials


@configspec(init=False)
class OptionalPasswordPostgresCredentials(PostgresCredentials):
    password: Optional[TSecretStrValue] = None  # type: ignore[assignment]  # the point: no password
