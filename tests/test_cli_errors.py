"""Bad input is one clear line and exit 2; damaged input is processed as far as it goes."""

import json
import shutil

import pytest

from povkit.errors import UsageError


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"hello, I am not a video\n", "not a readable video"), (b"", "file is empty")],
)
def test_unusable_input_is_refused(tmp_path, content, message, run_cli):
    bad = tmp_path / "clip.mp4"
    bad.write_bytes(content)
    code, out, err = run_cli("stabilize", bad, "-o", tmp_path / "out.mp4")
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1
    assert not list(tmp_path.glob("*out*"))


def test_missing_input(tmp_path, run_cli):
    code, _, err = run_cli("stabilize", tmp_path / "nope.mp4", "-o", tmp_path / "o.mp4")
    assert code == 2 and "no such file" in err


def test_output_in_missing_folder(tmp_path, real_clip, run_cli):
    clip = real_clip("stabilize/desk_short.mp4")
    code, _, err = run_cli("stabilize", clip, "-o", tmp_path / "missing" / "o.mp4")
    assert code == 2 and "does not exist" in err


def test_output_equal_to_input_leaves_it_untouched(tmp_path, real_clip, run_cli):
    clip = tmp_path / "clip.mp4"
    shutil.copy(real_clip("stabilize/desk_short.mp4"), clip)
    before = clip.read_bytes()
    code, _, err = run_cli("stabilize", clip, "-o", clip)
    assert code == 2 and "output is the input" in err
    assert clip.read_bytes() == before


def test_usage_mistakes_exit_2(tmp_path, real_clip, run_cli):
    clip = real_clip("stabilize/desk_short.mp4")
    code, _, err = run_cli("stabilize", clip, "-o", tmp_path / "o.mp4", "--max-zoom", "9")
    assert code == 2 and "max_zoom" in err
    code, _, err = run_cli("stabilize", clip)
    assert code == 2 and "--output" in err
    code, _, err = run_cli(
        "stabilize", clip, "-o", tmp_path / "o.mp4", "--smoothness", "1", "--method", "l1"
    )
    assert code == 2 and "smoothness" in err
    code, _, err = run_cli("stabilize", clip, "-o", tmp_path / "o.mp4", "--preset", "bogus")
    assert code == 2 and "--preset must be one of" in err
    assert not (tmp_path / "o.mp4").exists()


@pytest.mark.parametrize(
    ("name", "warning"),
    [
        ("forest_walk_truncated.mp4", "input ends early: 379 of 916 frames readable"),
        ("tree_cinepak.avi", "input ends early: 68 of 444 frames readable"),
        ("megamind_corrupt.avi", "motion not measurable on"),
    ],
)
def test_damaged_input_is_processed_as_far_as_it_goes(tmp_path, real_clip, name, warning, run_cli):
    clip = real_clip(f"broken/{name}")
    out = tmp_path / "out.mp4"
    code, stdout, err = run_cli("stabilize", clip, "-o", out, "--json")
    assert code == 0
    result = json.loads(stdout)
    assert any(warning in line for line in result["warnings"])
    assert any(
        line.startswith("povkit: warning: ") and warning in line for line in err.splitlines()
    )
    assert out.exists() and result["frames"] > 0
    assert [p.name for p in tmp_path.iterdir()] == ["out.mp4"]


def test_interrupted_render_leaves_no_output(tmp_path, real_clip, monkeypatch):
    from povkit import api

    clip = real_clip("stabilize/desk_short.mp4")

    def interrupt(*args, **kwargs):
        kwargs["on_frame"] = _raise_interrupt
        return original(*args, **kwargs)

    original = api.render_plan
    monkeypatch.setattr(api, "render_plan", interrupt)
    with pytest.raises(KeyboardInterrupt):
        api.stabilize(clip, tmp_path / "o.mp4")
    assert list(tmp_path.iterdir()) == []


def _raise_interrupt():
    raise KeyboardInterrupt


