"""Side-by-side comparison clips, so a person can see what stabilization did."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from povkit.io.video import VideoReader
from povkit.io.writer import encode_frames


def _labelled(frame, label: str, size: tuple[int, int]) -> np.ndarray:
    rgb = cv2.resize(frame.to_ndarray(format="rgb24"), size, interpolation=cv2.INTER_AREA)
    for colour, thickness in (((0, 0, 0), 4), ((255, 255, 255), 2)):  # outlined text
        cv2.putText(
            rgb, label, (12, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.8, colour, thickness, cv2.LINE_AA
        )
    return rgb


def side_by_side(
    left: str | os.PathLike,
    right: str | os.PathLike,
    output: str | os.PathLike,
    *,
    labels: tuple[str, str] = ("input", "stabilized"),
    height: int = 360,
) -> Path:
    """Write ``left`` and ``right`` next to each other, each scaled to ``height``, labelled."""
    with VideoReader(left) as a, VideoReader(right) as b:
        info = a.info
        width = round(info.display_width * height / info.height) // 2 * 2
        size = (width, height)

        def pairs() -> Iterator[np.ndarray]:
            for fa, fb in zip(a.frames(), b.frames(), strict=False):
                yield np.hstack([_labelled(fa, labels[0], size), _labelled(fb, labels[1], size)])

        return encode_frames(output, pairs(), fps=info.average_fps)
