"""Gyro motion against synthetic truth, time sync, and falling back to the picture politely."""

import json
from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest

from povkit.api import estimate_camera_motion
from povkit.cli import main
from povkit.geometry import (
    frame_center,
    path_from_steps,
    similarity_matrices,
    similarity_params,
    turned,
)
from povkit.io.synthetic import write_synthetic_clip
from povkit.io.telemetry import read_telemetry, write_plain_csv
from povkit.io.video import VideoReader
from povkit.motion.gyro import (
    frame_rotations,
    gyro_camera_path,
    image_steps,
    integrate_orientation,
    level_roll,
)
from povkit.motion.shift import measure_shifts
from povkit.motion.source import fuse_paths
from povkit.motion.sync import (
    SyncResult,
    estimate_sync,
    in_camera_stabilization,
    shaken,
    sync_spans,
)
from povkit.motion.visual import measure_visual_motion
from povkit.plan.horizon import lock_horizon
from povkit.plan.stabilize import corrections_between, plan_stabilization
from povkit.render.pipeline import PlanRows
from povkit.synth import head_camera_motion
from povkit.types import CameraPath, FrameTimes, WarpPlan

MOTION = {"seconds": 4.0, "width": 320, "height": 180}
SEED = 5


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """A 4 s 320x180 synthetic walk, its truth, and its visual path."""
    path = tmp_path_factory.mktemp("gyro") / "walk.mp4"
    truth = write_synthetic_clip(path, seed=SEED, **MOTION)
    visual, _ = measure_visual_motion(path)
    return path, truth, visual


def _times(truth) -> FrameTimes:
    return FrameTimes(np.round(truth.times * 90000).astype(np.int64), time_base=1 / 90000)


def test_gyro_steps_follow_the_truth():
    """Frame-to-frame image motion from integrated gyro rates matches the synthetic truth."""
    truth = head_camera_motion(seed=SEED, **MOTION)
    orientation = integrate_orientation(truth.gyro)
    steps = image_steps(frame_rotations(orientation, truth.times), truth.focal_px)
    truth_steps = truth.content_steps()[1:]
    np.testing.assert_allclose(steps[1:, :2], truth_steps[:, :2], atol=0.15)
    np.testing.assert_allclose(steps[1:, 2], truth_steps[:, 2], atol=5e-4)
    path = gyro_camera_path(orientation, _times(truth), (320.0, 180.0), focal_px=truth.focal_px)
    # the same running sum of steps as the visual estimator's, so the paths are comparable
    np.testing.assert_allclose(path.params, path_from_steps(steps))
    assert path.source == "gyro"


@pytest.mark.parametrize("offset_ms", [-500.0, -123.4, 0.0, 37.7, 500.0])
def test_sync_recovers_offset_within_1ms(clip, offset_ms):
    """Acceptance 2: offsets from -500 to +500 ms, with gyro noise and bias."""
    _, truth, visual = clip
    gyro = head_camera_motion(
        seed=SEED,
        gyro_offset_ms=offset_ms,
        gyro_noise=0.01,
        gyro_bias=(0.01, -0.02, 0.005),
        **MOTION,
    ).gyro
    sync = estimate_sync(gyro, visual)
    assert sync.offset_s * 1000 == pytest.approx(offset_ms, abs=1.0)
    assert sync.confidence > 0.9
    assert sync.focal_px == pytest.approx(truth.focal_px, rel=0.05)


