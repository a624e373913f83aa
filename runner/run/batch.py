"""Running many chapters: shards for a CI matrix, and up to N chapters at once, each on its
own lab, with one coherent report."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

_SHARD = re.compile(r"([1-9][0-9]*)/([1-9][0-9]*)")


def parse_shard(text: str) -> tuple[int, int]:
    """`K/N` (1 <= K <= N). Raises ValueError with what to write."""
    found = _SHARD.fullmatch(text.strip())
    if found is None or int(found.group(1)) > int(found.group(2)):
        raise ValueError(f"--shard takes K/N with 1 <= K <= N, e.g. 2/4 (not {text!r})")
    return int(found.group(1)), int(found.group(2))


def shard(items: Sequence[T], key: Callable[[T], str], k: int, n: int) -> list[T]:
    """The K-th of N slices: items sorted by key, dealt round-robin. Every item is in exactly
    one slice, slices differ by at most one item, and the same book gives the same slices."""
    ordered = sorted(items, key=key)
    return [item for number, item in enumerate(ordered) if number % n == k - 1]


def longest_first(items: Sequence[T], key: Callable[[T], str], lasted: dict[str, float]) -> list[T]:
    """Items by how long their last run took, longest first (never run: first of all), so
    that the longest does not start last and end alone; ties keep their order."""
    return sorted(items, key=lambda item: -lasted.get(key(item), float("inf")))


class Cancelled(Exception):
    """Raised inside a worker when the run is interrupted."""


def run_all(
    items: Sequence[T],
    work: Callable[[T, threading.Event], R],
    jobs: int,
    on_cancel: Callable[[], None] = lambda: None,
) -> list[R | BaseException]:
    """`work(item, cancel)` for each item, up to `jobs` at once; results in the items' order
    (an exception in place of a result). On Ctrl-C or SIGTERM in the main thread: set
    `cancel`, call `on_cancel` (closing the sessions, so that workers stop soon), wait for
    every worker to end (each tears its lab down), then re-raise."""
    cancel = threading.Event()
    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="chapter") as pool:
        futures: list[Future[R]] = [pool.submit(work, item, cancel) for item in items]
        try:
            pending = set(futures)
            while pending:
                _done, pending = wait(pending, timeout=0.5, return_when=FIRST_EXCEPTION)
        except BaseException:
            cancel.set()
            for future in futures:
                future.cancel()
            on_cancel()
            wait(futures)
            raise
    out: list[R | BaseException] = []
    for future in futures:
        error = future.exception()
        out.append(error if error is not None else future.result())
    return out
