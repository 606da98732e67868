"""Synthetic continuous takes with whip pans at a chosen speed: footage that must show no cut.

Built on the virtual head camera (:mod:`povkit.synth`): the walk gets whip pans whose peak
yaw rate is exactly ``peak_deg_s``, and each frame averages ``blur`` renders spread over the
frame interval, the motion blur a real whip pan has at a full-open shutter.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np

from povkit.io.writer import encode_frames
from povkit.synth import SyntheticCamera, head_camera_motion

QUINTIC_PEAK = 1.875
"""Peak speed of the quintic smooth step over its mean speed (change / duration)."""


def whip_pan_clip(
    path: str | os.PathLike,
    *,
    peak_deg_s: float,
    seconds: float = 4.0,
    fps: int = 30,
    width: int = 320,
    height: int = 180,
    blur: int = 4,
    seed: int = 0,
) -> Path:
    """Write a walk with whip pans (0.2 s each, left, right, left) peaking at ``peak_deg_s``."""
    if peak_deg_s <= 0 or seconds < 3:
        raise ValueError("whip pans need a positive speed and a clip of at least 3 s")
    if blur < 1:
        raise ValueError(f"blur is a number of renders per frame, at least 1, got {blur}")
    base = head_camera_motion(
        seconds=seconds,
        fps=fps * blur,
        seed=seed,
        width=width,
        height=height,
        head_turns=0,
        whip_pans=0,
    )
    duration = 0.2
    change = np.radians(peak_deg_s) * duration / QUINTIC_PEAK
    starts = np.linspace(0.8, seconds - 0.8, 3)
    turns = np.column_stack([starts, np.full(3, duration), change * np.array([1, -1, 1])])
    motion = replace(base.motion, turns=turns)
    truth = replace(
        base,
        motion=motion,
        actual=motion.pose(base.times),
        intentional=motion.pose(base.times, shake=False),
    )
    camera = SyntheticCamera(truth, seed=seed)

    def frames():
        for first in range(0, len(truth) - blur + 1, blur):
            total = sum(camera.render(first + k).astype(np.float32) for k in range(blur))
            yield (total / blur).astype(np.uint8)

    return encode_frames(path, frames(), fps=fps)
