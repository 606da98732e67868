"""Camera-path smoothers, chosen by name: ``adaptive`` (default), ``l1`` and ``fixed``.

Each smoother turns a raw path (one column per degree of freedom, rows at frame times) into a
smooth one whose distance from the raw path stays within a per-column ``limit`` (the room the
crop leaves). Pure NumPy/SciPy: no video here.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import scipy.sparse as sp

from povkit.filters import analytic_signal, bandpass, gaussian_smooth, highpass, running_max
from povkit.plan.banded_qp import solve_in_box
from povkit.plan.moves import move_steps
from povkit.registry import build_named

FOLLOWED_WEIGHT = 0.05
"""Frames whose jerk weight is below this are followed nearly frame by frame (time constant
under about 0.6x): the moves fitted with minimum-jerk steps. Gentler slowing is left alone."""
SHAKE_FROM_HZ = 1.0
"""Frequency above which path motion outside deliberate moves counts as shake."""
BOB_FLANK_S = 1.5
"""Seconds either side of a deliberate move in which the walk's bob is measured."""


def mean_rate(times: np.ndarray) -> float:
    """Frames per second over ``times`` (seconds); 30 for a clip too short to tell."""
    if len(times) < 2:
        return 30.0
    return (len(times) - 1) / max(times[-1] - times[0], 1e-9)


class Smoother:
    """One smoothing algorithm. Subclasses set ``name`` and implement ``smooth``."""

    name: ClassVar[str]

    def smooth(
        self, raw: np.ndarray, times: np.ndarray, limit: np.ndarray, *, scale: np.ndarray
    ) -> np.ndarray:
        """Return a path like ``raw`` (N, K) with ``|result - raw| <= limit`` (K,) per column.

        ``times`` are frame times in seconds; ``scale`` (K,) converts each column to frame
        widths, so thresholds mean the same for every resolution.
        """
        raise NotImplementedError


def _difference(times: np.ndarray, order: int) -> sp.csr_matrix:
    """Divided-difference operator of ``order`` on (possibly uneven) frame times, per second."""
    n = len(times)
    operator = sp.identity(n, format="csr")
    t = times
    for _ in range(order):
        dt = np.diff(t)
        dt[dt <= 0] = 1e-3
        m = len(dt)
        step = sp.diags([-1 / dt, 1 / dt], [0, 1], shape=(m, m + 1), format="csr")
        operator = step @ operator
        t = (t[:-1] + t[1:]) / 2
    return operator


