"""Deliberate head moves modelled as minimum-jerk steps, so a smoother can keep their shape.

A voluntary head turn or whip pan follows, to a good approximation, the minimum-jerk profile
(Flash & Hogan, 1985): position goes as 10 s^3 - 15 s^4 + 6 s^5 over the move's duration.
A frequency-only smoother cannot tell a fast pan from shake, because both reach several hertz;
a fitted step can. Subtract the step, smooth what is left as strongly as anywhere else
(footstep bob and vibration go), then add the step back: the turn passes through untouched.
Pure NumPy/SciPy.
"""

from __future__ import annotations

import numpy as np

MOVE_MARGIN_S = 0.3
"""Seconds of path either side of a deliberate stretch included in its fit (steady context)."""
MIN_MOVE_S = 0.08
"""Shortest step duration considered (about two frames at 25 fps)."""
MAX_MOVE_S = 2.0
"""Longest: slower moves are within reach of the smoother's own handling."""
MAX_STRETCH_S = 8.0
"""Deliberate stretches longer than this (a long pan, a drive) are not modelled as steps."""
MAX_STEPS = 3
"""Most steps fitted to one deliberate stretch."""
BASELINE_DEGREE = 2
"""Degree of the polynomial under the steps (the walk's slow sway across the window)."""
FIT_TOLERANCE = 1.5
"""A step is kept when its fit leaves at most this many times the shake measured around it."""
MIN_STEP_SHAKES = 4.0
"""...and when the step is at least this many times that shake: smaller moves are not turns."""


def minimum_jerk(s: np.ndarray) -> np.ndarray:
    """The minimum-jerk step, 0 before s = 0, rising smoothly to 1 at s = 1 and after."""
    s = np.clip(s, 0.0, 1.0)
    return s**3 * (10 - 15 * s + 6 * s**2)


def _minimum_jerk_slope(s: np.ndarray) -> np.ndarray:
    """d minimum_jerk / d s: 30 s^2 (1 - s)^2 within the move, 0 outside."""
    inside = np.clip(s, 0.0, 1.0)
    return 30 * inside**2 * (1 - inside) ** 2


def move_steps(
    path: np.ndarray,
    times: np.ndarray,
    inside: np.ndarray,
    shake_level: float,
    gait: np.ndarray | None = None,
) -> np.ndarray:
    """Minimum-jerk steps that explain the deliberate stretches of one path column.

    ``inside`` marks the frames of deliberate moves and ``shake_level`` is the RMS shake of the
    walk around them. Each stretch is fitted with one step over a straight baseline, then two,
    up to ``MAX_STEPS`` (a turn and its return, a pan and a whip), until the fit leaves no more
    than ``FIT_TOLERANCE`` times the shake. A stretch no such fit explains gets no step and is
    left to the smoother's own handling, as is a stretch too near the clip's start or end.
    ``gait`` (frames, columns), when given, holds the
    footstep bob's harmonics at each frame: fitted alongside, so the bob does not bend the steps.
    Returns the sum of the kept steps at ``times``.
    """
    steps = np.zeros(len(path))
    edges = np.flatnonzero(np.diff(np.concatenate([[0], inside.astype(np.int8), [0]])))
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        if times[stop - 1] - times[start] > MAX_STRETCH_S:
            continue
        if times[start] - MOVE_MARGIN_S < times[0] or times[stop - 1] + MOVE_MARGIN_S > times[-1]:
            continue  # cut off by the clip's start or end: the move is not seen whole
        window = (times >= times[start] - MOVE_MARGIN_S) & (
            times <= times[stop - 1] + MOVE_MARGIN_S
        )
        first, last = times[window][[0, -1]]
        baseline = _polynomial(times[window])
        if gait is not None:
            baseline = np.column_stack([baseline, gait[window]])
        fitted = _fit_steps(times[window], path[window], baseline, FIT_TOLERANCE * shake_level)
        if any(
            duration >= MAX_MOVE_S - 1e-6 or onset < first or onset + duration > last
            for onset, duration, _ in fitted
        ):
            continue  # slower than a step, or not seen whole: only approximated by a step
        for onset, duration, height in fitted:
            if abs(height) >= MIN_STEP_SHAKES * shake_level:
                steps += height * minimum_jerk((times - onset) / duration)
    return steps


