"""Cross-dissolves between two lit shots, found as frames that are blends of the frames around.

During a dissolve from shot A to shot B each frame is ``(1 - a) A + a B`` with ``a`` rising
from 0 to 1. So for a window of frames ``p < c < q`` straddling its middle: the ends ``p`` and
``q`` share no structure (as across a cut), ``c`` is poorly explained by either end alone, well
by a least-squares blend of both (each moved onto ``c`` by phase correlation first), with the
same blend weight all over the picture, and that weight rises steadily from ``p`` to ``q``.
A handheld take, a whip pan or an exposure swing fails at least one of these: its ends share
structure, or one end explains ``c``, or the weight jumps or differs across the picture.

Windows are tested while frames stream by (a few dozen small frames are kept), and the costly
test runs only where a cheap one, on tiny frames aligned by the summed frame-to-frame shifts,
finds ends that differ.
"""

from __future__ import annotations

from collections import deque

import cv2
import numpy as np

from povkit.cuts.compare import correlation, overlap
from povkit.motion.phase import phase_shift, windowed

HALF_WIDTHS = (6, 10)
"""Frames from the middle of a tested window to its ends: dissolves of about 8-30 frames.
Wider windows let a second of handheld walking pass for a blend (measured on forest_walk)."""
TINY_WIDTH = 40
"""Width of the frames the cheap test compares."""
CHEAP_END_CHANGE = 0.35
"""1 - correlation of the window's ends on tiny frames under which no test runs."""
END_CHANGE = 0.7
"""1 - correlation of the aligned ends that a dissolve reaches (about 1 between shots)."""
SINGLE_RESIDUAL = 0.3
"""Share of the middle frame's variance that the better end alone must leave unexplained."""
BLEND_SHARE = 0.5
"""Largest share of that residual the blend of both ends may leave."""
MIDDLE = (0.3, 0.7)
"""Blend weight the middle frame must have."""
TILE_SPREAD = 0.2
"""Largest standard deviation of the blend weight over a 3 x 3 grid of tiles."""
MAX_DROP = 0.25
"""Largest fall of the blend weight from its running maximum across the window."""
BLUR_SIGMA = 1.5
"""Gaussian blur (analysis pixels) before fitting: fine detail moves, coarse content blends."""