@dataclass(frozen=True)
class AdaptiveSmoother(Smoother):
    """Smoothing that removes jitter but lets deliberate head turns and whip pans through.

    Minimises  sum (p - c)^2 + lam * sum w_t (D^3 p)^2 : a jerk penalty, whose response
    1 / (1 + (f / f_c)^6) falls steeply between the slow sway of a walk and footstep bob, with
    f_c = 1 / (2 pi smoothness). Where the camera moves faster than ``turn_speed`` (frame widths
    per second, on a lightly smoothed path, widened to cover the start and stop of the move),
    w_t drops towards 0: there the time constant shortens and the move is followed frame by
    frame. The filter is zero-phase, so nothing is delayed. Moves followed that closely are
    also fitted with minimum-jerk steps (``povkit.plan.moves``); where the steps explain a
    move, they are taken out, the rest is smoothed like the walk and the steps are put back,
    so the turn keeps its shape and loses its footstep bob and vibration.
    """

    name: ClassVar[str] = "adaptive"
    smoothness: float = 0.5
    """Time constant in seconds for jitter (cut-off at 1 / (2 pi smoothness) Hz)."""
    turn_speed: float = 0.3
    """Camera speed, in frame widths per second, from which a move counts as deliberate."""
    speed_blur: float = 0.1
    """Seconds of Gaussian blur on the path before its speed is taken (tames footstep bob)."""
    order: int = 3
    """Order of the difference penalised: higher cuts off more sharply (response falls as
    f^-2order), so deliberate moves keep more of themselves while shake is still removed."""
    widen: float = 0.25
    """Seconds either side of a fast move that count as part of it (its start and stop)."""

    def __post_init__(self) -> None:
        if self.order not in (2, 3, 4, 5):
            raise ValueError(f"order must be 2, 3, 4 or 5, got {self.order}")
        if not 0.02 <= self.smoothness <= 30:
            raise ValueError(f"smoothness must be 0.02-30 seconds, got {self.smoothness}")
        if not self.turn_speed > 0:  # NaN fails too
            raise ValueError(f"turn_speed must be positive, got {self.turn_speed}")

    def smooth(
        self, raw: np.ndarray, times: np.ndarray, limit: np.ndarray, *, scale: np.ndarray
    ) -> np.ndarray:
        if len(raw) < 8:
            return raw.copy()
        steps = self.deliberate_steps(raw, times, scale)
        rest = raw - steps  # the modelled turns taken out: smoothed like the rest of the walk
        weights = self.deliberate_weights(rest, times, scale)
        return self._smooth_with(rest, times, limit, weights) + steps

    def deliberate_steps(self, raw: np.ndarray, times: np.ndarray, scale: np.ndarray) -> np.ndarray:
        """Minimum-jerk steps (``povkit.plan.moves``) that explain the moves followed closely.

        They depend on the raw path alone, not on the strength or the crop's limits, so a plan
        that tries several of those fits them once (the last few results are kept).
        """
        key = _digest(raw, times, scale, self.turn_speed, self.speed_blur, self.order, self.widen)
        if key not in _STEPS_MEMO:
            _STEPS_MEMO[key] = self._fit_steps(raw, times, scale)
            while len(_STEPS_MEMO) > STEPS_MEMO_SIZE:
                _STEPS_MEMO.popitem(last=False)
        return _STEPS_MEMO[key]

    def _fit_steps(self, raw: np.ndarray, times: np.ndarray, scale: np.ndarray) -> np.ndarray:
        inside = self.deliberate_weights(raw, times, scale) < FOLLOWED_WEIGHT
        jitter = _above(raw, times, SHAKE_FROM_HZ)
        reference, phase = _gait_phase(jitter, inside, times)
        steps = np.zeros_like(raw)
        for axis in range(raw.shape[1]):
            if inside[:, axis].any() and not inside[:, axis].all():
                level = float(np.sqrt(np.mean(jitter[~inside[:, axis], axis] ** 2)))
                gait = _harmonics(phase)[:, 1:] if phase is not None and axis != reference else None
                steps[:, axis] = move_steps(raw[:, axis], times, inside[:, axis], level, gait)
        return steps

    def _smooth_with(
        self, raw: np.ndarray, times: np.ndarray, limit: np.ndarray, weights: np.ndarray
    ) -> np.ndarray:
        """The jerk-penalised path under per-frame ``weights``, with the bob taken out of moves."""
        dk = _difference(times, self.order)
        order = self.order
        paths = np.empty_like(raw)
        for axis in range(raw.shape[1]):
            w = weights[:, axis]
            row_weight = np.minimum.reduce([w[i : len(w) - order + i] for i in range(order + 1)])
            penalty = self.smoothness ** (2 * order) * (dk.T @ sp.diags(row_weight) @ dk)
            paths[:, axis] = _fit_within(raw[:, axis], penalty, limit[axis])
        shake, inside = raw - paths, weights < 0.5
        reference, phase = _gait_phase(shake, inside, times)
        for axis in range(raw.shape[1]):
            gait = phase if axis != reference else None
            bob = _footstep_bob(shake[:, axis], times, inside[:, axis], gait)
            paths[:, axis] -= (1 - weights[:, axis]) * bob  # inside a move, take the bob out too
        return np.clip(paths, raw - limit, raw + limit)

    def deliberate_weights(
        self, raw: np.ndarray, times: np.ndarray, scale: np.ndarray
    ) -> np.ndarray:
        """Weight of the jerk penalty per frame and axis: 1 in jitter, near 0 in deliberate moves
        (a yaw whip pan frees the yaw axis only: pitch and roll stay smoothed)."""
        fps = mean_rate(times)
        light = gaussian_smooth(raw * scale, self.speed_blur * fps)
        pace = np.abs(np.gradient(light, times, axis=0)) / self.turn_speed
        window = 2 * round(self.widen * fps) + 1
        widened = running_max(pace, window)
        # the local time constant is smoothness / (1 + (v / turn_speed)^2); lam goes as its
        # (2 order)th power
        shortening = 1 / (1 + widened**2)
        shortening = gaussian_smooth(shortening, 0.05 * fps)
        return shortening ** (2 * self.order)


