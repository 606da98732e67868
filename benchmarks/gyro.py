"""Gyro against visual stabilization on the GoPro clips: speed, sync and quality in one run.

For every clip in `$POVKIT_TEST_DATA/gyro` (default `../shared/data/gyro`), runs
`povkit stabilize IN -o OUT --gyro off` (visual) and `--gyro auto` (the file's telemetry),
alternating `--repeat` times, and scores each output with `povkit metrics IN OUT`. The machine
is shared and noisy: read the speed as the ratio of the best times within this run.

`--synthetic SECONDS` adds a synthetic walk of that length (854x480, the GoPro clips' size)
with a sidecar gyro log 40 ms ahead of the picture, made once and kept in
benchmarks/results/synthetic/: real action-cam clips run for minutes, where the picture's
pass grows with the clip and the gyro's sync points do not.

Run with the project's interpreter: `.venv/bin/python benchmarks/gyro.py --help`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("POVKIT_TEST_DATA", REPO.parent / "shared" / "data")) / "gyro"
SYNTHETIC = REPO / "benchmarks" / "results" / "synthetic"
POVKIT = [sys.executable, "-m", "povkit.cli"]
MODES = {"visual": ["--gyro", "off"], "gyro": ["--gyro", "auto"]}


def _povkit(*args: str) -> dict:
    done = subprocess.run([*POVKIT, *args, "--json"], capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(done.stderr.strip().splitlines()[-1])
    return json.loads(done.stdout)


def run_clip(clip: Path, folder: Path, repeat: int) -> list[dict]:
    rows = {mode: {"clip": clip.name, "mode": mode, "seconds": float("inf")} for mode in MODES}
    for _ in range(repeat):
        for mode, flags in MODES.items():
            out = folder / f"{clip.stem}.{mode}.mp4"
            started = time.perf_counter()
            result = _povkit("stabilize", str(clip), "-o", str(out), *flags)
            seconds = time.perf_counter() - started
            row = rows[mode]
            row["seconds"] = min(row["seconds"], seconds)
            row.update({k: result.get(k) for k in ("source", "gyro_offset_ms", "sync_confidence")})
            row["in_camera_stabilized"] = result.get("in_camera_stabilized")
    for mode, row in rows.items():
        scores = _povkit("metrics", str(clip), str(folder / f"{clip.stem}.{mode}.mp4"))
        row.update({k: scores[k] for k in ("cropping", "distortion", "stability")})
    rows["gyro"]["speedup"] = rows["visual"]["seconds"] / rows["gyro"]["seconds"]
    return list(rows.values())


def synthetic_walk(seconds: float) -> Path:
    """A synthetic walk ``seconds`` long at 854x480 with its gyro log beside it (made once)."""
    from povkit.io.synthetic import write_synthetic_clip
    from povkit.io.telemetry import write_plain_csv
    from povkit.synth import head_camera_motion

    motion = {"seconds": seconds, "width": 854, "height": 480}
    clip = SYNTHETIC / f"gyro_walk_{seconds:g}s.mp4"
    if not clip.exists():
        SYNTHETIC.mkdir(parents=True, exist_ok=True)
        write_synthetic_clip(clip, seed=7, **motion)
        truth = head_camera_motion(seed=7, gyro_offset_ms=40.0, gyro_noise=0.01, **motion)
        write_plain_csv(clip.with_suffix(".csv"), truth.gyro)
    return clip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", nargs="*", help="clip stems (default: every .mp4 there)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per mode; the best counts")
    parser.add_argument(
        "--synthetic",
        type=float,
        nargs="*",
        default=[],
        metavar="SECONDS",
        help="also synthetic walks this long, with a sidecar gyro log",
    )
    args = parser.parse_args()
    clips = sorted(DATA.glob("*.mp4"))
    if args.clips is not None:
        clips = [c for c in clips if c.stem in args.clips]
    clips += [synthetic_walk(seconds) for seconds in args.synthetic]
    if not clips:
        sys.exit(f"no GoPro clips under {DATA} (set POVKIT_TEST_DATA)")
    table = Table(title="gyro vs visual stabilization")
    columns = ["clip", "mode", "source", "gyro_offset_ms", "sync_confidence", "seconds"]
    columns += ["speedup", "cropping", "distortion", "stability"]
    for column in columns:
        table.add_column(column)
    with tempfile.TemporaryDirectory() as folder:
        for clip in clips:
            for row in run_clip(clip, Path(folder), args.repeat):
                table.add_row(*(_cell(row.get(c)) for c in columns))
    Console(width=200).print(table)


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


if __name__ == "__main__":
    main()
