"""From a measured camera path to a warp plan: smooth, fit the crop, decide the zoom."""

from __future__ import annotations

import numpy as np

from povkit.geometry import frame_center, picture_motion, similarity_matrices, similarity_params
from povkit.plan.crop import (
    correction_limits,
    required_zoom,
    shrink_to_fit,
    smooth_zoom_envelope,
)
from povkit.plan.smoothing import AdaptiveSmoother, Smoother, make_smoother, mean_rate
from povkit.types import CameraPath, WarpPlan

STILL_SHARE = 0.3
"""A frame where at least this share of tracked points did not move shows a still camera..."""
STILL_FRAMES = 0.5
"""...and a clip where at least this share of frames do was shot on a still camera."""
REPEAT_SHARE = 0.99
"""A frame where this share of tracked points stayed put repeats its predecessor (a 30 fps
shot delivered at 60 fps repeats every other frame): it says nothing about the camera."""
REPEATS_ONLY = 0.9
"""A clip where at least this share of frames repeat their predecessor shows nothing moving."""
STILL_CAMERA_PX = 0.5
"""If no correction would move any pixel by more than this, the camera was still: leave it."""
ZOOM_COVERAGE = 0.9
"""The static zoom covers the corrections of this share of frames; the path gives way on the
rest (large jolts), instead of zooming the whole clip for them."""
LIGHT_SMOOTHNESS = 0.25
"""Seconds: a light smoothing (in the range of vid.stab's default 15-frame window) whose
corrections set the default crop budget, as vid.stab's optimal zoom does."""
STRENGTHS = (1.0, 0.7, 0.5, 0.35, LIGHT_SMOOTHNESS)
"""Adaptive time constants tried by default, strongest first."""
MAX_WIDENING = 3.0
"""The default plan's per-axis room may grow up to this factor while its path fits the budget:
room that covers most frames on each axis alone is a box whose corners (every axis at its
extreme at once) are rarely reached, so a wider box often fits and fewer frames give way."""
WIDENING_TRIES = 3
"""Solves spent checking that factor (each failure halves the growth)..."""
MIN_GROWTH = 0.02
"""...until it is smaller than this."""


def corrections_between(
    raw: np.ndarray, smooth: np.ndarray, size: tuple[float, float]
) -> np.ndarray:
    """Per-frame (dx, dy, angle) that move content from the raw path onto the smooth one.

    Path rows (``povkit.geometry.path_from_steps``) are the camera's turn in level axes and
    its roll; the picture moved from frame 0 by the similarity with that roll whose shift is
    the turn, rolled. The warp is S_t T_t^-1 of those similarities (frame t back to frame 0's
    view, then on to the smooth view), composed exactly; the filmed zoom is kept, so only
    shift and roll are corrected.
    """
    center = frame_center(size)
    warps = similarity_matrices(picture_motion(smooth), center) @ np.linalg.inv(
        similarity_matrices(picture_motion(raw), center)
    )
    return similarity_params(warps, center)[:, :3]


def check_plan_options(*, method: str, smoothness: float | None, max_zoom: float) -> Smoother:
    """Validate planning options early (before any decoding); return the smoother."""
    if not 1.0 <= max_zoom <= 4.0:
        raise ValueError(f"max_zoom must be between 1.0 and 4.0, got {max_zoom}")
    params = {} if smoothness is None else {"smoothness": smoothness}
    if params and method != "adaptive":
        raise ValueError(f"smoothness applies to the adaptive method, not {method!r}")
    return make_smoother(method, **params)


