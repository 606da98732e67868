"""Shot-boundary detectors, chosen by name: ``pov`` (default), ``histogram``, ``fade``,
``dissolve`` and ``transnet`` (a learned model, optional).

Each detector turns per-frame change signals (:mod:`povkit.cuts.signals`) into boundaries: the
decode-order index of the first frame of each new shot. No video here, only arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from povkit.cuts.signals import LOOK_BACK, FrameScorer, FrameSignals
from povkit.registry import build_named

BLACK_LUMA = 26.0
"""Mean luma at or under which a blank frame is black (video-range 16 plus about 12 of 255)."""
BLANK_CONTRAST = 8.0
"""Luma standard deviation under which a dark frame counts as black."""
ABRUPT_COLOUR = 0.3
"""Colour change between two frames beyond which entering or leaving black is a cut, not a fade."""
RETURN_FRACTION = 0.35
"""A picture 'comes back' when its colour differs by at most this share of the change."""
RETURN_MIN_CHANGE = 0.1
"""Colour change under which colours cannot tell an interruption from a cut (no check)."""
SAME_PICTURE = 0.15
"""Colour change under which the pictures either side of a short black gap are one shot."""
_RATIO_FLOOR = 0.05
"""Added to the local baseline so that a perfectly still shot does not divide by zero, and so
that the first frame of a whip pan after still ones (a local baseline of about 0.02) does not
stand out. Set with the thresholds on ground_truth.json and whip pans of 250-1500 deg/s, seeds
0-3: the weakest cut reaches 1.39 times what it needs, the strongest whip-pan frame 0.85."""


@dataclass(frozen=True)
class Boundary:
    """The first frame of a new shot: its decode-order index, how it was reached and how sure."""

    frame: int
    kind: str
    """``cut`` (abrupt change, also into or out of black), ``fade`` (through black: the
    middle of the dip) or ``dissolve`` (a blend between two lit shots: the first frame that is
    at least half the new shot)."""
    score: float
    span: tuple[int, int] | None = None
    """First and last frame of a dissolve's blend; None for the others."""


class ShotDetector:
    """One detection method. Subclasses set ``name`` and implement ``detect``."""

    name: ClassVar[str]

    def scorer(self) -> FrameScorer | None:
        """A learned model to run on every frame of the decode pass; None for classical ones."""
        return None

    def detect(self, signals: FrameSignals, fps: float) -> list[Boundary]:
        """Boundaries in increasing frame order for a clip at about ``fps`` frames per second."""
        raise NotImplementedError


