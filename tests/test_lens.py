"""The lens model: fisheye intrinsics from profiles, metadata or a field of view, and the
undistorted output of ``stabilize --undistort``."""

import json
import math
from dataclasses import replace

import cv2
import numpy as np
import pytest

from povkit.errors import UsageError
from povkit.io.synthetic import write_synthetic_clip
from povkit.io.telemetry import write_plain_csv
from povkit.io.video import VideoReader, luma, probe
from povkit.lens import Lens, find_lens, lens_from_fov, load_lens, undistorted_view
from povkit.motion.gyro import image_steps
from povkit.plan.crop import required_zoom
from povkit.render.warp import plan_matrices, source_maps, warp_planes
from povkit.types import WarpPlan

FISHEYE = Lens(320, 180, 190.0, 188.0, 161.3, 88.2, (0.08, -0.03, 0.01, -0.002), "test fisheye")
"""A wide (about 95 degrees across) fisheye with an off-centre principal point."""
GYROFLOW_PROFILE = {
    "name": "Test_Camera_Wide_1080p",
    "camera_brand": "Test",
    "camera_model": "Camera",
    "calib_dimension": {"w": 1920, "h": 1080},
    "input_horizontal_stretch": 1.0,
    "input_vertical_stretch": 1.0,
    "distortion_model": None,
    "fisheye_params": {
        "RMS_error": 0.5,
        "camera_matrix": [[1140.0, 0.0, 967.5], [0.0, 1128.0, 529.5], [0.0, 0.0, 1.0]],
        "distortion_coeffs": [0.08, -0.03, 0.01, -0.002],
    },
}


def _normalized(view, points: np.ndarray) -> np.ndarray:
    """View pixels -> normalized pinhole coordinates of the view's camera."""
    center = np.array([(view.lens.width - 1) / 2, (view.lens.height - 1) / 2])
    focal = view.scale * np.array([view.lens.fx, view.lens.fy])
    return (points - center) / focal


def test_view_pixels_are_opencvs_undistortion_inverted():
    """``view.source`` is cv2.fisheye's model, and cv2's own undistortion brings it back."""
    view = undistorted_view(FISHEYE)
    points = np.stack(np.meshgrid(np.linspace(0, 319, 9), np.linspace(0, 179, 7)), -1)
    points = points.reshape(-1, 2)
    x, y = view.source(points[:, 0], points[:, 1])
    expected = cv2.fisheye.distortPoints(
        _normalized(view, points).reshape(-1, 1, 2), FISHEYE.camera_matrix, np.array(FISHEYE.k)
    ).reshape(-1, 2)
    np.testing.assert_allclose(np.column_stack([x, y]), expected, atol=1e-9)
    view_matrix = np.array(
        [[view.scale * FISHEYE.fx, 0, 159.5], [0, view.scale * FISHEYE.fy, 89.5], [0, 0, 1]]
    )
    back = cv2.fisheye.undistortPoints(
        expected.reshape(-1, 1, 2), FISHEYE.camera_matrix, np.array(FISHEYE.k), P=view_matrix
    ).reshape(-1, 2)
    np.testing.assert_allclose(back, points, atol=1e-3)


def test_rendered_undistortion_puts_points_back_within_a_tenth_of_a_pixel():
    """Round dots in the view, imaged through a known fisheye (each frame pixel taken back to
    the view by cv2.fisheye.undistortPoints), come out of the render path's undistortion (8 px
    map grid, bilinear remap) where they were: within 0.1 px (measured: 0.058 px at most)."""
    view = undistorted_view(FISHEYE)
    grid = np.stack(np.meshgrid(np.linspace(30, 290, 6), np.linspace(25, 155, 4)), -1)
    dots = grid.reshape(-1, 2)
    ys, xs = np.mgrid[0:180, 0:320].astype(np.float64)
    view_matrix = np.array(
        [[view.scale * FISHEYE.fx, 0, 159.5], [0, view.scale * FISHEYE.fy, 89.5], [0, 0, 1]]
    )
    seen = cv2.fisheye.undistortPoints(
        np.column_stack([xs.ravel(), ys.ravel()]).reshape(-1, 1, 2),
        FISHEYE.camera_matrix,
        np.array(FISHEYE.k),
        P=view_matrix,
    ).reshape(180, 320, 2)
    image = np.zeros((180, 320))
    for x, y in dots:
        image += 200 * np.exp(-((seen[..., 0] - x) ** 2 + (seen[..., 1] - y) ** 2) / 4.5)
    out = np.zeros((180, 320), np.float32)
    warp_planes([(image + 20).astype(np.float32)], np.eye(3), [out], view=view)
    for x, y in dots:
        x0, y0 = int(round(x)), int(round(y))
        patch = out[y0 - 7 : y0 + 8, x0 - 7 : x0 + 8].astype(np.float64) - 20
        py, px = np.mgrid[y0 - 7 : y0 + 8, x0 - 7 : x0 + 8]
        found = np.array([(patch * px).sum(), (patch * py).sum()]) / patch.sum()
        assert np.hypot(*(found - (x, y))) < 0.1, (found, (x, y))


