"""Measure motion in a clip: the camera path it shows, and where coloured objects go.

The evaluation oracle for Director Mode (`python -m runway_nb.eval --camera / --brushes`)
and the notebook's "measured over requested" plots. Built on the toy-world analyzer:

  * `measure_camera`: the camera path [x, y, zoom, roll] per frame, in `CameraPath`
    units, from dense optical flow and RANSAC similarity fits, frame to frame and then
    corrected against frame 0. Moving objects are left out, so only the scene counts.
  * `object_masks` / `track` / `stray_share`: pixels of one palette colour, the centroid of
    the blob that is the object (followed frame to frame), and how much of the colour
    shows elsewhere (a second copy).
  * `classify_move`: a camera's dominant move with the analyzer's thresholds (the same
    rule the existing camera metric of `python -m runway_nb.eval` uses).
"""

from __future__ import annotations

import numpy as np

from ..camera.geometry import camera_from_transform, frame_transform
from . import toyworld
from .analyzer import ROLL_DEG, SHIFT_SHARE, ZOOM_LOG, _camera_move

_OBJ = {c: np.array(v) for c, v in toyworld.OBJECT_RGB.items()}


def object_masks(frames: np.ndarray, color: str) -> np.ndarray:
    """(T, H, W) bool: pixels of the toy world's `color` (or its darker rim), away from the
    background around them — the analyzer's rule, for one given colour."""
    x = np.asarray(frames, np.float32) / 255.0
    bg = np.median(x, axis=2, keepdims=True)
    rgb = _OBJ[color]
    d = np.minimum(np.sqrt(((x - rgb) ** 2).sum(-1)), np.sqrt(((x - 0.72 * rgb) ** 2).sum(-1)))
    return (d < 0.22) & (np.sqrt(((x - bg) ** 2).sum(-1)) > 0.25)


# how far (pixels) a tracked object may be from where it was last seen: this much, plus
# this much per frame since then (toy objects and pans move ≤ 4 px a frame)
TRACK_GATE_PX, TRACK_GATE_PER_FRAME = 12.0, 4.0


def blobs(mask: np.ndarray, min_pixels: int = 4) -> list[tuple[int, float, float]]:
    """(pixels, x, y) of each blob of `mask`: pixels closer than 2 px join one blob, so an
    object the model draws in pieces stays whole; blobs under `min_pixels` are dropped."""
    import cv2

    joined = cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8))
    n, labels = cv2.connectedComponents(joined, connectivity=8)
    out = []
    for k in range(1, n):
        ys, xs = np.nonzero(mask & (labels == k))
        if len(xs) >= min_pixels:
            out.append((len(xs), float(xs.mean()), float(ys.mean())))
    return out


def track(frames: np.ndarray, color: str, min_pixels: int = 4) -> np.ndarray:
    """(T, 2) centroid (x, y) in pixels of one object of `color` per frame (NaN where it is
    not seen). It follows one blob — the largest where the colour first shows, then the one
    nearest where it was last seen, within a gate — so stars, clouds or a second copy of the
    colour elsewhere in the picture do not pull the centroid (white stars on a night sky did)."""
    out = np.full((len(frames), 2), np.nan)
    last, last_i = None, 0
    for i, m in enumerate(object_masks(frames, color)):
        found = blobs(m, min_pixels)
        if last is not None:
            gate = TRACK_GATE_PX + TRACK_GATE_PER_FRAME * (i - last_i)
            found = [b for b in found if np.hypot(b[1] - last[0], b[2] - last[1]) <= gate]
        if not found:
            continue
        if last is None:
            _, x, y = max(found)
        else:
            _, x, y = min(found, key=lambda b: np.hypot(b[1] - last[0], b[2] - last[1]))
        out[i] = last = (x, y)
        last_i = i
    return out


def stray_share(frames: np.ndarray, color: str, followed: np.ndarray, min_pixels: int = 4) -> np.ndarray:
    """(T,) pixels of `color` in blobs other than the followed object's (`followed`, from
    `track`), over the followed blob's pixels: a second copy of the object the model painted,
    or scenery of the colour (white stars). NaN where the object is not seen (or `followed`
    places it in a frame without the colour)."""
    out = np.full(len(frames), np.nan)
    for i, m in enumerate(object_masks(frames, color)):
        found = [] if np.isnan(followed[i, 0]) else blobs(m, min_pixels)
        if not found:
            continue
        near = min(range(len(found)), key=lambda k: np.hypot(found[k][1] - followed[i, 0], found[k][2] - followed[i, 1]))
        out[i] = sum(b[0] for k, b in enumerate(found) if k != near) / found[near][0]
    return out


_IDENTITY = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


