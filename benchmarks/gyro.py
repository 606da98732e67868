"""Gyro against visual stabilization on the GoPro clips: speed, sync and quality in one run.

For every clip in `$POVKIT_TEST_DATA/gyro` (default `../shared/data/gyro`), runs
`povkit stabilize IN -o OUT --gyro off` (visual) and `--gyro auto` (the file's telemetry),
alternating `--repeat` times, and scores each output with `povkit metrics IN OUT`. The machine
is shared and noisy: read the speed as the ratio of the best times within this run.

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", nargs="*", help="clip stems (default: every .mp4 there)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per mode; the best counts")
    args = parser.parse_args()
    clips = sorted(DATA.glob("*.mp4"))
    if args.clips:
        clips = [c for c in clips if c.stem in args.clips]
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
