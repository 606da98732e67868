"""Virtual head-mounted camera: synthetic first-person footage with exact ground truth.

A rotation-only camera follows a continuous head-motion model (a walk with slow wander, head
turns, whip pans, footstep bob and vibration) across a procedurally textured panorama. Frames,
rolling-shutter rows and gyro samples all evaluate the same model, so stabilization, gyro
synchronisation and rolling-shutter correction can be scored against exact truth.

Conventions shared by everything here:

* A pose is (yaw, pitch, roll) in radians, relative to the pose at t = 0 (the world is defined
  so that the camera is level and looks along yaw 0 at t = 0). Positive yaw turns the camera
  right, positive pitch tilts it up, positive roll turns it clockwise as the wearer sees it
  (right ear towards the shoulder).
* Image coordinates: x right, y down, pixel centres on integers; the frame centre is
  c = ((W - 1) / 2, (H - 1) / 2).
* Frame t shows frame 0's content shifted by s = (-focal * yaw, focal * pitch), then turned
  about the frame centre by angle = -roll: p_t = R(angle) (p_0 - c + s) + c (a planar
  linearization of the rotation; rolling the head turns the picture about its own centre, and
  does not move what the centre looks at). As a similarity about c that is a shift of
  R(angle) s, which is what cv2.estimateAffinePartial2D reports from frame-0 to frame-t points.
  From frame to frame the content moves by R(angle_t) (s_t - s_t-1), turned by angle_t - angle_t-1.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from povkit.geometry import picture_motion, steps_of
from povkit.types import ImuSamples

GRAVITY = 9.81
"""m/s^2."""

_WHICH = ("actual", "intentional")
_DIFF_STEP_S = 1e-5
"""Half-step of the central difference that turns the pose model into angular velocity."""


def _sines(table: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Sum of sinusoids per axis: ``table`` is (3, K, 3) of amplitude, frequency Hz, phase."""
    arg = 2 * np.pi * table[..., 1] * t[..., None, None] + table[..., 2]
    return np.sum(table[..., 0] * np.sin(arg), axis=-1)


