"""Motion blur along a line: the smear a moving camera leaves while its shutter is open.

The cut detector smears two frames alike before comparing them; join transitions render it.
"""

from __future__ import annotations

import math

import cv2
import numpy as np


def line_blur(picture: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """``picture`` averaged along the segment (``dx``, ``dy``) centred on each pixel (a blur
    of ``hypot(dx, dy)`` pixels; under 2 px it is left as it is). Along an image axis it is a
    box filter, fast at any length; otherwise a line kernel. Edges are mirrored."""
    length = math.hypot(dx, dy)
    size = int(round(length))
    if size < 2:
        return picture
    size |= 1
    if dx == 0 or dy == 0:
        return cv2.blur(picture, (size, 1) if dy == 0 else (1, size), borderType=cv2.BORDER_REFLECT)
    kernel = np.zeros((size, size), np.float32)
    c = size // 2
    ux, uy = dx / length * c, dy / length * c
    cv2.line(kernel, (round(c - ux), round(c - uy)), (round(c + ux), round(c + uy)), 1.0, 1)
    return cv2.filter2D(picture, -1, kernel / kernel.sum(), borderType=cv2.BORDER_REFLECT)
