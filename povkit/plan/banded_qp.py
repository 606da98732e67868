"""Exact minimiser of a banded, strictly convex quadratic under per-variable bounds.

Solves  min 0.5 x'Hx - c'x  subject to  lower <= x <= upper  for a symmetric positive definite,
banded H: the camera-path smoothers' I + lam D'WD, whose diagonal reaches 1e10 and condition
number 1e12. Interior-point and ADMM solvers stall or stop early on that conditioning;
here every step is one banded Cholesky solve for the variables not held at a bound (holding
some leaves the system banded), O(n bandwidth^2), and the method ends on the exact optimum,
with the sign of every bound's multiplier checked.

Two phases, neither of which ever raises the objective:

1. projected Newton (Bertsekas 1982): a Newton step on the variables not held at a bound,
   projected onto the box and backtracked. It moves hundreds of bounds per step, so it gets
   near the final active set in a few solves.
2. primal active set (Nocedal & Wright, Algorithm 16.3): exact and finite; it finishes from
   there, taking on one blocking bound per solve and letting go of bounds that pull the wrong
   way.

Primal-dual active-set steps (Hintermueller, Ito, Kunisch) cycle on these problems: H is not an
M-matrix, so a full exchange of the active set overshoots, and it never settles.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.linalg import LinAlgError, solve_banded, solveh_banded

NEWTON_STEPS = 40
"""Projected-Newton steps at most before the active-set phase: the clipped unconstrained
path can be hundreds of bounds away from the optimum's, and the active-set phase changes
one bound per solve."""
BACKTRACKS = 30
"""Halvings of a projected-Newton step before the phase gives up on it."""
ARMIJO = 1e-4
"""Fraction of the first-order decrease a projected-Newton step must achieve."""
ROUNDING = 1e-13
"""Size, relative to |H| |x| + |c|, below which an entry of the gradient Hx - c counts as zero:
its terms reach 1e10 where the gradient is near 0, so its rounding is that large."""
ACTIVE_SET_STEPS_PER_VARIABLE = 2
"""Cap on active-set steps, per variable: the method is finite (on real paths of 25-5,500
frames, Newton phase included, at most half a solve per variable); the cap only guards against
cycling on exact ties, and what it stops at is feasible and no worse than the start."""


def solve_in_box(
    system: sp.spmatrix, c: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> np.ndarray:
    """The x minimising 0.5 x'(system)x - c'x with ``lower <= x <= upper`` (bounds may be inf).

    ``system`` must be symmetric positive definite and banded. Without binding bounds this is
    one banded solve.
    """
    matrix = sp.csr_matrix(system)
    band = lower_band(matrix)
    x = _solve(band, c)
    if np.all((x >= lower) & (x <= upper)):
        return x
    problem = _Problem(matrix, band, c, lower, upper)
    x = problem.projected_newton(np.clip(x, lower, upper))
    return problem.active_set(x)


def lower_band(matrix: sp.spmatrix) -> np.ndarray:
    """The lower triangle of symmetric ``matrix`` in LAPACK banded storage (row d: d-th
    subdiagonal), as ``scipy.linalg.solveh_banded(..., lower=True)`` takes it."""
    lower = sp.tril(matrix).tocoo()
    depth = lower.row - lower.col
    band = np.zeros((int(depth.max(initial=0)) + 1, matrix.shape[0]))
    band[depth, lower.col] = lower.data
    return band


def _solve(band: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve with the symmetric matrix whose lower ``band`` is given: by Cholesky, or by LU with
    pivoting where so strong a smoothing (say 30 s at order 5) leaves the identity below the
    penalty's rounding and H looks indefinite to Cholesky (as good as double precision allows)."""
    try:
        return solveh_banded(band, rhs, lower=True, check_finite=False)
    except LinAlgError:
        width = band.shape[0] - 1
        full = np.zeros((2 * width + 1, band.shape[1]))
        full[width:] = band
        for d in range(1, width + 1):
            full[width - d, d:] = band[d, :-d]
        return solve_banded((width, width), full, rhs, check_finite=False)


