"""Telemetry readers: GoPro GPMF against an independent decode, .gcsv and plain CSV logs."""

import numpy as np
import pytest

from povkit.io.telemetry import (
    TelemetryError,
    check_coverage,
    read_gpmf_streams,
    read_telemetry,
    write_plain_csv,
)
from povkit.synth import head_camera_motion

CLIPS = {
    "gopro_karma_drone.mp4": "karma",
    "gopro_max_walk.mp4": "max-heromode",
    "gopro_hero7_hypersmooth_walk.mp4": "hero7",
}


@pytest.mark.real
@pytest.mark.parametrize("clip", sorted(CLIPS))
def test_gpmf_matches_reference_csv(real_clip, clip):
    """Acceptance 1: values within 1e-3 after axis mapping, timestamps within 1 ms."""
    path = real_clip(f"gyro/{clip}")
    streams, _ = read_gpmf_streams(path)
    imu = read_telemetry(path)
    for key, stream in streams.items():
        reference = np.loadtxt(
            real_clip(f"gyro/reference_csv/{CLIPS[clip]}.{key}.csv"), delimiter=",", skiprows=1
        )
        assert stream.values.shape == reference[:, 1:].shape, key
        np.testing.assert_allclose(stream.values, reference[:, 1:], atol=1e-3, err_msg=key)
        close = np.abs(stream.times - reference[:, 0]) < 1e-3
        if clip.startswith("gopro_hero7"):
            # The reference stretches the last payload (201 samples) to the movie's end, 11.75 s;
            # its packet says 1.001 s, which is the camera's ~200 Hz: we keep the packet's span.
            assert close[:1974].all() and not close[-1]
            assert np.median(np.diff(stream.times[1974:])) == pytest.approx(1.001 / 201)
        else:
            assert close.all(), key
    gyro = streams["GYRO"]
    reference = np.loadtxt(
        real_clip(f"gyro/reference_csv/{CLIPS[clip]}.GYRO.csv"), delimiter=",", skiprows=1
    )
    normalized = reference[:, 1:] @ gyro.to_normalized.T
    # normalized axes are (up, left, back); povkit's rates are (yaw right, pitch up, roll cw)
    expected = -normalized
    np.testing.assert_allclose(imu.gyro, expected, atol=1e-3)
    # the accelerometer points down in camera axes: a camera held upright reads about +g on y
    assert 7 < np.median(imu.accel[:, 1]) < 12


@pytest.mark.real
def test_gpmf_settings_and_orientation(real_clip):
    imu = read_telemetry(real_clip("gyro/gopro_max_walk.mp4"))
    assert imu.axes == "XzY"
    assert imu.stabilized_in_camera is True
    assert imu.camera_orientation.shape == imu.image_orientation.shape == (316, 4)
    np.testing.assert_allclose(np.linalg.norm(imu.camera_orientation, axis=1), 1, atol=1e-3)
    assert read_telemetry(real_clip("gyro/gopro_hero7_hypersmooth_walk.mp4")).axes == "YxZ"
    karma = read_telemetry(real_clip("gyro/gopro_karma_drone.mp4"))
    assert karma.stabilized_in_camera is False and karma.camera_orientation is None


GCSV = """GYROFLOW IMU LOG
version,1.3
id,test_logger
orientation,YxZ
tscale,0.001
gscale,0.001
ascale,0.00048828125
t,gx,gy,gz,ax,ay,az
0,100,200,300,0,2048,0
5,110,210,310,0,2048,0
10,120,220,320,0,2048,0
"""


def test_gcsv_scales_and_orientation(tmp_path):
    """tscale/gscale/ascale apply, and ``orientation,YxZ`` maps (gx, gy, gz) onto the camera."""
    path = tmp_path / "clip.gcsv"
    path.write_text(GCSV)
    imu = read_telemetry(path)
    np.testing.assert_allclose(imu.times, [0, 0.005, 0.010])
    # YxZ: normalized (up, left, back) = (gy, -gx, gz); yaw = -up, pitch = -left, roll = -back
    np.testing.assert_allclose(imu.gyro[0], [-0.2, 0.1, -0.3], atol=1e-9)
    assert imu.axes == "YxZ"
    assert np.linalg.norm(imu.accel[0]) == pytest.approx(9.80665, rel=1e-3)
    late = tmp_path / "late.gcsv"  # a log whose clock starts 0.5 s in keeps its own times
    late.write_text(
        GCSV.replace("\n0,", "\n500,").replace("\n5,", "\n505,").replace("\n10,", "\n510,")
    )
    np.testing.assert_allclose(read_telemetry(late).times, [0.5, 0.505, 0.510])


def test_plain_csv_round_trip(tmp_path):
    truth = head_camera_motion(seconds=2, fps=30, seed=3, width=320, height=180)
    path = tmp_path / "log.csv"
    write_plain_csv(path, truth.gyro)
    imu = read_telemetry(path)
    np.testing.assert_allclose(imu.times, truth.gyro.times)
    np.testing.assert_allclose(imu.gyro, truth.gyro.gyro)
    np.testing.assert_allclose(imu.accel, truth.gyro.accel)


@pytest.mark.parametrize(
    "text",
    ["", "time_s,yaw_rad_s\n0,1\n", "time_s,yaw_rad_s,pitch_rad_s,roll_rad_s\n0,1,2,x\n"],
)
def test_bad_plain_csv_is_a_telemetry_error(tmp_path, text):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(TelemetryError):
        read_telemetry(path)


def test_bad_or_missing_telemetry_files(tmp_path):
    with pytest.raises(TelemetryError, match="no such"):
        read_telemetry(tmp_path / "missing.gcsv")
    broken = tmp_path / "broken.gcsv"
    broken.write_text("GYROFLOW IMU LOG\nversion,1.3\n")
    with pytest.raises(TelemetryError):
        read_telemetry(broken)
    truncated = tmp_path / "cut.mp4"
    truncated.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(100))
    with pytest.raises(TelemetryError):
        read_telemetry(truncated)


def test_coverage_check():
    truth = head_camera_motion(seconds=2, fps=30, seed=3, width=320, height=180)
    check_coverage(truth.gyro, 0.0, 2.0)
    with pytest.raises(TelemetryError, match="covers"):
        check_coverage(truth.gyro, 0.0, 5.0)
    holed = np.delete(np.arange(len(truth.gyro.times)), np.s_[300:400])
    gappy = type(truth.gyro)(times=truth.gyro.times[holed], gyro=truth.gyro.gyro[holed])
    with pytest.raises(TelemetryError, match="gap"):
        check_coverage(gappy, 0.0, 2.0)
