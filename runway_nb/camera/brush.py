"""MotionBrush: move one region of the picture while the rest of the scene holds still.

A brush is a region of the first frame — a painted mask (H × W bool at the clip's size)
or a box — plus how that region moves over the clip:

    horizontal   frame widths per second, + = right
    vertical     frame heights per second, + = up
    proximity    log-size per second, + = toward the camera (the region grows)
    ambient      0 … 1, a small wandering jitter (leaves, water, breathing)
    trajectory   instead of horizontal / vertical: points (x, y) the region's centre
                 passes through over the whole clip, as fractions of the frame (y down)

Coordinates follow the pads: boxes and trajectories are fractions of the frame, x to the
right and y down, so a brush does not depend on the pixel size; masks are pixels and
must match the clip's size (`Engine.resolve` checks it). `per_frame` turns the motion
into per-frame [dx, dy, scale] in pixels (what an engine applies); JSON is exact, masks
stored as run lengths.

    MotionBrush(box=(0.1, 0.4, 0.4, 0.8), horizontal=0.15)        # the left object, to the right
    MotionBrush(mask=painted, trajectory=[(0.2, 0.5), (0.5, 0.3), (0.8, 0.5)])
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

from ..errors import InvalidInput, check_number

MAX_BRUSHES = 8              # per shot (the brush pad's limit too)
SPEED_LIMIT = 10.0           # frame widths / heights per second: far beyond any useful move
PROXIMITY_RANGE = (-1.0, 1.0)
AMBIENT_RANGE = (0.0, 1.0)
AMBIENT_PX = 0.03            # ambient 1 wanders about ±3 % of the frame height
MAX_TRAJECTORY_POINTS = 10_000
SCHEMA_VERSION = 1


def mask_to_runs(mask: np.ndarray) -> list[int]:
    """Run lengths of a bool mask in row-major order, starting with a run of False."""
    flat = np.asarray(mask).ravel().astype(np.int8)
    bounds = np.r_[0, np.flatnonzero(np.diff(flat)) + 1, flat.size]
    runs = np.diff(bounds).tolist()
    return [0, *runs] if flat.size and flat[0] else runs


def runs_to_mask(runs, height: int, width: int, field: str = "brush.mask") -> np.ndarray:
    if not isinstance(runs, list) or any(isinstance(r, bool) or not isinstance(r, int) or r < 0 for r in runs) \
            or sum(runs) != height * width:
        raise InvalidInput(field, runs, f"must be run lengths (whole numbers ≥ 0) adding up to {height} × {width}")
    return np.repeat(np.arange(len(runs)) % 2 == 1, runs).reshape(height, width)


def _fraction_points(value, field: str, n_min: int, n_max: int) -> tuple[tuple[float, float], ...]:
    arr = np.asarray(value, dtype=object)
    if arr.ndim != 2 or arr.shape[1] != 2 or not n_min <= len(arr) <= n_max:
        raise InvalidInput(field, value, f"must be {n_min} to {n_max} points (x, y), fractions of the frame")
    out = []
    for j, (x, y) in enumerate(arr):
        out.append((float(check_number(f"{field}[{j}].x", x, low=-1, high=2)),
                    float(check_number(f"{field}[{j}].y", y, low=-1, high=2))))
    return tuple(out)


@dataclass(frozen=True, eq=False, repr=False)
class MotionBrush:
    """A region of the first frame and its motion; see the module docstring for units."""

    mask: np.ndarray | None = None                           # (H, W) bool at the clip's size
    box: tuple[float, float, float, float] | None = None     # (x0, y0, x1, y1), fractions, y down
    horizontal: float = 0.0
    vertical: float = 0.0
    proximity: float = 0.0
    ambient: float = 0.0
    trajectory: tuple[tuple[float, float], ...] | None = None

    def __post_init__(self):
        set_ = object.__setattr__
        if (self.mask is None) == (self.box is None):
            raise InvalidInput("brush.mask", "both" if self.mask is not None else None,
                               "a brush needs exactly one region: a mask (H × W bool) or a box (x0, y0, x1, y1)")
        if self.mask is not None:
            try:
                mask = np.asarray(self.mask)
            except (ValueError, TypeError):      # rows of different lengths: numpy cannot stack them
                raise InvalidInput("brush.mask", self.mask, "must be a 2-D (height, width) grid of "
                                   "booleans (or 0 / 1), every row the same length") from None
            if mask.ndim != 2 or min(mask.shape) < 1:
                raise InvalidInput("brush.mask", f"array of shape {mask.shape}", "must be a 2-D (height, width) mask")
            if mask.dtype != bool:
                if not np.issubdtype(mask.dtype, np.number) or not np.isin(mask, (0, 1)).all():
                    raise InvalidInput("brush.mask", f"array of {mask.dtype}", "must hold booleans (or 0 / 1)")
                mask = mask.astype(bool)
            if not mask.any():
                raise InvalidInput("brush.mask", "an empty mask", "must cover part of the frame",
                                   "Paint the region that should move.")
            # A Shot is immutable, its brushes too: the mask is a view of immutable bytes, so
            # its read-only flag cannot be switched back on (on a copy of its own it could)
            mask = np.frombuffer(np.ascontiguousarray(mask).tobytes(), dtype=bool).reshape(mask.shape)
            set_(self, "mask", mask)
        else:
            box = self.box
            if not isinstance(box, (tuple, list, np.ndarray)) or getattr(box, "ndim", 1) == 0 or len(box) != 4:
                raise InvalidInput("brush.box", box, "must be (x0, y0, x1, y1), fractions of the frame")
            x0, y0, x1, y1 = (float(check_number("brush.box", v.item() if isinstance(v, np.generic) else v,
                                                 low=0, high=1)) for v in box)
            if not (x1 > x0 and y1 > y0):
                raise InvalidInput("brush.box", box, "must have x1 > x0 and y1 > y0 (left, top, right, bottom)")
            set_(self, "box", (x0, y0, x1, y1))
        for name in ("horizontal", "vertical"):
            set_(self, name, float(check_number(f"brush.{name}", self._num(name), low=-SPEED_LIMIT,
                                                high=SPEED_LIMIT)))
        set_(self, "proximity", float(check_number("brush.proximity", self._num("proximity"),
                                                   low=PROXIMITY_RANGE[0], high=PROXIMITY_RANGE[1])))
        set_(self, "ambient", float(check_number("brush.ambient", self._num("ambient"),
                                                 low=AMBIENT_RANGE[0], high=AMBIENT_RANGE[1])))
        if self.trajectory is not None:
            if self.horizontal or self.vertical:
                raise InvalidInput("brush.trajectory", "given with horizontal / vertical",
                                   "give either a trajectory or a horizontal / vertical speed, not both")
            set_(self, "trajectory", _fraction_points(self.trajectory, "brush.trajectory", 2,
                                                      MAX_TRAJECTORY_POINTS))

    def _num(self, name):
        v = getattr(self, name)
        return v.item() if isinstance(v, np.generic) else v

    # ---- where the region is --------------------------------------------------------------
    def region(self, width: int, height: int) -> np.ndarray:
        """The region as a (height, width) bool mask (a box covers the pixels whose centre it holds)."""
        if self.mask is not None:
            if self.mask.shape != (height, width):
                raise InvalidInput("brush.mask", f"a {self.mask.shape[1]}×{self.mask.shape[0]} mask",
                                   f"must be the clip's size, {width}×{height}",
                                   "Paint the brush on this clip's first frame (or resize the mask).")
            return self.mask
        x0, y0, x1, y1 = self.box
        xs, ys = (np.arange(width) + 0.5) / width, (np.arange(height) + 0.5) / height
        m = ((ys >= y0) & (ys <= y1))[:, None] & ((xs >= x0) & (xs <= x1))[None, :]
        if not m.any():
            raise InvalidInput("brush.box", self.box, f"must cover at least one pixel of the {width}×{height} clip")
        return m

    def check_size(self, width: int, height: int, field: str = "brush") -> None:
        try:
            self.region(width, height)
        except InvalidInput as exc:
            raise InvalidInput(field + exc.field[len("brush"):], exc.value, exc.allowed, exc.hint) from None

    def centre(self, width: int, height: int) -> tuple[float, float]:
        """The region's centre in pixels (x, y down; pixel centres at integers, as OpenCV)."""
        ys, xs = np.nonzero(self.region(width, height))
        return float(xs.mean()), float(ys.mean())

    def per_frame(self, n_frames: int, fps: float, width: int, height: int, seed: int = 0) -> np.ndarray:
        """(n_frames, 3) float64 [dx, dy, scale]: the region's offset in pixels (x right,
        y down) and size factor at each frame, relative to frame 0 (the first row is 0, 0, 1).

        A trajectory is followed at constant speed along its length over the whole clip;
        ambient jitter is a smooth wander whose phases come from `seed` (the shot's)."""
        n = int(check_number("n_frames", n_frames, low=1, high=1_000_000, integer=True))
        fps = float(check_number("fps", fps, low=0, low_inclusive=False))
        t = np.arange(n) / fps
        out = np.zeros((n, 3))
        out[:, 2] = np.exp(self.proximity * t)
        if self.trajectory is not None:
            pts = np.array(self.trajectory) * [width, height]
            seg = np.r_[0.0, np.cumsum(np.hypot(*np.diff(pts, axis=0).T))]
            s = np.linspace(0.0, seg[-1], n) if seg[-1] > 0 else np.zeros(n)
            out[:, 0] = np.interp(s, seg, pts[:, 0]) - pts[0, 0]
            out[:, 1] = np.interp(s, seg, pts[:, 1]) - pts[0, 1]
        else:
            out[:, 0] = self.horizontal * width * t
            out[:, 1] = -self.vertical * height * t            # + = up on screen = smaller y
        if self.ambient:
            phase = np.random.default_rng([int(seed) % 2**32, 97]).uniform(0, 2 * math.pi, 4)
            amp = self.ambient * AMBIENT_PX * height
            wander = np.stack([np.sin(2.1 * t + phase[0]) + 0.5 * np.sin(4.7 * t + phase[1]),
                               np.sin(1.7 * t + phase[2]) + 0.5 * np.sin(5.3 * t + phase[3])], axis=1)
            out[:, :2] += amp * (wander - wander[:1]) / 1.5
        return out

    # ---- JSON ---------------------------------------------------------------------------
    def to_dict(self) -> dict:
        out: dict = {"runway_nb_brush": SCHEMA_VERSION}
        if self.mask is not None:
            h, w = self.mask.shape
            out["mask"] = {"width": w, "height": h, "runs": mask_to_runs(self.mask)}
        else:
            out["box"] = list(self.box)
        for f in fields(self)[2:]:
            value = getattr(self, f.name)
            if value != f.default:
                out[f.name] = [list(p) for p in value] if f.name == "trajectory" else value
        return out

    @classmethod
    def from_dict(cls, data, field: str = "brush") -> MotionBrush:
        if not isinstance(data, dict):
            raise InvalidInput(field, data, "must be a dict as MotionBrush.to_dict() writes it")
        data = dict(data)
        version = data.pop("runway_nb_brush", SCHEMA_VERSION)
        if version != SCHEMA_VERSION:
            raise InvalidInput(f"{field}.runway_nb_brush", version, f"this runway_nb reads version {SCHEMA_VERSION}")
        allowed = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise InvalidInput(f"{field}.{unknown[0]}", data[unknown[0]],
                               "is not a brush field; allowed: " + ", ".join(sorted(allowed)))
        mask = data.get("mask")
        if isinstance(mask, dict):
            if set(mask) != {"width", "height", "runs"}:
                raise InvalidInput(f"{field}.mask", mask, "must be {'width', 'height', 'runs'} (run lengths)")
            w = check_number(f"{field}.mask.width", mask["width"], low=1, high=16384, integer=True)
            h = check_number(f"{field}.mask.height", mask["height"], low=1, high=16384, integer=True)
            data["mask"] = runs_to_mask(mask["runs"], int(h), int(w), f"{field}.mask.runs")
        try:
            return cls(**data)
        except InvalidInput as exc:
            name = field + exc.field[len("brush"):] if exc.field.startswith("brush") else exc.field
            raise InvalidInput(name, exc.value, exc.allowed, exc.hint) from None

    # ---- comparison and display ---------------------------------------------------------------
    def __eq__(self, other) -> bool:
        if not isinstance(other, MotionBrush):
            return NotImplemented
        same_mask = (self.mask is None and other.mask is None) or (
            self.mask is not None and other.mask is not None and self.mask.shape == other.mask.shape
            and bool(np.array_equal(self.mask, other.mask)))
        return same_mask and all(getattr(self, f.name) == getattr(other, f.name) for f in fields(self)[1:])

    __hash__ = None   # holds an array: not hashable, like a Shot with meta

    def describe(self) -> str:
        where = (f"{self.mask.shape[1]}×{self.mask.shape[0]} mask ({self.mask.mean():.0%})"
                 if self.mask is not None else "box " + ", ".join(f"{v:.2f}" for v in self.box))
        if self.trajectory is not None:
            moves = [f"trajectory of {len(self.trajectory)} points"]
        else:
            moves = [f"→ {self.horizontal:+g}" if self.horizontal else "", f"↑ {self.vertical:+g}" if self.vertical else ""]
        moves += [f"proximity {self.proximity:+g}" if self.proximity else "",
                  f"ambient {self.ambient:g}" if self.ambient else ""]
        moves = [m for m in moves if m] or ["still"]
        return f"{where}: {', '.join(moves)}"

    def __repr__(self) -> str:
        return f"MotionBrush({self.describe()!r})"


