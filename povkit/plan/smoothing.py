"""Camera-path smoothers, chosen by name: ``adaptive`` (default), ``l1`` and ``fixed``.

Each smoother turns a raw path (one column per degree of freedom, rows at frame times) into a
smooth one whose distance from the raw path stays within a per-column ``limit`` (the room the
crop leaves). Pure NumPy/SciPy: no video here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog
from scipy.sparse.linalg import spsolve


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
    """Robust trend filter: strong smoothing of jitter, deliberate moves pass through.

    Minimises  sum (p - c)^2 + lam * sum huber(p'')  by iteratively reweighted least squares.
    Small accelerations (footstep bob, vibration) are penalised quadratically, so they are
    filtered with a time constant of ``smoothness`` seconds; accelerations beyond ``turn_accel``
    (frame widths per second squared: the start and stop of a head turn or whip pan) are
    penalised only linearly, so there the time constant shortens and the move is followed
    without lag. The filter is zero-phase: nothing is delayed.
    """

    name: ClassVar[str] = "adaptive"
    smoothness: float = 0.5
    """Time constant in seconds for jitter (half-power cut-off at 1 / (2 pi smoothness) Hz)."""
    turn_accel: float = 0.8
    iterations: int = 12

    def __post_init__(self) -> None:
        if not 0.02 <= self.smoothness <= 30:
            raise ValueError(f"smoothness must be 0.02-30 seconds, got {self.smoothness}")
        if self.turn_accel <= 0:
            raise ValueError(f"turn_accel must be positive, got {self.turn_accel}")

    def smooth(
        self, raw: np.ndarray, times: np.ndarray, limit: np.ndarray, *, scale: np.ndarray
    ) -> np.ndarray:
        n = len(raw)
        if n < 4:
            return raw.copy()
        d2 = _difference(times, 2)
        lam = self.smoothness**4
        out = np.empty_like(raw)
        for k in range(raw.shape[1]):
            out[:, k] = self._smooth_column(raw[:, k], d2, lam, limit[k], scale[k])
        return out

    def _smooth_column(self, c, d2, lam, limit, scale) -> np.ndarray:
        n = len(c)
        fidelity = np.ones(n)
        curvature_weight = np.ones(d2.shape[0])
        threshold = self.turn_accel / scale
        p = c
        for _ in range(self.iterations):
            system = sp.diags(fidelity) + lam * (d2.T @ sp.diags(curvature_weight) @ d2)
            p = spsolve(system.tocsc(), fidelity * c)
            accel = np.abs(d2 @ p)
            curvature_weight = np.minimum(1.0, threshold / np.maximum(accel, 1e-12))
            over = np.abs(p - c) > limit
            if over.any():  # the crop has no room here: let the path give way, smoothly
                fidelity[over] *= 2.0
        return p


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
    try:
        cls = SMOOTHERS[name]
    except KeyError:
        raise ValueError(
            f"unknown smoothing method {name!r}; choose one of {', '.join(SMOOTHERS)}"
        ) from None
    return cls(**params)
