"""Timelines written by extension reload frame-exact through OpenTimelineIO's own adapters."""

from fractions import Fraction

import opentimelineio as otio
import pytest

from povkit.edit import SourceClip, build_timeline, write_timeline
from povkit.errors import UsageError


def _clips(tmp_path) -> list[SourceClip]:
    walk, ride = str(tmp_path / "walk.mp4"), str(tmp_path / "ride.mov")
    return [
        SourceClip("walk shot 001", walk, start_s=0.0, end_s=4.0, media_duration_s=10.0),
        SourceClip("ride shot 002", ride, start_s=2.52, end_s=7.96, media_duration_s=8.0),
        SourceClip("walk shot 003", walk, start_s=6.04, end_s=6.08, media_duration_s=10.0),
    ]


@pytest.mark.parametrize("suffix", [".otio", ".edl", ".xml"])
def test_round_trip_is_frame_exact(tmp_path, suffix):
    clips = _clips(tmp_path)
    path = write_timeline(build_timeline("day one", clips, Fraction(25)), tmp_path / f"t{suffix}")
    options = {"rate": 25} if suffix == ".edl" else {}  # an EDL does not record its rate
    reloaded = otio.adapters.read_from_file(str(path), **options)
    ranges = [
        (c.name, c.source_range.start_time.to_frames(), c.source_range.duration.to_frames())
        for c in reloaded.find_clips()
    ]
    assert ranges == [
        ("walk shot 001", 0, 100),
        ("ride shot 002", 63, 136),
        ("walk shot 003", 151, 1),
    ]
    if suffix != ".edl":  # EDL keeps the clip name; the two others the media path too
        urls = [c.media_reference.target_url for c in reloaded.find_clips()]
        assert urls[0].endswith("walk.mp4") and urls[1].endswith("ride.mov")
    assert not list(tmp_path.glob(".*partial*"))


def test_formats_and_rates_an_editor_cannot_take_are_refused(tmp_path):
    timeline = build_timeline("t", _clips(tmp_path), Fraction(25))
    with pytest.raises(UsageError, match="unknown edit format"):
        write_timeline(timeline, tmp_path / "t.mp4")
    with pytest.raises(UsageError, match="does not exist"):
        write_timeline(timeline, tmp_path / "missing" / "t.otio")
    odd = build_timeline("t", _clips(tmp_path), Fraction(15))
    with pytest.raises(UsageError, match="SMPTE timecode"):
        write_timeline(odd, tmp_path / "t.edl")
    assert write_timeline(odd, tmp_path / "t.otio").exists()


def test_a_rate_written_short_counts_as_its_timecode_rate(tmp_path):
    """AVI files store 23.976 fps as 2997/125; editors count it as 24000/1001 (24 fps
    non-drop timecode), so EDL and FCP XML can carry it and frames keep their numbers."""
    from povkit.edit.timeline import timecode_rate

    assert timecode_rate(Fraction(2997, 125)) == Fraction(24000, 1001)
    assert timecode_rate(Fraction(2997, 100)) == Fraction(30000, 1001)
    assert timecode_rate(Fraction(15)) == Fraction(15)  # not one rate written two ways
    timeline = build_timeline("t", _clips(tmp_path), timecode_rate(Fraction(2997, 125)))
    reloaded = otio.adapters.read_from_file(
        str(write_timeline(timeline, tmp_path / "t.edl")), rate=24000 / 1001
    )
    assert [c.source_range.duration.to_frames() for c in reloaded.find_clips()] == [96, 131, 1]


def test_dissolves_close_together_stay_within_their_clips(tmp_path):
    """Two dissolves 15 frames apart at 25 fps may not claim more of the clip between them
    than it has: the second gives way."""
    media = str(tmp_path / "film.mp4")
    clips = [
        SourceClip("shot 1", media, 0.0, 4.0, 10.0),
        SourceClip("shot 2", media, 4.0, 4.6, 10.0, dissolve_in_s=(0.48, 0.48)),
        SourceClip("shot 3", media, 4.6, 6.0, 10.0, dissolve_in_s=(0.4, 0.4)),
    ]
    track = build_timeline("t", clips, Fraction(25)).video_tracks()[0]
    items = list(track)
    for index, item in enumerate(items):
        if isinstance(item, otio.schema.Transition):
            assert item.in_offset <= items[index - 1].source_range.duration
            assert item.out_offset <= items[index + 1].source_range.duration
    middle = items[2].source_range.duration.to_frames()
    claimed = items[1].out_offset.to_frames() + items[3].in_offset.to_frames()
    assert claimed <= middle == 15
