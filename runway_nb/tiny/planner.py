"""Motion planner: the object motion a prompt asks for, followed as a motion brush.

The tiny denoiser learned colours, backgrounds and camera moves from its captions, but
on held-out prompts its objects mostly hold still or swell whatever the words say (the
README's "native" column). Large models have the same gap; LLM-grounded video diffusion
(Lian et al. 2024) closes it by planning: read the prompt into a layout that moves, then
steer the sampler toward it. This module is that plan for the toy world's vocabulary:

  1. `read_motion` finds the motion phrase ("rolls to the left", "bouncing", "getting
     smaller", "moves up" …) and the colour word of the object it belongs to;
  2. `find_object` finds that object in a first, short draft of frame 0 (the part of
     the picture that stands out from its row's backdrop, nearest the named colour);
  3. `motion_path` turns the phrase into per-frame [dx, dy, scale] in pixels at the toy
     world's own speeds — what the training clips showed;
  4. the engine renders again from the same seed with that region as a motion brush
     (tiny/guidance.py), so the model paints the object along the planned path.

A prompt that names no motion, or a draft with no object to find, gets no plan: the
clip is the model's own. Pure numpy; no torch here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from . import toyworld

# phrases beyond the captions' own, so "a ball moves right" plans as well as "drifts right"
_VERBS = r"(?:move|moves|moving|go|goes|going|head|heads|heading|slide|slides|sliding|drift|drifts|drifting|roll|rolls|rolling|travel|travels|travelling|traveling|fly|flies|flying)"
_EXTRA = [(rf"\b{_VERBS}\s+(?:to\s+the\s+|toward\s+the\s+|towards\s+the\s+)?{d}\b", d)
          for d in ("left", "right")] + \
         [(rf"\b{_VERBS}\s+{d}(?:ward|wards)?\b", d) for d in ("up", "down")] + \
         [(r"\bbounc(?:e|es|ing)\b", "bounce"), (r"\b(?:grows|grow)\b", "grow"),
          (r"\b(?:shrinks|shrink)\b", "shrink")]


@dataclass(frozen=True)
class MotionPlan:
    motion: str            # one of toyworld.MOTIONS
    color: str | None      # the object's colour word's meaning, if the prompt names one
    phrase: str            # the words it was read from


def _clauses(prompt: str) -> list[str]:
    """The prompt's clauses with the camera's words taken out ("camera pans left" is not an
    object moving left)."""
    out = []
    for clause in re.split(r"[,;:]", prompt.lower()):
        clause = re.sub(r"\b(?:the\s+)?camera\b.*?(?=\band\b|\bwhile\b|$)", " ", clause)
        for phrases in toyworld.CAMERA_WORDS.values():
            for phrase in phrases:
                clause = re.sub(rf"\b{re.escape(phrase)}\b", " ", clause)
        out.append(clause)
    return out


def read_motion(prompt: str) -> MotionPlan | None:
    """The first object motion the prompt names, or None."""
    best = None
    for clause in _clauses(prompt):
        hits = []
        for motion, phrases in toyworld.MOTION_WORDS.items():
            for phrase in phrases:
                for m in re.finditer(rf"\b{re.escape(phrase)}\b", clause):
                    hits.append((m.start(), -len(phrase), motion, phrase))
        for pattern, motion in _EXTRA:
            for m in re.finditer(pattern, clause):
                hits.append((m.start(), -len(m.group(0)), motion, m.group(0)))
        if hits:
            start, _, motion, phrase = min(hits)
            best = (clause, start, motion, phrase)
            break
    if best is None:
        return None
    clause, start, motion, phrase = best
    color = None
    before = clause[:start]          # the colour word nearest before the motion phrase
    last = -1
    for name, words in toyworld.COLOR_WORDS.items():
        for word in words:
            for m in re.finditer(rf"\b{re.escape(word)}\b", before):
                if m.start() > last:
                    last, color = m.start(), name
    return MotionPlan(motion, color, phrase)


def motion_path(motion: str, frames: int, fps: float, height: int, speed: float = 1.0) -> np.ndarray:
    """Per-frame [dx, dy, scale] in pixels (x right, y down) relative to frame 0, at the toy
    world's speeds (toyworld.ToyScene.object_state; one world unit = one frame height)."""
    if motion not in toyworld.MOTIONS:
        raise ValueError(f"unknown motion {motion!r}; allowed: {', '.join(toyworld.MOTIONS)}")
    t = np.arange(frames) / fps
    obj = toyworld.ToyObject("circle", "white", motion, 0.0, 0.0, 1.0, speed)
    x, y, size = toyworld.ToyScene("black", (obj,)).object_state(obj, t)
    return np.stack([x * height, -y * height, size], axis=1)


