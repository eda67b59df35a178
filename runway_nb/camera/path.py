"""CameraPath: a camera move as keyframes in time plus a constant drift.

The six axes are the ones filmmakers name (signs: + = right, up, clockwise, in):

    truck     move the camera sideways         frame heights
    pedestal  move the camera up or down       frame heights
    pan       turn the camera left or right    frame heights the frame centre travels
    tilt      turn the camera up or down       frame heights the frame centre travels
    roll      turn about the lens axis         degrees, + = camera rolls clockwise
    zoom      lens zoom                        factor, 1 = none, 2 = twice as close

A keyframe holds all six at one time (seconds). Between two keyframes the camera
travels with the first one's easing (linear, ease_in, ease_out, ease_in_out, hold —
as Blender and CSS do); before the first keyframe it holds still, and after the last
it holds too, or with `after_last="continue"` keeps the last segment's speed (how a
Deforum schedule behaves).
On top of that, `speed` is a constant drift per second (zoom in log-zoom per second):
that is how presets and UI sliders express "pan left at this speed", so a longer clip
travels further. Zoom is interpolated in log space, so a steady zoom looks steady.
Only changes matter: `per_frame` reports each frame relative to frame 0, times
`strength`.

`per_frame` gives the (T, 4) array [x, y, zoom, roll] that `runway_nb.tiny.toyworld`
uses: camera centre offset from frame 0 in frame heights (x right, y up), zoom
relative to frame 0, roll in degrees. Film convention: pan_left moves the centre left
(x decreases), so the scene slides right. Truck adds to x exactly like pan, and
pedestal to y like tilt: they differ only by parallax, which the tiny engine does not
model yet; engines that do can read `per_frame_axes`.
"""

from __future__ import annotations

import html
import math
import numbers
from dataclasses import dataclass, field, fields, replace

import numpy as np

from ..errors import InvalidInput, check_number
from . import presets as _presets
from . import schedule as _schedule

AXES = ("truck", "pedestal", "pan", "tilt", "roll", "zoom")
EASINGS = {
    "linear": lambda u: u,
    "ease_in": lambda u: u * u,
    "ease_out": lambda u: u * (2.0 - u),
    "ease_in_out": lambda u: u * u * (3.0 - 2.0 * u),   # smoothstep: leaves and arrives at rest
    "hold": lambda u: np.where(u >= 1.0, 1.0, 0.0),     # stay put, jump at the next keyframe
}
_EASING_NAMES = tuple(EASINGS)
AFTER_LAST = ("hold", "continue")
SCHEMA_VERSION = 1
UI_RANGE = 10.0          # from_axes sliders run from -10 to +10 ...
UI_PER_INTENSITY = 5.0   # ... and ±5 is a preset's intensity 1 (±10 = twice as fast)
MAX_SECONDS, MAX_OFFSET, MAX_ROLL, MAX_ZOOM, MAX_KEYFRAMES = 3600.0, 1e4, 1e6, 1e4, 100_000
# how from_deforum labels its paths; the label is written in a path's JSON, so a Deforum import
# read with max_frames (which keeps keyframes, not its schedules) is still known as one there
_DEFORUM_LABEL = "Deforum 2D ("
_LOG_MAX_ZOOM = math.log(MAX_ZOOM) * (1 + 1e-12)     # + float rounding of exp and log
_UI_SPEED = {"truck": "pan", "pan": "pan", "pedestal": "tilt", "tilt": "tilt", "roll": "roll", "zoom": "zoom"}


def _number(name: str, value, **limits) -> float:
    if isinstance(value, np.generic):     # numpy scalars are fine numbers too
        value = value.item()
    return float(check_number(name, value, **limits))


def _renamed(exc: InvalidInput, old: str, new: str) -> InvalidInput:
    name = new + exc.field[len(old):] if exc.field.startswith(old) else exc.field
    return InvalidInput(name, exc.value, exc.allowed, exc.hint)


