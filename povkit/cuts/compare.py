"""Two small grey pictures compared once one is moved onto the other: where they still overlap
and how well they correlate there. Shared by the cut signals and the dissolve test."""

from __future__ import annotations

import numpy as np


def overlap(shape: tuple[int, int], dx: float, dy: float) -> tuple[slice, slice]:
    """Rows and columns of a ``shape`` (rows, columns) picture that a copy moved by (dx, dy)
    still covers whole pixels of."""
    height, width = shape
    rows = slice(int(np.ceil(max(dy, 0))), height - int(np.ceil(max(-dy, 0))))
    columns = slice(int(np.ceil(max(dx, 0))), width - int(np.ceil(max(-dx, 0))))
    return rows, columns


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Normalised correlation of two pictures of equal size; 0 where either is flat, as brightness
    and contrast do not count."""
    a = a.ravel() - a.mean()
    b = b.ravel() - b.mean()
    denominator = float(np.sqrt(np.dot(a, a) * np.dot(b, b)))
    return float(np.dot(a, b)) / denominator if denominator > 1e-6 else 0.0
