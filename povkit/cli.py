"""The ``povkit`` command: parse, call the library, print. Exit 0 ok, 2 bad input, 1 internal."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from povkit import __version__
from povkit.errors import PovkitError, UsageError, log


class _ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage mistake is a one-line error and exit 2 like every bad input."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see: {self.prog} --help)")


class _WarningLines(logging.Handler):
    """Print each warning as one line on stderr and keep it for the JSON result."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        line = record.getMessage()
        self.lines.append(line)
        print(f"povkit: warning: {line}", file=sys.stderr)


def _add_encoding_options(p) -> None:
    """x264 settings shared by every command that writes video."""
    p.add_argument("--crf", type=float, default=18, help="x264 quality, lower is better (18)")
    p.add_argument("--preset", default="veryfast", help="x264 speed preset (veryfast)")


def _add_source_option(p) -> None:
    """Which camera motion to use, shared by motion and stabilize."""
    p.add_argument(
        "--source",
        default="auto",
        choices=["auto", "gyro", "visual", "fused"],
        help="gyro if present and trustworthy, else picture (auto); gyro; visual; fused "
        "(gyro plus the picture's slow shifts)",
    )


def _add_stabilize(commands) -> None:
    p = commands.add_parser("stabilize", help="stabilize a first-person clip")
    p.add_argument("input", help="video to stabilize")
    p.add_argument("-o", "--output", required=True, help="stabilized video (.mp4, .mov, .mkv)")
    p.add_argument("--method", default="adaptive", choices=["adaptive", "l1", "fixed"])
    p.add_argument(
        "--smoothness", type=float, help="adaptive: jitter time constant in seconds (0.5)"
    )
    p.add_argument("--max-zoom", type=float, default=1.25, help="largest crop zoom (1.25)")
    p.add_argument("--dynamic-zoom", action="store_true", help="let the zoom vary smoothly")
    _add_encoding_options(p)
    _add_source_option(p)
    _add_gyro_options(p)
    p.add_argument(
        "--horizon-lock", type=float, default=0.0, metavar="PCT", help="level the horizon (0-100)"
    )
    p.add_argument(
        "--motion", help="motion file from 'povkit motion IN --save FILE' (skips measuring)"
    )
    p.add_argument(
        "--undistort",
        action="store_true",
        help="take the lens's fisheye distortion out (--lens, or the file's lens metadata)",
    )
    p.set_defaults(run=_run_stabilize)


def _add_gyro_options(p) -> None:
    p.add_argument(
        "--gyro",
        default="auto",
        metavar="auto|off|FILE",
        help="camera telemetry: the file's own or a sidecar .gcsv/.csv (auto), none, or a log",
    )
    p.add_argument(
        "--gyro-offset", type=float, metavar="MS", help="gyro clock lead over the video (found)"
    )
    p.add_argument(
        "--rolling-shutter",
        type=float,
        default=0.0,
        metavar="MS",
        help="sensor readout time: rows are corrected with the gyro (0: off)",
    )
    p.add_argument(
        "--lens",
        metavar="FILE",
        help="lens profile (.json, Gyroflow's or povkit's); default: the file's lens metadata",
    )


def _run_stabilize(args) -> tuple[dict, str]:
    from povkit.api import stabilize

    result = stabilize(
        args.input,
        args.output,
        method=args.method,
        smoothness=args.smoothness,
        max_zoom=args.max_zoom,
        dynamic_zoom=args.dynamic_zoom,
        crf=args.crf,
        preset=args.preset,
        gyro=args.gyro,
        source=args.source,
        gyro_offset_ms=args.gyro_offset,
        rolling_shutter_ms=args.rolling_shutter,
        horizon_lock=args.horizon_lock,
        motion_file=args.motion,
        lens_file=args.lens,
        undistort=args.undistort,
    )
    data = result.to_dict()
    text = (
        f"{data['output']}: {data['frames']} frames, {data['method']}, "
        f"zoom {data['zoom']:.3f}, {data['seconds']:.1f} s"
    )
    return data, "\n".join([text, *data["notes"]])


def _add_motion(commands) -> None:
    p = commands.add_parser("motion", help="measure how the camera moved, frame by frame")
    p.add_argument("input", help="video to analyse")
    _add_source_option(p)
    _add_gyro_options(p)
    p.add_argument("--save", help="also write the motion to FILE.npz, for stabilize --motion")
    p.set_defaults(run=_run_motion)