STEPS_MEMO_SIZE = 4
"""Paths whose fitted steps are kept: a plan smooths one path up to a dozen times."""
_STEPS_MEMO: OrderedDict[bytes, np.ndarray] = OrderedDict()


def _digest(*parts: np.ndarray | float) -> bytes:
    """A key for arrays and numbers: equal only for equal values."""
    digest = hashlib.blake2b(digest_size=16)
    for part in parts:
        digest.update(np.ascontiguousarray(part, dtype=np.float64).tobytes())
    return digest.digest()


def _above(raw: np.ndarray, times: np.ndarray, cutoff_hz: float) -> np.ndarray:
    """``raw`` high-passed at ``cutoff_hz`` (zero phase): the shake, whatever the smoothing."""
    fps = mean_rate(times)
    if len(raw) < 30 or cutoff_hz >= fps / 2:
        return raw - raw.mean(axis=0)
    return highpass(raw, fps, cutoff_hz, order=4)


def _gait_phase(
    shake: np.ndarray, inside: np.ndarray, times: np.ndarray
) -> tuple[int | None, np.ndarray | None]:
    """The walk's step phase over the whole clip, read off the axis that bobs most clearly.

    Footsteps shake every axis in step, so while a head turn hides the bob in yaw, pitch still
    shows it frame by frame. Returns (that axis, its instantaneous phase in radians from the
    analytic signal of its step band), or (None, None) when no axis is clear of deliberate moves.
    """
    fps = mean_rate(times)
    if len(times) < 4 * fps or fps < 2 * STEP_BAND_HZ[1] + 1:
        return None, None
    band = bandpass(shake, fps, STEP_BAND_HZ, order=2)
    clear = inside.mean(axis=0) < 0.05
    energy = np.where(clear, (band**2).mean(axis=0) / (shake**2).mean(axis=0).clip(1e-18), 0.0)
    if not energy.any():
        return None, None
    reference = int(np.argmax(energy))
    return reference, np.unwrap(np.angle(analytic_signal(band[:, reference])))


def _footstep_bob(
    residual: np.ndarray, times: np.ndarray, inside: np.ndarray, phase: np.ndarray | None
) -> np.ndarray:
    """Footstep bob predicted inside deliberate moves from the shake just around them.

    Walking shakes the head at the step frequency (1.5-2.5 Hz) and its first harmonic. For
    each stretch ``inside`` a move, a harmonic model is fitted to ``residual`` (the shake) in
    the 1.5 s on either side and carried across the stretch: on the gait ``phase`` read from
    another axis where there is one (it follows the walk's changes of pace), else at the best
    constant step rate. Where it explains less than half of that shake, nothing is predicted.
    """
    predicted = np.zeros_like(residual)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], inside.astype(np.int8), [0]])))
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        flank = (
            ~inside & (times > times[start] - BOB_FLANK_S) & (times < times[stop - 1] + BOB_FLANK_S)
        )
        if flank.sum() < 20:
            continue
        if phase is None:  # all candidate rates at once: (rates, samples, 5)
            basis = _harmonics(times[None, :] * 2 * np.pi * _STEP_RATES[:, None])
        else:
            basis = _harmonics(phase[None, :])
        y = residual[flank]
        flank_basis = basis[:, flank]
        gram = np.einsum("fni,fnj->fij", flank_basis, flank_basis) + 1e-9 * np.eye(5)
        moments = np.einsum("fni,n->fi", flank_basis, y)
        coef = np.linalg.solve(gram, moments[..., None])[..., 0]
        fitted_energy = np.einsum("fi,fi->f", coef, moments)
        best = int(np.argmax(fitted_energy))
        total = float(y @ y) - len(y) * y.mean() ** 2
        explained = (fitted_energy[best] - len(y) * y.mean() ** 2) / max(total, 1e-12)
        if explained >= 0.5:
            predicted[start:stop] = basis[best, start:stop] @ coef[best]
    return predicted


