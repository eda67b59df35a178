"""The camera pad: draw a camera move over the first frame (ipycanvas), or set six sliders.

    from runway_nb.ui.camera_pad import CameraPad
    pad = CameraPad(preview=first_frame, duration=2.0)   # drag, wheel, turn the knob
    pad                                                  # shows itself in the notebook
    pad.path                                             # -> CameraPath, e.g. for a Shot

What each gesture means lives in `runway_nb.camera.recorder.CameraPadLogic`; this module forwards
the canvas events there, and `camera_drawing.py` draws what it reports. Durable state is in
synced traits (`path_json`, `state`), so a re-displayed pad, or one whose browser reconnected,
redraws itself from them (`on_client_ready`). Drawing is batched in `hold_canvas()`
and, while dragging, the live stroke is redrawn at most 30 times a second.

The pad is at most `size` pixels wide on screen and shrinks with a narrow notebook; its
rows of buttons wrap instead of cutting labels short. Stable CSS classes for tests and
users' CSS: `rn-camera-pad` (the whole pad), `rn-camera-canvas` (the drawing surface),
`rn-camera-timeline` (the keyframe strip).

Below the presets a text box takes Deforum 2D schedules ('zoom: 0:(1.0), 24:(1.04); angle:
0:(0)'): "import" makes them the path over the clip, "export" writes the path there, both
for the Deforum run set in the row below (fps, W, H as Deforum names them; its defaults
15 fps and 512 × 512; `CameraPadLogic.import_schedules`). Text that names its run ('fps: 30;
W: 768; H: 432; zoom: …', keys as in a Deforum settings file) is read at that run, and the
row shows it; exported text starts with its run, so it reads back the same anywhere.

Where ipycanvas cannot render (no front-end extension), `CameraPad(mode="sliders")`
or `CameraPad.fallback()` gives the six −10…+10 axis sliders of commercial tools plus
a strength, feeding `CameraPath.from_axes`. No torch is imported here.
"""

from __future__ import annotations

import functools
import json
import time

import ipywidgets as widgets
import numpy as np
import traitlets

from ..camera import (
    DEFORUM_DEFAULTS,
    EASINGS,
    MAX_INTENSITY,
    SPEED_AT_INTENSITY_1,
    UI_PER_INTENSITY,
    UI_RANGE,
    CameraPath,
)
from ..camera.recorder import CameraPadLogic
from ..errors import check_number
from .camera_drawing import _PAD_X, _STRIP, CameraPadDrawing, draw_grid
from .layout import keep_width, row, tool_button
from .pad_logic import first_frame, pad_mode, pad_size

PRESET_BUTTONS = {"pan_left": "◀ pan", "pan_right": "pan ▶", "tilt_up": "▲ tilt", "tilt_down": "tilt ▼",
                  "zoom_in": "zoom +", "zoom_out": "zoom −", "roll_cw": "roll ↻", "roll_ccw": "roll ↺",
                  "orbit_left": "orbit ◀", "orbit_right": "orbit ▶", "static": "static"}
SLIDER_AXES = ("truck", "pedestal", "pan", "tilt", "roll", "zoom")
_UI_SPEED = {"truck": "pan", "pan": "pan", "pedestal": "tilt", "tilt": "tilt", "roll": "roll", "zoom": "zoom"}
REDRAW_EVERY = 1 / 30       # seconds between live redraws while dragging