@dataclass(frozen=True)
class _AdaptiveCuts:
    """Shared parameters and logic of the detectors that look for abrupt changes."""

    threshold: float = 3.0
    """How many times the local baseline (mean change of the frames around) a cut must reach."""
    min_score: float = 0.15
    """Smallest change that can be a cut, 0-1, whatever the baseline."""
    window: int = 2
    """Frames either side that make the local baseline."""
    min_shot_s: float = 0.25
    """Shortest shot in seconds; of two boundaries closer than this the stronger is kept."""
    return_s: float = 0.5
    """A change whose picture comes back within this many seconds (a flash, a hand or a bird
    across the lens) is an interruption, not a cut; 0 turns the check off."""

    def __post_init__(self) -> None:
        if not 0 <= self.return_s <= 2:
            raise ValueError(f"return_s must be 0-2 seconds, got {self.return_s}")
        if not self.threshold >= 1:  # NaN fails too
            raise ValueError(f"threshold must be at least 1, got {self.threshold}")
        if not 0 < self.min_score <= 1:
            raise ValueError(f"min_score must be within (0, 1], got {self.min_score}")
        if not 1 <= self.window <= 30:
            raise ValueError(f"window must be 1-30 frames, got {self.window}")
        if not 0 <= self.min_shot_s <= 10:
            raise ValueError(f"min_shot_s must be 0-10 seconds, got {self.min_shot_s}")

    def _stands_out(self, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per frame: whether its change reaches ``min_score`` and ``threshold`` times the
        local baseline (a whip pan or head turn changes many frames in a row and does not),
        and whether it is the largest change of its window."""
        w = self.window
        padded = np.pad(score, w, mode="edge")
        windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * w + 1)
        baseline = (windows.sum(axis=1) - score) / (2 * w)
        abrupt = (score >= self.min_score) & (score >= self.threshold * (baseline + _RATIO_FLOOR))
        return abrupt, score >= windows.max(axis=1)

    def _horizon(self, fps: float) -> int:
        """Frames within which a picture that comes back makes a change an interruption."""
        return min(LOOK_BACK, round(self.return_s * fps))

    def _cuts(self, score: np.ndarray, signals: FrameSignals, fps: float) -> list[Boundary]:
        """Frames whose change stands ``threshold`` times above the frames around them and
        whose picture neither was there just before nor comes back just after."""
        abrupt, peak = self._stands_out(score)
        black = _black(signals)
        touches_black = black | np.r_[False, black[:-1]]  # entering or leaving a dip
        hits = abrupt & peak & ~touches_black
        hits[0] = False
        horizon = self._horizon(fps)
        return [
            Boundary(int(i), "cut", float(score[i]))
            for i in np.flatnonzero(hits)
            if not _interruption(signals, int(i), horizon)
        ]


@dataclass(frozen=True)
class PovDetector(_AdaptiveCuts, ShotDetector):
    """Hard cuts from colour and motion-compensated structure, plus fades through black.

    The structure change is measured after shifting the previous frame onto the current one,
    and a cut must stand far above the frames around it: a whip pan or a head turn changes
    many frames in a row (a high baseline), a cut changes one. A change whose picture comes
    back soon (a flash, something across the lens) is no cut. Dips to black are found from
    black frames.
    """

    name: ClassVar[str] = "pov"
    fades: bool = True
    """Also report fades and dips through black, and cross-dissolves between lit shots."""

    def detect(self, signals: FrameSignals, fps: float) -> list[Boundary]:
        found = self._cuts(_motion_score(signals), signals, fps)
        if self.fades:
            found += _fades(signals, _frames(self.min_shot_s, fps))
            found += _dissolves(signals, found)
        return _space_out(found, _frames(self.min_shot_s, fps))


@dataclass(frozen=True)
class HistogramDetector(_AdaptiveCuts, ShotDetector):
    """Hard cuts from the colour histogram alone, without motion compensation: the baseline a
    frame-difference detector gives, for comparison; fooled by fast pans in busy scenes."""

    name: ClassVar[str] = "histogram"

    def detect(self, signals: FrameSignals, fps: float) -> list[Boundary]:
        found = self._cuts(signals.colour, signals, fps)
        return _space_out(found, _frames(self.min_shot_s, fps))


@dataclass(frozen=True)
class TransNetDetector(_AdaptiveCuts, ShotDetector):
    """Shot changes called by TransNetV2, a learned model (``povkit[learned]``), checked
    against povkit's motion-compensated signals.

    The model runs on 48x27 copies of the analysis frames of the one decode pass. With the
    motion check, a change the model calls is kept only where the ``pov`` detector's tests
    say the picture did not continue: the motion-compensated change (at the model's frame or
    one either side) stands ``threshold`` times above the frames around it, so a whip pan,
    head turn or gradual dissolve does not, and its picture does not come back (a flash,
    something across the lens).
    """

    name: ClassVar[str] = "transnet"
    probability: float = 0.5
    """Model probability above which a frame is the last of its shot (TransNetV2's own 0.5)."""
    motion_check: bool = True
    """Drop the model's cuts where the motion-compensated signals say the picture continued."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0 < self.probability < 1:
            raise ValueError(f"probability must be within (0, 1), got {self.probability}")
        from povkit.cuts.learned import require

        require()

    def scorer(self) -> FrameScorer:
        from povkit.cuts.learned import TransNetMeter

        return TransNetMeter()

    def detect(self, signals: FrameSignals, fps: float) -> list[Boundary]:
        if signals.learned is None:
            raise ValueError("transnet needs signals measured with its scorer (see detect_shots)")
        above = signals.learned > self.probability
        edges = np.flatnonzero(np.diff(np.r_[0, above.astype(np.int8), 0]))
        score = _motion_score(signals)
        abrupt, _ = self._stands_out(score)
        horizon = self._horizon(fps)
        found = []
        for start, stop in zip(edges[::2], edges[1::2], strict=True):
            frame = int(stop)  # the model marks the last frame of a shot; the next one starts
            if frame == len(score):
                continue
            if self.motion_check:
                frame = max(
                    range(max(frame - 1, 1), min(frame + 2, len(score))), key=score.__getitem__
                )
                if not abrupt[frame] or _interruption(signals, frame, horizon):
                    continue
            found.append(Boundary(frame, "cut", float(signals.learned[start:stop].max())))
        return _space_out(found, _frames(self.min_shot_s, fps))


@dataclass(frozen=True)
class FadeDetector(ShotDetector):
    """Fades and dips through black only: one boundary in the middle of each dip."""

    name: ClassVar[str] = "fade"
    min_shot_s: float = 0.25
    """A black run at the very start is a shot of its own only if this long."""

    def __post_init__(self) -> None:
        if not 0 <= self.min_shot_s <= 10:
            raise ValueError(f"min_shot_s must be 0-10 seconds, got {self.min_shot_s}")

    def detect(self, signals: FrameSignals, fps: float) -> list[Boundary]:
        return _fades(signals, _frames(self.min_shot_s, fps))


@dataclass(frozen=True)
class DissolveDetector(ShotDetector):
    """Cross-dissolves between lit shots only: the first frame that is half the new shot."""

    name: ClassVar[str] = "dissolve"

    def detect(self, signals: FrameSignals, fps: float) -> list[Boundary]:
        return _dissolves(signals, [])


def _dissolves(signals: FrameSignals, others: list[Boundary]) -> list[Boundary]:
    """The measured cross-dissolves, one per blend, leaving out those with a cut or a dip to
    black inside (a blend window that straddles those is no dissolve)."""
    found: list[Boundary] = []
    for start, crossing, end, score in signals.dissolves.astype(np.float64):
        first, last = int(start), int(end)
        if any(first <= b.frame <= last + 1 for b in others):
            continue
        if found and first <= found[-1].span[1]:
            if score > found[-1].score:
                found[-1] = Boundary(int(crossing), "dissolve", float(score), (first, last))
            continue
        found.append(Boundary(int(crossing), "dissolve", float(score), (first, last)))
    return found


def _motion_score(signals: FrameSignals) -> np.ndarray:
    """Per-frame change 0-1: colour and motion-compensated structure averaged, colour alone
    where a blank frame has no structure."""
    structure = np.minimum(signals.structure, 1.0)
    return np.where(np.isnan(structure), signals.colour, 0.5 * (signals.colour + structure))


def _frames(seconds: float, fps: float) -> int:
    """Whole frames (at least one) in ``seconds``."""
    return max(1, round(seconds * fps))


def _interruption(signals: FrameSignals, frame: int, horizon: int) -> bool:
    """Whether the change into ``frame`` leaves a picture that comes back within ``horizon``
    frames, or arrives at one seen within ``horizon`` frames before: the colours match again
    far better than across the change itself."""
    change = signals.colour[frame]
    if horizon < 1 or change < RETURN_MIN_CHANGE:
        return False
    back = signals.back
    later = np.arange(frame + 1, min(frame + horizon + 1, len(back)))
    comes_back = back[later, later - frame - 1]  # frame j against frame - 1
    was_there = back[frame, : max(horizon - 1, 0)]  # frame against frame - 2 - k
    closest = np.nanmin(np.r_[comes_back, was_there, np.inf])
    return bool(closest <= RETURN_FRACTION * change)


def _same_picture_around(signals: FrameSignals, start: int, stop: int) -> bool:
    """Whether the frames just before and just after frames [start, stop) look alike."""
    gap = stop - start - 1  # column of frame start - 1 in frame stop's look back
    return gap < LOOK_BACK and bool(signals.back[stop, gap] <= SAME_PICTURE)


def _black(signals: FrameSignals) -> np.ndarray:
    """Frames that are black all over."""
    return (signals.contrast <= BLANK_CONTRAST) & (signals.brightness <= BLACK_LUMA)


def _fades(signals: FrameSignals, min_frames: int) -> list[Boundary]:
    """One boundary per run of black frames: where the picture cuts in from black, else where
    it cuts to black, else (a fade both ways) the middle of the run. A run at the very start
    counts only if at least ``min_frames`` long (a black leader is a shot, one black frame not);
    a run at the very end is the last shot fading out, not a new shot."""
    black = _black(signals)
    edges = np.flatnonzero(np.diff(np.r_[0, black.astype(np.int8), 0]))
    found = []
    n = len(black)
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        if stop == n or (start == 0 and stop - start < min_frames):
            continue
        sudden = start > 0 and _abrupt(signals, start, start - 1) and _abrupt(signals, stop, stop)
        if sudden and stop - start < min_frames and _same_picture_around(signals, start, stop):
            continue  # a dropped or covered frame inside a take, not a dip between shots
        if _abrupt(signals, stop, stop):
            found.append(Boundary(int(stop), "cut", float(signals.colour[stop])))
        elif start > 0 and _abrupt(signals, start, start - 1):
            found.append(Boundary(int(start), "cut", float(signals.colour[start])))
        else:
            found.append(Boundary(int((start + stop) // 2), "fade", 1.0))
    return found


def _abrupt(signals: FrameSignals, frame: int, picture: int) -> bool:
    """Whether the change into ``frame`` is a jump between black and a real picture
    (frame ``picture``), rather than a step of a fade through dark frames."""
    jump = signals.colour[frame] >= ABRUPT_COLOUR
    return bool(jump and signals.contrast[picture] >= 2 * BLANK_CONTRAST)


def _space_out(found: list[Boundary], min_frames: int) -> list[Boundary]:
    """Boundaries in order, none within ``min_frames`` of the clip start or of one another
    (of two too close, the higher score stays)."""
    kept: list[Boundary] = []
    for boundary in sorted(found, key=lambda b: b.frame):
        if boundary.frame < min_frames:
            continue
        if kept and boundary.frame - kept[-1].frame < min_frames:
            if boundary.score > kept[-1].score:
                kept[-1] = boundary
            continue
        kept.append(boundary)
    return kept


DETECTORS: dict[str, type[ShotDetector]] = {
    cls.name: cls
    for cls in (PovDetector, HistogramDetector, FadeDetector, DissolveDetector, TransNetDetector)
}


def make_detector(name: str, **params) -> ShotDetector:
    """Build the detector called ``name`` with its typed parameters, or explain the choices."""
    return build_named(DETECTORS, "cut detector", name, **params)