@dataclass(frozen=True, eq=False)
class HeadMotion:
    """Parameters of the continuous head-motion model; :meth:`pose` evaluates it at any time.

    intentional = wander + turns, shake = shake_scale * (bob + vibration), actual = both;
    each is taken relative to its value at t = 0.
    """

    wander: np.ndarray
    """(3, K, 3): per axis (yaw, pitch, roll), K sinusoids of amplitude rad, frequency Hz, phase."""
    turns: np.ndarray
    """(M, 3): head turns and whip pans as start s, duration s, yaw change rad (quintic step)."""
    gait: np.ndarray
    """(8,): step rate f0 Hz, drift depth Hz, drift Hz, drift phase, step phase at t = 0,
    amplitude-modulation depth, modulation Hz, modulation phase."""
    bob: np.ndarray
    """(3, 2, 2): per axis, for the step frequency and its second harmonic: amplitude rad, phase."""
    vibration: np.ndarray
    """(3, K, 3): band-limited vibration as sinusoids, same layout as ``wander``."""
    bounce: float
    """Vertical footstep acceleration amplitude in m/s^2 (before ``shake_scale``)."""
    shake_scale: float

    def step_phase(self, t: np.ndarray) -> np.ndarray:
        """Gait phase in radians: the integral of a step rate that drifts around ``f0``."""
        f0, depth, drift_hz, drift_phase, phase0 = self.gait[:5]
        drift = np.cos(2 * np.pi * drift_hz * t + drift_phase) - np.cos(drift_phase)
        return 2 * np.pi * f0 * t - depth / drift_hz * drift + phase0

    def _intentional(self, t: np.ndarray) -> np.ndarray:
        out = _sines(self.wander, t)
        start, duration, change = self.turns.T
        u = np.clip((t[..., None] - start) / duration, 0.0, 1.0)
        out[..., 0] += np.sum(change * u**3 * (u * (6 * u - 15) + 10), axis=-1)
        return out

    def _shake(self, t: np.ndarray) -> np.ndarray:
        depth, mod_hz, mod_phase = self.gait[5:]
        phase = self.step_phase(t)[..., None]
        bob = sum(self.bob[:, h, 0] * np.sin((h + 1) * phase + self.bob[:, h, 1]) for h in range(2))
        envelope = 1 + depth * np.sin(2 * np.pi * mod_hz * t + mod_phase)
        return self.shake_scale * (envelope[..., None] * bob + _sines(self.vibration, t))

    def pose(self, t: np.ndarray | float, *, shake: bool = True) -> np.ndarray:
        """(..., 3) yaw, pitch, roll in radians at times ``t`` (seconds, video clock).

        ``shake=False`` gives the intentional pose; both are zero at t = 0.
        """
        t = np.asarray(t, dtype=np.float64)
        zero = np.zeros(1)
        out = self._intentional(t) - self._intentional(zero)[0]
        if shake:
            out += self._shake(t) - self._shake(zero)[0]
        return out

    def rates(self, t: np.ndarray | float) -> np.ndarray:
        """(..., 3) yaw, pitch, roll rates in rad/s about the camera's own axes, as a gyro on the
        camera measures them: the pose's rates (a +-10 us central difference), with yaw and pitch
        turned by the current roll."""
        t = np.asarray(t, dtype=np.float64)
        rates = (self.pose(t + _DIFF_STEP_S) - self.pose(t - _DIFF_STEP_S)) / (2 * _DIFF_STEP_S)
        roll = self.pose(t)[..., 2]
        cos, sin = np.cos(roll), np.sin(roll)
        yaw, pitch = rates[..., 0].copy(), rates[..., 1].copy()
        rates[..., 0] = cos * yaw - sin * pitch
        rates[..., 1] = sin * yaw + cos * pitch
        return rates

    def accel(self, t: np.ndarray | float) -> np.ndarray:
        """(..., 3) gravity plus footstep bounce in camera axes (x right, y down, z forward).

        The vector points down: (0, g, 0) for a level camera; pitching up tilts it towards -z and
        rolling clockwise towards +x. A physical accelerometer reports the opposite sign.
        """
        t = np.asarray(t, dtype=np.float64)
        _, pitch, roll = np.moveaxis(self.pose(t), -1, 0)
        bounce = self.shake_scale * self.bounce * np.sin(self.step_phase(t))
        size = GRAVITY + bounce
        return np.stack(
            [
                size * np.sin(roll) * np.cos(pitch),
                size * np.cos(roll) * np.cos(pitch),
                -size * np.sin(pitch),
            ],
            axis=-1,
        )

    def to_json(self) -> dict:
        return {
            "wander": self.wander.tolist(),
            "turns": self.turns.tolist(),
            "gait": self.gait.tolist(),
            "bob": self.bob.tolist(),
            "vibration": self.vibration.tolist(),
            "bounce": self.bounce,
            "shake_scale": self.shake_scale,
        }

    @classmethod
    def from_json(cls, d: dict) -> HeadMotion:
        return cls(
            wander=np.asarray(d["wander"], dtype=np.float64).reshape(3, -1, 3),
            turns=np.asarray(d["turns"], dtype=np.float64).reshape(-1, 3),
            gait=np.asarray(d["gait"], dtype=np.float64),
            bob=np.asarray(d["bob"], dtype=np.float64),
            vibration=np.asarray(d["vibration"], dtype=np.float64).reshape(3, -1, 3),
            bounce=float(d["bounce"]),
            shake_scale=float(d["shake_scale"]),
        )


