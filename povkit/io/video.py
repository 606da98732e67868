"""Video reading through PyAV (``io.writer`` writes): probing, decoding, the input's sound.

Frames are indexed by their presentation timestamps. Damaged packets are skipped and counted,
so a partly readable file is processed as far as it goes; a file with no decodable video is an
``InputError`` with a message that says what is wrong.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.error
import numpy as np

from povkit.errors import InputError, log
from povkit.types import FrameTimes, VideoInfo

DECODE_ERRORS = (av.error.InvalidDataError, av.error.EOFError, av.error.PatchWelcomeError)


def _open_input(path: str | os.PathLike) -> av.container.InputContainer:
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file; check the path")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a video file")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty")
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a readable video ({_reason(exc)})") from None
    # PyAV asks the demuxer to invent missing PTS from decode order; in an AVI with packed
    # B-frames those are wrong and push every frame after a B-frame one frame late. Without
    # them a frame's time is its own PTS or else its packet's DTS (``presentation_time``).
    container.flags &= ~av.container.Flags.gen_pts.value
    if not container.streams.video:
        container.close()
        raise InputError(f"{path}: has no video stream")
    return container


_NOT_THE_PICTURE = (
    av.stream.Disposition.attached_pic
    | av.stream.Disposition.still_image
    | av.stream.Disposition.timed_thumbnails
)


def main_video(container: av.container.InputContainer) -> av.video.stream.VideoStream:
    """The picture of a file with several video tracks: the largest moving one (the default
    track first among equals), not a cover image or a thumbnail track that comes first."""
    tracks = [s for s in container.streams.video if not s.disposition & _NOT_THE_PICTURE]

    def size(stream) -> tuple[int, bool]:
        context = stream.codec_context
        return context.width * context.height, bool(
            stream.disposition & av.stream.Disposition.default
        )

    return max(tracks, key=size, default=container.streams.video[0])


def _reason(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or str(exc).split(";")[0]


def probe(path: str | os.PathLike) -> VideoInfo:
    """Read a video's geometry, timing and streams, decoding only its first frame."""
    with _open_input(path) as container:
        stream = main_video(container)
        stream.thread_type = "AUTO"
        first, steps = _scan(container, stream, path)
        ctx = stream.codec_context
        time_base = stream.time_base or Fraction(1, 90000)
        average = stream.average_rate or stream.guessed_rate or Fraction(30)
        nominal = stream.base_rate or stream.guessed_rate or average
        duration_s = _duration_s(container, stream)
        frame_count = stream.frames or (len(steps) + 1 if len(steps) else 0)
        frame_count = frame_count or round(duration_s * float(average))
        uneven = len(steps) > 1 and steps.max() - steps.min() > 0.05 * np.median(steps)
        audio = container.streams.audio[0].codec_context.name if container.streams.audio else None
        data = tuple(_data_stream_name(s) for s in container.streams if s.type == "data")
        first_pts = presentation_time(first)
        first_pts = first_pts if first_pts is not None else (stream.start_time or 0)
        return VideoInfo(
            path=str(path),
            width=ctx.width,
            height=ctx.height,
            sample_aspect=Fraction(ctx.sample_aspect_ratio or 1) or Fraction(1),
            rotation=int(round(first.rotation or 0)),
            nominal_fps=Fraction(nominal),
            average_fps=Fraction(average),
            variable_frame_rate=bool(uneven)
            or abs(float(nominal) - float(average)) > 0.01 * float(average),
            frame_count=int(frame_count),
            duration_s=duration_s,
            first_pts_s=float(first_pts * time_base),
            time_base=Fraction(time_base),
            codec=ctx.name,
            pixel_format=first.format.name,
            colour=_colour(first),
            audio_codec=audio,
            data_streams=data,
        )


def _colour(frame: av.VideoFrame) -> tuple[int, int, int, int]:
    """A frame's colour range, matrix, primaries and transfer (``VideoInfo.colour``); a
    ``yuvj`` format is full range whatever its tag says."""
    full = frame.format.name.startswith("yuvj")
    colour_range = 2 if full else int(frame.color_range)
    return colour_range, int(frame.colorspace), int(frame.color_primaries), int(frame.color_trc)


_KNOWN_DATA_HANDLERS = {"GoPro MET": "gpmd", "GoPro TCD": "tmcd", "GoPro SOS": "gopro-sos"}


def _data_stream_name(stream) -> str:
    """A data track's kind: the MP4 tag for well-known tracks, else its handler name."""
    handler = stream.metadata.get("handler_name", "").strip("\x00\t\x0b ")
    return _KNOWN_DATA_HANDLERS.get(handler, handler or "data")


