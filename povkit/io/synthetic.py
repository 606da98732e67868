"""Write the virtual head camera's footage to a file, with its ground truth beside it."""

from __future__ import annotations

import os
from pathlib import Path

from povkit.io.writer import encode_frames
from povkit.synth import SyntheticCamera, SynthTruth, head_camera_motion


def truth_path(video: str | os.PathLike) -> Path:
    """Where a synthetic clip's ground truth lives: ``clip.mp4`` -> ``clip.truth.json``."""
    video = Path(video)
    return video.with_name(f"{video.stem}.truth.json")


def write_synthetic_clip(
    path: str | os.PathLike,
    *,
    seed: int = 0,
    crf: float = 16,
    preset: str = "veryfast",
    **motion,
) -> SynthTruth:
    """Render a shaky first-person walk (see ``synth.head_camera_motion`` for ``motion``) to
    ``path`` with a beep every second as audio, and save the truth as ``*.truth.json``."""
    truth = head_camera_motion(seed=seed, **motion)
    camera = SyntheticCamera(truth, seed=seed)
    encode_frames(
        path, camera.frames(), fps=truth.fps, audio=camera.audio(), crf=crf, preset=preset
    )
    truth.save(truth_path(path))
    return truth
