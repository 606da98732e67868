"""Per-frame warps in pixel coordinates, applied to 4:2:0 planes without colour conversion."""

from __future__ import annotations

import cv2
import numpy as np

from povkit.geometry import frame_center, similarity_matrices
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


def is_identity(matrix: np.ndarray) -> bool:
    return bool(np.abs(matrix - np.eye(3)).max() < 1e-9)


def warp_planes(planes: list[np.ndarray], matrix: np.ndarray, out_planes: list[np.ndarray]) -> None:
    """Warp Y, U, V planes by ``matrix`` (luma pixels) into ``out_planes`` (same layout)."""
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
