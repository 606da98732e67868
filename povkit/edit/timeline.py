"""OpenTimelineIO timelines of povkit's edits: exact source ranges and the transitions between
them, so an editor can open, check or redo the cut."""

from __future__ import annotations

import os
from pathlib import Path

import opentimelineio as otio

from povkit.plan.joins import JoinPlan


def join_timeline(plan: JoinPlan, name: str = "povkit join") -> otio.schema.Timeline:
    """A video and an audio track: one clip per take range, a dissolve per join.

    Each transition's ``in_offset`` is the frames it shows before the cut and ``out_offset``
    those after, as OpenTimelineIO counts them; its metadata keeps povkit's scores.
    """
    rate = float(plan.fps)

    def frames(count: int) -> otio.opentime.RationalTime:
        return otio.opentime.RationalTime(count, rate)

    timeline = otio.schema.Timeline(name=name, global_start_time=frames(0))
    for kind in (otio.schema.TrackKind.Video, otio.schema.TrackKind.Audio):
        track = otio.schema.Track(name=kind, kind=kind)
        for index, take in enumerate(plan.ranges):
            if index > 0:
                join = plan.joins[index - 1]
                track.append(
                    otio.schema.Transition(
                        name=f"join {index}",
                        transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve,
                        in_offset=frames(join.half),
                        out_offset=frames(join.rest),
                        metadata={"povkit": join.to_dict()},
                    )
                )
            reference = otio.schema.ExternalReference(
                target_url=Path(take.path).resolve().as_uri(),
                available_range=otio.opentime.TimeRange(frames(0), frames(take.frame_count)),
            )
            track.append(
                otio.schema.Clip(
                    name=Path(take.path).name,
                    media_reference=reference,
                    source_range=otio.opentime.TimeRange(frames(take.first), frames(len(take))),
                )
            )
        timeline.tracks.append(track)
    return timeline


def write_timeline(timeline: otio.schema.Timeline, path: str | os.PathLike) -> Path:
    """Write ``timeline`` (format from the suffix) to a temporary name, then rename it."""
    path = Path(path)
    partial = path.with_name(f".{path.stem}.partial{path.suffix}")
    try:
        otio.adapters.write_to_file(timeline, str(partial))
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, path)
    return path
