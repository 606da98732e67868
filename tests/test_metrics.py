"""Tests of povkit.metrics on synthetic frames with known warps and on known pose signals."""

from __future__ import annotations

import json
import math

import cv2
import numpy as np
import pytest

from povkit.metrics import (
    _path_stability,
    _unfolded,
    intentional_lag_frames,
    output_pose_deg,
    pose_from_content_path,
    residual_shake_deg,
    stabilization_scores,
    steps_path,
)
from povkit.synth import content_path_of

SIZE = (320, 192)
"""(width, height) of the synthetic frames: small enough for speed, big enough for SIFT."""
FPS = 30.0


def _texture(seed: int = 0, shape: tuple[int, int] = (600, 800)) -> np.ndarray:
    """A grey image with detail at several scales, so SIFT finds plenty of distinct features."""
    rng = np.random.default_rng(seed)
    image = np.zeros(shape, np.float32)
    for sigma in (1.5, 4.0, 12.0):
        noise = rng.standard_normal(shape).astype(np.float32)
        image += cv2.GaussianBlur(noise, (0, 0), sigma) * sigma
    image -= image.min()
    return (image * (255 / image.max())).astype(np.uint8)


TEXTURE = _texture()


def _about_centre(matrix: np.ndarray, size: tuple[int, int] = SIZE) -> np.ndarray:
    """3x3 homography applying the 2x2 ``matrix`` about the frame centre."""
    c = np.array([(size[0] - 1) / 2, (size[1] - 1) / 2])
    h = np.eye(3)
    h[:2, :2] = matrix
    h[:2, 2] = c - matrix @ c
    return h


def _rotation(deg: float) -> np.ndarray:
    a = math.radians(deg)
    return np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])


def _camera(x: float, y: float, roll_deg: float) -> np.ndarray:
    """A frame cut from the texture's middle, its content shifted by (x, y) and turned by roll,
    both about the frame centre; the window stays inside the texture, so no border shows."""
    w, h = SIZE
    th, tw = TEXTURE.shape
    m = _about_centre(_rotation(roll_deg))
    m[:2, 2] += (x - (tw - w) / 2, y - (th - h) / 2)
    return cv2.warpAffine(TEXTURE, m[:2], SIZE, flags=cv2.INTER_LINEAR)


def _video(path: np.ndarray) -> list[np.ndarray]:
    return [_camera(*row) for row in path]


def _warped(frames: list[np.ndarray], h: np.ndarray) -> list[np.ndarray]:
    return [cv2.warpPerspective(f, h, SIZE, flags=cv2.INTER_LINEAR) for f in frames]


def _slow_path(n: int) -> np.ndarray:
    t = np.arange(n, dtype=float)
    return np.column_stack([0.4 * t, 0.2 * t, 0.02 * t])


# --- Liu et al. scores ----------------------------------------------------------------------


def test_identical_videos_score_no_crop_and_no_distortion():
    frames = _video(_slow_path(8))
    scores = stabilization_scores(frames, iter(frames))
    assert scores.frames == 8 and scores.failed_frames == 0 and scores.failed_steps == 0
    assert scores.cropping == pytest.approx(1.0, abs=1e-3)
    assert scores.distortion == pytest.approx(1.0, abs=5e-3)
    np.testing.assert_allclose(scores.warps, np.broadcast_to(np.eye(3), (8, 3, 3)), atol=0.05)


def test_zoomed_video_crops_by_inverse_zoom_and_warps_map_original_to_stabilized():
    original = _video(_slow_path(6))
    zoom = _about_centre(1.25 * _rotation(2.0))
    scores = stabilization_scores(original, _warped(original, zoom))
    assert scores.cropping == pytest.approx(0.8, abs=0.005)
    assert scores.distortion == pytest.approx(1.0, abs=0.01)
    for warp in scores.warps:
        np.testing.assert_allclose(warp[:2, :2], zoom[:2, :2], atol=0.01)
        np.testing.assert_allclose(warp[:2, 2], zoom[:2, 2], atol=1.0)


def test_non_uniform_scale_is_distortion():
    original = _video(_slow_path(6))
    stretch = _about_centre(np.diag([1.0, 1.2]))
    scores = stabilization_scores(original, _warped(original, stretch))
    assert scores.distortion == pytest.approx(1 / 1.2, abs=0.01)
    assert scores.distortion_mean == pytest.approx(1 / 1.2, abs=0.01)
    assert scores.cropping == pytest.approx(1 / math.sqrt(1.2), abs=0.01)


