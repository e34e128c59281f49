"""The logger a sync writes to: the standard library's, or the Airflow task's (structlog).

Typed as the calls the package makes, so both fit without the lower layers importing Airflow.
"""

from __future__ import annotations

from typing import Any, Protocol


class Log(Protocol):
    """`info` and `warning` with %-style arguments, as `logging.Logger` and Airflow's task log take them."""

    def info(self, msg: str, /, *args: Any) -> object: ...

    def warning(self, msg: str, /, *args: Any) -> object: ...
