"""Camera motion sensors: GoPro GPMF, Gyroflow ``.gcsv`` and plain CSV logs into ``ImuSamples``.

GoPro files and ``.gcsv`` logs are decoded by ``telemetry-parser``; the GPMF sample times come
from the ``gpmd`` packet timestamps with each payload's samples spread evenly across the packet
(the parser itself does not report per-packet times). Axes go from the file's own order to the
parser's normalized frame (GoPro ORIN / gcsv ``orientation``: up, left, back) and from there
to povkit's camera axes (see ``ImuSamples``).

Any failure to read telemetry is a ``TelemetryError``: callers warn once and fall back to the
picture.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from povkit.errors import InputError
from povkit.io.video import data_packet_spans, probe
from povkit.types import ImuSamples, VideoInfo

GPMF_STREAMS = {
    "GYRO": "Gyroscope",
    "ACCL": "Accelerometer",
    "CORI": "CameraOrientation",
    "IORI": "ImageOrientation",
    "GRAV": "GravityVector",
}
"""GPMF four-character keys and the names telemetry-parser gives them."""

PLAIN_CSV_COLUMNS = ("time_s", "yaw_rad_s", "pitch_rad_s", "roll_rad_s")
"""Required header of a plain CSV log (in ``ImuSamples`` axes); ``ax_m_s2, ay_m_s2, az_m_s2``
may follow."""
_PLAIN_ACCEL = ("ax_m_s2", "ay_m_s2", "az_m_s2")

_NORMALIZED_TO_RATES = -np.eye(3)
"""(yaw, pitch, roll) rates from the normalized (up, left, back) angular velocity.

The up axis is certain (a camera at rest reads +g on it in every clip); left/back rather than
right/forward is what the picture says: pitch rates then correlate with vertical image motion
in the Karma and MAX clips (both alternatives are right-handed)."""
_NORMALIZED_TO_DOWN = np.array([[0, 1.0, 0], [1, 0, 0], [0, 0, 1]])
"""Downward (x right, y down, z forward) vector from a normalized accelerometer reading, which
points up at rest."""


class TelemetryError(InputError):
    """Motion telemetry is missing, damaged, or does not fit the clip."""


@dataclass(frozen=True)
class LensSettings:
    """What a GoPro's settings say about its lens: the mode (GPMF VFOV, a letter such as W for
    wide) and, on cameras that state it, the diagonal field of view (ZFOV, degrees)."""

    mode: str = ""
    diagonal_fov_deg: float | None = None


@dataclass(frozen=True)
class GpmfStream:
    """One GPMF sensor stream as the file stores it: scaled values in the file's axis order."""

    times: np.ndarray
    values: np.ndarray
    to_normalized: np.ndarray
    """3x3 matrix from the file's axes to the normalized (up, left, back) frame."""
    orientation: str = ""


def read_telemetry(path: str | os.PathLike) -> ImuSamples:
    """Motion samples of a GoPro video, a ``.gcsv`` log or a plain ``.csv`` log."""
    path = Path(path)
    if not path.is_file():
        raise TelemetryError(f"{path}: no such telemetry file")
    suffix = path.suffix.lower()
    if suffix == ".gcsv":
        return _read_gcsv(path)
    if suffix == ".csv":
        return _read_plain_csv(path)
    return _read_gpmf(path)


def find_telemetry(video: str | os.PathLike, info: VideoInfo | None = None) -> ImuSamples | None:
    """Telemetry for ``video`` (probed as ``info``): embedded GPMF, else a sidecar ``.gcsv`` or
    ``.csv``; None if none. Telemetry that exists but cannot be read raises ``TelemetryError``.
    """
    video = Path(video)
    info = info or probe(video)
    if "gpmd" in info.data_streams:
        return _read_gpmf(video, info)
    for suffix in (".gcsv", ".csv"):
        sidecar = video.with_suffix(suffix)
        if sidecar.is_file():
            return read_telemetry(sidecar)
    return None


def check_coverage(imu: ImuSamples, start_s: float, end_s: float, *, slack_s: float = 0.1) -> None:
    """Raise ``TelemetryError`` unless the samples span ``start_s..end_s`` without long gaps."""
    times = imu.times
    if len(times) < 2:
        raise TelemetryError("telemetry has fewer than two gyro samples")
    if times[0] > start_s + slack_s or times[-1] < end_s - slack_s:
        raise TelemetryError(
            f"telemetry covers {times[0]:.2f}-{times[-1]:.2f} s but the clip runs "
            f"{start_s:.2f}-{end_s:.2f} s"
        )
    inside = (times >= start_s - slack_s) & (times <= end_s + slack_s)
    gaps = np.diff(times[inside])
    if len(gaps) and (gaps.max() > slack_s or gaps.min() <= 0):
        raise TelemetryError(
            f"telemetry has a gap of {gaps.max():.2f} s or out-of-order samples inside the clip"
        )