def plan_stabilization(
    path: CameraPath,
    *,
    method: str = "adaptive",
    smoothness: float | None = None,
    max_zoom: float = 1.25,
    dynamic_zoom: bool = False,
) -> WarpPlan:
    """Plan per-frame corrections and zoom that turn ``path`` into a smooth, border-free one.

    Roll and shifts are corrected; zoom (forward motion) is kept as it was filmed. By default
    (adaptive, no ``smoothness``) the crop budget is what a light smoothing needs, as vid.stab's
    optimal zoom is, and the strongest smoothing whose corrections fit that budget is used:
    as smooth as the crop allows, never more crop than a light touch; the room each axis gets
    then grows as far as the budget allows (the axes rarely peak together). Otherwise the static
    zoom leaves room, per axis, for the corrections of ``ZOOM_COVERAGE`` of the frames. Either way,
    on the rarer, larger jolts the path gives way instead of zooming the whole clip for them.
    """
    chosen = check_plan_options(method=method, smoothness=smoothness, max_zoom=max_zoom)
    size, n = path.frame_size, len(path)
    widest = correction_limits(max_zoom, size)
    budget, candidates = max_zoom, [chosen]
    if method == "adaptive" and smoothness is None and not dynamic_zoom:
        _, light = _fit_corrections(AdaptiveSmoother(smoothness=LIGHT_SMOOTHNESS), path, max_zoom)
        budget = float(np.clip(required_zoom(light, size).max(initial=1.0), 1.0, max_zoom))
        candidates = [AdaptiveSmoother(smoothness=s) for s in STRENGTHS]
    for smoother in candidates:  # strongest first: keep the first that fits the budget
        wanted, fitted = _fit_corrections(smoother, path, max_zoom)
        if np.quantile(required_zoom(fitted, size), ZOOM_COVERAGE) <= budget:
            break
    reach = np.abs(fitted[:, :2]).max(axis=1) + np.abs(fitted[:, 2]) * np.hypot(*size) / 2
    if n == 0 or reach.max() < STILL_CAMERA_PX or _shot_still(path):
        note = "camera is still: frames are left as they are"
        return WarpPlan(np.zeros((n, 4)), np.ones(n), size, method, (note,), frame_times=path.times)
    limits = widest
    if not dynamic_zoom:  # room for the corrections of most frames, per axis; the rest give way
        covering = np.quantile(np.abs(fitted), ZOOM_COVERAGE, axis=0)
        limits = np.minimum(limits, np.maximum(covering, 1e-6))
    if len(candidates) > 1:  # the default plan: use the room its crop budget leaves
        limits, (wanted, fitted) = _widened(smoother, path, budget, limits, widest, wanted)
    else:
        wanted, fitted = _fit_corrections(smoother, path, budget, limits)
    needed = required_zoom(fitted, size)
    notes = []
    if len(candidates) > 1:
        notes.append(
            f"time constant {smoother.smoothness:g} s: as smooth as zoom {budget:.3f} allows"
        )
    gave_way = np.abs(fitted - wanted).max(axis=1) > 1e-6
    gave_way |= np.any(np.abs(fitted) >= 0.99 * limits, axis=1)
    if gave_way.any():
        notes.append(f"the path gave way to the crop on {gave_way.sum()} of {n} frames")
    if dynamic_zoom:
        fps = mean_rate(path.times.seconds)
        zoom = smooth_zoom_envelope(needed, window=max(1, round(fps)))
    else:
        zoom = np.full(n, needed.max())
    corrections = np.zeros((n, 4))
    corrections[:, :3] = fitted
    zoom = np.minimum(zoom, max_zoom)
    return WarpPlan(corrections, zoom, size, method, tuple(notes), frame_times=path.times)


def _widened(
    smoother: Smoother,
    path: CameraPath,
    budget: float,
    limits: np.ndarray,
    widest: np.ndarray,
    free: np.ndarray,
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """``limits`` grown (up to ``MAX_WIDENING``) as far as the smoothed path within them still
    fits ``budget`` without shrinking any frame's correction, and ``_fit_corrections`` within.

    The factor is first read off ``free``, the corrections the smoother wants with no limits,
    clipped to the wider room (no solve); each solve that then overflows halves the growth. A
    path that already overflows within ``limits`` is left as it is: more room only lets it
    overflow further.
    """
    size = path.frame_size
    best = _fit_corrections(smoother, path, budget, limits)
    if required_zoom(best[0], size).max(initial=1.0) > budget:
        return limits, best
    low, high = 1.0, MAX_WIDENING
    for _ in range(20):  # bisection on the clipped free corrections: cheap, no solve
        factor = (low + high) / 2
        room = np.minimum(limits * factor, widest)
        fits = required_zoom(np.clip(free, -room, room), size).max(initial=1.0) <= budget
        low, high = (factor, high) if fits else (low, factor)
    growth = low - 1
    for _ in range(WIDENING_TRIES):
        if growth < MIN_GROWTH:
            break
        wider = np.minimum(limits * (1 + growth), widest)
        tried = _fit_corrections(smoother, path, budget, wider)
        if required_zoom(tried[0], size).max(initial=1.0) <= budget:
            return wider, tried
        growth /= 2
    return limits, best


def _shot_still(path: CameraPath) -> bool:
    """True when most frames that show something new show a still background: a tripod shot
    with things moving in it, which must not be "stabilized" into following them. Repeated
    frames are left out of the count, else a handheld clip at twice its frame rate is a tripod."""
    if path.still_share is None or len(path) < 2:
        return False
    shares = path.still_share[1:]
    new = shares[shares < REPEAT_SHARE]
    if len(new) <= (1 - REPEATS_ONLY) * len(shares):
        return True
    return bool(np.mean(new >= STILL_SHARE) >= STILL_FRAMES)


def _fit_corrections(
    smoother: Smoother, path: CameraPath, zoom: float, limits: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The corrections the smoother wants (within ``limits`` (dx, dy, angle) when given: an
    exact QP; unbounded otherwise: one banded solve), and those shrunk to fit ``zoom``."""
    size = path.frame_size
    scale = np.array([1 / size[0], 1 / size[0], 0.5])
    bounds = np.full(3, np.inf) if limits is None else limits
    smooth = smoother.smooth(path.params[:, :3], path.times.seconds, bounds, scale=scale)
    wanted = corrections_between(path.params, smooth, size)
    return wanted, shrink_to_fit(wanted, size, zoom)
