"""Do shot-boundary detectors see povkit's joins? Against a naive hard cut, on pairs of takes.

For each pair of takes it makes two one-take files: ``povkit join A B`` and a naive hard cut
(A up to a random frame of its last ``--window`` seconds, then B from a random frame of its
first). Then every detector in ``DETECTORS`` runs on both with its defaults. A povkit join
counts as found when a detected cut falls within ``--slack`` frames of its transition (the
transition's first frame minus the slack up to its last frame plus the slack: wider than the
hard cut's window, so this favours the detector). A hard cut counts as found when a detected
cut falls within ``--slack`` frames of it.

Pairs: synthetic takes (different seeds: different places, each with a whip pan), real takes
made by cutting a gap of 2-15 s out of a continuous walk in ``$POVKIT_TEST_DATA/stabilize``
at random points (``--walks``), and the two GoPro walks of the same sidewalk in ``gyro/``.

The naive hard cut is the control: it must be a cut a detector can see, or the pair says
nothing about whether the join is invisible. So by default the split pairs come from
``forest_walk.mp4`` only: its frames 1-20 s apart differ by a median ContentDetector score
of 39-56 (threshold 27). ``park_walk.mp4`` is left out: it is 9.8 s of one paved path, and its
frames 1-8 s apart score a median 17-21, none above 27, so a hard cut between two of its
stretches is a jump cut that a person sees but no gap the walk can hold makes visible to a
colour-change detector (nor to povkit's, whose score of a 4 s jump there is 0.08 < 0.15).
``--walks forest_walk.mp4 park_walk.mp4`` puts it back. Joins and naive cuts are always made
from the same pairs.

Needs the ``bench`` extra (``pip install -e '.[bench]'``: PySceneDetect). Run:

    .venv/bin/python benchmarks/joins.py                   # every kind of pair
    .venv/bin/python benchmarks/joins.py --synthetic 4 --splits 3 --keep
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np

from povkit.cuts import detect_shots
from povkit.io.video import VideoReader, probe
from povkit.io.writer import encode_frames
from povkit.synth import SyntheticCamera, head_camera_motion

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("POVKIT_TEST_DATA", REPO.parent / "shared" / "data"))
WALKS = ("forest_walk.mp4",)
"""Default walks to split; see the docstring for why park_walk.mp4 is not one of them."""
GOPRO = ("gopro_hero7_hypersmooth_walk.mp4", "gopro_max_walk.mp4")
POVKIT = [sys.executable, "-m", "povkit.cli"]


def _scenedetect(detector: str) -> Callable[[Path], list[int]]:
    def detect_cuts(path: Path) -> list[int]:
        import scenedetect

        scenes = scenedetect.detect(str(path), getattr(scenedetect, detector)())
        return [scene[0].frame_num for scene in scenes[1:]]

    return detect_cuts


def _povkit_cuts(path: Path) -> list[int]:
    """povkit's own shot detector (``povkit cuts``) with its defaults: every boundary it reports,
    hard cuts and fades alike."""
    return detect_shots(path).cuts


DETECTORS: dict[str, Callable[[Path], list[int]]] = {
    "content": _scenedetect("ContentDetector"),
    "adaptive": _scenedetect("AdaptiveDetector"),
    "povkit": _povkit_cuts,
}


def rgb_frames(path: Path, first: int = 0, end: int | None = None) -> Iterator[np.ndarray]:
    """RGB frames ``first`` to ``end - 1`` of a file (decode order)."""
    with VideoReader(path) as reader:
        for index, frame in enumerate(reader.frames()):
            if end is not None and index >= end:
                break
            if index >= first:
                yield frame.to_ndarray(format="rgb24")


def frame_count(path: Path) -> int:
    with VideoReader(path) as reader:
        return sum(1 for _ in reader.frames())


SUBFRAMES = 8
"""Synthetic takes are rendered at 8x the frame rate and each frame averages the first half of
its sub-frames: a 180-degree shutter, so whip pans blur as a real camera's do."""


def blurred_synthetic_take(path: Path, seed: int, seconds: float, fps: int = 30) -> Path:
    """A 320x180 synthetic walk with one whip pan, with motion blur."""
    truth = head_camera_motion(
        seed=seed,
        seconds=seconds,
        fps=fps * SUBFRAMES,
        width=320,
        height=180,
        whip_pans=1,
        head_turns=0,
    )
    camera = SyntheticCamera(truth, seed=seed)
    open_shutter = SUBFRAMES // 2

    def frames() -> Iterator[np.ndarray]:
        for first in range(0, len(truth) - SUBFRAMES + 1, SUBFRAMES):
            stack = [camera.render(first + k).astype(np.float32) for k in range(open_shutter)]
            yield np.round(np.mean(stack, axis=0)).astype(np.uint8)

    return encode_frames(path, frames(), fps=Fraction(fps))


