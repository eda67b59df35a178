"""Read a toy-world clip back from its pixels: background, object colour and shape,
object motion, camera move, flicker. It is the evaluation oracle, so it is checked
against the toy world's own renders (tests/test_analyzer.py).

Method, deliberately simple and explainable:
  * background: the median colour of the top rows, nearest sky palette entry;
  * object: pixels near one of the object palette colours (or its darker rim), far
    from the background around them and unlike any colour the detected background's
    sky, clouds, stars, hills and ground can take (read off background-only renders);
    the colour with most such pixels wins;
  * shape: fill ratio of the mask in its smallest enclosing rotated rectangle (square ≈ 1,
    circle ≈ π/4, triangle ≈ 1/2, whatever the roll), voted over the frames where the
    object is whole;
  * camera: the per-frame camera path from dense optical flow and RANSAC similarity fits,
    objects masked out (`motion.measure_camera`), classified by its last frame's move
    (zoom > 10 %, roll > 7°, shift > 5 % of the width);
  * object motion: where the object ends up relative to where the camera alone would
    have carried it; size change beyond the camera's zoom is grow/shrink; a rise
    followed by a fall (however many hops, wherever the clip ends) is a bounce.
"""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from . import toyworld

_SKY_MEANS = {bg: np.mean(np.array(c), axis=0) for bg, c in toyworld.SKY.items()}
_OBJ = {c: np.array(v) for c, v in toyworld.OBJECT_RGB.items()}
SQUARE_FILL, TRIANGLE_FILL = 0.855, 0.67  # shape_fill thresholds, set on training-split renders


@dataclass
class Analysis:
    background: str
    color: str | None
    shape: str | None
    motion: str | None
    camera: str
    flicker: float
    camera_fit: dict = field(default_factory=dict)        # last frame: scale, roll°, shift tx, ty (px)
    track: list = field(default_factory=list)             # object centroid (x, y) per frame


