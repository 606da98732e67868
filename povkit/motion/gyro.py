"""Camera motion from the gyroscope: orientation by integrating angular velocity, then the same
``CameraPath`` the visual estimator makes, so the two can be compared, fused and swapped.

Rates are integrated as quaternions (scipy ``Rotation``) in camera axes: x right, y down,
z forward, so a (yaw, pitch, roll) rate is the rotation vector (pitch, yaw, roll). Frame steps
are the relative rotations between consecutive frames, linearized about the frame centre with
the lens's central focal length: content shift (-f yaw, f aspect pitch) and roll -roll, as
``povkit.synth`` defines them; ``aspect`` is a lens profile's fy / fx (1 without one).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from povkit.geometry import path_from_steps
from povkit.types import CameraPath, FrameTimes, ImuSamples

_RATES_TO_ROTVEC = [1, 0, 2]
"""(yaw, pitch, roll) rates -> rotation vector about camera (x right, y down, z forward)."""
READOUT_KNOTS = 9
"""Rows per frame at which the rolling-shutter motion is sampled (linear in between): a
30 ms readout is then sampled every 3.75 ms, finer than a 200 Hz gyro, so shake up to
15 Hz, which bends within a readout, is followed row by row."""


@dataclass(frozen=True)
class Orientation:
    """Camera orientation at the gyro's sample times (gyro clock), relative to the first."""

    times: np.ndarray
    rotations: Rotation

    @cached_property
    def _slerp(self) -> Slerp:
        return Slerp(self.times, self.rotations)

    def at(self, times: np.ndarray) -> Rotation:
        """Orientation at ``times`` (gyro clock), slerped between samples, clamped at the ends."""
        return self._slerp(np.clip(times, self.times[0], self.times[-1]))


def integrate_orientation(imu: ImuSamples, bias: np.ndarray | None = None) -> Orientation:
    """Integrate (bias-corrected) angular velocity into orientations, one per sample.

    Each interval turns by its mean rate (trapezoid) about the body axes; quaternions are
    composed in a plain loop (fast for the few thousand samples of a clip).
    """
    rates = imu.gyro - (0 if bias is None else np.asarray(bias))
    vectors = rates[:, _RATES_TO_ROTVEC]
    steps = 0.5 * (vectors[1:] + vectors[:-1]) * np.diff(imu.times)[:, None]
    step_quats = Rotation.from_rotvec(steps).as_quat()  # x, y, z, w
    quats = np.empty((len(imu.times), 4))
    x, y, z, w = 0.0, 0.0, 0.0, 1.0
    quats[0] = (x, y, z, w)
    for i, (bx, by, bz, bw) in enumerate(step_quats.tolist(), start=1):
        x, y, z, w = (
            w * bx + x * bw + y * bz - z * by,
            w * by - x * bz + y * bw + z * bx,
            w * bz + x * by - y * bx + z * bw,
            w * bw - x * bx - y * by - z * bz,
        )
        quats[i] = (x, y, z, w)
    return Orientation(imu.times, Rotation.from_quat(quats))


def picture_orientation(camera: np.ndarray, image: np.ndarray, times: np.ndarray) -> Orientation:
    """Orientation the picture looks along when the camera stabilized it itself, from its camera
    (GoPro CORI) and image (IORI) quaternions (w, x, y, z) at ``times``, in camera axes.

    The records turn the world into the camera and the camera into the picture, so the picture
    turns as conj(CORI) conj(IORI). On the MAX walk this matches the picture's quick shifts with
    r 0.76 after the sync's high-pass (``match_frames``; roll 0.95 against the tracked picture);
    the other seven orders and conjugates reach 0.61 at best, the body alone (conj(CORI)) 0.08,
    though it follows the integrated gyro axis for axis (r 0.98-0.99 at the records' times).
    """
    order = [1, 2, 3, 0]  # scipy wants (x, y, z, w)
    rotations = (
        Rotation.from_quat(camera[:, order]).inv() * Rotation.from_quat(image[:, order]).inv()
    )
    return Orientation(times, rotations[0].inv() * rotations)


def frame_rotations(orientation: Orientation, times: np.ndarray) -> np.ndarray:
    """(N, 3) rotation from each time to the next as (yaw, pitch, roll) radians in the
    earlier camera's axes; row 0 is zero. ``times`` are on the gyro clock."""
    at = orientation.at(times)
    steps = np.zeros((len(times), 3))
    if len(times) > 1:
        relative = at[:-1].inv() * at[1:]
        steps[1:] = relative.as_rotvec()[:, _RATES_TO_ROTVEC]
    return steps


