"""What keeps stabilize fast, each checked against what it replaced: downscaling on the tracking
pool, warps straight into the output planes, x264 frame threads, no progress-bar imports for
scripts."""

import os
import subprocess
import sys
from fractions import Fraction

import av
import cv2
import numpy as np

from povkit.io.video import plane_arrays
from povkit.io.writer import VideoWriter
from povkit.motion.visual import TrackingOptions, measure_grey_frames, measure_step
from povkit.render.warp import _CHROMA_TO_LUMA, _LUMA_TO_CHROMA, warp_planes
from povkit.types import VideoInfo


def test_pool_measures_what_one_thread_measures_frame_by_frame():
    rng = np.random.default_rng(2)
    scene = cv2.GaussianBlur(rng.integers(0, 256, (500, 800), dtype=np.uint8), (0, 0), 2)
    frames = [
        np.ascontiguousarray(scene[7 * i : 7 * i + 360, 5 * i : 5 * i + 640]) for i in range(9)
    ]
    size = (256, 144)
    greys = [cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames]
    for workers in (1, 2, 3):
        options = TrackingOptions(workers=workers)
        steps, valid, still = measure_grey_frames(iter(frames), options, size)
        expected = [measure_step(a, b, options) for a, b in zip(greys, greys[1:], strict=False)]
        np.testing.assert_array_equal(steps[1:], [e.params for e in expected])
        assert valid.tolist() == [True] + [e.valid for e in expected]
        assert still.tolist() == [1.0] + [e.still_share for e in expected]
    assert valid.all() and np.allclose(steps[1:, :2], [-2, -2.8], atol=0.05)


def _padded_frame() -> av.VideoFrame:
    """An odd-sized frame: FFmpeg pads its rows, so the plane views are not contiguous."""
    frame = av.VideoFrame(642, 362, "yuv420p")
    assert all(p.line_size > p.width for p in frame.planes)
    return frame


def test_warp_writes_into_padded_planes_as_warp_affine_would():
    rng = np.random.default_rng(0)
    out = _padded_frame()
    planes = [rng.integers(0, 256, p.shape, dtype=np.uint8) for p in plane_arrays(out)]
    matrix = np.array([[1.07, 0.02, -9.3], [-0.02, 1.07, -4.1], [0, 0, 1]])
    warp_planes(planes, matrix, plane_arrays(out))
    chroma = _LUMA_TO_CHROMA @ matrix @ _CHROMA_TO_LUMA
    for index, (src, written) in enumerate(zip(planes, plane_arrays(out), strict=True)):
        expected = cv2.warpAffine(
            src,
            (matrix if index == 0 else chroma)[:2],
            (src.shape[1], src.shape[0]),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        np.testing.assert_array_equal(written, expected)


def test_identity_warp_copies_the_planes():
    rng = np.random.default_rng(1)
    out = _padded_frame()
    planes = [rng.integers(0, 256, p.shape, dtype=np.uint8) for p in plane_arrays(out)]
    warp_planes(planes, np.eye(3), plane_arrays(out))
    for src, written in zip(planes, plane_arrays(out), strict=True):
        np.testing.assert_array_equal(written, src)


def test_encoder_uses_frame_threads_like_the_ffmpeg_command(tmp_path):
    rate = Fraction(30)
    info = VideoInfo(
        path="memory",
        width=320,
        height=240,
        sample_aspect=Fraction(1),
        rotation=0,
        nominal_fps=rate,
        average_fps=rate,
        variable_frame_rate=False,
        frame_count=10,
        duration_s=10 / 30,
        first_pts_s=0.0,
        time_base=Fraction(1, 30),
        codec="h264",
        pixel_format="yuv420p",
    )
    writer = VideoWriter(tmp_path / "out.mp4", info=info, width=320, height=240)
    for index in range(10):
        frame = av.VideoFrame(320, 240, "yuv420p")
        for plane in plane_arrays(frame):
            plane[:] = 16 * index
        frame.pts = index
        writer.write(frame)
    written = writer.finish().read_bytes()
    # x264 records its settings in the stream; PyAV's default would be sliced_threads=1
    assert b"sliced_threads=0" in written
    assert b"crf=18.0" in written


def test_scripts_do_not_import_the_progress_bar_library():
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE")}
    code = (
        "import sys\n"
        "from povkit.progress import progress\n"
        "with progress('work', 3) as tick:\n"
        "    tick()\n"
        "print('rich' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"