def _json(capsys, *args):
    code = main([str(a) for a in args] + ["--json"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    assert code == 0, err
    return json.loads(out)


def test_motion_and_stabilize_use_a_sidecar_gyro_log(clip, capsys, tmp_path):
    path, _, _ = clip
    truth = head_camera_motion(seed=SEED, gyro_offset_ms=80, **MOTION)
    video = tmp_path / "walk.mp4"
    video.write_bytes(path.read_bytes())
    write_plain_csv(tmp_path / "walk.csv", truth.gyro)
    motion = _json(capsys, "motion", video, "--source", "gyro")
    assert motion["source"] == "gyro" and motion["warnings"] == []
    assert motion["sync_points"] is None  # a 4 s clip is measured whole
    assert motion["gyro_offset_ms"] == pytest.approx(80, abs=1)
    assert motion["sync_confidence"] > 0.9 and motion["in_camera_stabilized"] is False
    fused = _json(capsys, "motion", video, "--source", "fused")
    assert fused["source"] == "fused"
    visual = _json(capsys, "motion", video, "--source", "visual")
    assert visual["source"] == "visual" and visual["gyro_offset_ms"] is None
    given = _json(capsys, "motion", video, "--gyro-offset", "80")
    assert given["gyro_offset_ms"] == 80 and given["source"] == "gyro"
    result = _json(capsys, "stabilize", video, "-o", tmp_path / "out.mp4")
    assert result["source"] == "gyro" and result["warnings"] == []
    for source in ("fused", "visual"):  # stabilize chooses its source as motion does
        chosen = _json(capsys, "stabilize", video, "-o", tmp_path / "out.mp4", "--source", source)
        assert chosen["source"] == source and chosen["warnings"] == []


def test_a_long_clip_syncs_on_its_sync_points(tmp_path, monkeypatch):
    """A clip long enough for sync points is synced on them alone (about a third of its
    frames), to the same millisecond."""
    motion = {"seconds": 10.0, "width": 192, "height": 108}
    video = tmp_path / "long.mp4"
    write_synthetic_clip(video, seed=SEED, **motion)
    truth = head_camera_motion(seed=SEED, gyro_offset_ms=-123.4, gyro_noise=0.01, **motion)
    write_plain_csv(tmp_path / "long.csv", truth.gyro)
    passes = []
    measure = measure_shifts

    def counted(path, **options):
        passes.append(options.get("spans"))
        return measure(path, **options)

    monkeypatch.setattr("povkit.api.measure_shifts", counted)
    estimate = estimate_camera_motion(video)
    assert estimate.source == "gyro"
    assert estimate.gyro_offset_ms == pytest.approx(-123.4, abs=1.0)
    assert len(passes) == 1 and len(passes[0]) == 3
    assert estimate.sync_points == tuple(passes[0])
    assert sum(end - start for start, end in passes[0]) <= 0.5 * motion["seconds"]


@pytest.mark.parametrize("sync_points", [True, False])
def test_a_drifting_gyro_clock_is_followed(tmp_path, sync_points):
    """A gyro clock 300 ppm fast, synced on sync points or on the whole clip: a line through
    the offsets of 1-5 s pieces follows it to within a millisecond at both ends (on 90 s
    clips it measured 298 and 296 ppm, where halves of the clip had given 298 and 209)."""
    motion = {"seconds": 30.0, "width": 192, "height": 108}
    video = tmp_path / "long.mp4"
    write_synthetic_clip(video, seed=4, **motion)
    gyro = head_camera_motion(seed=4, gyro_offset_ms=50.0, gyro_noise=0.01, **motion).gyro
    gyro = replace(gyro, times=(gyro.times) * (1 + 300e-6))
    spans = sync_spans(gyro.times, gyro.gyro[:, :2], motion["seconds"]) if sync_points else None
    assert (spans is not None) == sync_points
    sync = estimate_sync(gyro, measure_shifts(video, spans=spans)[0])
    assert sync.drift * 1e6 == pytest.approx(300, abs=40)
    ends = np.array([0.0, motion["seconds"]])
    truth = 0.05 + 300e-6 * (ends + 0.05)  # gyro clock (t + 50 ms) * (1 + 300 ppm)
    np.testing.assert_allclose(sync.offsets_at(ends), truth, atol=1e-3)


def test_frames_a_damaged_file_loses_keep_the_rows_planned_for_them(tmp_path, capsys):
    """Synced on sync points, a plan has a row for every packet: the frames that fail to decode
    must not shift the rows of the frames after them, and the damage gets its warning."""
    import av

    motion = {"seconds": 8.0, "width": 192, "height": 108}
    video = tmp_path / "walk.mp4"
    write_synthetic_clip(video, seed=SEED, **motion)
    write_plain_csv(tmp_path / "walk.csv", head_camera_motion(seed=SEED, **motion).gyro)
    with av.open(str(video)) as container:
        packets = [(p.pos, p.size) for p in container.demux(container.streams.video[0]) if p.size]
    with video.open("r+b") as handle:
        for position, size in packets[120:123]:
            handle.seek(position + 8)
            handle.write(bytes(size - 8))
    result = _json(capsys, "stabilize", video, "-o", tmp_path / "out.mp4")
    assert result["source"] == "gyro" and result["sync_points"] is not None
    assert [w for w in result["warnings"] if "damaged" in w or "ends early" in w]
    with VideoReader(video) as damaged, VideoReader(tmp_path / "out.mp4") as made:
        kept = [frame.pts for frame in damaged.frames()]
        assert len(kept) < len(packets)  # the damage did cost frames
        assert len([frame.pts for frame in made.frames()]) == len(kept)


def test_plan_rows_follow_the_frames_times():
    """A frame takes the row planned for its PTS; without one, the row after the last."""
    plan = WarpPlan(
        np.zeros((5, 4)),
        np.ones(5),
        (64.0, 36.0),
        "adaptive",
        frame_times=FrameTimes(np.arange(5) * 10, Fraction(1, 1000)),
    )
    rows = PlanRows(plan)
    assert [rows(pts) for pts in (0, 10, 30, None, 55, 90)] == [0, 1, 3, 4, 4, 4]
    in_order = PlanRows(replace(plan, frame_times=None))
    assert [in_order(pts) for pts in (0, 30, 40)] == [0, 1, 2]


def test_no_telemetry_or_a_short_log_falls_back_with_one_warning(clip, capsys, tmp_path):
    """Acceptance 6: no telemetry, or a CSV that does not cover the clip."""
    path, _, _ = clip
    result = _json(capsys, "stabilize", path, "-o", tmp_path / "plain.mp4")
    assert result["source"] == "visual" and len(result["warnings"]) == 1
    assert "no motion telemetry" in result["warnings"][0]

    truth = head_camera_motion(seed=SEED, **MOTION)
    short = tmp_path / "short.csv"
    keep = truth.gyro.times < 1.5
    write_plain_csv(short, type(truth.gyro)(truth.gyro.times[keep], truth.gyro.gyro[keep]))
    result = _json(capsys, "stabilize", path, "-o", tmp_path / "short.mp4", "--gyro", short)
    assert result["source"] == "visual" and len(result["warnings"]) == 1
    assert "covers" in result["warnings"][0]

    broken = tmp_path / "broken.gcsv"
    broken.write_text("GYROFLOW IMU LOG\nversion,1.3\n")
    result = _json(capsys, "motion", path, "--gyro", broken)
    assert result["source"] == "visual" and len(result["warnings"]) == 1

    degrees = tmp_path / "degrees.csv"  # rates in degrees/s under a rad/s header: 57x too fast
    write_plain_csv(degrees, type(truth.gyro)(truth.gyro.times, np.degrees(truth.gyro.gyro)))
    result = _json(capsys, "motion", path, "--gyro", degrees)
    assert result["source"] == "visual" and len(result["warnings"]) == 1
    assert "degrees/s read as rad/s" in result["warnings"][0]

    swapped = tmp_path / "swapped.csv"  # yaw, pitch, roll in the wrong columns
    write_plain_csv(swapped, type(truth.gyro)(truth.gyro.times, truth.gyro.gyro[:, [2, 0, 1]]))
    result = _json(capsys, "motion", path, "--gyro", swapped)
    assert result["source"] == "visual" and result["in_camera_stabilized"] is False
    assert "is it this clip's log, with its axes (orientation) right?" in result["warnings"][0]


def test_gyro_usage_mistakes(clip, capsys, tmp_path):
    path, _, _ = clip
    assert main(["motion", str(path), "--gyro", str(tmp_path / "none.csv")]) == 2
    assert main(["motion", str(path), "--gyro", "off", "--source", "gyro"]) == 2
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.real
def test_truncated_gpmd_track_falls_back(real_clip, capsys, tmp_path):
    """Acceptance 6: a GoPro file whose telemetry stops after 3 s of a 12 s clip."""
    import av

    source = real_clip("gyro/gopro_karma_drone.mp4")
    damaged = tmp_path / "karma.mp4"
    damaged.write_bytes(source.read_bytes())
    with av.open(str(source)) as container:
        track = next(s for s in container.streams if s.type == "data" and s.index == 3)
        packets = [(p.pos, p.size) for p in container.demux(track) if p.size]
    with damaged.open("r+b") as handle:
        for position, size in packets[3:]:
            handle.seek(position)
            handle.write(bytes(size))
    result = _json(capsys, "motion", damaged)
    assert result["source"] == "visual" and len(result["warnings"]) == 1
    assert "covers" in result["warnings"][0]


@pytest.mark.real
def test_karma_drone_syncs(real_clip):
    """Acceptance 3: the Karma clip syncs with gyro and picture motion correlated >= 0.8."""
    estimate = estimate_camera_motion(real_clip("gyro/gopro_karma_drone.mp4"))
    assert estimate.source == "gyro" and not estimate.in_camera_stabilized
    assert estimate.sync_confidence >= 0.8
    # measured: about -15 ms (gyro clock behind the video), +-1 frame (33 ms)
    assert -50 < estimate.gyro_offset_ms < 20


@pytest.mark.real
@pytest.mark.parametrize(
    ("clip", "source"),
    [("gopro_max_walk.mp4", "camera-orientation"), ("gopro_hero7_hypersmooth_walk.mp4", "visual")],
)
def test_walks_are_flagged_as_stabilized_in_camera(real_clip, clip, source):
    """Acceptance 3: HyperSmooth clips are flagged, with the reason; the MAX follows its own
    orientation records, the HERO7 (which has none) falls back to the picture."""
    estimate = estimate_camera_motion(real_clip(f"gyro/{clip}"))
    assert estimate.in_camera_stabilized and estimate.source == source
    assert "stabiliz" in estimate.notes[0]


@pytest.mark.real
@pytest.mark.parametrize("clip", ["gopro_max_walk.mp4", "gopro_hero7_hypersmooth_walk.mp4"])
def test_stabilized_in_camera_is_seen_in_the_picture_too(real_clip, clip):
    """Without the camera's setting, the picture not following the gyro gives it away."""
    path = real_clip(f"gyro/{clip}")
    imu = replace(read_telemetry(path), stabilized_in_camera=None)
    visual, _ = measure_shifts(path)
    reason = in_camera_stabilization(imu, estimate_sync(imu, visual))
    assert reason and "does not follow the gyro" in reason


def test_horizon_lock_levels_the_output():
    """Acceptance 2: with horizon lock the output roll stays within 0.5 degrees of level."""
    truth = head_camera_motion(seed=SEED, gyro_noise=0.005, gyro_bias=(0.0, 0.0, 0.01), **MOTION)
    imu = truth.gyro
    times = _times(truth)
    path = gyro_camera_path(
        integrate_orientation(imu), times, (320.0, 180.0), focal_px=truth.focal_px
    )
    roll = np.interp(truth.times, imu.times, level_roll(imu))
    plan = plan_stabilization(path)
    locked = lock_horizon(plan, roll, truth.times, amount=1.0, max_zoom=1.25)
    level = np.radians(0.5)
    assert np.abs(plan.corrections[:, 2] - truth.actual[:, 2]).max() > level  # not level before
    assert np.abs(locked.corrections[:, 2] - truth.actual[:, 2]).max() < level
    assert locked.zoom.max() <= 1.25
    assert locked.zoom.max() > plan.zoom.max() + 1e-3  # levelling costs crop; the notes say so
    assert f"levelling the horizon needs zoom {locked.zoom.max():.3f}" in locked.notes[-1]
    half = lock_horizon(plan, roll, truth.times, amount=0.5, max_zoom=1.25)
    np.testing.assert_allclose(
        half.corrections[:, 2], (plan.corrections[:, 2] + locked.corrections[:, 2]) / 2
    )


def test_a_still_camera_is_not_called_stabilized_in_camera():
    """No match with the picture means in-camera stabilization only if the gyro saw shake."""
    shaky = head_camera_motion(seed=SEED, **MOTION)
    still = head_camera_motion(seed=SEED, shake_scale=0, head_turns=0, whip_pans=0, **MOTION)
    assert shaken(shaky.gyro) and not shaken(still.gyro)
    untrusted = SyncResult(0.0, 0.1, 0.0)
    assert in_camera_stabilization(still.gyro, untrusted) is None
    assert "does not follow" in in_camera_stabilization(shaky.gyro, untrusted)


def test_fusion_levels_the_pictures_shifts_by_the_gyros_roll():
    """A camera turning to portrait while it pans: the picture's shifts (measured without roll)
    agree with the gyro once levelled, so fusion must not bend the gyro's path."""
    n = 120
    times = FrameTimes(np.arange(n) * 3000, time_base=1 / 90000)
    roll = np.linspace(0.0, np.pi / 2, n)  # a quarter turn over four seconds
    level = np.zeros((n, 4))
    level[:, 0] = np.arange(n) * 6.0  # a steady pan, 6 px a frame
    level[:, 2] = roll
    gyro = CameraPath(times, level, np.ones(n, dtype=bool), (640.0, 360.0), source="gyro")
    pictured = gyro.steps.copy()
    pictured[:, 2:] = 0  # phase correlation sees shifts only, along the rolled image axes
    shifts = CameraPath(times, path_from_steps(pictured), np.ones(n, dtype=bool), (640.0, 360.0))
    fused = fuse_paths(gyro, shifts, window_s=1.0)
    np.testing.assert_allclose(fused.params, gyro.params, atol=1e-9)
    assert fused.source == "fused"


def test_horizon_lock_turns_the_planned_shift_with_the_picture():
    """Levelling a camera held 10 degrees tilted must keep the shake the plan took out: the
    planned shifts are turned with the extra roll, else the turns are read in tilted axes."""
    n, size = 200, (1920.0, 1080.0)
    center = frame_center(size)
    raw = np.zeros((n, 4))
    raw[1:, :2] = np.random.default_rng(0).normal(0.0, 20.0, (n - 1, 2))  # level shake, px
    corrections = corrections_between(raw, np.zeros((n, 3)), size)  # take it all out
    plan = WarpPlan(np.column_stack([corrections, np.zeros(n)]), np.full(n, 1.2), size, "x", ())
    locked = lock_horizon(
        plan, np.full(n, np.radians(10)), np.arange(n) / 30, amount=1.0, max_zoom=2.0
    )
    shown = similarity_matrices(np.column_stack([locked.corrections[:, :3], np.zeros(n)]), center)
    picture = np.column_stack([turned(raw[:, :2], raw[:, 2]), raw[:, 2], np.zeros(n)])
    output = similarity_params(shown @ similarity_matrices(picture, center), center)
    np.testing.assert_allclose(output[:, 2], np.radians(10))
    np.testing.assert_allclose(turned(output[:, :2], -output[:, 2]), 0.0, atol=1e-9)