def image_steps(rotations: np.ndarray, focal_px: float, aspect: float = 1.0) -> np.ndarray:
    """(N, 4) similarity steps (dx, dy, angle, log_scale) of content for (yaw, pitch, roll)
    camera rotations: a small turn right moves the content left by ``focal_px * yaw``, a tilt
    up moves it down by ``focal_px * aspect * pitch`` (the lens's vertical focal length)."""
    steps = np.zeros((len(rotations), 4))
    steps[:, 0] = -focal_px * rotations[:, 0]
    steps[:, 1] = focal_px * aspect * rotations[:, 1]
    steps[:, 2] = -rotations[:, 2]
    return steps


def gyro_camera_path(
    orientation: Orientation,
    times: FrameTimes,
    frame_size: tuple[float, float],
    *,
    focal_px: float,
    aspect: float = 1.0,
    offset_s: float = 0.0,
    readout_s: float = 0.0,
) -> CameraPath:
    """Camera path of frames at ``times`` from gyro orientation.

    ``offset_s`` is how far the gyro clock runs ahead of the video's; each frame is taken at
    its middle row (half the rolling-shutter ``readout_s`` after its timestamp).
    """
    gyro_times = times.seconds + offset_s + readout_s / 2
    steps = image_steps(frame_rotations(orientation, gyro_times), focal_px, aspect)
    return CameraPath(
        times=times,
        params=path_from_steps(steps),
        valid=np.ones(len(times), dtype=bool),
        frame_size=frame_size,
        source="gyro",
    )


def readout_motion(
    orientation: Orientation,
    times: np.ndarray,
    readout_s: float,
    focal_px: float,
    aspect: float = 1.0,
    knots: int = READOUT_KNOTS,
) -> np.ndarray:
    """(N, knots, 3) content motion (dx, dy, angle) at ``knots`` evenly spaced rows from each
    frame's first to its last, relative to its middle row, for frames whose first row is read
    at ``times`` (gyro clock) and the rest over ``readout_s``."""
    shares = np.linspace(0.0, 1.0, knots)
    middle = orientation.at(times + readout_s / 2)
    out = np.empty((len(times), knots, 3))
    for k, share in enumerate(shares):
        rotations = (middle.inv() * orientation.at(times + share * readout_s)).as_rotvec()
        out[:, k] = image_steps(rotations[:, _RATES_TO_ROTVEC], focal_px, aspect)[:, :3]
    return out


def still_bias(imu: ImuSamples, window_s: float = 1.0, still_rad_s: float = 0.02) -> np.ndarray:
    """Gyro bias from the stillest stretch of the log: the mean rate over the ``window_s``
    with the least spread, if the camera was at rest there (spread under ``still_rad_s``);
    else zero (a bias too small to see is better left than a wrong one)."""
    rate = 1 / np.median(np.diff(imu.times))
    size = max(2, int(window_s * rate))
    if len(imu.gyro) < size:
        return np.zeros(3)
    windows = np.lib.stride_tricks.sliding_window_view(imu.gyro, size, axis=0)[:: max(1, size // 4)]
    spread = windows.std(axis=2).max(axis=1)
    best = int(np.argmin(spread))
    if spread[best] > still_rad_s:
        return np.zeros(3)
    return windows[best].mean(axis=1)


def level_roll(imu: ImuSamples, time_constant_s: float = 0.5) -> np.ndarray | None:
    """Camera roll from level (radians, clockwise positive) at each sample, or None without an
    accelerometer.

    A complementary filter with bias estimation (a PI loop, as Mahony's): the gyro's roll rate
    over short times, the accelerometer's gravity direction over ``time_constant_s`` and
    longer, and the integral term learns the roll gyro's bias so that it leaves no lasting tilt.
    """
    if imu.accel is None:
        return None
    from_gravity = np.arctan2(imu.accel[:, 0], imu.accel[:, 1])
    gain = 1 / time_constant_s
    learn = gain**2 / 4  # critically damped
    dt = np.diff(imu.times, prepend=imu.times[0]).tolist()
    rates = imu.gyro[:, 2].tolist()
    roll = np.empty(len(dt))
    angle, bias = float(from_gravity[0]), 0.0
    for i, (rate, step, target) in enumerate(zip(rates, dt, from_gravity.tolist(), strict=True)):
        error = target - angle
        bias -= learn * error * step
        angle += (rate - bias + gain * error) * step
        roll[i] = angle
    return roll
