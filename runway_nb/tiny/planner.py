"""Motion planner: the object motion a prompt asks for, followed as a motion brush.

The tiny denoiser learned colours, backgrounds and camera moves from its captions, but
on held-out prompts its objects mostly hold still or swell whatever the words say (the
README's "native" column). Large models have the same gap; LLM-grounded video diffusion
(Lian et al. 2024) closes it by planning: read the prompt into a layout that moves, then
steer the sampler toward it. This module is that plan for the toy world's vocabulary:

  1. `read_motion` finds the motion phrase ("rolls to the left", "bouncing", "getting
     smaller", "moves up" …) and the colour and shape words of the object it belongs to;
  2. `find_object` finds that object in a first, short draft of frame 0 (the part of
     the picture that stands out from its row's backdrop, nearest the named colour);
  3. `motion_path` turns the phrase into per-frame [dx, dy, scale] in pixels at the toy
     world's own speeds — what the training clips showed; `relocate` starts the object
     where that path fits and `reshape` redraws it as the named shape;
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
_VERBS = ("(?:move|moves|moving|go|goes|going|head|heads|heading|slide|slides|sliding|drift|drifts|"
          "drifting|roll|rolls|rolling|travel|travels|travelling|traveling|fly|flies|flying)")
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
    shape: str | None = None   # the object's shape word's meaning, if the prompt names one


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
    before = clause[:start]          # the object's words come before its motion phrase
    return MotionPlan(motion, _last_word(before, toyworld.COLOR_WORDS), phrase,
                      _last_word(before, toyworld.SHAPE_WORDS))


def _last_word(text: str, vocabulary: dict[str, list[str]]) -> str | None:
    """The meaning of the vocabulary's word that comes last in `text`, or None."""
    last, meaning = -1, None
    for name, words in vocabulary.items():
        for word in words:
            for m in re.finditer(rf"\b{re.escape(word)}\b", text):
                if m.start() > last:
                    last, meaning = m.start(), name
    return meaning


def motion_path(motion: str, frames: int, fps: float, height: int, speed: float = 1.0) -> np.ndarray:
    """Per-frame [dx, dy, scale] in pixels (x right, y down) relative to frame 0, at the toy
    world's speeds (toyworld.ToyScene.object_state; one world unit = one frame height)."""
    if motion not in toyworld.MOTIONS:
        raise ValueError(f"unknown motion {motion!r}; allowed: {', '.join(toyworld.MOTIONS)}")
    t = np.arange(frames) / fps
    obj = toyworld.ToyObject("circle", "white", motion, 0.0, 0.0, 1.0, speed)
    x, y, size = toyworld.ToyScene("black", (obj,)).object_state(obj, t)
    return np.stack([x * height, -y * height, size], axis=1)


def continue_path(motion: str, first: np.ndarray, last: np.ndarray, given: int, frames: int,
                  fps: float, camera: np.ndarray | None = None) -> np.ndarray:
    """Per-frame [dx, dy, scale] for a clip that starts from `given` frames (extend,
    image→video): relative to where the first given frame shows the object (mask `first`),
    held where the last one shows it (`last`) over the given frames, then the motion's own
    path from there on, `frames` in all. `camera` (frames, 2, 3) pixel maps from the first
    frame: where the object is seen is camera ∘ path, so what the camera did over the given
    frames is taken out of the object's own move."""
    (x0, y0), (x1, y1) = ([m.nonzero()[1].mean(), m.nonzero()[0].mean()] for m in (first, last))
    scale = np.sqrt(last.sum() / max(first.sum(), 1))
    if camera is not None:                        # back to the first frame's view of the scene
        a, b = camera[given - 1][:, :2], camera[given - 1][:, 2]
        x1, y1 = np.linalg.solve(a, np.array([x1, y1]) - b)
        scale /= np.sqrt(abs(np.linalg.det(a)))
    held = np.tile([x1 - x0, y1 - y0, scale], (given - 1, 1))
    path = motion_path(motion, frames - given + 1, fps, first.shape[0])
    path[:, :2] += [x1 - x0, y1 - y0]
    path[:, 2] *= scale
    return np.concatenate([held, path])


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


