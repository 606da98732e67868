"""povkit join: candidates scored from known cues, frame-exact output and timeline, bad input."""

import json

import cv2
import numpy as np
import opentimelineio as otio
import pytest

from povkit.cuts import detect_shots
from povkit.io.synthetic import write_synthetic_clip
from povkit.io.video import VideoReader, probe
from povkit.io.writer import encode_frames
from povkit.plan.joins import (
    JoinWeights,
    PlannedJoin,
    ViewMatch,
    WindowFeatures,
    score_candidates,
    transition_style,
)
from povkit.render.transitions import whip_frame


def _features(n, *, velocity=(0.0, 0.0), sharpness=100.0, brightness=0.5, occlusion=0.0):
    def column(value):
        return np.broadcast_to(np.asarray(value, dtype=float), (n,)).copy()

    return WindowFeatures(
        frames=np.arange(n),
        velocity=np.broadcast_to(np.asarray(velocity, dtype=float), (n, 2)).copy(),
        sharpness=column(sharpness),
        brightness=column(brightness),
        occlusion=column(occlusion),
    )


def _no_match(na, nb):
    return ViewMatch(score=np.zeros((na, nb)), params=np.zeros((na, nb, 4)))


def _best(a, b, view=None, transition=4):
    view = view or _no_match(len(a), len(b))
    return score_candidates(a, b, view, transition_frames=transition)[0]


def test_a_whip_pan_that_carries_on_wins():
    n = 30
    speed = np.zeros((n, 2))
    speed[10:16, 0] = 3.0  # a whip pan in A at frames 10-15
    a = WindowFeatures(np.arange(n), speed, np.full(n, 100.0), np.full(n, 0.5), np.zeros(n))
    b_speed = np.zeros((n, 2))
    b_speed[20:26, 0] = 3.0  # the same direction in B at 20-25
    b_speed[5:11, 0] = -3.0  # and the opposite way at 5-10
    b = WindowFeatures(np.arange(n), b_speed, np.full(n, 100.0), np.full(n, 0.5), np.zeros(n))
    best = _best(a, b)
    assert 10 <= best.out_frame_a <= 15 and 20 <= best.in_frame_b <= 25
    assert best.cues["motion"] > 0.8
    assert any("pan carries" in r for r in best.reasons)


def test_darkness_blur_occlusion_and_view_each_draw_the_join():
    n = 20
    plain = _features(n)
    dark = _features(n, brightness=np.where(np.arange(n) == 12, 0.0, 0.5))
    best = _best(dark, plain, transition=2)
    assert best.out_frame_a == 12 and best.cues["darkness"] == pytest.approx(0.25)
    blurred = _features(n, sharpness=np.where(np.arange(n) == 7, 1.0, 100.0))
    assert _best(plain, blurred, transition=2).in_frame_b == 7
    covered = _features(n, occlusion=np.where(np.arange(n) == 9, 1.0, 0.0))
    assert _best(covered, plain, transition=2).out_frame_a == 9
    view = _no_match(n, n)
    view.score[5, 8] = 1.0
    best = _best(plain, plain, view=view, transition=2)
    assert (best.out_frame_a, best.in_frame_b) == (5, 8)
    assert "views line up" in " ".join(best.reasons)


def test_auto_style_whips_only_where_no_cue_carries_the_join():
    plain = _best(_features(10), _features(10))
    assert plain.reasons == ("no strong cue: best of a plain window",)
    assert transition_style(plain) == "whip"
    assert transition_style(plain, "dissolve") == "dissolve"
    pan = _best(_features(10, velocity=(2.0, 0.0)), _features(10, velocity=(2.0, 0.0)))
    assert transition_style(pan) == "dissolve"
    dark = _best(_features(10, brightness=0.05), _features(10, brightness=0.05))
    assert transition_style(dark) == "dissolve"
    with pytest.raises(ValueError, match="style"):
        transition_style(plain, "wipe")