def _run_motion(args) -> tuple[dict, str]:
    from povkit.api import estimate_camera_motion
    from povkit.io.motion_file import checked_motion_file, save_motion
    from povkit.io.video import probe
    from povkit.lens import find_lens

    if args.save:
        checked_motion_file(args.save)
    info = probe(args.input)
    lens, _ = find_lens(args.input, info, args.lens)
    estimate = estimate_camera_motion(
        args.input,
        gyro=args.gyro,
        source=args.source,
        gyro_offset_ms=args.gyro_offset,
        rolling_shutter_ms=args.rolling_shutter,
        info=info,
        lens=lens,
    )
    if args.save:
        save_motion(estimate, args.save, video=args.input)
    path = estimate.path
    steps = path.steps
    seconds = path.times.seconds
    data = {
        "input": args.input,
        **estimate.to_dict(),
        "frames": len(path),
        "frame_size": list(path.frame_size),
        "invalid_steps": int((~path.valid).sum()),
        "time": [round(float(t), 6) for t in seconds],
        "pts": [int(p) for p in path.times.pts],
        "dx": [round(float(v), 4) for v in steps[:, 0]],
        "dy": [round(float(v), 4) for v in steps[:, 1]],
        "angle": [round(float(v), 6) for v in steps[:, 2]],
        "log_scale": [round(float(v), 6) for v in steps[:, 3]],
        "valid": [bool(v) for v in path.valid],
        "saved": args.save,
    }
    span = seconds[-1] if len(seconds) else 0.0
    text = (
        f"{args.input}: {len(path)} frames over {span:.2f} s, "
        f"{data['invalid_steps']} steps bridged; mean |dx| {abs(steps[:, 0]).mean():.2f} px"
    )
    return data, text


def _add_metrics(commands) -> None:
    p = commands.add_parser("metrics", help="cropping, distortion and stability of a result")
    p.add_argument("input", help="the original video")
    p.add_argument("stabilized", help="the stabilized video")
    p.add_argument("--truth", help="ground-truth JSON of a synthetic clip (povkit demo writes it)")
    p.set_defaults(run=_run_metrics)


def _run_metrics(args) -> tuple[dict, str]:
    from povkit.quality import measure_quality

    data = measure_quality(args.input, args.stabilized, truth=args.truth)
    text = ", ".join(f"{k} {v:.3f}" for k, v in data.items() if isinstance(v, float))
    return data, text


def _add_demo(commands) -> None:
    p = commands.add_parser("demo", help="make a shaky synthetic walk, stabilize it, score it")
    p.add_argument("--out", default="out/demo", help="folder for the clips (out/demo)")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--width", type=int, default=960)
    p.add_argument("--height", type=int, default=540)
    p.add_argument("--seed", type=int, default=1)
    p.set_defaults(run=_run_demo)


def _run_demo(args) -> tuple[dict, str]:
    from povkit.demo import run_demo

    data = run_demo(
        Path(args.out), seconds=args.seconds, width=args.width, height=args.height, seed=args.seed
    )
    return data, data.pop("summary")


def _add_cuts(commands) -> None:
    p = commands.add_parser("cuts", help="find shot boundaries: hard cuts, fades, dips to black")
    p.add_argument("input", help="video to analyse")
    p.add_argument(
        "--detector",
        default="pov",
        choices=["pov", "histogram", "fade", "transnet"],
        help="pov (default); transnet: learned model checked by pov's motion tests, "
        "needs pip install 'povkit[learned]'",
    )
    p.add_argument(
        "--threshold",
        type=float,
        help="pov/histogram/transnet: times the local change a cut needs (3)",
    )
    p.add_argument(
        "--min-score", type=float, help="pov/histogram/transnet: smallest cut change 0-1 (0.15)"
    )
    p.add_argument("--min-shot", type=float, help="shortest shot in seconds (0.25)")
    p.add_argument("--csv", help="write a table of the shots to this .csv file")
    p.add_argument("--otio", help="write the shots as an OpenTimelineIO timeline (.otio)")
    p.add_argument("--edl", help="write the shots as a CMX 3600 EDL (.edl)")
    p.add_argument("--xml", help="write the shots as Final Cut Pro 7 XML (.xml)")
    p.add_argument("--images", help="folder for one thumbnail per shot")
    p.set_defaults(run=_run_cuts)


def _run_cuts(args) -> tuple[dict, str]:
    from povkit.cuts import find_cuts

    options = {"threshold": args.threshold, "min_score": args.min_score}
    params = {k: v for k, v in options.items() if v is not None}
    if args.min_shot is not None:
        params["min_shot_s"] = args.min_shot
    asked = (
        ("--otio", args.otio, ".otio"),
        ("--edl", args.edl, ".edl"),
        ("--xml", args.xml, ".xml"),
    )
    for flag, path, suffix in asked:
        if path and Path(path).suffix.lower() != suffix:
            raise UsageError(f"{flag} {path}: the file name must end in {suffix}")
    edits = tuple(p for p in (args.otio, args.edl, args.xml) if p)
    shots, written = find_cuts(
        args.input,
        detector=args.detector,
        params=params,
        csv=args.csv,
        edits=edits,
        images=args.images,
    )
    data = shots.to_dict()
    data["outputs"] = written
    lines = [f"{args.input}: {len(data['shots'])} shots in {data['frames']} frames"]
    lines += [
        f"  frame {b['frame']:6d}  {b['time']:9.3f} s  {b['kind']:4s}  {b['score']:.3f}"
        for b in data["boundaries"]
    ]
    lines += [f"  wrote {path}" for path in written.values()]
    return data, "\n".join(lines)


