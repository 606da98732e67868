"""``povkit join``: measure the ends of the takes, choose where to join them, render one take.

read (probe, one decode pass per take) -> measure (window features, view matches) -> plan
(score candidates, choose joins) -> render (streamed transitions) + export (OTIO timeline).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from povkit.errors import UsageError, log
from povkit.geometry import fill_crop
from povkit.io.outputs import check_output_folder
from povkit.io.video import audio_format, probe
from povkit.io.writer import check_encoding_options, check_output_path, output_format_notes
from povkit.joins.features import TakeWindows, match_views, measure_take, refine_alignment
from povkit.motion.visual import TrackingOptions, analysis_size
from povkit.plan.joins import (
    STYLES,
    JoinCandidate,
    JoinPlan,
    JoinWeights,
    PlannedJoin,
    output_cut_frames,
    score_candidates,
    take_ranges,
    transition_style,
)
from povkit.progress import progress
from povkit.types import VideoInfo

RATE_TOLERANCE = 0.005
"""Frame rates within half a percent count as the same (29.97 vs 30 does not)."""


@dataclass(frozen=True)
class JoinOptions:
    """How joins are searched and rendered."""

    window_s: float = 2.0
    """Out-points are searched in the last, in-points in the first, this many seconds."""
    transition_s: float = 0.4
    weights: JoinWeights = field(default_factory=JoinWeights)
    listed: int = 5
    """Candidates listed per join (best first) in the result."""
    style: str = "auto"
    """How joins look (``povkit.plan.joins.STYLES``)."""

    def __post_init__(self) -> None:
        if not 0.2 <= self.window_s <= 30:
            raise UsageError(f"--window must be within 0.2 and 30 seconds, got {self.window_s}")
        if not 0.05 <= self.transition_s <= 2:
            raise UsageError(
                f"--transition must be within 0.05 and 2 seconds, got {self.transition_s}"
            )
        if self.listed < 1:
            raise UsageError(f"at least one candidate must be listed, got {self.listed}")
        if self.transition_s > self.window_s:
            raise UsageError("--transition must not be longer than --window")
        if self.style not in STYLES:
            raise UsageError(f"--style must be one of {', '.join(STYLES)}, got {self.style!r}")


@dataclass
class JoinResult:
    """What ``join_takes`` did, for the CLI's JSON and text."""

    plan: JoinPlan
    output: str | None
    otio: str | None
    frames_written: int | None
    seconds: float
    notes: list[str]

    def to_dict(self) -> dict:
        return {
            "takes": [str(r.path) for r in self.plan.ranges],
            "output": self.output,
            "otio": self.otio,
            "dry_run": self.output is None,
            "fps": str(self.plan.fps),
            "frame_size": list(self.plan.frame_size),
            "frames": self.plan.output_frames,
            "frames_written": self.frames_written,
            "ranges": [{"take": r.path, "first": r.first, "end": r.end} for r in self.plan.ranges],
            "joins": [j.to_dict() for j in self.plan.joins],
            "seconds": round(self.seconds, 3),
            "notes": self.notes,
        }


def check_takes(paths: list[str]) -> tuple[list[VideoInfo], list[str]]:
    """Probe every take; refuse what cannot be joined, note what is conformed to the first."""
    if len(paths) < 2:
        raise UsageError("join needs at least two takes, e.g. povkit join A.mp4 B.mp4 -o out.mp4")
    infos = [probe(p) for p in paths]
    first, notes = infos[0], list(output_format_notes(infos[0]))
    for info in infos[1:]:
        ratio = float(info.average_fps) / float(first.average_fps)
        if abs(ratio - 1) > RATE_TOLERANCE:
            raise UsageError(
                f"{info.path}: {float(info.average_fps):.3f} fps, but the first take runs at "
                f"{float(first.average_fps):.3f} fps; convert it to that rate first"
            )
        if (info.width, info.height) != (first.width, first.height):
            shape = first.display_width / first.height
            rows, columns = fill_crop((info.width, info.height), float(info.sample_aspect), shape)
            kept = ""
            if columns != slice(None):
                kept = ", its sides cropped to keep its shape"
            elif rows != slice(None):
                kept = ", its top and bottom cropped to keep its shape"
            notes.append(
                f"{info.path}: {info.width}x{info.height} scaled to the first take's "
                f"{first.width}x{first.height}{kept}"
            )
        if info.rotation != first.rotation:
            notes.append(
                f"{info.path}: display rotation {info.rotation} differs from the first take's "
                f"{first.rotation}; the output uses the first take's"
            )
    return infos, notes


