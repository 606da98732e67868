"""Planning on arrays alone: smoothers, crop geometry, the still-camera rule."""

from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest

from povkit.plan.crop import required_zoom, shrink_to_fit, smooth_zoom_envelope
from povkit.plan.smoothing import SMOOTHERS, _footstep_bob, _gait_phase, make_smoother
from povkit.plan.stabilize import plan_stabilization
from povkit.types import CameraPath, FrameTimes

FPS = 30
SIZE = (640.0, 360.0)
SCALE = np.array([1 / 640, 1 / 640, 0.5])


def _path(columns: np.ndarray, times: np.ndarray | None = None) -> CameraPath:
    n = len(columns)
    if times is None:
        times = np.arange(n) / FPS
    params = np.zeros((n, 4))
    params[:, : columns.shape[1]] = columns
    pts = np.round(times * 90000).astype(np.int64)
    return CameraPath(FrameTimes(pts, Fraction(1, 90000)), params, np.ones(n, bool), SIZE)


def _jitter(n: int, amplitude: float = 4.0, hz: float = 2.0) -> np.ndarray:
    t = np.arange(n) / FPS
    return amplitude * np.sin(2 * np.pi * hz * t)


def test_make_smoother_names_the_choices():
    with pytest.raises(ValueError, match="adaptive, l1, fixed"):
        make_smoother("gaussian")
    with pytest.raises(ValueError, match="smoothness"):
        make_smoother("adaptive", smoothness=-1)
    assert set(SMOOTHERS) == {"adaptive", "l1", "fixed"}


@pytest.mark.parametrize("name", ["adaptive", "l1", "fixed"])
def test_smoothers_remove_footstep_jitter_within_limits(name):
    n = 300
    raw = np.zeros((n, 3))
    raw[:, 0] = 0.5 * np.arange(n) + _jitter(n)  # a slow pan plus 2 Hz bob
    limit = np.array([20.0, 20.0, 0.02])
    smooth = make_smoother(name).smooth(raw, np.arange(n) / FPS, limit, scale=SCALE)
    assert np.all(np.abs(smooth - raw) <= limit + 1e-6)
    jitter_left = np.std(np.diff(smooth[:, 0], 2))
    assert jitter_left < 0.1 * np.std(np.diff(raw[:, 0], 2))


def test_adaptive_follows_a_whip_pan_without_lag():
    n = 240
    t = np.arange(n) / FPS
    ramp = np.clip((t - 3.0) / 0.25, 0, 1)
    pan = 600 * (3 * ramp**2 - 2 * ramp**3)  # 600 px in a quarter second
    raw = np.zeros((n, 3))
    raw[:, 0] = pan + _jitter(n, 3.0)
    limit = np.array([60.0, 60.0, 0.05])
    smooth = make_smoother("adaptive").smooth(raw, t, limit, scale=SCALE)
    # the move is followed: half-way point reached within a frame of the truth
    half_truth = np.argmax(pan > 300)
    half_smooth = np.argmax(smooth[:, 0] > 300)
    assert abs(half_smooth - half_truth) <= 1
    # and the jitter away from the pan is gone (measured on accelerations: jitter, not drift)
    calm = ((t < 2.5) | (t > 4.0))[1:-1]
    left = np.diff(smooth[:, 0] - pan, 2)[calm]
    before = np.diff(raw[:, 0] - pan, 2)[calm]
    assert np.std(left) < 0.1 * np.std(before)


def test_adaptive_handles_variable_frame_times():
    rng = np.random.default_rng(0)
    times = np.cumsum(rng.uniform(0.02, 0.06, 200))
    raw = np.zeros((200, 3))
    raw[:, 0] = 4 * np.sin(2 * np.pi * 2 * times)
    smooth = make_smoother("adaptive").smooth(raw, times, np.full(3, 50.0), scale=SCALE)
    assert np.std(smooth[20:-20, 0]) < 0.5


