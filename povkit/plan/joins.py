"""Where to join two takes so that nobody sees the cut: score every out-point/in-point pair.

Pure NumPy. The inputs are per-frame features of the end of take A and the start of take B
(measured elsewhere, see ``povkit.joins.features``) and how well each A frame aligns to each B
frame; the output is every candidate pair with its score and the reasons behind it. The cues
are the ones editors of first-person films hide cuts in: a whip pan that carries on across the
cut, motion blur, darkness, something covering the lens, and two views that line up.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from fractions import Fraction

import numpy as np

CUES = ("motion", "blur", "darkness", "occlusion", "view")
"""The scored cues, each in [0, 1] per candidate: 1 hides a cut best."""
CUE_CARRIES = 0.3
"""A cue at or above this carries a candidate: it is named among the reasons, and it is
enough to hide a motion-matched dissolve."""
STYLES = ("auto", "dissolve", "whip")
"""How a join is rendered: a motion-matched dissolve, a whip pan (a swish, the picture smeared
into a fast turn and out of it), or ``auto``: the dissolve where a cue carries the join, the
whip where the takes offer none (editors hide such cuts in a whip pan; a plain dissolve
between two unrelated views is seen as one)."""


@dataclass(frozen=True)
class WindowFeatures:
    """Per-frame features of a window of one take (the end of A or the start of B).

    ``velocity`` is the content motion into each frame in frame widths per second (x, y);
    ``sharpness`` the high-frequency energy of the frame (lower is blurrier); ``brightness``
    the mean luma in [0, 1]; ``occlusion`` the share of the frame that is flat (no texture),
    as when a hand or a wall fills it.
    """

    frames: np.ndarray
    """Source frame indices (decode order) of the rows."""
    velocity: np.ndarray
    sharpness: np.ndarray
    brightness: np.ndarray
    occlusion: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.frames)
        if self.velocity.shape != (n, 2):
            raise ValueError(f"velocity needs shape ({n}, 2), got {self.velocity.shape}")
        for name in ("sharpness", "brightness", "occlusion"):
            if getattr(self, name).shape != (n,):
                raise ValueError(f"{name} needs {n} values, got {getattr(self, name).shape}")

    def __len__(self) -> int:
        return len(self.frames)


@dataclass(frozen=True)
class ViewMatch:
    """How each A frame aligns to each B frame: ``score[i, j]`` in [0, 1] and the similarity
    ``params[i, j]`` (dx, dy in display pixels, roll radians, log zoom) taking A's picture onto
    B's."""

    score: np.ndarray
    params: np.ndarray


@dataclass(frozen=True)
class JoinWeights:
    """Weights of the cues in a candidate's score (normalised to sum to 1)."""

    motion: float = 0.35
    blur: float = 0.15
    darkness: float = 0.15
    occlusion: float = 0.15
    view: float = 0.2

    def __post_init__(self) -> None:
        values = [getattr(self, f.name) for f in fields(self)]
        if any(v < 0 for v in values) or sum(values) <= 0:
            raise ValueError(f"join weights must be >= 0 and not all 0, got {values}")

    def normalised(self) -> np.ndarray:
        values = np.array([getattr(self, cue) for cue in CUES], dtype=np.float64)
        return values / values.sum()


@dataclass(frozen=True)
class JoinCandidate:
    """One out-point in A and in-point in B, scored; ``cues`` holds each cue's value."""

    out_frame_a: int
    in_frame_b: int
    score: float
    cues: dict[str, float]
    reasons: tuple[str, ...]
    alignment: tuple[float, float, float, float]
    """Similarity (dx, dy, roll, log zoom) taking A's picture at the cut onto B's."""
    velocity: tuple[float, float]
    """Mean content motion across the cut in frame widths per second (x, y)."""

    def to_dict(self) -> dict:
        return {
            "out_frame_a": self.out_frame_a,
            "in_frame_b": self.in_frame_b,
            "score": round(self.score, 4),
            "cues": {k: round(v, 4) for k, v in self.cues.items()},
            "reasons": list(self.reasons),
        }


PAN_SPEED = 0.6
"""Frame widths per second at which the motion cue is two thirds of the way to full: a whip
pan moves the picture by several frame widths a second, a walk by a tenth."""
DARK_LUMA = 0.3
"""Mean luma below which darkness starts to hide a cut (full at black)."""


