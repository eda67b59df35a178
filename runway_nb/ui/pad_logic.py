"""What the brush pad *means*, without a canvas; and small picture helpers both pads share.

Pure numpy: no widgets, no torch. `brush_pad.BrushPad` forwards canvas events to
`BrushPadLogic` and draws what it reports, so tests drive every gesture from Python:

    pad = BrushPadLogic(clip_width=64, clip_height=64, duration=2.0)   # pad 256 × 256
    pad.pointer_down(60, 60); pad.pointer_move(90, 70); pad.pointer_up(90, 70)   # paint
    pad.tool = "arrow"
    pad.pointer_down(75, 65); pad.pointer_up(175, 65)                  # move it right
    pad.brushes()                                                      # -> [MotionBrush]

Coordinates. Events are pad pixels (the first frame shown at W × H pixels, y down).
Regions are kept at the clip's size (clip_width × clip_height): a stroke paints every
clip pixel whose centre lies within `radius` pad pixels of it, so what you see on the
pad is what the engine gets. Paint outside the pad is clipped away; an arrow or a path may
end off the pad (the region leaves the picture), up to one frame beyond its edge.

Motion. An arrow from a to b says "over the whole clip, this region travels from a to
b": its horizontal / vertical speed is the arrow's length in frame widths / heights per
second (+ = right, up). Proximity (+ = toward the camera, it grows) and ambient (a
jitter amount) come from sliders. The "path" tool draws a trajectory instead of an
arrow (thinned like the camera pad's drags).
"""

from __future__ import annotations

import copy
import json

import numpy as np

from ..camera.brush import SPEED_LIMIT, MotionBrush, as_brushes, mask_to_runs, runs_to_mask
from ..camera.recorder import check_point, rdp
from ..errors import InvalidInput, check_number

STATE_VERSION = 1
MAX_BRUSHES = 8
TOOLS = ("paint", "erase", "box", "arrow", "path")
PROXIMITY_RANGE = (-1.0, 1.0)   # per second: + = toward the camera (the region grows)
AMBIENT_RANGE = (0.0, 1.0)      # jitter, 0 = none
UNDO_DEPTH = 50


# ---- pictures: shared by both pads ----------------------------------------------------------

def first_frame(preview) -> np.ndarray | None:
    """A (H, W, 3) uint8 picture from None, a frame, a clip's (T, H, W, 3) frames or a Clip."""
    if preview is None:
        return None
    arr = np.asarray(getattr(preview, "frames", preview))
    if arr.ndim == 4:
        arr = arr[0]
    if arr.ndim != 3 or arr.shape[2] not in (3, 4) or arr.dtype != np.uint8 or min(arr.shape[:2]) < 2:
        raise InvalidInput("preview", f"array of shape {arr.shape} and dtype {arr.dtype}",
                           "must be a uint8 frame (H, W, 3) or clip frames (T, H, W, 3)")
    return arr[:, :, :3]


def pad_size(size, aspect: float) -> tuple[int, int]:
    """(width, height) of a pad whose longer side is `size` pixels."""
    size = int(check_number("size", size, low=64, high=2048, integer=True))
    aspect = float(check_number("aspect", aspect, low=0.1, high=10))
    return (size, max(16, round(size / aspect))) if aspect >= 1 else (max(16, round(size * aspect)), size)


def pad_mode(mode: str) -> str:
    """A pad's drawing: 'canvas' (ipycanvas) or 'sliders' (plain ipywidgets); 'auto' takes
    the canvas where ipycanvas is installed."""
    if mode not in ("auto", "canvas", "sliders"):
        raise InvalidInput("mode", mode, "must be 'auto', 'canvas' (ipycanvas) or 'sliders' (plain ipywidgets)")
    if mode != "auto":
        return mode
    try:
        import ipycanvas  # noqa: F401
    except ImportError:
        return "sliders"
    return "canvas"