def data_packet_spans(path: str | os.PathLike, kind: str) -> list[tuple[float, float]]:
    """(start, duration) in seconds of each non-empty packet of the first data track of
    ``kind`` (e.g. ``"gpmd"``), on the same clock as the video's timestamps; [] if none.

    A packet that runs past the end of the picture and sound (the last one, usually) is cut
    there: the camera stopped sampling when it stopped recording.
    """
    with _open_input(path) as container:
        tracks = [s for s in container.streams if s.type == "data" and _data_stream_name(s) == kind]
        if not tracks:
            return []
        track, base = tracks[0], float(tracks[0].time_base)
        media_end = max(
            (_stream_end_s(s) for s in container.streams if s.type in ("video", "audio")),
            default=float("inf"),
        )
        spans = []
        with contextlib.suppress(*DECODE_ERRORS):
            for packet in container.demux(track):
                if packet.size and packet.pts is not None:
                    start = packet.pts * base
                    end = min(start + (packet.duration or 0) * base, max(media_end, start))
                    spans.append((start, end - start))
        return spans


def _stream_end_s(stream) -> float:
    if stream.duration and stream.time_base:
        return float((stream.duration + (stream.start_time or 0)) * stream.time_base)
    return float("inf")


def _scan(container, stream, path) -> tuple[av.VideoFrame, np.ndarray]:
    """The first decodable frame, and the differences between consecutive video packet
    timestamps: one demux pass, in which only the packets up to the first frame are decoded."""
    first, pts = None, []
    try:
        for packet in container.demux(stream):
            stamp = presentation_time(packet)
            if stamp is not None:
                pts.append(stamp)
            if first is None:
                with contextlib.suppress(*DECODE_ERRORS):
                    first = next(iter(packet.decode()), None)
    except DECODE_ERRORS:
        pass  # a damaged tail: what was read so far is what we have
    if first is None:
        raise InputError(f"{path}: no decodable video frames (file damaged or codec unsupported)")
    return first, np.diff(np.sort(np.array(pts, dtype=np.int64)))


def packet_times(path: str | os.PathLike, info: VideoInfo) -> FrameTimes | None:
    """Every frame's presentation time from the container's packets, without decoding (a
    demux pass reads a minute of video in well under a second); None where some packet has no
    PTS or two share one, so that only decoding can tell the frames' times."""
    stamps = []
    with _open_input(path) as container:
        try:
            for packet in container.demux(main_video(container)):
                if packet.size == 0 or packet.is_discard:  # end of stream; before an edit list
                    continue
                if packet.pts is None:
                    return None
                stamps.append(packet.pts)
        except DECODE_ERRORS:
            return None
    pts = np.sort(np.array(stamps, dtype=np.int64))
    if len(pts) < 2 or np.any(np.diff(pts) <= 0):
        return None
    return FrameTimes(pts, info.time_base)


def _duration_s(container, stream) -> float:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    return 0.0


SEEK_TRIES = 8
"""Seeks :meth:`VideoReader.frames_between` tries, from 0 to 64 s before the first frame."""

ANALYSIS_DECODE = {"skip_loop_filter": "all"}
"""Decoder options for the gyro sync's shift pass: without deblocking, H.264 decodes up to a
third faster and the sync moves by 0.02 ms. Not for tracking or cut detection (measured: it cost
stove_dog 0.04 stability and sintel a checked cut), nor for rendering or scoring."""


@dataclass
class ReadReport:
    """What a pass over a file managed to read, for the one-line warning about damage."""

    frames: int = 0
    damaged_packets: int = 0
    ended_early: bool = False

    def warn_if_damaged(self, info: VideoInfo) -> None:
        """Log one line saying what was lost, if anything was."""
        expected = info.frame_count
        if self.ended_early or (expected and self.frames < 0.98 * expected):
            total = max(expected, self.frames)
            log.warning(
                "%s: input ends early: %d of %d frames readable", info.path, self.frames, total
            )
        elif self.damaged_packets:
            log.warning(
                "%s: input is damaged: %d unreadable packets skipped, %d frames read",
                info.path,
                self.damaged_packets,
                self.frames,
            )