@dataclass(frozen=True, eq=False)
class SynthTruth:
    """Everything a synthetic clip was made from: frame times, camera poses, sensor timing, gyro.

    ``intentional`` and ``actual`` are (N, 3) yaw, pitch, roll in radians at ``times`` (both zero
    at frame 0); with a rolling shutter they are the poses of row 0, and row r of frame i sees
    the pose at ``times[i] + r / height * rolling_shutter_s``. ``gyro`` runs on its own clock:
    the sample stamped tau measured the camera at video time ``tau - gyro_offset_s`` (a positive
    offset means the gyro clock is ahead). ``motion`` evaluates the continuous model.
    """

    times: np.ndarray
    fps: Fraction
    width: int
    height: int
    focal_px: float
    intentional: np.ndarray
    actual: np.ndarray
    rolling_shutter_s: float
    gyro: ImuSamples
    gyro_offset_s: float
    motion: HeadMotion

    def __post_init__(self) -> None:
        n = len(self.times)
        if self.intentional.shape != (n, 3) or self.actual.shape != (n, 3):
            raise ValueError(
                f"truth needs (N, 3) poses for its {n} frame times, got intentional "
                f"{self.intentional.shape} and actual {self.actual.shape}"
            )

    def __len__(self) -> int:
        return len(self.times)

    @property
    def duration_s(self) -> float:
        """Length of the clip: frame count over frame rate (the last frame lasts 1/fps too)."""
        return float(len(self.times) / self.fps)

    def pose_at(self, t: np.ndarray | float, which: str = "actual") -> np.ndarray:
        """(..., 3) pose at any video time(s) ``t``, from the continuous model."""
        return self.motion.pose(t, shake=_check_which(which) == "actual")

    def content_path(self, which: str = "actual") -> np.ndarray:
        """(N, 3) x_px, y_px, angle_rad: how the picture content moved relative to frame 0.

        The similarity that maps frame-0 points onto frame-t points, about the frame centre
        (module docstring): angle = -roll, i.e. atan2(M[1, 0], M[0, 0]), and (x, y) the shift
        (-focal * yaw, focal * pitch) turned by that angle. ``which`` is "actual" or
        "intentional" (the stabilization target).
        """
        return content_path_of(self._pose(which), self.focal_px)

    def content_steps(self, which: str = "actual") -> np.ndarray:
        """(N, 3) frame-to-frame steps of :meth:`content_path` (x, y, angle; row 0 zero): what
        povkit's estimators measure, and sum into a camera path."""
        return steps_of(_level_turns(self._pose(which), self.focal_px))

    def _pose(self, which: str) -> np.ndarray:
        return self.actual if _check_which(which) == "actual" else self.intentional

    def to_json(self) -> dict:
        """Plain JSON types; floats survive the round trip bit for bit."""
        return {
            "times": self.times.tolist(),
            "fps": str(self.fps),
            "width": self.width,
            "height": self.height,
            "focal_px": self.focal_px,
            "intentional": self.intentional.tolist(),
            "actual": self.actual.tolist(),
            "rolling_shutter_s": self.rolling_shutter_s,
            "gyro": {
                "times": self.gyro.times.tolist(),
                "gyro": self.gyro.gyro.tolist(),
                "accel": self.gyro.accel.tolist(),
            },
            "gyro_offset_s": self.gyro_offset_s,
            "motion": self.motion.to_json(),
        }

    @classmethod
    def from_json(cls, d: dict) -> SynthTruth:
        def arr(x: list) -> np.ndarray:
            return np.asarray(x, dtype=np.float64)

        imu = d["gyro"]
        return cls(
            times=arr(d["times"]),
            fps=Fraction(d["fps"]),
            width=int(d["width"]),
            height=int(d["height"]),
            focal_px=float(d["focal_px"]),
            intentional=arr(d["intentional"]).reshape(-1, 3),
            actual=arr(d["actual"]).reshape(-1, 3),
            rolling_shutter_s=float(d["rolling_shutter_s"]),
            gyro=ImuSamples(
                times=arr(imu["times"]),
                gyro=arr(imu["gyro"]).reshape(-1, 3),
                accel=arr(imu["accel"]).reshape(-1, 3),
            ),
            gyro_offset_s=float(d["gyro_offset_s"]),
            motion=HeadMotion.from_json(d["motion"]),
        )

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json()))

    @classmethod
    def load(cls, path: str | Path) -> SynthTruth:
        return cls.from_json(json.loads(Path(path).read_text()))