def as_brushes(value, field: str = "brushes") -> tuple[MotionBrush, ...]:
    """What `Shot(brushes=...)` accepts: None, a MotionBrush or dict, or a list of them."""
    if value is None:
        return ()
    if isinstance(value, (MotionBrush, dict)):
        value = [value]
    if not isinstance(value, (list, tuple)):
        hint = "Pass list(...) of them." if not isinstance(value, (str, bytes)) and hasattr(value, "__iter__") \
            else None                            # a numpy array or a generator of brushes
        raise InvalidInput(field, value, "must be a list of MotionBrush (or dicts as MotionBrush.to_dict() writes)",
                           hint)
    if len(value) > MAX_BRUSHES:
        raise InvalidInput(field, f"{len(value)} brushes", f"must be at most {MAX_BRUSHES} per shot")
    out = []
    for i, b in enumerate(value):
        if isinstance(b, MotionBrush):
            out.append(b)
        elif isinstance(b, dict):
            out.append(MotionBrush.from_dict(b, field=f"{field}[{i}]"))
        else:
            raise InvalidInput(f"{field}[{i}]", b, "must be a MotionBrush or a dict")
    return tuple(out)


# JSON files of this package that hold no brushes of their own, by the key that marks them
_NOT_BRUSH_FILES = {"runway_nb_film": "a film's JSON (Sequence.save: its clips, trims and transitions)",
                    "runway_nb_camera": "a camera path's JSON"}