def _dilate(mask: np.ndarray) -> np.ndarray:
    """A bool mask grown by one pixel (4-neighbour)."""
    pad = np.pad(mask, 1)
    return pad[1:-1, 1:-1] | pad[:-2, 1:-1] | pad[2:, 1:-1] | pad[1:-1, :-2] | pad[1:-1, 2:]


def _grow(region: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """The connected part of `allowed` that touches `region` (4-neighbour flood fill)."""
    while True:
        nxt = _dilate(region) & allowed
        if (nxt == region).all():
            return region
        region = nxt


def find_object(frame: np.ndarray, color: str | None = None, min_pixels: int = 6) -> np.ndarray | None:
    """Where the object is in one frame (H, W, 3) uint8: a bool mask, or None.

    Sky, hills and ground change from row to row, an object does not follow its row: the
    object is what stands out from the median of its row, and, when the prompt names a
    colour, lies nearest that colour. The mask is one connected blob, grown by a pixel."""
    px = np.asarray(frame, np.float32) / 255.0
    backdrop = np.median(px, axis=1, keepdims=True)                      # (H, 1, 3)
    stand_out = np.linalg.norm(px - backdrop, axis=-1)                   # (H, W)
    score = stand_out
    if color is not None:
        rgb = np.asarray(toyworld.OBJECT_RGB[color], np.float32)
        near = np.linalg.norm(px - rgb, axis=-1)
        score = stand_out * np.exp(-(near / 0.35) ** 2)
    peak = np.unravel_index(np.argmax(score), score.shape)
    if score[peak] < 0.12:
        return None                                                      # nothing stands out
    allowed = (score > 0.4 * score[peak]) & (stand_out > 0.1)
    seed = np.zeros_like(allowed)
    seed[peak] = True
    blob = _grow(seed, allowed)
    if blob.sum() < min_pixels:
        return None
    return _dilate(blob)


def place_path(mask: np.ndarray, path: np.ndarray, margin: float = 2.0):
    """Where the object should start so that its whole path stays in the frame.

    The toy world starts an object moving left on the right of the frame; the model draws
    it wherever it likes, and a full-length path from there would carry it out of the
    picture (the clip then shows a stump at the edge, not a move). Returns the smallest
    whole-pixel shift (dx, dy) of the region that keeps the path inside, and the path —
    its shifts shortened by one factor (direction and timing kept) only where even the
    best start cannot hold it, as a long clip's can't."""
    h, w = mask.shape
    ys, xs = np.nonzero(mask)
    cx, cy = xs.mean(), ys.mean()
    s = path[:, 2]

    def box(factor):
        """The region's extent over the whole path, relative to where it is now."""
        return (((xs.min() - cx) * s + cx + factor * path[:, 0]).min(),
                ((xs.max() - cx) * s + cx + factor * path[:, 0]).max(),
                ((ys.min() - cy) * s + cy + factor * path[:, 1]).min(),
                ((ys.max() - cy) * s + cy + factor * path[:, 1]).max())

    def fits(factor):
        left, right, top, bottom = box(factor)
        return right - left <= w - 1 - 2 * margin and bottom - top <= h - 1 - 2 * margin

    factor = 1.0
    if not fits(1.0):
        lo, hi = 0.0, 1.0
        for _ in range(20):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if fits(mid) else (lo, mid)
        factor = lo
    left, right, top, bottom = box(factor)

    def shift(lo, hi, size):
        return max(0.0, margin - lo) + min(0.0, (size - 1 - margin) - hi)

    out = path.copy()
    out[:, :2] *= factor
    return round(shift(left, right, w)), round(shift(top, bottom, h)), out


def relocate(frame: np.ndarray, mask: np.ndarray, dx: int, dy: int) -> tuple[np.ndarray, np.ndarray]:
    """Move the masked object of a frame (H, W, 3) by whole pixels: the hole it leaves is
    filled with its row's backdrop (the median of the row outside the object). Returns the
    new frame and the moved mask."""
    out = frame.copy()
    h, w = mask.shape
    for y in np.nonzero(mask.any(axis=1))[0]:
        outside = frame[y][~mask[y]]
        fill = np.median(outside, axis=0) if len(outside) else np.median(frame.reshape(-1, 3), axis=0)
        out[y, mask[y]] = fill.astype(frame.dtype)
    ys, xs = np.nonzero(mask)
    ty, tx = ys + dy, xs + dx
    keep = (ty >= 0) & (ty < h) & (tx >= 0) & (tx < w)
    out[ty[keep], tx[keep]] = frame[ys[keep], xs[keep]]
    moved = np.zeros_like(mask)
    moved[ty[keep], tx[keep]] = True
    return out, moved
