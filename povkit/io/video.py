"""Video reading and writing through PyAV: the only module that talks to FFmpeg.

Frames are indexed by their presentation timestamps. Damaged packets are skipped and counted,
so a partly readable file is processed as far as it goes; a file with no decodable video is an
``InputError`` with a message that says what is wrong.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.error
import numpy as np

from povkit.errors import InputError, UsageError, log
from povkit.io.outputs import check_output_folder, partial_path, written_whole
from povkit.types import VideoInfo

_DECODE_ERRORS = (av.error.InvalidDataError, av.error.EOFError, av.error.PatchWelcomeError)
_COPIED_AUDIO = {
    "mp4": {"aac", "mp3", "alac", "ac3", "eac3", "opus", "flac"},
    "mov": {
        "aac",
        "mp3",
        "alac",
        "ac3",
        "eac3",
        "pcm_s16le",
        "pcm_s16be",
        "pcm_s24le",
        "pcm_f32le",
    },
}
"""Audio codecs each container takes as they are; other sound is re-encoded to AAC (Matroska
takes everything)."""
_CONTAINER_FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}


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
    # them a frame's time is its own PTS or else its packet's DTS (FFmpeg's best effort).
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
        first_pts = frame_time(first)
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


# FFmpeg's matrix numbers (AVColorSpace) -> swscale's, for RGB -> YUV conversions
_SWS_MATRIX = {1: 1, 4: 4, 5: 5, 6: 5, 7: 7, 9: 9, 10: 9}


def in_output_colours(
    frame: av.VideoFrame, info: VideoInfo, width: int | None = None, height: int | None = None
) -> av.VideoFrame:
    """``frame`` (RGB, or YUV of another take) as 4:2:0 YUV in ``info``'s colour range and
    matrix, at ``width`` x ``height`` if given: pictures made or scaled in RGB then match the
    frames copied as they are."""
    colour_range, matrix = info.colour[:2]
    options = {}
    if colour_range in (1, 2):
        options["dst_color_range"] = colour_range
    if matrix in _SWS_MATRIX:
        options["dst_colorspace"] = _SWS_MATRIX[matrix]
    return frame.reformat(width=width, height=height, format="yuv420p", **options)


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
        with contextlib.suppress(*_DECODE_ERRORS):
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
            if packet.pts is not None:
                pts.append(packet.pts)
            if first is None:
                with contextlib.suppress(*_DECODE_ERRORS):
                    first = next(iter(packet.decode()), None)
    except _DECODE_ERRORS:
        pass  # a damaged tail: what was read so far is what we have
    if first is None:
        raise InputError(f"{path}: no decodable video frames (file damaged or codec unsupported)")
    return first, np.diff(np.sort(np.array(pts, dtype=np.int64)))


def _duration_s(container, stream) -> float:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    return 0.0


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
    """

    def __init__(self, path: str | os.PathLike, info: VideoInfo | None = None) -> None:
        self.info = info or probe(path)
        self._container = _open_input(path)
        self.video = main_video(self._container)
        self.video.thread_type = "AUTO"
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
            except _DECODE_ERRORS:
                self.report.ended_early = True
                break
            if packet.stream is self.audio:
                if packet.dts is not None:
                    yield packet
                continue
            try:
                decoded = packet.decode()
            except _DECODE_ERRORS:
                self.report.damaged_packets += 1
                continue
            for frame in decoded:
                yield self._stamp(frame)

    def _stamp(self, frame: av.VideoFrame) -> av.VideoFrame:
        """Give every frame a strictly increasing PTS (missing or repeated ones are nudged)."""
        pts, last = frame_time(frame), self._last_pts
        if pts is None or (last is not None and pts <= last):
            step = max(1, round(1 / (float(self.info.average_fps) * float(self.info.time_base))))
            pts = 0 if last is None else last + step
        frame.pts = pts
        self._last_pts = pts
        self.report.frames += 1
        return frame


def frame_time(frame: av.VideoFrame) -> int | None:
    """A decoded frame's presentation time: its PTS, else its packet's DTS (the decoder hands
    frames over in presentation order), else None."""
    return frame.pts if frame.pts is not None else frame.dts


def luma(frame: av.VideoFrame) -> np.ndarray:
    """The frame's 8-bit grey picture as a 2-D array (a view of the Y plane where possible)."""
    fmt = frame.format.name
    if fmt in ("yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12"):
        plane = frame.planes[0]
        rows = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
        return rows[:, : plane.width]
    return frame.to_ndarray(format="gray")


def luma_frames(
    reader: VideoReader, pts: list[int], on_frame: Callable[[], None] | None = None
) -> Iterator[np.ndarray]:
    """The grey picture of each frame ``reader`` decodes, appending its PTS to ``pts``."""
    for frame in reader.frames():
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