def _check_which(which: str) -> str:
    if which not in _WHICH:
        raise ValueError(f"which must be 'actual' or 'intentional', got {which!r}")
    return which


def _as_fps(fps: Fraction | float) -> Fraction:
    rate = fps if isinstance(fps, Fraction) else Fraction(fps).limit_denominator(10_000)
    if not 0 < rate <= 1000:
        raise ValueError(f"fps must be in (0, 1000], got {fps!r}")
    return rate


def _default_count(seconds: float, per_s: float) -> int:
    """Events for a clip: about one per ``1 / per_s`` seconds, at least one from 4 s on."""
    return 0 if seconds < 4 else max(1, round(seconds * per_s))


def _place_turns(
    rng: np.random.Generator, end: float, head_turns: int, whip_pans: int
) -> np.ndarray:
    """(M, 3) start, duration, yaw change: non-overlapping, 0.5 s clear of both ends.

    Each turn heads back towards yaw 0 (the first one goes either way), so the yaw range stays
    within one turn of the start and the panorama stays small.
    """
    whip = rng.permutation(np.arange(head_turns + whip_pans) >= head_turns)
    duration = np.where(whip, rng.uniform(0.22, 0.28, whip.size), rng.uniform(0.6, 1.0, whip.size))
    size = np.radians(
        np.where(whip, rng.uniform(80, 100, whip.size), rng.uniform(40, 60, whip.size))
    )
    gap = 0.3
    free = end - 1.0 - duration.sum() - gap * max(whip.size - 1, 0)
    if free < 0 and whip.size:  # (with nothing to place, the random draws below still run)
        raise ValueError(
            f"{head_turns} head turns and {whip_pans} whip pans need "
            f"{end - free:.1f} s but the clip is {end:.1f} s; ask for fewer"
        )
    slack = np.cumsum(rng.dirichlet(np.ones(whip.size + 1))[:-1] * free)
    start = 0.5 + slack + np.cumsum(duration) - duration + gap * np.arange(whip.size)
    change = np.empty(whip.size)
    heading = 0.0
    for i in range(whip.size):
        sign = -np.sign(heading) if heading else rng.choice([-1.0, 1.0])
        change[i] = sign * size[i]
        heading += change[i]
    return np.column_stack([start, duration, change])


