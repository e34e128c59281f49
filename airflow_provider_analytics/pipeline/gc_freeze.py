"""While a sync runs, full garbage collections skip the objects that were alive before it."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collections_skip_older_objects() -> Iterator[None]:
    """Freeze what is alive now for the duration of the block; unfreeze it afterwards.

    A sync allocates a great many short-lived containers (decoded pages), so the interpreter runs
    several full collections, and each one walks every object the process holds (Airflow, dlt,
    pyarrow: most of the work). Freezing them first makes those collections look only at what
    the sync itself created. When something else already froze objects (Airflow does before
    forking workers), the process is left exactly as it is.
    """
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
