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
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from .. import parse_size
from ..errors import InvalidInput
from ..shot import MAX_SEED, Shot, draw_seed

NO_CAMERA = "none"
CUSTOM_CAMERA = "custom"
FIELDS = ("prompt", "negative_prompt", "engine_picker", "seconds", "fps", "size", "steps", "guidance",
          "seed", "dice", "lock_seed", "camera_preset", "camera_intensity", "camera_mode", "camera_slot")
_STYLE = {"description_width": "78px"}


def parse_number(field: str, text) -> float:
    """A number typed as text (the fps box), refused in words if it is not one."""
    try:
        return float(str(text).strip())
    except ValueError:
        raise InvalidInput(field, text, "must be a number") from None


class ShotForm(widgets.VBox):
    """Prompt, negative prompt, engine, duration, fps, size, steps, guidance, seed, camera."""

    def __init__(self, **kwargs):
        W, half = widgets, widgets.Layout(width="190px")
        self._camera_source: Callable[[], Any] | None = None
        self._camera_widget = None
        self._restored_camera = None
        self._seed_by_us = False
        self.prompt = W.Textarea(placeholder="a red ball bouncing on a green field", description="prompt",
                                 rows=3, style=_STYLE, layout=W.Layout(width="100%"))
        self.negative_prompt = W.Textarea(placeholder="what to avoid (optional)", rows=1,
                                          description="negative", style=_STYLE, layout=W.Layout(width="100%"))
        self.engine_picker = W.Dropdown(description="engine", style=_STYLE)
        self.seconds = W.FloatText(value=2.0, step=0.125, description="seconds", style=_STYLE, layout=half)
        self.fps = W.Combobox(description="fps", ensure_option=False, style=_STYLE, layout=half)
        self.size = W.Combobox(description="size", ensure_option=False, placeholder="WxH", style=_STYLE,
                               layout=half)
        self.steps = W.IntText(value=20, description="steps", style=_STYLE, layout=half)
        self.guidance = W.FloatText(value=4.0, step=0.5, description="guidance", style=_STYLE, layout=half)
        self.seed = W.IntText(value=draw_seed(), description="seed", style=_STYLE, layout=half)
        self.dice = W.Button(icon="dice", tooltip="draw a new random seed", layout=W.Layout(width="36px"))
        self.lock_seed = W.Checkbox(value=False, description="lock seed", indent=False,
                                    layout=W.Layout(width="100px"))
        self.seed.observe(self._on_seed_typed, "value")
        from ..camera import MAX_INTENSITY, preset_names

        self.camera_preset = W.Dropdown(options=(NO_CAMERA, *preset_names()), value=NO_CAMERA,
                                        description="camera", style=_STYLE)
        self.camera_intensity = W.FloatSlider(value=1.0, min=0.1, max=float(MAX_INTENSITY), step=0.1,
                                              description="intensity", style=_STYLE)
        self.camera_mode = W.Dropdown(options=("auto",), value="auto", description="mode", style=_STYLE)
        self.camera_slot = W.VBox([self.camera_preset, self.camera_intensity, self.camera_mode])
        super().__init__([self.prompt, self.negative_prompt, self.engine_picker,
                          W.HBox([self.seconds, self.fps]), W.HBox([self.size, self.steps]),
                          W.HBox([self.guidance]), W.HBox([self.seed, self.dice, self.lock_seed]),
                          self.camera_slot], **kwargs)

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
        has_camera = bool(caps.camera_modes)
        self.camera_mode.options = ("auto", *caps.camera_modes)
        for w in (self.camera_preset, self.camera_intensity, self.camera_mode):
            w.disabled = not has_camera
        if not has_camera:
            self.camera_preset.value = NO_CAMERA

    # ---- camera slot (Director Mode's pad plugs in here) -------------------------------------
    def set_camera_control(self, widget, get_camera: Callable[[], Any] | None = None) -> None:
        """Put a camera widget in the camera slot; the form then reads the move from
        `get_camera()` (default: `widget.path`, e.g. a CameraPad's CameraPath)."""
        self._camera_widget = widget
        self._camera_source = get_camera or (lambda: widget.path)
        self.camera_slot.children = (widget, self.camera_mode)

    def camera(self):
        """The camera move: None, a preset spec such as 'zoom_in:0.5', or a CameraPath."""
        if self._camera_source is not None:
            return self._camera_source()
        name = self.camera_preset.value
        if name == NO_CAMERA:
            return None
        if name == CUSTOM_CAMERA:
            return self._restored_camera
        return f"{name}:{self.camera_intensity.value:g}"

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
    def shot(self, *, new_seed: bool = False) -> Shot:
        """The form as a validated Shot (raises InvalidInput naming the field).
        With `new_seed` and the lock off, a fresh seed is drawn and shown first."""
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
                    camera_mode=self.camera_mode.value)

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
        self._restore_camera(shot)

    def _restore_camera(self, shot: Shot) -> None:
        cam = shot.camera
        self.camera_mode.value = shot.camera_mode if shot.camera_mode in self.camera_mode.options else "auto"
        if self._camera_widget is not None and cam is not None and hasattr(type(self._camera_widget), "path"):
            self._camera_widget.path = cam
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
