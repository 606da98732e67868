"""Output frames, timestamps, audio and rotation match the input exactly (real clips)."""

import json
from fractions import Fraction

import av
import numpy as np
import pytest

from povkit.api import stabilize
from povkit.io.video import VideoReader, luma, probe


def _frame_times(path):
    with av.open(str(path)) as container:
        frames = list(container.decode(video=0))
        return np.array([f.time for f in frames]), frames[0].rotation


def _audio_packets(path):
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        return [
            (float(p.pts * p.time_base), bytes(p))
            for p in container.demux(stream)
            if p.pts is not None
        ]


@pytest.mark.parametrize("name", ["park_walk.mp4", "stove_dog_vfr_rotated.mp4"])
def test_frames_timestamps_audio_and_rotation_match(tmp_path, real_clip, name):
    clip = real_clip(f"stabilize/{name}")
    out = tmp_path / "out.mp4"
    result = stabilize(clip, out)
    times_in, rotation_in = _frame_times(clip)
    times_out, rotation_out = _frame_times(out)
    assert result.frames == len(times_in) == len(times_out)
    np.testing.assert_allclose(times_out, times_in, atol=1e-6)
    assert probe(out).duration_s == pytest.approx(probe(clip).duration_s, abs=1e-6)  # last frame's
    assert rotation_out == rotation_in
    assert _audio_packets(out) == _audio_packets(clip)


def test_packed_b_frames_keep_their_times(tmp_path, real_clip):
    """megamind.avi stores B-frames packed: PTS invented from decode order put every frame
    after the first B-frame one frame late. It runs at a constant 24000/1001 fps from its
    second tick (a non-zero first PTS), so its frame times are known exactly."""
    out = tmp_path / "out.mp4"
    result = stabilize(real_clip("cuts/megamind.avi"), out)
    times_out, _ = _frame_times(out)
    expected = (1 + np.arange(270)) * 125 / 2997
    assert result.frames == len(times_out) == 270
    np.testing.assert_allclose(times_out, expected, atol=1e-6)


def _pts_and_luma(path, *, for_analysis):
    with VideoReader(path, for_analysis=for_analysis) as reader:
        frames = [(frame.pts, luma(frame).astype(np.int16)) for frame in reader.frames()]
        return [pts for pts, _ in frames], [picture for _, picture in frames], reader.report


@pytest.mark.parametrize("name", ["stabilize/park_walk.mp4", "cuts/megamind.avi"])
def test_analysis_decode_skips_deblocking_but_keeps_every_frame_and_time(real_clip, name):
    clip = real_clip(name)
    pts, pictures, report = _pts_and_luma(clip, for_analysis=False)
    fast_pts, fast_pictures, fast_report = _pts_and_luma(clip, for_analysis=True)
    assert fast_pts == pts and fast_report == report
    error = [np.abs(a - b).mean() for a, b in zip(pictures, fast_pictures, strict=True)]
    assert max(error) < 4  # grey levels: park_walk.mp4 drifts by 2.5 at most within a GOP
    if name.endswith(".mp4"):  # H.264 deblocks in the loop; MPEG-4 part 2 has nothing to skip
        assert max(error) > 0


def test_probe_reads_what_matters(real_clip):
    park = probe(real_clip("stabilize/park_walk.mp4"))
    assert park.variable_frame_rate and park.audio_codec == "aac"
    stove = probe(real_clip("stabilize/stove_dog_vfr_rotated.mp4"))
    assert stove.rotation == -180 and stove.variable_frame_rate
    megamind = probe(real_clip("cuts/megamind.avi"))
    assert megamind.first_pts_s == pytest.approx(0.0417, abs=1e-3)
    assert not megamind.variable_frame_rate  # its B-frame packets carry no PTS, only a DTS
    gopro = probe(real_clip("gyro/gopro_max_walk.mp4"))
    assert "gpmd" in gopro.data_streams


def _full_range_bt709_clip(path):
    """A phone-like clip: full-range BT.709 4:2:0, tagged so."""
    from povkit.synth import SyntheticCamera, head_camera_motion

    truth = head_camera_motion(seed=2, seconds=2.0, width=320, height=180)
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=30)
        video.width, video.height, video.pix_fmt = 320, 180, "yuv420p"
        context = video.codec_context
        context.color_range, context.colorspace, context.color_primaries, context.color_trc = (
            2,
            1,
            1,
            1,
        )
        for index, rgb in enumerate(SyntheticCamera(truth, seed=2).frames()):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame = frame.reformat(format="yuv420p", dst_color_range=2, dst_colorspace=1)
            frame.pts = index
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
    return path


def _colours_and_luma(path):
    with av.open(str(path)) as container:
        context = container.streams.video[0].codec_context
        tags = (context.color_range, context.colorspace, context.color_primaries, context.color_trc)
        lumas = [np.frombuffer(f.planes[0], np.uint8).mean() for f in container.decode(video=0)]
    return tags, np.array(lumas)


def test_full_range_and_colour_tags_are_kept(tmp_path, run_cli):
    """Phones record full-range video: an output left untagged is shown with crushed blacks
    and blown whites. Stabilized and joined outputs keep range, matrix, primaries, transfer."""
    clip = _full_range_bt709_clip(tmp_path / "phone.mp4")
    tags_in, luma_in = _colours_and_luma(clip)
    assert tags_in == (2, 1, 1, 1)
    for command in (["stabilize", clip], ["join", clip, clip, "--style", "dissolve"]):
        out = tmp_path / f"{command[0]}.mp4"
        assert run_cli(*command, "-o", out)[0] == 0
        tags_out, luma_out = _colours_and_luma(out)
        assert tags_out == tags_in
        assert abs(luma_out.mean() - luma_in.mean()) < 3  # the values were not squeezed either


