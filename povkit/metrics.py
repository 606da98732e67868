"""Stabilization quality metrics: pure functions on frame arrays and pose series.

Two families live here. The first scores any stabilized video against its input with the three
standard measures of Liu, Yuan, Tan and Sun, "Bundled camera paths for video stabilization"
(SIGGRAPH 2013) -- cropping ratio, distortion value and stability score -- computed the way the
literature's evaluation code (DIFRINT's metrics.py and the DUT copy of it) does: SIFT features,
Lowe's ratio test at 0.7, RANSAC homographies with a 5 px threshold. Where that code has known
bugs the corrected form is used and said so, so that numbers stay comparable in spirit and are
right in fact. The second family measures against ground truth on synthetic clips, where the
shaky and the intended camera poses are known: residual shake in degrees and how late the output
follows deliberate turns.

Frames arrive as iterables of 2-D ``uint8`` grey arrays (already downscaled, at most ~640 px
wide); nothing here opens files.
"""

from __future__ import annotations

import functools
import itertools
import math
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields
from typing import NamedTuple

import cv2
import numpy as np

from povkit.frame_pool import frame_pool, in_order
from povkit.geometry import frame_center, similarity_matrices, turned

_LOW_BINS = 5
"""Frequency bins 1..5 (the 2nd to 6th components, DC excluded) count as the "low" band."""
_MIN_GOOD_MATCHES = 10
"""Ratio-test survivors needed before RANSAC is tried (the reference code's MIN_MATCH_COUNT)."""


@dataclass(frozen=True)
class StabilizationScores:
    """The Liu et al. (2013) scores of one stabilized video against its input.

    All three scores lie in [0, 1] and higher is better. ``warps[t]`` is the homography that maps
    pixels of original frame ``t`` onto stabilized frame ``t`` (NaN where it could not be
    measured); ground-truth measures feed it to :func:`output_pose_deg`.
    """

    cropping: float
    """Mean over frames of ``min(1 / scale, 1)``: the share of the picture the output keeps."""
    distortion: float
    """Worst (minimum) per-frame anisotropy, smaller over larger singular value."""
    distortion_mean: float
    """Mean per-frame anisotropy, which one bad frame cannot dominate."""
    stability: float
    """``min(stability_translation, stability_rotation)``."""
    stability_translation: float
    """Mean of the x and y low-frequency energy ratios of the output's camera path."""
    stability_rotation: float
    """Low-frequency energy ratio of the output's accumulated roll."""
    frames: int
    failed_frames: int
    """Frames whose original-to-stabilized homography failed (left out of cropping/distortion)."""
    failed_steps: int
    """Consecutive stabilized pairs whose homography failed (bridged from neighbouring steps)."""
    roll_disagreement_deg: float
    """Largest gap between the roll path the rotation score reads (the homographies, about the
    centre) and the one the matched points turned through (a similarity fit of each step's
    inliers). Tenths of a degree are noise; tens of degrees mean the homographies turn where
    the points did not (a homography fitted to one plane, such as a road, read at a frame centre
    away from it), and ``stability_rotation`` scores that, not the camera's roll."""
    warps: np.ndarray
    """(N, 3, 3) original->stabilized homography per frame, normalised so ``H[2, 2] == 1``."""

    def to_dict(self) -> dict[str, float | int | None]:
        """Every field but ``warps``, as plain Python numbers; NaN becomes ``None`` for JSON."""
        out: dict[str, float | int | None] = {}
        for f in fields(self):
            if f.name == "warps":
                continue
            value = getattr(self, f.name)
            if isinstance(value, int):
                out[f.name] = value
            else:
                out[f.name] = None if math.isnan(value) else float(value)
        return out


class _Features(NamedTuple):
    """SIFT keypoint positions (K, 2) and descriptors (K, 128) of one frame."""

    points: np.ndarray
    descriptors: np.ndarray | None


