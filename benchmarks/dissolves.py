"""Cross-dissolve benchmark: 20 synthetic dissolves (10-30 frames) between real takes of
`$POVKIT_TEST_DATA/stabilize`, and synthetic whip pans of 100-1000 deg/s that must show none.

Prints each clip's boundaries, dissolve recall within 3 frames of the truth (the first frame
at least half the new shot), the boundary error, and any boundary on the whip pans.
Run: `.venv/bin/python benchmarks/dissolves.py [--out DIR]` (clips are kept in DIR).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import cv2
import numpy as np

from povkit.cuts import detect_shots
from povkit.cuts.whip_clips import whip_pan_clip
from povkit.io.video import VideoReader
from povkit.io.writer import encode_frames

REPO = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("POVKIT_TEST_DATA", REPO.parent / "shared" / "data")) / "stabilize"
TAKES = ["forest_walk.mp4", "park_walk.mp4", "cockatoo_phone.mp4", "dashcam_highway.mp4"]
TAKES += ["carphone.mp4", "static_street.avi", "static_bunny.mp4"]
SIZE = (320, 180)
LEAD, TAIL = 40, 30


def _frames(name: str) -> list[np.ndarray]:
    with VideoReader(DATA / name) as reader:
        return [
            cv2.resize(f.to_ndarray(format="rgb24"), SIZE, interpolation=cv2.INTER_AREA)
            for f in reader.frames()
        ]


def build(out: Path, count: int = 20) -> dict:
    """Write ``count`` dissolve clips into ``out`` and return their truth."""
    takes = {name: _frames(name) for name in TAKES}
    rng = np.random.default_rng(1)
    truth = {}
    for i in range(count):
        a, b = rng.choice(TAKES, 2, replace=i % 4 == 0)
        length = int(rng.integers(10, 31))
        n = LEAD + length + TAIL
        first = int(rng.integers(0, len(takes[a]) - n))
        second = int(rng.integers(0, len(takes[b]) - n))
        if a == b and abs(first - second) < n:
            second = (first + n) % (len(takes[b]) - n)
        shot_a, shot_b = takes[a][first : first + n], takes[b][second : second + n]
        weights = (np.arange(length) + 1) / (length + 1)
        blend = [
            ((1 - w) * shot_a[LEAD + k].astype(np.float32) + w * shot_b[LEAD + k]).astype(np.uint8)
            for k, w in enumerate(weights)
        ]
        name = f"dissolve{i:02d}.mp4"
        encode_frames(out / name, [*shot_a[:LEAD], *blend, *shot_b[LEAD + length :]], fps=30)
        crossing = LEAD + int(np.argmax(weights >= 0.5))
        truth[name] = {"from": str(a), "to": str(b), "length": length, "crossing": crossing}
    return truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("dissolve-bench"))
    out = parser.parse_args().out
    out.mkdir(exist_ok=True)
    truth = build(out)
    errors, other = [], 0
    for name, t in truth.items():
        found = detect_shots(out / name).boundaries
        near = [b for b in found if b.kind == "dissolve" and abs(b.frame - t["crossing"]) <= 3]
        other += len(found) - len(near[:1])
        if near:
            errors.append(near[0].frame - t["crossing"])
        print(name, t, [(b.frame, b.kind, b.span) for b in found])
    false = 0
    for speed in (100, 200, 300, 500, 700, 1000):
        for blur in (1, 4):
            for seed in (0, 1):
                clip = out / f"whip{speed}_{blur}_{seed}.mp4"
                whip_pan_clip(clip, peak_deg_s=speed, blur=blur, seconds=3.0, seed=seed)
                false += len(detect_shots(clip).boundaries)
    print(
        f"dissolves found {len(errors)}/{len(truth)}, mean |error| "
        f"{np.mean(np.abs(errors)) if errors else float('nan'):.2f} frames, max "
        f"{max(map(abs, errors), default=0)}; other boundaries {other}; whip-pan boundaries {false}"
    )
    print(json.dumps({"found": len(errors), "of": len(truth), "errors": errors}))


if __name__ == "__main__":
    main()