def head_camera_motion(
    *,
    seconds: float = 10.0,
    fps: Fraction | float = 30,
    seed: int = 0,
    width: int = 640,
    height: int = 360,
    hfov_deg: float = 90.0,
    shake_scale: float = 1.0,
    head_turns: int | None = None,
    whip_pans: int | None = None,
    rolling_shutter_ms: float = 0.0,
    gyro_rate_hz: float = 200.0,
    gyro_offset_ms: float = 0.0,
    gyro_noise: float = 0.0,
    gyro_bias: tuple[float, float, float] = (0.0, 0.0, 0.0),
) -> SynthTruth:
    """Draw a walking head-camera trajectory and its sensor readings, deterministic from ``seed``.

    Intentional motion: yaw wander of two slow sinusoids (7 deg at 0.04-0.06 Hz, 3 deg at
    0.09-0.13 Hz), pitch wander 2 deg + 1 deg and roll wander 0.8 deg + 0.4 deg in the same
    frequency ranges; ``head_turns`` quintic smooth-step turns of 40-60 deg over 0.6-1.0 s
    (default one per 5 s) and ``whip_pans`` of 80-100 deg over 0.22-0.28 s (peak 540-850 deg/s;
    default one per 10 s). Defaults give at least one of each from 4 s on and none below. Events
    sit at random non-overlapping times 0.5 s clear of the ends and each heads back towards yaw 0.

    Shake, times ``shake_scale``: footstep bob at the step rate (2.0 Hz drifting by +-0.1-0.18
    Hz, within 1.8-2.2 Hz) with a second gait harmonic at a quarter amplitude and a +-15 %
    stride-to-stride envelope; amplitudes pitch 0.6, yaw 0.3, roll 0.4 deg. Vibration: 16
    sinusoids per axis at random 5-15 Hz, 0.1 deg RMS per axis.

    Gyro: (yaw, pitch, roll) rates in rad/s at ``gyro_rate_hz`` on the gyro clock, covering the
    clip plus 1 s either side, each stamp tau measuring video time ``tau - gyro_offset``, plus
    ``gyro_bias`` and N(0, ``gyro_noise``) rad/s. Accel: see :meth:`HeadMotion.accel`
    (gravity in camera axes plus a 1.5 m/s^2 footstep bounce, scaled with the shake).
    """
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"seconds must be a positive number, got {seconds!r}")
    rate = _as_fps(fps)
    n = round(seconds * rate)
    if n < 2:
        raise ValueError(f"{seconds} s at {rate} fps is under 2 frames; make the clip longer")
    if width < 32 or height < 32:
        raise ValueError(f"frame must be at least 32x32 pixels, got {width}x{height}")
    if not 10 <= hfov_deg <= 150:
        raise ValueError(f"hfov_deg must be within 10-150 degrees, got {hfov_deg}")
    if shake_scale < 0:
        raise ValueError(f"shake_scale must be >= 0, got {shake_scale}")
    if not 0 <= rolling_shutter_ms <= 1000 / rate:
        raise ValueError(
            f"rolling_shutter_ms must be within 0 and the frame interval "
            f"({float(1000 / rate):.2f} ms), got {rolling_shutter_ms}"
        )
    if gyro_rate_hz <= 0:
        raise ValueError(f"gyro_rate_hz must be positive, got {gyro_rate_hz}")
    if abs(gyro_offset_ms) > 1000:
        raise ValueError(
            f"|gyro_offset_ms| must be <= 1000 so the gyro still covers the clip, "
            f"got {gyro_offset_ms}"
        )
    if gyro_noise < 0:
        raise ValueError(f"gyro_noise is a standard deviation in rad/s, got {gyro_noise}")
    if len(gyro_bias) != 3:
        raise ValueError(f"gyro_bias needs 3 values (yaw, pitch, roll rad/s), got {gyro_bias!r}")
    for name, count in (("head_turns", head_turns), ("whip_pans", whip_pans)):
        if count is not None and count < 0:
            raise ValueError(f"{name} must be >= 0 or None for the default, got {count}")

    times = np.arange(n) * rate.denominator / rate.numerator
    duration = float(n / rate)

    # Parameters that do not depend on the clip length come first, so that a longer clip with
    # the same seed walks the same way.
    rng = np.random.default_rng(seed)
    wander = np.stack(
        [
            np.column_stack(
                [
                    np.radians(amps),
                    [rng.uniform(0.04, 0.06), rng.uniform(0.09, 0.13)],
                    rng.uniform(0, 2 * np.pi, 2),
                ]
            )
            for amps in ((7.0, 3.0), (2.0, 1.0), (0.8, 0.4))
        ]
    )
    gait = np.array(
        [
            2.0,
            rng.uniform(0.1, 0.18),
            rng.uniform(0.05, 0.1),
            rng.uniform(0, 2 * np.pi),
            rng.uniform(0, 2 * np.pi),
            0.15,
            rng.uniform(0.2, 0.4),
            rng.uniform(0, 2 * np.pi),
        ]
    )
    bob_amp = np.radians([0.3, 0.6, 0.4])
    bob = np.stack(
        [
            np.column_stack([bob_amp, rng.uniform(0, 2 * np.pi, 3)]),
            np.column_stack([bob_amp / 4, rng.uniform(0, 2 * np.pi, 3)]),
        ],
        axis=1,
    )
    k = 16
    vibration = np.stack(
        [
            np.full((3, k), np.radians(0.1) * np.sqrt(2 / k)),
            rng.uniform(5, 15, (3, k)),
            rng.uniform(0, 2 * np.pi, (3, k)),
        ],
        axis=-1,
    )
    turns = _place_turns(
        rng,
        float(times[-1]),
        _default_count(duration, 1 / 5) if head_turns is None else head_turns,
        _default_count(duration, 1 / 10) if whip_pans is None else whip_pans,
    )
    motion = HeadMotion(
        wander=wander,
        turns=turns,
        gait=gait,
        bob=bob,
        vibration=vibration,
        bounce=1.5,
        shake_scale=float(shake_scale),
    )

    offset = gyro_offset_ms / 1000
    ticks = np.arange(math.ceil(-gyro_rate_hz), math.floor((duration + 1) * gyro_rate_hz) + 1)
    gyro_times = ticks / gyro_rate_hz
    noise_rng = np.random.default_rng((seed, 1))
    gyro = (
        motion.rates(gyro_times - offset)
        + np.asarray(gyro_bias, dtype=np.float64)
        + noise_rng.normal(0.0, gyro_noise, (ticks.size, 3))
    )
    return SynthTruth(
        times=times,
        fps=rate,
        width=int(width),
        height=int(height),
        focal_px=width / 2 / math.tan(math.radians(hfov_deg) / 2),
        intentional=motion.pose(times, shake=False),
        actual=motion.pose(times),
        rolling_shutter_s=rolling_shutter_ms / 1000,
        gyro=ImuSamples(times=gyro_times, gyro=gyro, accel=motion.accel(gyro_times - offset)),
        gyro_offset_s=offset,
        motion=motion,
    )


