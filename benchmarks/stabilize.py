"""Stabilization benchmark: povkit against ffmpeg vid.stab, deshake, python vidstab and a transcode.

For every clip in `$POVKIT_TEST_DATA/stabilize` (default `../shared/data` beside the repository)
and any `--extra` clip, each tool stabilizes the clip one after another, all encoding with libx264
crf 18 preset veryfast, and every output is scored against its input with `povkit metrics`. Wall
time covers the whole tool run. The machine is shared and noisy, so the numbers to read are the
ratios within one run: to the plain transcode (the speed floor) and to vid.stab (the usual anchor).

Prints one table per clip and writes all rows to `benchmarks/results/stabilize.json`.
Run with the project's interpreter: `.venv/bin/python benchmarks/stabilize.py --help`.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NoReturn

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "benchmarks"
RESULTS = BENCH / "results"
VIDSTAB_VENV = BENCH / ".venv-vidstab"
VIDSTAB_RUNNER = BENCH / "run_vidstab.py"
# Checked with vidstab 1.7.4, opencv-python 4.14.0.94 and numpy 2.4.6 on Python 3.11.
# vidstab calls cv2.destroyAllWindows(), which a headless OpenCV build does not implement.
VIDSTAB_REQUIREMENTS = ["vidstab==1.7.4", "opencv-python>=4.8,<5", "numpy>=1.24,<3"]
VIDEO_SUFFIXES = {".mp4", ".mov", ".mkv", ".avi", ".m4v", ".webm"}
FFMPEG = ["ffmpeg", "-y", "-nostdin", "-loglevel", "error"]
X264 = ["-c:v", "libx264", "-crf", "18", "-preset", "veryfast"]
NOTES = [
    "seconds: wall time of the whole tool run, ratios against transcode and vidstab-ffmpeg "
    "on the same clip in this run; every output is libx264 crf 18 preset veryfast, audio copied.",
    "vidstab-ffmpeg: vidstabdetect then vidstabtransform, both with defaults (shakiness 5, "
    "smoothing 15, optzoom 1: one static zoom that hides the borders); time is both passes.",
    "deshake: ffmpeg deshake with defaults (rx=ry=16, edge=mirror: uncovered edges mirrored).",
    "vidstab-py: python vidstab 1.7.4, VidStab() defaults (GFTT keypoints, smoothing_window 30, "
    "border_type black, border_size 0: frame size kept, uncovered edges left black); frames "
    "piped raw (BGR) from vidstab into ffmpeg libx264, no intermediate file; time includes "
    "interpreter start, decoding, stabilization and encoding.",
    "transcode: plain re-encode, the speed floor.",
]


class ToolError(Exception):
    """A tool could not produce its output; the message is one line for the table."""


@dataclass(frozen=True)
class Context:
    """What the tool command builders need beyond the clip: povkit args, the vidstab venv."""

    povkit_args: list[str]
    vidstab_python: Path | None
    vidstab_error: str | None


@dataclass
class Row:
    """One tool run on one clip: timing, ratios, scores and what went wrong, if anything."""

    clip: str
    tool: str
    seconds: float | None = None
    x_transcode: float | None = None
    x_vidstab: float | None = None
    cropping: float | None = None
    distortion: float | None = None
    stability: float | None = None
    error: str | None = None
    metrics_error: str | None = None
    report: dict | None = None
    metrics: dict | None = None
    output: str | None = None


Builder = Callable[[Context, Path, Path], list[list[str]]]


def povkit_commands(ctx: Context, src: Path, dst: Path) -> list[list[str]]:
    """povkit's own stabilizer with its defaults plus any `--povkit-args`."""
    stabilize = [str(povkit_executable()), "stabilize", str(src), "-o", str(dst)]
    return [[*stabilize, "--crf", "18", "--preset", "veryfast", "--json", *ctx.povkit_args]]


def vidstab_ffmpeg_commands(ctx: Context, src: Path, dst: Path) -> list[list[str]]:
    """ffmpeg's two-pass vid.stab with defaults; the .trf lands in the working directory."""
    trf = f"{dst.stem}.trf"
    detect = [*FFMPEG, "-i", str(src), "-vf", f"vidstabdetect=result={trf}", "-f", "null", "-"]
    transform = [*FFMPEG, "-i", str(src), "-vf", f"vidstabtransform=input={trf}", *X264]
    return [detect, [*transform, "-c:a", "copy", str(dst)]]


