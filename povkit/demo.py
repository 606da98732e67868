"""``povkit demo``: the main job end to end on footage povkit makes itself (no download)."""

from __future__ import annotations

import math
from pathlib import Path

from povkit.api import stabilize
from povkit.errors import UsageError
from povkit.io.outputs import check_output_folder
from povkit.io.synthetic import truth_path, write_synthetic_clip
from povkit.progress import progress
from povkit.quality import measure_quality
from povkit.render.compare import side_by_side


def check_demo_options(*, seconds: float, width: int, height: int) -> None:
    """Refuse a walk the demo cannot make, before making anything."""
    if not (math.isfinite(seconds) and 2 <= seconds <= 600):
        raise UsageError(f"--seconds must be within 2 and 600, got {seconds:g}")
    for name, value, least in (("--width", width, 64), ("--height", height, 36)):
        if not least <= value <= 7680 or value % 2:
            raise UsageError(
                f"{name} must be an even number of pixels within {least} and 7680 "
                f"(x264 4:2:0 needs even sizes), got {value}"
            )


def run_demo(out: Path, *, seconds: float, width: int, height: int, seed: int) -> dict:
    """Make a shaky synthetic walk, stabilize it, write a side-by-side, score before/after."""
    check_demo_options(seconds=seconds, width=width, height=height)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"{out}: cannot make the demo folder ({exc.strerror}); use --out"
        ) from None
    check_output_folder(out / "shaky.mp4")
    shaky, stable, both = out / "shaky.mp4", out / "stabilized.mp4", out / "side_by_side.mp4"
    with progress("rendering a synthetic walk", None):
        write_synthetic_clip(shaky, seconds=seconds, width=width, height=height, seed=seed)
    result = stabilize(shaky, stable, gyro="off")  # the synthetic clip carries no telemetry
    side_by_side(shaky, stable, both)
    truth = truth_path(shaky)
    before = measure_quality(shaky, shaky, truth=truth)
    after = measure_quality(shaky, stable, truth=truth)
    rows = [
        ("stability", before["stability"], after["stability"]),
        ("cropping", before["cropping"], after["cropping"]),
        ("distortion", before["distortion"], after["distortion"]),
        ("shake, deg RMS > 1 Hz", before["shake_out_deg"], after["shake_out_deg"]),
        ("turn lag, frames", before["lag_frames"], after["lag_frames"]),
    ]
    lines = [
        f"shaky walk:   {shaky}",
        f"stabilized:   {stable} (zoom {result.zoom:.3f}, {result.seconds:.1f} s)",
        f"side by side: {both}",
        "",
        f"{'':24}{'before':>10}{'after':>10}",
        *(f"{name:24}{b:>10.3f}{a:>10.3f}" for name, b, a in rows),
        f"shake left: {after['shake_left']:.1%} of the input's",
    ]
    return {
        "shaky": str(shaky),
        "stabilized": str(stable),
        "side_by_side": str(both),
        "truth": str(truth),
        "stabilize": result.to_dict(),
        "before": before,
        "after": after,
        "summary": "\n".join(lines),
    }
