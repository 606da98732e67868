"""The streaming render: decode, warp and encode overlapped, with a few frames in flight.

The main thread demuxes, decodes and encodes (FFmpeg runs its own threads for both); warps run
on a small pool (OpenCV releases the GIL). Audio packets are copied as they come. The output
is written to a temporary name and renamed only when complete; on any failure it is removed.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator

import av
import numpy as np

from povkit.frame_pool import frame_pool, in_order
from povkit.io.video import VideoReader, plane_arrays, yuv420_planes
from povkit.io.writer import VideoWriter
from povkit.lens import UndistortedView
from povkit.render.warp import RowMotion, plan_matrices, plan_row_motions, warp_planes
from povkit.types import VideoInfo, WarpPlan


def _warped(
    frame: av.VideoFrame,
    matrix: np.ndarray,
    rows: RowMotion | None,
    view: UndistortedView | None,
    width: int,
    height: int,
) -> av.VideoFrame:
    out = av.VideoFrame(width, height, "yuv420p")
    warp_planes(yuv420_planes(frame), matrix, plane_arrays(out), rows, view)
    out.pts, out.duration = frame.pts, frame.duration
    out.time_base = frame.time_base
    return out


def render_plan(
    input_path: str | os.PathLike,
    output_path: str | os.PathLike,
    plan: WarpPlan,
    *,
    crf: float = 18,
    preset: str = "veryfast",
    workers: int = 2,
    info: VideoInfo | None = None,
    on_frame: Callable[[], None] | None = None,
    view: UndistortedView | None = None,
    report_damage: bool = False,
) -> int:
    """Apply ``plan`` to every frame of ``input_path`` and encode to ``output_path``; with a
    ``view``, the plan is in that undistorted view's pixels and the lens is undone too.

    Returns the number of frames written. Frames beyond the plan (which a damaged file can
    yield on a second read) reuse the plan's last warp. ``report_damage`` warns, in one line,
    of what the file lost, where no earlier pass over every frame has.
    """
    with VideoReader(input_path, info) as reader:
        info = reader.info
        width, height = info.width - info.width % 2, info.height - info.height % 2
        matrices = plan_matrices(plan, info)
        row_motions = plan_row_motions(plan, info)
        writer = VideoWriter(
            output_path,
            info=info,
            width=width,
            height=height,
            audio_template=reader.audio,
            crf=crf,
            preset=preset,
        )

        def warps() -> Iterator[Callable[[], av.VideoFrame]]:
            """One warp per frame (audio packets are copied as the demuxer reaches them)."""
            row_of = PlanRows(plan)
            for item in reader.frames_and_audio():
                if isinstance(item, av.Packet):
                    writer.copy_audio(item)
                    continue
                index = row_of(item.pts)
                rows = None if row_motions is None else row_motions[index]
                yield functools.partial(_warped, item, matrices[index], rows, view, width, height)

        written = 0
        try:
            with frame_pool(workers) as pool:
                for frame in in_order(pool, warps(), ahead=2 * workers):
                    writer.write(frame)
                    written += 1
                    if on_frame:
                        on_frame()
            writer.finish()
        except BaseException:
            writer.abort()
            raise
        if report_damage:
            reader.report.warn_if_damaged(info)
    return written


class PlanRows:
    """Which row of ``plan`` each decoded frame takes: the one planned for its PTS where the
    plan keeps them, else the row after the previous frame's; the last row past the plan's end
    (a second read of a damaged file can yield more frames)."""

    def __init__(self, plan: WarpPlan) -> None:
        self._times = plan.frame_times
        self._last = -1
        self._rows = len(plan)

    def __call__(self, pts: int | None) -> int:
        row = self._last + 1
        if self._times is not None and pts is not None:
            planned = int(self._times.rows_of([pts])[0])
            row = planned if planned >= 0 else row
        self._last = row
        return min(row, self._rows - 1)