def test_the_view_is_the_widest_that_shows_only_the_frame():
    view = undistorted_view(FISHEYE)
    edge = np.linspace(-0.5, 1.5, 2000)
    border_x = np.concatenate([320 * edge, 320 * edge, np.full(2000, -0.5), np.full(2000, 319.5)])
    border_y = np.concatenate([np.full(2000, -0.5), np.full(2000, 179.5), 180 * edge, 180 * edge])
    x, y = view.source(np.clip(border_x, -0.5, 319.5), np.clip(border_y, -0.5, 179.5))
    assert x.min() >= -0.5 - 1e-3 and x.max() <= 319.5 + 1e-3
    assert y.min() >= -0.5 - 1e-3 and y.max() <= 179.5 + 1e-3
    wider = type(view)(FISHEYE, view.scale * 0.99)
    x, y = wider.source(border_x, border_y)
    assert x.min() < -0.5 or x.max() > 319.5 or y.min() < -0.5 or y.max() > 179.5


def test_crop_keeps_the_undistorted_output_inside_the_frame(clip):
    """The plan's no-border zoom, computed as for any video, holds through the undistortion:
    every output pixel's source lies within the input frame."""
    view = undistorted_view(FISHEYE)
    rng = np.random.default_rng(3)
    corrections = np.column_stack([rng.normal(0, 8, (20, 2)), rng.normal(0, 0.02, 20)])
    zoom = required_zoom(corrections, (320.0, 180.0))
    plan = WarpPlan(np.column_stack([corrections, np.zeros(20)]), zoom, (320.0, 180.0), "test")
    for matrix in plan_matrices(plan, probe(clip)):
        (map_x, map_y), *_ = source_maps(matrix, [np.zeros((180, 320))], None, view)
        assert map_x.min() >= -0.5 - 1e-3 and map_x.max() <= 319.5 + 1e-3
        assert map_y.min() >= -0.5 - 1e-3 and map_y.max() <= 179.5 + 1e-3


def test_field_of_view_estimate_is_equidistant():
    lens = lens_from_fov(1920, 1080, 120.0)
    assert lens.fx == lens.fy == pytest.approx(960 / math.radians(60))
    assert (lens.cx, lens.cy, lens.k) == (959.5, 539.5, (0.0, 0.0, 0.0, 0.0))
    edge = lens.distort(np.array([[math.tan(math.radians(60)), 0.0]]))
    np.testing.assert_allclose(edge, [[959.5 + 960, 539.5]], atol=1e-9)
    with pytest.raises(UsageError, match="10-250 degrees"):
        lens_from_fov(1920, 1080, 5)


def test_gyroflow_and_povkit_profiles_load_and_scale(tmp_path):
    gyroflow = tmp_path / "gyroflow.json"
    gyroflow.write_text(json.dumps(GYROFLOW_PROFILE))
    lens = load_lens(gyroflow)
    assert lens == Lens(
        1920,
        1080,
        1140.0,
        1128.0,
        967.5,
        529.5,
        (0.08, -0.03, 0.01, -0.002),
        GYROFLOW_PROFILE["name"],
    )
    half = lens.scaled(960, 540)
    assert (half.fx, half.fy, half.cx, half.cy) == (570.0, 564.0, 483.5, 264.5)
    assert half.k == lens.k
    with pytest.raises(UsageError, match="another shape"):
        lens.scaled(640, 480)

    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps({"width": 320, "height": 180, "fx": 190, "k": [0.1, 0, 0, 0]}))
    assert load_lens(plain) == Lens(320, 180, 190.0, 190.0, 159.5, 89.5, (0.1, 0.0, 0.0, 0.0))
    plain.write_text(json.dumps({"width": 320, "height": 180, "hfov_deg": 100, "name": "guess"}))
    assert load_lens(plain) == replace(lens_from_fov(320, 180, 100), name="guess")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not a JSON lens profile"),
        ("[1, 2]", "a lens profile is a JSON object"),
        ('{"width": 320, "height": 180}', "needs fx (focal length in pixels) or hfov_deg"),
        ('{"width": 320, "height": 180, "fx": 200, "k1": 0.1}', "unknown key 'k1'"),
        ('{"width": 320, "height": 180, "fx": -5}', "focal lengths must be positive"),
        ('{"width": 320, "height": 180, "fx": 200, "k": [0.1]}', "must be 4 numbers"),
        ('{"width": 320.5, "height": 180, "fx": 200}', "positive whole pixels"),
        ('{"calib_dimension": {"w": 320, "h": 180}}', "missing key 'fisheye_params'"),
        (
            json.dumps({**GYROFLOW_PROFILE, "distortion_model": "poly3"}),
            "distortion_model 'poly3' is not supported",
        ),
        (
            json.dumps({**GYROFLOW_PROFILE, "use_opencv_standard": True}),
            "OpenCV standard (non-fisheye) model is not supported",
        ),
        (
            json.dumps({**GYROFLOW_PROFILE, "input_horizontal_stretch": 1.33}),
            "(anamorphic) is not supported",
        ),
    ],
)
def test_bad_profiles_are_refused_with_the_reason(tmp_path, content, message):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    with pytest.raises(UsageError, match=f"--lens {bad}: .*") as caught:
        load_lens(bad)
    assert message in str(caught.value)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """A 3 s 320x180 strongly shaken walk with its gyro as a sidecar log."""
    path = tmp_path_factory.mktemp("lens") / "walk.mp4"
    truth = write_synthetic_clip(path, seed=4, seconds=3.0, width=320, height=180, shake_scale=2.0)
    write_plain_csv(path.with_suffix(".csv"), truth.gyro)
    return path