def synthetic_pairs(
    count: int, folder: Path, rng: random.Random
) -> Iterator[tuple[str, Path, Path]]:
    """Takes of two different synthetic places (different seeds), 4-5 s each."""
    for k in range(count):
        takes = [
            blurred_synthetic_take(
                folder / f"synthetic{k}_{side}.mp4", 100 + 2 * k + side, rng.uniform(4, 5)
            )
            for side in (0, 1)
        ]
        yield f"synthetic {k}", takes[0], takes[1]


def split_pairs(
    walk: Path, count: int, folder: Path, rng: random.Random
) -> Iterator[tuple[str, Path, Path]]:
    """Two takes of 2.5-4 s cut from one continuous walk with at least 2 s left out between
    them (as much as the walk allows, up to 15 s), at random points."""
    info = probe(walk)
    fps = float(info.average_fps)
    total = frame_count(walk)
    take = round(min(4.0, max(2.5, (total / fps - 6) / 2)) * fps)
    rate = Fraction(info.average_fps).limit_denominator(1001)
    for k in range(count):
        gap = rng.randrange(round(2 * fps), min(round(15 * fps), total - 2 * take))
        start = rng.randrange(0, total - 2 * take - gap)
        a, b = folder / f"{walk.stem}{k}_a.mp4", folder / f"{walk.stem}{k}_b.mp4"
        encode_frames(a, rgb_frames(walk, start, start + take), fps=rate)
        encode_frames(b, rgb_frames(walk, start + take + gap, start + 2 * take + gap), fps=rate)
        yield f"{walk.stem} {start}+{gap}", a, b


def gopro_pairs(count: int, folder: Path, rng: random.Random) -> Iterator[tuple[str, Path, Path]]:
    """The HERO7 walk then the MAX walk of the same sidewalk, at random 4 s stretches."""
    first, second = (DATA / "gyro" / name for name in GOPRO)
    rate = Fraction(probe(first).average_fps).limit_denominator(1001)
    take = round(4 * float(rate))
    totals = frame_count(first), frame_count(second)
    for k in range(count):
        sa, sb = rng.randrange(0, totals[0] - take), rng.randrange(0, totals[1] - take)
        a, b = folder / f"gopro{k}_a.mp4", folder / f"gopro{k}_b.mp4"
        encode_frames(a, rgb_frames(first, sa, sa + take), fps=rate)
        encode_frames(b, rgb_frames(second, sb, sb + take), fps=rate)
        yield f"gopro {sa}/{sb}", a, b


def naive_cut(a: Path, b: Path, out: Path, window_s: float, rng: random.Random) -> tuple[int, int]:
    """A then B with a hard cut at random points of the search windows: (out_a, in_b)."""
    fps = Fraction(probe(a).average_fps).limit_denominator(1001)
    window = round(window_s * float(fps))
    na, nb = frame_count(a), frame_count(b)
    out_a = rng.randrange(max(1, na - window), na)
    in_b = rng.randrange(0, min(window, nb - 1))

    def frames() -> Iterator[np.ndarray]:
        yield from rgb_frames(a, 0, out_a)
        yield from rgb_frames(b, in_b)

    encode_frames(out, frames(), fps=fps)
    return out_a, in_b


def povkit_join(a: Path, b: Path, out: Path, window_s: float) -> dict:
    done = subprocess.run(
        [*POVKIT, "join", str(a), str(b), "-o", str(out), "--window", str(window_s), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1])
    return json.loads(done.stdout)["joins"][0]


def explainer(
    raw_a: list[int], raw_b: list[int], out_a: int, in_b: int, half: int, frames: int
) -> Callable[[int], bool]:
    """Whether a cut detected at output frame ``f`` (between frames f-1 and f) is one the
    detector also reports, within a frame, on the raw take that shows there: a false cut of
    the take itself (a whip pan, say), not the join. A[:out_a] plays, then B[in_b:], with
    ``frames`` output frames from ``out_a - half`` blending both (0 for a hard cut)."""

    def explained(f: int) -> bool:
        shows_a = f - 1 < out_a - half + frames
        shows_b = f >= out_a - half
        b_frame = in_b + f - out_a
        return (shows_a and any(abs(c - f) <= 1 for c in raw_a)) or (
            shows_b and any(abs(c - b_frame) <= 1 for c in raw_b)
        )

    return explained


def found(
    cuts: list[int],
    first: int,
    last: int,
    slack: int,
    explained: Callable[[int], bool],
) -> tuple[bool, bool]:
    """(a cut in the window at all, one there that the raw takes do not explain)."""
    near = [c for c in cuts if first - slack <= c <= last + slack]
    return bool(near), any(not explained(c) for c in near)