def fit(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Nearest-neighbour resize to (height, width, C): cheap, and exact on pixel art."""
    rows = (np.arange(height) * image.shape[0] / height).astype(int)
    cols = (np.arange(width) * image.shape[1] / width).astype(int)
    return np.ascontiguousarray(image[rows][:, cols])


# ---- the brush pad ----------------------------------------------------------------------------

def _empty_brush() -> dict:
    return {"mask": None, "box": None, "arrow": None, "trajectory": None, "proximity": 0.0, "ambient": 0.0}


def _four_numbers(field: str, value, what: str) -> list[float]:
    """A box or an arrow (x0, y0, x1, y1) in clip pixels: four finite numbers, or refused by name."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, (tuple, list)) or len(value) != 4:
        raise InvalidInput(field, value, f"must be {what} (x0, y0, x1, y1): four numbers, in clip pixels")
    return [float(check_number(field, v)) for v in value]


def _pixel_points(field: str, value) -> list[list[float]]:
    """A drawn trajectory: two or more [x, y] points in clip pixels, or refused by name."""
    if not isinstance(value, (tuple, list)) or len(value) < 2 or any(
            not isinstance(p, (tuple, list)) or len(p) != 2 for p in value):
        raise InvalidInput(field, value, "must be two or more [x, y] points, in clip pixels")
    return [[float(check_number(f"{field}[{j}].x", x)), float(check_number(f"{field}[{j}].y", y))]
            for j, (x, y) in enumerate(value)]


def _rescale(items: list[dict], size: tuple[int, int], to: tuple[int, int]) -> list[dict]:
    """Brush items drawn on a clip of `size` (w, h), moved in place onto one of `to`: masks
    resampled, boxes, arrows and paths scaled. Returns `items`."""
    if size == tuple(to):
        return items
    (w, h), (sx, sy) = to, (to[0] / size[0], to[1] / size[1])
    for b in items:
        if b["mask"] is not None:
            b["mask"] = fit(b["mask"], w, h)
        for key in ("box", "arrow"):
            if b[key] is not None:
                b[key] = [v * (sx if k % 2 == 0 else sy) for k, v in enumerate(b[key])]
        if b["trajectory"] is not None:
            b["trajectory"] = [[x * sx, y * sy] for x, y in b["trajectory"]]
    return items


class BrushPadLogic:
    """Paint or box regions, give each a motion; `brushes()` -> MotionBrush list."""

    def __init__(self, *, clip_width: int = 64, clip_height: int = 64, width: int = 256, height: int = 256,
                 duration: float = 2.0, radius: float = 12.0, tolerance_px: float = 1.5):
        self.clip_width = int(check_number("clip_width", clip_width, low=2, high=8192, integer=True))
        self.clip_height = int(check_number("clip_height", clip_height, low=2, high=8192, integer=True))
        self.width = int(check_number("width", width, low=16, high=4096, integer=True))
        self.height = int(check_number("height", height, low=16, high=4096, integer=True))
        self.duration = float(check_number("duration", duration, low=0, low_inclusive=False, high=3600))
        self.radius = float(check_number("radius", radius, low=0.5, high=1000))
        self.tolerance_px = float(tolerance_px)
        self.tool = "paint"
        self.items: list[dict] = []
        self.selected: int | None = None
        self._undo: list[tuple] = []
        self._down: tuple[float, float] | None = None
        self._points: list[tuple[float, float]] = []
        self._restored: tuple[str, list[MotionBrush]] | None = None   # see set_brushes

    @property
    def tool(self) -> str:
        return self._tool

    @tool.setter
    def tool(self, value: str):
        if value not in TOOLS:
            raise InvalidInput("tool", value, "must be one of " + ", ".join(TOOLS))
        self._tool = value

    # ---- brushes: add, select, delete, sliders --------------------------------------------
    def _check_index(self, i) -> int:
        n = len(self.items)
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= i < n:
            allowed = f"must be a brush number from 0 to {n - 1}" if n else "has no brush to refer to: none drawn yet"
            raise InvalidInput("brush", i, allowed)
        return int(i)

    def add_brush(self) -> int:
        if len(self.items) >= MAX_BRUSHES:
            raise InvalidInput("brushes", len(self.items) + 1, f"must be at most {MAX_BRUSHES} per shot",
                               "Delete one, or paint more of an existing brush.")
        self._remember()
        self.items.append(_empty_brush())
        self.selected = len(self.items) - 1
        return self.selected

    def select(self, i: int | None):
        self.selected = None if i is None else self._check_index(i)

    def delete(self, i: int):
        i = self._check_index(i)
        self._remember()
        del self.items[i]
        self.selected = None if not self.items else min(i, len(self.items) - 1)

    def set_proximity(self, i: int, value: float):
        self._set(i, "proximity", float(check_number("brush.proximity", value, low=PROXIMITY_RANGE[0],
                                                     high=PROXIMITY_RANGE[1])))

    def set_ambient(self, i: int, value: float):
        self._set(i, "ambient", float(check_number("brush.ambient", value, low=AMBIENT_RANGE[0],
                                                   high=AMBIENT_RANGE[1])))

    def set_box(self, i: int, box):
        """A box (x0, y0, x1, y1) in clip pixels replaces brush i's region (sliders use this)."""
        i = self._check_index(i)
        x0, y0, x1, y1 = _four_numbers("brush.box", box, "a box")
        x0, x1 = sorted((np.clip(x0, 0, self.clip_width), np.clip(x1, 0, self.clip_width)))
        y0, y1 = sorted((np.clip(y0, 0, self.clip_height), np.clip(y1, 0, self.clip_height)))
        if x1 - x0 < 1 or y1 - y0 < 1:
            raise InvalidInput("brush.box", box, f"must cover at least one pixel of the "
                                                 f"{self.clip_width} × {self.clip_height} clip")
        self._set(i, "box", [float(v) for v in (x0, y0, x1, y1)], mask=None)

    def set_motion(self, i: int, horizontal: float, vertical: float):
        """Speed in frame widths / heights per second (+ = right, up), as an arrow from the
        region's centre: what the slider fallback uses."""
        i = self._check_index(i)
        horizontal = float(check_number("brush.horizontal", horizontal, low=-SPEED_LIMIT, high=SPEED_LIMIT))
        vertical = float(check_number("brush.vertical", vertical, low=-SPEED_LIMIT, high=SPEED_LIMIT))
        cx, cy = self.centre(i) if self.region(i) is not None else (self.clip_width / 2, self.clip_height / 2)
        d = self.duration
        arrow = [cx, cy, cx + horizontal * d * self.clip_width, cy - vertical * d * self.clip_height]
        self._set(i, "arrow", [float(v) for v in arrow], trajectory=None)

    def _set(self, i, key, value, **also):
        i = self._check_index(i)
        self._remember()
        self.items[i].update({key: value, **also})

    def set_clip(self, clip_width: int | None = None, clip_height: int | None = None,
                 duration: float | None = None):
        """Follow the clip's size (masks are resampled, boxes and arrows scaled) and length
        (an arrow still spans the whole clip, so its speed per second changes). Everything is
        checked before anything changes: a refused value leaves the pad as it was."""
        d = self.duration if duration is None else float(check_number("duration", duration, low=0,
                                                                       low_inclusive=False, high=3600))
        w = self.clip_width if clip_width is None else int(check_number("clip_width", clip_width, low=2,
                                                                        high=8192, integer=True))
        h = self.clip_height if clip_height is None else int(check_number("clip_height", clip_height, low=2,
                                                                          high=8192, integer=True))
        _rescale(self.items, (self.clip_width, self.clip_height), (w, h))
        self.clip_width, self.clip_height, self.duration = w, h, d

    # ---- regions and motion, read back -----------------------------------------------------
    def region(self, i: int) -> np.ndarray | None:
        """Brush i's region as a (clip_height, clip_width) bool mask, None if empty."""
        b = self.items[self._check_index(i)]
        if b["box"] is not None:
            x0, y0, x1, y1 = b["box"]
            ys, xs = np.arange(self.clip_height) + 0.5, np.arange(self.clip_width) + 0.5
            m = ((ys >= y0) & (ys <= y1))[:, None] & ((xs >= x0) & (xs <= x1))[None, :]
        else:
            m = b["mask"]
        return m if m is not None and m.any() else None

    def area(self, i: int) -> float:
        """Fraction of the frame brush i covers."""
        m = self.region(i)
        return 0.0 if m is None else float(m.mean())

    def centre(self, i: int) -> tuple[float, float]:
        ys, xs = np.nonzero(self.region(i))
        return float(xs.mean() + 0.5), float(ys.mean() + 0.5)

    def motion(self, i: int) -> tuple[float, float]:
        """(horizontal, vertical) speed in frame widths / heights per second, + = right, up."""
        b = self.items[self._check_index(i)]
        if b["arrow"] is not None:
            x0, y0, x1, y1 = b["arrow"]
        elif b["trajectory"] is not None:
            (x0, y0), (x1, y1) = b["trajectory"][0], b["trajectory"][-1]
        else:
            return 0.0, 0.0
        return (x1 - x0) / self.clip_width / self.duration, (y0 - y1) / self.clip_height / self.duration

    # ---- pointer gestures ----------------------------------------------------------------
    def to_clip(self, x, y) -> tuple[float, float]:
        return float(x) * self.clip_width / self.width, float(y) * self.clip_height / self.height

    def to_pad(self, x, y) -> tuple[float, float]:
        return float(x) * self.width / self.clip_width, float(y) * self.height / self.clip_height

    def pointer_down(self, x: float, y: float):
        if self.tool in ("arrow", "path") and self.selected is None:
            raise InvalidInput("tool", self.tool, "needs a brush: paint a region or drag a box first")
        if self.tool == "erase" and self.selected is None:
            raise InvalidInput("tool", "erase", "needs a selected brush to erase from")
        x, y = check_point(x, y)
        self._down, self._points = (x, y), [(x, y)]
        if self.tool in ("paint", "erase"):
            if self.selected is None:        # paint starts a brush; "+ brush" starts another
                self.add_brush()
            else:
                self._remember()
            b = self.items[self.selected]
            if b["mask"] is None:      # a box becomes paint the first time it is painted on
                b["mask"] = self.region(self.selected) if b["box"] is not None else \
                    np.zeros((self.clip_height, self.clip_width), bool)
                b["box"] = None
            self._stamp(x, y, x, y)

    def pointer_move(self, x: float, y: float) -> bool:
        if self._down is None:
            return False
        x, y = check_point(x, y)
        px, py = self._points[-1]
        if np.hypot(x - px, y - py) < 1.0:
            return False
        if self.tool in ("paint", "erase"):
            self._stamp(px, py, x, y)
        self._points.append((float(x), float(y)))
        return True

    def pointer_up(self, x: float, y: float):
        if self._down is None:
            return
        x, y = check_point(x, y)
        self.pointer_move(x, y)
        (x0, y0), (x1, y1), self._down = self._down, (float(x), float(y)), None
        points, self._points = np.array(self._points), []
        if self.tool == "box":               # replaces the selected brush's region, or starts one
            box = np.clip([*self.to_clip(x0, y0), *self.to_clip(x1, y1)], 0,
                          [self.clip_width, self.clip_height] * 2)
            if abs(box[2] - box[0]) >= 1 and abs(box[3] - box[1]) >= 1:   # else a click, or off the pad
                if self.selected is None:
                    self.add_brush()
                self.set_box(self.selected, box.tolist())
        elif self.tool == "arrow" and np.hypot(x1 - x0, y1 - y0) >= 2:
            arrow = [*self.to_clip(*self._held(x0, y0)), *self.to_clip(*self._held(x1, y1))]
            self._set(self.selected, "arrow", arrow, trajectory=None)
        elif self.tool == "path" and len(points) >= 2:
            keep = rdp(points, self.tolerance_px)
            traj = [list(self.to_clip(*self._held(*points[k]))) for k in keep]
            self._set(self.selected, "trajectory", traj, arrow=None)

    def _held(self, x, y) -> tuple[float, float]:
        """A point of an arrow or path, held to what a MotionBrush allows: up to one frame
        beyond each edge of the pad (a region may leave the picture, not run off to anywhere)."""
        return (float(np.clip(x, -self.width, 2 * self.width)),
                float(np.clip(y, -self.height, 2 * self.height)))

    @property
    def rubber_band(self) -> dict | None:
        """The gesture in progress, for drawing it live: tool, start, points (pad pixels)."""
        if self._down is None:
            return None
        return {"tool": self.tool, "start": self._down, "points": np.array(self._points)}

    def _stamp(self, ax, ay, bx, by):
        """Paint (or erase) a capsule of `radius` pad pixels from a to b into the selected mask."""
        mask = self.items[self.selected]["mask"]
        sx, sy = self.clip_width / self.width, self.clip_height / self.height
        a, b = np.array([ax * sx, ay * sy]), np.array([bx * sx, by * sy])
        r = self.radius * sx
        lo = np.floor(np.minimum(a, b) - r).astype(int).clip(0, [self.clip_width, self.clip_height])
        hi = np.ceil(np.maximum(a, b) + r).astype(int).clip(0, [self.clip_width, self.clip_height])
        if np.any(hi <= lo):
            return                                   # wholly off the pad
        ys, xs = np.mgrid[lo[1]:hi[1], lo[0]:hi[0]] + 0.5
        p = np.stack([xs, ys], axis=-1) - a
        ab = b - a
        u = np.clip((p @ ab) / max(float(ab @ ab), 1e-12), 0.0, 1.0)
        inside = np.linalg.norm(p - u[..., None] * ab, axis=-1) <= max(r, 0.5)
        window = mask[lo[1]:hi[1], lo[0]:hi[0]]      # a view: painted in place
        if self.tool == "paint":
            window |= inside
        else:
            window &= ~inside

    # ---- output ----------------------------------------------------------------------------
    def brush_dicts(self) -> list[dict]:
        """One dict per brush: mask (bool, clip size), horizontal / vertical (per second),
        proximity, ambient, trajectory (clip pixels, or None). Empty brushes are refused."""
        out = []
        for i, b in enumerate(self.items):
            mask = self.region(i)
            if mask is None:
                raise InvalidInput(f"brushes[{i}]", "an empty region", "must cover part of the frame",
                                   "Paint or drag a box for it, or delete it.")
            h, v = self.motion(i)
            out.append({"mask": mask, "box": b["box"], "horizontal": h, "vertical": v,
                        "proximity": b["proximity"], "ambient": b["ambient"], "trajectory": b["trajectory"]})
        return out

    def brushes(self) -> list[MotionBrush]:
        """What a Shot takes (`Shot(brushes=pad.brushes())`): a box stays a box (as fractions
        of the frame), painted regions are masks at the clip's size, a drawn path becomes the
        brush's trajectory. Empty brushes are refused, naming them. Brushes put on the pad
        with `set_brushes` come back as they were until something on the pad changes."""
        if self._restored is not None and self._restored[0] == self._fingerprint():
            return list(self._restored[1])
        out = []
        w, h = self.clip_width, self.clip_height
        for i, d in enumerate(self.brush_dicts()):
            region = {"box": (d["box"][0] / w, d["box"][1] / h, d["box"][2] / w, d["box"][3] / h)} \
                if d["box"] is not None else {"mask": d["mask"]}
            if d["trajectory"] is not None:
                motion = {"trajectory": [(x / w, y / h) for x, y in d["trajectory"]]}
            else:
                motion = {"horizontal": d["horizontal"], "vertical": d["vertical"]}
            try:
                out.append(MotionBrush(**region, **motion, proximity=d["proximity"], ambient=d["ambient"]))
            except InvalidInput as exc:
                raise InvalidInput(f"brushes[{i}]" + exc.field[len("brush"):], exc.value, exc.allowed,
                                   exc.hint) from None
        return out

    def set_brushes(self, brushes) -> None:
        """Put MotionBrush objects (a shot's `brushes`) on the pad, replacing what is there
        (undo brings that back). Boxes, arrows and paths are held in clip pixels here, and
        converting fractions and speeds to pixels and back can change the last digit of a
        float; so until the pad is edited (or the clip's size or length changes) `brushes()`
        gives back these very objects, and a restored shot is re-made exactly."""
        brushes = as_brushes(brushes)
        w, h, d = self.clip_width, self.clip_height, self.duration
        items, exact = [], True
        for b in brushes:
            item = {**_empty_brush(), "proximity": b.proximity, "ambient": b.ambient}
            if b.box is not None:
                item["box"] = [b.box[0] * w, b.box[1] * h, b.box[2] * w, b.box[3] * h]
            elif b.mask.shape == (h, w):
                item["mask"] = np.array(b.mask, dtype=bool)
            else:                  # painted on a clip of another size: resampled, so not exact
                item["mask"], exact = fit(b.mask, w, h), False
            if b.trajectory is not None:
                item["trajectory"] = [[x * w, y * h] for x, y in b.trajectory]
            items.append(item)
        self._remember()
        self.items, self.selected = items, (0 if items else None)
        for i, b in enumerate(brushes):       # speeds as an arrow from the region's centre, over the clip
            if (b.horizontal or b.vertical) and self.region(i) is not None:
                cx, cy = self.centre(i)
                self.items[i]["arrow"] = [cx, cy, cx + b.horizontal * d * w, cy - b.vertical * d * h]
        self._restored = (self._fingerprint(), list(brushes)) if exact else None

    def _fingerprint(self) -> str:
        """Everything `brushes()` is computed from, as text (to tell whether it changed)."""
        items = [{**b, "mask": None if b["mask"] is None else mask_to_runs(b["mask"])} for b in self.items]
        return json.dumps([self.clip_width, self.clip_height, self.duration, items])

    # ---- undo and state --------------------------------------------------------------------
    def _remember(self):
        # the clip's size goes with each snapshot: a clip resized since (set_clip) gets it back
        # at its own size, not masks of another size or boxes in another pixel scale
        snapshot = (copy.deepcopy(self.items), self.selected, (self.clip_width, self.clip_height))
        self._undo = self._undo[-(UNDO_DEPTH - 1):] + [snapshot]

    def undo(self):
        """Go back one edit. The clip's size and length stay (they are the clip's, not edits)."""
        if self._undo:
            items, self.selected, size = self._undo.pop()
            self.items = _rescale(items, size, (self.clip_width, self.clip_height))

    def clear(self):
        self._remember()
        self.items, self.selected = [], None

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    def state(self) -> dict:
        """JSON-able: masks as run lengths (see `mask_to_runs`); undo history left out."""
        items = [{**b, "mask": None if b["mask"] is None else mask_to_runs(b["mask"])} for b in self.items]
        return {"version": STATE_VERSION, "clip_width": self.clip_width, "clip_height": self.clip_height,
                "width": self.width, "height": self.height, "duration": self.duration, "radius": self.radius,
                "tool": self.tool, "selected": self.selected, "brushes": copy.deepcopy(items)}

    @classmethod
    def from_state(cls, data) -> BrushPadLogic:
        keys = ("clip_width", "clip_height", "width", "height", "duration", "radius")
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION or not set(keys) <= set(data):
            raise InvalidInput("brush pad state", data, f"must be a dict from BrushPadLogic.state() "
                                                        f"(version {STATE_VERSION})")
        pad = cls(**{k: data[k] for k in keys})
        pad.tool = data.get("tool", "paint")
        brushes = data.get("brushes", [])
        if not isinstance(brushes, list):
            raise InvalidInput("brush pad state.brushes", brushes, "must be a list of the pad's brushes "
                                                                   "(as BrushPadLogic.state() writes it)")
        if len(brushes) > MAX_BRUSHES:
            raise InvalidInput("brush pad state.brushes", f"{len(brushes)} brushes",
                               f"must be at most {MAX_BRUSHES} per shot")
        for j, b in enumerate(brushes):
            field = f"brush pad state.brushes[{j}]"
            if not isinstance(b, dict) or set(b) != set(_empty_brush()):
                raise InvalidInput(field, b, "must have the keys " + ", ".join(_empty_brush()))
            pad.items.append({
                "mask": None if b["mask"] is None else runs_to_mask(b["mask"], pad.clip_height, pad.clip_width,
                                                                    f"{field}.mask"),
                "box": None if b["box"] is None else _four_numbers(f"{field}.box", b["box"], "a box"),
                "arrow": None if b["arrow"] is None else _four_numbers(f"{field}.arrow", b["arrow"], "an arrow"),
                "trajectory": None if b["trajectory"] is None else _pixel_points(f"{field}.trajectory",
                                                                                 b["trajectory"]),
                "proximity": float(check_number(f"{field}.proximity", b["proximity"], low=PROXIMITY_RANGE[0],
                                                high=PROXIMITY_RANGE[1])),
                "ambient": float(check_number(f"{field}.ambient", b["ambient"], low=AMBIENT_RANGE[0],
                                              high=AMBIENT_RANGE[1]))})
        if data.get("selected") is not None:
            pad.select(data["selected"])
        return pad
