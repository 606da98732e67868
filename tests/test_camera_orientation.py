"""Clips stabilized in camera: the picture's path from the camera's own orientation records."""

import logging
from dataclasses import replace

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from povkit.io.telemetry import read_telemetry
from povkit.io.video import probe
from povkit.motion.gyro import Orientation, gyro_camera_path, picture_orientation, still_bias
from povkit.motion.shift import measure_shifts
from povkit.motion.source import ORIENTATION_SOURCE, estimate_motion
from povkit.motion.sync import estimate_sync
from povkit.types import CameraPath, FrameTimes, ImuSamples

FPS = 30.0
FRAMES = 150
FOCAL = 300.0
SIZE = (320.0, 180.0)
_CAMERA_AXES = {"yaw": [0, 1, 0], "pitch": [1, 0, 0], "roll": [0, 0, 1]}
"""Rotation axes (x right, y down, z forward) of a turn of the view."""


def _wxyz(rotations: Rotation) -> np.ndarray:
    return rotations.as_quat()[:, [3, 0, 1, 2]]


def _records(body: Rotation, picture: Rotation) -> tuple[np.ndarray, np.ndarray]:
    """GoPro-style CORI (world to camera) and IORI (camera to picture) for a camera body turned
    as ``body`` whose picture was kept turning as ``picture``."""
    return _wxyz(body.inv()), _wxyz(picture.inv() * body)


def _walk(rng: np.random.Generator, step_rad: float) -> Rotation:
    """A random walk of orientations, one per frame."""
    steps = Rotation.from_rotvec(rng.normal(0, step_rad, (FRAMES, 3)))
    turned = [Rotation.identity()]
    for step in steps[1:]:
        turned.append(turned[-1] * step)
    return Rotation.concatenate(turned)


def _times() -> FrameTimes:
    return FrameTimes(np.arange(FRAMES, dtype=np.int64) * 3000, time_base=1 / 90000)


@pytest.mark.parametrize(
    ("turn", "column", "per_step"),
    [("yaw", 0, -FOCAL * 0.01), ("pitch", 1, FOCAL * 0.01), ("roll", 2, -0.01)],
)
def test_the_path_follows_the_picture_not_the_body(turn, column, per_step):
    """A picture kept turning 0.01 rad a frame about one axis, on a body that shakes: the path
    moves by exactly that turn, as ``image_steps`` maps it, and the shake is gone."""
    body = _walk(np.random.default_rng(1), 0.02)
    picture = Rotation.from_rotvec(np.outer(np.arange(FRAMES) * 0.01, _CAMERA_AXES[turn]))
    camera, image = _records(body, picture)
    seconds = _times().seconds
    path = gyro_camera_path(
        picture_orientation(camera, image, seconds), _times(), SIZE, focal_px=FOCAL
    )
    expected = np.zeros((FRAMES, 4))
    expected[:, column] = np.arange(FRAMES) * per_step
    np.testing.assert_allclose(path.params, expected, atol=1e-9)


def _clip(*, stabilized: bool | None = True, **records) -> tuple[ImuSamples, CameraPath]:
    """Records of a shaken body whose picture was kept on a slow, slightly jittery walk, and the
    picture's measured shifts (its turns at ``FOCAL``, plus 0.1 px of measuring noise)."""
    rng = np.random.default_rng(2)
    body, picture = _walk(rng, 0.03), _walk(rng, 0.004)
    camera, image = _records(body, picture)
    seconds = _times().seconds
    truth = gyro_camera_path(Orientation(seconds, picture), _times(), SIZE, focal_px=FOCAL)
    noise = np.cumsum(rng.normal(0, 0.1, (FRAMES, 2)), axis=0)
    shifts = truth.params.copy()
    shifts[:, :2] += noise
    shifts[:, 2:] = 0
    quick = replace(truth, params=shifts, source="visual")
    imu = ImuSamples(
        times=seconds,
        gyro=np.zeros((FRAMES, 3)),
        orientation_times=seconds + 0.5 / FPS,
        camera_orientation=records.get("camera", camera),
        image_orientation=records.get("image", image),
        stabilized_in_camera=stabilized,
    )
    return imu, quick


def _estimate(monkeypatch, imu: ImuSamples, quick: CameraPath, source: str = "auto"):
    """``estimate_motion`` with ``imu`` as the clip's telemetry and its picture passes counted."""
    calls = {"visual": 0, "quick": 0}

    def visual() -> CameraPath:
        calls["visual"] += 1
        return quick

    def shifts(spans) -> CameraPath:
        calls["quick"] += 1
        return quick

    monkeypatch.setattr("povkit.motion.source.find_telemetry", lambda video, info=None: imu)
    return estimate_motion("clip.mp4", visual, shifts, source=source), calls


def test_records_give_the_path_without_the_picture_pass(monkeypatch, caplog):
    """Records that match the picture make the path; only the quick shift pass runs."""
    imu, quick = _clip()
    estimate, calls = _estimate(monkeypatch, imu, quick)
    assert estimate.source == ORIENTATION_SOURCE and estimate.in_camera_stabilized
    assert calls == {"visual": 0, "quick": 1}
    assert estimate.sync_confidence > 0.9 and estimate.gyro_offset_ms is None
    assert estimate.focal_px == pytest.approx(FOCAL, rel=0.05)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    fused, _ = _estimate(monkeypatch, imu, quick, source="fused")
    assert fused.source == "fused"


@pytest.mark.parametrize(
    ("records", "why"),
    [
        ({"camera": None}, "no orientation records"),
        ({"image": np.tile([1.0, 0, 0, 0], (FRAMES, 1))}, "do not match the picture"),
        ({"camera": np.tile([1.0, 0, 0, 0], (FRAMES // 2, 1))}, "not one per frame"),
    ],
)
def test_missing_or_wrong_records_fall_back_with_one_warning(monkeypatch, caplog, records, why):
    """Without usable records the picture's motion is used, with one warning line saying why."""
    imu, quick = _clip(**records)
    estimate, calls = _estimate(monkeypatch, imu, quick)
    assert estimate.source == "visual" and estimate.in_camera_stabilized
    assert calls["visual"] == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and why in warnings[0] and "stabilized in camera" in warnings[0]


@pytest.mark.real
def test_max_walk_follows_its_orientation_records(real_clip):
    """Issue 3: the MAX walk (HyperSmooth on) takes its path from CORI/IORI, which move with the
    picture (measured r 0.76 after the sync's high-pass) where its gyro does not (0.16)."""
    path = real_clip("gyro/gopro_max_walk.mp4")
    quick, _ = measure_shifts(path)

    def no_visual() -> CameraPath:
        raise AssertionError("the full picture pass should not run")

    def sync_points(spans) -> CameraPath:  # the quick pass over the sync points only
        assert spans is not None
        return measure_shifts(path, spans=spans)[0]

    estimate = estimate_motion(path, no_visual, sync_points, info=probe(path))
    assert estimate.source == ORIENTATION_SOURCE and estimate.in_camera_stabilized
    assert estimate.sync_confidence > 0.7
    assert 250 < estimate.focal_px < 400  # measured 313 px: a 94 degree wide view at 848 px
    imu = read_telemetry(path)
    gyro = estimate_sync(replace(imu, gyro=imu.gyro - still_bias(imu)), quick)
    assert gyro.confidence < 0.3
