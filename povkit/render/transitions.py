"""Render a join plan into one continuous file: plain frames pass through, transitions blend.

Takes are streamed one after another: take A up to the end of its transition frames, then
take B from the start of its transition frames. Only the transition's frames of A (a fraction
of a second) are held while B is opened, so memory does not depend on the takes' lengths.

A transition frame is a motion-matched dissolve: both pictures are warped to a view that
moves from A's to B's (the alignment the planner measured, so the camera seems to keep
moving), cross-faded, and smeared along the pan direction with a blur that peaks at the cut.
Or, where the takes offer nothing to hide the cut in, a whip pan: A's picture speeds up into
a turn and smears into a streak, B's comes out of it, and the switch happens in the streak.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from fractions import Fraction

import av
import cv2
import numpy as np

from povkit.blur import line_blur
from povkit.geometry import fill_crop, frame_center, similarity_matrices
from povkit.io.video import VideoReader, audio_samples
from povkit.io.writer import VideoWriter, in_output_colours
from povkit.plan.joins import JoinPlan, PlannedJoin, TakeRange
from povkit.types import VideoInfo

BLUR_SHUTTER = 1.5
"""Length of the pan blur at the cut in frames of motion (more than a 360-degree shutter)."""
_MAX_BLUR = 0.12
"""The blur never exceeds this share of the frame width."""
WHIP_SPEED = 0.05
"""Content motion at the middle of a whip pan, in frame widths per frame."""
WHIP_BLUR = 0.6
"""Blur at the middle of a whip pan, in frame widths: far longer than the motion, so the
picture turns into a streak that hides the switch (and no frame jumps, for a viewer or a
frame-difference detector)."""
WHIP_CROSSING = 0.6
"""Share of a whip pan's frames over which B's picture takes over from A's, around its middle."""
WHIP_FOLLOWS = 0.002
"""Content motion across the join (frame widths per frame: 0.06 a second at 30 fps) that a whip
pan carries on in; slower than this, it turns the camera right (the picture moves left)."""


def _smoothstep(u: float) -> float:
    u = min(max(u, 0.0), 1.0)
    return u * u * (3 - 2 * u)


def dissolve_weight(k: int, frames: int) -> float:
    """Share of B in transition frame ``k`` of ``frames``: a smooth step from 0 to 1."""
    return _smoothstep((k + 0.5) / frames)


def directional_blur(rgb: np.ndarray, velocity: tuple[float, float], length: float) -> np.ndarray:
    """Smear ``rgb`` along ``velocity`` over ``length`` pixels, as a moving camera's shutter."""
    speed = math.hypot(*velocity)
    if speed == 0:
        return rgb
    return line_blur(rgb, velocity[0] / speed * length, velocity[1] / speed * length)


def transition_frame(a: np.ndarray, b: np.ndarray, join: PlannedJoin, k: int) -> np.ndarray:
    """Transition frame ``k`` of ``join`` from A's and B's RGB frames (same size)."""
    if join.style == "whip":
        return whip_frame(a, b, join, k)
    return dissolve_frame(a, b, join, k)


def dissolve_frame(a: np.ndarray, b: np.ndarray, join: PlannedJoin, k: int) -> np.ndarray:
    """Frame ``k`` of a motion-matched dissolve: the views warped from A's towards B's,
    cross-faded, and smeared along the pan with a blur that peaks at the cut."""
    height, width = a.shape[:2]
    weight = dissolve_weight(k, join.frames)
    center = frame_center((width, height))
    full = similarity_matrices(np.array(join.alignment), center)[0]
    partial = similarity_matrices(np.array(join.alignment) * weight, center)[0]
    warp_a = partial
    warp_b = partial @ np.linalg.inv(full)
    a = _warp(a, warp_a)
    b = _warp(b, warp_b)
    mixed = cv2.addWeighted(a, 1 - weight, b, weight, 0)
    speed = math.hypot(*join.velocity)
    length = min(BLUR_SHUTTER * speed, _MAX_BLUR * width) * math.sin(
        math.pi * (k + 0.5) / join.frames
    )
    return directional_blur(mixed, join.velocity, length)


