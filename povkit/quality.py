"""Score a stabilized file against its input: decode both in step and hand frames to metrics."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import cv2
import numpy as np

from povkit.errors import InputError, log
from povkit.io.video import VideoReader, luma
from povkit.metrics import (
    intentional_lag_frames,
    output_pose_deg,
    pose_from_content_path,
    residual_shake_deg,
    stabilization_scores,
)
from povkit.progress import progress
from povkit.types import VideoInfo

if TYPE_CHECKING:
    from povkit.synth import SynthTruth

METRICS_WIDTH = 480
"""Frames are scored at most this wide: the metrics are scale-free and SIFT is costly."""
ROLL_DISAGREEMENT_WARN_DEG = 45.0
"""Warn when the rotation score's roll path strays this far from the matched points' turning:
0.1-4 degrees on handheld clips here, 12-20 on long walks, 125 on a highway drive."""


def scoring_scale(info: VideoInfo) -> float:
    """How much frames of ``info``'s display size are shrunk to be scored."""
    return min(1.0, METRICS_WIDTH / info.display_width)


def scoring_size(info: VideoInfo) -> tuple[int, int]:
    """The (width, height) frames are scored at: at most ``METRICS_WIDTH``, display aspect."""
    scale = scoring_scale(info)
    return round(info.display_width * scale), round(info.height * scale)


def scoring_frames(
    reader: VideoReader, size: tuple[int, int], tick: Callable[[], None] | None = None
) -> Iterator[np.ndarray]:
    """The grey frames ``reader`` decodes, at ``size`` (``scoring_size``)."""
    for frame in reader.frames():
        if tick:
            tick()
        yield cv2.resize(luma(frame), size, interpolation=cv2.INTER_AREA)


def measure_quality(
    original: str | os.PathLike,
    stabilized: str | os.PathLike,
    *,
    truth: str | os.PathLike | None = None,
) -> dict:
    """Cropping, distortion and stability (Liu et al. 2013) of ``stabilized`` against
    ``original``; with a synthetic clip's ``truth`` file also residual shake and turn lag."""
    known = None if truth is None else _load_truth(truth)
    with VideoReader(original) as before, VideoReader(stabilized) as after:
        info = before.info
        scale, size = scoring_scale(info), scoring_size(info)
        with progress("scoring", info.frame_count) as tick:
            try:
                scores = stabilization_scores(
                    scoring_frames(before, size, tick), scoring_frames(after, size)
                )
            except ValueError as exc:
                raise InputError(
                    f"{stabilized}: cannot be compared with {original} ({exc}); "
                    "is it a stabilized copy of it?"
                ) from None
    if scores.failed_frames == scores.frames:
        raise InputError(
            f"{stabilized}: none of its frames matches its frame of {original}; "
            "is it a stabilized copy of it?"
        )
    if scores.failed_frames > scores.frames / 2:
        log.warning(
            "%d of %d frames of %s could not be matched with %s; the scores rest on the rest",
            scores.failed_frames,
            scores.frames,
            stabilized,
            original,
        )
    if scores.roll_disagreement_deg > ROLL_DISAGREEMENT_WARN_DEG:
        log.warning(
            "the rotation score reads up to %.0f degrees more roll than the matched points of "
            "%s turned through (homographies fitted to one plane, such as a road); "
            "treat stability_rotation with care",
            scores.roll_disagreement_deg,
            stabilized,
        )
    result = scores.to_dict()
    if known is not None:
        result.update(_truth_scores(scores.warps, known, truth, scale=scale, size=size))
    return result


def _load_truth(path: str | os.PathLike) -> SynthTruth:
    """A synthetic clip's ground truth, or one line saying why ``path`` is not one."""
    from povkit.synth import SynthTruth

    try:
        return SynthTruth.load(path)
    except FileNotFoundError:
        raise InputError(f"{path}: no such truth file") from None
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise InputError(
            f"{path}: not a synthetic ground-truth file ({type(exc).__name__}: {exc}); "
            "povkit demo writes one beside its shaky clip (*.truth.json)"
        ) from None


def _truth_scores(warps: np.ndarray, truth: SynthTruth, truth_path, *, scale: float, size) -> dict:
    if len(truth) != len(warps):
        raise InputError(
            f"{truth_path}: describes {len(truth)} frames but the videos have {len(warps)}"
        )
    focal = truth.focal_px * scale
    actual = truth.content_path("actual") * [scale, scale, 1.0]
    intended = pose_from_content_path(
        truth.content_path("intentional") * [scale, scale, 1.0], focal_px=focal
    )
    before = pose_from_content_path(actual, focal_px=focal)
    after = output_pose_deg(warps, actual, focal_px=focal, frame_size=size)
    fps = float(truth.fps)
    shake_in = residual_shake_deg(before, intended, fps)
    shake_out = residual_shake_deg(after, intended, fps)
    return {
        "shake_in_deg": shake_in,
        "shake_out_deg": shake_out,
        "shake_left": shake_out / shake_in if shake_in > 0 else float("nan"),
        "lag_frames": intentional_lag_frames(after, intended),
    }
