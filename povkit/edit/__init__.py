"""Edit decisions out to editors: OpenTimelineIO timelines as .otio, CMX 3600 EDL, FCP XML."""

from povkit.edit.timeline import SourceClip, build_timeline, edit_rate
from povkit.edit.write import EDIT_FORMATS, edit_adapter, write_timeline

__all__ = [
    "EDIT_FORMATS",
    "SourceClip",
    "build_timeline",
    "edit_adapter",
    "edit_rate",
    "write_timeline",
]
