"""Write a timeline in the format its file name asks for, through OpenTimelineIO's adapters."""

from __future__ import annotations

import os
from pathlib import Path

import opentimelineio as otio

from povkit.errors import UsageError
from povkit.io.outputs import check_output_folder, written_whole

EDIT_FORMATS = {".otio": "otio_json", ".edl": "cmx_3600", ".xml": "fcp_xml"}
"""File extension -> OpenTimelineIO adapter: .otio is the master, EDL and FCP 7 XML for editors."""
TIMECODE_ADAPTERS = {"cmx_3600", "fcp_xml"}
"""Formats that count in SMPTE timecode, so only at its rates (23.976, 24, 25, 29.97, ...)."""


def edit_adapter(path: str | os.PathLike, rate: float | None = None) -> str:
    """The adapter that writes ``path`` (at ``rate`` frames per second where known), or a
    UsageError saying why it cannot be written."""
    path = Path(path)
    adapter = EDIT_FORMATS.get(path.suffix.lower())
    if adapter is None:
        raise UsageError(
            f"{path}: unknown edit format {path.suffix or '(none)'}; use " + ", ".join(EDIT_FORMATS)
        )
    check_output_folder(path)
    timecode = otio.opentime.RationalTime.is_valid_timecode_rate
    if adapter in TIMECODE_ADAPTERS and rate is not None and not timecode(rate):
        raise UsageError(
            f"{path}: EDL and FCP XML count SMPTE timecode, which has no {rate:.3f} fps; "
            "write .otio for this clip instead"
        )
    return adapter


def write_timeline(timeline: otio.schema.Timeline, path: str | os.PathLike) -> Path:
    """Write ``timeline`` to ``path`` (.otio, .edl or .xml), complete or not at all."""
    path = Path(path)
    adapter = edit_adapter(path, timeline.global_start_time.rate)
    with written_whole(path) as partial:
        otio.adapters.write_to_file(timeline, str(partial), adapter_name=adapter)
    return path