def test_required_zoom_of_a_pure_shift():
    corrections = np.array([[32.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    zoom = required_zoom(corrections, SIZE)
    assert zoom[0] == pytest.approx(320 / (320 - 32))
    assert zoom[1] == pytest.approx(1.0)


def test_required_zoom_of_a_rotation_covers_the_corners():
    angle = np.radians(3)
    zoom = required_zoom(np.array([[0.0, 0.0, angle]]), SIZE)[0]
    # the rotated, zoomed output window must fit: check its corners numerically
    half = np.array(SIZE) / 2
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * half / zoom
    rot = np.array([[np.cos(-angle), -np.sin(-angle)], [np.sin(-angle), np.cos(-angle)]])
    inside = np.abs(corners @ rot.T) <= half + 1e-6
    assert inside.all()
    assert np.isclose(np.abs(corners @ rot.T) - half, 0, atol=1e-6).any()


def test_shrink_to_fit_respects_max_zoom():
    corrections = np.array([[100.0, 50.0, 0.05], [5.0, 0.0, 0.0]])
    fitted = shrink_to_fit(corrections, SIZE, 1.2)
    assert np.all(required_zoom(fitted, SIZE) <= 1.2 + 1e-6)
    np.testing.assert_allclose(fitted[1], corrections[1])


def test_zoom_envelope_is_smooth_and_sufficient():
    needed = np.ones(200)
    needed[100] = 1.2
    envelope = smooth_zoom_envelope(needed, 30)
    assert np.all(envelope >= needed)
    assert np.abs(np.diff(envelope)).max() < 0.02


def test_still_camera_is_left_alone():
    rng = np.random.default_rng(1)
    raw = np.cumsum(rng.normal(0, 0.01, (300, 3)) * [1, 1, 1e-5], axis=0)
    plan = plan_stabilization(_path(raw))
    assert plan.is_identity
    assert "still" in plan.notes[0]


def test_a_clip_at_twice_its_frame_rate_is_not_a_tripod_shot():
    """A handheld walk delivered at 60 fps repeats every frame: half its steps show no motion
    at all, which must not read as a still camera."""
    walk = np.repeat(_jitter(300, amplitude=6.0)[::2], 2)[:, None]
    repeats = np.zeros(300)
    repeats[1::2] = 1.0  # every tracked point stayed put
    plan = plan_stabilization(replace(_path(walk), still_share=repeats))
    assert not plan.is_identity and plan.zoom.max() > 1
    tripod = np.where(np.arange(300) % 2, 1.0, 0.6)  # things move in front of a still camera
    assert plan_stabilization(replace(_path(walk), still_share=tripod)).is_identity
    nothing_moves = np.ones(300)
    assert plan_stabilization(replace(_path(walk), still_share=nothing_moves)).is_identity


def test_plan_keeps_within_max_zoom_and_gives_way():
    n = 300
    raw = np.zeros((n, 3))
    # 30 px of 2 Hz jitter: shake, not a move, and more than max_zoom 1.05 leaves room for
    raw[:, 0] = _jitter(n, amplitude=30.0, hz=2.0)
    plan = plan_stabilization(_path(raw), max_zoom=1.05)
    assert plan.zoom.max() <= 1.05 + 1e-9
    assert np.all(required_zoom(plan.corrections, SIZE) <= plan.zoom + 1e-6)
    assert any("gave way" in note for note in plan.notes)


def test_dynamic_zoom_varies_and_covers():
    n = 300
    raw = np.zeros((n, 3))
    raw[150:, 0] = _jitter(150, amplitude=10.0)
    plan = plan_stabilization(_path(raw), dynamic_zoom=True)
    assert plan.zoom[:60].max() < plan.zoom[150:].max()
    assert np.all(required_zoom(plan.corrections, SIZE) <= plan.zoom + 1e-6)


def test_bob_inside_a_turn_follows_the_gait_read_off_another_axis():
    """The step rate drifts; pitch shows the gait all along while a turn hides it in yaw."""
    times = np.arange(0, 10, 1 / 30)
    phase = 2 * np.pi * 2.0 * times + 1.2 * np.sin(2 * np.pi * 0.15 * times)
    pitch = 0.6 * np.sin(phase + 0.3) + 0.15 * np.sin(2 * phase + 1.0)
    yaw = 0.3 * np.sin(phase + 2.0) + 0.075 * np.sin(2 * phase + 0.5)
    inside = np.zeros((len(times), 2), dtype=bool)
    inside[(times > 4) & (times < 5.5), 0] = True
    reference, gait = _gait_phase(np.column_stack([yaw, pitch]), inside, times)
    assert reference == 1
    within = inside[:, 0]
    rms = np.sqrt(np.mean(yaw**2))

    def error(gait_phase):
        predicted = _footstep_bob(yaw, times, within, gait_phase)
        return np.sqrt(np.mean((predicted[within] - yaw[within]) ** 2))

    assert error(gait) < 0.03 * rms
    assert error(None) > 0.5 * rms  # a constant step rate loses the phase as the pace drifts
