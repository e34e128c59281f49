"""Work on a stream of items side by side and hand the results back in the stream's order.

A child sync reads its parents side by side (one request or more each) but must finish them in
order: its checkpoint says "every parent up to here is done". `concurrent.futures` maps in order
only over a whole list, submitting everything at once; this keeps at most `window` items in
flight, so a stream of a million parents holds a few in memory.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class OrderedMap(Generic[T, R]):
    """`func` over `items` on `workers` threads; results in input order; close() stops it.

    The first error is raised to the reader, in its place in the order, and stops the rest.
    """

    def __init__(self, func: Callable[[T], R], items: Iterable[T], workers: int, window: int | None = None) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self._func = func
        self._items = iter(items)
        self._window = max(window or 2 * workers, workers)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="parents")
        self._pending: deque[tuple[T, Future[R]]] = deque()
        self._exhausted = False

    def __iter__(self) -> Iterator[tuple[T, R]]:
        return self

    def __next__(self) -> tuple[T, R]:
        self._fill()
        if not self._pending:
            raise StopIteration
        item, future = self._pending.popleft()
        try:
            result = future.result()
        except BaseException:
            self.close()
            raise
        self._fill()
        return item, result

    def _fill(self) -> None:
        while not self._exhausted and len(self._pending) < self._window:
            item = next(self._items, _END)
            if item is _END:
                self._exhausted = True
                return
            self._pending.append((item, self._pool.submit(self._func, item)))  # type: ignore[arg-type]

    def close(self) -> None:
        """Cancel what has not started and wait for what has (each request is bounded by its timeout)."""
        for _, future in self._pending:
            future.cancel()
        self._pending.clear()
        self._exhausted = True
        self._pool.shutdown(wait=True, cancel_futures=True)


_END = object()