def test_jitter_lowers_stability_of_a_slow_pan():
    n = 48
    t = np.arange(n) / FPS
    smooth = _slow_path(n)
    jitter = np.column_stack(
        [
            3.0 * np.sin(2 * np.pi * 4.0 * t) + 2.0 * np.sin(2 * np.pi * 5.5 * t + 1.0),
            2.0 * np.sin(2 * np.pi * 3.0 * t + 0.5),
            0.4 * np.sin(2 * np.pi * 4.5 * t + 2.0),
        ]
    )
    calm = _video(smooth)
    shaky = _video(smooth + jitter)
    # 300 features a frame are plenty for a homography and keep the test quick.
    calm_scores = stabilization_scores(calm, calm, nfeatures=300)
    shaky_scores = stabilization_scores(shaky, shaky, nfeatures=300)
    assert calm_scores.failed_steps == 0 and shaky_scores.failed_steps == 0
    assert calm_scores.stability > 0.8
    assert shaky_scores.stability < calm_scores.stability - 0.2
    assert shaky_scores.stability_translation < calm_scores.stability_translation
    assert shaky_scores.stability_rotation < calm_scores.stability_rotation
    assert calm_scores.stability == min(
        calm_scores.stability_translation, calm_scores.stability_rotation
    )
    # pure similarities: the homographies' roll is the matched points' own turning
    assert calm_scores.roll_disagreement_deg < 0.2
    assert shaky_scores.roll_disagreement_deg < 0.2


def test_a_highway_drive_warns_that_its_roll_score_reads_perspective(real_clip, run_cli):
    # The road's homographies, read at a frame centre near its horizon, sum to ~130 degrees of
    # roll over 7 s of straight driving; the matched points themselves turn ~6 degrees.
    clip = real_clip("stabilize/dashcam_highway.mp4")
    code, out, err = run_cli("metrics", clip, clip, "--json")
    assert code == 0
    assert json.loads(out)["roll_disagreement_deg"] > 90
    assert "treat stability_rotation with care" in err


def test_unmatchable_frame_is_counted_not_fatal():
    original = _video(_slow_path(5))
    stabilized = list(original)
    stabilized[2] = np.zeros_like(original[2])
    scores = stabilization_scores(original, stabilized)
    assert scores.failed_frames == 1
    assert scores.failed_steps == 2
    assert np.isnan(scores.warps[2]).all()
    assert np.isfinite(scores.warps[[0, 1, 3, 4]]).all()
    assert scores.cropping == pytest.approx(1.0, abs=1e-3)
    # Too short a clip for a spectrum: stability is unknown, and JSON says so with null.
    encoded = json.loads(json.dumps(scores.to_dict()))
    assert encoded["stability"] is None
    assert encoded["failed_frames"] == 1 and "warps" not in encoded


def _shake(t: np.ndarray, px: float) -> np.ndarray:
    """(len(t), 2) hand shake at 3-5.5 Hz, ``px`` pixels in amplitude."""
    return px * np.column_stack(
        [
            np.sin(2 * np.pi * 4.0 * t) + 0.6 * np.sin(2 * np.pi * 5.5 * t + 1.0),
            np.sin(2 * np.pi * 3.0 * t + 0.5),
        ]
    )


def _forward_walk(n: int, shake_px: float, shake_deg: float) -> list[np.ndarray]:
    """Frames zooming in 3x over the clip (walking forward) while drifting slowly, plus shake."""
    th, tw = TEXTURE.shape
    w, h = SIZE
    t = np.arange(n) / FPS
    zoom = 0.6 * 3.0 ** (np.arange(n) / (n - 1))
    drift = np.column_stack([0.3 * np.arange(n), 0.15 * np.arange(n)]) + _shake(t, shake_px)
    roll = shake_deg * np.sin(2 * np.pi * 4.5 * t + 2.0)
    frames = []
    for k in range(n):
        m = _about_centre(zoom[k] * _rotation(roll[k]))
        m[:2, 2] += drift[k] - zoom[k] * np.array([(tw - w) / 2, (th - h) / 2])
        frames.append(cv2.warpAffine(TEXTURE, m[:2], SIZE, flags=cv2.INTER_LINEAR))
    return frames


def test_forward_zoom_keeps_translation_stability_and_shake_lowers_it():
    calm = _forward_walk(64, 0.0, 0.0)
    shaky = _forward_walk(64, 3.0, 0.4)
    calm_scores = stabilization_scores(calm, calm, nfeatures=300)
    shaky_scores = stabilization_scores(shaky, shaky, nfeatures=300)
    assert calm_scores.failed_steps == 0 and shaky_scores.failed_steps == 0
    assert calm_scores.stability_translation > 0.8
    assert shaky_scores.stability_translation < calm_scores.stability_translation - 0.3