def whip_frame(a: np.ndarray, b: np.ndarray, join: PlannedJoin, k: int) -> np.ndarray:
    """Frame ``k`` of a whip pan: the content speeds up along the pan (``whip_direction``)
    and slows down again, as ``sin^2`` over the transition, A's picture moving away and B's
    arriving to stand where it plays on; the blur grows by the same factor every frame, from
    about a pixel to ``WHIP_BLUR`` at the middle, and shrinks back (a blur that grew
    linearly would jump from sharp to smeared in the first frame)."""
    width = a.shape[1]
    middle = np.abs(2 * (np.arange(join.frames) + 0.5) / join.frames - 1)  # 0 in the middle
    step = WHIP_SPEED * width * np.cos(0.5 * np.pi * middle) ** 2
    direction = whip_direction(join.velocity, width)
    away, towards = step[: k + 1].sum(), -step[k + 1 :].sum()
    a = _warp(a, _translation(direction, away))
    b = _warp(b, _translation(direction, towards))
    weight = _smoothstep(0.5 + ((k + 0.5) / join.frames - 0.5) / WHIP_CROSSING)
    mixed = cv2.addWeighted(a, 1 - weight, b, weight, 0)
    return directional_blur(mixed, direction, (WHIP_BLUR * width) ** (1 - middle[k]))


def whip_direction(velocity: tuple[float, float], width: int) -> tuple[float, float]:
    """Unit direction of a whip pan's content motion, along the image axis nearer the motion
    across the join (``velocity``, pixels per frame): heads whip left-right or up-down."""
    vx, vy = velocity
    if math.hypot(vx, vy) / width < WHIP_FOLLOWS:
        return (-1.0, 0.0)
    return (math.copysign(1.0, vx), 0.0) if abs(vx) >= abs(vy) else (0.0, math.copysign(1.0, vy))


def _translation(direction: tuple[float, float], distance: float) -> np.ndarray:
    return np.array([[1, 0, direction[0] * distance], [0, 1, direction[1] * distance], [0, 0, 1]])


