"""From a drawn stroke to keyframes: the math behind a camera-pad drag (numpy only).

`recorder.CameraPadLogic` keeps the pad's state (gestures, selection, undo); this module
is what happens once a drag ends:

    kfs = drag_to_keyframes(stroke, path.keyframes, axis="pan", duration=2.0,
                            width=256, height=256, strength=1.0,
                            tolerance_px=1.5, max_keyframes=24)

1. time: the drag's first and last events map to 0 and the clip's duration, keeping its
   own timing (events without a usable clock are spaced evenly);
2. space: pad pixels (y down) → frame heights (y up), divided by the path's strength so
   the camera lands where the drag ended, written onto the drag's axis pair (pan/tilt or
   truck/pedestal) of the old keyframes; the other axes keep their values;
3. thinning: keyframes a straight line through their neighbours reproduces within
   `tolerance_px` are dropped (Ramer–Douglas–Peucker, `rdp`), the tolerance growing until
   at most `max_keyframes` remain.

`rdp` is also what the brush pad thins its drawn trajectories with.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from .path import AXES, EASINGS, Keyframe

DRAG_PAIRS = {"pan": ("pan", "tilt"), "truck": ("truck", "pedestal")}   # drag axis -> (x, y) axes


def rdp(points: np.ndarray, tol: float) -> np.ndarray:
    """Ramer–Douglas–Peucker: indices of the points to keep so that no dropped point is
    farther than `tol` from the polyline through the kept ones. points: (n, d)."""
    n = len(points)
    keep = np.zeros(n, bool)
    keep[[0, n - 1]] = True
    stack = [(0, n - 1)]
    while stack:
        a, b = stack.pop()
        if b - a < 2:
            continue
        seg = points[b] - points[a]
        rel = points[a + 1:b] - points[a]
        length2 = float(seg @ seg)
        if length2 == 0.0:
            dist = np.linalg.norm(rel, axis=1)
        else:               # distance to the chord, by removing the component along it
            dist = np.linalg.norm(rel - np.outer(rel @ seg / length2, seg), axis=1)
        i = int(np.argmax(dist))
        if dist[i] > tol:
            keep[a + 1 + i] = True
            stack += [(a, a + 1 + i), (a + 1 + i, b)]
    return np.flatnonzero(keep)


def keyframe_values(kfs, t: np.ndarray) -> np.ndarray:
    """The keyframes' own values (no drift, no strength) at times t: (len(t), 6) in AXES
    order, zoom as log-zoom (as CameraPath interpolates it)."""
    times = np.array([k.time for k in kfs])
    values = np.array([[getattr(k, a) for a in AXES[:5]] + [math.log(k.zoom)] for k in kfs])
    if len(kfs) == 1:
        return np.repeat(values, len(t), axis=0)
    seg = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(kfs) - 2)
    u = np.clip((t - times[seg]) / (times[seg + 1] - times[seg]), 0.0, 1.0)
    eased = np.array([EASINGS[kfs[s].easing](np.float64(v)) for s, v in zip(seg, u)], dtype=float)
    return values[seg] + eased[:, None] * (values[seg + 1] - values[seg])


def keyframe_from_row(time: float, row, easing: str = "linear") -> Keyframe:
    """A Keyframe from one row of `keyframe_values` (log-zoom last), rounded as paths store them."""
    axes = {a: round(float(v), 6) + 0.0 for a, v in zip(AXES[:5], row[:5])}
    return Keyframe(round(float(time), 4), zoom=round(math.exp(row[5]), 6), easing=easing, **axes)


def drag_to_keyframes(stroke: np.ndarray, keyframes, *, axis: str, duration: float, width: int,
                      height: int, strength: float, tolerance_px: float,
                      max_keyframes: int) -> list[Keyframe]:
    """The keyframes of a path after a drag: stroke is (n, 3) pad (x, y, t) of the kept events,
    `keyframes` the path's before it, `axis` 'pan' or 'truck' (see the module doc)."""
    xy, t = stroke[:, :2], stroke[:, 2]
    span = t[-1] - t[0]
    if span <= 0 or np.any(np.diff(t) < 0):
        t, span = np.arange(len(t), dtype=float), len(t) - 1.0
    tau = (t - t[0]) / span * duration
    s = strength
    dx, dy = (xy[:, 0] - xy[0, 0]) / height / s, -(xy[:, 1] - xy[0, 1]) / height / s
    old = list(keyframes)
    times = np.union1d(np.round(tau, 4), [k.time for k in old if k.time <= duration])
    rows = keyframe_values(old, times)
    ix, iy = (AXES.index(a) for a in DRAG_PAIRS[axis])
    rows[:, ix], rows[:, iy] = np.interp(times, tau, dx), np.interp(times, tau, dy)
    easing = {k.time: k.easing for k in old}
    return simplify_keyframes(times, rows, [easing.get(float(x), "linear") for x in times],
                              duration=duration, width=width, height=height,
                              tolerance_px=tolerance_px, max_keyframes=max_keyframes)


def simplify_keyframes(times, rows, easings, *, duration: float, width: int, height: int,
                       tolerance_px: float, max_keyframes: int) -> list[Keyframe]:
    """Drop keyframes a straight line through their neighbours reproduces within
    tolerance_px (pixels: time scaled so the clip spans the pad width, log-zoom ×H/2,
    roll 1° = H/180), keeping eased ones; tolerance grows until ≤ max_keyframes."""
    scale = np.array([height] * 4 + [height / 180, height / 2])
    pts = np.column_stack([times / duration * width, rows * scale])
    fixed = [i for i, e in enumerate(easings) if e != "linear"]
    fixed = sorted({0, len(times) - 1, *fixed, *(i + 1 for i in fixed if i + 1 < len(times))})
    tol = tolerance_px
    while True:
        keep = sorted({a + i for a, b in itertools.pairwise(fixed) for i in rdp(pts[a:b + 1], tol)} | set(fixed))
        if len(keep) <= max_keyframes or len(fixed) >= max_keyframes:
            return [keyframe_from_row(times[i], rows[i], easings[i]) for i in keep]
        tol *= 1.5