def test_a_bad_lens_file_is_one_line_and_exit_2(clip, tmp_path, run_cli):
    bad = tmp_path / "bad.json"
    bad.write_text('{"width": 320, "height": 180, "fx": "wide"}')
    code, _, err = run_cli("motion", clip, "--lens", bad)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert f"--lens {bad}: could not convert string to float" in err
    code, _, err = run_cli("stabilize", clip, "-o", tmp_path / "o.mp4", "--lens", tmp_path)
    assert code == 2 and "no such lens profile" in err and len(err.strip().splitlines()) == 1
    code, _, err = run_cli("stabilize", clip, "-o", tmp_path / "o.mp4", "--undistort")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "--undistort needs the lens" in err and "has no lens metadata" in err
    assert not (tmp_path / "o.mp4").exists()


def test_undistort_keeps_every_frame_and_leaves_no_black_border(clip, tmp_path, run_cli):
    profile = tmp_path / "lens.json"
    profile.write_text(json.dumps({"width": 320, "height": 180, "fx": 190, "k": list(FISHEYE.k)}))
    out = tmp_path / "undistorted.mp4"
    code, text, err = run_cli(
        "stabilize", clip, "-o", out, "--lens", profile, "--undistort", "--json"
    )
    assert code == 0, err
    result = json.loads(text)
    lens, _ = find_lens(clip, probe(clip), profile)
    assert result["undistorted_scale"] == round(undistorted_view(lens).scale, 4)
    assert result["source"] == "gyro" and result["lens"]["fx"] == 190.0
    with VideoReader(clip) as original, VideoReader(out) as made:
        before = [frame.pts for frame in original.frames()]
        frames = list(made.frames())
    assert [frame.pts for frame in frames] == before
    for frame in frames:
        picture = luma(frame)
        corners = [picture[:3, :3], picture[:3, -3:], picture[-3:, :3], picture[-3:, -3:]]
        assert min(float(c.mean()) for c in corners) > 30


def test_motion_reports_the_lens_and_keeps_a_square_lens_sync(clip, tmp_path, run_cli):
    """A profile with fx == fy leaves the gyro path as without one; the lens is reported."""
    profile = tmp_path / "lens.json"
    profile.write_text(json.dumps({"width": 640, "height": 360, "fx": 380, "k": [0, 0, 0, 0]}))
    code, plain, _ = run_cli("motion", clip, "--json")
    code_lens, with_lens, _ = run_cli("motion", clip, "--lens", profile, "--json")
    assert code == code_lens == 0
    plain, with_lens = json.loads(plain), json.loads(with_lens)
    assert plain["lens"] is None
    assert with_lens["lens"]["fx"] == 190.0 and with_lens["lens"]["width"] == 320
    for key in ("gyro_offset_ms", "sync_confidence", "focal_px", "dx", "dy"):
        assert with_lens[key] == plain[key]


def test_a_profiles_focal_ratio_scales_the_gyros_vertical_motion():
    rotations = np.array([[0.01, 0.02, 0.003]])
    np.testing.assert_allclose(image_steps(rotations, 500.0, 1.1), [[-5.0, 11.0, -0.003, 0.0]])
