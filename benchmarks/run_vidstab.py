"""Run the python `vidstab` package on one clip, encoding with the benchmark's x264 settings.

Executed by the interpreter of `benchmarks/.venv-vidstab` (see `stabilize.py`), never by the
project's own environment: vidstab needs a non-headless OpenCV, which would clash with the
project's `opencv-python-headless`.

Usage: run_vidstab.py IN OUT

Stabilization uses `VidStab()` and `VidStab.stabilize()` with their defaults (GFTT keypoints,
smoothing_window=30, border_type="black", border_size=0). Only the writer is replaced: instead of
`cv2.VideoWriter`, each stabilized BGR frame is piped raw into ffmpeg's libx264 (crf 18, preset
veryfast, yuv420p), with the input's audio copied, so that every tool in the benchmark is encoded
the same way and no lossless intermediate file is written. The frame rate is the input's exact
average rate from ffprobe, since vidstab itself truncates it to an integer.

Prints one JSON object: frames written, the rate used and the versions of the packages involved.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

import cv2
import numpy as np
from vidstab import VidStab

X264 = ["-c:v", "libx264", "-crf", "18", "-preset", "veryfast", "-pix_fmt", "yuv420p"]


def average_rate(src: Path) -> str:
    """Return the average frame rate of the first video stream as ffprobe's fraction."""
    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=avg_frame_rate",
            "-of",
            "default=noprint_wrappers=1:nokey=1",
            str(src),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not out or out.startswith("0/"):
        raise RuntimeError(f"ffprobe gives no frame rate for {src}")
    return out


class X264Pipe:
    """A `cv2.VideoWriter` stand-in that pipes raw BGR frames into ffmpeg's libx264."""

    def __init__(self, src: Path, dst: Path, size: tuple[int, int], rate: str) -> None:
        width, height = size
        self.frames = 0
        # Outlives this call: ffmpeg writes to it until release() reads it back.
        self._log = tempfile.TemporaryFile()  # noqa: SIM115
        command = [
            "ffmpeg",
            "-y",
            "-loglevel",
            "error",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "bgr24",
            "-s",
            f"{width}x{height}",
            "-r",
            rate,
            "-i",
            "-",
            "-i",
            str(src),
            "-map",
            "0:v:0",
            "-map",
            "1:a?",
            *X264,
            "-c:a",
            "copy",
            str(dst),
        ]
        self._proc = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=self._log)

    def write(self, frame: np.ndarray) -> None:
        """Send one BGR frame to the encoder."""
        try:
            self._proc.stdin.write(np.ascontiguousarray(frame).tobytes())
        except BrokenPipeError:
            self.release()
        self.frames += 1

    def release(self) -> None:
        """Close the pipe, wait for ffmpeg and raise with its last message if it failed."""
        if not self._proc.stdin.closed:
            self._proc.stdin.close()
        if self._proc.wait() != 0:
            self._log.seek(0)
            lines = self._log.read().decode(errors="replace").strip().splitlines()
            raise RuntimeError(f"ffmpeg encoder failed: {lines[-1] if lines else 'no message'}")


class PipedVidStab(VidStab):
    """VidStab with its default settings, writing through `X264Pipe` instead of OpenCV."""

    def __init__(self, src: Path, rate: str) -> None:
        super().__init__()
        self.src = src
        self.rate = rate
        self.pipe: X264Pipe | None = None

    def _init_writer(
        self, output_path: str, frame_shape: tuple[int, int], output_fourcc: str, fps: float
    ) -> None:
        """Replace vidstab's hook that opens its `cv2.VideoWriter` (fourcc and int fps unused)."""
        height, width = frame_shape
        self.pipe = X264Pipe(self.src, Path(output_path), (width, height), self.rate)
        self.writer = self.pipe


def main(argv: list[str]) -> int:
    """Stabilize argv[0] into argv[1] and print a JSON report."""
    if len(argv) != 2:
        print("usage: run_vidstab.py IN OUT", file=sys.stderr)
        return 2
    src, dst = Path(argv[0]), Path(argv[1])
    rate = average_rate(src)
    stabilizer = PipedVidStab(src, rate)
    stabilizer.stabilize(str(src), str(dst), show_progress=False)
    if stabilizer.pipe is None:
        raise RuntimeError("vidstab wrote no frames")
    report = {
        "frames": stabilizer.pipe.frames,
        "rate": rate,
        "vidstab": version("vidstab"),
        "opencv": cv2.__version__,
        "numpy": np.__version__,
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