def _mark(in_window: bool, unexplained: bool) -> str:
    return "FOUND" if unexplained else "(take)" if in_window else "no"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--synthetic", type=int, default=8, help="synthetic pairs (8)")
    parser.add_argument("--splits", type=int, default=8, help="pairs per real walk (8)")
    parser.add_argument("--gopro", type=int, default=4, help="GoPro pairs (4)")
    parser.add_argument(
        "--walks", nargs="+", default=list(WALKS), help="walks in stabilize/ to split (forest)"
    )
    parser.add_argument("--window", type=float, default=2.0, help="join search window, s (2)")
    parser.add_argument("--slack", type=int, default=2, help="frames of slack (2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", action="store_true", help="keep the clips in benchmarks/results")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    results = REPO / "benchmarks" / "results"
    results.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="joins_", dir=results if args.keep else None))
    pairs: list[Iterator] = [synthetic_pairs(args.synthetic, folder, rng)]
    for name in args.walks:
        if (DATA / "stabilize" / name).exists():
            pairs.append(split_pairs(DATA / "stabilize" / name, args.splits, folder, rng))
    if all((DATA / "gyro" / name).exists() for name in GOPRO):
        pairs.append(gopro_pairs(args.gopro, folder, rng))
    rows = []
    print(
        f"{'pair':28} {'join frames':>12} {'hard':>5} {'score':>6}  "
        + "  ".join(f"{name + ' join/hard':>22}" for name in DETECTORS)
    )
    for source in pairs:
        for label, a, b in source:
            stem = label.replace(" ", "_").replace("/", "_").replace("+", "_")
            joined, hard = folder / f"{stem}_join.mp4", folder / f"{stem}_hard.mp4"
            join = povkit_join(a, b, joined, args.window)
            out_a, in_b = naive_cut(a, b, hard, args.window, rng)
            first = join["transition_start"]
            last = first + join["transition_frames"] - 1
            half = join["output_frame"] - first
            row = {"pair": label, "join": [first, last], "style": join["style"], "hard_cut": out_a}
            row["score"] = join["score"]
            cells = []
            for name, detect in DETECTORS.items():
                raw_a, raw_b = detect(a), detect(b)
                join_cuts, hard_cuts = detect(joined), detect(hard)
                in_join = found(
                    join_cuts,
                    first,
                    last,
                    args.slack,
                    explainer(
                        raw_a,
                        raw_b,
                        join["out_frame_a"],
                        join["in_frame_b"],
                        half,
                        join["transition_frames"],
                    ),
                )
                in_hard = found(
                    hard_cuts, out_a, out_a, args.slack, explainer(raw_a, raw_b, out_a, in_b, 0, 0)
                )
                row[name] = {
                    "join_in_window": in_join[0],
                    "join_found": in_join[1],
                    "hard_in_window": in_hard[0],
                    "hard_found": in_hard[1],
                    "join_cuts": join_cuts,
                    "hard_cuts": hard_cuts,
                    "raw_a_cuts": raw_a,
                    "raw_b_cuts": raw_b,
                }
                cells.append(f"{_mark(*in_join):>10} / {_mark(*in_hard):<9}")
            rows.append(row)
            print(
                f"{label:28} {first:>5}-{last:<6} {out_a:>5} {join['score']:>6.2f}  "
                + "  ".join(cells)
            )
    print(
        "\nFOUND: a detected cut in the window that the raw takes do not explain; "
        "(take): only cuts the detector also reports on the raw take there.\n"
        "joins where hard: joins found on the pairs whose hard cut the detector found."
    )
    print(
        f"\n{'detector, pairs':22}"
        + "".join(f"{h:>21}" for h in ("joins found", "hard cuts found", "joins: any in window"))
        + f"{'hard: any in window':>21}{'joins where hard':>21}"
    )
    groups = {"all": rows}
    for row in rows:
        groups.setdefault(row["pair"].split()[0], []).append(row)
    for group, members in groups.items():
        for name in DETECTORS:
            counts = [
                (sum(r[name][key] for r in members), len(members))
                for key in ("join_found", "hard_found", "join_in_window", "hard_in_window")
            ]
            seen = [r for r in members if r[name]["hard_found"]]
            counts.append((sum(r[name]["join_found"] for r in seen), len(seen)))
            print(
                f"{name + ' ' + group:22}"
                + "".join(f"{c:>7}/{n:<3} = {c / max(n, 1):>6.1%}" for c, n in counts)
            )
    (results / "joins.json").write_text(json.dumps({"args": vars(args), "rows": rows}, indent=1))
    if not args.keep:
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