class BlendMeter:
    """Finds cross-dissolves in a stream of small grey frames and their frame-to-frame shifts."""

    def __init__(self) -> None:
        self._frames: deque[tuple[np.ndarray, np.ndarray, np.ndarray]] = deque(
            maxlen=2 * max(HALF_WIDTHS) + 1
        )
        self._count = 0
        self._position = np.zeros(2)
        self._last_tested = -1
        self._score = 0.0
        self.found: list[tuple[int, int, int, float]] = []
        """(start, crossing, end, score) of every dissolve: first mixed frame, first frame
        with blend weight 0.5 or more, last mixed frame; score 0-1."""

    def add(self, grey: np.ndarray, dx: float, dy: float) -> None:
        """Take one grey frame (float32) that moved by (dx, dy) since the last one."""
        self._position = self._position + (dx, dy)
        width = TINY_WIDTH
        height = max(4, round(width * grey.shape[0] / grey.shape[1]))
        tiny = cv2.resize(grey, (width, height), interpolation=cv2.INTER_AREA)
        self._frames.append((grey, tiny, self._position.copy()))
        self._count += 1
        for half in HALF_WIDTHS:
            if len(self._frames) > 2 * half and self._count - 1 - half > self._last_tested:
                self._test(half)

    def _frame(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self._frames[index - self._count + len(self._frames)]

    def _test(self, half: int) -> None:
        """Test the window of ``half`` frames either side of frame ``count - 1 - half``."""
        q = self._count - 1
        p = q - 2 * half
        (_, tiny_p, at_p), (_, tiny_q, at_q) = self._frame(p), self._frame(q)
        scale = TINY_WIDTH / self._frame(q)[0].shape[1]
        if 1 - correlation(_moved(tiny_p, (at_q - at_p) * scale), tiny_q) < CHEAP_END_CHANGE:
            return
        weights = self._weights(p, q)
        if weights is None:
            return
        ramp = np.maximum.accumulate(weights)
        if float((ramp - weights).max()) > MAX_DROP:
            return
        mixed = np.flatnonzero((weights > 0.1) & (weights < 0.9)) + p + 1
        crossing = p + 1 + int(np.argmax(weights >= 0.5))
        start, end = (int(mixed[0]), int(mixed[-1])) if len(mixed) else (crossing, crossing)
        self.found.append((start, crossing, end, self._score))
        self._last_tested = q

    def _weights(self, p: int, q: int) -> np.ndarray | None:
        """Blend weight of every frame between ``p`` and ``q`` (and the middle's score kept),
        or None where the ends share structure or the middle frame is no blend of them."""
        ends = [(self._frame(e)[0], windowed(self._frame(e)[0])) for e in (p, q)]
        if 1 - _aligned_correlation(*ends[0], *ends[1]) < END_CHANGE:
            return None
        middle = self._blend((p + q) // 2, ends)
        if middle is None:
            return None
        pictures, mask, single, blend, weight = middle
        if not (MIDDLE[0] <= weight <= MIDDLE[1] and single >= SINGLE_RESIDUAL):
            return None
        if blend > BLEND_SHARE * single or _tile_spread(pictures, mask) > TILE_SPREAD:
            return None
        self._score = float(1 - blend / single)
        fits = [self._blend(m, ends) for m in range(p + 1, q)]
        if any(fit is None for fit in fits):
            return None
        return np.array([fit[4] for fit in fits])

    def _blend(self, m: int, ends: list[tuple[np.ndarray, np.ndarray]]) -> tuple | None:
        """(blurred pictures of frame ``m`` and both ends moved onto it, mask of their overlap,
        and :func:`_fit` of them), or None where the ends do not overlap it enough."""
        grey = self._frame(m)[0]
        target = windowed(grey)
        moved = [_moved_onto(picture, window, target) for picture, window in ends]
        if moved[0] is None or moved[1] is None:
            return None
        (a, mask_a), (b, mask_b) = moved
        mask = mask_a & mask_b
        if mask.mean() < 0.4:
            return None
        pictures = [cv2.GaussianBlur(x, (0, 0), BLUR_SIGMA) for x in (grey, a, b)]
        return (pictures, mask, *_fit(*(x[mask] for x in pictures)))


def _fit(target: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """(residual share of the better single end, residual share of the blend, weight of
    ``b`` in the blend) for least squares ``target ~ k + u a + v b`` over pixels."""
    x = np.stack([target, a, b]).astype(np.float64)
    x -= x.mean(axis=1, keepdims=True)
    s = x @ x.T
    if min(s[0, 0], s[1, 1], s[2, 2]) < 1e-6:
        return 0.0, 0.0, float("nan")
    single = 1 - max(s[0, 1] ** 2 / (s[0, 0] * s[1, 1]), s[0, 2] ** 2 / (s[0, 0] * s[2, 2]))
    try:
        u, v = np.linalg.solve(s[1:, 1:], s[1:, 0])
    except np.linalg.LinAlgError:
        return single, single, float("nan")
    blend = 1 - (u * s[0, 1] + v * s[0, 2]) / s[0, 0]
    weight = v / (u + v) if abs(u + v) > 1e-6 else float("nan")
    return float(single), float(blend), float(weight)


def _tile_spread(pictures: list[np.ndarray], mask: np.ndarray, grid: int = 3) -> float:
    """Standard deviation of the blend weight over a grid of tiles (inf if too few fit)."""
    h, w = mask.shape
    weights = []
    for i in range(grid):
        for j in range(grid):
            rows = slice(i * h // grid, (i + 1) * h // grid)
            tile = (rows, slice(j * w // grid, (j + 1) * w // grid))
            inside = mask[tile]
            if inside.mean() > 0.5:
                weights.append(_fit(*(x[tile][inside] for x in pictures))[2])
    if len(weights) < 4 or np.isnan(weights).any():
        return float("inf")
    return float(np.std(np.clip(weights, -0.5, 1.5)))


def _moved_onto(
    source: np.ndarray, source_windowed: np.ndarray, target_windowed: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """``source`` moved onto the target by phase correlation, with the mask of the overlap."""
    dx, dy, _ = phase_shift(source_windowed, target_windowed)
    h, w = source.shape
    if abs(dx) > w / 2 or abs(dy) > h / 2:
        return None
    mask = np.zeros((h, w), bool)
    mask[overlap((h, w), dx, dy)] = True
    return _moved(source, np.array([dx, dy])), mask


def _aligned_correlation(
    a: np.ndarray, a_windowed: np.ndarray, b: np.ndarray, b_windowed: np.ndarray
) -> float:
    """Correlation of ``a`` moved onto ``b`` over their overlap (0 where they do not meet)."""
    moved = _moved_onto(a, a_windowed, b_windowed)
    if moved is None:
        return 0.0
    picture, mask = moved
    return correlation(picture[mask], b[mask])


def _moved(picture: np.ndarray, shift: np.ndarray) -> np.ndarray:
    h, w = picture.shape
    matrix = np.float32([[1, 0, shift[0]], [0, 1, shift[1]]])
    return cv2.warpAffine(picture, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE)