class _Matcher:
    """SIFT + ratio test + RANSAC homography; safe to share between threads (each thread
    builds its own detector and matcher once, since OpenCV's keep state between calls)."""

    def __init__(
        self, *, nfeatures: int, ratio: float, ransac_threshold_px: float, min_inliers: int
    ) -> None:
        self._nfeatures = nfeatures
        self._own = threading.local()
        self._ratio = ratio
        self._threshold = ransac_threshold_px
        self._min_inliers = min_inliers

    def _tools(self) -> tuple[cv2.SIFT, cv2.BFMatcher]:
        if not hasattr(self._own, "tools"):
            # Brute force rather than FLANN: exact and deterministic, and with ~1000
            # descriptors a side no slower than FLANN's approximate search.
            sift = cv2.SIFT_create(nfeatures=self._nfeatures)
            self._own.tools = sift, cv2.BFMatcher(cv2.NORM_L2)
        return self._own.tools

    def features(self, frame: np.ndarray) -> _Features:
        keypoints, descriptors = self._tools()[0].detectAndCompute(frame, None)
        points = np.array([k.pt for k in keypoints], dtype=np.float32).reshape(-1, 2)
        return _Features(points, descriptors)

    def homography(self, src: _Features, dst: _Features) -> np.ndarray | None:
        """The homography taking ``src`` pixels to ``dst`` pixels, or None when unreliable."""
        fit = self._fit(src, dst)
        return None if fit is None else fit[0]

    def homography_and_roll(
        self, src: _Features, dst: _Features
    ) -> tuple[np.ndarray | None, float]:
        """:meth:`homography`, and the roll (radians) of the similarity that best fits its
        RANSAC inliers: how far the matched points themselves turned, which a homography's
        shear (a road or floor filling the frame) cannot fake; NaN when it failed."""
        fit = self._fit(src, dst)
        if fit is None:
            return None, math.nan
        h, a, b = fit
        similarity, _ = cv2.estimateAffinePartial2D(a, b, method=cv2.LMEDS)
        roll = math.nan if similarity is None else math.atan2(similarity[1, 0], similarity[0, 0])
        return h, roll

    def _fit(
        self, src: _Features, dst: _Features
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """The homography (``H[2, 2] == 1``) and its RANSAC inliers in ``src`` and in ``dst``;
        None when unreliable."""
        if src.descriptors is None or dst.descriptors is None:
            return None
        pairs = self._tools()[1].knnMatch(src.descriptors, dst.descriptors, k=2)
        good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < self._ratio * p[1].distance]
        if len(good) < max(_MIN_GOOD_MATCHES, self._min_inliers):
            return None
        a = src.points[[m.queryIdx for m in good]]
        b = dst.points[[m.trainIdx for m in good]]
        h, inliers = cv2.findHomography(a, b, cv2.RANSAC, self._threshold)
        if h is None or int(inliers.sum()) < self._min_inliers:
            return None
        h = h / h[2, 2]
        # A reflected, collapsed or non-finite result is a RANSAC failure, not the stabilizer's.
        if not np.isfinite(h).all() or np.linalg.det(h[:2, :2]) <= 0:
            return None
        kept = inliers.ravel().astype(bool)
        return h, a[kept], b[kept]