@dataclass(frozen=True)
class Keyframe:
    """Where the camera is at `time` seconds; `easing` shapes the way to the next keyframe."""

    time: float
    truck: float = 0.0
    pedestal: float = 0.0
    pan: float = 0.0
    tilt: float = 0.0
    roll: float = 0.0
    zoom: float = 1.0
    easing: str = "linear"

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "time", _number("keyframe.time", self.time, low=0, high=MAX_SECONDS))
        for axis in ("truck", "pedestal", "pan", "tilt"):
            set_(self, axis, _number(f"keyframe.{axis}", getattr(self, axis), low=-MAX_OFFSET, high=MAX_OFFSET))
        set_(self, "roll", _number("keyframe.roll", self.roll, low=-MAX_ROLL, high=MAX_ROLL))
        zoom = self.zoom.item() if isinstance(self.zoom, np.generic) else self.zoom
        # the range every per-frame check holds a path to (_out_of_range): 1/MAX_ZOOM … MAX_ZOOM, in
        # log so that a zoom read back through exp(log(…)) at either end (Deforum imports) is kept
        if isinstance(zoom, bool) or not isinstance(zoom, numbers.Real) or not zoom > 0 \
                or not abs(math.log(zoom)) <= _LOG_MAX_ZOOM:
            raise InvalidInput("keyframe.zoom", self.zoom, f"must be a zoom factor from 1/{MAX_ZOOM:g} to "
                                                           f"{MAX_ZOOM:g} (1 = no zoom, 2 = twice as close, "
                                                           "0.5 = twice as wide)")
        set_(self, "zoom", float(zoom))
        if not isinstance(self.easing, str) or self.easing not in EASINGS:
            raise InvalidInput("keyframe.easing", self.easing, "must be one of " + ", ".join(EASINGS))

    def to_dict(self) -> dict:
        out = {"time": self.time}
        out.update({f.name: getattr(self, f.name) for f in fields(self)[1:]
                    if getattr(self, f.name) != f.default})
        return out


@dataclass(frozen=True)
class Speed:
    """A constant drift per second on each axis; zoom in log-zoom per second (0.22 ≈ ×1.25/s)."""

    truck: float = 0.0
    pedestal: float = 0.0
    pan: float = 0.0
    tilt: float = 0.0
    roll: float = 0.0
    zoom: float = 0.0

    def __post_init__(self):
        for f in fields(self):
            limit = MAX_ROLL if f.name == "roll" else MAX_OFFSET
            object.__setattr__(self, f.name, _number(f"speed.{f.name}", getattr(self, f.name),
                                                     low=-limit, high=limit))

    def as_array(self) -> np.ndarray:
        return np.array([getattr(self, axis) for axis in AXES])

    def __bool__(self) -> bool:
        return any(getattr(self, axis) != 0.0 for axis in AXES)

    def to_dict(self) -> dict:
        return {axis: getattr(self, axis) for axis in AXES if getattr(self, axis) != 0.0}


@dataclass(frozen=True)
class DeforumRun:
    """What a path imported from Deforum schedules without max_frames was read from, so
    that a clip longer than the frames read can read on (`CameraPath.covering`): the
    schedules as given, the run's fps and picture size, and how many frames were read."""

    schedules: tuple            # ((key, schedule), ...) in DEFORUM_2D_KEYS order
    fps: float
    width: int
    height: int
    frames: int

    def to_dict(self) -> dict:
        return {"schedules": {k: v if isinstance(v, str) else float(v) for k, v in self.schedules},
                "fps": self.fps, "width": self.width, "height": self.height, "frames": self.frames}


def _keyframe(item, prefix: str) -> Keyframe:
    if isinstance(item, Keyframe):
        return item
    if not isinstance(item, dict):
        raise InvalidInput(prefix, item, "must be a Keyframe or a dict with time and any of "
                                         + ", ".join(AXES) + ", easing")
    unknown = sorted(set(item) - {f.name for f in fields(Keyframe)})
    if unknown:
        raise InvalidInput(f"{prefix}.{unknown[0]}", item[unknown[0]],
                           "is not a keyframe field; allowed: time, " + ", ".join(AXES) + ", easing")
    if "time" not in item:
        raise InvalidInput(f"{prefix}.time", None, "is required (seconds from the start of the clip)")
    try:
        return Keyframe(**item)
    except InvalidInput as exc:
        raise _renamed(exc, "keyframe", prefix) from None