def test_whip_frames_streak_along_the_pan_and_hand_over_from_a_to_b():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (90, 160, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (90, 160, 3), dtype=np.uint8)
    plain = _best(_features(10), _features(10))
    join = PlannedJoin(0, plain, 6, 6, 6, (0.0, 0.0, 0.0, 0.0), (0.0, 0.0), style="whip")
    frames = [whip_frame(a, b, join, k).astype(float) for k in range(12)]

    def closer_to_a(frame):
        return np.abs(frame - a).mean() < np.abs(frame - b).mean()

    assert closer_to_a(frames[0]) and not closer_to_a(frames[-1])
    middle = frames[6]
    along = np.abs(np.diff(middle, axis=1)).mean()  # the default whip is horizontal
    across = np.abs(np.diff(middle, axis=0)).mean()
    assert along < 0.1 * across
    down = PlannedJoin(0, plain, 6, 6, 6, (0.0, 0.0, 0.0, 0.0), (0.5, 3.0), style="whip")
    streak = whip_frame(a, b, down, 6).astype(float)  # the content moves down: a vertical whip
    assert np.abs(np.diff(streak, axis=0)).mean() < 0.1 * np.abs(np.diff(streak, axis=1)).mean()


def test_candidates_leave_room_for_the_transition():
    a, b = _features(10), _features(10)
    for candidate in score_candidates(a, b, _no_match(10, 10), transition_frames=6):
        assert candidate.out_frame_a - 3 >= 0 and candidate.out_frame_a + 3 <= 10
        assert candidate.in_frame_b - 3 >= 0
    assert score_candidates(a, b, _no_match(10, 10), transition_frames=12) == []
    with pytest.raises(ValueError, match="weights"):
        JoinWeights(motion=-1)


@pytest.fixture(scope="module")
def takes(tmp_path_factory):
    folder = tmp_path_factory.mktemp("takes")
    paths = {}
    for name, seed, size, fps in (
        ("a", 3, (320, 180), 30),
        ("b", 4, (320, 180), 30),
        ("small", 5, (256, 144), 30),
        ("four_three", 7, (240, 180), 30),
        ("pal", 6, (320, 180), 25),
    ):
        path = folder / f"{name}.mp4"
        write_synthetic_clip(
            path,
            seed=seed,
            seconds=3.0,
            width=size[0],
            height=size[1],
            fps=fps,
            whip_pans=0,
            head_turns=0,
        )
        paths[name] = path
    return paths


def _grey_frames(path):
    with VideoReader(path) as reader:
        return [np.asarray(f.to_ndarray(format="gray"), dtype=np.float32) for f in reader.frames()]


SAME_FRAME_DB = 32
"""PSNR of a re-encoded frame against its source (neighbouring frames score 18-26 dB; the
last frame before a whip pan, whose bits x264 spends elsewhere, 34.8)."""


def _psnr(x, y):
    return 10 * np.log10(255**2 / max(float(np.mean((x - y) ** 2)), 1e-9))