def deshake_commands(ctx: Context, src: Path, dst: Path) -> list[list[str]]:
    """ffmpeg's single-pass deshake filter with defaults."""
    return [[*FFMPEG, "-i", str(src), "-vf", "deshake", *X264, "-c:a", "copy", str(dst)]]


def vidstab_py_commands(ctx: Context, src: Path, dst: Path) -> list[list[str]]:
    """The python vidstab package through `run_vidstab.py` in its own virtual environment."""
    if ctx.vidstab_python is None:
        raise ToolError(ctx.vidstab_error or "vidstab environment not set up")
    return [[str(ctx.vidstab_python), str(VIDSTAB_RUNNER), str(src), str(dst)]]


def transcode_commands(ctx: Context, src: Path, dst: Path) -> list[list[str]]:
    """A plain re-encode with the same settings: the floor no stabilizer can beat."""
    return [[*FFMPEG, "-i", str(src), *X264, "-c:a", "copy", str(dst)]]


# Run order: the transcode first also warms the file cache for the tools after it.
TOOLS: dict[str, Builder] = {
    "transcode": transcode_commands,
    "vidstab-ffmpeg": vidstab_ffmpeg_commands,
    "deshake": deshake_commands,
    "vidstab-py": vidstab_py_commands,
    "povkit": povkit_commands,
}


def povkit_executable() -> Path:
    """The povkit console script installed beside the interpreter running this benchmark."""
    return Path(sys.executable).parent / "povkit"


def error_line(stderr: str, returncode: int) -> str:
    """The most telling single line of a failed tool's stderr (a traceback's last line)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    if not lines:
        return f"exit status {returncode}"
    if lines[0].startswith("Traceback"):
        return lines[-1]
    return lines[0]


def run(argv: list[str], cwd: Path, timeout: float) -> str:
    """Run one command and return its stdout; raise `ToolError` with one line on failure."""
    try:
        proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise ToolError(f"timed out after {timeout:g} s") from exc
    except OSError as exc:
        raise ToolError(f"cannot run {argv[0]}: {exc.strerror or exc}") from exc
    if proc.returncode != 0:
        raise ToolError(error_line(proc.stderr, proc.returncode))
    return proc.stdout


def parse_json(stdout: str) -> dict:
    """Parse a tool's single JSON object from stdout, tolerating log lines before it."""
    text = stdout.strip()
    start = text.find("{")
    if start < 0:
        raise ToolError("no JSON object on stdout")
    try:
        return json.loads(text[start:])
    except json.JSONDecodeError as exc:
        raise ToolError(f"bad JSON on stdout: {exc}") from exc


def run_tool(name: str, ctx: Context, src: Path, workdir: Path, timeout: float) -> Row:
    """Build and time one tool's commands on one clip; failures become the row's error."""
    row = Row(clip=src.name, tool=name)
    dst = workdir / f"{name}.mp4"
    try:
        commands = TOOLS[name](ctx, src, dst)
        start = time.perf_counter()
        for argv in commands:
            stdout = run(argv, workdir, timeout)
        row.seconds = time.perf_counter() - start
        if name in ("povkit", "vidstab-py"):
            row.report = parse_json(stdout)
        if not dst.is_file():
            raise ToolError(f"no output file {dst.name}")
    except ToolError as exc:
        row.seconds = None
        row.error = str(exc)
        return row
    row.output = str(dst)
    return row


def score(row: Row, src: Path, workdir: Path, timeout: float) -> None:
    """Fill the row's cropping, distortion and stability from `povkit metrics IN OUT --json`."""
    argv = [str(povkit_executable()), "metrics", str(src), str(row.output), "--json"]
    try:
        row.metrics = parse_json(run(argv, workdir, timeout))
    except ToolError as exc:
        row.metrics_error = str(exc)
        return
    row.cropping = row.metrics.get("cropping")
    row.distortion = row.metrics.get("distortion")
    row.stability = row.metrics.get("stability")