def _walk_steps(n: int, *, zoom: float, tilt: bool, shake_px: float) -> np.ndarray:
    """(n, 3, 3) frame-to-frame homographies of a long handheld walk, built directly: a slow sway
    and roll, a little measurement noise, optional shake; with ``zoom`` per step (walking
    forward) and, if ``tilt``, per-step perspective like a ground plane's, both about the centre.
    """
    rng = np.random.default_rng(1)
    t = np.arange(n + 1) / FPS
    sway = np.column_stack(
        [10 * np.sin(2 * np.pi * t / t[-1]), 5 * np.sin(4 * np.pi * t / t[-1] + 1.0)]
    )
    path = sway + rng.normal(0, 0.1, sway.shape) + _shake(t, shake_px)
    roll = np.radians(1.0) * np.sin(2 * np.pi * t / t[-1]) + rng.normal(0, 2e-4, n + 1)
    centre = np.array([(SIZE[0] - 1) / 2, (SIZE[1] - 1) / 2])
    to_centre, from_centre = np.eye(3), np.eye(3)
    to_centre[:2, 2], from_centre[:2, 2] = centre, -centre
    steps = np.zeros((n, 3, 3))
    for k in range(n):
        step = np.eye(3)
        step[:2, :2] = zoom * _rotation(math.degrees(roll[k + 1] - roll[k]))
        step[:2, 2] = path[k + 1] - path[k]
        if tilt:
            step[2, :2] = rng.normal(0, 3e-5, 2) + (0.0, -1e-5)
        steps[k] = to_centre @ step @ from_centre
    return steps


def test_stability_of_a_long_walk_does_not_compound_zoom_or_perspective():
    # 900 steps of 0.5 % zoom compound to 90x: multiplying the homographies into one path let
    # that growth (and the perspective drift) swamp the shake, so calm and shaky scored alike.
    n = 900
    ok = np.ones(n, bool)
    centre = ((SIZE[0] - 1) / 2, (SIZE[1] - 1) / 2)
    scores = {}
    for zoom, tilt in ((1.0, False), (1.005, True)):
        for shake_px in (0.0, 3.0):
            steps = _walk_steps(n, zoom=zoom, tilt=tilt, shake_px=shake_px)
            scores[zoom, shake_px] = _path_stability(steps_path(steps, ok, centre))
    for shake_px in (0.0, 3.0):
        np.testing.assert_allclose(scores[1.005, shake_px], scores[1.0, shake_px], atol=0.01)
    calm, shaky = scores[1.005, 0.0], scores[1.005, 3.0]
    assert calm[0] > 0.95 and calm[1] > 0.95
    assert shaky[0] < calm[0] - 0.1
    assert shaky[1] == pytest.approx(calm[1], abs=0.01)


def test_a_homography_folding_the_frame_is_a_failure():
    tilt = np.eye(3)
    tilt[2, 0] = -1 / 200  # the line x = 200 goes to infinity: inside a 320-wide frame
    assert _unfolded(tilt, SIZE[::-1]) is None
    tilt[2, 0] = -1 / 400
    assert _unfolded(tilt, SIZE[::-1]) is tilt
    assert _unfolded(None, SIZE[::-1]) is None


def test_length_mismatch_names_both_counts():
    frames = _video(_slow_path(5))
    with pytest.raises(ValueError, match="original has 3 frames, stabilized has 5"):
        stabilization_scores(frames[:3], (f for f in frames))
    with pytest.raises(ValueError, match="original has 5 frames, stabilized has 2"):
        stabilization_scores(iter(frames), frames[:2])


@pytest.mark.parametrize(
    ("original", "stabilized", "message"),
    [
        ([], [], "empty"),
        ([np.zeros((*SIZE[::-1], 3), np.uint8)], [np.zeros(SIZE[::-1], np.uint8)], "2-D uint8"),
        ([np.zeros(SIZE[::-1], np.float32)], [np.zeros(SIZE[::-1], np.uint8)], "2-D uint8"),
        ([np.zeros(SIZE[::-1], np.uint8)], [np.zeros((10, 10), np.uint8)], "one size"),
    ],
)
def test_bad_frames_are_explained(original, stabilized, message):
    with pytest.raises(ValueError, match=message):
        stabilization_scores(original, stabilized)


# --- ground-truth measures ------------------------------------------------------------------


def _whip_pans(n: int) -> np.ndarray:
    """Intended yaw in degrees: a slow drift plus two quick 60-degree turns."""
    t = np.arange(n, dtype=float)
    turns = 60 / (1 + np.exp(-(t - n / 3) / 3)) - 60 / (1 + np.exp(-(t - 2 * n / 3) / 2))
    return 0.05 * t + turns