def _background(frames: np.ndarray) -> str:
    top = frames[:, : max(2, frames.shape[1] // 6)].reshape(-1, 3) / 255.0
    med = np.median(top, axis=0)
    return min(_SKY_MEANS, key=lambda bg: np.sum((_SKY_MEANS[bg] - med) ** 2))


_BINS = 32   # background palettes are kept as occupied cells of a 32³ RGB grid


@lru_cache(maxsize=None)
def _background_palette(background: str) -> np.ndarray:
    """(32, 32, 32) bool: the RGB cells a toy-world `background` (sky gradient, clouds or
    stars, hills, ground) occupies, from background-only renders under several camera
    moves and texture seeds, grown by one cell (≈ ±0.03) for rendering and model noise."""
    seen = np.zeros((_BINS,) * 3, bool)
    for seed in range(3):
        for move in ("zoom_out", "tilt_up", "tilt_down", "roll_cw"):
            scene = toyworld.ToyScene(background, (), move, 1.5, seed * 97)
            q = toyworld.render(scene, 8, 4.0, 48, 48).reshape(-1, 3) // (256 // _BINS)
            seen[q[:, 0], q[:, 1], q[:, 2]] = True
    padded = np.pad(seen, 1)        # zero borders, so np.roll wraps nothing real around
    grown = seen.copy()
    for axis in range(3):
        for step in (-1, 1):
            grown |= np.roll(padded, step, axis=axis)[1:-1, 1:-1, 1:-1]
    return grown


def off_scenery(frames: np.ndarray, background: str, ignore: np.ndarray | None = None) -> np.ndarray:
    """(T,) share of each frame's pixels (outside `ignore`, (T, H, W) bool: the objects)
    whose colour the toy world's `background` never shows: a sky the model repainted in
    another colour, smears and speckles. A toy-world render of the scene scores ~0."""
    q = np.asarray(frames) // (256 // _BINS)
    off = ~_background_palette(background)[q[..., 0], q[..., 1], q[..., 2]]
    keep = np.ones(off.shape, bool) if ignore is None else ~np.asarray(ignore, bool)
    return (off & keep).sum((1, 2)) / np.maximum(keep.sum((1, 2)), 1)


def _object_masks(frames: np.ndarray, background: str):
    """-> colour name, masks (T, H, W) bool."""
    x = frames.astype(np.float32) / 255.0                                   # (T, H, W, 3)
    q = frames // (256 // _BINS)
    scenery = _background_palette(background)[q[..., 0], q[..., 1], q[..., 2]]
    # the background around each pixel: the median of its row's scenery (the background's
    # own colours), or of the whole row where it shows too little scenery; a row's plain
    # median is the object itself once the object covers more than half of it
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)                        # rows with no scenery
        bg = np.nanmedian(np.where(scenery[..., None], x, np.nan), axis=2, keepdims=True)
    few = scenery.sum(axis=2, keepdims=True)[..., None] < 4
    bg = np.where(few | np.isnan(bg), np.median(x, axis=2, keepdims=True), bg)   # (T, H, 1, 3)
    far_from_bg = (np.sqrt(((x - bg) ** 2).sum(-1)) > 0.25) & ~scenery
    best, best_count, best_masks = None, 0, None
    for name, rgb in _OBJ.items():
        d = np.minimum(np.sqrt(((x - rgb) ** 2).sum(-1)), np.sqrt(((x - 0.72 * rgb) ** 2).sum(-1)))
        masks = (d < 0.22) & far_from_bg
        count = int(masks.sum())
        if count > best_count:
            best, best_count, best_masks = name, count, masks
    if best is None or best_count < 4 * len(frames):
        return None, None
    return best, best_masks


def _touches_border(mask: np.ndarray) -> bool:
    return bool(mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any())


def shape_fill(mask: np.ndarray) -> float | None:
    """Pixels of `mask` over the area of its smallest enclosing rotated rectangle."""
    import cv2

    ys, xs = np.nonzero(mask)
    if len(ys) < 12:
        return None
    (_, _), (w, h), _ = cv2.minAreaRect(np.stack([xs, ys], 1).astype(np.float32))
    return len(ys) / ((w + 1) * (h + 1))      # + 1: the rectangle spans pixel centres


def _shape(masks: np.ndarray, roll: np.ndarray) -> str | None:
    """Vote over frames where the object is whole and, where there are such frames, the
    camera has not rolled it more than a few degrees (digitised tilted squares fill their
    rectangle like circles do; toy objects never turn by themselves)."""
    whole = [i for i, m in enumerate(masks) if not _touches_border(m)] or list(range(len(masks)))
    upright = [i for i in whole if abs(roll[i]) < 8.0]
    votes = []
    for m in masks[upright or whole]:
        fill = shape_fill(m)
        if fill is not None:
            votes.append("square" if fill > SQUARE_FILL else "triangle" if fill < TRIANGLE_FILL
                         else "circle")
    if not votes:
        return None
    return Counter(votes).most_common(1)[0][0]    # a tie goes to the earliest frame's vote


# what counts as a camera move: |log zoom| past this, roll past this many degrees, frame 0's
# centre carried past this share of the width
ZOOM_LOG, ROLL_DEG, SHIFT_SHARE = 0.1, 7.0, 0.05


def _camera_move(scale, angle, tx, ty, size) -> str:
    if abs(np.log(scale)) > ZOOM_LOG:
        return "zoom_in" if scale > 1 else "zoom_out"
    if abs(angle) > ROLL_DEG:
        return "roll_cw" if angle > 0 else "roll_ccw"    # scene turns CCW on screen = camera rolls CW
    if max(abs(tx), abs(ty)) > SHIFT_SHARE * size:
        if abs(tx) >= abs(ty):
            return "pan_left" if tx > 0 else "pan_right"  # scene slides right = camera pans left
        return "tilt_up" if ty > 0 else "tilt_down"       # scene slides down = camera tilts up
    return "static"


def flicker(frames: np.ndarray) -> float:
    """Mean |second temporal difference| (0–255): motion at constant speed scores ~0,
    frames that jump back and forth score high."""
    x = frames.astype(np.float32)
    if len(x) < 3:
        return 0.0
    return float(np.mean(np.abs(x[2:] - 2 * x[1:-1] + x[:-2])))


def analyze(frames: np.ndarray) -> Analysis:
    from ..camera.geometry import frame_transform
    from .motion import classify_move, measure_camera    # motion builds on this module

    frames = np.asarray(frames)
    t, h, w, _ = frames.shape
    background = _background(frames)
    color, masks = _object_masks(frames, background)
    path = measure_camera(frames, masks)                     # (T, 4), relative to frame 0
    maps = frame_transform(path, w, h)                       # frame-0 pixel → frame-i pixel
    camera = classify_move(path[-1], w, h)
    centre = np.array([(w - 1) / 2.0, (h - 1) / 2.0])
    shift = maps[-1][:, :2] @ centre + maps[-1][:, 2] - centre

    def carried(p, i0, i1):
        """Where the camera alone takes pixel `p` of frame i0 by frame i1."""
        u0 = np.linalg.solve(maps[i0][:, :2], np.asarray(p) - maps[i0][:, 2])
        return maps[i1][:, :2] @ u0 + maps[i1][:, 2]

    shape = motion = None
    track = []
    if masks is not None:
        shape = _shape(masks, path[:, 3])
        present = [i for i in range(t) if masks[i].sum() >= 4]
        track = [(float(np.nonzero(masks[i])[1].mean()), float(np.nonzero(masks[i])[0].mean()))
                 if i in present else None for i in range(t)]
        if len(present) >= 2:
            i0, i1 = present[0], present[-1]
            d = np.array(track[i1]) - carried(track[i0], i0, i1)
            # size change only between frames where the object is wholly inside the frame
            inside = [i for i in present if not _touches_border(masks[i])]
            area = 1.0
            if len(inside) >= 2:
                j0, j1 = inside[0], inside[-1]
                zoom_part = path[j1, 2] / path[j0, 2]
                area = masks[j1].sum() / max(1, masks[j0].sum()) / zoom_part ** 2
            # the object's own path: where it is minus where the camera alone would have put it
            own_y = np.array([track[i][1] - carried(track[i0], i0, i)[1] for i in present])
            rise = -own_y.min()
            fall = np.max(own_y - np.minimum.accumulate(own_y))   # largest drop after a high point
            if rise > 0.08 * h and fall > max(0.15 * rise, 1.5) and abs(d[0]) < 0.09 * w:
                motion = "bounce"          # up, then (at least partly) back down
            elif area > 1.4:
                motion = "grow"
            elif area < 0.7:
                motion = "shrink"
            elif max(abs(d[0]), abs(d[1])) > 0.09 * w:
                if abs(d[0]) >= abs(d[1]):
                    motion = "right" if d[0] > 0 else "left"
                else:
                    motion = "down" if d[1] > 0 else "up"
            else:
                motion = "still"
    return Analysis(background, color, shape, motion, camera, flicker(frames),
                    {"scale": float(path[-1, 2]), "angle": float(path[-1, 3]),
                     "tx": float(shift[0]), "ty": float(shift[1])}, track)


def score(analysis: Analysis, scene: toyworld.ToyScene) -> dict[str, bool]:
    """Compare with the scene that was asked for (its first object)."""
    obj = scene.objects[0]
    return {"background": analysis.background == scene.background,
            "color": analysis.color == obj.color,
            "shape": analysis.shape == obj.shape,
            "motion": analysis.motion == obj.motion,
            "camera": analysis.camera == scene.camera}
