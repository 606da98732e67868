"""Deliberate moves modelled as minimum-jerk steps (povkit.plan.moves)."""

import numpy as np

from povkit.plan.moves import minimum_jerk, move_steps

FPS = 30.0


def _walk(seconds: float = 8.0, seed: int = 0):
    """Frame times, a slow sway, footstep bob at 1.9 Hz and a little noise (pixels)."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * FPS)) / FPS
    sway = 20 * np.sin(2 * np.pi * 0.07 * t + 0.4)
    bob = 1.2 * np.sin(2 * np.pi * 1.9 * t) + 0.4 * np.cos(2 * np.pi * 3.8 * t)
    return t, sway, bob, 0.2 * rng.standard_normal(len(t))


def test_minimum_jerk_rises_from_rest_to_rest():
    s = np.array([-1.0, 0.0, 0.5, 1.0, 2.0])
    assert np.allclose(minimum_jerk(s), [0, 0, 0.5, 1, 1])
    slope = np.gradient(minimum_jerk(np.linspace(0, 1, 1001)), 1 / 1000)
    assert abs(slope[0]) < 1e-2 and abs(slope[-1]) < 1e-2 and abs(slope[500] - 1.875) < 1e-3


def test_a_turn_and_a_whip_pan_are_recovered_under_bob():
    t, sway, bob, noise = _walk()
    turns = 240 * minimum_jerk((t - 2.1) / 0.9) - 340 * minimum_jerk((t - 5.0) / 0.24)
    inside = ((t > 1.9) & (t < 3.2)) | ((t > 4.8) & (t < 5.5))
    gait = np.column_stack([np.sin(2 * np.pi * 1.9 * t), np.cos(2 * np.pi * 1.9 * t)])
    gait = np.column_stack([gait, np.sin(2 * np.pi * 3.8 * t), np.cos(2 * np.pi * 3.8 * t)])
    steps = move_steps(sway + turns + bob + noise, t, inside, shake_level=1.3, gait=gait)
    error = steps - turns
    assert np.sqrt(np.mean((error - error.mean()) ** 2)) < 0.5  # pixels, against 1.3 of shake


def test_a_wobble_that_is_no_step_gets_none():
    t, sway, bob, noise = _walk()
    wobble = 30 * np.sin(2 * np.pi * 1.2 * t) * ((t > 3) & (t < 5))
    inside = (t > 2.8) & (t < 5.2)
    assert not move_steps(sway + wobble + bob + noise, t, inside, shake_level=1.3).any()


def test_a_move_cut_off_by_the_clip_end_gets_none():
    t, sway, bob, noise = _walk()
    turn = 240 * minimum_jerk((t - 7.7) / 0.9)  # still turning when the clip ends at 8 s
    inside = t > 7.5
    assert not move_steps(sway + turn + bob + noise, t, inside, shake_level=1.3).any()