def plan_joins(
    paths: list[str],
    infos: list[VideoInfo],
    options: JoinOptions,
    *,
    tracking: TrackingOptions | None = None,
) -> JoinPlan:
    """Measure the takes' ends and choose the best join between each pair of neighbours."""
    tracking = tracking or TrackingOptions()
    first = infos[0]
    fps = Fraction(first.average_fps).limit_denominator(1001)
    size = analysis_size(first, tracking.analysis_width)
    window = max(2, round(options.window_s * float(fps)))
    transition = max(2, round(options.transition_s * float(fps)))
    width, height = first.width - first.width % 2, first.height - first.height % 2
    px_per_analysis = width / size[0]
    half, rest = transition // 2, transition - transition // 2
    counts: list[int] = []
    cuts, joins, next_free = [], [], 0
    previous: TakeWindows | None = None
    with progress("measuring takes", sum(i.frame_count for i in infos)) as tick:
        for index, (path, info) in enumerate(zip(paths, infos, strict=True)):
            take = measure_take(
                path,
                window_frames=window,
                size=size,
                fps=float(fps),
                info=info,
                options=tracking,
                on_frame=tick,
            )
            take.report.warn_if_damaged(info)
            counts.append(take.frame_count)
            if previous is not None:  # only two takes' windows are held at a time
                ranked = score_candidates(
                    previous.tail,
                    take.head,
                    match_views(previous.tail_greys, take.head_greys),
                    transition_frames=transition,
                    weights=options.weights,
                    a_frames=previous.frame_count,
                    b_frames=take.frame_count,
                    a_first_allowed=next_free,
                    limit=options.listed,
                )
                if not ranked:
                    raise UsageError(
                        f"{paths[index - 1]} and {path}: too short for a "
                        f"{options.transition_s:g} s transition; use a shorter --transition"
                    )
                best = ranked[0]
                alignment = _alignment(previous, take, best, tracking) * np.array(
                    [px_per_analysis, px_per_analysis, 1, 1]
                )
                velocity = np.array(best.velocity) * width / float(fps)
                cuts.append((best.out_frame_a, best.in_frame_b))
                joins.append((index - 1, best, alignment, velocity, ranked))
                next_free = best.in_frame_b + rest
            previous = take
    ranges = take_ranges([str(p) for p in paths], counts, cuts)
    outputs = output_cut_frames(ranges)
    planned = tuple(
        PlannedJoin(
            index=index,
            candidate=best,
            half=half,
            rest=rest,
            output_frame=outputs[index],
            alignment=tuple(float(v) for v in alignment),
            velocity=(float(velocity[0]), float(velocity[1])),
            style=transition_style(best, options.style),
            alternatives=tuple(listed),
        )
        for (index, best, alignment, velocity, listed) in joins
    )
    return JoinPlan(ranges=ranges, joins=planned, fps=fps, frame_size=(width, height))


def _alignment(
    a: TakeWindows, b: TakeWindows, best: JoinCandidate, tracking: TrackingOptions
) -> np.ndarray:
    """Similarity (analysis pixels) from A's out-frame onto B's in-frame, refined by tracked
    corners; none where the views do not line up at all."""
    if best.cues["view"] <= 0:
        return np.zeros(4)
    i = int(np.flatnonzero(a.tail.frames == best.out_frame_a)[0])
    j = int(np.flatnonzero(b.head.frames == best.in_frame_b)[0])
    alignment = refine_alignment(
        a.tail_greys[i], b.head_greys[j], np.array(best.alignment), tracking
    )
    return _plausible(alignment, a.tail_greys[i].shape[::-1])


def _plausible(alignment: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The alignment, or none if it would slide the picture by more than a quarter frame or
    turn or zoom it visibly: such a warp shows more border than it hides cut."""
    too_far = np.hypot(*alignment[:2]) > 0.25 * size[0]
    if too_far or abs(alignment[2]) > 0.1 or abs(alignment[3]) > 0.1:
        return np.zeros(4)
    return np.asarray(alignment, dtype=np.float64)


def output_audio(infos: list[VideoInfo]) -> tuple[tuple[int, str] | None, list[str]]:
    """Sample rate and layout of the joined sound (the first take's that has any), and a note
    for each take whose sound is converted to it or missing."""
    formats = [audio_format(info.path) if info.audio_codec else None for info in infos]
    chosen = next((f for f in formats if f), None)
    notes = []
    for info, found in zip(infos, formats, strict=True):
        if chosen and not found:
            notes.append(f"{info.path}: no sound; silence in its place")
        elif chosen and found != chosen:
            notes.append(
                f"{info.path}: {found[0]} Hz {found[1]} sound converted to the joined "
                f"{chosen[0]} Hz {chosen[1]}"
            )
    return chosen, notes


def join_takes(
    paths: list[str | os.PathLike],
    output: str | os.PathLike | None,
    *,
    otio_path: str | os.PathLike | None = None,
    options: JoinOptions | None = None,
    crf: float = 18,
    preset: str = "veryfast",
) -> JoinResult:
    """Join ``paths`` into ``output`` (None: plan only) and write the OTIO timeline beside it."""
    from povkit.edit import write_timeline
    from povkit.edit.timeline import join_timeline
    from povkit.render.transitions import render_join_plan

    started = time.perf_counter()
    check_encoding_options(crf=crf, preset=preset)
    options = options or JoinOptions()
    paths = [str(p) for p in paths]
    if output is not None:
        output = Path(output)
        otio_path = Path(otio_path) if otio_path else output.with_suffix(".otio")
        if otio_path.suffix.lower() != ".otio":
            raise UsageError(f"{otio_path}: the timeline must end in .otio")
        check_output_folder(otio_path)
        for path in paths:
            check_output_path(path, output)
            if otio_path.exists() and otio_path.resolve() == Path(path).resolve():
                raise UsageError(f"{otio_path}: timeline would overwrite a take; choose another")
    infos, notes = check_takes(paths)
    audio, sound_notes = output_audio(infos)
    notes += sound_notes
    for note in notes:
        log.warning(note)
    plan = plan_joins(paths, infos, options)
    written = None
    if output is not None:
        with progress("rendering", plan.output_frames) as tick:
            written = render_join_plan(
                plan,
                output,
                infos,
                audio=audio,
                crf=crf,
                preset=preset,
                on_frame=tick,
            )
        write_timeline(join_timeline(plan, name=output.stem), otio_path)
    return JoinResult(
        plan=plan,
        output=str(output) if output is not None else None,
        otio=str(otio_path) if output is not None else None,
        frames_written=written,
        seconds=time.perf_counter() - started,
        notes=notes,
    )
