"""Global shift between two grey pictures by phase correlation, the same on every call.

Handed a window, OpenCV 5.0's ``phaseCorrelate`` multiplies its inputs by it in place when
their size needs no DFT padding (160x90, 256x144, 96x54): an array passed again (a frame that
was ``current`` and is now ``previous``) gets windowed twice, so a shift depends on how often,
and in what order, its pictures were used before. That, not randomness, is why shifts once
differed between runs: on fresh copies the call is repeatable and equals the path here to the
bit, while on the Karma clip (256x144, first 200 frames) reusing the arrays moves shifts by up
to 0.06 px, and reusing them in another call order (as threads may) by up to 0.07 px. So each
picture is windowed once, into a copy, and ``phaseCorrelate`` never sees the window.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

MIN_RESPONSE = 0.05
"""Phase-correlation peaks weaker than this (no common texture: a cut, darkness) are unknown:
OpenCV's sub-pixel centroid around such a peak can land anywhere (a whip pan measured 13.8 px
vertically off its true shift)."""


@functools.lru_cache(maxsize=8)
def hanning_window(shape: tuple[int, int]) -> np.ndarray:
    """Hanning window for pictures of ``shape`` (rows, columns), float32, read-only."""
    window = cv2.createHanningWindow((shape[1], shape[0]), cv2.CV_32F)
    window.flags.writeable = False
    return window


def windowed(picture: np.ndarray) -> np.ndarray:
    """``picture`` as float32 times the Hanning window: ready for ``phase_shift``."""
    return picture.astype(np.float32) * hanning_window(picture.shape)


def phase_shift(previous: np.ndarray, current: np.ndarray) -> tuple[float, float, float]:
    """(dx, dy, response): how the content moved from ``previous`` to ``current``, both from
    ``windowed``; a response near 0 means no common picture."""
    (dx, dy), response = cv2.phaseCorrelate(previous, current)
    return dx, dy, response
