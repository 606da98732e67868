"""Crop geometry: how much zoom keeps a corrected frame free of black borders."""

from __future__ import annotations

import numpy as np

from povkit.filters import gaussian_smooth, running_max
from povkit.plan.smoothing import mean_rate


def required_zoom(corrections: np.ndarray, frame_size: tuple[float, float]) -> np.ndarray:
    """Smallest zoom per frame so the output window stays inside the corrected input frame.

    ``corrections`` (N, >=3) holds (dx, dy, angle) applied about the frame centre; the output
    is ``zoom * (R(angle) (p - centre) + d) + centre``. Returns ``inf`` where no zoom suffices.
    """
    width, height = frame_size
    half = np.array([width / 2, height / 2])
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * half
    cos, sin = np.cos(corrections[:, 2]), np.sin(corrections[:, 2])
    # R(angle)^T applied to corners (N, 4, 2) and to the shift (N, 2)
    rot_t = np.stack([np.stack([cos, sin], -1), np.stack([-sin, cos], -1)], -2)
    corner_in = np.einsum("nij,cj->nci", rot_t, corners)
    shift_in = np.einsum("nij,nj->ni", rot_t, corrections[:, :2])
    zoom = np.ones(len(corrections))
    for sign in (1.0, -1.0):
        num = sign * corner_in
        den = half + sign * shift_in[:, None, :]
        needed = np.where(num > 0, np.where(den > 0, num / np.maximum(den, 1e-9), np.inf), 1.0)
        zoom = np.maximum(zoom, needed.max(axis=(1, 2)))
    return zoom


def correction_limits(max_zoom: float, frame_size: tuple[float, float]) -> np.ndarray:
    """A box of (dx, dy, angle) corrections that any combination of keeps border-free.

    The margin a zoom leaves is split: a fifth for roll, the rest for shifts. Solvers keep
    within this box; the exact zoom is then computed from the corrections themselves.
    """
    width, height = frame_size
    margin = (1 - 1 / max_zoom) / 2  # fraction of each dimension free on either side
    angle = 0.2 * margin * min(width, height) / np.hypot(width, height) * 2
    shift_room = 0.8 * margin
    return np.array([shift_room * width, shift_room * height, angle])


def shrink_to_fit(
    corrections: np.ndarray, frame_size: tuple[float, float], max_zoom: float
) -> np.ndarray:
    """Scale down each frame's correction just enough that it fits within ``max_zoom``."""
    zoom = required_zoom(corrections, frame_size)
    over = zoom > max_zoom
    if not over.any():
        return corrections
    low, high = np.zeros(over.sum()), np.ones(over.sum())
    subset = corrections[over]
    for _ in range(30):  # bisection on the fraction of the correction kept
        mid = (low + high) / 2
        fits = required_zoom(subset * mid[:, None], frame_size) <= max_zoom
        low = np.where(fits, mid, low)
        high = np.where(fits, high, mid)
    fitted = corrections.copy()
    fitted[over] = subset * low[:, None]
    return fitted


def smooth_zoom_envelope(needed: np.ndarray, window: int) -> np.ndarray:
    """A zoom that varies smoothly over ``window`` frames and never falls below ``needed``."""
    envelope = running_max(needed, 2 * window + 1)
    for _ in range(4):
        envelope = gaussian_smooth(envelope, window / 2)
        envelope = np.maximum(envelope, running_max(needed, window | 1))
    return np.maximum(gaussian_smooth(envelope, window / 4), needed)


def zoom_for(needed: np.ndarray, planned: np.ndarray, times: np.ndarray) -> np.ndarray:
    """A zoom covering ``needed`` in the planner's style: static if ``planned`` was, else a
    smooth envelope over about a second of frames at ``times``."""
    if np.ptp(planned) > 0:
        return smooth_zoom_envelope(needed, window=max(1, round(mean_rate(times))))
    return np.full(len(needed), needed.max(initial=1.0))


def zoom_grown_note(before: np.ndarray, after: np.ndarray, why: str) -> tuple[str, ...]:
    """A note when a later step (``why``) needs more zoom than the smoothing planned."""
    grown, planned = float(after.max(initial=1.0)), float(before.max(initial=1.0))
    if grown <= planned + 5e-4:
        return ()
    return (f"{why} needs zoom {grown:.3f} (the smoothed path alone {planned:.3f})",)
