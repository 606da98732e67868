"""Filters over time series in NumPy alone: importing scipy.signal costs ~0.5 s a run, and
scipy.ndimage ~0.27 s, for a few filters of a few thousand samples.

Zero-phase Butterworth filters by NumPy's FFT:

A Butterworth filter run forwards and backwards (``scipy.signal.sosfiltfilt``) multiplies each
frequency by the square of the digital filter's gain, 1 / (1 + r^(2 order)), where r is the
frequency on the analog prototype after the bilinear transform's warping, tan(pi f / fs). Here
that gain is applied to the spectrum directly (numpy.fft: loaded with NumPy, where scipy.fft
would add ~40 ms more), and ``analytic_signal`` stands in for ``scipy.signal.hilbert``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def highpass(x: np.ndarray, fs: float, cutoff_hz: float, order: int) -> np.ndarray:
    """``x`` high-passed along axis 0 at ``cutoff_hz``, zero phase: ``sosfiltfilt`` of
    ``butter(order, cutoff_hz, "highpass", fs=fs)``."""
    cutoff = _warped(cutoff_hz, fs)
    return _zero_phase(x, order, lambda w: cutoff / w)


def bandpass(x: np.ndarray, fs: float, band_hz: tuple[float, float], order: int) -> np.ndarray:
    """``x`` band-passed along axis 0 to ``band_hz``, zero phase: ``sosfiltfilt`` of
    ``butter(order, band_hz, "bandpass", fs=fs)``."""
    low, high = _warped(band_hz[0], fs), _warped(band_hz[1], fs)
    return _zero_phase(x, order, lambda w: (w * w - low * high) / (w * (high - low)))


def analytic_signal(x: np.ndarray) -> np.ndarray:
    """The analytic signal of the series ``x`` (``x`` plus i times its Hilbert transform), as
    ``scipy.signal.hilbert`` gives it: negative frequencies removed, positive ones doubled."""
    n = len(x)
    weights = np.zeros(n)
    weights[0] = 1.0
    weights[1 : (n + 1) // 2] = 2.0
    if n % 2 == 0:
        weights[n // 2] = 1.0
    return np.fft.ifft(np.fft.fft(x) * weights)


def _warped(frequency_hz: float, fs: float) -> float:
    """``frequency_hz`` on the analog prototype's axis (bilinear transform, up to a factor)."""
    return float(np.tan(np.pi * frequency_hz / fs))


def _zero_phase(
    x: np.ndarray, order: int, prototype: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """``x`` filtered along axis 0 by the gain 1 / (1 + prototype(w)^(2 order)) at each warped
    frequency w.

    The line through the ends of ``x`` is taken out (a zero-phase filter scales a line by its gain
    at 0 Hz) and the rest, zero at both ends, filtered as the periodic series of its odd
    reflections at both ends (one period is the rest and its negated mirror): each end is
    extended by its odd reflection, as ``sosfiltfilt`` does, and does not ring into the other.
    """
    n, column = len(x), (-1,) + (1,) * (x.ndim - 1)
    line = x[:1] + (x[-1:] - x[:1]) * (np.arange(n) / max(n - 1, 1)).reshape(column)
    rest = x - line
    padded = np.concatenate([rest, -rest[-2:0:-1]])  # one period of the odd reflections
    size = len(padded)
    with np.errstate(divide="ignore", over="ignore"):  # at 0 Hz and Nyquist: gain 0 or 1
        gain = 1 / (1 + prototype(np.tan(np.pi * np.fft.rfftfreq(size))) ** (2 * order))
    spectrum = np.fft.rfft(padded, axis=0) * gain.reshape(column)
    return np.fft.irfft(spectrum, size, axis=0)[:n] + gain[0] * line


def running_mean(x: np.ndarray, size: int, axis: int = 0) -> np.ndarray:
    """Mean over a window of ``size`` samples along ``axis``, the ends held (their sample
    repeated), as ``scipy.ndimage.uniform_filter1d(x, size, axis, mode="nearest")``."""
    padded = np.moveaxis(_padded(np.asarray(x, dtype=float), size, axis), axis, 0)
    sums = np.cumsum(padded, axis=0)
    sums = np.concatenate([np.zeros_like(sums[:1]), sums])
    return np.moveaxis((sums[size:] - sums[:-size]) / size, 0, axis)


def running_max(x: np.ndarray, size: int, axis: int = 0) -> np.ndarray:
    """Maximum over a window of ``size`` samples along ``axis``, the ends held, as
    ``scipy.ndimage.maximum_filter1d(x, size, axis, mode="nearest")``."""
    return _windows(np.asarray(x), size, axis).max(axis=-1)


def gaussian_smooth(x: np.ndarray, sigma: float, axis: int = 0) -> np.ndarray:
    """Gaussian-weighted mean (``sigma`` samples, cut at 4 sigma) along ``axis``, the ends
    held, as ``scipy.ndimage.gaussian_filter1d(x, sigma, axis, mode="nearest")``."""
    radius = int(4.0 * sigma + 0.5)
    x = np.asarray(x, dtype=float)
    if radius == 0:
        return x.copy()
    offsets = np.arange(-radius, radius + 1)
    weights = np.exp(-0.5 * (offsets / sigma) ** 2)
    return _windows(x, 2 * radius + 1, axis) @ (weights / weights.sum())


def _windows(x: np.ndarray, size: int, axis: int) -> np.ndarray:
    """Every window of ``size`` samples along ``axis`` of ``x`` padded by :func:`_padded`,
    along a new last axis."""
    return np.lib.stride_tricks.sliding_window_view(_padded(x, size, axis), size, axis=axis)


def _padded(x: np.ndarray, size: int, axis: int) -> np.ndarray:
    """``x`` with its end samples repeated along ``axis`` so that sample i's window of ``size``
    runs from i - size // 2 to i + (size - 1) // 2, as scipy.ndimage places it."""
    if size < 1:
        raise ValueError(f"window size must be at least 1, got {size}")
    pad = [(0, 0)] * x.ndim
    pad[axis] = (size // 2, (size - 1) // 2)
    return np.pad(x, pad, mode="edge")