def _motion_cue(va: np.ndarray, vb: np.ndarray) -> np.ndarray:
    """(n_a, n_b): fast motion in the same direction on both sides of the cut."""
    diff = np.linalg.norm(va[:, None, :] - vb[None, :, :], axis=-1)
    speed_a = np.linalg.norm(va, axis=-1)[:, None]
    speed_b = np.linalg.norm(vb, axis=-1)[None, :]
    speed = 0.5 * (speed_a + speed_b)
    carried = np.exp(-diff / np.maximum(np.maximum(speed_a, speed_b), 0.05))
    return (1 - np.exp(-speed / PAN_SPEED)) * carried


def _relative_blur(sharpness: np.ndarray) -> np.ndarray:
    """1 for the blurriest frame of a window, 0 for frames at or above its median sharpness."""
    median = float(np.median(sharpness)) if len(sharpness) else 0.0
    if median <= 0:
        return np.zeros_like(sharpness)
    return np.clip(1 - sharpness / median, 0, 1)


def _darkness(brightness: np.ndarray) -> np.ndarray:
    return np.clip(1 - brightness / DARK_LUMA, 0, 1)


def smoothed(values: np.ndarray, frames: int) -> np.ndarray:
    """Centred moving average over ``frames`` rows (edges use the rows that exist): a cue
    must hold for the length of the transition, not for one frame."""
    if frames <= 1 or len(values) == 0:
        return values
    kernel = np.ones(frames)
    pad = [(frames // 2, frames - 1 - frames // 2)] + [(0, 0)] * (values.ndim - 1)
    ones = np.pad(np.ones(len(values)), pad[0])
    counts = np.convolve(ones, kernel, mode="valid")
    padded = np.pad(values, pad)
    out = np.apply_along_axis(lambda c: np.convolve(c, kernel, mode="valid"), 0, padded)
    return out / (counts if values.ndim == 1 else counts[:, None])


def score_candidates(
    a: WindowFeatures,
    b: WindowFeatures,
    view: ViewMatch,
    *,
    transition_frames: int,
    weights: JoinWeights | None = None,
    a_frames: int | None = None,
    b_frames: int | None = None,
    a_first_allowed: int = 0,
    limit: int | None = None,
) -> list[JoinCandidate]:
    """Every (out-point of A, in-point of B) pair that leaves room for the transition, best
    first.

    The transition shows A frames ``out - half .. out + rest - 1`` blended with B frames
    ``in - half .. in + rest - 1`` (``half = transition_frames // 2``). So an out-point needs
    ``rest`` frames of A after it and its transition may not start before ``a_first_allowed``
    (where A's own in-transition ends); an in-point needs ``half`` frames of B before it and
    ``rest`` from it (``a_frames`` and ``b_frames`` are the takes' lengths). ``limit`` keeps
    only that many of the best.
    """
    weights = weights or JoinWeights()
    half = transition_frames // 2
    rest = transition_frames - half
    a_end = a_frames if a_frames is not None else int(a.frames[-1]) + 1
    ok_a = (a.frames + rest <= a_end) & (a.frames - half >= max(0, a_first_allowed))
    b_end = b_frames if b_frames is not None else int(b.frames[-1]) + 1
    ok_b = (b.frames - half >= 0) & (b.frames + rest <= b_end)
    if not ok_a.any() or not ok_b.any():
        return []
    span = max(1, transition_frames)
    va, vb = smoothed(a.velocity, span), smoothed(b.velocity, span)
    cues = {
        "motion": _motion_cue(va, vb),
        "blur": 0.5 * (smoothed(_relative_blur(a.sharpness), span)[:, None])
        + 0.5 * smoothed(_relative_blur(b.sharpness), span)[None, :],
        "darkness": 0.5 * smoothed(_darkness(a.brightness), span)[:, None]
        + 0.5 * smoothed(_darkness(b.brightness), span)[None, :],
        "occlusion": 0.5 * smoothed(a.occlusion, span)[:, None]
        + 0.5 * smoothed(b.occlusion, span)[None, :],
        "view": np.clip(view.score, 0, 1),
    }
    shape = (len(a), len(b))
    stack = np.stack([np.broadcast_to(cues[c], shape) for c in CUES])
    total = np.tensordot(weights.normalised(), stack, axes=1)
    total = np.where(ok_a[:, None] & ok_b[None, :], total, -np.inf)
    order = np.argsort(-total, axis=None, kind="stable")
    candidates = []
    for flat in order[:limit]:
        i, j = np.unravel_index(flat, shape)
        if not np.isfinite(total[i, j]):
            break
        values = {c: float(stack[k, i, j]) for k, c in enumerate(CUES)}
        velocity = 0.5 * (va[i] + vb[j])
        candidates.append(
            JoinCandidate(
                out_frame_a=int(a.frames[i]),
                in_frame_b=int(b.frames[j]),
                score=float(total[i, j]),
                cues=values,
                reasons=_reasons(values, va[i], vb[j], a.brightness[i], b.brightness[j]),
                alignment=tuple(float(v) for v in view.params[i, j]),
                velocity=(float(velocity[0]), float(velocity[1])),
            )
        )
    return candidates


def _reasons(
    cues: dict[str, float], va: np.ndarray, vb: np.ndarray, luma_a: float, luma_b: float
) -> tuple[str, ...]:
    """Plain words for the cues that carry a candidate (those at ``CUE_CARRIES`` or more)."""
    reasons = []
    if cues["motion"] >= CUE_CARRIES:
        reasons.append(
            f"pan carries across the cut ({np.linalg.norm(va):.2f} -> {np.linalg.norm(vb):.2f}"
            " frame widths/s)"
        )
    if cues["blur"] >= CUE_CARRIES:
        reasons.append("motion blur")
    if cues["darkness"] >= CUE_CARRIES:
        reasons.append(f"dark frames (luma {luma_a:.2f} / {luma_b:.2f})")
    if cues["occlusion"] >= CUE_CARRIES:
        reasons.append(f"frame covered ({cues['occlusion']:.0%} flat)")
    if cues["view"] >= CUE_CARRIES:
        reasons.append(f"views line up (match {cues['view']:.2f})")
    return tuple(reasons) or ("no strong cue: best of a plain window",)


def transition_style(candidate: JoinCandidate, requested: str = "auto") -> str:
    """The style (``STYLES``) a join at ``candidate`` is rendered in: as ``requested``, or on
    ``auto`` a dissolve where one of its cues carries it and a whip pan where none does."""
    if requested not in STYLES:
        raise ValueError(f"join style must be one of {', '.join(STYLES)}, got {requested!r}")
    if requested != "auto":
        return requested
    carried = any(value >= CUE_CARRIES for value in candidate.cues.values())
    return "dissolve" if carried else "whip"


@dataclass(frozen=True)
class TakeRange:
    """The part of a take that plays on its own: source frames ``first`` to ``end - 1``."""

    path: str
    first: int
    end: int
    frame_count: int
    """All decodable frames of the take (transitions may use frames outside the range)."""

    def __len__(self) -> int:
        return self.end - self.first


@dataclass(frozen=True)
class PlannedJoin:
    """A chosen join between take ``index`` and take ``index + 1``.

    The transition covers output frames ``output_frame - half`` to ``output_frame + rest - 1``
    and shows A frames ``out_frame_a - half + k`` blended with B frames ``in_frame_b - half + k``;
    ``alignment`` (dx, dy in output pixels, roll, log zoom) takes A's picture onto B's,
    ``velocity`` is the content motion across the cut in output pixels per frame, and
    ``style`` is how the transition looks (one of ``STYLES`` other than ``auto``).
    """

    index: int
    candidate: JoinCandidate
    half: int
    rest: int
    output_frame: int
    alignment: tuple[float, float, float, float]
    velocity: tuple[float, float]
    style: str = "dissolve"
    alternatives: tuple[JoinCandidate, ...] = ()

    @property
    def frames(self) -> int:
        return self.half + self.rest

    def to_dict(self) -> dict:
        best = self.candidate.to_dict()
        return {
            "index": self.index,
            "output_frame": self.output_frame,
            "transition_frames": self.frames,
            "transition_start": self.output_frame - self.half,
            "style": self.style,
            **best,
            "alignment": [round(v, 4) for v in self.alignment],
            "candidates": [c.to_dict() for c in self.alternatives],
        }


@dataclass(frozen=True)
class JoinPlan:
    """Everything the renderer and the timeline need: what plays when, frame for frame."""

    ranges: tuple[TakeRange, ...]
    joins: tuple[PlannedJoin, ...]
    fps: Fraction
    frame_size: tuple[int, int]

    @property
    def output_frames(self) -> int:
        return sum(len(r) for r in self.ranges)


def take_ranges(
    paths: list[str], frame_counts: list[int], cuts: list[tuple[int, int]]
) -> tuple[TakeRange, ...]:
    """Trimmed ranges of the takes for cuts ``(out_frame_a, in_frame_b)`` between neighbours."""
    firsts = [0] + [b for _, b in cuts]
    ends = [a for a, _ in cuts] + [frame_counts[-1]]
    return tuple(
        TakeRange(path, first, end, count)
        for path, first, end, count in zip(paths, firsts, ends, frame_counts, strict=True)
    )


def output_cut_frames(ranges: tuple[TakeRange, ...]) -> list[int]:
    """Output frame at which each take after the first starts."""
    return [int(v) for v in np.cumsum([len(r) for r in ranges])[:-1]]