def _warp(rgb: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    if np.abs(matrix - np.eye(3)).max() < 1e-6:
        return rgb
    height, width = rgb.shape[:2]
    return cv2.warpAffine(
        rgb, matrix[:2], (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
    )


def _rgb(
    frame: av.VideoFrame, size: tuple[int, int], crop: tuple[slice, slice] | None = None
) -> np.ndarray:
    """The frame as RGB at ``size``, from its ``crop`` (see ``geometry.fill_crop``) if any."""
    if crop is None:
        return frame.to_ndarray(format="rgb24", width=size[0], height=size[1])
    return cv2.resize(frame.to_ndarray(format="rgb24")[crop], size, interpolation=cv2.INTER_AREA)


def _source_frames(
    take: TakeRange, first: int, end: int, info: VideoInfo
) -> Iterator[tuple[int, av.VideoFrame]]:
    """Decoded frames ``first`` to ``end - 1`` of a take with their indices (decode order)."""
    with VideoReader(take.path, info) as reader:
        for index, frame in enumerate(reader.frames()):
            if index >= end:
                break
            if index >= first:
                yield index, frame


def render_join_plan(
    plan: JoinPlan,
    output_path: str | os.PathLike,
    infos: list[VideoInfo],
    *,
    crf: float = 18,
    preset: str = "veryfast",
    on_frame: Callable[[], None] | None = None,
    audio: tuple[int, str] | None = None,
) -> int:
    """Encode ``plan`` to ``output_path`` (through a temporary file); returns frames written.

    ``audio`` (sample rate, channel layout) adds the takes' sound, cross-faded at the joins.
    """
    width, height = plan.frame_size
    first_info = infos[0]
    shape = width * float(first_info.sample_aspect) / height
    writer = VideoWriter(
        output_path, info=first_info, width=width, height=height, crf=crf, preset=preset
    )
    if audio:
        writer.open_audio(*audio)
    time_base = first_info.time_base
    written = 0

    def emit(frame: av.VideoFrame) -> None:
        nonlocal written
        frame.pts = round(Fraction(written) / plan.fps / time_base)
        frame.duration = round(1 / plan.fps / time_base)  # a take's own is in its time base
        frame.time_base = time_base
        writer.write(frame)
        written += 1
        if on_frame:
            on_frame()

    def emit_rgb(rgb: np.ndarray) -> None:
        rgb_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        emit(in_output_colours(rgb_frame, first_info))

    try:
        held_a: list[np.ndarray] = []
        for index, (take, info) in enumerate(zip(plan.ranges, infos, strict=True)):
            before = plan.joins[index - 1] if index > 0 else None
            after = plan.joins[index] if index < len(plan.joins) else None
            start = take.first - (before.half if before else 0)
            plain_from = take.first + (before.rest if before else 0)
            plain_to = take.end - (after.half if after else 0)
            stop = take.end + (after.rest if after else 0)
            same_size = (info.width, info.height) == (width, height)
            crop = fill_crop((info.width, info.height), float(info.sample_aspect), shape)
            crop = None if crop == (slice(None), slice(None)) else crop
            held_b: list[np.ndarray] = []
            next_a: list[np.ndarray] = []
            for source, frame in _source_frames(take, start, stop, info):
                if source < plain_from:
                    held_b.append(_rgb(frame, (width, height), crop))
                    if len(held_b) == before.frames:
                        for k, (a, b) in enumerate(zip(held_a, held_b, strict=True)):
                            emit_rgb(transition_frame(a, b, before, k))
                elif source < plain_to and crop is not None:
                    emit_rgb(_rgb(frame, (width, height), crop))
                elif source < plain_to:
                    if not same_size or info.colour != first_info.colour:
                        frame = in_output_colours(frame, first_info, width, height)
                    emit(frame)
                else:
                    next_a.append(_rgb(frame, (width, height), crop))
            held_a = next_a
        if audio:
            for samples in joined_audio(plan, infos, *audio):
                writer.write_audio(samples)
        writer.finish()
    except BaseException:
        writer.abort()
        raise
    return written


def _take_audio(
    take_path: str, info: VideoInfo, start: int, end: int, rate: int, layout: str
) -> Iterator[np.ndarray]:
    """Samples ``start`` to ``end - 1`` of a take's sound (silence where it has none)."""
    position = start
    for first, samples in audio_samples(take_path, info, rate, layout):
        if position >= end:
            break
        if first + samples.shape[1] <= position:
            continue
        if first > position:  # a gap in the recording
            gap = min(first, end) - position
            yield from _silence(samples.shape[0], gap)
            position += gap
            if position >= end:
                break
        piece = samples[:, position - first : end - first]
        yield piece
        position += piece.shape[1]
    if position < end:
        yield from _silence(len(av.AudioLayout(layout).channels), end - position)


def _silence(channels: int, count: int, block: int = 48000) -> Iterator[np.ndarray]:
    """``count`` samples of silence, a block at a time."""
    for start in range(0, count, block):
        yield np.zeros((channels, min(block, count - start)), np.float32)


def _take(chunks: Iterator[np.ndarray], count: int, leftover: list[np.ndarray]):
    """Pull exactly ``count`` samples from ``leftover`` then ``chunks``, as one array."""
    parts, have = [], 0
    while have < count:
        chunk = leftover.pop() if leftover else next(chunks)
        if have + chunk.shape[1] > count:
            leftover.append(chunk[:, count - have :])
            chunk = chunk[:, : count - have]
        parts.append(chunk)
        have += chunk.shape[1]
    return np.concatenate(parts, axis=1) if parts else None


def joined_audio(
    plan: JoinPlan, infos: list[VideoInfo], rate: int, layout: str
) -> Iterator[np.ndarray]:
    """The takes' sound in plan order, each join an equal-power cross-fade as long as its
    transition; streamed so that only one transition's samples are held."""
    carry: np.ndarray | None = None
    for index, (take, info) in enumerate(zip(plan.ranges, infos, strict=True)):
        before = plan.joins[index - 1] if index > 0 else None
        after = plan.joins[index] if index < len(plan.joins) else None
        start = _sample(take.first - (before.half if before else 0), plan.fps, rate)
        end = _sample(take.end + (after.rest if after else 0), plan.fps, rate)
        fade_in = carry.shape[1] if carry is not None else 0
        fade_out = (end - _sample(take.end - after.half, plan.fps, rate)) if after else 0
        fade_out = min(fade_out, end - start - fade_in)
        chunks = _take_audio(take.path, info, start, end, rate, layout)
        leftover: list[np.ndarray] = []
        if fade_in:
            head = _take(chunks, fade_in, leftover)
            ramp = np.sin(0.5 * np.pi * (np.arange(fade_in) + 0.5) / fade_in)
            yield carry * np.sqrt(1 - ramp**2) + head * ramp
        middle = end - start - fade_in - fade_out
        while middle > 0:
            piece = _take(chunks, min(middle, 4096), leftover)
            yield piece
            middle -= piece.shape[1]
        carry = _take(chunks, fade_out, leftover) if fade_out else None


def _sample(frame: int, fps: Fraction, rate: int) -> int:
    """Audio sample index at the start of video frame ``frame``."""
    return round(Fraction(frame) / fps * rate)
