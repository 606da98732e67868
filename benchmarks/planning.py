"""Planning time: how long ``plan_stabilization`` takes on real camera paths, short and long.

For every clip in ``$POVKIT_TEST_DATA/stabilize`` (and the GoPro Karma clip in ``gyro/``) the
picture's motion is measured once; the default plan is then timed on that path and on the path
repeated ``--tile`` times end to end (a long clip with the same motion), best of ``--repeat``.
Planning is pure NumPy/SciPy, so this isolates it from decoding and encoding.

    .venv/bin/python benchmarks/planning.py [--tile 6] [--repeat 2] [--clips forest_walk ...]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from povkit.api import measure_motion
from povkit.geometry import path_from_steps
from povkit.plan.stabilize import plan_stabilization
from povkit.types import CameraPath, FrameTimes

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("POVKIT_TEST_DATA", REPO.parent / "shared" / "data"))
EXTRA = ("gyro/gopro_karma_drone.mp4",)


def tiled(path: CameraPath, times: int) -> CameraPath:
    """``path``'s frame-to-frame motion played ``times`` times in a row, one frame step apart."""
    steps = np.concatenate([path.steps] * times)
    pts = path.times.pts - path.times.pts[0]
    step = int(np.median(np.diff(pts))) if len(pts) > 1 else 1
    span = int(pts[-1]) + step
    all_pts = np.concatenate([pts + k * span for k in range(times)])
    return replace(
        path,
        times=FrameTimes(all_pts, path.times.time_base),
        params=path_from_steps(steps) + path.params[0],
        valid=np.tile(path.valid, times),
        still_share=None if path.still_share is None else np.tile(path.still_share, times),
    )


def best_time(path: CameraPath, repeat: int) -> tuple[float, tuple[str, ...]]:
    seconds, notes = float("inf"), ()
    for _ in range(repeat):
        started = time.perf_counter()
        plan = plan_stabilization(path)
        seconds, notes = min(seconds, time.perf_counter() - started), plan.notes
    return seconds, notes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tile", type=int, default=6, help="repeats of the path (6)")
    parser.add_argument("--repeat", type=int, default=2, help="timings, best counts (2)")
    parser.add_argument("--clips", nargs="*", help="clip stems (default: all)")
    args = parser.parse_args()
    clips = sorted((DATA / "stabilize").glob("*.mp4")) + [DATA / e for e in EXTRA]
    clips = [c for c in clips if c.exists() and (not args.clips or c.stem in args.clips)]
    if not clips:
        sys.exit(f"no clips under {DATA} (set POVKIT_TEST_DATA)")
    print(f"{'clip':32} {'frames':>7} {'plan s':>7} {'tiled frames':>13} {'tiled s':>8}  notes")
    for clip in clips:
        path = measure_motion(clip)
        seconds, notes = best_time(path, args.repeat)
        long = tiled(path, args.tile)
        long_seconds, _ = best_time(long, args.repeat)
        print(
            f"{clip.name:32} {len(path):>7} {seconds:>7.3f} {len(long):>13} {long_seconds:>8.3f}"
            f"  {'; '.join(notes)}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