def check_output_path(input_path: str | os.PathLike, output_path: str | os.PathLike) -> Path:
    """Refuse an output that would overwrite the input or land in a missing folder."""
    out = check_output_folder(output_path)
    if out.exists() and Path(input_path).exists() and out.resolve() == Path(input_path).resolve():
        raise UsageError(f"{out}: output is the input; choose another output path")
    if out.is_dir():
        raise UsageError(f"{out}: is a folder; give an output file name such as {out / 'out.mp4'}")
    if out.suffix.lower() not in _CONTAINER_FORMATS:
        raise UsageError(
            f"{out}: unsupported output type {out.suffix or '(none)'}; use .mp4, .mov or .mkv"
        )
    return out


_WRITTEN_AS_IS = {"yuv420p", "yuvj420p", "nv12"}


def output_format_notes(info: VideoInfo) -> tuple[str, ...]:
    """What the x264 output cannot keep of ``info``'s picture format, one note each."""
    notes = []
    if info.width % 2 or info.height % 2:
        notes.append(
            f"{info.width}x{info.height} written as {info.width - info.width % 2}x"
            f"{info.height - info.height % 2}: 4:2:0 video needs even sizes"
        )
    if info.pixel_format not in _WRITTEN_AS_IS:
        notes.append(f"{info.pixel_format} pictures written as 8-bit 4:2:0 (yuv420p)")
    return tuple(notes)


X264_PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
    "placebo",
)


def check_encoding_options(*, crf: float, preset: str) -> None:
    """Refuse x264 settings it would reject, before any decoding rather than at the encoder."""
    if not 0 <= crf <= 51:
        raise UsageError(f"--crf must be between 0 and 51, got {crf:g}")
    if preset not in X264_PRESETS:
        raise UsageError(f"--preset must be one of {', '.join(X264_PRESETS)}, got {preset!r}")


