"""Record a camera move from pointer gestures: what the camera pad *means*, without a canvas.

`runway_nb.ui.camera_pad` only forwards canvas events here and draws what this class
reports, so every gesture is testable from plain Python (numpy only, no widgets):

    pad = CameraPadLogic(duration=2.0, width=256, height=256)
    pad.pointer_down(128, 128, t=0.0)
    pad.pointer_move(192, 128, t=0.5)
    pad.pointer_up(192, 128, t=1.0)          # -> a CameraPath that pans right
    pad.path.per_frame(16, 8)

Pad pixels -> world units. The pad shows the first frame filling the pad (W × H
pixels, y down). The camera path is in frame heights with y up (see
`runway_nb.camera.path`), so a drag of (dx, dy) pixels moves the camera by
(dx / H, -dy / H): dragging one frame width sideways moves it `aspect` = W / H units.
Film convention: you drag the *camera frame*, so a drag to the right means the camera
moves right (x increases) and the scene slides left in the clip.

Time. The drag's own timing is kept: its first and last events map to 0 and the
clip's duration, so slowing down mid-drag slows the camera there. Events carry `t`
in seconds; without it the event index is used (a uniform speed along the events).

Gestures on the camera pad:
    drag anywhere           draws a pan (or truck, `drag_axis`) path, replacing the old one
    wheel                   zooms the target keyframe (up = in, ×1.1 per 100 units of delta)
    drag the corner handle  zooms the target keyframe (outline bigger = zoom out)
    turn the round handle   rolls the target keyframe (clockwise on screen = + roll)
The target keyframe is the selected one, else the keyframe at the end of the clip
(made when missing). Dense pointer streams are thinned twice: while dragging, a point
is kept only every `min_px` pixels (or after a pause of `hold_s`), and at the end the
keyframes are simplified (Ramer–Douglas–Peucker, `tolerance_px`) to at most
`max_keyframes`, so a one-second scribble does not make 500 keyframes (that math is
`runway_nb.camera.stroke`).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from ..errors import InvalidInput, check_number
from . import as_camera_path
from .path import EASINGS, CameraPath, Keyframe
from .presets import MAX_INTENSITY, check_preset
from .schedule import (
    DEFORUM_DEFAULTS,
    check_deforum_settings,
    schedules_from_text,
    schedules_to_text,
    split_deforum,
)
from .stroke import drag_to_keyframes, keyframe_from_row, keyframe_values
from .stroke import rdp as rdp      # re-exported: the brush pad (ui/pad_logic.py) imports it from here

STATE_VERSION = 1
ZOOM_STEP = 1.1            # zoom factor per wheel notch (a delta of 100, as browsers send)
ZOOM_LIMITS = (1 / 16, 16.0)
HANDLE_RADIUS = 9.0        # pixels within which a press grabs a handle
ROLL_ARM = 18.0            # the roll knob sits this far inside the outline, below its top edge
ZOOM_INSET = 8.0           # the zoom handle sits this far inside the bottom-right corner
UNDO_DEPTH = 100
DRAG_AXES = ("pan", "truck")


def _duration(value) -> float:
    """A clip length in seconds, on the keyframes' 4-decimal time grid (a length such as
    1.23457 s would otherwise put the last keyframe, rounded to 1.2346, outside the clip)."""
    seconds = float(check_number("duration", value, low=0, low_inclusive=False, high=3600))
    return max(round(seconds, 4), 1e-4)


def check_point(x, y, field: str = "pointer") -> tuple[float, float]:
    """A pointer event's position (pad pixels) as two floats; NaN, infinity or not a number is
    refused by name (the pads stored it, and drew or built a path from it later)."""
    try:
        return (float(check_number(f"{field}.x", x)), float(check_number(f"{field}.y", y)))
    except InvalidInput as exc:
        raise InvalidInput(exc.field, exc.value, exc.allowed + " (a position on the pad, in pixels)") from None


class CameraPadLogic:
    """Pointer gestures, presets and timeline edits -> a `CameraPath` (see the module doc)."""

    def __init__(self, path=None, *, duration: float = 2.0, width: int = 256, height: int = 256,
                 drag_axis: str = "pan", min_px: float = 3.0, hold_s: float = 0.15,
                 tolerance_px: float = 1.5, max_keyframes: int = 24):
        self.width = int(check_number("width", width, low=16, high=4096, integer=True))
        self.height = int(check_number("height", height, low=16, high=4096, integer=True))
        self.min_px = float(check_number("min_px", min_px, low=0))
        self.hold_s = float(check_number("hold_s", hold_s, low=0))
        # simplifying grows the tolerance ×1.5 until few enough keyframes are left: from 0 it never would
        self.tolerance_px = float(check_number("tolerance_px", tolerance_px, low=0.01))
        self.max_keyframes = int(check_number("max_keyframes", max_keyframes, low=2, high=1000, integer=True))
        self.duration = _duration(duration)
        self.drag_axis = drag_axis
        self.preset: str | None = None
        self.intensity = 1.0
        self.selected: int | None = None
        # the Deforum run of the last schedule import or export (its fps and picture size)
        self.deforum_settings = {"fps": DEFORUM_DEFAULTS["fps"], "width": DEFORUM_DEFAULTS["width"],
                                 "height": DEFORUM_DEFAULTS["height"]}
        self._path = CameraPath()
        self._undo: list[dict] = []
        self._gesture: dict | None = None
        self._stroke: list[tuple[float, float, float]] = []      # kept (x, y, t) of the drag
        self._events, self._timed = 0, False
        if path is not None:
            self.set_path(path, remember=False)

    # ---- the result ------------------------------------------------------------------
    @property
    def path(self) -> CameraPath:
        return self._path

    def set_path(self, path, remember: bool = True) -> CameraPath:
        """Make `path` the pad's path as it is. One that keeps Deforum schedules (a clip
        restored in the Studio) stays so, and a Shot made from the pad is that clip's, until
        an edit: drags, handles, the wheel and timeline edits build keyframes (`_build`) from
        the keyframes it was read to, and a new clip length stretches them (`set_duration`)."""
        path = as_camera_path(path)
        if remember:
            self._remember()
        self._path, self.selected = path, None
        self.preset = path.preset_name
        if path.intensity is not None:
            self.intensity = path.intensity
        last = path.keyframes[-1].time
        if path.duration is not None:
            self.duration = _duration(path.duration)
        elif last > self.duration:
            self.duration = last
        return path

    def set_duration(self, duration: float) -> CameraPath:
        """Follow a new clip length: a drawn path stretches in time, a preset's drift keeps
        its speed (so it travels further in a longer clip). A path that keeps Deforum
        schedules stays as it is while the length does not change; a new length stretches
        the keyframes it was read to, as it does an imported schedule's."""
        duration = _duration(duration)
        path = self._path
        if path.deforum is not None:
            if duration == self.duration:
                return path
            path = replace(path, deforum=None)
        kfs = path.keyframes
        if len(kfs) > 1 or path.duration is not None:
            data = path.to_dict()
            for k in data["keyframes"]:
                k["time"] = round(k["time"] * duration / self.duration, 4)
            self.set_path({**data, "duration": duration}, remember=False)   # the clip's, not an edit
        self.duration = duration
        return self._path

    @property
    def drag_axis(self) -> str:
        return self._drag_axis

    @drag_axis.setter
    def drag_axis(self, value: str):
        if value not in DRAG_AXES:
            raise InvalidInput("drag_axis", value, "must be 'pan' (turn the camera) or 'truck' (move it)")
        self._drag_axis = value

    def _build(self, kfs) -> CameraPath:
        """A drawn path: keyframes plus the current drift (from a preset), fit to the clip."""
        return CameraPath(keyframes=tuple(kfs), speed=self._path.speed, strength=self._path.strength,
                          duration=self.duration)

    # ---- geometry: world (frame heights, y up, frame-0 centre = 0) <-> pad pixels ----
    def to_pad(self, x, y):
        return self.width / 2 + np.asarray(x) * self.height, self.height / 2 - np.asarray(y) * self.height

    def camera_at(self, t: float) -> np.ndarray:
        """[x, y, zoom, roll] of the camera at time t (seconds), as engines will see it."""
        if t <= 0:
            return np.array([0.0, 0.0, 1.0, 0.0])
        # a path that keeps Deforum schedules: the run read over the pad's clip, as `trace` reads it
        path = self._path.covering(2, 1.0 / self.duration)
        return path.per_frame(2, 1.0 / t)[1]

    def outline(self, t: float) -> np.ndarray:
        """(4, 2) pad pixels of the camera frame at time t: top-left, top-right, bottom-right,
        bottom-left as seen on screen (a clockwise roll turns it clockwise)."""
        x, y, zoom, roll = self.camera_at(t)
        half = np.array([[-1, 1], [1, 1], [1, -1], [-1, -1]]) * [self.width / self.height / 2, 0.5]
        th = math.radians(-roll)
        rot = np.array([[math.cos(th), -math.sin(th)], [math.sin(th), math.cos(th)]])
        world = np.array([x, y]) + half @ rot.T / zoom
        return np.stack(self.to_pad(world[:, 0], world[:, 1]), axis=1)

    def trace(self, n: int = 48) -> np.ndarray:
        """(n, 2) pad pixels of the frame centre over the clip."""
        cam = self._path.per_frame(n, (n - 1) / self.duration)
        return np.stack(self.to_pad(cam[:, 0], cam[:, 1]), axis=1)

    def target_time(self) -> float:
        return self._path.keyframes[self.selected].time if self.selected is not None else self.duration

    def handles(self) -> dict[str, tuple[float, float]]:
        """Where the zoom handle (a corner) and the roll handle (a knob) of the target are."""
        box = self.outline(self.target_time())
        centre = box.mean(axis=0)

        def inward(point, by):
            away = point - centre
            return tuple(float(v) for v in point - by * away / max(float(np.linalg.norm(away)), 1e-9))

        return {"zoom": inward(box[2], ZOOM_INSET), "roll": inward((box[0] + box[1]) / 2, ROLL_ARM)}

    @property
    def gesture(self) -> str | None:
        """The gesture in progress: 'path', 'zoom', 'roll', or None."""
        return None if self._gesture is None else self._gesture["kind"]

    # ---- pointer gestures ---------------------------------------------------------------
    def pointer_down(self, x: float, y: float, t: float | None = None) -> str:
        """Start a gesture; returns which: 'zoom', 'roll' (a handle was hit) or 'path'."""
        x, y = check_point(x, y)
        self._events = 0
        t = self._time(t)
        kind = "path"
        for name, (hx, hy) in self.handles().items():
            if math.hypot(x - hx, y - hy) <= HANDLE_RADIUS:
                kind = name
        self._gesture = {"kind": kind, "start": self.state()}
        if kind == "path":
            self._stroke = [(float(x), float(y), t)]
        else:
            i = self._target_index()
            box = self.outline(self.target_time())
            centre = box.mean(axis=0)
            self._gesture.update(index=i, centre=centre, kf=self._path.keyframes[i],
                                 r0=max(math.hypot(x - centre[0], y - centre[1]), 1.0),
                                 angle=math.atan2(y - centre[1], x - centre[0]), turned=0.0)
        return kind

    def pointer_move(self, x: float, y: float, t: float | None = None) -> bool:
        """Continue the gesture; False when the event was thinned away (nothing to redraw)."""
        g, t = self._gesture, self._time(t)
        if g is None:
            return False
        x, y = check_point(x, y)
        if g["kind"] == "path":
            px, py, pt = self._stroke[-1]
            if math.hypot(x - px, y - py) < self.min_px and not (self._timed and t - pt >= self.hold_s):
                return False
            self._stroke.append((float(x), float(y), t))
            return True
        k, s = g["kf"], self._path.strength or 1.0
        if g["kind"] == "zoom":
            ratio = g["r0"] / max(math.hypot(x - g["centre"][0], y - g["centre"][1]), 1.0)
            kf = replace(k, zoom=round(float(np.clip(k.zoom * ratio ** (1 / s), *ZOOM_LIMITS)), 6))
        else:   # roll: add up the turn in small steps so that several turns count
            angle = math.atan2(y - g["centre"][1], x - g["centre"][0])
            g["turned"] += (angle - g["angle"] + math.pi) % (2 * math.pi) - math.pi
            g["angle"] = angle
            kf = replace(k, roll=round(k.roll + math.degrees(g["turned"]) / s, 3))
        self._replace_keyframe(g["index"], kf)
        return True

    def pointer_up(self, x: float, y: float, t: float | None = None) -> CameraPath:
        """End the gesture; a drag becomes the new pan/truck path. Returns the path."""
        g = self._gesture
        if g is None:
            return self._path
        x, y = check_point(x, y)
        if not self.pointer_move(x, y, t) and g["kind"] == "path" and len(self._stroke) > 1:
            # fold the last few pixels into the last kept point: a pause before release is no hold
            self._stroke[-1] = (float(x), float(y), self._stroke[-1][2])
        self._gesture = None
        if g["kind"] != "path":
            if self.state() != g["start"]:
                self._undo.append(g["start"])
            return self._path
        stroke, self._stroke = np.array(self._stroke), []
        if len(stroke) < 2 or np.hypot(*(stroke[:, :2] - stroke[0, :2]).T).max() < self.min_px:
            return self._path                      # a click, not a drag
        merged = self._merge_drag(stroke)          # a refused drag leaves no undo step behind
        self._remember()
        self._path = merged
        self.preset, self.selected = None, None    # the keyframes were rebuilt: old indices mean nothing
        return self._path

    @property
    def stroke(self) -> np.ndarray:
        """(n, 2) pad pixels of the drag in progress (for drawing it live)."""
        return np.array([p[:2] for p in self._stroke]).reshape(-1, 2)

    def wheel(self, delta_y: float) -> CameraPath:
        """Zoom the target keyframe: negative delta (wheel up) zooms in."""
        # one wheel event turns at most a few notches' worth: a runaway delta cannot overflow
        delta_y = float(np.clip(check_number("wheel delta", delta_y), -10_000, 10_000))
        if delta_y == 0:
            return self._path
        self._remember()
        i = self._target_index()
        k = self._path.keyframes[i]
        factor = ZOOM_STEP ** (-delta_y / 100.0 / (self._path.strength or 1.0))
        self._replace_keyframe(i, replace(k, zoom=round(float(np.clip(k.zoom * factor, *ZOOM_LIMITS)), 6)))
        return self._path

    def _time(self, t):
        self._events += 1
        self._timed = t is not None
        return float(self._events if t is None else check_number("t", t))

    def _merge_drag(self, stroke: np.ndarray) -> CameraPath:
        """The drag (n, 3) written onto the path's keyframes and thinned (see stroke.py)."""
        return self._build(drag_to_keyframes(
            stroke, self._path.keyframes, axis=self.drag_axis, duration=self.duration, width=self.width,
            height=self.height, strength=self._path.strength or 1.0, tolerance_px=self.tolerance_px,
            max_keyframes=self.max_keyframes))

    # ---- keyframe timeline ------------------------------------------------------------
    def _check_index(self, i, what: str = "keyframe") -> int:
        n = len(self._path.keyframes)
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not -n <= i < n:
            raise InvalidInput(what, i, f"must be a keyframe index from 0 to {n - 1} "
                                        f"(the path has {n} keyframe{'s' if n != 1 else ''})")
        return int(i) % n

    def select(self, i: int | None):
        self.selected = None if i is None else self._check_index(i)

    def _target_index(self) -> int:
        if self.selected is not None:
            return self.selected
        kfs = self._path.keyframes
        if len(kfs) > 1 and abs(kfs[-1].time - self.duration) < 1e-6:
            return len(kfs) - 1
        return self._insert(self.duration)

    def _insert(self, time: float) -> int:
        kfs = list(self._path.keyframes)
        times = [k.time for k in kfs]
        if time in times:
            return times.index(time)
        row = keyframe_values(kfs, np.array([time]))[0]
        kfs.append(keyframe_from_row(time, row))
        kfs.sort(key=lambda k: k.time)
        self._path = self._build(kfs)
        return [k.time for k in kfs].index(round(time, 4))

    def _replace_keyframe(self, i: int, kf: Keyframe):
        kfs = list(self._path.keyframes)
        kfs[i] = kf
        self._path = self._build(kfs)

    def add_keyframe(self, time: float) -> int:
        """Add a keyframe at `time` seconds where the path already is; returns its index (one
        already there is selected, and nothing is added to undo)."""
        time = round(float(check_number("keyframe time", time, low=0, high=self.duration)), 4)
        if time not in [k.time for k in self._path.keyframes]:
            self._remember()
        self.selected = self._insert(time)
        return self.selected

    def move_keyframe(self, i: int, time: float) -> CameraPath:
        i = self._check_index(i)
        kfs = list(self._path.keyframes)
        lo = kfs[i - 1].time if i > 0 else 0.0
        hi = kfs[i + 1].time if i + 1 < len(kfs) else self.duration
        typed = check_number(f"keyframes[{i}].time", time)
        time = round(float(typed), 4)          # the keyframes' time grid: what is compared is what is kept
        if not ((time >= 0 if i == 0 else time > lo) and (time <= hi if i + 1 == len(kfs) else time < hi)):
            raise InvalidInput(f"keyframes[{i}].time", typed,
                               f"must lie between its neighbours, {lo:g} … {hi:g} s"
                               + (f" (times are kept to 4 decimals: {typed!r} is {time:g} s)" if time != typed else ""),
                               "Keyframes keep their order; delete one to pass it.")
        kfs[i] = replace(kfs[i], time=time)
        path = self._build(kfs)                # refused before anything is remembered
        self._remember()
        self._path = path
        return self._path

    def delete_keyframe(self, i: int) -> CameraPath:
        i = self._check_index(i)
        kfs = list(self._path.keyframes)
        if len(kfs) == 1:
            raise InvalidInput("keyframe", i, "cannot be deleted: a path keeps at least one keyframe",
                               "Use clear() for a static camera.")
        self._remember()
        del kfs[i]
        self._path = self._build(kfs)
        self.selected = None
        return self._path

    def set_easing(self, i: int, easing: str) -> CameraPath:
        i = self._check_index(i)
        if not isinstance(easing, str) or easing not in EASINGS:      # a list is unhashable: not `in`
            raise InvalidInput(f"keyframes[{i}].easing", easing, "must be one of " + ", ".join(EASINGS))
        self._remember()
        self._replace_keyframe(i, replace(self._path.keyframes[i], easing=easing))
        return self._path

    # ---- presets, undo, clear -------------------------------------------------------------
    def apply_preset(self, name: str, intensity: float | None = None) -> CameraPath:
        """Replace the path by a named preset (`CameraPath.preset`) at this intensity."""
        path = CameraPath.preset(name, self.intensity if intensity is None else intensity)
        self._remember()
        self._path, self.selected = path, None
        self.preset, self.intensity = path.preset_name, path.intensity
        return path

    def set_intensity(self, intensity: float) -> CameraPath:
        """Change the intensity; re-applies the current preset if the path is one."""
        if self.preset is not None and self._path.preset_name == self.preset:
            return self.apply_preset(self.preset, intensity)
        self.intensity = float(check_number("intensity", intensity, low=0, high=10))
        return self._path

    # ---- Deforum schedules in and out, for a Deforum run's fps and size (default 15, 512²) --
    def _deforum_frames(self, fps: float) -> int:
        """Deforum frames 0 … n-1 over the clip, the last at or before its end (so an import
        keeps the clip's length)."""
        return math.floor(self.duration * fps + 1e-9) + 1

    def import_schedules(self, text: str, *, fps: float = DEFORUM_DEFAULTS["fps"],
                         width: int = DEFORUM_DEFAULTS["width"],
                         height: int = DEFORUM_DEFAULTS["height"]) -> CameraPath:
        """The path from Deforum 2D schedules pasted as text ('zoom: 0:(1.0), 24:(1.04);
        angle: 0:(0)'), evaluated over the clip at the Deforum settings they were written for
        (Deforum's defaults: 15 fps, 512 × 512); undoable like any edit. Settings written in
        the text ('fps: 30; W: 768; H: 432; zoom: …') win over the arguments and are kept in
        `deforum_settings`; a 'max_frames' there is read and not used, as the clip's length
        decides how many frames are evaluated."""
        schedules, given = split_deforum(schedules_from_text(text))
        settings = check_deforum_settings(given.get("fps", fps), given.get("width", width),
                                          given.get("height", height))
        n = self._deforum_frames(settings[0])
        path = CameraPath.from_deforum(schedules, *settings, n_frames=n, field="schedule", hint=(
            f"The clip's {self.duration:g} s were evaluated, {n} frames at {settings[0]:g} fps (the clip's "
            "length decides here, not a max_frames); move less per frame, or make the clip shorter."))
        self.set_path(path)
        self.deforum_settings = dict(zip(("fps", "width", "height"), settings))
        return path

    def export_schedules(self, *, fps: float = DEFORUM_DEFAULTS["fps"], width: int = DEFORUM_DEFAULTS["width"],
                         height: int = DEFORUM_DEFAULTS["height"]) -> str:
        """The path over the clip as Deforum 2D schedules for a Deforum run at `fps` and
        width × height, as text to paste into Deforum's settings (or back into
        `import_schedules`, `--camera` or `camera=`). The text starts with that run
        and its length ('fps: 15; W: 512; H: 512; max_frames: 31; zoom: …') so it is read
        back at it wherever it goes: `camera=` reads a run without max_frames over Deforum's
        default 120 frames, past the pad's clip, where a drift may run out of range."""
        fps, width, height = check_deforum_settings(fps, width, height)
        n = self._deforum_frames(fps)
        schedules = self._path.to_deforum(n, fps, width, height)
        text = schedules_to_text({"fps": fps, "W": width, "H": height, "max_frames": n, **schedules})
        self.deforum_settings = {"fps": fps, "width": width, "height": height}
        return text

    def clear(self) -> CameraPath:
        self._remember()
        self._path, self.selected, self.preset = CameraPath(), None, None
        return self._path

    def undo(self) -> CameraPath:
        """Go back one edit (a drag, a wheel turn, a handle gesture, a timeline edit…)."""
        if self._undo:
            self._restore(self._undo.pop())
        return self._path

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    def _remember(self):
        self._undo = self._undo[-(UNDO_DEPTH - 1):] + [self.state()]

    # ---- JSON state (what the widget syncs) ---------------------------------------------
    def state(self) -> dict:
        """Everything needed to redraw the pad, JSON-able (undo history is not included)."""
        return {"version": STATE_VERSION, "path": self._path.to_dict(), "duration": self.duration,
                "width": self.width, "height": self.height, "selected": self.selected,
                "drag_axis": self.drag_axis, "preset": self.preset, "intensity": self.intensity,
                "deforum_settings": dict(self.deforum_settings)}

    def _restore(self, data: dict):
        now = self.duration
        self.duration = data["duration"]
        self._path = CameraPath.from_dict(data["path"])
        self.selected, self.drag_axis = data["selected"], data["drag_axis"]
        self.preset, self.intensity = data["preset"], data["intensity"]
        # an undone import also gives back the Deforum run it replaced (fps, W, H)
        self.deforum_settings = dict(data["deforum_settings"])
        if now != self.duration:      # the clip's length changed since: undo an edit, not the
            selected = self.selected  # length; the path it gives back follows the clip
            self.set_duration(now)
            self.selected = selected

    @classmethod
    def from_state(cls, data, **options) -> CameraPadLogic:
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
            raise InvalidInput("pad state", data, f"must be a dict from CameraPadLogic.state() "
                                                  f"(version {STATE_VERSION})")
        missing = sorted({"path", "duration", "width", "height"} - set(data))
        if missing:
            raise InvalidInput(f"pad state.{missing[0]}", None, "is required")
        pad = cls(data["path"], duration=data["duration"], width=data["width"], height=data["height"],
                  drag_axis=data.get("drag_axis", "pan"), **options)
        preset, intensity = data.get("preset"), data.get("intensity", 1.0)
        if preset is not None:
            preset, intensity = check_preset(preset, intensity, "pad state.preset")
        pad.preset = preset
        pad.intensity = float(check_number("pad state.intensity", intensity, low=0, high=MAX_INTENSITY))
        if data.get("deforum_settings") is not None:     # absent in states saved before it was kept
            given = data["deforum_settings"]
            if not isinstance(given, dict):
                raise InvalidInput("pad state.deforum_settings", given, "must be a dict of fps, width, height")
            fps, width, height = check_deforum_settings(given.get("fps"), given.get("width"),
                                                        given.get("height"), "pad state.deforum_settings")
            pad.deforum_settings = {"fps": fps, "width": width, "height": height}
        if data.get("selected") is not None:
            pad.select(data["selected"])
        return pad
