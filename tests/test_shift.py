"""The quick shift pass that syncs the gyro: repeatable to the bit, and right on a known pan."""

import av
import numpy as np

from povkit.io.synthetic import write_synthetic_clip
from povkit.motion.shift import measure_shifts


def test_shifts_are_repeatable_and_follow_the_truth(tmp_path):
    clip = tmp_path / "walk.mp4"
    truth = write_synthetic_clip(clip, seconds=2, width=320, height=180, seed=2)
    first, _ = measure_shifts(clip)
    again, _ = measure_shifts(clip, workers=1)
    # handed the window, OpenCV 5.0's phaseCorrelate windows its inputs in place: reused frames
    # gave shifts that changed with the call order (see povkit/motion/phase.py)
    np.testing.assert_array_equal(first.params, again.params)
    step_error = np.diff(first.params[:, :2] - truth.content_path("actual")[:, :2], axis=0)
    assert np.sqrt(np.mean(step_error**2)) < 0.5  # pixels per frame, RMS


def test_sync_points_decode_only_their_frames(tmp_path):
    """A pass over some spans gives the whole clip's frame times, and in the spans the very
    steps the whole pass measures; outside them nothing is measured."""
    clip = tmp_path / "walk.mp4"
    write_synthetic_clip(clip, seconds=4, width=320, height=180, seed=3)
    whole, _ = measure_shifts(clip)
    spans = [(0.5, 1.0), (2.5, 3.2)]
    measured = []
    some, _ = measure_shifts(clip, spans=spans, on_frame=lambda: measured.append(1))
    np.testing.assert_array_equal(some.times.pts, whole.times.pts)
    seconds = whole.times.seconds
    inside = np.zeros(len(seconds), dtype=bool)
    for start, end in spans:  # each span's first frame has no step from a measured frame
        span = np.flatnonzero((seconds >= start - 1e-6) & (seconds <= end + 1e-6))
        inside[span[1:]] = True
    np.testing.assert_array_equal(some.valid, inside & whole.valid)
    np.testing.assert_allclose(some.steps[inside, :2], whole.steps[inside, :2], atol=1e-9)
    assert len(measured) == inside.sum() + len(spans)


def _as_mpegts(clip, path):
    """``clip``'s video remuxed into MPEG-TS: no index, so a seek lands on any frame, and its
    times start at 1/15 s, not 0."""
    with av.open(clip) as source, av.open(path, "w", format="mpegts") as out:
        stream = out.add_stream_from_template(source.streams.video[0])
        for packet in source.demux(source.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                out.mux(packet)
    return path


def test_sync_points_of_a_file_without_an_index_start_at_a_key_frame(tmp_path):
    """MPEG-TS has no index of key frames: a seek lands on the frame nearest the time asked,
    the decoder drops all up to the next key frame, and a span within one GOP got no frames."""
    clip = tmp_path / "walk.mp4"
    write_synthetic_clip(clip, seconds=4, width=320, height=180, seed=3)  # one GOP
    spans = [(0.5, 1.0), (2.5, 3.2)]
    indexed, _ = measure_shifts(clip, spans=spans)
    streamed, _ = measure_shifts(_as_mpegts(clip, tmp_path / "walk.ts"), spans=spans)
    assert indexed.valid.sum() > 20
    np.testing.assert_array_equal(streamed.valid, indexed.valid)
    np.testing.assert_allclose(streamed.steps[:, :2], indexed.steps[:, :2], atol=1e-9)