def _add_join(commands) -> None:
    from povkit.plan.joins import STYLES

    p = commands.add_parser(
        "join", help="join takes into one, hiding each cut in motion, blur, dark or cover"
    )
    p.add_argument("takes", nargs="+", help="the takes, in order (two or more)")
    p.add_argument("-o", "--output", help="joined video (.mp4, .mov, .mkv)")
    p.add_argument("--otio", help="OpenTimelineIO timeline (default: OUTPUT with .otio)")
    p.add_argument(
        "--window", type=float, default=2.0, help="seconds searched at each take's ends (2)"
    )
    p.add_argument("--transition", type=float, default=0.4, help="transition seconds (0.4)")
    p.add_argument(
        "--style",
        default="auto",
        choices=STYLES,
        help="auto (a dissolve where motion, blur, dark, cover or matching views hide the join, "
        "else a whip pan), dissolve or whip",
    )
    p.add_argument("--dry-run", action="store_true", help="rank the joins, write nothing")
    _add_encoding_options(p)
    p.set_defaults(run=_run_join)


def _run_join(args) -> tuple[dict, str]:
    from povkit.joins.join import JoinOptions, join_takes

    if not args.dry_run and not args.output:
        raise UsageError("join needs -o OUTPUT (or --dry-run to only rank the joins)")
    result = join_takes(
        args.takes,
        None if args.dry_run else args.output,
        otio_path=args.otio,
        options=JoinOptions(window_s=args.window, transition_s=args.transition, style=args.style),
        crf=args.crf,
        preset=args.preset,
    )
    data = result.to_dict()
    lines = [
        f"join {j['index'] + 1}: A frame {j['out_frame_a']} -> B frame {j['in_frame_b']} "
        f"at output frame {j['output_frame']}, {j['style']}, score {j['score']:.2f} "
        f"({'; '.join(j['reasons'])})"
        for j in data["joins"]
    ]
    head = (
        f"{data['output']}: {data['frames_written']} frames, timeline {data['otio']}"
        if data["output"]
        else f"dry run: {data['frames']} frames would be written"
    )
    return data, "\n".join([head, *lines])


def build_parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(prog="povkit", description=__doc__)
    parser.add_argument("--version", action="version", version=f"povkit {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_ArgumentParser)
    for add in (_add_stabilize, _add_motion, _add_metrics, _add_demo, _add_cuts, _add_join):
        add(commands)
    for sub in commands.choices.values():
        sub.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    return parser


def _parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line, with join's takes allowed after its options too (``join A -o OUT B``),
    which argparse alone refuses once the options have begun."""
    args, extra = build_parser().parse_known_args(argv)
    if (
        extra
        and getattr(args, "takes", None) is not None
        and not any(e.startswith("-") for e in extra)
    ):
        args.takes += extra
    elif extra:
        raise UsageError(f"unrecognized arguments: {' '.join(extra)} (see: povkit --help)")
    return args


class _Terminated(KeyboardInterrupt):
    """SIGTERM (``timeout``, ``docker stop``, a batch scheduler): stop as Ctrl-C does, so
    partial outputs are removed on the way out."""


def _terminate(signum, frame) -> None:
    raise _Terminated


def main(argv: list[str] | None = None) -> int:
    warnings = _WarningLines()
    log.addHandler(warnings)
    log.propagate = False
    in_main = threading.current_thread() is threading.main_thread()  # where signals go
    on_term = signal.signal(signal.SIGTERM, _terminate) if in_main else None
    try:
        args = _parse(argv)
        data, text = args.run(args)
    except PovkitError as exc:
        print(f"povkit: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        how = "terminated" if isinstance(exc, _Terminated) else "interrupted"
        print(f"povkit: {how}; no output was left half-written", file=sys.stderr)
        return 128 + (signal.SIGTERM if isinstance(exc, _Terminated) else signal.SIGINT)
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback for users
        if os.environ.get("POVKIT_DEBUG"):
            raise
        print(
            f"povkit: internal error: {type(exc).__name__}: {exc} "
            "(set POVKIT_DEBUG=1 for a traceback and please report it)",
            file=sys.stderr,
        )
        return 1
    finally:
        log.removeHandler(warnings)
        if on_term is not None:
            signal.signal(signal.SIGTERM, on_term)
    if args.json:
        data["warnings"] = warnings.lines
        print(json.dumps(data))
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
