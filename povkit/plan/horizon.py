"""Horizon lock: turn each frame's roll correction towards level, within the crop."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from povkit.geometry import turned
from povkit.plan.crop import required_zoom, shrink_to_fit, zoom_for, zoom_grown_note
from povkit.types import WarpPlan


def lock_horizon(
    plan: WarpPlan,
    level_roll: np.ndarray,
    times: np.ndarray,
    *,
    amount: float,
    max_zoom: float,
) -> WarpPlan:
    """Blend each frame's roll correction with the one that levels it (``amount`` 0-1).

    ``level_roll`` is the camera's roll from level per frame (clockwise positive): the content
    is turned by its opposite, so rotating it back by ``level_roll`` levels the horizon. The zoom
    is then recomputed as the planner does (static, or a smooth envelope where it varied).
    """
    if not 0 <= amount <= 1:
        raise ValueError(f"horizon lock amount must be within 0 and 1, got {amount}")
    size = plan.frame_size
    corrections = plan.corrections.copy()
    corrections[:, 2] = (1 - amount) * corrections[:, 2] + amount * level_roll
    # the planned shift is the smooth turn's, in the axes of the roll it was planned with: turn
    # it with the picture, or the turns would be read in tilted axes and the shake come back
    corrections[:, :2] = turned(corrections[:, :2], corrections[:, 2] - plan.corrections[:, 2])
    fitted = shrink_to_fit(corrections[:, :3], size, max_zoom)
    notes = list(plan.notes)
    kept = np.abs(fitted[:, 2] - corrections[:, 2]) > 1e-9
    if kept.any():
        notes.append(f"the horizon gave way to the crop on {kept.sum()} of {len(plan)} frames")
    corrections[:, :3] = fitted
    zoom = np.minimum(zoom_for(required_zoom(fitted, size), plan.zoom, times), max_zoom)
    notes += zoom_grown_note(plan.zoom, zoom, "levelling the horizon")
    return replace(plan, corrections=corrections, zoom=zoom, notes=tuple(notes))