# the keys as_camera_path reads a hand-written camera path by (ours and Deforum's 2D schedules):
# no brush has them
_CAMERA_KEYS = ("keyframes", "preset", "speed", "zoom", "angle", "translation_x", "translation_y")
_FILE_FORMS = ("must hold motion brushes: one brush as MotionBrush.to_dict() writes it, a list of "
               "them, {\"brushes\": [...]}, or a brushed clip's JSON")


def _brushes_in(data, path, field: str):
    """The brushes a --brush file's JSON holds (see brushes_from_files), or refused naming
    what the file is."""
    if isinstance(data, dict):
        for key, what in _NOT_BRUSH_FILES.items():
            if key in data:
                raise InvalidInput(field, str(path), f"must hold motion brushes, and it is {what}",
                                   "Give a clip's JSON (its shot's brushes) or a brush file.")
        if "brushes" in data:                    # a shot's JSON, or {"brushes": [...]}
            return data["brushes"]
        if "shot" in data:                       # a clip's JSON (clip.save, generate -o)
            shot = data["shot"]
            brushes = shot.get("brushes") if isinstance(shot, dict) else None
            if not brushes:
                raise InvalidInput(field, str(path), "must hold motion brushes, and it is a clip's JSON "
                                                     "whose shot has none")
            return brushes
        camera = [k for k in _CAMERA_KEYS if k in data]
        if camera and not {"mask", "box"} & set(data):
            raise InvalidInput(field, str(path), f"must hold motion brushes, and it is a camera path "
                                                 f"(it has {camera[0]!r})",
                               "Give a camera path with --camera (camera= in Python).")
    elif not isinstance(data, list):
        raise InvalidInput(field, str(path), f"{_FILE_FORMS}; it holds {type(data).__name__} {data!r:.40}")
    return data