def shown_errors(method):
    """Canvas and button callbacks run inside the comm handler, where JupyterLab would hide
    an exception: show it in the pad's status line (and `pad.error`) instead."""
    @functools.wraps(method)
    def run(self, *args, **kwargs):
        try:
            result = method(self, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - shown to the user in the status line
            self.error = f"{type(exc).__name__}: {exc}"
            self._status()
            return None
        if self.error:
            self.error = ""
            self._status()
        return result
    return run


class CameraPad(CameraPadDrawing, widgets.VBox):
    """Draw a camera path. `pad.path` is the CameraPath; observe `path_json` for changes."""

    path_json = traitlets.Unicode("").tag(sync=True)   # json.dumps(CameraPath.to_dict())
    state = traitlets.Dict().tag(sync=True)             # CameraPadLogic.state(): the redraw source
    error = traitlets.Unicode("").tag(sync=True)        # the last callback error, shown in the status

    def __init__(self, path=None, preview=None, size: int = 256, *, duration: float = 2.0, fps: float = 8.0,
                 aspect: float | None = None, mode: str = "auto", clock=time.monotonic, **kwargs):
        super().__init__(**kwargs)
        mode = pad_mode(mode)
        self.add_class("rn-camera-pad")
        self.mode, self._clock, self._last_draw, self._syncing = mode, clock, -1.0, False
        self.fps = float(check_number("fps", fps, low=0, low_inclusive=False, high=240))
        self.status = widgets.HTML()
        self._preview = first_frame(preview)
        if aspect is None:
            aspect = 1.0 if self._preview is None else self._preview.shape[1] / self._preview.shape[0]
        width, height = pad_size(size, aspect)
        self.logic = CameraPadLogic(path, duration=duration, width=width, height=height)
        self.observe(self._on_path_json, "path_json")
        if mode == "canvas":
            self._build_canvas(width, height)
        else:
            self._build_sliders()
        self._sync()

    @classmethod
    def fallback(cls, path=None, **kwargs) -> CameraPad:
        """The plain-ipywidgets pad: six axis sliders and a strength (no ipycanvas needed)."""
        return cls(path, mode="sliders", **kwargs)

    # ---- the path, read and written from Python -------------------------------------------
    @property
    def path(self) -> CameraPath:
        return self.logic.path

    @path.setter
    def path(self, value):
        self.logic.set_path(value)
        self._sync(sliders=True)

    @property
    def preview(self) -> np.ndarray | None:
        return self._preview

    @preview.setter
    def preview(self, value):
        self._preview = first_frame(value)
        if self.mode == "canvas":
            self._draw_background()

    def set_clip(self, duration: float | None = None, fps: float | None = None):
        """Follow the clip's length (keyframe times scale with it) and frame rate."""
        if fps is not None:
            self.fps = float(check_number("fps", fps, low=0, low_inclusive=False, high=240))
        if duration is not None:
            self.logic.set_duration(duration)
        self._sync()

    def _sync(self, sliders: bool = False):
        """Logic -> synced traits -> controls and drawing."""
        self._syncing = True
        try:
            self.state = self.logic.state()
            self.path_json = json.dumps(self.logic.path.to_dict())
        finally:
            self._syncing = False
        if self.mode == "canvas":
            self._update_controls()
            self.redraw()
        elif sliders:
            self._path_to_sliders()
        self._status()

    @shown_errors
    def _on_path_json(self, change):
        """The path was set from outside (the front end, jslink, a test): adopt it, or refuse
        it visibly and put the trait back to the path the pad has."""
        if self._syncing or not change["new"]:
            return
        try:
            self.path = change["new"]
        except Exception:
            self._sync()
            raise

    @staticmethod
    def _keyframed(path) -> bool:
        """A path of keyframes, not one constant speed (what the sliders show)."""
        return len(path.keyframes) > 1 or path.keyframes[0] != CameraPath().keyframes[0]

    def _status(self):
        path = self.logic.path
        if path.to_dict() == CameraPath().to_dict():    # nothing drawn: say what to do
            text = "<b>no camera move</b> · drag on the picture, or press a preset"
        else:
            text = f"<b>{path.describe()}</b>"
        if self.mode == "sliders" and self._keyframed(path):
            text += " · keyframes the sliders cannot show: moving one replaces them"
        if self.error:
            text += f" <span style='color:#d33'>⚠ {self.error}</span>"
        self.status.value = f"<span style='font:12px sans-serif'>{text}</span>"

    # ---- canvas mode: layout and events -------------------------------------------------------
    def _build_canvas(self, width: int, height: int):
        from ipycanvas import Canvas, MultiCanvas

        # shown at its pixel size, or narrower with the notebook (the height follows: the
        # browser scales pointer positions back to canvas pixels)
        def scaled(w):
            return widgets.Layout(width=f"{w}px", max_width="100%", height="auto")

        self.canvas = MultiCanvas(3, width=width, height=height, layout=scaled(width))  # preview | path | live
        self.strip = Canvas(width=width, height=_STRIP, layout=scaled(width))
        self.canvas.add_class("rn-camera-canvas")
        self.strip.add_class("rn-camera-timeline")
        self.canvas.on_mouse_down(self._on_mouse_down)
        self.canvas.on_mouse_move(self._on_mouse_move)
        self.canvas.on_mouse_up(self._on_mouse_up)
        self.canvas.on_mouse_out(self._on_mouse_up)                # leaving the pad ends the drag
        self.canvas.on_mouse_wheel(self._on_mouse_wheel)
        self.canvas.on_client_ready(self.redraw_all)
        self.strip.on_mouse_down(self._on_strip_down)
        self.strip.on_mouse_up(self._on_strip_up)
        self.strip.on_client_ready(self.redraw_all)
        self.preset_buttons = {}
        for name, label in PRESET_BUTTONS.items():
            self.preset_buttons[name] = b = tool_button(label, tooltip=name)
            b.on_click(functools.partial(self._on_preset, name))
        self.intensity = widgets.FloatSlider(1.0, min=0.0, max=MAX_INTENSITY, step=0.1, description="intensity",
                                             layout=widgets.Layout(width="auto", max_width="300px"))
        self.intensity.observe(self._on_intensity, "value")
        self.drag_axis = keep_width(widgets.ToggleButtons(
            options=["pan", "truck"], value="pan", style={"button_width": "auto"},
            tooltips=["drag turns the camera", "drag moves the camera"]))
        self.drag_axis.observe(self._on_drag_axis, "value")
        self.easing = widgets.Dropdown(options=list(EASINGS), description="easing", disabled=True,
                                       style={"description_width": "48px"},
                                       layout=widgets.Layout(width="190px", flex="0 1 auto"))
        self.easing.observe(self._on_easing, "value")
        self.add_key = tool_button("key", icon="plus", tooltip="add a keyframe at the cursor")
        self.delete_key = tool_button("key", icon="minus", tooltip="delete the selected keyframe")
        self.undo_button = tool_button("undo", icon="undo", tooltip="undo the last edit")
        self.clear_button = tool_button("clear", icon="eraser", tooltip="clear the path (a static camera)")
        self.add_key.on_click(lambda _: self._edit(self.logic.add_keyframe, self.cursor_time))
        self.delete_key.on_click(lambda _: self._edit(self.logic.delete_keyframe, self.logic.selected))
        self.undo_button.on_click(lambda _: self._undo())
        self.clear_button.on_click(lambda _: self._edit(self.logic.clear))
        self.animate = keep_width(widgets.ToggleButton(False, description="animate", icon="video",
                                                       tooltip="show the camera frame moving",
                                                       layout=widgets.Layout(width="auto")))
        self.frame = widgets.IntSlider(0, min=0, max=1, description="frame", readout=True,
                                       style={"description_width": "40px"},
                                       layout=widgets.Layout(width="auto", flex="1 1 160px", min_width="160px"))
        self.play = keep_width(widgets.Play(0, min=0, max=1, interval=125, layout=widgets.Layout(width="auto")))
        widgets.jslink((self.play, "value"), (self.frame, "value"))    # the browser drives the frames
        self.frame.observe(lambda _: self._draw_live(), "value")
        self.animate.observe(lambda _: self._draw_live(), "value")
        self.children = [
            row(self.drag_axis, self.undo_button, self.clear_button), self.canvas, self.strip,
            row(self.animate, self.play, self.frame),
            row(self.add_key, self.delete_key, self.easing),
            row(*self.preset_buttons.values()),
            self.intensity, self._schedule_row(), self.status]

    # ---- Deforum schedules, pasted in or written out (both modes) ---------------------------
    def _schedule_row(self) -> widgets.VBox:
        self.schedule = widgets.Text(placeholder="Deforum schedules, e.g. zoom: 0:(1.04)",
                                     layout=widgets.Layout(flex="1 1 180px", min_width="180px"))
        self.schedule.add_class("rn-camera-schedule")
        self.import_button = tool_button("import", tooltip="the path from the Deforum 2D schedules typed "
                                         "here, at the Deforum settings below")
        self.export_button = tool_button("export", tooltip="write this path here as Deforum 2D schedules "
                                         "for a Deforum run at the settings below")
        self.import_button.on_click(lambda _: self._import_schedules())
        self.export_button.on_click(lambda _: self._export_schedules())
        # The Deforum run the schedules belong to: its keyframes are frames at its fps and its
        # translations pixels of its picture (Deforum's defaults: 15 fps, 512 × 512).
        # labelled with Deforum's own keys (fps, W, H), as its settings files and our text name
        # them, so the row fits one line of the pad's column
        small = dict(layout=widgets.Layout(width="92px"), style={"description_width": "26px"})
        self.deforum_fps = widgets.FloatText(DEFORUM_DEFAULTS["fps"], description="fps",
                                             tooltip="frames a second of the Deforum run", **small)
        self.deforum_width = widgets.IntText(DEFORUM_DEFAULTS["width"], description="W",
                                             tooltip="the Deforum run's width in pixels", **small)
        self.deforum_height = widgets.IntText(DEFORUM_DEFAULTS["height"], description="H",
                                              tooltip="the Deforum run's height in pixels", **small)
        settings = row(widgets.HTML("Deforum run:"), self.deforum_fps, self.deforum_width, self.deforum_height)
        settings.add_class("rn-camera-deforum")
        return widgets.VBox([row(self.schedule, self.import_button, self.export_button), settings])

    def _deforum(self) -> dict:
        return {"fps": self.deforum_fps.value, "width": self.deforum_width.value,
                "height": self.deforum_height.value}

    def _import_schedules(self):
        if not self._edit(functools.partial(self.logic.import_schedules, **self._deforum()), self.schedule.value):
            return                      # refused: shown in the status line, the row as typed
        # settings written in the text ('fps: 30; …') were the ones used: the row shows them
        self._show_deforum_settings()
        if self.mode == "sliders":
            self._path_to_sliders()

    def _show_deforum_settings(self):
        settings = self.logic.deforum_settings
        self.deforum_fps.value, self.deforum_width.value, self.deforum_height.value = (
            settings["fps"], settings["width"], settings["height"])

    def _undo(self):
        """Undo the last edit (canvas mode has the button); an undone import also puts back
        the Deforum run it replaced."""
        before = dict(self.logic.deforum_settings)
        if self._edit(self.logic.undo) and self.logic.deforum_settings != before:
            self._show_deforum_settings()       # only then: the row may hold a run being typed

    @shown_errors
    def _export_schedules(self):
        self.schedule.value = self.logic.export_schedules(**self._deforum())

    @property
    def cursor_time(self) -> float:
        return min(self.frame.value / self.fps, self.logic.duration) if self.mode == "canvas" else 0.0

    @shown_errors
    def _edit(self, action, *args) -> bool:
        """Run a logic edit and redraw: True, or None (the error shown) when it was refused."""
        action(*args)
        self._sync()
        return True

    @shown_errors
    def _on_mouse_down(self, x, y):
        self.logic.pointer_down(x, y, self._clock())
        self._draw_live(strip=False)

    @shown_errors
    def _on_mouse_move(self, x, y):
        if self.logic.gesture is None or not self.logic.pointer_move(x, y, self._clock()):
            return
        if self.logic.gesture == "path":
            self._throttled(lambda: self._draw_live(strip=False))
        else:                                   # a handle: the outline follows the pointer
            self._throttled(self.redraw)

    @shown_errors
    def _on_mouse_up(self, x, y):
        if self.logic.gesture is not None:
            self.logic.pointer_up(x, y, self._clock())
            self._sync()

    @shown_errors
    def _on_mouse_wheel(self, delta_x, delta_y):
        self.logic.wheel(delta_y)
        self._sync()

    def _throttled(self, draw):
        now = self._clock()
        if now - self._last_draw >= REDRAW_EVERY:
            self._last_draw = now
            draw()

    def _on_preset(self, name, _button=None):
        self._edit(self.logic.apply_preset, name, self.intensity.value)

    def _on_intensity(self, change):
        if not self._syncing:
            self._edit(self.logic.set_intensity, change["new"])

    def _on_drag_axis(self, change):
        if not self._syncing:
            self.logic.drag_axis = change["new"]
            self._sync()

    def _on_easing(self, change):
        if not self._syncing and self.logic.selected is not None and change["new"]:
            self._edit(self.logic.set_easing, self.logic.selected, change["new"])

    @shown_errors
    def _on_strip_down(self, x, y):
        """Press on a keyframe's diamond to select it (and drag it in time); elsewhere to unselect."""
        near = [abs(self._strip_x(k.time) - x) for k in self.logic.path.keyframes]
        i = int(np.argmin(near))
        self.logic.select(i if near[i] <= 8 else None)
        self._sync()

    @shown_errors
    def _on_strip_up(self, x, y):
        i, kfs = self.logic.selected, self.logic.path.keyframes
        if i is None or abs(self._strip_x(kfs[i].time) - x) < 3:
            return
        t = (x - _PAD_X) / (self.logic.width - 2 * _PAD_X) * self.logic.duration
        lo = kfs[i - 1].time + 0.01 if i > 0 else 0.0            # a drag stops at the neighbours
        hi = kfs[i + 1].time - 0.01 if i + 1 < len(kfs) else self.logic.duration
        self._edit(self.logic.move_keyframe, i, float(np.clip(t, lo, hi)))

    def _update_controls(self):
        self._syncing = True
        try:
            n = max(2, round(self.logic.duration * self.fps))
            self.frame.max = self.play.max = n - 1
            self.play.interval = max(16, round(1000 / self.fps))
            self.intensity.value = self.logic.intensity      # the slider spans every allowed one
            self.drag_axis.value = self.logic.drag_axis
            sel = self.logic.selected
            self.easing.disabled = self.delete_key.disabled = sel is None
            self.easing.value = None if sel is None else self.logic.path.keyframes[sel].easing
            self.undo_button.disabled = not self.logic.can_undo
        finally:
            self._syncing = False

    # ---- sliders mode (plain ipywidgets) ---------------------------------------------------
    def _build_sliders(self):
        self.sliders = {axis: widgets.FloatSlider(0.0, min=-UI_RANGE, max=UI_RANGE, step=0.5, description=axis)
                        for axis in SLIDER_AXES}
        self.strength = widgets.FloatSlider(1.0, min=0.0, max=2.0, step=0.05, description="strength")
        for w in (*self.sliders.values(), self.strength):
            w.observe(self._on_slider, "value")
        self.reset = tool_button("static", tooltip="all sliders back to 0: a static camera")
        self.reset.layout.align_self = "flex-start"          # not stretched across the pad
        self.reset.on_click(lambda _: self._set_sliders(dict.fromkeys(SLIDER_AXES, 0.0), 1.0))
        self.children = [*self.sliders.values(), self.strength, self.reset, self._schedule_row(), self.status]
        self._path_to_sliders()

    @shown_errors
    def _on_slider(self, _change=None):
        if self._syncing:
            return
        values = {axis: s.value for axis, s in self.sliders.items()}
        self.logic.set_path(CameraPath.from_axes(**values, strength=self.strength.value))
        self._sync()

    def _set_sliders(self, values: dict, strength: float):
        self._syncing = True
        try:
            for axis, v in values.items():
                self.sliders[axis].value = v
            self.strength.value = strength
        finally:
            self._syncing = False
        self._on_slider()

    def _path_to_sliders(self):
        """Show a constant-speed path (a preset, from_axes) on the sliders. A path of keyframes
        (imported, or set from Python) has no one speed to show: the sliders go to 0 rather
        than keep the values of the path it replaced, and the status line says that moving
        one replaces the path."""
        path = self.logic.path
        if self._keyframed(path):
            values = dict.fromkeys(SLIDER_AXES, 0.0)
        else:
            values = {axis: float(np.clip(getattr(path.speed, axis) / SPEED_AT_INTENSITY_1[_UI_SPEED[axis]]
                                          * UI_PER_INTENSITY, -UI_RANGE, UI_RANGE)) for axis in SLIDER_AXES}
        self._syncing = True
        try:
            for axis, v in values.items():
                self.sliders[axis].value = v
            self.strength.value = min(path.strength, self.strength.max)
        finally:
            self._syncing = False


__all__ = ["CameraPad", "draw_grid", "shown_errors"]
