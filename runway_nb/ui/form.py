"""The Studio's settings form: widgets ⇄ a validated `Shot`. No torch is imported here.

    form = ShotForm()
    form.apply_capabilities(engine.capabilities)   # offer only what the engine can do
    shot = form.shot(new_seed=True)                # InvalidInput names the field if not
    form.restore(clip.shot)                        # exact settings back, seed locked

Nothing is corrected silently: a size typed as text, fps 0 or a seed beyond 2**63 − 1
reach `Shot` (or the checks here) and come back as InvalidInput naming the field,
the value and what is allowed, for the Studio's status line.

The camera slot (`form.camera_slot`) holds a preset + intensity; Director Mode's
drawing pad plugs in with `form.set_camera_control(pad)` and then supplies the move.
A plugged-in pad follows the duration and frame rate typed in the form, and is hidden
(no camera in the shot) while the engine has no camera control. A pad with nothing on
it (untouched, or cleared) means no camera move: the shot's camera is None, exactly as
`rn.generate` without `camera=`; pressing the pad's "static" preset asks for a static
camera, which the model is told.

The brush slot (`form.brush_slot`) is empty until Director Mode's brush pad plugs in with
`form.set_brush_control(pad)`; a "camera | brushes" toggle (`form.pad_picker`) then
shows one slot at a time. The pad's brushes go into the shot (an empty pad: none), it
follows the clip's length and size, and a restored shot puts its brushes back on it.
While the engine cannot apply motion brushes the pad is hidden and a one-line note says
why; the shot then has none (the engine would refuse them).

Layout: fields come in pairs of fixed width that wrap to one per line when the
notebook is narrow (see `layout.py`), so no box is ever cut off at the column's edge.
The prompt box (`form.prompt`) is not among the form's children: its owner places it
(the Studio puts it on top, next to Generate).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from .. import parse_size
from ..errors import InvalidInput
from ..shot import MAX_SEED, Shot, draw_seed
from .layout import keep_width, row, tool_button

NO_CAMERA = "none"
CUSTOM_CAMERA = "custom"
FIELDS = ("prompt", "negative_prompt", "engine_picker", "seconds", "fps", "size", "steps", "guidance",
          "motion_mode", "seed", "dice", "lock_seed", "camera_preset", "camera_intensity", "camera_mode",
          "camera_slot", "pad_picker", "brush_slot", "brush_note")
_STYLE = {"description_width": "78px"}
FIELD_WIDTH = "190px"       # two fields side by side fill the Studio's 400-pixel settings column


def parse_number(field: str, text) -> float:
    """A number typed as text (the fps box), refused in words if it is not one."""
    try:
        return float(str(text).strip())
    except ValueError:
        raise InvalidInput(field, text, "must be a number") from None


def _is_empty(camera) -> bool:
    """A pad's path with nothing on it: one keyframe at rest, no preset, no duration."""
    from ..camera import CameraPath

    return isinstance(camera, CameraPath) and camera.to_dict() == CameraPath().to_dict()


