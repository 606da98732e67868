"""Speed and memory of ``povkit stabilize`` against a plain transcode and two-pass vid.stab.

Every tool encodes with the same settings (libx264, crf 18, preset veryfast). Each run is a
fresh process whose peak RSS is read from the kernel, so the memory figures are exact. Clips:
forest_walk.mp4 from the shared data (if present) and synthetic 1080p walks of 10, 20 and 60 s,
made once and kept in benchmarks/results/synthetic/.

    .venv/bin/python benchmarks/speed.py [--seconds 10 20 60] [--skip-real]
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

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
DATA = Path(os.environ.get("POVKIT_TEST_DATA", REPO.parent / "shared" / "data"))
POVKIT = REPO / ".venv" / "bin" / "povkit"
X264 = ["-c:v", "libx264", "-crf", "18", "-preset", "veryfast"]


def timed(command: list[str]) -> tuple[float, float]:
    """Run ``command`` in a child process; return (wall seconds, peak RSS in MB)."""
    probe = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL,"
        " stderr=subprocess.DEVNULL)\n"
        "print(time.perf_counter() - t,"
        " resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, *command], check=True, capture_output=True, text=True
    ).stdout.split()
    return float(out[0]), float(out[1])


def tools(clip: Path, work: Path) -> dict[str, list[list[str]]]:
    """The commands each tool runs on ``clip`` (vid.stab is two commands, timed together)."""
    ffmpeg = ["ffmpeg", "-y", "-v", "error", "-i", str(clip)]
    encode = [*X264, "-c:a", "copy"]
    trf = work / "t.trf"
    return {
        "transcode": [[*ffmpeg, *encode, str(work / "transcode.mp4")]],
        "vidstab-ffmpeg": [
            [*ffmpeg, "-vf", f"vidstabdetect=result={trf}", "-f", "null", "-"],
            [*ffmpeg, "-vf", f"vidstabtransform=input={trf}", *encode, str(work / "vidstab.mp4")],
        ],
        "povkit": [
            [
                str(POVKIT),
                "stabilize",
                str(clip),
                "-o",
                str(work / "povkit.mp4"),
                "--crf",
                "18",
                "--preset",
                "veryfast",
            ]
        ],
    }


def synthetic_clip(seconds: int) -> Path:
    """A 1920x1080 synthetic shaky walk of ``seconds``, made once."""
    path = RESULTS / "synthetic" / f"walk_1080p_{seconds}s.mp4"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        from povkit.io.synthetic import write_synthetic_clip

        print(f"making {path.name} ...", file=sys.stderr)
        write_synthetic_clip(path, seconds=seconds, width=1920, height=1080, seed=seconds)
    return path


def measure(clip: Path) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for tool, commands in tools(clip, Path(tmp)).items():
            wall = peak = 0.0
            for command in commands:
                seconds, rss = timed(command)
                wall, peak = wall + seconds, max(peak, rss)
            rows.append({"clip": clip.name, "tool": tool, "seconds": wall, "peak_rss_mb": peak})
    floor = next(r["seconds"] for r in rows if r["tool"] == "transcode")
    vidstab = next(r["seconds"] for r in rows if r["tool"] == "vidstab-ffmpeg")
    for row in rows:
        row["x_transcode"] = row["seconds"] / floor
        row["x_vidstab"] = row["seconds"] / vidstab
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, nargs="+", default=[10, 20, 60])
    parser.add_argument("--skip-real", action="store_true", help="synthetic clips only")
    args = parser.parse_args()
    clips = [synthetic_clip(s) for s in args.seconds]
    real = DATA / "stabilize" / "forest_walk.mp4"
    if not args.skip_real and real.exists():
        clips.insert(0, real)
    rows = [row for clip in clips for row in measure(clip)]
    print(
        f"{'clip':28}{'tool':16}{'seconds':>9}{'x transcode':>13}{'x vid.stab':>12}{'peak MB':>9}"
    )
    for r in rows:
        print(
            f"{r['clip']:28}{r['tool']:16}{r['seconds']:9.2f}{r['x_transcode']:12.2f}x"
            f"{r['x_vidstab']:11.2f}x{r['peak_rss_mb']:9.0f}"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "speed.json").write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    started = time.perf_counter()
    code = main()
    print(f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    sys.exit(code)
