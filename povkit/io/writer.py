"""Video writing through PyAV: x264 outputs that keep the input's timing, sound and colour.

Every output is written under a temporary name and renamed when complete (``io.outputs``);
settings x264 or the container would refuse are refused first, before any decoding.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import av
import av.error
import numpy as np

from povkit.errors import UsageError
from povkit.io.outputs import check_output_folder, partial_path, written_whole
from povkit.io.video import DECODE_ERRORS
from povkit.types import VideoInfo

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


# FFmpeg's matrix numbers (AVColorSpace) -> swscale's, for RGB -> YUV conversions
_SWS_MATRIX = {1: 1, 4: 4, 5: 5, 6: 5, 7: 7, 9: 9, 10: 9}


def in_output_colours(
    frame: av.VideoFrame, info: VideoInfo, width: int | None = None, height: int | None = None
) -> av.VideoFrame:
    """``frame`` (RGB, or YUV of another take) as 4:2:0 YUV in ``info``'s colour range and
    matrix, at ``width`` x ``height`` if given: pictures made or scaled in RGB then match the
    frames copied as they are."""
    colour_range, matrix = info.colour[:2]
    options = {"dst_color_range": 2 if colour_range == 2 else 1}  # untagged is shown limited
    if matrix in _SWS_MATRIX:
        options["dst_colorspace"] = _SWS_MATRIX[matrix]
    return frame.reformat(width=width, height=height, format="yuv420p", **options)


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

    Frames keep the PTS and durations they are given (in the input's time base); the input's
    sound is copied packet for packet where the container can hold it, else re-encoded to AAC
    from where it starts; sample aspect ratio, display rotation and colour tags are kept.
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
        self.open_audio(template.rate, template.layout.name)
        self._resampler = av.AudioResampler(
            format="fltp", layout=template.layout, rate=template.rate
        )

    def open_audio(self, rate: int, layout: str) -> None:
        """Add an AAC track fed by :meth:`write_audio`, or by :meth:`copy_audio` with sound the
        container cannot hold (call before the first frame is written)."""
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
        except DECODE_ERRORS:
            return
        for frame in decoded:
            for resampled in self._resampler.resample(frame):
                if self._audio_start is None:  # where the sound starts, in samples
                    stamped = resampled.pts and resampled.time_base
                    start = resampled.pts * resampled.time_base if stamped else 0
                    self._audio_start = round(start * self.audio.rate)
                # the FIFO counts samples on from there; it refuses the few samples of jitter
                # in the stamps of some codecs (Vorbis) and any stamp but 0 for the first
                resampled.pts = None
                self._audio_fifo.write(resampled)
        self._encode_audio(final=False)

    def _encode_audio(self, *, final: bool) -> None:
        size = self.audio.codec_context.frame_size or 1024
        while self._audio_fifo.samples >= size or (final and self._audio_fifo.samples):
            frame = self._audio_fifo.read(min(size, self._audio_fifo.samples))
            # stamped in samples from where the sound starts, so the encoder's priming gets a
            # negative time that the container trims: unstamped, it delayed the sound 23 ms
            frame.pts = (self._audio_start or 0) + self._audio_fifo.samples_read - frame.samples
            frame.time_base = Fraction(1, self.audio.rate)
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
