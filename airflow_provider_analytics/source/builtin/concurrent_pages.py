"""Read several slices of a listing at once, with a cap on requests in flight.

Under latency, one page after another leaves the connection idle most of the time; independent
`query` slices can be read side by side. Pages come back through a bounded queue, so memory
stays flat however large the sync; the first error stops every worker and is raised to the
caller, and closing the iterator early stops them too.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

S = TypeVar("S")

_DONE = object()
_JOIN_SECONDS = 30.0


def concurrent_pages(
    slices: Iterable[S],
    read: Callable[[S], Iterator[list[Any]]],
    max_workers: int,
    queue_pages: int | None = None,
) -> Iterator[list[Any]]:
    """Pages of every slice, as workers produce them (no order across slices).

    :param read: reads one slice page by page (runs in a worker thread).
    :param max_workers: slices read at the same time: the cap on concurrent requests.
    :param queue_pages: pages waiting for the consumer before workers pause (default 2 per worker).
    """
    if max_workers < 1:
        raise ValueError("max_workers must be at least 1")
    todo: queue.Queue[Any] = queue.Queue()
    for item in slices:
        todo.put(item)
    pages: queue.Queue[Any] = queue.Queue(maxsize=queue_pages or 2 * max_workers)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                pages.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def worker() -> None:
        try:
            while not stop.is_set():
                try:
                    piece = todo.get_nowait()
                except queue.Empty:
                    return
                for page in read(piece):
                    if not put(page):
                        return
        except BaseException as error:  # noqa: BLE001 - handed to the consumer, which raises it
            put(_Failure(error))
        finally:
            put(_DONE)

    threads = [threading.Thread(target=worker, name=f"pages-{i}", daemon=True) for i in range(max_workers)]
    for thread in threads:
        thread.start()
    running = len(threads)
    try:
        while running:
            item = pages.get()
            if item is _DONE:
                running -= 1
            elif isinstance(item, _Failure):
                raise item.error
            else:
                yield item
    finally:
        stop.set()
        for thread in threads:
            thread.join(_JOIN_SECONDS)


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error