def _out_of_range(x: np.ndarray, y: np.ndarray, zoom: np.ndarray, roll: np.ndarray):
    """The first (quantity, frame) where per-frame camera values leave what a path can hold
    (offsets ±MAX_OFFSET, roll ±MAX_ROLL, zoom 1/MAX_ZOOM…MAX_ZOOM; NaN counts as out), or
    None. Deforum imports and clip-length checks both ask it, each naming what the user gave."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = {"zoom": ~(np.abs(np.log(zoom)) <= math.log(MAX_ZOOM)), "roll": ~(np.abs(roll) <= MAX_ROLL),
               "x": ~(np.abs(x) <= MAX_OFFSET), "y": ~(np.abs(y) <= MAX_OFFSET)}
    for name, bad in out.items():
        if bad.any():
            return name, int(np.flatnonzero(bad)[0])
    return None


_LIMITS = {"zoom": f"within 1/{MAX_ZOOM:g}…{MAX_ZOOM:g}×", "roll": f"within ±{MAX_ROLL:g}°",
           "x": f"within ±{MAX_OFFSET:g} frame heights", "y": f"within ±{MAX_OFFSET:g} frame heights"}


def _check_deforum_range(cam: np.ndarray, schedules: dict, field: str, hint: str | None = None) -> None:
    """Deforum's per-frame warps compound: name the schedule and the frame where the camera
    leaves the range a path can hold, instead of a keyframe value nobody typed. Most often
    the run is longer than the clip (120 frames, Deforum's default max_frames); `hint`
    replaces that advice where the run was read for the clip's own length."""
    found = _out_of_range(cam[:, 0], cam[:, 1], cam[:, 2], cam[:, 3])
    if found is None:
        return
    name, j = found
    key = {"zoom": "zoom", "roll": "angle", "x": "translation_x", "y": "translation_y"}[name]
    reached = cam[j, {"x": 0, "y": 1, "zoom": 2, "roll": 3}[name]]
    raise InvalidInput(f"{field}.{key}", schedules.get(key, "(not given)"),
                       f"the camera {name} it adds up to must stay {_LIMITS[name]}; it reaches {reached:.4g} "
                       f"at frame {j}",
                       hint or f"{len(cam)} frames were evaluated; give the run's length as the clip's "
                       f"(e.g. 'max_frames: 30; …' for 2 s at 15 fps), or move less per frame.")


def _check_run_seconds(frames: int, schedules: dict, fps: float, n_frames, field: str) -> None:
    """A run's frames become keyframes in seconds, which a path holds up to MAX_SECONDS: name
    the schedule whose late keyframe made the run that long (or the length given), not the
    keyframe time it would have made."""
    if (frames - 1) / fps <= MAX_SECONDS:
        return
    most = math.floor(MAX_SECONDS * fps + 1e-9) + 1
    if n_frames is not None:
        raise InvalidInput(f"{field}.n_frames", n_frames, f"must be at most {most} frames at {fps:g} fps "
                                                          f"(a run of at most {MAX_SECONDS:g} s)")
    key, last = max(((k, _schedule.parse_schedule(v)[-1].frame) for k, v in schedules.items()),
                    key=lambda item: item[1])
    raise InvalidInput(f"{field}.{key}", schedules[key], f"must keep its keyframes within the first "
                       f"{MAX_SECONDS:g} s of the run, frames 0 … {most - 1} at {fps:g} fps; it has one at frame "
                       f"{last} ({last / fps:g} s)",
                       "Or give the run's length as max_frames: keyframes at or past it are ignored, as in "
                       "Deforum.")


@dataclass(frozen=True, repr=False)
class CameraPath:
    """An immutable camera move. Make one with `preset`, `from_axes`, `from_deforum`,
    `from_dict` or from keyframes; read it with `per_frame` (what engines consume)."""

    keyframes: tuple[Keyframe, ...] = (Keyframe(0.0),)
    speed: Speed = Speed()
    strength: float = 1.0                 # scales the whole move; 0 = static, 2 = twice as much
    duration: float | None = None         # the clip length it was drawn for; keyframes must fit in it
    after_last: str = "hold"              # or "continue": keep the last segment's speed
    label: str | None = field(default=None, compare=False)        # how describe() names it
    preset_name: str | None = field(default=None, compare=False)  # set by preset(): compact JSON
    intensity: float | None = field(default=None, compare=False)
    deforum: DeforumRun | None = None     # set by from_deforum without n_frames: see `covering`

    def __post_init__(self):
        set_ = object.__setattr__
        frames = (self.keyframes,) if isinstance(self.keyframes, (Keyframe, dict)) else self.keyframes
        if not isinstance(frames, (list, tuple)) or not frames or len(frames) > MAX_KEYFRAMES:
            raise InvalidInput("camera.keyframes", self.keyframes,
                               f"must be a list of 1 to {MAX_KEYFRAMES} keyframes (Keyframe or dict)")
        frames = tuple(_keyframe(item, f"camera.keyframes[{i}]") for i, item in enumerate(frames))
        for i in range(1, len(frames)):
            if frames[i].time <= frames[i - 1].time:
                raise InvalidInput(f"camera.keyframes[{i}].time", frames[i].time,
                                   f"must be later than keyframes[{i - 1}].time = {frames[i - 1].time:g} s "
                                   "(keyframes go in time order, one per moment)")
        set_(self, "keyframes", frames)
        if self.duration is not None:
            set_(self, "duration", _number("camera.duration", self.duration, low=0, low_inclusive=False,
                                           high=MAX_SECONDS))
            for i, kf in enumerate(frames):
                if kf.time > self.duration + 1e-9:
                    raise InvalidInput(f"camera.keyframes[{i}].time", kf.time,
                                       f"must lie within the clip, 0 … {self.duration:g} s")
        speed = self.speed
        if isinstance(speed, dict):
            unknown = sorted(set(speed) - set(AXES))
            if unknown:
                raise InvalidInput(f"camera.speed.{unknown[0]}", speed[unknown[0]],
                                   "is not an axis; allowed: " + ", ".join(AXES))
            try:
                speed = Speed(**speed)
            except InvalidInput as exc:
                raise _renamed(exc, "speed", "camera.speed") from None
        if not isinstance(speed, Speed):
            raise InvalidInput("camera.speed", speed, "must be a Speed or a dict of per-second speeds")
        set_(self, "speed", speed)
        set_(self, "strength", _number("camera.strength", self.strength, low=0, high=10))
        if self.after_last not in AFTER_LAST:
            raise InvalidInput("camera.after_last", self.after_last, "must be one of " + ", ".join(AFTER_LAST))
        if self.label is not None and not isinstance(self.label, str):
            raise InvalidInput("camera.label", self.label, "must be text or None")

    # ---- ways to make one -------------------------------------------------------------
    @classmethod
    def static(cls) -> CameraPath:
        return cls.preset("static")

    @classmethod
    def preset(cls, name: str, intensity: float = 1.0) -> CameraPath:
        """A named constant-speed move (see `presets.PRESETS`); intensity 1 = normal speed."""
        name, intensity = _presets.check_preset(name, intensity)
        speed = Speed(**{axis: v * intensity for axis, v in _presets.PRESETS[name].items()})
        return cls(speed=speed, preset_name=name, intensity=intensity)

    @classmethod
    def from_axes(cls, truck=0, pedestal=0, pan=0, tilt=0, roll=0, zoom=0, seconds=None,
                  strength=1.0) -> CameraPath:
        """Slider values from -10 to +10 per axis, as commercial tools show them.

        ±5 moves at the speed of the matching preset at intensity 1 (pan=-5 is pan_left,
        zoom=+5 is zoom_in), ±10 twice as fast; + = right, up, clockwise, in. With
        `seconds` the move lasts that long and then holds; without, it lasts the clip.
        """
        given = {"truck": truck, "pedestal": pedestal, "pan": pan, "tilt": tilt, "roll": roll, "zoom": zoom}
        speeds = {}
        for axis, value in given.items():
            value = _number(f"camera.{axis}", value, low=-UI_RANGE, high=UI_RANGE)
            speeds[axis] = value / UI_PER_INTENSITY * _presets.SPEED_AT_INTENSITY_1[_UI_SPEED[axis]]
        label = ", ".join(f"{axis} {v:+g}" for axis, v in given.items() if v) or "static"
        if seconds is None:
            return cls(speed=Speed(**speeds), strength=strength, label=label)
        seconds = _number("camera.seconds", seconds, low=0, low_inclusive=False, high=MAX_SECONDS)
        if abs(speeds["zoom"]) * seconds > math.log(MAX_ZOOM):      # e^… would pass the zoom limit
            raise InvalidInput("camera.seconds", seconds, f"must be at most "
                               f"{math.log(MAX_ZOOM) / abs(speeds['zoom']):.4g} s at zoom {zoom:+g}: "
                               f"longer, the zoom would pass {MAX_ZOOM:g}×")
        end = {axis: v * seconds for axis, v in speeds.items()}
        end["zoom"] = math.exp(end["zoom"])
        return cls(keyframes=(Keyframe(0.0), Keyframe(seconds, **end)), strength=strength,
                   label=f"{label} for {seconds:g} s")

    @classmethod
    def from_deforum(cls, schedules: dict, fps: float, width: int, height: int,
                     n_frames: int | None = None, field: str = "camera", *,
                     hint: str | None = None) -> CameraPath:
        """Deforum 2D schedules {zoom, angle, translation_x, translation_y} -> a path.

        Deforum's values are per frame at `fps`; translations are pixels of a
        width × height picture. They are evaluated for `n_frames` (the run's max_frames)
        and become one keyframe per frame where the motion bends; after that the last
        frame's speed continues, as Deforum holds the last value. Without `n_frames` they
        are evaluated for Deforum's default max_frames, 120, or up to the last keyframe if
        that is later, and the path keeps the schedules (`deforum`): a clip longer than that
        reads them on to its own end (`covering`, which engines apply) instead of going on
        at the last frame's speed, which would stop a formula and straighten a move that
        zooms or turns while it travels. Sign conventions: see `schedule.py`.
        `hint`: what a refusal of a run that leaves the range a path holds advises, where the
        caller knows better where `n_frames` came from (the camera pad: the clip's length).
        """
        fps, width, height = _schedule.check_deforum_settings(fps, width, height, field)
        # the width has no effect: Deforum's warps are about the centre, translations in pixels
        cam = _schedule.deforum_camera(schedules, height, n_frames, field)
        _check_run_seconds(len(cam), schedules, fps, n_frames, field)
        if hint is None and n_frames is not None:       # the length was given: no max_frames advice
            hint = (f"{len(cam)} frames were evaluated, the run's length given (max_frames); move less "
                    "per frame, or give a shorter run.")
        _check_deforum_range(cam, schedules, field, hint)
        given = tuple((key, schedules[key]) for key in _schedule.DEFORUM_2D_KEYS if key in schedules)
        path = cls._from_positions(cam, fps, label=f"{_DEFORUM_LABEL}{', '.join(k for k, _ in given)}) at {fps:g} fps")
        if n_frames is not None:
            return path
        return replace(path, deforum=DeforumRun(given, fps, width, height, len(cam)))

    def covering(self, n_frames: int, fps: float, field: str = "camera") -> CameraPath:
        """This path for a clip of n_frames at fps. A Deforum import without max_frames
        (`deforum`) that holds fewer frames of its run than the clip lasts is read again,
        for a run as long as the clip: formulas go on being evaluated (`max_f` becomes the
        clip's last Deforum frame, as max_frames would make it) and each frame's warp
        compounds on. Any other path, or one that already covers the clip, is itself."""
        run = self.deforum
        if run is None:
            return self
        n = int(_number("n_frames", n_frames, low=1, high=1_000_000, integer=True))
        fps = _number("fps", fps, low=0, low_inclusive=False)
        needed = math.ceil((n - 1) / fps * run.fps - 1e-9) + 1      # the run's frames to the clip's last
        if needed <= run.frames:
            return self
        # per_frame reads the run over every length it is asked for (a pad redraws many
        # times a second): the last run read is kept, as reading one costs ~26 ms per 300 frames
        cached = self.__dict__.get("_covered")
        if cached is not None and cached[0] == needed:
            return cached[1]
        schedules = dict(run.schedules)
        cam = _schedule.deforum_camera(schedules, run.height, needed, field)
        _check_deforum_range(cam, schedules, field, hint=(
            f"The clip ({n} frames at {fps:g} fps) needs {needed} frames of the Deforum run at "
            f"{run.fps:g} fps; move less per frame, or make the clip shorter."))
        path = self._from_positions(cam, run.fps, label=self.label)
        path = replace(path, strength=self.strength, deforum=replace(run, frames=needed))
        object.__setattr__(self, "_covered", (needed, path))      # not a field: equality ignores it
        return path

    @classmethod
    def _from_positions(cls, cam: np.ndarray, fps: float, label: str) -> CameraPath:
        """Per-frame [x, y, zoom, roll] -> pan/tilt/roll/zoom keyframes where the motion
        bends; after the last frame the last frame's speed continues."""
        t = np.arange(len(cam)) / fps
        track = np.stack([cam[:, 0], cam[:, 1], cam[:, 3], np.log(cam[:, 2])], axis=1)
        track[np.abs(track) < _schedule.PATH_TOLERANCE] = 0.0       # float noise, far below a pixel
        kfs = tuple(Keyframe(float(t[j]), pan=track[j, 0], tilt=track[j, 1], roll=track[j, 2],
                             zoom=math.exp(track[j, 3]))
                    for j in _schedule.bends(track, _schedule.PATH_TOLERANCE))
        return cls(keyframes=kfs, after_last="continue", label=label)

    def from_time(self, start: float, n_frames: int, fps: float) -> CameraPath:
        """The move as it goes on from `start` seconds in, over n_frames at fps: the path a
        continuation follows whose first frame is the clip's frame at `start` (engines read
        a path from its frame 0). A constant-speed path (a preset, a drift) is the same at
        any time and comes back as it is; any other is read at those frames and kept as
        keyframes where it bends (linear between: exact at every frame), going on after the
        last with the last frames' speed, as the path itself does or holds there."""
        start = float(_number("start", start, low=0))
        if start == 0 or (len(self.keyframes) == 1 and self.deforum is None):
            return self
        n = int(_number("n_frames", n_frames, low=1, high=1_000_000, integer=True))
        fps = _number("fps", fps, low=0, low_inclusive=False)
        t = start + np.arange(max(n, 2), dtype=np.float64) / fps
        covered = self.covering(math.ceil(t[-1] * fps - 1e-9) + 1, fps)
        track = covered._positions(t) - covered._positions(t[:1])          # log-zoom in column 5
        track[np.abs(track) < _schedule.PATH_TOLERANCE] = 0.0
        kfs = tuple(Keyframe(j / fps, *(float(v) for v in track[j, :5]), zoom=math.exp(track[j, 5]))
                    for j in _schedule.bends(track, _schedule.PATH_TOLERANCE))
        base = self.label or replace(self, strength=1.0).describe()
        return CameraPath(keyframes=kfs, strength=self.strength, after_last="continue",
                          label=f"{base} (from {start:g} s)")

    def with_strength(self, strength: float) -> CameraPath:
        return replace(self, strength=strength)

    # ---- evaluation -------------------------------------------------------------------
    def _positions(self, t: np.ndarray) -> np.ndarray:
        """Absolute axis values (len(t), 6) at times t; the zoom column is log-zoom."""
        kfs = self.keyframes
        times = np.array([k.time for k in kfs])
        values = np.array([[k.truck, k.pedestal, k.pan, k.tilt, k.roll, math.log(k.zoom)] for k in kfs])
        if len(kfs) == 1:
            out = np.repeat(values, len(t), axis=0)
        else:
            seg = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(kfs) - 2)
            u = np.clip((t - times[seg]) / (times[seg + 1] - times[seg]), 0.0, 1.0)
            codes = np.array([_EASING_NAMES.index(k.easing) for k in kfs])[seg]
            eased = np.empty_like(u)
            for code in np.unique(codes):
                mask = codes == code
                eased[mask] = EASINGS[_EASING_NAMES[code]](u[mask])
            out = values[seg] + eased[:, None] * (values[seg + 1] - values[seg])
            if self.after_last == "continue":
                slope = (values[-1] - values[-2]) / (times[-1] - times[-2])
                out += np.maximum(t - times[-1], 0.0)[:, None] * slope[None, :]
        return out + t[:, None] * self.speed.as_array()[None, :]

    def check_over(self, n_frames: int, fps: float, field: str = "camera", from_start: bool = True) -> None:
        """Refuse a path that does not fit a clip of n_frames at fps. Engines call it once the
        clip's length is known. A drift keeps going, so a zoom speed that is fine for 2 s can
        reach 1e260× (or inf) by the end of a minute. With `from_start` (a clip that starts
        the path, not an extension, whose path also runs over the frames it continues), a
        keyframe or a drawn-for duration past the clip's end is refused too: that part of
        the move would never be seen; a path that goes on after its last keyframe
        (after_last='continue') too, unless it is a Deforum import: a Deforum run, read for
        120 frames or for the max_frames given, runs on by design and is read over the clip
        whatever its length."""
        if from_start and not self._is_deforum_import():
            end = (n_frames + 0.5) / fps + 1e-9      # seconds typed round to whole frames
            for i, k in enumerate(self.keyframes):
                if k.time > end:
                    raise InvalidInput(f"{field}.keyframes[{i}].time", k.time, f"must lie within the "
                                       f"clip, 0 … {n_frames / fps:g} s ({n_frames} frames at {fps:g} fps)",
                                       "Make the clip longer or the path shorter: the rest would not be seen.")
            if self.duration is not None and self.duration > end:
                raise InvalidInput(f"{field}.duration", self.duration, f"must be at most the clip's "
                                   f"{n_frames / fps:g} s: the path was drawn for a longer clip",
                                   "Draw it for this clip's length, or make the clip longer.")
        path = self.covering(n_frames, fps, field)     # a Deforum run too long for the clip: by key
        with np.errstate(over="ignore", invalid="ignore"):
            cam = path.per_frame(n_frames, fps)
        found = _out_of_range(cam[:, 0], cam[:, 1], cam[:, 2], cam[:, 3])
        if found is not None:
            name, j = found
            raise InvalidInput(field, self.describe(), f"must keep its {name} {_LIMITS[name]} over the "
                               f"clip ({n_frames} frames at {fps:g} fps); it leaves it at frame {j}",
                               "Lower its speed or make the clip shorter.")

    def _is_deforum_import(self) -> bool:
        """Made by from_deforum (or read back from its JSON): schedules kept (`deforum`), or
        the keyframes of a run read for the max_frames given, labelled so by from_deforum."""
        return self.after_last == "continue" and (
            self.deforum is not None or (self.label or "").startswith(_DEFORUM_LABEL))

    def per_frame_axes(self, n_frames: int, fps: float) -> np.ndarray:
        """(n_frames, 6) float64 in `AXES` order, relative to frame 0 and scaled by
        strength: truck, pedestal, pan, tilt (frame heights), roll (°), zoom (factor).
        A path that keeps its Deforum schedules is read over the run as long as the frames
        asked for (`covering`), as engines render it."""
        n = int(_number("n_frames", n_frames, low=1, high=1_000_000, integer=True))
        fps = _number("fps", fps, low=0, low_inclusive=False)
        covered = self.covering(n, fps)
        if covered is not self:             # it covers n frames: its own covering is itself
            return covered.per_frame_axes(n, fps)
        t = np.arange(n, dtype=np.float64) / fps
        rel = self.strength * (self._positions(t) - self._positions(np.zeros(1)))
        rel[:, 5] = np.exp(rel[:, 5])
        return rel

    def per_frame(self, n_frames: int, fps: float) -> np.ndarray:
        """(n_frames, 4) float64 [x, y, zoom, roll], exactly as `toyworld.camera_for_move`."""
        axes = self.per_frame_axes(n_frames, fps)
        return np.stack([axes[:, 0] + axes[:, 2], axes[:, 1] + axes[:, 3], axes[:, 5], axes[:, 4]], axis=1)

    # ---- Deforum and JSON ------------------------------------------------------------
    def to_deforum(self, n_frames: int, fps: float, width: int, height: int) -> dict[str, str]:
        """Deforum 2D schedule strings reproducing this path over n_frames at fps (a path
        that keeps its Deforum schedules: the run read over those frames, as rendered)."""
        fps, width, height = _schedule.check_deforum_settings(fps, width, height, "schedule")
        text = self._deforum_text(n_frames, fps, height)
        # The rounding makes export → import → export the same text nearly always, but not
        # always: a slow drift whose keyframes are chosen within a step of a straight line can
        # be chosen differently once read back (hypothesis found one: a tilt with a roll, its
        # translation_y 0.0338541662 → …646 over 21 frames). So the text is read back and
        # written again until it no longer changes (one trip, two at most, in practice):
        # the text returned is the one a re-export writes.
        for _ in range(6):
            again = CameraPath.from_deforum(text, fps, width, height, n_frames=n_frames)._deforum_text(
                n_frames, fps, height)
            if again == text:
                break
            text = again
        return text

    def _deforum_text(self, n_frames: int, fps: float, height: int) -> dict[str, str]:
        cam = self.per_frame(n_frames, fps)
        per_frame = _schedule.camera_to_deforum(cam, height)
        steps = _schedule.round_trip_steps(cam, per_frame, height)
        return {key: _schedule.format_schedule(v, step=steps[key], first_repeats=True)
                for key, v in per_frame.items()}

    def to_dict(self) -> dict:
        if self.preset_name is not None and \
                self == CameraPath.preset(self.preset_name, self.intensity).with_strength(self.strength):
            out = {"runway_nb_camera": SCHEMA_VERSION, "preset": self.preset_name, "intensity": self.intensity}
        elif self.deforum is not None:       # the schedules, not the keyframes read from them
            out = {"runway_nb_camera": SCHEMA_VERSION, "deforum": self.deforum.to_dict()}
        else:
            out = {"runway_nb_camera": SCHEMA_VERSION, "keyframes": [k.to_dict() for k in self.keyframes]}
            if self.speed:
                out["speed"] = self.speed.to_dict()
            if self.duration is not None:
                out["duration"] = self.duration
            if self.after_last != "hold":
                out["after_last"] = self.after_last
            if self.label is not None:
                out["label"] = self.label
        if self.strength != 1.0:
            out["strength"] = self.strength
        return out

    @classmethod
    def from_dict(cls, data, field: str = "camera") -> CameraPath:
        if not isinstance(data, dict):
            raise InvalidInput(field, data, "must be a dict as CameraPath.to_dict() writes it")
        data = dict(data)
        version = data.pop("runway_nb_camera", SCHEMA_VERSION)
        if version != SCHEMA_VERSION:
            raise InvalidInput(f"{field}.runway_nb_camera", version, f"this runway_nb reads version {SCHEMA_VERSION}")
        allowed = ({"preset", "intensity", "strength"} if "preset" in data
                   else {"deforum", "strength"} if "deforum" in data
                   else {"keyframes", "speed", "strength", "duration", "after_last", "label"})
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise InvalidInput(f"{field}.{unknown[0]}", data[unknown[0]],
                               "is not a camera path field; allowed: " + ", ".join(sorted(allowed)))
        try:
            if "preset" in data:
                path = cls.preset(data["preset"], data.get("intensity", 1.0))
                return path.with_strength(data.get("strength", 1.0))
            if "deforum" in data:
                return cls._from_deforum_run(data["deforum"], f"{field}.deforum").with_strength(
                    data.get("strength", 1.0))
            return cls(**data)
        except InvalidInput as exc:
            raise _renamed(exc, "camera", field) from None

    @classmethod
    def _from_deforum_run(cls, data, field: str) -> CameraPath:
        """`from_dict` of DeforumRun.to_dict(): the same schedules read again, as far."""
        keys = {"schedules", "fps", "width", "height", "frames"}
        if not isinstance(data, dict) or set(data) != keys:
            raise InvalidInput(field, data, "must be a dict with " + ", ".join(sorted(keys)) +
                               " (as CameraPath.to_dict() writes it)")
        if not isinstance(data["schedules"], dict) or not data["schedules"]:
            raise InvalidInput(f"{field}.schedules", data["schedules"], "must be a dict of Deforum schedules")
        path = cls.from_deforum(data["schedules"], data["fps"], data["width"], data["height"], field=field)
        frames = int(check_number(f"{field}.frames", data["frames"], low=2, high=1_000_000, integer=True))
        return path.covering(frames, path.deforum.fps, field)

    # ---- display ----------------------------------------------------------------------
    def describe(self) -> str:
        if self.preset_name is not None and self.intensity is not None:
            text = self.preset_name if self.preset_name == "static" else f"{self.preset_name} ×{self.intensity:g}"
        elif self.label:
            text = self.label
        elif len(self.keyframes) == 1 and not self.speed:
            text = "static"
        else:
            n = len(self.keyframes)
            text = f"custom path, {n} keyframe{'s' if n != 1 else ''}" + (" + drift" if self.speed else "")
        return text + (f", strength {self.strength:g}" if self.strength != 1.0 else "")

    def __repr__(self) -> str:
        return f"CameraPath({self.describe()!r})"

    def _repr_svg_(self) -> str:
        return _svg(self)

    def _repr_html_(self) -> str:
        return (f"<figure class='runway-camera' style='margin:0'>{_svg(self)}"
                f"<figcaption style='font:12px sans-serif'>{html.escape(self.describe())}</figcaption></figure>")