def brushes_from_files(paths, field: str = "brush") -> tuple[MotionBrush, ...]:
    """Read `--brush FILE.json` files: each holds one brush (a MotionBrush.to_dict() object),
    a list of them, a shot-like {"brushes": [...]}, or a clip's JSON (clip.save's: the
    brushes of its shot); together at most MAX_BRUSHES. A film's or a camera path's JSON, a
    file that is not UTF-8 JSON and one that holds no brush are refused by name; a bad brush
    in a file is refused naming the file too."""
    import json
    from pathlib import Path

    found = []
    for path in paths or ():
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8-sig"))   # a BOM (Notepad) is fine
        except OSError as exc:
            raise InvalidInput(field, str(path), f"must be a readable .json file ({exc.strerror or exc})") from None
        except UnicodeDecodeError as exc:
            raise InvalidInput(field, str(path), f"must be a UTF-8 JSON file (byte {exc.start} is not UTF-8: "
                                                 f"{exc.reason})", "Save it as UTF-8.") from None
        except json.JSONDecodeError as exc:
            raise InvalidInput(field, str(path), f"must be valid JSON (line {exc.lineno}, column "
                                                 f"{exc.colno}: {exc.msg})") from None
        data = _brushes_in(data, path, field)
        try:
            brushes = as_brushes(data, field="brushes")
        except InvalidInput as exc:               # which of several files it is
            where = f"It is in the brush file {path}."
            raise InvalidInput(exc.field, exc.value, exc.allowed,
                               where + (f" {exc.hint}" if exc.hint else "")) from None
        if not brushes:
            raise InvalidInput(field, str(path), "must hold at least one motion brush, and it holds none",
                               "Draw one with the brush pad (or MotionBrush(...).to_dict()), or leave "
                               "this --brush out.")
        found.extend(brushes)
    return as_brushes(found, field="brushes")