def read_gpmf_streams(
    path: str | os.PathLike, info: VideoInfo | None = None
) -> tuple[dict[str, GpmfStream], dict]:
    """The GPMF sensor streams of a GoPro file (keys of ``GPMF_STREAMS`` that are present), and
    the camera's settings (model, in-camera stabilization); ``info`` is its probe, if known."""
    groups, model = _parse(path)
    spans = data_packet_spans(path, "gpmd")
    if not spans:
        raise TelemetryError(f"{path}: no GoPro gpmd telemetry track")
    # the parser puts the file-level settings first; one group per gpmd packet follows
    payloads = groups[-len(spans) :] if len(groups) >= len(spans) else groups
    first_pts = (info or probe(path)).first_pts_s
    streams = {}
    for key, name in GPMF_STREAMS.items():
        times, values, info = [], [], None
        for (start, duration), group in zip(spans, payloads, strict=False):
            entry = group.get(name)
            if not entry or not entry.get("Data"):
                continue
            info = entry
            rows = _rows(entry)
            spread = (np.arange(len(rows)) + 0.5) * duration / len(rows)
            times.append(start - first_pts + spread)
            values.append(rows)
        if info is not None:
            matrix = np.asarray(info.get("Matrix", [np.eye(3).ravel()])[0], dtype=np.float64)
            streams[key] = GpmfStream(
                times=np.concatenate(times),
                values=np.concatenate(values),
                to_normalized=matrix.reshape(3, 3),
                orientation=str(info.get("OrientationIn", "")),
            )
    if "GYRO" not in streams:
        raise TelemetryError(f"{path}: its telemetry has no gyroscope samples")
    return streams, {"model": model, "stabilized_in_camera": _eis(groups)}


def read_lens_settings(
    path: str | os.PathLike, info: VideoInfo | None = None
) -> LensSettings | None:
    """The lens settings of a GoPro file (probed as ``info``), or None without a gpmd track.

    Only the parser runs (its first group holds the settings), with no demux of the video:
    some 50 ms on the Karma clip.
    """
    if "gpmd" not in (info or probe(path)).data_streams:
        return None
    groups, _ = _parse(path)
    settings = groups[0].get("Default", {}) if groups else {}
    fov = settings.get("0x5a464f56")  # ZFOV
    try:
        diagonal = float(fov) if fov is not None else None
    except (TypeError, ValueError):
        diagonal = None
    if diagonal is not None and not 0 < diagonal < 360:
        diagonal = None
    return LensSettings(mode=str(settings.get("0x56464f56", "")), diagonal_fov_deg=diagonal)


def _parse(path: str | os.PathLike) -> tuple[list[dict], str]:
    import telemetry_parser  # a compiled extension: import only when telemetry is asked for

    try:
        parser = telemetry_parser.Parser(str(path))
        groups = parser.telemetry()
    except (OSError, ValueError, RuntimeError) as exc:
        raise TelemetryError(f"{path}: telemetry not readable ({exc})") from None
    model = " ".join(part for part in (parser.camera, parser.model) if part)
    return groups, model


def _rows(entry: dict) -> np.ndarray:
    """Scaled sample rows of a parsed GPMF entry: (x, y, z) or (w, x, y, z) for quaternions."""
    data = entry["Data"]
    keys = ("w", "x", "y", "z") if "w" in data[0] else ("x", "y", "z")
    rows = np.array([[sample[k] for k in keys] for sample in data], dtype=np.float64)
    return rows / float(entry.get("Scale", 1) or 1)


def _eis(groups: list[dict]) -> bool | None:
    """In-camera stabilization from the GoPro settings (EISE: enabled, EISA: what was applied)."""
    settings = groups[0].get("Default", {}) if groups else {}
    applied = settings.get("0x45495341")  # EISA, e.g. "HS EIS", "HS HLevel" or "N"
    enabled = settings.get("0x45495345")  # EISE, "Y" or "N"
    if applied is None and enabled is None:
        return None
    return enabled == "Y" or (applied not in (None, "N", ""))


def _read_gpmf(path: Path, info: VideoInfo | None = None) -> ImuSamples:
    streams, settings = read_gpmf_streams(path, info)
    gyro, accel = streams["GYRO"], streams.get("ACCL")
    orientations = {key: streams.get(key) for key in ("CORI", "IORI", "GRAV")}
    clock = next((s.times for s in orientations.values() if s is not None), None)
    return ImuSamples(
        times=gyro.times,
        gyro=to_camera_rates(gyro.values @ gyro.to_normalized.T),
        accel=None if accel is None else _accel_on(gyro.times, accel),
        orientation_times=clock,
        camera_orientation=_values(orientations["CORI"]),
        image_orientation=_values(orientations["IORI"]),
        gravity=_values(orientations["GRAV"]),
        axes=gyro.orientation,
        model=settings["model"],
        stabilized_in_camera=settings["stabilized_in_camera"],
    )