class ShotForm(widgets.VBox):
    """Prompt, negative prompt, engine, duration, fps, size, steps, guidance, seed, camera.
    Shows all but the prompt, which its owner places (see the module docstring)."""

    def __init__(self, **kwargs):
        W = widgets

        def half():
            return W.Layout(width=FIELD_WIDTH, flex="0 0 auto")

        def full():            # the column's width (a stretched flex item), at most two fields
            return W.Layout(width="auto", max_width="388px")

        self._camera_source: Callable[[], Any] | None = None
        self._camera_widget = None
        self._restored_camera = None
        self._brush_source: Callable[[], Any] | None = None
        self._brush_widget = None
        self._has_brushes = False
        self._seed_by_us = False
        self.prompt = W.Textarea(placeholder="a red ball bouncing on a green field", description="prompt",
                                 rows=3, style=_STYLE, layout=W.Layout(width="auto"))
        self.negative_prompt = W.Textarea(placeholder="what to avoid (optional)", rows=1,
                                          description="negative", style=_STYLE, layout=W.Layout(width="auto"))
        self.engine_picker = W.Dropdown(description="engine", style=_STYLE, layout=full())
        self.seconds = W.FloatText(value=2.0, step=0.125, description="seconds", style=_STYLE, layout=half())
        self.fps = W.Combobox(description="fps", ensure_option=False, style=_STYLE, layout=half())
        self.size = W.Combobox(description="size", ensure_option=False, placeholder="WxH", style=_STYLE,
                               layout=half())
        self.steps = W.IntText(value=20, description="steps", style=_STYLE, layout=half())
        self.guidance = W.FloatText(value=4.0, step=0.5, description="guidance", style=_STYLE, layout=half())
        # wide enough for any seed up to 2**63 - 1 (19 digits)
        self.seed = W.IntText(value=draw_seed(), description="seed", style=_STYLE,
                              layout=W.Layout(width="250px", flex="0 0 auto"))
        self.dice = tool_button(icon="dice", tooltip="draw a new random seed")
        self.lock_seed = W.Checkbox(value=False, description="lock seed", indent=False,
                                    layout=W.Layout(width="auto", flex="0 0 auto"))
        self.seed.observe(self._on_seed_typed, "value")
        from ..camera import MAX_INTENSITY, preset_names

        self.camera_preset = W.Dropdown(options=(NO_CAMERA, *preset_names()), value=NO_CAMERA,
                                        description="camera", style=_STYLE, layout=full())
        self.camera_intensity = W.FloatSlider(value=1.0, min=0.1, max=float(MAX_INTENSITY), step=0.1,
                                              description="intensity", style=_STYLE, layout=full())
        self.camera_mode = W.Dropdown(options=("auto",), value="auto", description="mode", style=_STYLE,
                                      layout=full())
        self.camera_slot = W.VBox([self.camera_preset, self.camera_intensity, self.camera_mode])
        # how the prompt's object motion is made: planned (a brush along the words' path) or
        # the model's own; the engine lists what it can (apply_capabilities)
        self.motion_mode = W.Dropdown(options=("auto", "native"), value="auto", description="motion",
                                      style=_STYLE, layout=full(),
                                      tooltip="planned: the prompt's motion is followed as a brush")
        self._has_camera = True
        # the brush pad's slot and the toggle between the two pads: shown once a pad plugs in
        self.brush_note = W.HTML("", layout=W.Layout(width="auto"))
        self.brush_slot = W.VBox([self.brush_note], layout=W.Layout(display="none"))
        self.pad_picker = keep_width(W.ToggleButtons(
            options=(("camera", "camera"), ("brushes", "brushes")), value="camera",
            tooltips=("the camera move", "motion brushes: regions that move on their own"),
            style={"button_width": "auto"}, layout=W.Layout(display="none")))
        self.pad_picker.observe(self._show_pad, "value")
        for field in (self.seconds, self.fps, self.size):
            field.observe(self._follow_clip, "value")
        super().__init__([self.negative_prompt, self.engine_picker,
                          row(self.seconds, self.fps), row(self.size, self.steps),
                          row(self.guidance, self.motion_mode), row(self.seed, self.dice, self.lock_seed),
                          row(self.pad_picker), self.camera_slot, self.brush_slot], **kwargs)

    # ---- capabilities ---------------------------------------------------------------------
    def apply_capabilities(self, caps) -> None:
        """Offer the engine's sizes, frame rates and camera modes; reset to its defaults.
        A control with a single choice is shown disabled (it says what the engine makes)."""
        fps_options = [f"{f:g}" for f in caps.fps]
        sizes = [f"{w}x{h}" for w, h in caps.sizes]
        self.fps.options, self.fps.value = fps_options, f"{caps.default_fps:g}"
        self.fps.disabled = len(fps_options) == 1
        self.fps.tooltip = f"this engine makes {', '.join(fps_options) or 'any'} fps"
        self.size.options, self.size.value = sizes, "{}x{}".format(*caps.default_size)
        self.size.disabled = len(sizes) == 1
        self.size.tooltip = f"this engine makes {', '.join(sizes) or 'any size'}"
        self.seconds.value = round(caps.default_frames / caps.default_fps, 3)
        self.seconds.tooltip = f"at most {caps.max_frames / caps.default_fps:g} s"
        self.steps.value, self.guidance.value = caps.default_steps, caps.default_guidance
        self.negative_prompt.disabled = not caps.negative_prompt
        has_camera = self._has_camera = bool(caps.camera_modes)
        self.camera_mode.options = ("auto", *caps.camera_modes)
        for w in (self.camera_preset, self.camera_intensity, self.camera_mode):
            w.disabled = not has_camera
        if not has_camera:
            self.camera_preset.value = NO_CAMERA
        self._show_camera_widget()
        self._has_brushes = bool(getattr(caps, "motion_brushes", False))
        self._show_brush_widget()
        modes = tuple(dict.fromkeys(("auto", *getattr(caps, "motion_modes", ()), "native")))
        self.motion_mode.options, self.motion_mode.value = modes, "auto"
        self.motion_mode.disabled = len(modes) == 2          # auto is native: nothing to choose

    # ---- camera slot (Director Mode's pad plugs in here) -------------------------------------
    def set_camera_control(self, widget, get_camera: Callable[[], Any] | None = None) -> None:
        """Put a camera widget in the camera slot; the form then reads the move from
        `get_camera()` (default: `widget.path`, e.g. a CameraPad's CameraPath)."""
        self._camera_widget = widget
        self._camera_source = get_camera or (lambda: widget.path)
        self.camera_slot.children = (widget, self.camera_mode)
        self._show_camera_widget()
        self._follow_clip()

    @property
    def camera_widget(self):
        """The widget in the camera slot (e.g. a CameraPad), or None with the presets."""
        return self._camera_widget

    def _show_camera_widget(self) -> None:
        """A pad is hidden while the engine has no camera control (it would draw a move
        the engine refuses); the presets stay visible, disabled, saying the same."""
        if self._camera_widget is not None:
            self._camera_widget.layout.display = None if self._has_camera else "none"

    def _follow_clip(self, _change=None) -> None:
        """Keep a pad's timeline as long as the clip typed in the form (its keyframe times
        scale with it) at the form's frame rate. Values the Shot would refuse are skipped
        here: Generate names them."""
        follow = getattr(self._camera_widget, "set_clip", None)
        if follow is not None:
            try:
                fps = parse_number("fps", self.fps.value) if str(self.fps.value).strip() else None
                follow(duration=self.seconds.value, fps=fps)
            except InvalidInput:
                pass
        follow = getattr(self._brush_widget, "set_clip", None)      # brushes: length and size
        if follow is not None:
            try:
                follow(duration=self.seconds.value, clip_size=parse_size(self.size.value.strip() or None))
            except InvalidInput:
                pass

    def camera(self):
        """The camera move: None, a preset spec such as 'zoom_in:0.5', or a CameraPath."""
        if self._camera_source is not None:
            if not self._has_camera:
                return None
            cam = self._camera_source()
            return None if _is_empty(cam) else cam
        name = self.camera_preset.value
        if name == NO_CAMERA:
            return None
        if name == CUSTOM_CAMERA:
            return self._restored_camera
        return f"{name}:{self.camera_intensity.value:g}"

    # ---- brush slot (Director Mode's brush pad plugs in here) -----------------------------------
    def set_brush_control(self, widget, get_brushes: Callable[[], Any] | None = None) -> None:
        """Put a brush widget in the brush slot; the form then reads the shot's motion
        brushes from `get_brushes()` (default: `widget.brushes`, e.g. a BrushPad's list)."""
        self._brush_widget = widget
        self._brush_source = get_brushes or (lambda: widget.brushes)
        self.brush_slot.children = (self.brush_note, widget)
        self.pad_picker.layout.display = None
        self._show_pad()
        self._show_brush_widget()
        self._follow_clip()

    @property
    def brush_widget(self):
        """The widget in the brush slot (e.g. a BrushPad), or None."""
        return self._brush_widget

    def _show_pad(self, _change=None) -> None:
        """One slot at a time: the camera's or the brushes'."""
        brushes = self.pad_picker.value == "brushes" and self._brush_widget is not None
        self.camera_slot.layout.display = "none" if brushes else None
        self.brush_slot.layout.display = None if brushes else "none"

    def _show_brush_widget(self) -> None:
        """Hide the pad while the engine cannot apply brushes, and say so in one line."""
        if self._brush_widget is None:
            return
        self._brush_widget.layout.display = None if self._has_brushes else "none"
        self.brush_note.value = "" if self._has_brushes else (
            f"<i>The {html.escape(str(self.engine_picker.value))} engine cannot apply motion brushes: "
            "the shot gets none (the tiny engine can).</i>")

    def brushes(self) -> tuple:
        """The shot's motion brushes: () with no brush pad, an empty pad, or an engine that
        cannot apply them."""
        if self._brush_source is None or not self._has_brushes:
            return ()
        return tuple(self._brush_source() or ())

    def brushes_on_pad(self) -> bool:
        """Something is on the (shown) brush pad: a brush painted, or one not finished."""
        try:
            return bool(self.brushes())
        except InvalidInput:
            return True

    # ---- seed -------------------------------------------------------------------------------
    def roll_seed(self) -> int:
        """The dice: a fresh random seed in the seed box (the lock is kept as it is)."""
        self._set_seed(draw_seed())
        return self.seed.value

    def _set_seed(self, value: int) -> None:
        self._seed_by_us = True
        try:
            self.seed.value = value
        finally:
            self._seed_by_us = False

    def _on_seed_typed(self, _change) -> None:
        if not self._seed_by_us:
            self.lock_seed.value = True     # a seed typed by hand is the one meant: keep it

    # ---- form ⇄ Shot --------------------------------------------------------------------------
    def shot(self, *, new_seed: bool = False, brushes: bool = True) -> Shot:
        """The form as a validated Shot (raises InvalidInput naming the field).
        With `new_seed` and the lock off, a fresh seed is drawn and shown first; with
        `brushes=False` the brush pad is neither read nor checked (Extend's shot)."""
        if new_seed and not self.lock_seed.value:
            self._set_seed(draw_seed())
        seed = self.seed.value
        if not 0 <= seed <= MAX_SEED:
            raise InvalidInput("seed", seed, f"must be between 0 and {MAX_SEED} (2**63 - 1)",
                               "Press the dice for a fresh one.")
        wh = parse_size(self.size.value.strip() or None)
        fps = self.fps.value.strip()
        return Shot(prompt=self.prompt.value, negative_prompt=self.negative_prompt.value, seed=seed,
                    seconds=self.seconds.value, fps=parse_number("fps", fps) if fps else None,
                    width=None if wh is None else wh[0], height=None if wh is None else wh[1],
                    steps=self.steps.value, guidance=self.guidance.value,
                    engine=str(self.engine_picker.value), camera=self.camera(),
                    camera_mode=self.camera_mode.value, brushes=self.brushes() if brushes else (),
                    motion_mode=self.motion_mode.value)

    def restore(self, shot: Shot, default_fps: float = 8.0) -> None:
        """Put a shot's exact settings in the form (the engine is the caller's business),
        seed locked so the next Generate re-makes it."""
        fps = shot.fps or default_fps
        self.prompt.value, self.negative_prompt.value = shot.prompt, shot.negative_prompt
        self.fps.value = f"{fps:g}"
        self.seconds.value = shot.frames / fps if shot.frames is not None else (shot.seconds or 2.0)
        if shot.width is not None and shot.height is not None:
            self.size.value = f"{shot.width}x{shot.height}"
        if shot.steps is not None:
            self.steps.value = shot.steps
        if shot.guidance is not None:
            self.guidance.value = shot.guidance
        self._set_seed(shot.seed)
        self.lock_seed.value = True
        self.motion_mode.value = shot.motion_mode if shot.motion_mode in self.motion_mode.options else "auto"
        self._restore_camera(shot)
        settable = getattr(type(self._brush_widget), "brushes", None)
        if isinstance(settable, property) and settable.fset is not None:
            self._brush_widget.brushes = shot.brushes     # after the length and size: the pad follows them

    def _restore_camera(self, shot: Shot) -> None:
        cam = shot.camera
        self.camera_mode.value = shot.camera_mode if shot.camera_mode in self.camera_mode.options else "auto"
        if self._camera_widget is not None and hasattr(type(self._camera_widget), "path"):
            from ..camera import CameraPath

            self._camera_widget.path = cam if cam is not None else CameraPath()   # None: an empty pad
            return
        options = [o for o in self.camera_preset.options if o != CUSTOM_CAMERA]
        if cam is None:
            self.camera_preset.options, self.camera_preset.value = options, NO_CAMERA
        elif getattr(cam, "preset_name", None) in options and cam.intensity is not None:
            self.camera_preset.options, self.camera_preset.value = options, cam.preset_name
            self.camera_intensity.value = cam.intensity
        else:                               # a drawn or imported path: kept whole, shown as "custom"
            self._restored_camera = cam
            self.camera_preset.options = [*options, CUSTOM_CAMERA]
            self.camera_preset.value = CUSTOM_CAMERA
