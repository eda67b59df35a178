"""The motion-brush pad: paint a region (or drag a box) on the first frame, draw its motion.

    from runway_nb.ui.brush_pad import BrushPad
    pad = BrushPad(frame=first_frame, clip_size=(64, 64), duration=2.0)
    pad                       # paint, then pick "arrow" and drag from the object to where it goes
    pad.brushes               # -> MotionBrush list for the Shot

`pad_logic.BrushPadLogic` holds what the gestures mean; this module forwards canvas
events and draws its state (all brushes as one translucent image, then boxes, arrows
and trajectories). The `state` trait carries everything, masks as run lengths, so a
re-displayed view redraws itself. `BrushPad(mode="sliders")` (or `BrushPad.fallback()`)
gives plain ipywidgets: a box per brush and its motion as sliders. No torch here.

Rows of buttons wrap in a narrow notebook instead of cutting labels short. Stable CSS
classes: `rn-brush-pad` (the whole pad) and `rn-brush-canvas` (the painting surface).
"""

from __future__ import annotations

import functools
import time

import ipywidgets as widgets
import numpy as np
import traitlets

from ..errors import check_number
from .camera_pad import REDRAW_EVERY, draw_grid, shown_errors
from .layout import keep_width, row, tool_button
from .pad_logic import (
    AMBIENT_RANGE,
    MAX_BRUSHES,
    PROXIMITY_RANGE,
    TOOLS,
    BrushPadLogic,
    first_frame,
    fit,
    pad_mode,
    pad_size,
)

COLOURS = [(255, 59, 48), (52, 199, 89), (0, 122, 255), (255, 204, 0), (175, 82, 222), (255, 149, 0),
           (90, 200, 250), (255, 45, 85)]


def hex_colour(i: int) -> str:
    return "#{:02x}{:02x}{:02x}".format(*COLOURS[i % len(COLOURS)])