def _polynomial(t: np.ndarray) -> np.ndarray:
    """(samples, BASELINE_DEGREE + 1): powers of the centred, scaled time over a window."""
    return np.vander((t - t.mean()) / max(t[-1] - t[0], 1e-9), BASELINE_DEGREE + 1)


def _fit_steps(
    t: np.ndarray, y: np.ndarray, baseline: np.ndarray, tolerance: float
) -> list[tuple[float, float, float]]:
    """The fewest minimum-jerk steps (onset, duration, height) over a linear ``baseline``
    (samples, terms) that fit ``y`` to an RMS of at most ``tolerance``; none when ``MAX_STEPS``
    do not.

    Each new step starts from a grid search on what the previous ones left (the baseline solved
    exactly for every grid point), then all are refined together by least squares.
    """
    if len(t) < 8 + baseline.shape[1]:
        return []
    from scipy.optimize import least_squares  # ~0.1 s to import: only deliberate moves need it

    span = t[-1] - t[0]
    terms = baseline.shape[1]
    params = np.zeros(terms)  # the baseline's coefficients, then (onset, duration, height)s

    def model(p: np.ndarray) -> np.ndarray:
        out = baseline @ p[:terms]
        for onset, duration, height in p[terms:].reshape(-1, 3):
            out = out + height * minimum_jerk((t - onset) / duration)
        return out

    def jacobian(p: np.ndarray) -> np.ndarray:
        """d model / d p, exact: a finite-difference one costs a model per parameter."""
        columns = [baseline]
        for onset, duration, height in p[terms:].reshape(-1, 3):
            s = (t - onset) / duration
            slope = height * _minimum_jerk_slope(s) / duration  # d/dt of the step
            columns.append(np.column_stack([-slope, -slope * s, minimum_jerk(s)]))
        return np.hstack(columns)

    for count in range(1, MAX_STEPS + 1):
        left = y - model(params) + baseline @ params[:terms]
        onset, duration, coef = _grid_step(t, baseline, left)
        start = np.concatenate([coef[:terms], params[terms:], [onset, duration, coef[terms]]])
        lower = [-np.inf] * terms + [t[0] - span, MIN_MOVE_S, -np.inf] * count
        upper = [np.inf] * terms + [t[-1], MAX_MOVE_S, np.inf] * count
        start = np.clip(start, lower, upper)
        params = least_squares(lambda p: model(p) - y, start, jac=jacobian, bounds=(lower, upper)).x
        if np.sqrt(np.mean((model(params) - y) ** 2)) <= tolerance:
            return [tuple(map(float, step)) for step in params[terms:].reshape(-1, 3)]
    return []


def _grid_step(
    t: np.ndarray, baseline: np.ndarray, y: np.ndarray
) -> tuple[float, float, np.ndarray]:
    """Best single step on a grid of onsets and durations (frame spacing) over ``baseline``
    (samples, terms): onset, duration and the exactly solved baseline coefficients and height."""
    dt = (t[-1] - t[0]) / (len(t) - 1)
    onsets = np.arange(t[0] - dt, t[-1], dt)
    durations = np.arange(MIN_MOVE_S, min(MAX_MOVE_S, t[-1] - t[0] + dt), dt)
    grid_onset, grid_duration = (a.ravel() for a in np.meshgrid(onsets, durations))
    shape = minimum_jerk((t[None, :] - grid_onset[:, None]) / grid_duration[:, None])
    # with the baseline projected out (orthonormal q), each grid point is a one-term fit: its
    # error is |r|^2 less a gain (s.r)^2 / |s_perp|^2, where r is y less its baseline fit (r is
    # orthogonal to q, so s_perp.r = s.r) and |s_perp|^2 = |s|^2 - |q's|^2
    q, _ = np.linalg.qr(baseline)
    rest = y - q @ (q.T @ y)
    along = shape @ rest
    norms = np.einsum("gn,gn->g", shape, shape) - np.sum((shape @ q) ** 2, axis=1)
    gain = np.where(norms > 1e-9 * len(t), along**2 / np.maximum(norms, 1e-300), 0.0)
    best = int(np.argmax(gain))
    basis = np.column_stack([baseline, shape[best]])
    coef = np.linalg.lstsq(basis, y, rcond=None)[0]
    return float(grid_onset[best]), float(grid_duration[best]), coef
