"""Global shift between two grey pictures by phase correlation, the same on every run.

OpenCV 5.0's ``phaseCorrelate`` returns shifts that differ by up to 0.12 px from one run to the
next when it is handed a window, so the window is applied here before the call instead. (The
cut detector and the join view match still hand it the window: moved onto this, the cut
detector reported a cut inside one 500 deg/s synthetic whip pan, so that move needs retuning.)
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