def _candidates(frame: np.ndarray, color: str | None):
    """Where something stands out from its row's backdrop (and lies near the named colour):
    the score (H, W), its peak, and the pixels that score like the peak (bool)."""
    px = np.asarray(frame, np.float32) / 255.0
    backdrop = np.median(px, axis=1, keepdims=True)                      # (H, 1, 3)
    stand_out = np.linalg.norm(px - backdrop, axis=-1)                   # (H, W)
    score = stand_out
    if color is not None:
        rgb = np.asarray(toyworld.OBJECT_RGB[color], np.float32)
        near = np.linalg.norm(px - rgb, axis=-1)
        score = stand_out * np.exp(-(near / 0.35) ** 2)
    peak = np.unravel_index(np.argmax(score), score.shape)
    return score, peak, (score > 0.4 * score[peak]) & (stand_out > 0.1)


def find_object(frame: np.ndarray, color: str | None = None, min_pixels: int = 6) -> np.ndarray | None:
    """Where the object is in one frame (H, W, 3) uint8: a bool mask, or None.

    Sky, hills and ground change from row to row, an object does not follow its row: the
    object is what stands out from the median of its row, and, when the prompt names a
    colour, lies nearest that colour. The mask is one connected blob, grown by a pixel."""
    score, peak, allowed = _candidates(frame, color)
    if score[peak] < 0.12:
        return None                                                      # nothing stands out
    seed = np.zeros_like(allowed)
    seed[peak] = True
    blob = _grow(seed, allowed)
    if blob.sum() < min_pixels:
        return None
    return _dilate(blob)


def find_strays(frame: np.ndarray, keep: np.ndarray, color: str | None = None,
                min_pixels: int = 4) -> np.ndarray:
    """Other places in the frame that look like the object (H, W) bool, `keep` excluded.

    The model often paints the one object of a caption twice; a plan that moves one copy
    and leaves the other would show a clip whose object both moves and stays. Blobs
    smaller than `min_pixels` are texture, not a copy."""
    _, _, allowed = _candidates(frame, color)
    rest = allowed & ~_grow(keep & allowed, allowed) & ~keep
    strays = np.zeros_like(rest)
    while rest.any():
        seed = np.zeros_like(rest)
        seed[tuple(np.argwhere(rest)[0])] = True
        blob = _grow(seed, rest)
        rest &= ~blob
        if blob.sum() >= min_pixels:
            strays |= blob
    return _dilate(strays)


def place_path(mask: np.ndarray, path: np.ndarray, margin: float = 2.0, camera: np.ndarray | None = None):
    """Where the object should start so that its whole path stays in the frame.

    The toy world starts an object moving left on the right of the frame; the model draws
    it wherever it likes, and a full-length path from there would carry it out of the
    picture (the clip then shows a stump at the edge, not a move). A moving camera carries
    it too: `camera` (T, 2, 3) maps frame 0's pixels to frame t's (geometry.frame_transform),
    and the object is seen at camera ∘ path. Returns the smallest whole-pixel shift
    (dx, dy) of the region that keeps it inside, and the path — its shifts shortened by
    one factor (direction and timing kept) only where even the best start cannot hold it,
    as a long clip's can't. Where the camera alone carries every start out of view, the
    full path is kept, from the start whose worst overshoot is smallest."""
    h, w = mask.shape
    ys, xs = np.nonzero(mask)
    cx, cy = xs.mean(), ys.mean()
    corners = np.array([[xs.min(), ys.min()], [xs.max(), ys.min()], [xs.min(), ys.max()],
                        [xs.max(), ys.max()]], np.float64)
    if camera is None:
        camera = np.tile(np.eye(2, 3), (len(path), 1, 1))
    at_frames = np.unique(np.linspace(0, len(path) - 1, min(len(path), 48)).round().astype(int))
    full_path, path, camera = path, path[at_frames], np.asarray(camera, np.float64)[at_frames]
    s = path[:, 2][:, None, None]
    a, b = camera[:, :, :2], camera[:, :, 2]                                   # (T, 2, 2), (T, 2)
    # every start shift (dx, dy) a whole pixel apart, up to a frame's size either way
    grid = np.stack(np.meshgrid(np.arange(-w, w + 1), np.arange(-h, h + 1)), -1).reshape(-1, 2)
    grid = grid[np.argsort(np.abs(grid).sum(1), kind="stable")]                # nearest first
    lo, hi = np.array([margin, margin]), np.array([w - 1 - margin, h - 1 - margin])
    # a start shift moves every corner of frame t by the same A_t·shift: only each frame's
    # extreme corners can overshoot, and the shifts' moves are the same for every factor
    moved = np.einsum("tij,gj->gti", a, grid).astype(np.float32)               # (G, T, 2)

    def overshoot(factor):
        """For each start shift: how far (pixels) the worst corner lies outside the frame."""
        q = (corners[None] - [cx, cy]) * s + [cx, cy] + factor * path[:, None, :2]   # (T, 4, 2)
        seen = np.einsum("tij,tkj->tki", a, q) + b[:, None]                          # camera ∘ path
        low = (lo - seen.min(axis=1)).astype(np.float32) - moved                     # (G, T, 2)
        high = (seen.max(axis=1) - hi).astype(np.float32) + moved
        return np.maximum(np.maximum(low, high), 0).max(axis=(1, 2))

    factor, miss = 1.0, overshoot(1.0)
    if miss.min() > 0 and overshoot(0.0).min() <= 0:     # else the camera alone carries it out
        lo_f, hi_f = 0.0, 1.0
        for _ in range(12):
            mid = (lo_f + hi_f) / 2
            lo_f, hi_f = (mid, hi_f) if overshoot(mid).min() <= 0 else (lo_f, mid)
        factor, miss = lo_f, overshoot(lo_f)
    dx, dy = grid[int(np.argmin(miss))]
    out = full_path.copy()
    out[:, :2] *= factor
    return int(dx), int(dy), out