def _noise(
    rng: np.random.Generator, shape: tuple[int, int], cell: float, channels: int = 1
) -> np.ndarray:
    """Smooth noise of feature size ``cell`` px: a coarse Gaussian grid, cubic-upsampled."""
    h, w = shape
    grid = (max(2, math.ceil(h / cell) + 1), max(2, math.ceil(w / cell) + 1), channels)
    coarse = rng.standard_normal(grid).astype(np.float32)
    return cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)


def _panorama(rng: np.random.Generator, shape: tuple[int, int], unit: float) -> np.ndarray:
    """(h, w, 4) uint8 RGBA (opaque) texture with corners and detail at every scale.

    A coarse colour field carries a few thousand random rectangles, circles, polygons and lines
    (filled or outlined, largest first so small ones stay visible), then multi-octave grey
    noise goes over everything so that no area is flat. ``unit`` is pixels per 1/360 of frame
    height, so the look does not depend on resolution. The alpha channel is there for speed:
    OpenCV warps four-channel images about twice as fast as three-channel ones.
    """
    h, w = shape
    canvas = np.clip(128 + 90 * _noise(rng, shape, 150 * unit, 3), 0, 255).astype(np.uint8)

    count = int(h * w / (14 * unit) ** 2)
    sizes = np.sort(np.exp(rng.uniform(np.log(2 * unit), np.log(60 * unit), count)))[::-1]
    kinds = rng.integers(0, 4, count)
    filled = rng.uniform(size=count) < 0.7
    centres = rng.uniform((0, 0), (w, h), (count, 2))
    colours = rng.integers(0, 256, (count, 3))
    angles = rng.uniform(0, 2 * np.pi, (count, 5))
    scale = 16  # cv2 drawing in 1/16 px (shift=4), anti-aliased
    for size, kind, fill, (cx, cy), colour, ang in zip(
        sizes, kinds, filled, centres, colours, angles, strict=True
    ):
        colour = tuple(int(c) for c in colour)
        thick = -1 if fill else max(1, int(round(size / 8)))
        centre = (int(cx * scale), int(cy * scale))
        if kind == 0:
            aspect = 0.3 + 0.7 * ang[0] / (2 * np.pi)
            half = np.array([size, size * aspect]) * scale
            p0 = (int(centre[0] - half[0]), int(centre[1] - half[1]))
            p1 = (int(centre[0] + half[0]), int(centre[1] + half[1]))
            cv2.rectangle(canvas, p0, p1, colour, thick, cv2.LINE_AA, 4)
        elif kind == 1:
            cv2.circle(canvas, centre, int(size * scale), colour, thick, cv2.LINE_AA, 4)
        elif kind == 2:
            radius = size * (0.5 + 0.5 * np.cos(ang * 3) ** 2)
            points = np.column_stack([cx + radius * np.cos(ang), cy + radius * np.sin(ang)])
            points = np.round(points * scale).astype(np.int32)[np.argsort(ang)]
            if fill:
                cv2.fillPoly(canvas, [points], colour, cv2.LINE_AA, 4)
            else:
                cv2.polylines(canvas, [points], True, colour, thick, cv2.LINE_AA, 4)
        else:
            d = size * np.array([np.cos(ang[0]), np.sin(ang[0])]) * scale
            p0 = (int(centre[0] - d[0]), int(centre[1] - d[1]))
            p1 = (int(centre[0] + d[0]), int(centre[1] + d[1]))
            cv2.line(canvas, p0, p1, colour, max(1, int(round(size / 10))), cv2.LINE_AA, 4)

    detail = np.zeros(shape, np.float32)
    for cell, amp in ((40, 22.0), (12, 20.0), (4, 18.0), (1.5, 14.0)):
        detail += amp * _noise(rng, shape, max(1.5, cell * unit))
    detail = np.round(detail).astype(np.int16)
    out = canvas.astype(np.int16)
    out += detail[..., None]
    return cv2.cvtColor(np.clip(out, 0, 255).astype(np.uint8), cv2.COLOR_RGB2RGBA)