def add_ratios(rows: list[Row]) -> None:
    """Divide each successful time by the clip's transcode and vid.stab times, where they ran."""
    seconds = {row.tool: row.seconds for row in rows if row.seconds}
    for row in rows:
        if row.seconds is None:
            continue
        if "transcode" in seconds:
            row.x_transcode = row.seconds / seconds["transcode"]
        if "vidstab-ffmpeg" in seconds:
            row.x_vidstab = row.seconds / seconds["vidstab-ffmpeg"]


def bench_clip(
    src: Path, tools: list[str], ctx: Context, workdir: Path, timeout: float
) -> list[Row]:
    """Run every selected tool on one clip back to back, then score all the outputs."""
    rows = [run_tool(name, ctx, src, workdir, timeout) for name in tools]
    add_ratios(rows)
    for row in rows:
        if row.output is not None:
            score(row, src, workdir, timeout)
    return rows


def describe(src: Path) -> str:
    """A short `WxH, N s` description of a clip for its table title, or '' if ffprobe fails."""
    argv = ["ffprobe", "-v", "error", "-select_streams", "v:0", "-of", "json"]
    argv += ["-show_entries", "stream=width,height:format=duration", str(src)]
    try:
        info = json.loads(run(argv, src.parent, 60))
        stream = info["streams"][0]
        duration = float(info["format"]["duration"])
    except (ToolError, KeyError, IndexError, ValueError):
        return ""
    return f"{stream['width']}x{stream['height']}, {duration:.1f} s"


def fmt(value: float | None, digits: int, suffix: str = "") -> str:
    """Format a number for the table, '-' where it is missing."""
    return "-" if value is None else f"{value:.{digits}f}{suffix}"


def clip_table(src: Path, rows: list[Row]) -> Table:
    """One rich table for one clip: time, ratios, the three scores and any error."""
    table = Table(title=f"{src.name}  ({describe(src)})", title_justify="left")
    table.add_column("tool", no_wrap=True)
    for header in ("seconds", "x transcode", "x vid.stab", "cropping", "distortion", "stability"):
        table.add_column(header, justify="right", no_wrap=True)
    table.add_column("note", overflow="fold")
    for row in rows:
        note = row.error or (f"metrics: {row.metrics_error}" if row.metrics_error else "")
        table.add_row(
            row.tool,
            fmt(row.seconds, 2),
            fmt(row.x_transcode, 2, "x"),
            fmt(row.x_vidstab, 2, "x"),
            fmt(row.cropping, 3),
            fmt(row.distortion, 3),
            fmt(row.stability, 3),
            note,
        )
    return table


def ensure_vidstab_venv() -> Path:
    """Create `benchmarks/.venv-vidstab` with vidstab and a non-headless OpenCV on first use.

    A stamp file holding the requirement list marks a finished install, so an interrupted
    install or a changed requirement list is redone from scratch.
    """
    python = VIDSTAB_VENV / "bin" / "python"
    stamp = VIDSTAB_VENV / ".installed"
    wanted = "\n".join(VIDSTAB_REQUIREMENTS)
    if stamp.is_file() and stamp.read_text() == wanted and python.exists():
        return python
    print(f"setting up {VIDSTAB_VENV.relative_to(REPO)} (once) ...", file=sys.stderr)
    run([sys.executable, "-m", "venv", "--clear", str(VIDSTAB_VENV)], BENCH, 600)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    run([*pip, *VIDSTAB_REQUIREMENTS], BENCH, 1800)
    stamp.write_text(wanted)
    return python


def make_context(tools: list[str], povkit_args: str) -> Context:
    """Prepare what the selected tools need; a vidstab setup failure is kept for its rows."""
    python, error = None, None
    if "vidstab-py" in tools:
        try:
            python = ensure_vidstab_venv()
        except ToolError as exc:
            error = f"vidstab setup failed: {exc}"
    return Context(shlex.split(povkit_args), python, error)


def data_dir() -> Path:
    """The shared data folder: `$POVKIT_TEST_DATA`, else `../shared/data` beside the repo."""
    return Path(os.environ.get("POVKIT_TEST_DATA", REPO.parent / "shared" / "data"))


def fail(message: str) -> NoReturn:
    """Stop the benchmark before it starts: one line on stderr, exit status 2."""
    print(message, file=sys.stderr)
    raise SystemExit(2)


