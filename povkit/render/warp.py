"""Per-frame warps in pixel coordinates, applied to 4:2:0 planes without colour conversion."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from povkit.geometry import frame_center, similarity_matrices
from povkit.lens import UndistortedView
from povkit.types import VideoInfo, WarpPlan

# 4:2:0 chroma: sample i sits between luma samples 2i and 2i+1.
_LUMA_TO_CHROMA = np.array([[0.5, 0, -0.25], [0, 0.5, -0.25], [0, 0, 1]])
_CHROMA_TO_LUMA = np.linalg.inv(_LUMA_TO_CHROMA)


def plan_matrices(plan: WarpPlan, info: VideoInfo) -> np.ndarray:
    """(N, 3, 3) matrices mapping input pixel coordinates to output pixel coordinates.

    The plan works in display (square) pixels about the frame centre; the sample aspect
    ratio is converted here, so non-square pixels are warped correctly.
    """
    sar = float(info.sample_aspect)
    center = frame_center(plan.frame_size)
    zoom = np.zeros((len(plan), 4))
    zoom[:, 3] = np.log(plan.zoom)
    in_display = similarity_matrices(zoom, center) @ similarity_matrices(plan.corrections, center)
    return np.diag([1 / sar, 1.0, 1.0]) @ in_display @ np.diag([sar, 1.0, 1.0])


@dataclass(frozen=True)
class RowMotion:
    """One frame's rolling-shutter motion, for a per-row warp: row y was read at ``y / height``
    of the readout, when the content had moved from where the middle row saw it by ``readout``
    (K, 3) (dx, dy, angle about ``center``, display pixels) sampled at K evenly spaced rows,
    linear in between; ``sar`` is the sample aspect ratio."""

    readout: np.ndarray
    center: tuple[float, float]
    height: float
    sar: float

    def source(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where the middle-row-time points (x, y) (input pixels) were read in the frame.

        Small-angle model (shift plus ``angle`` times the lever about the centre); the row is
        taken at the point's middle-row position, then refined once at the row it lands on.
        """
        cx, cy = self.center
        xd = x * self.sar
        knots = np.linspace(0.0, self.height, len(self.readout))
        row = y
        for _ in range(2):
            dx, dy, angle = (np.interp(row, knots, column) for column in self.readout.T)
            sx = xd + dx - angle * (y - cy)
            row = y + dy + angle * (xd - cx)
        return sx / self.sar, row


def plan_row_motions(plan: WarpPlan, info: VideoInfo) -> list[RowMotion] | None:
    """Per frame, the rolling-shutter motion to correct, or None when the plan has none."""
    if plan.rolling_shutter is None:
        return None
    center, sar = frame_center(plan.frame_size), float(info.sample_aspect)
    return [RowMotion(row, center, plan.frame_size[1], sar) for row in plan.rolling_shutter]


def is_identity(matrix: np.ndarray) -> bool:
    return bool(np.abs(matrix - np.eye(3)).max() < 1e-9)


def warp_planes(
    planes: list[np.ndarray],
    matrix: np.ndarray,
    out_planes: list[np.ndarray],
    rows: RowMotion | None = None,
    view: UndistortedView | None = None,
) -> None:
    """Warp Y, U, V planes by ``matrix`` (luma pixels) into ``out_planes`` (same layout),
    with each row first moved back to the middle row's time where ``rows`` is given, and the
    lens's distortion taken out where ``view`` is (the warp then works in the view's pixels)."""
    if rows is not None or view is not None:
        for src, dst, maps in zip(
            planes, out_planes, source_maps(matrix, out_planes, rows, view), strict=True
        ):
            cv2.remap(src, *maps, cv2.INTER_LINEAR, dst=dst, borderMode=cv2.BORDER_REPLICATE)
        return
    if is_identity(matrix):
        for src, dst in zip(planes, out_planes, strict=True):
            dst[:] = src[: dst.shape[0], : dst.shape[1]]
        return
    chroma = (_LUMA_TO_CHROMA @ matrix @ _CHROMA_TO_LUMA)[:2]
    for index, (src, dst) in enumerate(zip(planes, out_planes, strict=True)):
        # written in place: ``dst`` may be a padded view of a frame's plane, which OpenCV fills
        # through its row stride without an intermediate image
        cv2.warpAffine(
            src,
            matrix[:2] if index == 0 else chroma,
            (dst.shape[1], dst.shape[0]),
            dst=dst,
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )


MAP_STEP = 8
"""Per-pixel warps compute their source maps every this many pixels and interpolate linearly
in between (the maps are smooth: an affine map, a piecewise-linear row motion, a lens's
distortion), which makes a 1080p frame's maps some 20 times cheaper than computing every
pixel."""


def source_maps(
    matrix: np.ndarray,
    out_planes: list[np.ndarray],
    rows: RowMotion | None,
    view: UndistortedView | None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per plane, the (x, y) ``cv2.remap`` maps of a per-pixel warp: each output pixel goes
    back through ``matrix`` to its middle-row-time position, then to where its row read it
    (``rows``), then from the undistorted view to where the lens put it (``view``)."""
    inverse = np.linalg.inv(matrix)
    maps = []
    for index, dst in enumerate(out_planes):
        to_luma = np.eye(3) if index == 0 else _CHROMA_TO_LUMA
        out_y, out_x, crop = _coarse_grid(dst.shape)
        back = inverse @ to_luma
        x = back[0, 0] * out_x + back[0, 1] * out_y + back[0, 2]
        y = back[1, 0] * out_x + back[1, 1] * out_y + back[1, 2]
        if rows is not None:
            x, y = rows.source(x, y)
        if view is not None:
            x, y = view.source(x, y)
        if index:
            x, y = 0.5 * x - 0.25, 0.5 * y - 0.25
        maps.append(tuple(_upsampled(v.astype(np.float32), crop) for v in (x, y)))
    return maps


def _coarse_grid(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, tuple[slice, slice]]:
    """Pixel positions every ``MAP_STEP`` px, one beyond each edge, placed so that
    ``cv2.resize`` by ``MAP_STEP`` lands each on its own pixel; and the crop of that resize
    which is the plane (so edge pixels are interpolated, never clamped)."""
    step = MAP_STEP
    counts = [-(-size // step) + 2 for size in shape]
    ys, xs = ((np.arange(count) - 1) * step + (step - 1) / 2 for count in counts)
    grid_y, grid_x = np.meshgrid(ys, xs, indexing="ij")
    crop = (slice(step, step + shape[0]), slice(step, step + shape[1]))
    return grid_y, grid_x, crop


def _upsampled(coarse: np.ndarray, crop: tuple[slice, slice]) -> np.ndarray:
    size = (coarse.shape[1] * MAP_STEP, coarse.shape[0] * MAP_STEP)
    return np.ascontiguousarray(cv2.resize(coarse, size, interpolation=cv2.INTER_LINEAR)[crop])