def stabilization_scores(
    original: Iterable[np.ndarray],
    stabilized: Iterable[np.ndarray],
    *,
    nfeatures: int = 500,
    ratio: float = 0.7,
    ransac_threshold_px: float = 2.0,
    min_inliers: int = 8,
    workers: int = 2,
) -> StabilizationScores:
    """Score a stabilized video against its input with the Liu et al. (2013) metrics.

    Both iterables are consumed in lock-step, one frame at a time; only the previous stabilized
    frame's features are kept, so memory stays at a couple of frames whatever the length.

    Conventions (and where they depart from the DIFRINT/DUT reference code, which has bugs):

    * Cropping: per frame, ``H`` maps original frame t to stabilized frame t; its scale is
      ``sqrt(|det A|)`` for the 2x2 affine part ``A`` (the geometric mean of A's singular
      values, exact for any rotation). The reference's ``sqrt(H00 * H11)`` or row norm are wrong
      once the frame rotates. Each frame's ``1 / scale`` is clipped to 1 *before* averaging, so a
      frame shown zoomed out cannot pay for one zoomed in (the reference clips the mean).
    * Distortion: smaller over larger *singular* value of ``A``, minimum over frames (the
      literature's convention; the mean is reported too). The reference code takes eigenvalues,
      which are complex for any rotation and do not measure anisotropy.
    * Stability: each homography ``H_t`` between consecutive stabilized frames is linearised
      about the frame centre (its best local affine description there) into the step's motion:
      the x and y shift of the centre and the roll of the Jacobian's closest similarity,
      ``atan2(J10 - J01, J00 + J11)``. The camera path is the running sum of these steps, three
      series -- x, y, roll -- relative to frame 0. The reference instead multiplies the full
      homographies into ``P_t = H_t ... H_1`` (in reverse order, too) and reads ``P``'s
      translation and ``atan2(P10, P00)``; that product compounds every step's scale and
      perspective terms. On a long forward walk a per-step zoom of ~0.5 % alone grows into a
      90x scale over 900 frames, the projective row drifts until the centre maps through
      infinity, and the "path" becomes numerical junk that scores near 0 (or, with the affine
      part only, a huge exponential trend that scores near 1) whatever the shake. Summing
      local steps keeps every step's motion in that step's own pixels, so neither scale nor
      perspective accumulates, and roll cannot leak into translation (the reference's
      ``|(tx, ty)|`` about the top-left corner folds at zero and turns roll into translation,
      and its ``atan2(P10, P00)``, read at that corner, mixes translation times perspective
      into roll). For pure translations the sum equals the composed path, and for small rolls
      without zoom nearly so. Each series' power spectrum, DC excluded and positive frequencies
      below Nyquist kept (as the reference does), gives the share of energy in bins 1..5.
      Translation is the mean of the x and y scores (two linear signals instead of the
      reference's one folded magnitude); the final score is ``min(translation, rotation)``, the
      stricter of the two conventions in print. The reference code prints
      ``(translation + rotation) / 2`` as "Avg"; that is recoverable from the fields. The path
      is analysed, not the steps, as in the reference: a steady pan has constant steps, all DC,
      and would score 0/0.
      Caveat of the metric itself: the ratio is scale-free, so a component that barely moves
      (say, a roll held level) scores by its estimation noise, which is white and so scores low.
      Clips too short for more than five positive frequency bins (under 13 frames) get NaN.
    * Failures: a homography with fewer than ``min_inliers`` RANSAC inliers (or fewer than 10
      ratio-test matches, or a reflecting/degenerate result, or one that sends a frame corner
      to or beyond infinity, i.e. folds the frame across its horizon line) is skipped and
      counted. Failed frames are left out of cropping and distortion; failed steps' motions
      (shift and roll) are linearly interpolated from their measured neighbours so the path
      stays continuous.

    Options: ``nfeatures`` caps SIFT keypoints per frame (strongest kept; bounds the matching
    cost, ~1000 is plenty for a homography at 640 px); ``ratio`` is Lowe's test threshold;
    ``ransac_threshold_px`` the RANSAC reprojection tolerance in pixels of the frames given (the
    reference code's 5 px at full HD is about 2 px at the <= 480 px povkit scores at; a looser
    one let RANSAC accept skewed models on parallax-heavy frames, which the minimum-over-frames
    distortion then reported as the stabilizer's); ``min_inliers`` the fewest RANSAC
    inliers a homography may rest on; ``workers`` the frames scored at once (the scores do not
    depend on it).

    Raises ValueError for an empty input, frames that are not 2-D ``uint8`` of one size, or
    inputs of different lengths (after counting both to the end, so the message gives both).
    """
    if nfeatures < _MIN_GOOD_MATCHES:
        raise ValueError(
            f"nfeatures must be at least {_MIN_GOOD_MATCHES} to fit a homography, got {nfeatures}"
        )
    if not 0 < ratio < 1:
        raise ValueError(f"ratio is Lowe's test threshold and must lie in (0, 1), got {ratio}")
    if ransac_threshold_px <= 0:
        raise ValueError(f"ransac_threshold_px must be positive, got {ransac_threshold_px}")
    if min_inliers < 4:
        raise ValueError(
            f"min_inliers must be at least 4 (a homography's minimum), got {min_inliers}"
        )

    matcher = _Matcher(
        nfeatures=nfeatures,
        ratio=ratio,
        ransac_threshold_px=ransac_threshold_px,
        min_inliers=min_inliers,
    )
    warps: list[np.ndarray] = []
    steps: list[np.ndarray] = []
    point_rolls: list[float] = []
    shape: tuple[int, ...] | None = None

    def frame_pair(orig: np.ndarray, stab: np.ndarray) -> tuple[_Features, np.ndarray]:
        stab_features = matcher.features(stab)
        warp = matcher.homography(matcher.features(orig), stab_features)
        return stab_features, _or_nan(_unfolded(warp, shape))

    def frame_pairs() -> Iterator[Callable[[], tuple[_Features, np.ndarray]]]:
        nonlocal shape
        for index, (orig, stab) in enumerate(_lockstep(original, stabilized)):
            shape = _check_frame(orig, "original", index, shape)
            _check_frame(stab, "stabilized", index, shape)
            yield functools.partial(frame_pair, orig, stab)

    # SIFT is 90 % of the work: frame pairs go to a frame pool, a few in flight; the steps
    # between consecutive stabilized frames are matched here as their features come back
    previous: _Features | None = None
    with frame_pool(workers) as pool:
        for features, warp in in_order(pool, frame_pairs(), ahead=2 * workers):
            warps.append(warp)
            if previous is not None:
                step, roll = matcher.homography_and_roll(previous, features)
                steps.append(_or_nan(_unfolded(step, shape)))
                point_rolls.append(roll)
            previous = features
    if shape is None:
        raise ValueError("no frames to score: both videos are empty")

    warp_stack = np.stack(warps)
    ok = np.isfinite(warp_stack).all(axis=(1, 2))
    affine = warp_stack[ok, :2, :2]
    cropping = np.minimum(1.0 / np.sqrt(np.abs(np.linalg.det(affine))), 1.0)
    singular = np.linalg.svd(affine, compute_uv=False)
    anisotropy = singular[:, 1] / singular[:, 0]

    step_stack = np.stack(steps) if steps else np.empty((0, 3, 3))
    step_ok = np.isfinite(step_stack).all(axis=(1, 2))
    height, width = shape
    if step_ok.any():
        path = steps_path(step_stack, step_ok, ((width - 1) / 2, (height - 1) / 2))
        translation, rotation = _path_stability(path)
        disagreement = _roll_disagreement_deg(path[:, 2], np.array(point_rolls), step_ok)
    else:
        translation = rotation = disagreement = math.nan

    return StabilizationScores(
        cropping=_mean_or_nan(cropping),
        distortion=float(anisotropy.min()) if anisotropy.size else math.nan,
        distortion_mean=_mean_or_nan(anisotropy),
        stability=float(np.minimum(translation, rotation)),
        stability_translation=translation,
        stability_rotation=rotation,
        frames=len(warps),
        failed_frames=int((~ok).sum()),
        failed_steps=int((~step_ok).sum()),
        roll_disagreement_deg=disagreement,
        warps=warp_stack,
    )