def _mp4_timescale(time_base: Fraction) -> int:
    """Ticks per second for an MP4/MOV video track, and its movie, that hold every PTS of
    ``time_base`` exactly: the smallest multiple of its step's denominator of at least 10,000
    (the muxer's own minimum). The movie clock counts the delay before a first frame with a
    non-zero PTS; at its default 1/1000 s that frame moved (0.7 ms on megamind.avi)."""
    step = Fraction(time_base).denominator
    return step * -(-10_000 // step)


class VideoWriter:
    """Encode frames with libx264 into a temporary file that is renamed only when complete.

    Frames keep the PTS they are given (in the input's time base), the audio stream of the
    input is copied packet for packet, and sample aspect ratio and display rotation are kept.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        info: VideoInfo,
        width: int,
        height: int,
        audio_template: av.audio.stream.AudioStream | None = None,
        crf: float = 18,
        preset: str = "veryfast",
    ) -> None:
        self.path = Path(path)
        self._partial = partial_path(self.path)
        fmt = _CONTAINER_FORMATS.get(self.path.suffix.lower(), "mp4")
        time_base, options = info.time_base, {}
        if fmt != "matroska":  # MP4 and MOV: see _mp4_timescale
            timescale = _mp4_timescale(info.time_base)
            time_base, options = Fraction(1, timescale), {"movie_timescale": str(timescale)}
        self._container = av.open(str(self._partial), "w", format=fmt, options=options)
        stream = self._container.add_stream("libx264", rate=info.average_fps)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        stream.time_base = time_base
        stream.codec_context.time_base = info.time_base
        stream.codec_context.framerate = info.average_fps
        if info.sample_aspect != 1:
            stream.codec_context.sample_aspect_ratio = info.sample_aspect
        context = stream.codec_context
        (context.color_range, context.colorspace, context.color_primaries, context.color_trc) = (
            info.colour
        )
        stream.options = {"crf": f"{crf:g}", "preset": preset}
        # PyAV asks for slice threads; x264 then splits every frame into slices and encodes them
        # in lock step. Frame threads, as the ffmpeg command line uses, keep both cores busy.
        stream.codec_context.thread_type = "AUTO"
        if info.rotation:
            stream.set_display_rotation(info.rotation)
        self.video = stream
        self.audio = None
        self._audio_fifo: av.AudioFifo | None = None
        self._audio_start: int | None = None
        self._durations: dict[int, int] = {}
        """Frame durations by PTS, until their packets come out of the encoder."""
        if audio_template is not None:
            self._add_audio(audio_template, fmt)

    def _add_audio(self, template, fmt: str) -> None:
        if fmt == "matroska" or template.codec_context.codec.canonical_name in _COPIED_AUDIO[fmt]:
            self.audio = self._container.add_stream_from_template(template)
            return
        # e.g. PCM in an AVI or Vorbis going to MP4: re-encode to AAC, the way to keep the sound
        self.audio = self._container.add_stream("aac", rate=template.rate)
        self.audio.layout = template.layout
        self.audio.time_base = Fraction(1, template.rate)
        self._audio_fifo = av.AudioFifo()
        self._resampler = av.AudioResampler(
            format="fltp", layout=template.layout, rate=template.rate
        )

    def open_audio(self, rate: int, layout: str) -> None:
        """Add an AAC track fed by :meth:`write_audio` (call before the first frame is written)."""
        self.audio = self._container.add_stream("aac", rate=rate)
        self.audio.layout = layout
        self.audio.time_base = Fraction(1, rate)
        self._audio_fifo = av.AudioFifo()
        self._audio_layout = layout

    def write_audio(self, samples: np.ndarray) -> None:
        """Encode (channels, n) float samples at the rate given to :meth:`open_audio`."""
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(samples, dtype=np.float32),
            format="fltp",
            layout=self._audio_layout,
        )
        frame.sample_rate = self.audio.rate
        self._audio_fifo.write(frame)
        self._encode_audio(final=False)

    def write(self, frame: av.VideoFrame) -> None:
        if frame.duration:  # x264 drops it; the last frame of a VFR clip needs its own
            self._durations[frame.pts] = frame.duration
        self._mux_video(self.video.encode(frame))

    def _mux_video(self, packets: list[av.Packet]) -> None:
        for packet in packets:
            packet.duration = self._durations.pop(packet.pts, packet.duration)
            self._container.mux(packet)

    def copy_audio(self, packet: av.Packet) -> None:
        if self.audio is None:
            return
        if self._audio_fifo is None:
            packet.stream = self.audio
            self._container.mux(packet)
            return
        try:
            decoded = packet.decode()
        except _DECODE_ERRORS:
            return
        for frame in decoded:
            for resampled in self._resampler.resample(frame):
                if self._audio_start is None:  # where the sound starts, in samples
                    self._audio_start = resampled.pts or 0
                # the FIFO counts samples on from there; it refuses the few samples of jitter
                # in the stamps of some codecs (Vorbis) and any stamp but 0 for the first
                resampled.pts = None
                self._audio_fifo.write(resampled)
        self._encode_audio(final=False)

    def _encode_audio(self, *, final: bool) -> None:
        size = self.audio.codec_context.frame_size or 1024
        while self._audio_fifo.samples >= size or (final and self._audio_fifo.samples):
            frame = self._audio_fifo.read(min(size, self._audio_fifo.samples))
            if self._audio_start:  # copied sound that starts late (written sound has no PTS)
                frame.pts += self._audio_start
            for out in self.audio.encode(frame):
                self._container.mux(out)
        if final:
            for out in self.audio.encode(None):
                self._container.mux(out)

    def finish(self) -> Path:
        """Flush the encoders, close the file and move it to its final name."""
        self._mux_video(self.video.encode(None))
        if self._audio_fifo is not None:
            self._encode_audio(final=True)
        self._container.close()
        os.replace(self._partial, self.path)
        return self.path

    def abort(self) -> None:
        """Close and delete the partial file (after an error or an interruption)."""
        with contextlib.suppress(av.error.FFmpegError):
            self._container.close()
        self._partial.unlink(missing_ok=True)


def encode_frames(
    path: str | os.PathLike,
    frames: Iterable[np.ndarray],
    *,
    fps: Fraction,
    audio: np.ndarray | None = None,
    sample_rate: int = 48000,
    crf: float = 18,
    preset: str = "veryfast",
) -> Path:
    """Encode RGB frames (H, W, 3 uint8) at a constant rate, with optional mono float audio.

    Used for footage povkit makes itself (synthetic clips, side-by-side comparisons); written
    to a temporary name and renamed when complete, like every output.
    """
    path = Path(path)
    fps = Fraction(fps).limit_denominator(1001)
    fmt = _CONTAINER_FORMATS.get(path.suffix, "mp4")
    with written_whole(path) as partial, av.open(str(partial), "w", format=fmt) as out:
        video = out.add_stream("libx264", rate=fps)
        video.codec_context.time_base = 1 / fps
        video.options = {"crf": f"{crf:g}", "preset": preset}
        sound = None
        if audio is not None:
            sound = out.add_stream("aac", rate=sample_rate)
            sound.layout = "mono"
        index = 0
        for index, rgb in enumerate(frames):  # noqa: B007 - index is the frame count
            if index == 0:
                video.width, video.height = rgb.shape[1] & ~1, rgb.shape[0] & ~1
                video.pix_fmt = "yuv420p"
            frame = av.VideoFrame.from_ndarray(
                np.ascontiguousarray(rgb[: video.height, : video.width]), format="rgb24"
            )
            frame.pts = index
            frame.time_base = video.codec_context.time_base
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        if sound is not None:
            _encode_mono(out, sound, audio, sample_rate)
    return path


def _encode_mono(out, stream, samples: np.ndarray, sample_rate: int) -> None:
    size = 1024
    for start in range(0, len(samples), size):
        chunk = np.ascontiguousarray(samples[start : start + size], dtype=np.float32)
        frame = av.AudioFrame.from_ndarray(chunk[None, :], format="flt", layout="mono")
        frame.sample_rate = sample_rate
        frame.pts = start
        frame.time_base = Fraction(1, sample_rate)
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))


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
                except _DECODE_ERRORS:
                    continue
                for frame in frames:
                    if position is None and frame.pts is not None:
                        start_s = float(frame.pts * frame.time_base) - info.first_pts_s
                        position = round(start_s * rate)
                    for out in resampler.resample(frame):
                        samples = out.to_ndarray()
                        yield position or 0, samples
                        position = (position or 0) + samples.shape[1]
        except _DECODE_ERRORS:
            return
