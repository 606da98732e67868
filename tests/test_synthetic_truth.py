"""Stabilization judged against the virtual head camera's ground truth."""

import json

import numpy as np
import pytest

from povkit.api import measure_motion, stabilize
from povkit.cli import main
from povkit.geometry import frame_center, similarity_matrices, similarity_params
from povkit.io.synthetic import truth_path, write_synthetic_clip
from povkit.metrics import intentional_lag_frames, pose_from_content_path, residual_shake_deg
from povkit.plan.stabilize import plan_stabilization


@pytest.fixture(scope="module")
def walk(tmp_path_factory):
    """A 12 s shaky 480x270 walk with head turns and a whip pan, and its truth."""
    clip = tmp_path_factory.mktemp("synth") / "walk.mp4"
    truth = write_synthetic_clip(clip, seconds=12, width=480, height=270, seed=4)
    return clip, truth


def _poses(walk):
    """Input, intended and planned-output camera poses (degrees) of the walk."""
    clip, truth = walk
    path = measure_motion(clip)
    plan = plan_stabilization(path)
    center = frame_center(path.frame_size)
    actual = truth.content_path("actual")
    shown = similarity_matrices(plan.corrections, center) @ similarity_matrices(
        np.column_stack([actual, np.zeros(len(actual))]), center
    )
    output = similarity_params(shown, center)[:, :3]
    pose = lambda p: pose_from_content_path(p, focal_px=truth.focal_px)  # noqa: E731
    return pose(actual), pose(truth.content_path("intentional")), pose(output), float(truth.fps)


def _composed(steps: np.ndarray, center: tuple[float, float]) -> np.ndarray:
    """Frame-0 -> frame-t similarities (x, y, angle) composed from frame-to-frame ``steps``:
    the synthetic truth's own convention."""
    rigid = np.column_stack([steps[:, :3], np.zeros(len(steps))])
    total, path = np.eye(3), []
    for step in similarity_matrices(rigid, center):
        total = step @ total
        path.append(similarity_params(total, center)[0, :3])
    return np.array(path)


def test_measured_motion_matches_the_truth(walk):
    clip, truth = walk
    path = measure_motion(clip)
    error = _composed(path.steps, frame_center(path.frame_size)) - truth.content_path("actual")
    step_error = np.diff(error, axis=0)
    assert np.sqrt(np.mean(step_error[:, :2] ** 2)) < 0.1  # pixels per frame, RMS
    assert np.abs(error[:, :2]).max() < 1.0  # accumulated drift over 12 s, pixels
    assert np.degrees(np.abs(error[:, 2]).max()) < 0.3  # accumulated roll drift, degrees


def test_turns_and_whip_pans_are_followed_without_lag(walk):
    _, intended, output, _ = _poses(walk)
    assert abs(intentional_lag_frames(output, intended)) <= 2


def test_shake_left_meets_the_acceptance_target(walk):
    actual, intended, output, fps = _poses(walk)
    left = residual_shake_deg(output, intended, fps) / residual_shake_deg(actual, intended, fps)
    assert left <= 0.10  # issue 2's target; 0.034 today (other walks: 0.025-0.043)


def test_rendered_output_scores_against_the_truth(walk, tmp_path, capsys):
    clip, _ = walk
    out = tmp_path / "stable.mp4"
    result = stabilize(clip, out)
    assert result.frames == 360
    assert main(["metrics", str(clip), str(out), "--truth", str(truth_path(clip)), "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["distortion"] >= 0.95
    assert scores["shake_left"] <= 0.3
    assert abs(scores["lag_frames"]) <= 2
