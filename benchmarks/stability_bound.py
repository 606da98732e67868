"""How stable can any stabilizer score on a clip at a given cropping? An upper bound.

Liu et al.'s stability (``povkit metrics``) reads the output's path from SIFT homographies
between its consecutive frames and scores the share of the path's spectral energy in its five
lowest bins. A stabilizer moves each frame by at most what its crop leaves: at zoom z, a shift of
``(1 - 1/z) / 2`` of the frame's width (x) or height (y), or the roll that z alone covers. This
script measures the input's path the metric's way (its own SIFT steps, summed), then, per axis
and independently (more room than any real crop gives, since a real frame must fit all three
at once), finds the correction within that room that leaves the least energy above the fifth
bin (bounded least squares, ``scipy.optimize.lsq_linear``), and prints the scores that path
gets. No plan with one static zoom can beat it at that cropping, as far as the output's steps are
the input's plus the corrections' (exact for shifts, to first order for roll); a zoom that varies
could give some frames more room at the same mean cropping.

    .venv/bin/python benchmarks/stability_bound.py --clips dashcam_highway desk_short \\
        --cropping 0.991 0.978
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
from scipy.optimize import lsq_linear

from povkit.io.video import VideoReader
from povkit.metrics import _low_frequency_ratio, _Matcher, _unfolded, steps_path
from povkit.plan.crop import required_zoom
from povkit.quality import scoring_frames, scoring_size

REPO = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("POVKIT_TEST_DATA", REPO.parent / "shared" / "data")) / "stabilize"
LOW_BINS = 5


def metric_path(clip: Path) -> tuple[np.ndarray, tuple[int, int]]:
    """The input's (x, y, roll) path as ``povkit metrics`` reads an output's: summed linearised
    SIFT steps between consecutive frames, failed steps interpolated; and the scored size."""
    with VideoReader(clip) as reader:
        size = scoring_size(reader.info)
        matcher = _Matcher(nfeatures=500, ratio=0.7, ransac_threshold_px=2.0, min_inliers=8)
        previous, steps = None, []
        for grey in scoring_frames(reader, size):
            features = matcher.features(grey)
            if previous is not None:
                step = _unfolded(matcher.homography(previous, features), grey.shape)
                steps.append(np.full((3, 3), np.nan) if step is None else step)
            previous = features
    stack = np.stack(steps)
    ok = np.isfinite(stack).all(axis=(1, 2))
    return steps_path(stack, ok, ((size[0] - 1) / 2, (size[1] - 1) / 2)), size


def high_bins(n: int) -> np.ndarray:
    """Rows that take a series of ``n`` samples to its Fourier terms above bin 5 (cos, sin)."""
    bins = np.arange(LOW_BINS + 1, (n - 1) // 2 + 1)
    phase = 2 * np.pi * np.outer(bins, np.arange(n)) / n
    return np.vstack([np.cos(phase), np.sin(phase)])


def steadiest(series: np.ndarray, room: float) -> np.ndarray:
    """``series`` moved by at most ``room`` per sample so that as little energy as possible is
    left above the fifth bin."""
    terms = high_bins(len(series))
    method = "bvls" if len(series) < 300 else "trf"
    fit = lsq_linear(terms, -terms @ series, bounds=(-room, room), method=method, max_iter=2000)
    return series + fit.x


def roll_room(zoom: float, size: tuple[int, int]) -> float:
    """The largest roll (radians) that ``zoom`` covers with no shift."""
    low, high = 0.0, 0.3
    for _ in range(40):
        middle = (low + high) / 2
        fits = required_zoom(np.array([[0.0, 0.0, middle]]), size)[0] <= zoom
        low, high = (middle, high) if fits else (low, middle)
    return low


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", nargs="+", required=True, help="names in stabilize/")
    parser.add_argument(
        "--cropping", nargs="+", type=float, required=True, help="cropping ratio per clip"
    )
    args = parser.parse_args()
    if len(args.cropping) != len(args.clips):
        parser.error("give one --cropping per clip")
    for name, cropping in zip(args.clips, args.cropping, strict=True):
        path, size = metric_path(DATA / f"{name}.mp4")
        zoom = 1 / cropping
        margin = (1 - cropping) / 2
        rooms = (margin * size[0], margin * size[1], roll_room(zoom, size))
        before = [_low_frequency_ratio(column) for column in path.T]
        after = [
            _low_frequency_ratio(steadiest(path[:, axis], room)) for axis, room in enumerate(rooms)
        ]

        def score(x: float, y: float, roll: float) -> float:
            return min((x + y) / 2, roll)

        print(
            f"{name}: {len(path)} frames, input path roll {np.degrees(np.ptp(path[:, 2])):.1f} deg"
            f" wide; input {score(*before):.3f} (x {before[0]:.3f}, y {before[1]:.3f}, roll"
            f" {before[2]:.3f}); best at cropping {cropping:.3f}: {score(*after):.3f}"
            f" (x {after[0]:.3f}, y {after[1]:.3f}, roll {after[2]:.3f})"
        )


if __name__ == "__main__":
    main()