def _svg(path: CameraPath, size: int = 120) -> str:
    """A small two-panel plot: the frame at five moments (left), the axes over time (right)."""
    horizon = path.duration or max(path.keyframes[-1].time, 2.0)
    cam = path.per_frame(49, 48 / horizon)
    corners = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]])
    outlines = []
    for i in (0, 12, 24, 36, 48):
        x, y, zoom, roll = cam[i]
        th = np.deg2rad(-roll)
        rot = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
        outlines.append(np.array([x, y]) + corners @ rot.T / zoom)
    pts = np.concatenate(outlines + [cam[:, :2]])
    lo, span = pts.min(axis=0), max(float(np.ptp(pts, axis=0).max()), 1e-9)

    def frame_xy(p):   # world -> left panel pixels (y flipped)
        q = 8 + (p - lo) / span * (size - 16)
        return f"{q[0]:.1f},{size - q[1]:.1f}"

    parts = []
    for i, outline in enumerate(outlines):
        style = ("stroke='#999' stroke-dasharray='3 2'" if i == 0 else
                 "stroke='#d33' stroke-width='1.5'" if i == 4 else "stroke='#e9a' stroke-opacity='0.6'")
        parts.append(f"<polygon points='{' '.join(frame_xy(p) for p in outline)}' fill='none' {style}/>")
    parts.append(f"<polyline points='{' '.join(frame_xy(p) for p in cam[:, :2])}' fill='none' stroke='#333'/>")
    curves = {"x": cam[:, 0], "y": cam[:, 1], "ln zoom": np.log(cam[:, 2]), "roll/45°": cam[:, 3] / 45}
    scale = max(max(float(np.abs(c).max()) for c in curves.values()), 0.05)
    left, width, mid = size + 10, 2 * size, size / 2
    parts.append(f"<line x1='{left}' y1='{mid}' x2='{left + width}' y2='{mid}' stroke='#ccc'/>")
    for j, ((name, values), colour) in enumerate(zip(curves.items(), ("#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd"))):
        xy = " ".join(f"{left + k / 48 * width:.1f},{mid - v / scale * (mid - 12):.1f}" for k, v in enumerate(values))
        parts.append(f"<polyline points='{xy}' fill='none' stroke='{colour}' stroke-width='1.5'/>")
        parts.append(f"<text x='{left + 4 + j * 52}' y='{size - 2}' fill='{colour}'>{html.escape(name)}</text>")
    parts.append(f"<text x='{left + width - 4}' y='10' text-anchor='end' fill='#666'>0 … {horizon:g} s</text>")
    return (f"<svg xmlns='http://www.w3.org/2000/svg' width='{3 * size + 10}' height='{size}' "
            f"font-family='sans-serif' font-size='9'><title>{html.escape(path.describe())}</title>"
            + "".join(parts) + "</svg>")
