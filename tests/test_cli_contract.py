"""The CLI contract other tools rely on: --json prints one object with the documented keys."""

import json

from povkit.cli import main


def _json(capsys, *args):
    assert main([str(a) for a in args] + ["--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_stabilize_motion_and_metrics_json(tmp_path, capsys, real_clip):
    clip = real_clip("stabilize/desk_short.mp4")
    out = tmp_path / "out.mp4"
    result = _json(capsys, "stabilize", clip, "-o", out)
    assert {"output", "frames", "method", "zoom", "seconds", "warnings"} <= set(result)
    assert result["frames"] == 36 and result["method"] == "adaptive"
    motion = _json(capsys, "motion", clip)
    assert motion["source"] == "visual" and motion["frames"] == 36
    assert len(motion["dx"]) == len(motion["time"]) == 36 and motion["time"][0] == 0.0
    scores = _json(capsys, "metrics", clip, out)
    assert {"cropping", "distortion", "stability"} <= set(scores)
    assert 0.9 <= scores["cropping"] <= 1.0


def test_methods_and_zoom_options(tmp_path, capsys, real_clip):
    clip = real_clip("stabilize/desk_short.mp4")
    for method in ("l1", "fixed"):
        result = _json(
            capsys,
            "stabilize",
            clip,
            "-o",
            tmp_path / f"{method}.mp4",
            "--method",
            method,
            "--max-zoom",
            "1.1",
        )
        assert result["method"] == method and result["zoom"] <= 1.1
    result = _json(capsys, "stabilize", clip, "-o", tmp_path / "dyn.mp4", "--dynamic-zoom")
    assert result["zoom"] <= 1.25