class BrushPad(widgets.VBox):
    """Paint motion brushes. `pad.brushes` is the list; observe `state` for changes."""

    state = traitlets.Dict().tag(sync=True)        # BrushPadLogic.state(): the redraw source
    error = traitlets.Unicode("").tag(sync=True)   # the last callback error, shown in the status

    def __init__(self, frame=None, size: int = 256, *, clip_size: tuple[int, int] | None = None,
                 duration: float = 2.0, mode: str = "auto", clock=time.monotonic, **kwargs):
        super().__init__(**kwargs)
        mode = pad_mode(mode)
        self.add_class("rn-brush-pad")
        self.mode, self._clock, self._last_draw, self._syncing = mode, clock, -1.0, False
        self._frame = first_frame(frame)
        if clip_size is None:
            clip_size = (64, 64) if self._frame is None else (self._frame.shape[1], self._frame.shape[0])
        cw, ch = (int(check_number("clip_size", v, low=2, high=8192, integer=True)) for v in clip_size)
        width, height = pad_size(size, cw / ch)
        self.logic = BrushPadLogic(clip_width=cw, clip_height=ch, width=width, height=height, duration=duration)
        self.status = widgets.HTML()
        self.brush_picker = keep_width(widgets.ToggleButtons(options=[], style={"button_width": "32px"}))
        self.brush_picker.observe(self._on_pick, "value")
        self.add_button = tool_button("brush", icon="plus", tooltip="add a brush")
        self.delete_button = tool_button("delete", icon="trash", tooltip="delete the selected brush")
        self.undo_button = tool_button("undo", icon="undo", tooltip="undo the last edit")
        self.clear_button = tool_button("clear", icon="eraser", tooltip="delete every brush")
        self.add_button.on_click(lambda _: self._edit(self.logic.add_brush))
        self.delete_button.on_click(lambda _: self._edit(self.logic.delete, self.logic.selected))
        self.undo_button.on_click(lambda _: self._edit(self.logic.undo))
        self.clear_button.on_click(lambda _: self._edit(self.logic.clear))
        self.proximity = widgets.FloatSlider(0.0, min=PROXIMITY_RANGE[0], max=PROXIMITY_RANGE[1], step=0.05,
                                             description="proximity")
        self.ambient = widgets.FloatSlider(0.0, min=AMBIENT_RANGE[0], max=AMBIENT_RANGE[1], step=0.05,
                                           description="ambient")
        self.proximity.observe(functools.partial(self._on_slider, self.logic.set_proximity), "value")
        self.ambient.observe(functools.partial(self._on_slider, self.logic.set_ambient), "value")
        picker = row(self.brush_picker, self.add_button, self.delete_button, self.undo_button,
                     self.clear_button)
        if mode == "canvas":
            self._build_canvas(width, height)
            self.children = [self.tool, self.canvas, picker, self.proximity, self.ambient, self.status]
        else:
            self._build_sliders()
            self.children = [picker, self.box_x, self.box_y, self.horizontal, self.vertical,
                             self.proximity, self.ambient, self.status]
        self._sync()

    @classmethod
    def fallback(cls, frame=None, **kwargs) -> BrushPad:
        """The plain-ipywidgets pad: box and motion sliders per brush (no ipycanvas needed)."""
        return cls(frame, mode="sliders", **kwargs)

    @property
    def brushes(self) -> list:
        """The motion brushes drawn so far (an empty one raises, naming it)."""
        return self.logic.brushes()

    @brushes.setter
    def brushes(self, value):
        """Show a shot's brushes on the pad (undo brings back what was there)."""
        self.logic.set_brushes(() if value is None else value)
        self._sync()

    @property
    def frame(self) -> np.ndarray | None:
        return self._frame

    @frame.setter
    def frame(self, value):
        self._frame = first_frame(value)
        if self.mode == "canvas":
            self.redraw_all()

    def set_clip(self, duration: float | None = None, clip_size: tuple[int, int] | None = None):
        """Follow the clip's length and size (the pad keeps its size on screen)."""
        self.logic.set_clip(*(clip_size or (None, None)), duration=duration)
        self._sync()

    def _sync(self):
        self._syncing = True
        try:
            self.state = self.logic.state()
            n, sel = len(self.logic.items), self.logic.selected
            self.brush_picker.options = [(str(i + 1), i) for i in range(n)]
            self.brush_picker.value = sel
            for w in (self.delete_button, self.proximity, self.ambient):
                w.disabled = sel is None
            self.add_button.disabled = n >= MAX_BRUSHES
            self.undo_button.disabled = not self.logic.can_undo
            if sel is not None:
                self.proximity.value = self.logic.items[sel]["proximity"]
                self.ambient.value = self.logic.items[sel]["ambient"]
            if self.mode == "sliders":
                self._brush_to_sliders()
        finally:
            self._syncing = False
        if self.mode == "canvas":
            self.redraw()
        self._status()

    def _status(self):
        n = len(self.logic.items)
        text = f"<b>{n} brush{'es' if n != 1 else ''}</b>"
        if self.logic.selected is not None:
            i = self.logic.selected
            h, v = self.logic.motion(i)
            text += f" · brush {i + 1}: {self.logic.area(i):.0%} of the frame, → {h:+.2f} ↑ {v:+.2f} frames/s"
        if self.error:
            text += f" <span style='color:#d33'>⚠ {self.error}</span>"
        self.status.value = f"<span style='font:12px sans-serif'>{text}</span>"

    @shown_errors
    def _edit(self, action, *args):
        action(*args)
        self._sync()

    def _on_pick(self, change):
        if not self._syncing:
            self._edit(self.logic.select, change["new"])

    def _on_slider(self, setter, change):
        if not self._syncing and self.logic.selected is not None:
            self._edit(setter, self.logic.selected, change["new"])

    # ---- canvas mode ---------------------------------------------------------------------
    def _build_canvas(self, width: int, height: int):
        from ipycanvas import MultiCanvas

        self.canvas = MultiCanvas(3, width=width, height=height,      # frame | brushes | live
                                  layout=widgets.Layout(width=f"{width}px", max_width="100%", height="auto"))
        self.canvas.add_class("rn-brush-canvas")
        self.canvas.on_mouse_down(self._on_mouse_down)
        self.canvas.on_mouse_move(self._on_mouse_move)
        self.canvas.on_mouse_up(self._on_mouse_up)
        self.canvas.on_mouse_out(self._on_mouse_up)
        self.canvas.on_client_ready(self.redraw_all)
        self.tool_buttons = keep_width(widgets.ToggleButtons(options=list(TOOLS), value="paint",
                                                             style={"button_width": "auto"}))
        self.radius = widgets.IntSlider(int(self.logic.radius), min=2, max=48, description="radius",
                                        style={"description_width": "44px"},
                                        layout=widgets.Layout(width="auto", flex="1 1 160px", min_width="160px"))
        self.tool_buttons.observe(lambda c: setattr(self.logic, "tool", c["new"]), "value")
        self.radius.observe(lambda c: setattr(self.logic, "radius", float(c["new"])), "value")
        self.tool = row(self.tool_buttons, self.radius)

    @shown_errors
    def _on_mouse_down(self, x, y):
        self.logic.pointer_down(x, y)
        self._batch(self._paint_brushes, self._paint_live)

    @shown_errors
    def _on_mouse_move(self, x, y):
        if self.logic.pointer_move(x, y):
            now = self._clock()
            if now - self._last_draw >= REDRAW_EVERY:
                self._last_draw = now
                painting = self.logic.tool in ("paint", "erase")
                self._batch(*([self._paint_brushes] if painting else []), self._paint_live)

    @shown_errors
    def _on_mouse_up(self, x, y):
        if self.logic.rubber_band is not None:
            self.logic.pointer_up(x, y)
            self._sync()

    @staticmethod
    def _batch(*painters):
        from ipycanvas import hold_canvas

        with hold_canvas():
            for paint in painters:
                paint()

    def redraw_all(self, *_):
        self._batch(self._paint_frame, self._paint_brushes, self._paint_live)

    def redraw(self):
        self._batch(self._paint_brushes, self._paint_live)

    def _paint_frame(self):
        bg, lg = self.canvas[0], self.logic
        bg.clear()
        if self._frame is None:
            draw_grid(bg, lg.width, lg.height)
        else:
            bg.put_image_data(fit(self._frame, lg.width, lg.height), 0, 0)

    def _paint_brushes(self):
        layer, lg = self.canvas[1], self.logic
        layer.clear()
        overlay = np.zeros((lg.clip_height, lg.clip_width, 4), np.uint8)
        for i in range(len(lg.items)):
            region = lg.region(i)
            if region is not None:
                overlay[region] = (*COLOURS[i % len(COLOURS)], 150 if i == lg.selected else 90)
        if overlay[..., 3].any():
            layer.put_image_data(fit(overlay, lg.width, lg.height), 0, 0)   # one PNG for all brushes
        for i, b in enumerate(lg.items):
            layer.stroke_style = layer.fill_style = hex_colour(i)
            layer.line_width = 3 if i == lg.selected else 2
            if b["box"] is not None:
                x0, y0 = lg.to_pad(*b["box"][:2])
                x1, y1 = lg.to_pad(*b["box"][2:])
                layer.stroke_rect(x0, y0, x1 - x0, y1 - y0)
            if b["arrow"] is not None:
                draw_arrow(layer, lg.to_pad(*b["arrow"][:2]), lg.to_pad(*b["arrow"][2:]))
            if b["trajectory"] is not None:
                points = [lg.to_pad(*p) for p in b["trajectory"]]
                layer.stroke_lines(points)
                draw_arrow(layer, points[-2], points[-1])
            if lg.region(i) is not None:
                layer.font, layer.fill_style = "bold 14px sans-serif", "#ffffff"
                layer.fill_text(str(i + 1), *lg.to_pad(*lg.centre(i)))

    def _paint_live(self):
        live, band = self.canvas[2], self.logic.rubber_band
        live.clear()
        if band is None or len(band["points"]) < 2:
            return
        (x0, y0), (x1, y1) = band["start"], band["points"][-1]
        live.stroke_style, live.line_width = "#ffffff", 2
        if band["tool"] == "box":
            live.stroke_rect(min(x0, x1), min(y0, y1), abs(x1 - x0), abs(y1 - y0))
        elif band["tool"] == "arrow":
            draw_arrow(live, (x0, y0), (x1, y1))
        elif band["tool"] == "path":
            live.stroke_lines(band["points"])

    # ---- sliders mode ----------------------------------------------------------------------
    def _build_sliders(self):
        rng = functools.partial(widgets.FloatRangeSlider, value=(0.25, 0.75), min=0.0, max=1.0, step=0.01)
        self.box_x, self.box_y = rng(description="box x"), rng(description="box y ↓")
        speed = functools.partial(widgets.FloatSlider, 0.0, min=-1.0, max=1.0, step=0.05)
        self.horizontal, self.vertical = speed(description="→ right"), speed(description="↑ up")
        for w in (self.box_x, self.box_y):
            w.observe(self._on_box, "value")
        for w in (self.horizontal, self.vertical):
            w.observe(self._on_motion, "value")

    def _on_box(self, _change=None):
        if self._syncing:
            return
        if self.logic.selected is None:
            self.logic.add_brush()
        lg = self.logic
        (x0, x1), (y0, y1) = self.box_x.value, self.box_y.value
        self._edit(lg.set_box, lg.selected, [x0 * lg.clip_width, y0 * lg.clip_height,
                                             x1 * lg.clip_width, y1 * lg.clip_height])

    def _on_motion(self, _change=None):
        if self._syncing:
            return
        speed = self.horizontal.value, self.vertical.value       # read before _on_box resyncs them
        if self.logic.selected is None or self.logic.region(self.logic.selected) is None:
            self._on_box()
        self._edit(self.logic.set_motion, self.logic.selected, *speed)

    def _brush_to_sliders(self):
        lg, i = self.logic, self.logic.selected
        if i is None:
            return
        box = lg.items[i]["box"]
        if box is not None:
            self.box_x.value = (box[0] / lg.clip_width, box[2] / lg.clip_width)
            self.box_y.value = (box[1] / lg.clip_height, box[3] / lg.clip_height)
        h, v = lg.motion(i)
        self.horizontal.value, self.vertical.value = float(np.clip(h, -1, 1)), float(np.clip(v, -1, 1))


def draw_arrow(canvas, start, end, head: float = 9.0):
    (x0, y0), (x1, y1) = start, end
    canvas.stroke_line(x0, y0, x1, y1)
    angle = np.arctan2(y1 - y0, x1 - x0)
    for side in (-0.45, 0.45):
        canvas.stroke_line(x1, y1, x1 - head * np.cos(angle + side), y1 - head * np.sin(angle + side))
