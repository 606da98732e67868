"""The thread pool that works on several frames at once (tracking, warping, shifts).

Each task is one frame's OpenCV work, so OpenCV's own worker threads on top of the pool only
contend for the same cores: on forest_walk.mp4 (2 cores) they made a tracking step take 3.4 ms
instead of 2.2 ms. The pool turns them off while it runs and restores the setting after.
"""

from __future__ import annotations

import functools
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

import cv2

Frame = TypeVar("Frame")
Prepared = TypeVar("Prepared")
Result = TypeVar("Result")

_lock = threading.Lock()
_open_pools = 0
_opencv_threads = 0


@contextmanager
def frame_pool(workers: int) -> Iterator[ThreadPoolExecutor]:
    """A pool of ``workers`` threads, with OpenCV single-threaded while any such pool is open."""
    global _open_pools, _opencv_threads
    with _lock:
        if _open_pools == 0:
            _opencv_threads = cv2.getNumThreads()
            cv2.setNumThreads(1)
        _open_pools += 1
    try:
        with ThreadPoolExecutor(workers) as pool:
            yield pool
    finally:
        with _lock:
            _open_pools -= 1
            if _open_pools == 0:
                cv2.setNumThreads(_opencv_threads)


def in_order(
    pool: ThreadPoolExecutor, calls: Iterable[Callable[[], Result]], *, ahead: int
) -> Iterator[Result]:
    """The results of ``calls`` run on ``pool``, in order, with at most ``ahead`` + 1 in flight:
    memory stays at a few frames, and the thread that feeds ``calls`` keeps the pool busy."""
    in_flight: deque[Future] = deque()
    for call in calls:
        in_flight.append(pool.submit(call))
        if len(in_flight) > ahead:
            yield in_flight.popleft().result()
    while in_flight:
        yield in_flight.popleft().result()


def measure_pairs(
    frames: Iterable[Frame],
    prepare: Callable[[Frame], Prepared],
    measure: Callable[[Prepared, Prepared], Result],
    *,
    workers: int,
) -> Iterator[Result]:
    """``measure(prepare(a), prepare(b))`` for each pair of consecutive frames, in order.

    Preparing (downscaling) and measuring both run on a frame pool, so the thread that feeds
    ``frames`` (the decoder) does nothing else; at most a few frames are in flight at once.
    """

    def measured(previous: Future, current: Future) -> Result:
        # both were submitted before this pair, so a worker never waits on work still queued
        return measure(previous.result(), current.result())

    with frame_pool(workers) as pool:

        def pairs() -> Iterator[Callable[[], Result]]:
            previous = None
            for frame in frames:
                current = pool.submit(prepare, frame)
                if previous is not None:
                    yield functools.partial(measured, previous, current)
                previous = current

        yield from in_order(pool, pairs(), ahead=2 * workers)