def _fill_rows(frame: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """The frame with `hole` filled by its row's backdrop (the median of the row outside it)."""
    out = frame.copy()
    for y in np.nonzero(hole.any(axis=1))[0]:
        outside = frame[y][~hole[y]]
        fill = np.median(outside, axis=0) if len(outside) else np.median(frame.reshape(-1, 3), axis=0)
        out[y, hole[y]] = fill.astype(frame.dtype)
    return out


def relocate(frame: np.ndarray, mask: np.ndarray, dx: int, dy: int,
             erase: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Move the masked object of a frame (H, W, 3) by whole pixels: the hole it leaves (and
    `erase`, the object's stray copies) is filled with its row's backdrop (the median of the
    row outside them). Returns the new frame and the moved mask."""
    h, w = mask.shape
    out = _fill_rows(frame, mask if erase is None else mask | erase)
    ys, xs = np.nonzero(mask)
    ty, tx = ys + dy, xs + dx
    keep = (ty >= 0) & (ty < h) & (tx >= 0) & (tx < w)
    out[ty[keep], tx[keep]] = frame[ys[keep], xs[keep]]
    moved = np.zeros_like(mask)
    moved[ty[keep], tx[keep]] = True
    return out, moved


def reshape(frame: np.ndarray, mask: np.ndarray, shape: str, color: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Redraw the masked object as the toy world draws `shape`: the same area and centre,
    the named colour (else the object's own median colour) with the toy world's darker rim,
    over its row's backdrop. Returns the new frame and the new mask."""
    h, w = mask.shape
    ys, xs = np.nonzero(mask)
    cx, cy = xs.mean(), ys.mean()
    rgb = (np.array(toyworld.OBJECT_RGB[color], np.float32) if color in toyworld.OBJECT_RGB
           else np.median(frame[mask], axis=0).astype(np.float32) / 255)
    unit = {"circle": np.pi, "square": (2 * 0.88) ** 2, "triangle": 0.6 ** 2 * 3 * np.sqrt(3)}[shape]
    r = np.sqrt(mask.sum() / unit)                                   # half-extent, pixels
    gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
    dx, dy = gx - cx, -(gy - cy)                                     # the toy world's y points up
    cover = toyworld.shape_coverage(shape, dx, dy, r, 1.0)
    rim = toyworld.shape_coverage(shape, dx, dy, 0.82 * r, 1.0)
    out = _fill_rows(frame, mask).astype(np.float32) / 255
    body = rgb * (0.72 + 0.28 * rim[..., None])
    out = out * (1 - cover[..., None]) + body * cover[..., None]
    return (np.clip(out, 0, 1) * 255 + 0.5).astype(np.uint8), cover > 0.3


def plan_note(provenance: dict) -> str:
    """What the planner did for a clip, in a few words for a status line or the CLI ("" when
    nothing was planned). The motion follows the words only when the object was found;
    saying so saves a user guessing why it didn't."""
    plan = provenance.get("motion_plan")
    if not plan:
        return ""
    if plan.get("object_found"):
        return f"motion planned from '{plan['words']}'"
    return f"'{plan['words']}' not planned (no object found to move): the model's own motion"