def _poses(yaw: np.ndarray) -> np.ndarray:
    n = len(yaw)
    t = np.arange(n, dtype=float)
    return np.column_stack([yaw, 2 * np.sin(t / 40), np.zeros(n)])


def test_residual_shake_of_a_fast_sinusoid_is_its_rms():
    t = np.arange(300) / FPS
    amplitude = 1.5
    wobble = amplitude * np.sin(2 * np.pi * 3.0 * t)
    output = np.column_stack([wobble, wobble, wobble])
    shake = residual_shake_deg(output, np.zeros_like(output), FPS)
    assert shake == pytest.approx(amplitude / math.sqrt(2), rel=0.02)


def test_residual_shake_ignores_slow_motion():
    t = np.arange(300) / FPS
    drift = 1.5 * np.sin(2 * np.pi * 0.2 * t)
    output = np.column_stack([drift, drift, drift])
    assert residual_shake_deg(output, np.zeros_like(output), FPS) < 0.02 * 1.5


def test_residual_shake_validates():
    poses = np.zeros((100, 3))
    with pytest.raises(ValueError, match="Nyquist"):
        residual_shake_deg(poses, poses, FPS, cutoff_hz=20.0)
    with pytest.raises(ValueError, match="same frames"):
        residual_shake_deg(poses, poses[:50], FPS)
    with pytest.raises(ValueError, match="more than"):
        residual_shake_deg(poses[:10], poses[:10], FPS)


@pytest.mark.parametrize("shift", [2.0, 2.5, -3.0])
def test_lag_of_a_shifted_signal(shift):
    n = 240
    t = np.arange(n, dtype=float)
    intended = _poses(_whip_pans(n))
    late = _poses(np.interp(t - shift, t, intended[:, 0]))
    assert intentional_lag_frames(late, intended) == pytest.approx(shift, abs=0.2)


def test_lag_is_nan_without_a_turn():
    steady = _poses(0.5 * np.arange(100.0))
    assert math.isnan(intentional_lag_frames(steady, steady))


def test_pose_from_content_path_signs():
    focal = 500.0
    one_degree = focal * math.radians(1.0)
    level = np.array([[0.0, 0.0, 0.0], [-one_degree, one_degree, 0.0]])  # content left and down
    np.testing.assert_allclose(pose_from_content_path(level, focal_px=focal)[1], [1.0, 1.0, 0.0])
    pose = np.radians([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    path = content_path_of(pose, focal)  # rolled: the shift turns with the picture
    np.testing.assert_allclose(pose_from_content_path(path, focal_px=focal), np.degrees(pose))


def _content_path(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    path = np.cumsum(rng.normal(0, [3.0, 2.0, 0.004], (n, 3)), axis=0)
    return path - path[0]


def _similarity(row: np.ndarray) -> np.ndarray:
    """The content similarity of one content-path row, about the centre of SIZE."""
    h = _about_centre(_rotation(math.degrees(row[2])))
    h[:2, 2] += row[:2]
    return h


def test_identity_warps_leave_the_input_pose():
    path = _content_path(50, seed=1)
    warps = np.broadcast_to(np.eye(3), (50, 3, 3))
    pose = output_pose_deg(warps, path, focal_px=400.0, frame_size=SIZE)
    np.testing.assert_allclose(pose, pose_from_content_path(path, focal_px=400.0), atol=1e-9)


def test_warps_that_undo_the_shake_give_the_intended_pose_at_any_zoom():
    n, focal = 50, 400.0
    actual, intended = _content_path(n, seed=2), _content_path(n, seed=3)
    zoom = _about_centre(np.diag([1.2, 1.2]))
    warps = np.stack(
        [
            zoom @ _similarity(i) @ np.linalg.inv(_similarity(a))
            for a, i in zip(actual, intended, strict=True)
        ]
    )
    warps[7] = np.nan  # a failed measurement, bridged from its neighbours
    pose = output_pose_deg(warps, actual, focal_px=focal, frame_size=SIZE)
    want = pose_from_content_path(intended, focal_px=focal)
    keep = np.arange(n) != 7
    np.testing.assert_allclose(pose[keep], want[keep], atol=1e-6)
    assert np.isfinite(pose[7]).all()
    np.testing.assert_allclose(pose[7], want[7], atol=0.5)


def test_output_pose_validates():
    path = np.zeros((5, 3))
    with pytest.raises(ValueError, match="every warp is NaN"):
        output_pose_deg(np.full((5, 3, 3), np.nan), path, focal_px=400.0, frame_size=SIZE)
    with pytest.raises(ValueError, match=r"\(5, 3, 3\)"):
        output_pose_deg(np.zeros((4, 3, 3)), path, focal_px=400.0, frame_size=SIZE)
