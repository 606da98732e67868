"""Where does the gyro line up with the picture? A check that shares no code with povkit's sync.

The data README gives the Karma clip's gyro a lead of about +60 ms over the picture, measured by
cross-correlating gyro rate against image motion. povkit's sync finds -8 to -16 ms. To tell
which is right without trusting povkit's own tracker, parser or sync, this script measures the
picture's horizontal motion with OpenCV's dense Farneback flow (median over the frame, on a
half-size grey copy), reads the gyro from the data's independent ``reference_csv`` export,
integrates each gyro axis over every frame interval shifted by a trial lag (-400..+400 ms, 1 ms
steps), and prints, per axis and per moving-average high-pass (none, 31 and 9 frames), the lag
of the strongest correlation, the lags whose correlation is within 0.01 of it, and the
correlation at the README's lead taken either way round (+60 and -60 ms).

A lag L pairs the frame step between video times t0 and t1 with the gyro's turn between
t0 + L and t1 + L: L is povkit's ``gyro_offset_ms`` convention. Slow drone or gimbal turns make
the unfiltered correlation a wide plateau; the high-passed one compares the shake, which pins
the lag down.

    .venv/bin/python benchmarks/gyro_lead.py                     # gopro_karma_drone
    .venv/bin/python benchmarks/gyro_lead.py --clip gopro_max_walk --csv max-heromode
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import av
import cv2
import numpy as np
from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("POVKIT_TEST_DATA", REPO.parent / "shared" / "data")) / "gyro"
LAGS_MS = np.arange(-400, 401)
HIGH_PASSES = (None, 31, 9)
README_LEAD_MS = 60
FLOW_WIDTH = 427


def horizontal_flow(clip: Path) -> tuple[np.ndarray, np.ndarray]:
    """Frame times (s) and each frame step's median horizontal flow (pixels of the frame)."""
    times, steps, previous = [], [], None
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            grey = frame.to_ndarray(format="gray")
            scale = grey.shape[1] / FLOW_WIDTH
            small = cv2.resize(
                grey, (FLOW_WIDTH, round(grey.shape[0] / scale)), interpolation=cv2.INTER_AREA
            )
            times.append(float(frame.pts * stream.time_base))
            if previous is not None:
                flow = cv2.calcOpticalFlowFarneback(previous, small, None, 0.5, 4, 21, 3, 5, 1.1, 0)
                steps.append(float(np.median(flow[..., 0])) * scale)
            previous = small
    return np.array(times), np.array(steps)


def high_pass(series: np.ndarray, window: int | None) -> np.ndarray:
    """``series`` less its centred moving average over ``window`` samples (edges repeated)."""
    if window is None:
        return series
    padded = np.pad(series, window // 2, mode="edge")
    return series - np.convolve(padded, np.ones(window) / window, mode="valid")


def correlations(
    times: np.ndarray, steps: np.ndarray, gyro: np.ndarray, axis: int, window: int | None
) -> np.ndarray:
    """Correlation of the picture's steps with the gyro's turn over each step, per lag."""
    t, rate = gyro[:, 0], gyro[:, 1 + axis]
    turned = np.concatenate([[0.0], np.cumsum(0.5 * (rate[1:] + rate[:-1]) * np.diff(t))])
    picture = high_pass(steps, window)
    out = []
    for lag in LAGS_MS / 1000:
        ends = np.interp(times + lag, t, turned)
        out.append(np.corrcoef(picture, high_pass(np.diff(ends), window))[0, 1])
    return np.array(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clip", default="gopro_karma_drone", help="clip name in the gyro folder")
    parser.add_argument("--csv", default="karma", help="reference_csv prefix (NAME.GYRO.csv)")
    args = parser.parse_args()
    clip = DATA / f"{args.clip}.mp4"
    reference = DATA / "reference_csv" / f"{args.csv}.GYRO.csv"
    if not clip.exists() or not reference.exists():
        raise SystemExit(f"gyro_lead: {clip} or {reference} not found; set POVKIT_TEST_DATA")
    times, steps = horizontal_flow(clip)
    gyro = np.loadtxt(reference, delimiter=",", skiprows=1)
    table = Table(title=f"{clip.name}: Farneback horizontal flow against {reference.name}")
    for column in ("axis", "high-pass", "peak |r|", "at lag ms", "within 0.01 of peak"):
        table.add_column(column)
    leads = (README_LEAD_MS, -README_LEAD_MS)
    for lead in leads:
        table.add_column(f"r at {lead:+d} ms")
    for axis in range(3):
        for window in HIGH_PASSES:
            r = correlations(times, steps, gyro, axis, window)
            best = int(np.argmax(np.abs(r)))
            near = LAGS_MS[np.abs(r) >= abs(r[best]) - 0.01]
            table.add_row(
                str(axis),
                "none" if window is None else f"{window} frames",
                f"{abs(r[best]):.3f}",
                f"{LAGS_MS[best]:+d}",
                f"{near.min():+d} .. {near.max():+d}",
                *(f"{r[np.searchsorted(LAGS_MS, lead)]:+.3f}" for lead in leads),
            )
    Console(width=140).print(table)


if __name__ == "__main__":
    main()