@pytest.mark.parametrize(
    ("sent", "code", "word"), [("SIGINT", 130, "interrupted"), ("SIGTERM", 143, "terminated")]
)
def test_a_signal_mid_render_stops_cleanly(
    tmp_path, real_clip, monkeypatch, run_cli, sent, code, word
):
    """Ctrl-C, and the SIGTERM that timeout, docker stop and batch schedulers send: one line,
    the signal's exit status, and no partial output left."""
    import os
    import signal

    from povkit import api

    def signalled(*args, **kwargs):
        kwargs["on_frame"] = lambda: os.kill(os.getpid(), getattr(signal, sent))
        return original(*args, **kwargs)

    original = api.render_plan
    monkeypatch.setattr(api, "render_plan", signalled)
    clip = real_clip("stabilize/desk_short.mp4")
    # a shell starts background jobs with Ctrl-C ignored, and Python keeps that: as a terminal's
    # foreground job would, take SIGINT as KeyboardInterrupt for this test
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        result, _, err = run_cli("stabilize", clip, "-o", tmp_path / "o.mp4")
    finally:
        signal.signal(signal.SIGINT, before)
    assert result == code and f"povkit: {word}; no output was left half-written" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--seconds", "0"], "--seconds must be within 2 and 600"),
        (["--seconds", "nan"], "--seconds must be within 2 and 600"),
        (["--width", "321"], "--width must be an even number"),
        (["--height", "8"], "--height must be an even number"),
    ],
)
def test_demo_refuses_a_walk_it_cannot_make(tmp_path, args, message, run_cli):
    code, _, err = run_cli("demo", "--out", tmp_path / "demo", *args)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "demo").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such truth file"),
        ("{}", "not a synthetic ground-truth file"),
        ("[1, 2]", "not a"),
    ],
)
def test_metrics_refuses_a_bad_truth_file(tmp_path, real_clip, content, message, run_cli):
    clip = real_clip("stabilize/desk_short.mp4")
    truth = tmp_path / "clip.truth.json"
    if content is not None:
        truth.write_text(content)
    code, _, err = run_cli("metrics", clip, clip, "--truth", truth)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_measuring_options_are_checked_and_not_silently_ignored(tmp_path, real_clip, run_cli):
    """A negative readout, or measuring options next to a motion file that is measured
    already, are usage mistakes: one line, exit 2, nothing written."""
    clip = real_clip("stabilize/desk_short.mp4")
    out = tmp_path / "o.mp4"
    code, _, err = run_cli("stabilize", clip, "-o", out, "--rolling-shutter", "-20")
    assert code == 2 and "--rolling-shutter is the sensor readout time" in err
    motion = tmp_path / "m.npz"
    assert run_cli("motion", clip, "--gyro", "off", "--save", motion)[0] == 0
    options = (["--gyro", "off"], ["--source", "visual"], ["--gyro-offset", "40"])
    for option in (*options, ["--rolling-shutter", "20"]):
        code, _, err = run_cli("stabilize", clip, "-o", out, "--motion", motion, *option)
        assert code == 2 and "is measured already" in err and len(err.strip().splitlines()) == 1
    code, _, err = run_cli("stabilize", clip, "-o", out, "--gyro", tmp_path)
    assert code == 2 and "is a folder" in err
    assert not out.exists()


def test_a_plan_made_for_another_video_is_refused(tmp_path, real_clip):
    from povkit import api
    from povkit.plan.stabilize import plan_stabilization

    desk, park = real_clip("stabilize/desk_short.mp4"), real_clip("stabilize/park_walk.mp4")
    plan = plan_stabilization(api.measure_motion(park))
    with pytest.raises(UsageError, match="plan from this video's motion"):
        api.render(desk, tmp_path / "o.mp4", plan)
    assert list(tmp_path.iterdir()) == []


def test_metrics_refuses_a_video_that_is_not_a_copy_of_the_other(tmp_path, run_cli):
    from povkit.io.synthetic import write_synthetic_clip

    for seed in (1, 2):  # two places: nothing of one is in the other
        write_synthetic_clip(
            tmp_path / f"{seed}.mp4", seed=seed, seconds=1.0, width=320, height=180
        )
    code, _, err = run_cli("metrics", tmp_path / "1.mp4", tmp_path / "2.mp4")
    assert code == 2 and "none of its frames matches" in err


def test_the_cli_can_run_in_a_worker_thread(tmp_path):
    """Signals can only be caught in the main thread; elsewhere main() runs without."""
    import threading

    from povkit.cli import main

    codes = []
    worker = threading.Thread(target=lambda: codes.append(main(["cuts", str(tmp_path / "x.mp4")])))
    worker.start()
    worker.join()
    assert codes == [2]
