"""Measured motion saved once and reused: re-planning never decodes the clip for motion again."""

import json

import numpy as np
import pytest

from povkit import api
from povkit.cli import main
from povkit.errors import InputError
from povkit.io.motion_file import load_motion, save_motion
from povkit.io.synthetic import write_synthetic_clip


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("motion") / "walk.mp4"
    write_synthetic_clip(path, seconds=3, width=320, height=180, seed=3)
    return path


def test_saved_motion_loads_exactly(clip, tmp_path):
    measured = api.estimate_camera_motion(clip, gyro="off")
    loaded = load_motion(save_motion(measured, tmp_path / "m.npz", video=clip), video=clip)
    assert loaded.to_dict() == measured.to_dict() and loaded.level_roll is None
    path, original = loaded.path, measured.path
    np.testing.assert_array_equal(path.params, original.params)
    np.testing.assert_array_equal(path.valid, original.valid)
    np.testing.assert_array_equal(path.times.pts, original.times.pts)
    np.testing.assert_array_equal(path.still_share, original.still_share)
    assert path.times.time_base == original.times.time_base
    assert (path.frame_size, path.source) == (original.frame_size, original.source)


def test_stabilize_from_saved_motion_skips_measuring(clip, tmp_path, capsys, monkeypatch):
    motion = tmp_path / "walk.npz"
    assert main(["motion", str(clip), "--gyro", "off", "--save", str(motion), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["saved"] == str(motion)
    fresh = api.stabilize(clip, tmp_path / "fresh.mp4", gyro="off")

    def no_measuring(*args, **kwargs):
        raise AssertionError("motion was measured again")

    monkeypatch.setattr(api, "estimate_camera_motion", no_measuring)
    args = ["stabilize", str(clip), "-o", str(tmp_path / "again.mp4"), "--motion", str(motion)]
    assert main([*args, "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["frames"] == fresh.frames and again["zoom"] == round(fresh.zoom, 4)
    assert again["source"] == "visual" and again["warnings"] == []


def test_motion_of_another_video_is_refused(clip, tmp_path, capsys):
    other = tmp_path / "other.mp4"
    write_synthetic_clip(other, seconds=2, width=320, height=180, seed=5)
    estimate = api.estimate_camera_motion(other, gyro="off")
    motion = save_motion(estimate, tmp_path / "other.npz", video=other)
    with pytest.raises(InputError, match="measured on other.mp4"):
        load_motion(motion, video=clip)
    junk = tmp_path / "junk.npz"
    for content in (b"not numpy", b"", b"PK\x03\x04 a cut-off zip"):
        junk.write_bytes(content)
        out = tmp_path / "o.mp4"
        code = main(["stabilize", str(clip), "-o", str(out), "--motion", str(junk)])
        err = capsys.readouterr().err
        assert code == 2 and "not a readable povkit motion file" in err, content
        assert len(err.strip().splitlines()) == 1 and not out.exists()


def test_save_path_is_checked_before_measuring(clip, tmp_path, capsys):
    code = main(["motion", str(clip), "--save", str(tmp_path / "missing" / "m.npz")])
    assert code == 2 and "does not exist" in capsys.readouterr().err


def test_motion_saved_in_an_older_format_is_refused(clip, tmp_path):
    """Paths of format 2 composed similarities; read as level turns they would mislead."""
    saved = save_motion(
        api.estimate_camera_motion(clip, gyro="off"), tmp_path / "m.npz", video=clip
    )
    with np.load(saved) as data:
        fields = dict(data)
    fields["version"] = np.array(2)
    np.savez(tmp_path / "old.npz", **fields)
    with pytest.raises(InputError, match="format 2 is not 3; measure again"):
        load_motion(tmp_path / "old.npz", video=clip)