def _values(stream: GpmfStream | None) -> np.ndarray | None:
    return None if stream is None else stream.values


def _accel_on(times: np.ndarray, accel: GpmfStream) -> np.ndarray:
    """Accelerometer samples resampled onto the gyro clock, in ``ImuSamples`` axes."""
    down = to_camera_down(accel.values @ accel.to_normalized.T)
    return np.column_stack([np.interp(times, accel.times, down[:, i]) for i in range(3)])


def to_camera_rates(normalized: np.ndarray) -> np.ndarray:
    """(yaw, pitch, roll) rates from normalized (up, left, back) angular velocity."""
    return normalized @ _NORMALIZED_TO_RATES.T


def to_camera_down(normalized: np.ndarray) -> np.ndarray:
    """Downward vector in camera axes from a normalized (up, left, back) accelerometer."""
    return normalized @ _NORMALIZED_TO_DOWN.T


def _read_gcsv(path: Path) -> ImuSamples:
    """A Gyroflow ``.gcsv`` log; telemetry-parser applies its scales and ``orientation``."""
    import telemetry_parser

    try:
        parser = telemetry_parser.Parser(str(path))
        samples = parser.normalized_imu()
        groups = parser.telemetry()
    except (OSError, ValueError, RuntimeError) as exc:
        raise TelemetryError(f"{path}: not a readable .gcsv log ({exc})") from None
    samples = [s for s in samples if s.get("gyro") is not None]
    if len(samples) < 2:
        raise TelemetryError(f"{path}: the .gcsv log has fewer than two gyro samples")
    # the parser counts from the log's first sample; the log's own clock may start later
    gyro_data = groups[0].get("Gyroscope", {}).get("Data", []) if groups else []
    start = float(gyro_data[0]["t"]) if gyro_data else 0.0
    times = start + np.array([s["timestamp_ms"] for s in samples]) / 1000
    gyro = np.radians(np.array([s["gyro"] for s in samples], dtype=np.float64))
    accel = None
    if all(s.get("accl") is not None for s in samples):
        accel = to_camera_down(np.array([s["accl"] for s in samples], dtype=np.float64))
    orientation = str(groups[0].get("Gyroscope", {}).get("Orientation", "")) if groups else ""
    return ImuSamples(
        times=times,
        gyro=to_camera_rates(gyro),
        accel=accel,
        axes=orientation,
        model=" ".join(p for p in (parser.camera, parser.model) if p),
        sidecar=True,
    )


def _read_plain_csv(path: Path) -> ImuSamples:
    """A plain CSV log: header ``time_s,yaw_rad_s,pitch_rad_s,roll_rad_s[,ax_m_s2,...]``."""
    try:
        with path.open(newline="") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError) as exc:
        raise TelemetryError(f"{path}: not readable ({exc})") from None
    if not rows or not set(PLAIN_CSV_COLUMNS) <= {name.strip() for name in rows[0]}:
        raise TelemetryError(
            f"{path}: a plain CSV gyro log needs the header {','.join(PLAIN_CSV_COLUMNS)} "
            f"(optionally {','.join(_PLAIN_ACCEL)})"
        )
    header = [name.strip() for name in rows[0]]
    try:
        table = np.array([[float(v) for v in row] for row in rows[1:] if row], dtype=np.float64)
    except ValueError as exc:
        raise TelemetryError(f"{path}: a value is not a number ({exc})") from None
    if table.ndim != 2 or len(table) < 2 or table.shape[1] != len(header):
        raise TelemetryError(f"{path}: needs at least two complete rows of {len(header)} values")

    def columns(names: tuple[str, ...]) -> np.ndarray:
        return table[:, [header.index(n) for n in names]]

    has_accel = set(_PLAIN_ACCEL) <= set(header)
    return ImuSamples(
        times=table[:, header.index("time_s")],
        gyro=columns(PLAIN_CSV_COLUMNS[1:]),
        accel=columns(_PLAIN_ACCEL) if has_accel else None,
        model="csv",
        sidecar=True,
    )


def write_plain_csv(path: str | os.PathLike, imu: ImuSamples) -> None:
    """Write samples as a plain CSV log (the format ``read_telemetry`` reads back)."""
    header = list(PLAIN_CSV_COLUMNS) + (list(_PLAIN_ACCEL) if imu.accel is not None else [])
    parts = [imu.times[:, None], imu.gyro] + ([imu.accel] if imu.accel is not None else [])
    with Path(path).open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(np.hstack(parts).tolist())