class SyntheticCamera:
    """Renders frames of a procedurally textured panorama seen by a camera following a SynthTruth.

    The panorama is built once, just large enough for every pose the clip can show (rolling
    shutter included) plus the frame diagonal; frames are then one warp each. The similarity of
    each frame (or each row, with a rolling shutter) is exactly the one content_path describes.
    """

    def __init__(self, truth: SynthTruth, *, seed: int = 0) -> None:
        self.truth = truth
        w, h = truth.width, truth.height
        self._centre = np.array([(w - 1) / 2, (h - 1) / 2])
        low, high, step = self._reach()
        pad = math.hypot(w, h) / 2 + step + 4
        low = low - pad
        size = np.ceil(high + pad - low).astype(int)
        self._origin = -low
        self.panorama = _panorama(np.random.default_rng(seed), (size[1], size[0]), h / 360)

    def __len__(self) -> int:
        return len(self.truth)

    def _reach(self) -> tuple[np.ndarray, np.ndarray, float]:
        """Bounds of where the frame centre lands on the panorama, and the sampling step.

        Samples every 0.5 ms over the clip and the readout of the last frame (a rolling shutter
        never reads longer than one frame interval), 10 s at a time to bound memory; the largest
        move between samples is returned so the caller can pad by it.
        """
        dt, chunk = 5e-4, 20_000
        end = self.truth.times[-1] + float(1 / self.truth.fps)
        ticks = math.ceil(end / dt) + 1
        low, high, step = np.full(2, np.inf), np.full(2, -np.inf), 0.0
        for first in range(0, ticks, chunk):
            t = np.arange(first, min(first + chunk + 1, ticks)) * dt
            spots = self._spots(self.truth.motion.pose(t))
            low, high = np.minimum(low, spots.min(axis=0)), np.maximum(high, spots.max(axis=0))
            step = max(step, float(np.abs(np.diff(spots, axis=0)).max(initial=0)))
        return low, high, step

    def _spots(self, pose: np.ndarray) -> np.ndarray:
        """Panorama offsets seen by the frame centre: (f yaw, -f pitch), whatever the roll."""
        f = self.truth.focal_px
        return np.column_stack([f * pose[:, 0], -f * pose[:, 1]])

    def render(self, index: int) -> np.ndarray:
        """(H, W, 3) uint8 RGB frame ``index``."""
        truth = self.truth
        if not 0 <= index < len(truth):
            raise IndexError(f"frame {index} is outside the clip's {len(truth)} frames")
        w, h = truth.width, truth.height
        if truth.rolling_shutter_s == 0:
            yaw, pitch, roll = truth.actual[index]
            shift = truth.focal_px * np.array([-yaw, pitch])
            cos, sin = math.cos(roll), math.sin(roll)
            rot = np.array([[cos, -sin], [sin, cos]])
            matrix = np.column_stack([rot, self._origin - rot @ self._centre - shift])
            rgba = cv2.warpAffine(
                self.panorama,
                matrix,
                (w, h),
                flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                borderMode=cv2.BORDER_CONSTANT,
            )
        else:
            rows = truth.times[index] + np.arange(h) / h * truth.rolling_shutter_s
            yaw, pitch, roll = truth.motion.pose(rows).T[:, :, None]
            cos, sin = np.cos(roll), np.sin(roll)
            px = np.arange(w)[None, :] - self._centre[0]
            py = np.arange(h)[:, None] - self._centre[1]
            seen_x = self._origin[0] + truth.focal_px * yaw
            seen_y = self._origin[1] - truth.focal_px * pitch
            map_x = (cos * px - sin * py + seen_x).astype(np.float32)
            map_y = (sin * px + cos * py + seen_y).astype(np.float32)
            rgba = cv2.remap(
                self.panorama, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
            )
        return cv2.cvtColor(rgba, cv2.COLOR_RGBA2RGB)

    def __iter__(self) -> Iterator[np.ndarray]:
        return (self.render(i) for i in range(len(self.truth)))

    def frames(self) -> Iterator[np.ndarray]:
        """Every frame in order, one at a time."""
        return iter(self)

    def audio(self, *, sample_rate: int = 48000) -> np.ndarray:
        """float32 mono track as long as the clip: a 50 ms 1 kHz beep starting each whole second.

        The beeps mark the video clock, so A/V sync can be checked after encoding.
        """
        if sample_rate < 1000:
            raise ValueError(f"sample_rate must be at least 1000 Hz, got {sample_rate}")
        n = round(len(self.truth) * sample_rate / self.truth.fps)
        track = np.zeros(n, np.float32)
        beep_len = sample_rate // 20
        tone = 0.5 * np.sin(2 * np.pi * 1000 * np.arange(beep_len) / sample_rate)
        tone *= np.sin(np.pi * np.arange(beep_len) / beep_len) ** 2
        for start in range(0, n, sample_rate):
            part = track[start : start + beep_len]
            part[:] = tone[: part.size]
        return track


def content_path_of(pose: np.ndarray, focal_px: float) -> np.ndarray:
    """(N, 3) content similarity (x, y, angle) of (N, 3) yaw, pitch, roll poses (module
    docstring): the shift (-focal * yaw, focal * pitch) turned by angle = -roll."""
    return picture_motion(_level_turns(pose, focal_px))[:, :3]


def _level_turns(pose: np.ndarray, focal_px: float) -> np.ndarray:
    """(N, 3) (-focal * yaw, focal * pitch, -roll): a camera path's rows for these poses."""
    return np.column_stack([-focal_px * pose[:, 0], focal_px * pose[:, 1], -pose[:, 2]])
