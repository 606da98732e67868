"""The banded box-QP solver behind the adaptive smoother's crop limit: exact, not approximate."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import lsq_linear

from povkit.plan.banded_qp import solve_in_box
from povkit.plan.smoothing import _difference, _fit_within

FPS = 30


def _jerk_problem(
    seed: int, order: int, n: int = 150, smoothness: float = 1.0
) -> tuple[np.ndarray, sp.spmatrix, np.ndarray]:
    """A walk-like path, its smoothing penalty (as the adaptive smoother builds it: uneven
    frame times, a stretch of zero weight for a deliberate move) and the penalty's root."""
    rng = np.random.default_rng(seed)
    times = np.cumsum(rng.uniform(0.8, 1.2, n)) / FPS
    c = np.cumsum(rng.normal(0, 1, n)) + 3 * np.sin(2 * np.pi * 2 * times)
    dk = _difference(times, order)
    weight = np.ones(dk.shape[0])
    weight[n // 3 : n // 2] = 0.0
    root = smoothness**order * sp.diags(np.sqrt(weight)) @ dk
    return c, (root.T @ root).tocsr(), root


def _kkt_residual(system: sp.spmatrix, c: np.ndarray, p: np.ndarray, limit: float) -> float:
    """Largest violation of the optimality conditions, relative to the size of Hp's terms."""
    gradient = system @ p - c
    at_upper, at_lower = p >= c + limit, p <= c - limit
    violation = np.where(
        at_upper, np.maximum(gradient, 0), np.where(at_lower, -np.minimum(gradient, 0), 0)
    )
    violation = np.where(at_upper | at_lower, violation, np.abs(gradient))
    return float((violation / (abs(system) @ np.abs(p) + np.abs(c))).max())


@pytest.mark.parametrize(("order", "smoothness"), [(2, 1.0), (3, 1.0), (4, 0.4), (5, 0.25)])
@pytest.mark.parametrize("tightness", [0.999, 0.5, 0.1])
def test_matches_bounded_least_squares(order, smoothness, tightness):
    """Against BVLS on the same problem written as least squares (better conditioned, dense),
    at smoothings whose penalty reaches 1e10-1e11 on the diagonal, like the strongest that
    plans try by default."""
    c, penalty, root = _jerk_problem(order, order, smoothness=smoothness)
    n = len(c)
    system = sp.identity(n, format="csr") + penalty
    free = solve_in_box(system, c, np.full(n, -np.inf), np.full(n, np.inf))
    limit = tightness * np.abs(free - c).max()
    p = solve_in_box(system, c, c - limit, c + limit)
    assert np.all((p >= c - limit) & (p <= c + limit))
    assert _kkt_residual(system, c, p, limit) < 1e-13

    stacked = sp.vstack([sp.identity(n), root]).toarray()
    target = np.concatenate([c, np.zeros(root.shape[0])])
    reference = lsq_linear(stacked, target, bounds=(c - limit, c + limit), method="bvls").x

    def objective(x):
        return np.sum((x - c) ** 2) + np.sum((root @ x) ** 2)

    assert objective(p) <= objective(reference) * (1 + 1e-9)


def test_unconstrained_is_one_solve():
    c, penalty, _ = _jerk_problem(0, 3)
    system = sp.identity(len(c), format="csr") + penalty
    p = solve_in_box(system, c, c - np.inf, c + np.inf)
    assert np.abs(system @ p - c).max() <= 1e-13 * (abs(system) @ np.abs(p)).max()


def test_no_room_keeps_the_raw_path():
    c, penalty, _ = _jerk_problem(1, 3)
    system = sp.identity(len(c), format="csr") + penalty
    np.testing.assert_array_equal(solve_in_box(system, c, c, c), c)


@pytest.mark.parametrize("margin", [1 - 1e-7, 0.999, 0.9, 0.5])
def test_exact_where_the_bound_is_only_just_touched(margin):
    """From barely binding to tight, the fit within the crop's limit is the optimum."""
    c, penalty, _ = _jerk_problem(3, 3, n=300)
    system = sp.identity(len(c), format="csr") + penalty
    limit = margin * np.abs(_fit_within(c, penalty, np.inf) - c).max()
    p = _fit_within(c, penalty, limit)
    assert np.all((p >= c - limit) & (p <= c + limit))
    assert _kkt_residual(system, c, p, limit) < 1e-13


def test_strongest_smoothing_still_solves():
    """At 30 s and order 5 the identity drowns in the penalty's rounding and Cholesky sees an
    indefinite matrix; the solve falls back on LU and still keeps within the bound."""
    c, penalty, _ = _jerk_problem(4, 5, smoothness=30.0)
    limit = 0.3 * np.abs(_fit_within(c, penalty, np.inf) - c).max()
    p = _fit_within(c, penalty, limit)
    assert np.all(np.isfinite(p)) and np.all((p >= c - limit) & (p <= c + limit))
