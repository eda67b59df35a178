"""What the camera pad draws: the picture, the path over it, the live stroke and the timeline strip.

`CameraPad` (`camera_pad.py`) forwards pointer events to `CameraPadLogic` and then asks
for a redraw; this mixin turns the logic's state into ipycanvas commands. The pad's
canvas has three layers, so a drag repaints only what changes:

    canvas[0]  the background: the clip's first frame, or a grid when there is none
    canvas[1]  the path: its trace, keyframe dots, the camera frame and its handles
    canvas[2]  live: the stroke being drawn and, with "animate", the moving camera frame
    strip      the timeline: a diamond per keyframe and the frame cursor

The mixin expects the pad's `canvas`, `strip`, `logic`, `_preview`, `animate` and
`cursor_time`. `draw_grid` is shared with the brush pad. No torch is imported here.
"""

from __future__ import annotations

from .pad_logic import fit

_STRIP = 30                 # timeline strip height, pixels
_PAD_X = 8                  # timeline strip margin, pixels


def draw_grid(canvas, width: int, height: int):
    canvas.fill_style = "#2a2d33"
    canvas.fill_rect(0, 0, width, height)
    canvas.line_width = 1
    for k in range(1, 8):
        canvas.stroke_style = "#50555e" if k % 4 else "#7a808a"
        canvas.stroke_line(k * width / 8, 0, k * width / 8, height)
        canvas.stroke_line(0, k * height / 8, width, k * height / 8)


class CameraPadDrawing:
    """The canvas-mode drawing of `CameraPad` (a mixin: it holds no state of its own)."""

    # The _paint_* methods only issue commands; the public entry points wrap them in one
    # hold_canvas() each, so every redraw reaches the browser as a single message.
    def redraw_all(self, *_):
        """Everything, from state: what a new or reconnected view needs."""
        self._batch(self._paint_background, self._paint_path, self._paint_strip, self._paint_live)

    def redraw(self):
        """The path layer, the timeline strip and the live layer."""
        self._batch(self._paint_path, self._paint_strip, self._paint_live)

    def _draw_live(self, strip: bool = True):
        """The stroke being drawn and the animated camera frame (and the strip's cursor)."""
        self._batch(self._paint_live, *([self._paint_strip] if strip else []))

    def _draw_background(self):
        self._batch(self._paint_background)

    @staticmethod
    def _batch(*painters):
        from ipycanvas import hold_canvas

        with hold_canvas():
            for paint in painters:
                paint()

    def _strip_x(self, t: float) -> float:
        return _PAD_X + t / self.logic.duration * (self.logic.width - 2 * _PAD_X)

    def _paint_background(self):
        bg, (w, h) = self.canvas[0], (self.logic.width, self.logic.height)
        bg.clear()
        if self._preview is None:
            draw_grid(bg, w, h)
        else:
            bg.put_image_data(fit(self._preview, w, h), 0, 0)   # sent as binary JPEG bytes

    def _paint_path(self):
        lg, fg = self.logic, self.canvas[1]
        fg.clear()
        fg.line_width, fg.stroke_style = 2, "#ffd400"
        fg.stroke_lines(lg.trace())
        for i, k in enumerate(lg.path.keyframes):
            x, y = lg.to_pad(*lg.camera_at(k.time)[:2])
            fg.fill_style = "#ff3b30" if i == lg.selected else "#ffd400"
            fg.fill_circle(float(x), float(y), 5 if i == lg.selected else 3)
        fg.stroke_style, fg.line_width = "#ff3b30", 2
        box = lg.outline(lg.target_time())
        fg.stroke_polygon(box)
        handles = lg.handles()
        fg.fill_style = "#ffffff"
        fg.fill_rect(handles["zoom"][0] - 5, handles["zoom"][1] - 5, 10, 10)
        top = (box[0] + box[1]) / 2
        fg.stroke_line(float(top[0]), float(top[1]), *handles["roll"])
        fg.fill_circle(*handles["roll"], 6)

    def _paint_strip(self):
        s, lg, mid = self.strip, self.logic, _STRIP / 2
        s.clear()
        s.fill_style = "#2a2d33"
        s.fill_rect(0, 0, lg.width, _STRIP)
        s.stroke_style, s.line_width = "#7a808a", 1
        s.stroke_line(_PAD_X, mid, lg.width - _PAD_X, mid)
        for i, k in enumerate(lg.path.keyframes):
            x, r = self._strip_x(k.time), 7 if i == lg.selected else 5
            s.fill_style = "#ff3b30" if i == lg.selected else "#ffd400"
            s.fill_polygon([(x, mid - r), (x + r, mid), (x, mid + r), (x - r, mid)])
        s.stroke_style = "#ffffff"
        cursor = self._strip_x(self.cursor_time)
        s.stroke_line(cursor, 2, cursor, _STRIP - 2)

    def _paint_live(self):
        live, lg = self.canvas[2], self.logic
        live.clear()
        stroke = lg.stroke
        if len(stroke) > 1:
            live.stroke_style, live.line_width = "#ffffff", 2
            live.stroke_lines(stroke)
        if self.animate.value:
            live.stroke_style, live.line_width = "#33c3ff", 3
            live.stroke_polygon(lg.outline(self.cursor_time))


__all__ = ["CameraPadDrawing", "draw_grid"]