def _held_band(band: np.ndarray, free: np.ndarray) -> np.ndarray:
    """``band`` with the rows and columns of the variables outside ``free`` (a mask) replaced by
    the identity's: solving with it gives the free variables' Newton step and 0 for the rest,
    and it stays banded, unlike a reordering."""
    held = band.copy()
    for d in range(1, band.shape[0]):
        held[d, : len(free) - d] *= free[d:] & free[:-d]
        held[d, len(free) - d :] = 0.0
    held[0] = np.where(free, band[0], 1.0)
    return held


class _Problem:
    """One bound-constrained problem and the two phases that solve it."""

    def __init__(
        self,
        matrix: sp.csr_matrix,
        band: np.ndarray,
        c: np.ndarray,
        lower: np.ndarray,
        upper: np.ndarray,
    ) -> None:
        self.matrix, self.band, self.c = matrix, band, c
        self.lower, self.upper = lower, upper
        self.magnitude = abs(matrix)  # |H| |x| is the size of the terms summed in Hx

    def gradient(self, x: np.ndarray) -> np.ndarray:
        """Hx - c."""
        return self.matrix @ x - self.c

    def rounding(self, x: np.ndarray) -> np.ndarray:
        """Size below which each entry of the gradient at ``x`` is rounding."""
        return ROUNDING * (self.magnitude @ np.abs(x) + np.abs(self.c))

    def newton_step(self, gradient: np.ndarray, free: np.ndarray) -> np.ndarray:
        """The step to the minimum with the variables outside ``free`` (a mask) held."""
        return _solve(_held_band(self.band, free), np.where(free, -gradient, 0.0))

    def projected_newton(self, x: np.ndarray) -> np.ndarray:
        """Feasible ``x`` improved by projected-Newton steps while they make progress."""
        for _ in range(NEWTON_STEPS):
            gradient, noise = self.gradient(x), self.rounding(x)
            held = ((x <= self.lower) & (gradient >= -noise)) | (
                (x >= self.upper) & (gradient <= noise)
            )
            if np.all(np.abs(gradient[~held]) <= noise[~held]):
                break  # optimal already
            step = self.newton_step(gradient, ~held)
            for halving in range(BACKTRACKS):
                move = np.clip(x + 0.5**halving * step, self.lower, self.upper) - x
                slope = gradient @ move
                change = slope + 0.5 * move @ (self.matrix @ move)  # exact for a quadratic
                if slope < 0 and change <= ARMIJO * slope:
                    break
            else:
                break  # no progress along the projected path: leave it to the active set
            x = np.clip(x + move, self.lower, self.upper)
        return x

    def active_set(self, x: np.ndarray) -> np.ndarray:
        """The optimum, from feasible ``x``, by the primal active-set method.

        The working set starts as the bounds ``x`` touches. A step towards the minimum with
        them held stops at the first bound in the way, which joins the set; at that minimum,
        bounds whose multiplier has the wrong sign leave it, all at once unless the set came
        back to where it was (then the worst only, which is sure to make progress).
        """
        held = (x <= self.lower) | (x >= self.upper)
        previous = None
        for _ in range(ACTIVE_SET_STEPS_PER_VARIABLE * len(x)):
            step = self.newton_step(self.gradient(x), ~held)
            target = x + step
            out = ~held & ((target > self.upper) | (target < self.lower))
            if out.any():
                room = np.where(step > 0, self.upper - x, self.lower - x)
                ratio = np.full(len(x), np.inf)
                ratio[out] = np.maximum(room[out] / step[out], 0.0)
                alpha = ratio.min()
                blocking = ratio <= alpha
                x = x + alpha * step
                x[blocking] = np.where(step > 0, self.upper, self.lower)[blocking]
                held |= blocking
                continue
            x = np.where(held, x, target)
            gradient, noise = self.gradient(x), self.rounding(x)
            at_upper, at_lower = x >= self.upper, x <= self.lower
            pull = np.where(at_upper & ~at_lower, gradient, 0.0)
            pull = np.where(at_lower & ~at_upper, -gradient, pull)
            wrong = held & (pull > noise)
            if not wrong.any():
                break
            if previous is not None and np.array_equal(held, previous):
                wrong = np.arange(len(x)) == np.argmax(np.where(wrong, pull / noise, 0.0))
            previous = held.copy()
            held &= ~wrong
        return np.clip(x, self.lower, self.upper)
