"""Per-frame change signals for shot-boundary detection, measured on small frames.

Each signal at index ``i`` compares frame ``i`` with frame ``i - 1`` (index 0 compares with
nothing and is 0). The structure change is measured after motion compensation: the previous
frame is shifted onto the current one by phase correlation before they are compared, so a
camera that pans or whips does not look like a new shot. Pure NumPy/OpenCV on decoded arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from povkit.blur import line_blur
from povkit.cuts.compare import correlation, overlap
from povkit.cuts.dissolves import BlendMeter
from povkit.motion.phase import MIN_RESPONSE, phase_shift, windowed

HIST_BINS = (8, 4, 4)
"""Histogram bins over Y, U, V: luma matters most, chroma separates scenes of equal brightness."""
FLAT_STD = 4.0
"""Grey-level standard deviation under which a frame has no structure to compare (blank)."""
LOOK_BACK = 16
"""Frames back that each frame's colour is also compared with, to tell a flash or something
passing the lens (the picture comes back) from a cut (it does not)."""
BLANK_COLOUR_SPAN = 32.0
"""Mean-colour difference (0-255) that counts as a complete change between blank frames."""


@dataclass(frozen=True)
class FrameSignals:
    """What changed between consecutive frames, one row per decoded frame (decode order)."""

    colour: np.ndarray
    """1 - histogram intersection of the YUV colour distributions, 0 (same) to 1 (disjoint)."""
    structure: np.ndarray
    """1 - normalised cross-correlation of motion-compensated luma, 0 (same) to 2; NaN where
    either frame is blank and has no structure to compare."""
    shift: np.ndarray
    """(N, 2) content shift from the previous frame in analysis pixels (phase correlation)."""
    brightness: np.ndarray
    """Mean luma 0-255 of each frame."""
    contrast: np.ndarray
    """Luma standard deviation of each frame."""
    back: np.ndarray
    """(N, LOOK_BACK) colour change from frame ``i - 2 - k`` to frame ``i`` (column k); NaN
    before the clip starts."""
    dissolves: np.ndarray
    """(K, 4) cross-dissolves between lit shots: first mixed frame, first frame at least half
    the new shot, last mixed frame, score 0-1 (:mod:`povkit.cuts.dissolves`)."""
    learned: np.ndarray | None = None
    """Probability 0-1 from a learned model that frame ``i`` is the last of its shot; None
    unless a detector asked for one (:mod:`povkit.cuts.learned`)."""

    def __len__(self) -> int:
        return len(self.colour)


class FrameScorer(Protocol):
    """A learned model that scores a stream of small YUV frames, one value per frame."""

    def add(self, yuv: np.ndarray) -> None: ...

    def result(self) -> np.ndarray: ...


class SignalMeter:
    """Turns a stream of small YUV frames into :class:`FrameSignals`, one frame at a time;
    ``scorer`` also sees every frame and fills :attr:`FrameSignals.learned`."""

    def __init__(self, scorer: FrameScorer | None = None) -> None:
        self._scorer = scorer
        self._previous: tuple[np.ndarray, np.ndarray, float] | None = None
        self._rows: list[tuple[float, float, float, float, float, float]] = []
        self._history: list[tuple[np.ndarray, np.ndarray, float]] = []
        self._back: list[np.ndarray] = []
        self._blends = BlendMeter()

    def add(self, yuv: np.ndarray) -> None:
        """Measure one (H, W, 3) uint8 YUV frame against the one before it."""
        grey = yuv[:, :, 0].astype(np.float32)
        hist = cv2.calcHist([yuv], [0, 1, 2], None, list(HIST_BINS), [0, 256] * 3).ravel()
        hist /= max(hist.sum(), 1.0)
        means, deviations = cv2.meanStdDev(yuv)
        mean, std = float(means[0, 0]), float(deviations[0, 0])
        tint = means[:, 0]
        look = (hist, tint, std)
        colour = structure = dx = dy = 0.0
        grey_windowed = windowed(grey)
        if self._previous is not None:
            last_grey, last_windowed, last_std = self._previous
            colour = _colour_change(look, self._history[-1])
            dx, dy, response = phase_shift(last_windowed, grey_windowed)
            if response < MIN_RESPONSE:  # no shift to trust: the camera most likely moved on
                dx, dy = self._rows[-1][2:4]
            structure = _structure_change(last_grey, grey, last_std, std, dx, dy)
        self._blends.add(grey, dx, dy)
        self._back.append(_colour_changes(look, self._history[:-1]))
        self._history = [*self._history[-LOOK_BACK:], look]
        self._previous = (grey, grey_windowed, std)
        self._rows.append((colour, structure, dx, dy, mean, std))
        if self._scorer is not None:
            self._scorer.add(yuv)

    def result(self) -> FrameSignals:
        rows = np.array(self._rows, dtype=np.float64).reshape(-1, 6)
        return FrameSignals(
            colour=rows[:, 0],
            structure=rows[:, 1],
            shift=rows[:, 2:4],
            brightness=rows[:, 4],
            contrast=rows[:, 5],
            back=np.array(self._back).reshape(-1, LOOK_BACK),
            dissolves=np.array(self._blends.found, dtype=np.float64).reshape(-1, 4),
            learned=None if self._scorer is None else self._scorer.result(),
        )


def _colour_changes(look: tuple, earlier: list[tuple]) -> np.ndarray:
    """(LOOK_BACK,) colour change from each of ``earlier`` (newest last) to ``look``, newest
    first, NaN past the oldest."""
    back = np.full(LOOK_BACK, np.nan)
    if not earlier:
        return back
    hist, tint, std = look
    newest_first = earlier[::-1]
    hists = np.stack([e[0] for e in newest_first])
    back[: len(earlier)] = 1.0 - np.minimum(hists, hist).sum(axis=1)
    for k, other in enumerate(newest_first):
        if min(std, other[2]) < FLAT_STD:
            back[k] = _colour_change(look, other)
    return back


def _colour_change(a: tuple[np.ndarray, np.ndarray, float], b: tuple) -> float:
    """1 - histogram intersection of two frames' (histogram, mean colour, contrast); a blank
    frame fills one bin, so there mean colours are compared, or a slow fade would jump."""
    (hist_a, tint_a, std_a), (hist_b, tint_b, std_b) = a, b
    if min(std_a, std_b) < FLAT_STD:
        return min(1.0, float(np.abs(tint_a - tint_b).max()) / BLANK_COLOUR_SPAN)
    return 1.0 - float(np.minimum(hist_a, hist_b).sum())


def _structure_change(
    previous: np.ndarray, current: np.ndarray, std_prev: float, std_cur: float, dx: float, dy: float
) -> float:
    """1 - correlation of the overlap once ``previous`` is moved by (dx, dy) onto ``current``,
    both smeared along the move as an open shutter would (``blur.line_blur``). Smearing both
    frames hides which one was sharp (unsmeared, frames where a synthetic whip pan starts or
    stops changed by 0.2-0.7, still frames by 0.02); the detail across the move, which a cut
    changes, stays.

    Correlation ignores brightness and contrast, so flashes and exposure swings do not count.
    A blank frame has no structure (NaN): colour alone then tells whether the shot changed.
    """
    if std_prev < FLAT_STD or std_cur < FLAT_STD:
        return float("nan")
    h, w = current.shape
    if abs(dx) > w / 2 or abs(dy) > h / 2:
        dx = dy = 0.0  # no believable overlap: compare in place
    moved = line_blur(
        cv2.warpAffine(previous, np.float32([[1, 0, dx], [0, 1, dy]]), (w, h)), dx, dy
    )
    current = line_blur(current, dx, dy)
    box = overlap((h, w), dx, dy)
    return 1.0 - correlation(moved[box], current[box])
