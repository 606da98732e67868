"""The virtual head camera: determinism, motion statistics, image geometry, gyro and audio."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import cv2
import numpy as np
import pytest

from povkit.synth import SyntheticCamera, SynthTruth, head_camera_motion

W, H = 320, 180


@pytest.fixture(scope="module")
def walk() -> SynthTruth:
    """6 s walk: the defaults give one head turn and one whip pan."""
    return head_camera_motion(seconds=6, width=W, height=H, seed=3)


def gray(frame: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)


def test_same_seed_same_clip_other_seed_other_clip(walk: SynthTruth) -> None:
    again = head_camera_motion(seconds=6, width=W, height=H, seed=3)
    other = head_camera_motion(seconds=6, width=W, height=H, seed=4)
    assert np.array_equal(walk.actual, again.actual)
    assert np.array_equal(walk.gyro.gyro, again.gyro.gyro)
    assert not np.allclose(walk.actual, other.actual)
    assert np.array_equal(SyntheticCamera(walk).render(7), SyntheticCamera(again).render(7))
    assert not np.array_equal(
        SyntheticCamera(walk).render(7), SyntheticCamera(walk, seed=1).render(7)
    )


def test_frame_times_and_event_defaults(walk: SynthTruth) -> None:
    assert len(walk) == 180 and walk.times[0] == 0 and walk.fps == 30
    assert np.allclose(np.diff(walk.times), 1 / 30)
    turns = walk.motion.turns
    assert len(turns) == 2
    assert turns[0, 0] >= 0.5 and turns[-1, 0] + turns[-1, 1] <= walk.times[-1] - 0.5
    assert np.all(turns[1:, 0] >= turns[:-1, 0] + turns[:-1, 1])
    assert np.sign(turns[0, 2]) == -np.sign(turns[1, 2])  # the second turn heads back
    assert len(head_camera_motion(seconds=2, width=W, height=H).motion.turns) == 0
    assert len(head_camera_motion(seconds=20, width=W, height=H).motion.turns) == 6


def test_no_shake_means_actual_is_intentional(walk: SynthTruth) -> None:
    calm = head_camera_motion(seconds=6, width=W, height=H, seed=3, shake_scale=0)
    assert np.array_equal(calm.actual, calm.intentional)
    assert np.array_equal(calm.intentional, walk.intentional)
    assert np.all(walk.actual[0] == 0) and np.all(walk.intentional[0] == 0)


def test_content_path_matches_cv2_feature_tracking() -> None:
    truth = head_camera_motion(
        seconds=2, width=W, height=H, seed=5, shake_scale=3, head_turns=0, whip_pans=0
    )
    camera = SyntheticCamera(truth)
    first = gray(camera.render(0))
    corners = cv2.goodFeaturesToTrack(first, 300, 0.01, 6)
    path = truth.content_path()
    checked_roll = 0.0
    for k in (4, 9, 17, 26):
        moved, status, _ = cv2.calcOpticalFlowPyrLK(
            first, gray(camera.render(k)), corners, None, winSize=(21, 21), maxLevel=3
        )
        ok = status.ravel() == 1
        matrix, _ = cv2.estimateAffinePartial2D(corners[ok], moved[ok], ransacReprojThreshold=1.0)
        centre = np.array([(W - 1) / 2, (H - 1) / 2])
        shift = matrix[:, :2] @ centre + matrix[:, 2] - centre
        angle = np.arctan2(matrix[1, 0], matrix[0, 0])
        assert np.allclose(shift, path[k, :2], atol=0.5), (k, shift, path[k])
        assert abs(angle - path[k, 2]) < np.radians(0.2), (k, angle, path[k])
        checked_roll = max(checked_roll, abs(path[k, 2]))
    assert checked_roll > np.radians(0.5)  # the angle's sign was really put to the test


def test_shake_spectrum_peaks_at_the_step_rate() -> None:
    truth = head_camera_motion(seconds=20, fps=60, width=W, height=H, seed=2)
    shake = truth.actual - truth.intentional
    freqs = np.fft.rfftfreq(len(truth), 1 / 60)
    for axis in range(3):
        spectrum = np.abs(np.fft.rfft((shake[:, axis] - shake[:, axis].mean()) * np.hanning(1200)))
        assert 1.7 <= freqs[np.argmax(spectrum)] <= 2.3, axis
    vibration = np.fft.irfft(np.fft.rfft(shake, axis=0) * (freqs > 4.5)[:, None], 1200, axis=0)
    assert np.allclose(np.degrees(vibration.std(axis=0)), 0.1, rtol=0.3)


def test_whip_pans_are_fast(walk: SynthTruth) -> None:
    assert np.degrees(np.abs(walk.gyro.gyro[:, 0]).max()) >= 300


@pytest.mark.parametrize("offset_ms", [0.0, 40.0])
def test_gyro_integrates_back_to_the_actual_yaw(offset_ms: float) -> None:
    truth = head_camera_motion(seconds=6, width=W, height=H, seed=3, gyro_offset_ms=offset_ms)
    imu = truth.gyro
    assert imu.times[0] <= -1 and imu.times[-1] >= truth.duration_s + 1
    assert np.allclose(np.diff(imu.times), 1 / 200)
    steps = np.diff(imu.times) * (imu.gyro[1:, 0] + imu.gyro[:-1, 0]) / 2
    yaw = np.concatenate([[0.0], np.cumsum(steps)])

    def integrated(stamps: np.ndarray) -> np.ndarray:
        return np.interp(stamps, imu.times, yaw) - np.interp(stamps[0], imu.times, yaw)

    offset = truth.gyro_offset_s
    assert np.abs(integrated(truth.times + offset) - truth.actual[:, 0]).max() < 2e-3
    if offset:  # read on the video clock, the gyro lags the picture by the offset
        assert np.abs(integrated(truth.times) - truth.actual[:, 0]).max() > 0.05
    # accel is gravity in camera axes (x right, y down): its tilt is the roll at that moment
    roll = truth.pose_at(imu.times - offset)[:, 2]
    assert np.allclose(np.arctan2(imu.accel[:, 0], imu.accel[:, 1]), roll, atol=1e-9)


def test_gyro_bias_and_noise() -> None:
    clean = head_camera_motion(seconds=4, width=W, height=H)
    noisy = head_camera_motion(seconds=4, width=W, height=H, gyro_noise=0.01, gyro_bias=(0.1, 0, 0))
    error = noisy.gyro.gyro - clean.gyro.gyro
    assert np.allclose(error.mean(axis=0), [0.1, 0, 0], atol=2e-3)
    assert np.allclose(error.std(axis=0), 0.01, rtol=0.1)
    assert np.array_equal(noisy.actual, clean.actual)


def test_rolling_shutter_rows_lag_in_the_direction_of_the_pan(walk: SynthTruth) -> None:
    rolling = head_camera_motion(seconds=6, width=W, height=H, seed=3, rolling_shutter_ms=25)
    glob = dataclasses.replace(rolling, rolling_shutter_s=0.0)
    index = int(np.argmax(np.abs(rolling.motion.rates(rolling.times + 0.0125)[:, 0])))
    rs_frame = gray(SyntheticCamera(rolling).render(index)).astype(np.float32)
    gs_frame = gray(SyntheticCamera(glob).render(index)).astype(np.float32)
    assert np.abs(rs_frame[0] - gs_frame[0]).mean() < 1
    window = cv2.createHanningWindow((W, 16), cv2.CV_32F)
    for top in (40, 90, 150):
        row = top + 7.5
        (dx, _), _ = cv2.phaseCorrelate(gs_frame[top : top + 16], rs_frame[top : top + 16], window)
        t = rolling.times[index]
        seen = rolling.pose_at(t + row / H * rolling.rolling_shutter_s)[0]
        expected = -rolling.focal_px * (seen - rolling.actual[index, 0])
        assert abs(expected) > 5
        assert dx == pytest.approx(expected, abs=1.0), (top, dx, expected)


def test_frames_never_sample_outside_the_panorama(walk: SynthTruth) -> None:
    for frame in SyntheticCamera(walk):  # a whip pan and a head turn: the widest reach
        corners = frame[[0, 0, -1, -1], [0, -1, 0, -1]]  # black where outside
        assert np.all(corners.max(axis=1) > 0)


def test_json_round_trip(walk: SynthTruth, tmp_path) -> None:
    walk.save(tmp_path / "truth.json")
    back = SynthTruth.load(tmp_path / "truth.json")
    assert back.fps == walk.fps and back.focal_px == walk.focal_px
    for name in ("times", "intentional", "actual"):
        assert np.array_equal(getattr(back, name), getattr(walk, name))
    assert np.array_equal(back.gyro.gyro, walk.gyro.gyro)
    assert np.array_equal(back.content_path("intentional"), walk.content_path("intentional"))
    assert np.array_equal(SyntheticCamera(back).render(50), SyntheticCamera(walk).render(50))


def test_frames_and_audio_cover_the_clip() -> None:
    truth = head_camera_motion(seconds=2.5, fps=Fraction(30000, 1001), width=W, height=H)
    camera = SyntheticCamera(truth)
    frames = list(camera.frames())
    assert len(frames) == len(truth) == 75
    assert frames[0].shape == (H, W, 3) and frames[0].dtype == np.uint8
    assert frames[0].std() > 30  # textured, not flat
    audio = camera.audio(sample_rate=8000)
    assert audio.dtype == np.float32 and len(audio) == round(truth.duration_s * 8000)
    loud = np.abs(audio) > 0.1
    assert loud[:400].any() and loud[8000:8400].any() and loud[16000:16400].any()
    assert not loud[500:8000].any() and not loud[8500:16000].any()


def test_bad_arguments_are_refused(walk: SynthTruth) -> None:
    with pytest.raises(ValueError, match="which"):
        walk.content_path("wanted")
    with pytest.raises(ValueError, match="head turns"):
        head_camera_motion(seconds=3, head_turns=5)
    with pytest.raises(ValueError, match="rolling_shutter_ms"):
        head_camera_motion(rolling_shutter_ms=50)
    with pytest.raises(IndexError):
        SyntheticCamera(walk).render(len(walk))