class VideoReader:
    """One decode pass over a file: video frames in presentation order, with exact PTS.

    Use as a context manager. ``frames()`` yields decoded frames only; ``frames_and_audio()``
    also yields the audio packets in demux order so a writer can copy them unchanged.
    ``for_analysis`` decodes without the in-loop deblocking filter: frames for measuring, not
    for showing (see ``ANALYSIS_DECODE``).
    """

    def __init__(
        self, path: str | os.PathLike, info: VideoInfo | None = None, *, for_analysis: bool = False
    ) -> None:
        self.info = info or probe(path)
        self._container = _open_input(path)
        self.video = main_video(self._container)
        self.video.thread_type = "AUTO"
        if for_analysis:
            self.video.codec_context.options = dict(ANALYSIS_DECODE)
        self.audio = self._container.streams.audio[0] if self._container.streams.audio else None
        self.report = ReadReport()
        self._last_pts: int | None = None

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._container.close()

    def frames(self) -> Iterator[av.VideoFrame]:
        yield from self._demux(with_audio=False)

    def frames_between(self, first_pts: int, last_pts: int) -> Iterator[av.VideoFrame]:
        """The frames from PTS ``first_pts`` to ``last_pts`` (inclusive): seeks to the key
        frame before the first and decodes from there, so a few seconds of a long clip cost a
        few seconds of decoding.

        A container without an index of key frames (MPEG-TS) seeks to whatever frame is
        nearest, and the decoder drops every frame up to the next key frame: where the first
        frame decoded comes after ``first_pts``, the seek is tried again from further back
        (1 s, then twice as far each time)."""
        back, step = 0, max(1, round(1 / float(self.info.time_base)))
        for _ in range(SEEK_TRIES):
            self._container.seek(first_pts - back, stream=self.video, backward=True)
            self._last_pts = None
            frames = self._demux(with_audio=False)
            first = next(frames, None)
            if first is not None and first.pts <= first_pts:
                break
            back = 2 * back if back else step
        for frame in itertools.chain([first] if first is not None else [], frames):
            if frame.pts > last_pts:
                break
            if frame.pts >= first_pts:
                yield frame

    def frames_and_audio(self) -> Iterator[av.VideoFrame | av.Packet]:
        yield from self._demux(with_audio=self.audio is not None)

    def _demux(self, *, with_audio: bool) -> Iterator[av.VideoFrame | av.Packet]:
        streams = [self.video, self.audio] if with_audio else [self.video]
        packets = self._container.demux(*streams)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                break
            except DECODE_ERRORS:
                self.report.ended_early = True
                break
            if packet.stream is self.audio:
                if packet.dts is not None:
                    yield packet
                continue
            try:
                decoded = packet.decode()
            except DECODE_ERRORS:
                self.report.damaged_packets += 1
                continue
            for frame in decoded:
                yield self._stamp(frame)

    def _stamp(self, frame: av.VideoFrame) -> av.VideoFrame:
        """Give every frame a strictly increasing PTS (missing or repeated ones are nudged)."""
        pts, last = presentation_time(frame), self._last_pts
        if pts is None or (last is not None and pts <= last):
            step = max(1, round(1 / (float(self.info.average_fps) * float(self.info.time_base))))
            pts = 0 if last is None else last + step
        frame.pts = pts
        self._last_pts = pts
        self.report.frames += 1
        return frame


def presentation_time(item: av.VideoFrame | av.Packet) -> int | None:
    """A decoded frame's (or a packet's) presentation time: its PTS, else the packet's DTS
    (the decoder hands frames over in presentation order), else None."""
    return item.pts if item.pts is not None else item.dts


def luma(frame: av.VideoFrame) -> np.ndarray:
    """The frame's 8-bit grey picture as a 2-D array (a view of the Y plane where possible)."""
    fmt = frame.format.name
    if fmt in ("yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12"):
        plane = frame.planes[0]
        rows = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
        return rows[:, : plane.width]
    return frame.to_ndarray(format="gray")


def luma_frames(
    reader: VideoReader,
    pts: list[int],
    on_frame: Callable[[], None] | None = None,
    frames: Iterator[av.VideoFrame] | None = None,
) -> Iterator[np.ndarray]:
    """The grey picture of each frame ``reader`` decodes (or of ``frames``, some of them),
    appending its PTS to ``pts``."""
    for frame in reader.frames() if frames is None else frames:
        pts.append(frame.pts)
        if on_frame:
            on_frame()
        yield luma(frame)


def plane_arrays(frame: av.VideoFrame) -> list[np.ndarray]:
    """Writable 8-bit views of a frame's planes, without their line padding."""
    return [
        np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, : p.width]
        for p in frame.planes
    ]


def yuv420_planes(frame: av.VideoFrame) -> list[np.ndarray]:
    """The frame as three 8-bit 4:2:0 planes (Y, U, V), converting other formats first."""
    if frame.format.name != "yuv420p":
        frame = frame.reformat(format="yuv420p")
    return plane_arrays(frame)


def audio_format(path: str | os.PathLike) -> tuple[int, str] | None:
    """Sample rate and channel layout of a file's first audio track, or None without one."""
    with _open_input(path) as container:
        if not container.streams.audio:
            return None
        ctx = container.streams.audio[0].codec_context
        return ctx.sample_rate, ctx.layout.name


def audio_samples(
    path: str | os.PathLike, info: VideoInfo, rate: int, layout: str
) -> Iterator[tuple[int, np.ndarray]]:
    """Decode a file's first audio track as (first sample index, (channels, n) float32) chunks
    at ``rate`` and ``layout``; sample 0 is the time of the first video frame."""
    with _open_input(path) as container:
        if not container.streams.audio:
            return
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
        position: int | None = None
        try:
            for packet in container.demux(stream):
                try:
                    frames = packet.decode()
                except DECODE_ERRORS:
                    continue
                for frame in frames:
                    if position is None and frame.pts is not None:
                        start_s = float(frame.pts * frame.time_base) - info.first_pts_s
                        position = round(start_s * rate)
                    for out in resampler.resample(frame):
                        samples = out.to_ndarray()
                        yield position or 0, samples
                        position = (position or 0) + samples.shape[1]
        except DECODE_ERRORS:
            return
