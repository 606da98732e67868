"""Build OpenTimelineIO timelines from pieces of source videos, frame-exact at the edit rate:
the shots ``povkit cuts`` finds, and the takes and transitions of ``povkit join``.

Source times are seconds since a file's first frame (its PTS offset removed, which is how
editing software numbers a file without timecode); they become whole frames at the edit rate,
so a variable-frame-rate file lands on the frame grid an editor conforms it to.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio

from povkit.plan.joins import JoinPlan
from povkit.types import VideoInfo

MAX_EDIT_RATE = 120
"""Frames per second above which a container's nominal rate is a time base, not a frame rate."""
SAME_RATE = 2e-6
"""Rates closer than this (relative) are one rate written two ways: 23.976, 29.97 and 59.94
differ from the NTSC rates by 1e-6, so counting in either moves a frame number by one only
after 250,000 frames (2.3 hours at 29.97 fps)."""


@dataclass(frozen=True)
class SourceClip:
    """One piece of a source video to place on a timeline, in seconds since its first frame."""

    name: str
    media: str
    """Path of the source video."""
    start_s: float
    end_s: float
    media_duration_s: float
    """Length of the whole source, for the media reference's available range."""
    dissolve_in_s: tuple[float, float] | None = None
    """A dissolve into this clip from the one before: its seconds before and after the cut."""


def edit_rate(info: VideoInfo) -> Fraction:
    """The frame rate a timeline for ``info`` counts in: the nominal rate where it is a real
    frame rate (for a VFR file, the grid its frames sit on), else the average rate."""
    nominal, average = info.nominal_fps, info.average_fps
    rate = nominal if 0 < nominal <= MAX_EDIT_RATE and nominal >= 0.99 * average else average
    return timecode_rate(rate)


def timecode_rate(rate: Fraction) -> Fraction:
    """``rate``, or the SMPTE timecode rate it rounds (an AVI's 2997/125 is 24000/1001 fps),
    so that EDL and FCP XML can count it."""
    nearest = otio.opentime.RationalTime.nearest_smpte_timecode_rate(float(rate))
    smpte = Fraction(nearest).limit_denominator(1001)
    return smpte if abs(smpte - rate) <= SAME_RATE * rate else rate


def to_frames(seconds: float, rate: Fraction) -> int:
    """Nearest whole frame at ``rate`` to ``seconds``."""
    return round(seconds * rate)


def build_timeline(name: str, clips: list[SourceClip], rate: Fraction) -> otio.schema.Timeline:
    """A one-track timeline with ``clips`` back to back, each referencing its source file, and
    a dissolve where a clip has one in."""
    fps = float(rate)
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    unclaimed = 0  # frames of the clip before that no dissolve has claimed yet
    for clip in clips:
        first = to_frames(clip.start_s, rate)
        length = max(1, to_frames(clip.end_s, rate) - first)
        before = after = 0
        if clip.dissolve_in_s and len(track):  # within both clips, else a cut
            before, after = (to_frames(s, rate) for s in clip.dissolve_in_s)
            before, after = min(before, unclaimed), min(after, length)
        unclaimed = length - after if before > 0 and after > 0 else length
        if before > 0 and after > 0:
            track.append(
                otio.schema.Transition(
                    name=f"dissolve into {clip.name}",
                    transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve,
                    in_offset=otio.opentime.RationalTime(before, fps),
                    out_offset=otio.opentime.RationalTime(after, fps),
                )
            )
        reference = otio.schema.ExternalReference(
            target_url=Path(clip.media).resolve().as_uri(),
            available_range=otio.opentime.TimeRange(
                otio.opentime.RationalTime(0, fps),
                otio.opentime.RationalTime(
                    max(length, to_frames(clip.media_duration_s, rate)), fps
                ),
            ),
        )
        reference.name = Path(clip.media).name
        track.append(
            otio.schema.Clip(
                name=clip.name,
                media_reference=reference,
                source_range=otio.opentime.TimeRange(
                    otio.opentime.RationalTime(first, fps), otio.opentime.RationalTime(length, fps)
                ),
            )
        )
    timeline = otio.schema.Timeline(name=name)
    timeline.global_start_time = otio.opentime.RationalTime(0, fps)
    timeline.tracks.append(track)
    return timeline


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
