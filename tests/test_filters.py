"""Zero-phase filters by FFT (povkit.filters) against the scipy.signal ones they replace,
and the slow scipy modules that importing povkit.api leaves out."""

import subprocess
import sys

import numpy as np
import pytest
from scipy import ndimage, signal

from povkit.filters import (
    analytic_signal,
    bandpass,
    gaussian_smooth,
    highpass,
    running_max,
    running_mean,
)

FPS = 30.0


def _path(frames: int = 1500, seed: int = 0) -> np.ndarray:
    """A drifting random walk with jitter on top: three columns, pixels."""
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.standard_normal((frames, 3)), axis=0) + rng.standard_normal((frames, 3))


@pytest.mark.parametrize(
    ("ours", "btype", "cutoff", "order"),
    [(highpass, "highpass", 1.0, 4), (bandpass, "bandpass", (1.4, 2.6), 2)],
)
def test_filters_match_sosfiltfilt(ours, btype, cutoff, order):
    x = _path()
    sos = signal.butter(order, cutoff, btype, fs=FPS, output="sos")
    want, got = signal.sosfiltfilt(sos, x, axis=0), ours(x, FPS, cutoff, order)
    inner = slice(300, -300)  # 10 s from the ends: the ends are extended differently
    assert np.abs(got - want)[inner].max() < 1e-8 * want.std()
    assert np.sqrt(np.mean((got - want) ** 2)) < 0.05 * want.std()


def test_a_straight_drift_does_not_reach_the_ends():
    """The line through the ends is no shake: adding a fast pan changes nothing."""
    x = _path(300)
    pan = 400.0 * np.arange(300)[:, None] / FPS
    assert np.allclose(highpass(x + pan, FPS, 1.0, 4), highpass(x, FPS, 1.0, 4), atol=1e-9)


@pytest.mark.parametrize("frames", [255, 256])
def test_analytic_signal_matches_hilbert(frames):
    x = np.random.default_rng(1).standard_normal(frames)
    assert np.allclose(analytic_signal(x), signal.hilbert(x), rtol=0, atol=1e-12)


@pytest.mark.parametrize(("shape", "axis"), [((61,), 0), ((40, 3), 0), ((4, 37, 2), 1)])
def test_moving_windows_match_scipy_ndimage(shape, axis):
    """The window filters hold the ends and place their windows exactly as scipy.ndimage does
    with mode="nearest", for odd and even sizes."""
    x = np.random.default_rng(2).standard_normal(shape) * 100
    for size in (1, 2, 3, 8, 15, 90):
        mean = ndimage.uniform_filter1d(x, size, axis=axis, mode="nearest")
        assert np.allclose(running_mean(x, size, axis), mean, rtol=0, atol=1e-10)
        peak = ndimage.maximum_filter1d(x, size, axis=axis, mode="nearest")
        assert np.array_equal(running_max(x, size, axis), peak)
    for sigma in (0.1, 1.5, 6.2):
        blurred = ndimage.gaussian_filter1d(x, sigma, axis=axis, mode="nearest")
        assert np.allclose(gaussian_smooth(x, sigma, axis), blurred, rtol=0, atol=1e-10)


def test_the_api_leaves_slow_scipy_modules_unimported():
    """scipy.signal alone takes ~0.5 s of every run (only ``povkit metrics`` needs it),
    scipy.ndimage ~0.27 s, and scipy.optimize ~0.1 s (only deliberate moves and the L1 smoothers
    need it)."""
    slow = ["scipy.signal", "scipy.optimize", "scipy.integrate", "scipy.ndimage"]
    check = f"import sys, povkit.api; print([m for m in {slow} if m in sys.modules])"
    run = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"