def test_join_renders_exactly_the_timeline(tmp_path, takes, run_cli):
    out = tmp_path / "joined.mp4"
    code, stdout, _ = run_cli("join", takes["a"], takes["b"], "-o", out, "--json")
    assert code == 0
    data = json.loads(stdout)
    (join,) = data["joins"]
    assert {"output_frame", "out_frame_a", "in_frame_b", "score"} <= set(join)

    timeline = otio.adapters.read_from_file(str(tmp_path / "joined.otio"))
    video = timeline.video_tracks()[0]
    clips = list(video.find_clips())
    (transition,) = [c for c in video if isinstance(c, otio.schema.Transition)]
    rate = float(probe(takes["a"]).average_fps)
    assert [c.source_range.start_time.to_frames() for c in clips] == [0, join["in_frame_b"]]
    assert clips[0].source_range.duration.to_frames() == join["out_frame_a"]
    assert clips[0].source_range.start_time.rate == pytest.approx(rate)
    half = transition.in_offset.to_frames()
    assert half + transition.out_offset.to_frames() == join["transition_frames"]
    assert video.range_of_child(transition).start_time.to_frames() == join["output_frame"] - half

    frames = _grey_frames(out)
    assert len(frames) == timeline.duration().to_frames() == data["frames"]
    a, b = _grey_frames(takes["a"]), _grey_frames(takes["b"])
    start, end = (
        join["output_frame"] - half,
        join["output_frame"] - half + join["transition_frames"],
    )
    for k in (0, start // 2, start - 1):  # before the transition: A's frames, one for one
        assert _psnr(frames[k], a[k]) > SAME_FRAME_DB
    offset = join["in_frame_b"] - join["output_frame"]
    for k in (end, (end + len(frames)) // 2, len(frames) - 1):  # after it: B's
        assert _psnr(frames[k], b[k + offset]) > SAME_FRAME_DB
    # the sound: A's beeps (one a second) before the transition, B's after it, on time
    fps = float(probe(out).average_fps)
    beeps = _beep_onsets(out)
    expected = [t for t in range(3) if t < start / fps - 0.05]
    expected += [
        join["output_frame"] / fps + s - join["in_frame_b"] / fps
        for s in range(3)
        if s > (join["in_frame_b"] - half + join["transition_frames"]) / fps
    ]
    assert len(beeps) == len(expected)
    assert np.abs(np.array(beeps) - np.array(expected)).max() < 0.015


def _beep_onsets(path):
    """Seconds at which the synthetic 1 kHz beeps start (the file's own edit trims the AAC
    encoder's priming: stripping it here once hid the joined sound running 23 ms late)."""
    import av

    with av.open(str(path)) as container:
        sound = np.concatenate([f.to_ndarray()[0] for f in container.decode(audio=0)])
    blocks = np.abs(sound[: len(sound) // 240 * 240]).reshape(-1, 240).max(axis=1)
    rises = np.flatnonzero(np.diff((blocks > 0.1).astype(int)) == 1) + 1
    return list(rises * 240 / 48000)


def test_a_join_with_no_cue_is_a_whip_pan_the_cut_detector_does_not_see(tmp_path, takes, run_cli):
    """Two places with nothing to hide a cut in: a plain dissolve between them is found by
    ``povkit cuts``; the whip pan that ``auto`` chooses there is not."""
    found = {}
    for style in ("auto", "dissolve"):
        out = tmp_path / f"{style}.mp4"
        args = ("join", takes["a"], takes["b"], "-o", out, "--style", style, "--json")
        code, stdout, _ = run_cli(*args)
        assert code == 0
        (join,) = json.loads(stdout)["joins"]
        first = join["transition_start"]
        last = first + join["transition_frames"] - 1
        found[join["style"]] = [c for c in detect_shots(out).cuts if first - 2 <= c <= last + 2]
    assert found["whip"] == []
    assert found["dissolve"]


def test_dry_run_ranks_candidates_and_writes_nothing(tmp_path, takes, run_cli):
    code, stdout, _ = run_cli("join", takes["a"], "--dry-run", takes["b"], "--json")  # any order
    assert code == 0
    (join,) = json.loads(stdout)["joins"]
    scores = [c["score"] for c in join["candidates"]]
    assert scores == sorted(scores, reverse=True) and join["score"] == scores[0]
    assert all(c["reasons"] for c in join["candidates"])
    assert not list(tmp_path.iterdir())


def test_different_size_is_scaled_with_a_note(tmp_path, takes, run_cli):
    out = tmp_path / "o.mp4"
    code, stdout, _ = run_cli("join", takes["a"], takes["small"], "-o", out, "--json")
    assert code == 0
    data = json.loads(stdout)
    assert any("scaled" in w for w in data["warnings"])
    assert (probe(out).width, probe(out).height) == (320, 180)


def test_a_take_of_another_shape_is_cropped_to_fill_not_stretched(tmp_path, takes, run_cli):
    out = tmp_path / "o.mp4"
    args = ("join", takes["a"], takes["four_three"], "-o", out, "--json")
    code, stdout, _ = run_cli(*args)
    assert code == 0
    data = json.loads(stdout)
    assert any("top and bottom cropped to keep its shape" in w for w in data["warnings"])
    last_out = _grey_frames(out)[-1]
    last_in = _grey_frames(takes["four_three"])[-1]  # 240x180: its middle 240x135 is shown
    kept = cv2.resize(last_in[22:157], (320, 180), interpolation=cv2.INTER_AREA)
    stretched = cv2.resize(last_in, (320, 180), interpolation=cv2.INTER_AREA)
    assert _psnr(last_out, kept) > SAME_FRAME_DB > _psnr(last_out, stretched)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("single", "at least two takes"),
        ("rate", "fps"),
        ("broken", "not a readable video"),
        ("preset", "--preset must be one of"),
        ("crf", "--crf must be between 0 and 51"),
        ("timeline", "output folder does not exist"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, takes, case, message, run_cli):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all\n")
    inputs = {
        "single": [takes["a"]],
        "rate": [takes["a"], takes["pal"]],
        "broken": [takes["a"], broken],
        "preset": [takes["a"], takes["b"], "--preset", "bogus"],
        "crf": [takes["a"], takes["b"], "--crf", "60"],
        "timeline": [takes["a"], takes["b"], "--otio", tmp_path / "missing" / "t.otio"],
    }[case]
    code, _, err = run_cli("join", *inputs, "-o", tmp_path / "o.mp4")
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1
    assert not list(tmp_path.glob("*o.*"))


def test_join_encodes_with_the_x264_settings_asked(tmp_path, takes, run_cli):
    out = tmp_path / "o.mp4"
    code, _, _ = run_cli(
        "join", takes["a"], takes["b"], "-o", out, "--crf", "30", "--preset", "fast"
    )
    assert code == 0
    settings = out.read_bytes()  # x264 writes its settings into the first frame
    assert b"crf=30.0" in settings and b"subme=6" in settings  # subme=6: preset fast


def test_real_gopro_walks_join(tmp_path, real_clip, run_cli):
    hero7 = real_clip("gyro/gopro_hero7_hypersmooth_walk.mp4")
    gopro_max = real_clip("gyro/gopro_max_walk.mp4")
    code, stdout, _ = run_cli("join", hero7, gopro_max, "--dry-run", "--json")
    assert code == 0
    (join,) = json.loads(stdout)["joins"]
    assert join["out_frame_a"] > probe(hero7).frame_count - 2 * 30
    assert join["in_frame_b"] < 2 * 30


def test_three_takes_chain_and_the_timeline_goes_where_asked(tmp_path, takes, run_cli):
    out, timeline_path = tmp_path / "three.mkv", tmp_path / "edit.otio"
    args = ("join", takes["a"], takes["b"], takes["a"], "-o", out, "--otio", timeline_path)
    code, stdout, _ = run_cli(*args, "--transition", "0.2", "--json")
    assert code == 0
    data = json.loads(stdout)
    first, second = data["joins"]
    assert second["output_frame"] - first["output_frame"] == (
        second["out_frame_a"] - first["in_frame_b"]
    )
    timeline = otio.adapters.read_from_file(str(timeline_path))
    clips = list(timeline.video_tracks()[0].find_clips())
    assert [
        (c.source_range.start_time.to_frames(), c.source_range.end_time_exclusive().to_frames())
        for c in clips
    ] == [(r["first"], r["end"]) for r in data["ranges"]]
    assert len(_grey_frames(out)) == timeline.duration().to_frames() == data["frames"]
    assert not (tmp_path / "three.otio").exists()


def test_sound_that_is_converted_or_missing_is_noted(tmp_path, takes, run_cli):
    silent = tmp_path / "silent.mp4"
    with VideoReader(takes["b"]) as reader:
        frames = [f.to_ndarray(format="rgb24") for f in reader.frames()]
    encode_frames(silent, frames, fps=probe(takes["b"]).average_fps)
    code, stdout, _ = run_cli("join", takes["a"], silent, "--dry-run", "--json")
    assert code == 0
    assert any("no sound; silence in its place" in w for w in json.loads(stdout)["warnings"])