def _lockstep(
    original: Iterable[np.ndarray], stabilized: Iterable[np.ndarray]
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Pairs of frames; when one side runs out first, count the other out and raise."""
    orig_frames, stab_frames = iter(original), iter(stabilized)
    end = object()
    pairs = itertools.zip_longest(orig_frames, stab_frames, fillvalue=end)
    for count, (orig, stab) in enumerate(pairs):
        if orig is end or stab is end:
            rest = 1 + sum(1 for _ in itertools.chain(orig_frames, stab_frames))
            n_orig, n_stab = (count, count + rest) if orig is end else (count + rest, count)
            raise ValueError(
                f"the videos differ in length: original has {n_orig} frames, stabilized has "
                f"{n_stab}; decode both over the same span (same trim, same frame rate)"
            )
        yield orig, stab


def _check_frame(
    frame: np.ndarray, name: str, index: int, shape: tuple[int, ...] | None
) -> tuple[int, ...]:
    """The frame's shape, after checking it is 2-D uint8 and matches the first frame's."""
    if not isinstance(frame, np.ndarray) or frame.ndim != 2 or frame.dtype != np.uint8:
        described = (
            f"{frame.dtype} array of shape {frame.shape}"
            if isinstance(frame, np.ndarray)
            else type(frame).__name__
        )
        raise ValueError(
            f"{name} frame {index} is a {described}; pass 2-D uint8 grey frames "
            "(e.g. cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))"
        )
    if shape is not None and frame.shape != shape:
        raise ValueError(
            f"{name} frame {index} is {frame.shape[1]}x{frame.shape[0]} but original frame 0 "
            f"is {shape[1]}x{shape[0]}; scale both videos to one size before scoring"
        )
    return frame.shape


def _unfolded(h: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray | None:
    """``h``, or None when it sends a corner of a ``shape`` frame to or past infinity.

    A homography whose projective denominator changes sign inside the frame folds the picture
    across its horizon line: no stabilizer shows that, so it is a RANSAC failure.
    """
    if h is None:
        return None
    height, width = shape
    corners = np.array(
        [[0, 0, 1], [width - 1, 0, 1], [0, height - 1, 1], [width - 1, height - 1, 1]]
    )
    return h if (corners @ h[2] > 0).all() else None


def _or_nan(h: np.ndarray | None) -> np.ndarray:
    return np.full((3, 3), np.nan) if h is None else h


def _mean_or_nan(values: np.ndarray) -> float:
    return float(values.mean()) if values.size else math.nan


def _fill_gaps(mats: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """(N, 3, 3) matrices with the rows not ``ok`` linearly interpolated element-wise from their
    nearest measured neighbours (held constant past either end)."""
    index = np.arange(len(mats))
    flat = mats.reshape(len(mats), 9)
    filled = np.column_stack([np.interp(index, index[ok], flat[ok, e]) for e in range(9)])
    return filled.reshape(-1, 3, 3)


def _step_motion(steps: np.ndarray, centre: tuple[float, float]) -> np.ndarray:
    """(N, 3) per-step motion -- x and y shift of ``centre`` in pixels, roll in radians -- of
    homographies ``steps`` (N, 3, 3), from their linearisation about the centre."""
    shift, jac = _linearize(steps, centre)
    roll = np.arctan2(jac[:, 1, 0] - jac[:, 0, 1], jac[:, 0, 0] + jac[:, 1, 1])
    return np.column_stack([shift, roll])


def steps_path(steps: np.ndarray, ok: np.ndarray, centre: tuple[float, float]) -> np.ndarray:
    """(N + 1, 3) camera path (x, y in pixels, roll in radians) summed from the ``ok``
    homography ``steps``' local motions about ``centre``, the others interpolated: the path
    the stability score reads (see :func:`stabilization_scores`)."""
    index = np.arange(len(steps))
    measured = _step_motion(steps[ok], centre)
    motion = np.column_stack([np.interp(index, index[ok], m) for m in measured.T])
    return np.vstack([np.zeros(3), np.cumsum(motion, axis=0)])


def _path_stability(path: np.ndarray) -> tuple[float, float]:
    """Translation and rotation stability scores of a :func:`steps_path` path."""
    x, y, roll = (_low_frequency_ratio(series) for series in path.T)
    return 0.5 * (x + y), roll


def _roll_disagreement_deg(roll_path: np.ndarray, point_rolls: np.ndarray, ok: np.ndarray) -> float:
    """Largest gap (degrees) between ``roll_path`` and the path summed from ``point_rolls``
    (per step, bridged where they or the ``ok`` homographies failed, as the path is)."""
    usable = ok & np.isfinite(point_rolls)
    if not usable.any():
        return math.nan
    index = np.arange(len(point_rolls))
    steps = np.interp(index, index[usable], point_rolls[usable])
    points_path = np.concatenate([[0.0], np.cumsum(steps)])
    return float(np.degrees(np.abs(roll_path - points_path).max()))


def _low_frequency_ratio(series: np.ndarray) -> float:
    """Share of a series' spectral energy in bins 1..5, of bins 1 up to (not incl.) Nyquist."""
    power = np.abs(np.fft.rfft(series)) ** 2
    positive = power[1 : (len(series) - 1) // 2 + 1]
    if len(positive) <= _LOW_BINS:
        return math.nan
    total = positive.sum()
    # A path that never moves at all has no shake to measure: perfectly stable.
    return float(positive[:_LOW_BINS].sum() / total) if total > 0 else 1.0


def _linearize(h: np.ndarray, centre: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Shift of ``centre`` (N, 2) under homographies ``h`` (N, 3, 3) and their Jacobians there
    (N, 2, 2): the homography's best local similarity/affine description about the centre."""
    c = np.array([centre[0], centre[1], 1.0])
    mapped = h @ c
    w = mapped[:, 2:3]
    moved = mapped[:, :2] / w
    jacobian = (h[:, :2, :2] - moved[:, :, None] * h[:, 2, None, :2]) / w[:, :, None]
    return moved - c[:2], jacobian


def _validated_path(array: np.ndarray, name: str) -> np.ndarray:
    path = np.asarray(array, dtype=np.float64)
    if path.ndim != 2 or path.shape[1] != 3:
        raise ValueError(f"{name} must be an (N, 3) array, got shape {path.shape}")
    return path


def pose_from_content_path(content_path: np.ndarray, *, focal_px: float) -> np.ndarray:
    """Camera rotation (N, 3) in degrees -- yaw, pitch, roll -- that moves the content as given.

    ``content_path`` rows are (x_px, y_px, angle_rad): how the picture content moved relative
    to frame 0 about the frame centre (x right, y down), as a similarity. The small-angle
    pinhole relation is used: a yaw of ``x / f`` radians shifts the content by ``-x`` pixels, a
    pitch moves it down, and a roll then turns the picture the other way about its centre (so
    the similarity's shift is the turn's shift turned by its angle: ``povkit.synth``). The same
    relation converts the output side in :func:`output_pose_deg`, so the approximation cancels
    when the two are compared.
    """
    if not focal_px > 0:
        raise ValueError(f"focal_px must be positive, got {focal_px}")
    path = _validated_path(content_path, "content_path")
    return _pose_deg(path[:, :2], path[:, 2], focal_px)


def _pose_deg(shift: np.ndarray, angle: np.ndarray, focal_px: float | np.ndarray) -> np.ndarray:
    """(N, 3) yaw, pitch, roll in degrees of content similarities' (N, 2) shifts and angles."""
    turn = turned(shift, -angle) / np.reshape(focal_px, (-1, 1))
    return np.column_stack([-np.degrees(turn[:, 0]), np.degrees(turn[:, 1]), -np.degrees(angle)])


def output_pose_deg(
    warps: np.ndarray,
    input_content_path: np.ndarray,
    *,
    focal_px: float,
    frame_size: tuple[int, int],
) -> np.ndarray:
    """The camera pose (N, 3) in degrees -- yaw, pitch, roll -- that the stabilized output shows.

    The input's content moved by the similarity ``S_t`` (from ``input_content_path`` about the
    frame centre); the stabilizer then warped frame ``t`` by ``W_t`` (original->stabilized, as
    :attr:`StabilizationScores.warps` holds). So the output shows input frame 0's content
    moved by ``O_t = W_t S_t``: the pose is the virtual camera's in the input's first (level)
    frame, as the intended pose is. (Taken relative to output frame 0 instead, a roll the
    stabilizer gave that frame would tilt the axes every later turn is read in, and part of a
    whip pan would read as pitch.) ``O_t`` is linearised about the centre
    into a shift and the rotation of its closest similarity, and converted like
    :func:`pose_from_content_path` but with the focal length scaled by ``W_t``'s own zoom
    (``sqrt |det|`` of its Jacobian at the centre, which is the affine part's for an affine
    warp): zooming in magnifies every content shift, not the camera's turn.

    ``frame_size`` is (width, height) in pixels; the centre is ``((w - 1) / 2, (h - 1) / 2)``,
    pixel centres at integers as OpenCV places them. Warps, path, focal length and frame size
    must share one pixel unit: when the frames were downscaled by ``k`` for scoring, pass
    ``content_path[:, :2] * k``, ``focal_px * k`` and the scored frame's size. Warps that are
    NaN (failed measurements) are interpolated element-wise from their neighbours first.
    """
    if not focal_px > 0:
        raise ValueError(f"focal_px must be positive, got {focal_px}")
    width, height = frame_size
    if width <= 0 or height <= 0:
        raise ValueError(f"frame_size is (width, height) and must be positive, got {frame_size}")
    path = _validated_path(input_content_path, "input_content_path")
    w = np.asarray(warps, dtype=np.float64)
    if w.ndim != 3 or w.shape[1:] != (3, 3) or len(w) != len(path):
        raise ValueError(
            f"warps must be ({len(path)}, 3, 3) to match input_content_path's {len(path)} rows, "
            f"got shape {w.shape}"
        )
    ok = np.isfinite(w).all(axis=(1, 2))
    if not ok.any():
        raise ValueError("every warp is NaN: no frame of the output could be registered")
    w = _fill_gaps(w / w[:, 2:3, 2:3], ok)

    centre = frame_center((width, height))
    out = w @ similarity_matrices(np.column_stack([path, np.zeros(len(path))]), centre)

    shift, jac = _linearize(out, centre)
    angle = np.unwrap(np.arctan2(jac[:, 1, 0] - jac[:, 0, 1], jac[:, 0, 0] + jac[:, 1, 1]))
    _, warp_jac = _linearize(w, centre)
    zoom = np.sqrt(np.abs(np.linalg.det(warp_jac)))
    return _pose_deg(shift, angle, focal_px * zoom)


def _validated_pair(output: np.ndarray, intentional: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    out = _validated_path(output, "output_pose_deg")
    want = _validated_path(intentional, "intentional_pose_deg")
    if out.shape != want.shape:
        raise ValueError(
            f"output has {len(out)} poses but intentional has {len(want)}; pass the same frames"
        )
    if not (np.isfinite(out).all() and np.isfinite(want).all()):
        raise ValueError("poses contain NaN or infinity; interpolate gaps before measuring")
    return out, want


def residual_shake_deg(
    output_pose_deg: np.ndarray,
    intentional_pose_deg: np.ndarray,
    fps: float,
    *,
    cutoff_hz: float = 1.0,
) -> float:
    """RMS (degrees, over frames and the three axes) of the output's deviation from the intended
    pose, above ``cutoff_hz``.

    The deviation is high-passed with a 4th-order Butterworth run forwards and backwards
    (``sosfiltfilt``: zero phase, so nothing is shifted in time) to drop slow drift and the lag of
    a deliberately smooth path, which are not shake. Applied to the input's actual pose the same
    function gives the input's shake, so the ratio of the two is the share of shake left.
    """
    out, want = _validated_pair(output_pose_deg, intentional_pose_deg)
    if not fps > 0:
        raise ValueError(f"fps must be positive, got {fps}")
    if not 0 < cutoff_hz < fps / 2:
        raise ValueError(
            f"cutoff_hz must lie between 0 and Nyquist ({fps / 2:g} Hz), got {cutoff_hz}"
        )
    from scipy import signal  # here, not at the top: its import costs ~0.5 s

    sos = signal.butter(4, cutoff_hz, btype="highpass", fs=fps, output="sos")
    pad = 3 * (2 * len(sos) + 1)
    if len(out) <= pad:
        raise ValueError(
            f"residual shake needs more than {pad} frames for the zero-phase filter, got {len(out)}"
        )
    shake = signal.sosfiltfilt(sos, out - want, axis=0)
    return float(np.sqrt(np.mean(shake**2)))


def intentional_lag_frames(
    output_pose_deg: np.ndarray, intentional_pose_deg: np.ndarray, *, max_lag: int = 15
) -> float:
    """How many frames late (positive) or early (negative) the output follows deliberate turns.

    The lag is where the correlation of the yaw angular velocities (frame-to-frame differences)
    peaks, searched over ``-max_lag..max_lag`` and refined to a fraction of a frame by a parabola
    through the peak and its neighbours. Velocities, not angles, so that whip pans -- the turns
    a lagging stabilizer smears -- dominate, and a slow drift does not.

    Each lag's correlation is Pearson's over the samples that overlap at that lag, so short
    overlaps at large lags are not penalised and a steady pan's constant speed adds nothing. No
    low-pass is applied first: the intended velocity is smooth, so correlating with it already
    ignores the output's high-frequency shake, and a zero-phase filter could not move the peak
    anyway. Returns NaN when the intended yaw speed never changes (no turn to be late for);
    a result of exactly ``+-max_lag`` means "at least that much".
    """
    out, want = _validated_pair(output_pose_deg, intentional_pose_deg)
    if max_lag < 1:
        raise ValueError(f"max_lag must be at least 1 frame, got {max_lag}")
    o, i = np.diff(out[:, 0]), np.diff(want[:, 0])
    n = len(o)
    if n <= 2 * max_lag:
        raise ValueError(
            f"a lag search over +-{max_lag} frames needs more than {2 * max_lag + 1} poses, "
            f"got {len(out)}; pass a longer clip or a smaller max_lag"
        )
    if np.ptp(i) == 0:
        return math.nan
    lags = np.arange(-max_lag, max_lag + 1)
    corr = np.array(
        [_pearson(o[max(k, 0) : n + min(k, 0)], i[max(-k, 0) : n - max(k, 0)]) for k in lags]
    )
    if not np.isfinite(corr).any():
        return math.nan
    peak = int(np.nanargmax(corr))
    if 0 < peak < len(lags) - 1 and np.isfinite(corr[peak - 1 : peak + 2]).all():
        left, mid, right = corr[peak - 1 : peak + 2]
        curvature = left - 2 * mid + right
        if curvature < 0:
            return float(lags[peak] + 0.5 * (left - right) / curvature)
    return float(lags[peak])


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    norm = math.sqrt(float(a @ a) * float(b @ b))
    return float(a @ b) / norm if norm > 0 else math.nan