_STEP_RATES = np.arange(1.5, 2.5, 0.02)
"""Step rates (Hz) tried for the footstep bob: walking to jogging."""
STEP_BAND_HZ = (1.4, 2.6)
"""Band in which the gait phase is read (step rates with some margin)."""


def _harmonics(phase: np.ndarray) -> np.ndarray:
    """(..., samples, 5): a constant, the step and its first harmonic, at each gait ``phase``."""
    return np.stack(
        [np.ones_like(phase), np.cos(phase), np.sin(phase), np.cos(2 * phase), np.sin(2 * phase)],
        axis=-1,
    )


def _fit_within(c: np.ndarray, penalty: sp.spmatrix, limit: float) -> np.ndarray:
    """The path minimising |p - c|^2 + p' penalty p subject to |p - c| <= limit.

    Without the bound it is one banded solve; where the crop binds, the exact optimum of that
    banded QP (``povkit.plan.banded_qp``), so the path gives way exactly as much as the crop
    requires, and smoothly.
    """
    system = sp.identity(len(c), format="csr") + penalty
    return solve_in_box(system, c, c - limit, c + limit)


@dataclass(frozen=True)
class L1Smoother(Smoother):
    """L1-optimal camera path (Grundmann, Kwatra, Essa, CVPR 2011), solved as an LP by HiGHS.

    Minimises  w1 |D p| + w2 |D^2 p| + w3 |D^3 p|  subject to  |p - c| <= limit, giving paths
    made of constant, linear and parabolic pieces, like a camera on a tripod, dolly or crane.
    """

    name: ClassVar[str] = "l1"
    weights: tuple[float, float, float] = (10.0, 1.0, 100.0)

    def __post_init__(self) -> None:
        if len(self.weights) != 3 or min(self.weights) < 0 or max(self.weights) == 0:
            raise ValueError(f"weights must be three non-negative numbers, got {self.weights}")

    def smooth(
        self, raw: np.ndarray, times: np.ndarray, limit: np.ndarray, *, scale: np.ndarray
    ) -> np.ndarray:
        if len(raw) < 5:
            return raw.copy()
        frame_times = np.arange(len(raw), dtype=float)  # per frame, as in the paper
        out = np.empty_like(raw)
        for k in range(raw.shape[1]):
            out[:, k] = self._solve_column(raw[:, k], frame_times, limit[k])
        return out

    def _solve_column(self, c: np.ndarray, t: np.ndarray, limit: float) -> np.ndarray:
        from scipy.optimize import linprog  # ~0.1 s to import: only the L1 smoothers need it

        n = len(c)
        blocks = [_difference(t, order) for order in (1, 2, 3)]
        # variables: p (n), then one slack per row of each difference operator
        sizes = [b.shape[0] for b in blocks]
        total = n + sum(sizes)
        cost = np.concatenate(
            [np.zeros(n)] + [np.full(m, w) for m, w in zip(sizes, self.weights, strict=True)]
        )
        rows, offset = [], n
        for block, m in zip(blocks, sizes, strict=True):
            slack = sp.csr_matrix(
                (-np.ones(m), (np.arange(m), offset + np.arange(m))), shape=(m, total)
            )
            padded = sp.hstack([block, sp.csr_matrix((m, total - n))])
            rows += [padded + slack, -padded + slack]  # |D p| <= e
            offset += m
        a_ub = sp.vstack(rows).tocsc()
        bounds = [(ci - limit, ci + limit) for ci in c] + [(0, None)] * (total - n)
        result = linprog(
            cost, A_ub=a_ub, b_ub=np.zeros(a_ub.shape[0]), bounds=bounds, method="highs"
        )
        if result.status != 0:
            return c.copy()
        return result.x[:n]


@dataclass(frozen=True)
class FixedSmoother(L1Smoother):
    """A locked-off tripod look: the L1 path with nearly all weight on motion itself."""

    name: ClassVar[str] = "fixed"
    weights: tuple[float, float, float] = (100.0, 1.0, 10.0)


SMOOTHERS: dict[str, type[Smoother]] = {
    cls.name: cls for cls in (AdaptiveSmoother, L1Smoother, FixedSmoother)
}


def make_smoother(name: str, **params) -> Smoother:
    """Build the smoother called ``name`` with its typed parameters, or explain the choices."""
    return build_named(SMOOTHERS, "smoothing method", name, **params)