def _with_sound(video_clip, path, codec, start_s=0.0):
    """``video_clip``'s picture (copied) with a 440 Hz tone encoded by ``codec`` into ``path``,
    starting ``start_s`` in."""
    with av.open(str(video_clip)) as source, av.open(str(path), "w") as out:
        video_in = source.streams.video[0]
        video = out.add_stream_from_template(video_in)
        sound = out.add_stream(codec, rate=48000)
        sound.layout = "stereo"
        sound.codec_context.options = {"strict": "experimental"}  # FFmpeg's own Vorbis encoder
        for packet in source.demux(video_in):
            if packet.dts is not None:
                packet.stream = video
                out.mux(packet)
        tone = np.sin(2 * np.pi * 440 * np.arange(48000 * 2) / 48000).astype(np.float32)
        frame_size = sound.codec_context.frame_size or 1024
        for start in range(0, len(tone), frame_size):
            samples = np.tile(tone[start : start + frame_size], (2, 1))
            frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="stereo")
            frame.sample_rate, frame.pts = 48000, start + round(start_s * 48000)
            frame.time_base = Fraction(1, 48000)
            out.mux(sound.encode(frame))
        out.mux(sound.encode(None))
    return path


def _sound(path):
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        samples = sum(f.samples for f in container.decode(stream))
        return stream.codec_context.name, samples


@pytest.mark.parametrize(("codec", "suffix"), [("vorbis", ".mp4"), ("opus", ".mov")])
def test_sound_a_container_cannot_hold_is_re_encoded(tmp_path, codec, suffix, run_cli):
    """Vorbis has no place in MP4 nor Opus in MOV: the sound is re-encoded to AAC, whole, and
    starts where it started (here half a second in)."""
    picture = _full_range_bt709_clip(tmp_path / "picture.mp4")
    clip = _with_sound(picture, tmp_path / "clip.mkv", codec, start_s=0.5)
    out = tmp_path / f"out{suffix}"
    assert run_cli("stabilize", clip, "-o", out)[0] == 0
    name, samples = _sound(out)
    assert name == "aac" and abs(samples - _sound(clip)[1]) <= 2048  # encoder priming and padding
    with av.open(str(out)) as container:
        sound = container.streams.audio[0]
        first = next(f for f in container.decode(sound))
        assert float(first.pts * first.time_base) == pytest.approx(0.5, abs=0.03)


def test_the_main_picture_is_used_when_a_thumbnail_track_comes_first(tmp_path, run_cli):
    from povkit.io.writer import encode_frames

    main = _full_range_bt709_clip(tmp_path / "main.mp4")
    thumbs = encode_frames(
        tmp_path / "thumbs.mp4", (np.full((90, 160, 3), 80, np.uint8) for _ in range(10)), fps=5
    )
    both = tmp_path / "both.mp4"
    with av.open(str(thumbs)) as a, av.open(str(main)) as b, av.open(str(both), "w") as out:
        tracks = [out.add_stream_from_template(s.streams.video[0]) for s in (a, b)]  # thumbs first
        for source, stream in zip((a, b), tracks, strict=True):
            for packet in source.demux(source.streams.video[0]):
                if packet.dts is not None:
                    packet.stream = stream
                    out.mux(packet)
    code, stdout, _ = run_cli("stabilize", both, "-o", tmp_path / "out.mp4", "--json")
    assert code == 0 and json.loads(stdout)["frames"] == 60
    assert probe(tmp_path / "out.mp4").width == 320


def test_what_the_output_cannot_keep_is_noted(real_clip):
    from dataclasses import replace

    from povkit.io.writer import output_format_notes

    park = probe(real_clip("stabilize/park_walk.mp4"))
    assert output_format_notes(park) == ()
    odd = replace(park, width=641, height=361, pixel_format="yuv420p10le")
    assert output_format_notes(odd) == (
        "641x361 written as 640x360: 4:2:0 video needs even sizes",
        "yuv420p10le pictures written as 8-bit 4:2:0 (yuv420p)",
    )


def test_a_full_range_take_joined_after_an_untagged_one_is_converted(tmp_path, run_cli):
    """Untagged video is shown limited range: a full-range take's pixels joined into it are
    converted (255 becomes 235), not copied to come out blown."""
    from povkit.io.synthetic import write_synthetic_clip

    plain = tmp_path / "plain.mp4"
    write_synthetic_clip(plain, seed=4, seconds=2.0, width=320, height=180)
    phone = _full_range_bt709_clip(tmp_path / "phone.mp4")
    out = tmp_path / "joined.mp4"
    assert run_cli("join", plain, phone, "-o", out, "--style", "dissolve")[0] == 0

    def brightest(path):  # of the last frame's luma, the 99th percentile
        with av.open(str(path)) as container:
            *_, last = container.decode(video=0)
        return np.percentile(np.frombuffer(last.planes[0], np.uint8), 99)

    assert brightest(out) == pytest.approx(16 + brightest(phone) * 219 / 255, abs=3)