def find_clips(folder: Path, names: list[str] | None) -> list[Path]:
    """The clips in `folder`, limited to `names` (file names or stems) when given."""
    clips = sorted(p for p in folder.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)
    if names is None:
        return clips
    chosen = [p for p in clips if p.name in names or p.stem in names]
    found = {p.name for p in chosen} | {p.stem for p in chosen}
    missing = [name for name in names if name not in found]
    if missing:
        available = ", ".join(p.name for p in clips)
        fail(f"unknown clip(s) {', '.join(missing)}; available: {available}")
    return chosen


def parse_tools(value: str) -> list[str]:
    """Parse `--tools a,b` into known tool names, kept in the benchmark's run order."""
    asked = {name.strip() for name in value.split(",") if name.strip()}
    unknown = asked - TOOLS.keys()
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown tool(s) {', '.join(sorted(unknown))}; choose from {', '.join(TOOLS)}"
        )
    return [name for name in TOOLS if name in asked]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", nargs="+", metavar="NAME", help="only these clips")
    parser.add_argument(
        "--tools",
        type=parse_tools,
        default=list(TOOLS),
        help=f"comma-separated subset of {','.join(TOOLS)} (default: all)",
    )
    parser.add_argument(
        "--extra", nargs="+", type=Path, default=[], metavar="PATH", help="extra clips to run"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep outputs in benchmarks/results/outputs/CLIP/"
    )
    parser.add_argument(
        "--povkit-args", default="", metavar="ARGS", help="extra arguments to povkit stabilize"
    )
    parser.add_argument(
        "--timeout", type=float, default=1800, help="seconds before one command is given up"
    )
    return parser.parse_args(argv)


def select_clips(args: argparse.Namespace) -> list[Path]:
    """Shared clips plus extras; exit 2 with one line if the data folder is missing.

    With `--extra` alone (no `--clips`), a missing data folder is only a warning, so an extra
    clip such as a synthetic 1080p one can be benchmarked on a machine without the shared data.
    """
    folder = data_dir() / "stabilize"
    extras = [path.resolve() for path in args.extra]
    for path in extras:
        if not path.is_file():
            fail(f"extra clip not found: {path}")
    if not folder.is_dir():
        message = f"no clip folder {folder} (set POVKIT_TEST_DATA to the shared data folder)"
        if not extras or args.clips is not None:
            fail(message)
        print(f"warning: {message}; running the extra clips only", file=sys.stderr)
        return extras
    return find_clips(folder, args.clips) + extras


def save(rows: list[Row], args: argparse.Namespace) -> Path:
    """Write every row so far, with the run's settings, to `benchmarks/results/stabilize.json`."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "stabilize.json"
    meta = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "cpu_count": os.cpu_count(),
        "tools": args.tools,
        "povkit_args": args.povkit_args,
        "encoder": "libx264 crf 18 preset veryfast",
        "vidstab_requirements": VIDSTAB_REQUIREMENTS,
        "notes": NOTES,
    }
    path.write_text(json.dumps({"meta": meta, "rows": [asdict(r) for r in rows]}, indent=2))
    return path


def workdir_for(src: Path, keep: bool) -> tuple[Path, Callable[[], None]]:
    """Where a clip's outputs go, and how to clean up after it (nothing when `--keep`)."""
    if keep:
        folder = RESULTS / "outputs" / src.stem
        folder.mkdir(parents=True, exist_ok=True)
        return folder, lambda: None
    folder = Path(tempfile.mkdtemp(prefix=f"povkit-bench-{src.stem}-"))
    return folder, lambda: shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark over the selected clips and tools; print tables, save JSON."""
    args = parse_args(argv)
    clips = select_clips(args)
    ctx = make_context(args.tools, args.povkit_args)
    # Piped output gets a wide table instead of rich's 80-column fallback.
    console = Console(width=shutil.get_terminal_size((160, 24)).columns)
    all_rows: list[Row] = []
    for src in clips:
        workdir, cleanup = workdir_for(src, args.keep)
        try:
            rows = bench_clip(src, args.tools, ctx, workdir, args.timeout)
        finally:
            cleanup()
        if not args.keep:
            for row in rows:
                row.output = None
        all_rows += rows
        console.print(clip_table(src, rows))
        save(all_rows, args)
    for note in NOTES:
        console.print(f"[dim]- {note}[/dim]")
    console.print(f"rows saved to {save(all_rows, args).relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