def _fit_pair(a: np.ndarray, b: np.ndarray, ignore: np.ndarray | None) -> np.ndarray | None:
    """Similarity a → b (2 × 3, pixels): dense optical flow (Farnebäck 2003) on textured
    pixels, then a RANSAC similarity fit (cv2.estimateAffinePartial2D) that ignores the
    pixels a moving object or a flat sky would mislead."""
    import cv2

    flow = cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 3, 9, 5, 5, 1.1, 0)
    h, w = a.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    grad = np.hypot(cv2.Sobel(a, cv2.CV_32F, 1, 0), cv2.Sobel(a, cv2.CV_32F, 0, 1))
    keep = grad > np.percentile(grad, 40)
    if ignore is not None:
        keep &= ~ignore
    if keep.sum() < 8:
        return None
    src = np.stack([xs[keep], ys[keep]], 1)
    m, _ = cv2.estimateAffinePartial2D(src, src + flow[keep], method=cv2.RANSAC,
                                       ransacReprojThreshold=0.7, maxIters=2000, confidence=0.99,
                                       refineIters=20)
    return m


def _then(second: np.ndarray, first: np.ndarray) -> np.ndarray:
    """2 × 3 maps: x ↦ second(first(x))."""
    return np.concatenate([second[:, :2] @ first[:, :2], second[:, :2] @ first[:, 2:] + second[:, 2:]], 1)


def measure_camera(frames: np.ndarray, masks: np.ndarray | None = None) -> np.ndarray:
    """(T, 4) [x, y, zoom, roll] of the camera each frame shows, relative to frame 0.

    `masks` (T, H, W) bool marks pixels to ignore (moving objects). Frame i is fitted to
    frame i − 1 (a small move, where flow is reliable); the chain is then corrected
    against frame 0 directly (frame i pulled back onto frame 0's grid, the rest fitted),
    so errors do not pile up along the clip. On toy-world renders of known paths this
    recovers the path to about 0.1 px (tests/camera/test_measure.py)."""
    import cv2

    frames = np.asarray(frames)
    t, h, w = frames.shape[:3]
    cv2.setRNGSeed(0)    # RANSAC draws from OpenCV's global RNG: same frames, same answer
    greys = [cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_RGB2GRAY).astype(np.float32) for f in frames]
    ignore = [None if masks is None else cv2.dilate(m.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
              for m in (masks if masks is not None else [None] * t)]
    fits = [_IDENTITY]
    for i in range(1, t):
        step = _fit_pair(greys[i - 1], greys[i], ignore[i - 1])
        fit = _then(step if step is not None else _IDENTITY, fits[-1])
        back = cv2.warpAffine(greys[i], fit.astype(np.float32), (w, h),
                              flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT)
        rest = _fit_pair(greys[0], back, ignore[0])
        if rest is not None and np.abs(rest - _IDENTITY).max() < 0.1 * w:
            fit = _then(fit, rest)
        fits.append(fit)
    return camera_from_transform(np.array(fits), w, h)


def _components(camera_row, width: int, height: int) -> tuple[float, float, float, float]:
    """zoom, roll (°) and where frame 0's centre moves (tx, ty pixels) for one camera row."""
    m = frame_transform([camera_row], width, height)[0]
    x, y, zoom, roll = np.asarray(camera_row, np.float64)
    centre = np.array([(width - 1) / 2.0, (height - 1) / 2.0])
    tx, ty = m[:, :2] @ centre + m[:, 2] - centre
    return float(zoom), float(roll), float(tx), float(ty)


def classify_move(camera_row, width: int, height: int) -> str:
    """The dominant move ("pan_left", "zoom_in", …, "static") of one camera row relative to
    frame 0, with the analyzer's thresholds (zoom > 10 %, roll > 7°, shift > 5 % of width)."""
    return _camera_move(*_components(camera_row, width, height), width)


def moves_on_axis(camera_row, move: str, width: int, height: int) -> bool:
    """True when the camera row makes `move` on its own axis past the analyzer's threshold
    (a pan_left: the scene slides right by > 5 % of the width), whatever the other axes
    do — a pan that also zooms by 15 % counts here, not in `classify_move`."""
    zoom, roll, tx, ty = _components(camera_row, width, height)
    shift = SHIFT_SHARE * width
    return bool({"pan_left": tx > shift, "pan_right": tx < -shift, "tilt_up": ty > shift,
                 "tilt_down": ty < -shift, "zoom_in": np.log(zoom) > ZOOM_LOG, "zoom_out": np.log(zoom) < -ZOOM_LOG,
                 "roll_cw": roll > ROLL_DEG, "roll_ccw": roll < -ROLL_DEG}[move])


def centre_error_px(requested, measured, width: int, height: int) -> np.ndarray:
    """Per frame: how far apart the two cameras put frame 0's centre, in pixels."""
    centre = np.array([(width - 1) / 2.0, (height - 1) / 2.0, 1.0])
    a = frame_transform(requested, width, height) @ centre
    b = frame_transform(measured, width, height) @ centre
    return np.hypot(*(a - b).T)
