"""Rolling-shutter correction in the plan: each row is moved back to where the frame's middle
row saw the scene, and the crop makes room for that extra per-row motion."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from povkit.geometry import frame_center, similarity_matrices, similarity_params
from povkit.plan.crop import required_zoom, zoom_for, zoom_grown_note
from povkit.types import WarpPlan


def required_zoom_with_rows(
    corrections: np.ndarray, readout: np.ndarray, frame_size: tuple[float, float]
) -> np.ndarray:
    """Per frame, the zoom that keeps the output border-free once rows are corrected too.

    Every corner is checked against every sampled row's motion (``readout``, (N, K, 3)):
    exact at the corners' own rows, and a margin of at most the readout's spread elsewhere.
    """
    center = frame_center(frame_size)
    rigid = similarity_matrices(
        np.column_stack([corrections[:, :3], np.zeros(len(corrections))]), center
    )
    needed = np.ones(len(corrections))
    for knot in np.moveaxis(readout, 1, 0):
        row = np.column_stack([knot, np.zeros(len(knot))])
        combined = rigid @ np.linalg.inv(similarity_matrices(row, center))
        needed = np.maximum(needed, required_zoom(similarity_params(combined, center), frame_size))
    return needed


def add_rolling_shutter(
    plan: WarpPlan, readout: np.ndarray, times: np.ndarray, *, max_zoom: float
) -> WarpPlan:
    """``plan`` with per-row correction of ``readout`` ((N, K, 3) content motion at K rows
    from each frame's first to its last, relative to its middle row) and a zoom that covers
    it (within ``max_zoom``). A plan that leaves frames as they are (a still camera) is
    returned unchanged."""
    if plan.is_identity:
        return plan
    readout = np.asarray(readout, dtype=np.float64)
    if readout.ndim != 3 or readout.shape[0] != len(plan) or readout.shape[2] != 3:
        raise ValueError(
            f"rolling-shutter motion needs ({len(plan)}, K, 3) values, got {readout.shape}"
        )
    needed = required_zoom_with_rows(plan.corrections, readout, plan.frame_size)
    zoom = np.minimum(np.maximum(plan.zoom, zoom_for(needed, plan.zoom, times)), max_zoom)
    notes = plan.notes + zoom_grown_note(plan.zoom, zoom, "rolling-shutter correction")
    return replace(plan, rolling_shutter=readout, zoom=zoom, notes=notes)
