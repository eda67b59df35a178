"""`rn.Studio()`: the text-to-video studio as one notebook widget (plain ipywidgets).

    studio = rn.Studio()              # prompt, settings, camera pad, Generate, live preview,
    studio                            # player, gallery: it shows itself
    studio.prompt.value = "a red ball bouncing"
    studio.generate(wait=True)        # every button has a Python twin
    studio.clip                       # the last clip made
    studio.extend(wait=True)          # continue it by the form's seconds (Extend)

A thin skin: the form becomes a `Shot` (validated by the core, which names the field
and the value when something is wrong), the engine renders it on a worker thread
(`ui/worker.py`), and the Studio only shows what comes back (`ui/studio_feedback.py`). The kernel stays
responsive during a render, so Cancel stops it within one denoising step. Errors show
in the status line in words (in JupyterLab an exception raised in a button callback
would otherwise vanish), and the progress bar turns red on failure or cancel, green on
success. A clip is shown and put in the project folder (the gallery) only once it is
complete, so a failed or cancelled render leaves earlier clips untouched. A clip the
project folder cannot take (read-only, full, deleted) stays in `studio.clips` and is
listed in `studio.unsaved`; the next clip that saves takes those along, and
`studio.save_unsaved()` saves them by hand.

Extend continues the clip in the player (the last made, or one picked in the gallery) by
the form's seconds, with the form's prompt and the camera pad's move (an empty pad: the
clip's own move goes on), the way `clip.extend` does; the longer clip takes its place in
the player and joins the gallery with its parent recorded, and the parent stays as it was.

Controls follow the engine's capabilities: sizes and frame rates it cannot make are
not offered, camera controls are disabled for an engine without camera control, and
Extend for one that cannot extend.
The camera slot (`studio.camera_slot`) holds Director Mode's camera pad
(`studio.camera_pad`: drag on the picture, or press a preset), or with
`Studio(camera="presets")` a preset dropdown + intensity. Any other camera widget plugs
in with `studio.set_camera_control(widget)`. Next to it, behind a "camera | brushes"
toggle, Director Mode's brush pad (`studio.brush_pad`; `studio.brushes` is what the next
shot gets): paint a region, draw its motion. An empty pad means no brushes; an engine
that cannot apply brushes hides the pad and says so in one line.

Once a clip is made, both pads show its first frame to draw on. The render finishes on
the worker thread, which never draws on a canvas (ipycanvas batches drawing commands
globally, so two threads drawing at once could mix them): it leaves the frame for the
main thread, which shows it at the next pad event, Generate or gallery pick.

Layout: the prompt, Generate / Cancel, progress and status on top; the live preview
and player on the left, the settings and the camera | brushes pads on the right; the
gallery below.
The two columns sit side by side from about 740 pixels of notebook width and stack
(results first, near Generate) when it is narrower, and every row of controls wraps
rather than cutting a label or a box short (`layout.py`). Each part carries a stable
CSS class (`Studio.CSS_CLASSES`, listed in the class docstring).

No torch import here: the engine is loaded (and torch with it) when the Studio is made.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from ..errors import InvalidInput, RunwayError, SequenceChanged
from ..shot import Shot
from .form import FIELDS, ShotForm
from .gallery import Gallery
from .layout import row, tool_button
from .player import Player, blank_png
from .studio_feedback import RenderFeedback
from .worker import Renderer, StartResult


def _capabilities(engine):
    from ..engines.base import Capabilities

    return engine.capabilities if engine is not None else Capabilities()


def _provenance(entry) -> dict:
    """How a clip or a gallery entry was made (clip.provenance, or its stored record's)."""
    prov = getattr(entry, "provenance", None)
    if prov is None:
        prov = (getattr(entry, "record", None) or {}).get("provenance")
    return prov if isinstance(prov, dict) else {}


def _made_from(entry) -> tuple[str, str] | None:
    """(what it is, the clip it came from) for an upscale, in-betweens or a cut of a clip."""
    prov = _provenance(entry)
    for key, how in (("upscaled_from", "an upscale"), ("interpolated_from", "in-betweens"),
                     ("sliced_from", "a cut")):
        if isinstance(prov.get(key), str):
            return how, prov[key]
    return None


class Studio(RenderFeedback, widgets.VBox):
    """Prompt → settings → camera → Generate → live preview → player → gallery → sequence.

    `engine`: an engine id or weights folder, or an engine already loaded
    (`rn.load_engine("wan", device="cuda")`: used as it is); `device`, `dtype`,
    `engine_options`: how the Studio loads engines (e.g. `rn.Studio("wan", device="cuda")`
    on a Colab GPU; default: the given engine's device, or, given an engine id and none of
    the three, the engine the notebook already loaded under each id picked, as it was
    loaded, else one loaded on the "cpu", as `rn.generate` does); `store`: the project folder (a path, a
    Store, or False for none); `sequence`: the film Add to sequence appends to (default:
    the project's sequence "studio", saved on every edit and reloaded after a restart;
    in memory only without a project folder); `camera`: "pad" (the camera pad; plain sliders where
    ipycanvas cannot render) or "presets" (a dropdown and an intensity); `brush_pad`:
    False leaves the brush pad out.

    Stable CSS classes, set by the Studio on its parts (tests and your own CSS can rely
    on them; e.g. `.rn-status { font-size: 14px }`):

    =====================  ===========================================================
    rn-studio              the whole Studio
    rn-command-bar         the top: prompt, Generate / Cancel / Add, progress, status
    rn-results             the live preview and the player (left)
    rn-settings            the settings and the camera (right)
    rn-prompt              prompt box (a textarea inside)
    rn-negative-prompt     negative prompt box
    rn-engine              engine picker
    rn-seconds rn-fps      duration (seconds) and frame rate
    rn-size rn-steps       size (WxH) and denoising steps
    rn-guidance            guidance scale
    rn-seed rn-dice        seed box and its dice button
    rn-lock-seed           the seed lock
    rn-pad-picker          the "camera | brushes" toggle between the two pads
    rn-camera              the camera slot; the pad inside it is `rn-camera-pad`, its
                           drawing surface `rn-camera-canvas` (set by CameraPad)
    rn-brushes             the brush slot; the pad inside it is `rn-brush-pad`, its
                           painting surface `rn-brush-canvas` (set by BrushPad)
    rn-brush-note          why the brush pad is hidden (an engine without motion brushes)
    rn-generate            Generate button
    rn-extend              Extend button (continue the clip in the player)
    rn-cancel              Cancel button
    rn-add-to-sequence     Add to sequence button
    rn-progress            progress bar
    rn-progress-label      "step 3/20 · ~2 s left", "done · 16 frames", "cancelled at …"
    rn-status              the status line: messages and errors, in words
    rn-preview             live denoising preview (an <img>)
    rn-player              the clip player (its HTML5 <video> fallback is inside)
    rn-gallery             the gallery of the project's clips
    =====================  ===========================================================
    """

    CSS_CLASSES = {           # attribute -> CSS class (the table above; the root is rn-studio)
        "command_bar": "rn-command-bar", "results_column": "rn-results", "settings_column": "rn-settings",
        "prompt": "rn-prompt", "negative_prompt": "rn-negative-prompt", "engine_picker": "rn-engine",
        "seconds": "rn-seconds", "fps": "rn-fps", "size": "rn-size", "steps": "rn-steps",
        "guidance": "rn-guidance", "seed": "rn-seed", "dice": "rn-dice", "lock_seed": "rn-lock-seed",
        "pad_picker": "rn-pad-picker", "camera_slot": "rn-camera", "brush_slot": "rn-brushes",
        "brush_note": "rn-brush-note",
        "generate_button": "rn-generate", "extend_button": "rn-extend", "cancel_button": "rn-cancel",
        "sequence_button": "rn-add-to-sequence", "progress": "rn-progress",
        "progress_label": "rn-progress-label", "status": "rn-status", "preview": "rn-preview",
        "player": "rn-player", "gallery": "rn-gallery",
    }
    CAMERA_CONTROLS = ("pad", "presets")

    def __init__(self, engine: Any = "tiny", *, store: Any = None, sequence=None, camera: str = "pad",
                 brush_pad: bool = True, device: str | None = None, dtype=None,
                 engine_options: dict | None = None, preview_interval: float = 0.1,
                 clock: Callable[[], float] = time.monotonic):
        from ..engines.base import Engine
        from ..engines.registry import check_device

        if camera not in self.CAMERA_CONTROLS:
            raise InvalidInput("camera", camera, "must be 'pad' (the camera pad) or 'presets' "
                               "(a preset dropdown and an intensity)")
        # An engine loaded by the user (on a GPU, in fp16, with offload…) is used as it is;
        # engines picked later load on the same device (default: the given engine's, or cpu).
        self._given_engines = {engine.id: engine} if isinstance(engine, Engine) else {}
        if isinstance(engine, Engine):
            engine = engine.id
        self.device = device if device is not None else next(
            (str(getattr(e, "device", "cpu")) for e in self._given_engines.values()), "cpu")
        check_device(self.device)
        self.dtype, self.engine_options = dtype, dict(engine_options or {})
        # none of them given: an engine picked by id is the one the notebook loaded under it,
        # as it was loaded (rn.load_engine("ltx", device="cuda") beforehand: that one, not a
        # second copy on the CPU), else one loaded on the CPU — as rn.generate does
        self._as_loaded = (device is None and dtype is None and not self.engine_options
                           and not self._given_engines)
        self.clip = None                  # the last clip made (or restored)
        self.clips: list = []             # every clip made by this Studio, in order
        self.unsaved: list = []           # those the project folder could not take (yet)
        self.error: BaseException | None = None   # the last error shown (full object)
        self.engine = None
        self._left_out: list[str] = []   # the Studio's settings the picked engine does not take
        self._closed = False
        self._background_lock = threading.Lock()
        self._pending_background = None   # a finished clip's first frame, for the main thread
        self._note = ""                   # said beside the running job's messages (_start)
        self._form_ready = False          # an engine's capabilities applied to the form once
        self._keep_engine = False         # the picker's options change: no engine switch
        self.store = self._open_store(store)
        from ..sequence import Sequence

        if sequence is not None and not isinstance(sequence, Sequence):
            raise InvalidInput("sequence", sequence, "must be a runway_nb.Sequence, or None for the "
                                                     "project's own (saved in the project folder)")
        self._sequence = sequence
        self._project_sequence_owned = sequence is None   # the project's "studio", made here
        self.renderer = Renderer(on_progress=self._on_progress, on_preview=self._on_preview,
                                 on_done=self._on_done, on_error=self._on_error,
                                 on_state=self._on_state, preview_interval=preview_interval,
                                 clock=clock)
        self._build()
        self.engine_picker.options = self._engine_options(str(engine))
        self.engine_picker.value = self._first_engine = str(engine)
        self._load_engine()                          # and apply its capabilities to the form
        self.engine_picker.observe(self._on_engine, "value")
        if camera == "pad":
            from .camera_pad import CameraPad

            self.set_camera_control(CameraPad(duration=self.seconds.value))   # follows the form from here
        if brush_pad:
            from .brush_pad import BrushPad

            size = _capabilities(self.engine).default_size
            self.set_brush_control(BrushPad(clip_size=size, duration=self.seconds.value))
        self.pad_picker.observe(lambda _c: self._show_background(), "value")
        for pad in (self.camera_pad, self.brush_pad):
            canvas = getattr(pad, "canvas", None)
            if canvas is not None and hasattr(canvas, "on_mouse_move"):
                # runs after the pad's own handler, on the main thread (the comm handler)
                canvas.on_mouse_down(lambda *_: self._show_background())
                canvas.on_mouse_move(lambda *_: self._show_background())

    # ---- layout -------------------------------------------------------------------------
    def _build(self) -> None:
        W = widgets
        self.engine_error: BaseException | None = None
        self.form = ShotForm()
        for name in FIELDS:                       # studio.prompt, studio.seed, … : the form's widgets
            setattr(self, name, getattr(self.form, name))
        self.dice.on_click(self._shown(lambda _b: self.form.roll_seed()))
        self.generate_button = tool_button("Generate", icon="play", button_style="primary",
                                           tooltip="render the shot (studio.generate())")
        self.extend_button = tool_button("Extend", icon="forward", disabled=True,
                                         tooltip="continue the clip in the player by the form's seconds, "
                                                 "with its prompt and camera (studio.extend())")
        self.cancel_button = tool_button("Cancel", icon="stop", disabled=True,
                                         tooltip="stop the render within one step (studio.cancel())")
        self.sequence_button = tool_button("Add to sequence", icon="plus",
                                           tooltip="append the clip to studio.sequence")
        self.generate_button.on_click(self._shown(lambda _b: self.generate()))
        self.extend_button.on_click(self._shown(lambda _b: self.extend()))
        self.cancel_button.on_click(self._shown(lambda _b: self.cancel()))
        self.sequence_button.on_click(self._shown(lambda _b: self.add_to_sequence()))
        self.progress = W.IntProgress(value=0, min=0, max=1,
                                      layout=W.Layout(width="auto", flex="1 1 160px", max_width="260px"))
        self.progress_label = W.Label("", layout=W.Layout(width="auto", flex="0 0 auto"))
        self.status = W.HTML("", layout=W.Layout(width="auto"))      # the bar's width, wrapping
        # natural size (the 4-frame strip is 512 px wide), smaller only in a narrow column
        self.preview = W.Image(value=blank_png(512, 128), format="png", layout=W.Layout(
            min_height="128px", max_width="100%", margin="2px 0", align_self="flex-start"))
        self.player = Player()
        self.gallery = Gallery(self.store, on_pick=self._shown(self.restore), on_error=lambda exc:
                               self._show_error(exc, prefix="The gallery could not be re-read: "))
        # The prompt and Generate on top, so they stay together at any width; below, two
        # columns that wrap: side by side when both fit (320 + 400 px), else the results
        # first (what Generate changes stays near it) and the settings under them.
        self.command_bar = W.VBox([
            self.prompt, row(self.generate_button, self.extend_button, self.cancel_button, self.sequence_button,
                             self.progress, self.progress_label), self.status])
        self.results_column = W.VBox([
            W.HTML("<b>live preview</b> (denoised estimate)"), self.preview,
            W.HTML("<b>clip</b>"), self.player,
        ], layout=W.Layout(flex="1 1 320px", min_width="300px", margin="0 12px 0 0"))
        self.settings_column = W.VBox([self.form], layout=W.Layout(flex="0 1 400px", min_width="300px"))
        super().__init__([W.HTML("<h3 style='margin:4px 0'>runway_nb studio</h3>"), self.command_bar,
                          row(self.results_column, self.settings_column, align_items="flex-start"),
                          self.gallery])
        self.add_class("rn-studio")
        for name, css in self.CSS_CLASSES.items():
            getattr(self, name).add_class(css)

    # ---- engine and capabilities ----------------------------------------------------------
    def _engine_options(self, selected: str) -> list[tuple[str, str]]:
        try:
            from ..engines.registry import list_engines

            rows = list_engines()
        except Exception as exc:  # noqa: BLE001 - the picker still offers the chosen engine
            rows, self.engine_error = [], exc
        options = [(r["id"] + ("" if r["weights_available"] else " (weights missing)"), r["id"])
                   for r in rows]
        if selected not in {v for _, v in options}:
            parts = selected.replace("\\", "/").rstrip("/").split("/")
            options.append(("/".join(parts[-2:]) if len(parts) > 1 else selected, selected))
        return options

    def _add_engine_option(self, value: str) -> None:
        """Offer one more engine in the picker without switching to it (a Dropdown whose
        options change jumps to the first one, which would load that engine)."""
        current = self.engine_picker.value
        self._keep_engine = True
        try:
            self.engine_picker.options = [*self.engine_picker.options, (value, value)]
            self.engine_picker.value = current
        finally:
            self._keep_engine = False

    def _on_engine(self, change) -> None:
        if self._keep_engine:
            return
        if self._load_engine() is not None:
            # each model has its own good settings: say that the typed ones were replaced
            caps = _capabilities(self.engine)
            left = (f" It loaded without {', '.join(self._left_out)}, which it does not take (the "
                    f"Studio's settings for its other engines)." if self._left_out else "")
            self._say(f"Engine {change['new']}: size, fps, length, steps and guidance set to its "
                      f"defaults ({caps.default_steps} steps, guidance {caps.default_guidance:g})."
                      + left, "info")

    def _load_engine(self, reset_form: bool = True):
        """Load (or reuse) the picked engine as the Studio loads engines. The engine the
        Studio was made with takes its dtype and options as given (one it cannot take is
        refused, whenever it is loaded); another engine picked leaves out those it does not
        take (`_left_out`: `engine_options={"cpu_offload": True}` for LTX, then tiny picked).
        `reset_form` False (the same engine loaded again after `rn.unload_engine`): the
        settings typed in the form stay as they are."""
        from ..engines.registry import find_or_load_engine, load_engine, settings_for

        value = self.engine_picker.value
        self._left_out = []
        try:
            dtype, options = self.dtype, self.engine_options
            if value != self._first_engine and not self._as_loaded and value not in self._given_engines:
                dtype, options, self._left_out = settings_for(value, dtype, options)
            engine = self._given_engines.get(value) or (
                find_or_load_engine(value) if self._as_loaded else
                load_engine(value, device=self.device, dtype=dtype, **options))
            self.engine, self.engine_error = engine, None
        except Exception as exc:  # noqa: BLE001 - shown; Generate tries again
            self.engine, self.engine_error = None, exc
            self._show_error(exc, prefix="Could not load the engine: ")
            if self._form_ready:
                # its capabilities are unknown: the typed settings stay as they are (only
                # an engine that loads sets its defaults); Extend waits for an engine
                self.generate_button.disabled = self.renderer.busy
                self._enable_extend(self.renderer.busy)
                return None
        if reset_form or not self._form_ready:
            self._apply_capabilities()
        else:
            self.generate_button.disabled = self.renderer.busy
            self._enable_extend(self.renderer.busy)
        self._form_ready = True
        if self.engine is not None and self.status.value and "load the engine" in self.status.value:
            self._say("")
        return self.engine

    def _apply_capabilities(self) -> None:
        self.form.apply_capabilities(_capabilities(self.engine))
        self.generate_button.disabled = self.renderer.busy
        self._enable_extend(self.renderer.busy)

    def _enable_extend(self, busy: bool) -> None:
        """Extend is offered while there is a clip to extend, the engine can extend, and
        nothing renders (a clip restored from the gallery switches the engine to its own)."""
        self.extend_button.disabled = busy or self.clip is None or not _capabilities(self.engine).extend

    # ---- form ⇄ Shot (ShotForm does the work) ---------------------------------------------------
    def set_camera_control(self, widget, get_camera: Callable[[], Any] | None = None) -> None:
        """Plug a camera widget (Director Mode's pad) into the camera slot; Generate then
        takes the move from `get_camera()` (default: `widget.path`)."""
        self.form.set_camera_control(widget, get_camera)

    @property
    def camera_pad(self):
        """The widget in the camera slot (the CameraPad by default); None with presets."""
        return self.form.camera_widget

    def set_brush_control(self, widget, get_brushes: Callable[[], Any] | None = None) -> None:
        """Plug a brush widget into the brush slot; Generate then takes the shot's motion
        brushes from `get_brushes()` (default: `widget.brushes`)."""
        self.form.set_brush_control(widget, get_brushes)

    @property
    def brush_pad(self):
        """The widget in the brush slot (the BrushPad by default); None without one."""
        return self.form.brush_widget

    @property
    def brushes(self) -> tuple:
        """The motion brushes the next shot gets: () for an empty pad, or while the engine
        cannot apply brushes (InvalidInput names a brush with nothing painted)."""
        return self.form.brushes()

    def _show_background(self, frames=None) -> None:
        """Show a clip's first frame behind both pads. Main thread only: the worker leaves
        its frame in `_pending_background` and this picks it up at the next pad event."""
        if threading.current_thread() is not threading.main_thread():
            return
        with self._background_lock:
            pending, self._pending_background = self._pending_background, None
        frame = frames[0] if frames is not None else pending
        if frame is None or self._closed:
            return
        for pad, attribute in ((self.camera_pad, "preview"), (self.brush_pad, "frame")):
            if pad is not None and isinstance(getattr(type(pad), attribute, None), property):
                setattr(pad, attribute, frame)

    def shot(self, *, new_seed: bool = False) -> Shot:
        """The form as a validated Shot (InvalidInput names the field when it is not)."""
        return self.form.shot(new_seed=new_seed)

    def restore(self, entry) -> Shot:
        """Put a gallery entry's (or a Clip's, or a Shot's) exact settings back in the form,
        seed locked, so Generate re-makes that clip; the player shows the clip."""
        shot = entry if isinstance(entry, Shot) else getattr(entry, "shot", None)
        if not isinstance(shot, Shot):
            raise InvalidInput("entry", entry, "must be a gallery entry, a Clip or a Shot that has a shot")
        if shot.engine != self.engine_picker.value:
            if shot.engine not in {v for _, v in self.engine_picker.options}:
                self._add_engine_option(shot.engine)
            self.engine_picker.value = shot.engine         # loads it, applies its capabilities
        self.form.restore(shot, _capabilities(self.engine).default_fps)
        clip = entry if hasattr(entry, "frames") else None
        if clip is None and hasattr(entry, "load"):
            try:
                clip = entry.load()
            except Exception as exc:  # noqa: BLE001 - the settings are restored regardless
                self._show_error(exc, prefix="Settings restored, but the clip could not be loaded: ")
                return shot
        if clip is not None:
            self.clip = clip
            self.player.show(clip)
            self._show_background(clip.frames)
            self._enable_extend(self.renderer.busy)               # a clip to extend now
        name = getattr(entry, "id", "the shot")
        if self.engine is None:
            # the load error stays in words (and in studio.error): nothing to re-make it with yet
            error = self.engine_error
            self.error = error
            why = str(error) if isinstance(error, RunwayError) else f"{type(error).__name__}: {error}"
            self._say(f"Restored the settings of {name} (seed {shot.seed}, locked), but its engine "
                      f"{shot.engine!r} could not load, so Generate cannot re-make it until it "
                      f"does: {why}", "error")
        elif _made_from(entry) is not None:
            # an upscale, a cut or in-betweens carry the shot of the clip they were made from
            how, source = _made_from(entry)
            self._say(f"Restored the settings of {name} (seed {shot.seed}, locked), {how} of clip "
                      f"{source}: Generate re-makes {source}, not this clip.", "ok")
        elif isinstance(_provenance(entry).get("image"), dict):
            picture = _provenance(entry)["image"].get("name") or "a picture"
            self._say(f"Restored the settings of {name} (seed {shot.seed}, locked), which was made from "
                      f"{picture}: Generate makes a clip from the text alone, not that one.", "ok")
        elif shot.parent is not None:
            # an extension's shot is its continuation only: Generate cannot re-make it alone
            self._say(f"Restored the settings of {name} (seed {shot.seed}, locked), which continues "
                      f"{shot.parent}: Generate makes a new clip from them, not that continuation; "
                      f"Extend continues the clip in the player.", "ok")
        else:
            self._say(f"Restored the settings of {name} (seed {shot.seed}, locked): Generate re-makes "
                      "it exactly.", "ok")
        return shot

    # ---- actions (every button has this Python twin) ---------------------------------------------
    def generate(self, wait: bool = False) -> StartResult:
        """Start rendering the form's shot on the worker thread. Falsy (with `.message`)
        when refused: bad input, or a render already running."""
        refused = self._cannot_start()
        if refused is not None:
            return refused
        self._show_background()               # the last clip's first frame, if not shown yet
        self._sync_gallery()                  # clips saved meanwhile by another Studio
        try:
            engine = self._engine_now()
            if engine is None:
                raise self.engine_error
            shot = engine.resolve(self.shot(new_seed=True))
        except Exception as exc:  # noqa: BLE001 - bad input: said in words, nothing started
            self._refused(exc)
            return StartResult(False, str(exc))

        return self._start(lambda on_step, cancel: engine.render(
            shot, on_step=on_step, cancel=cancel, progress=False), wait)

    def extend(self, seconds: float | None = None, wait: bool = False) -> StartResult:
        """Continue the clip in the player (`studio.clip`) by `seconds` (default: the form's)
        on the worker thread, with the form's prompt and the pad's camera move (an empty
        pad: the clip's move goes on). Falsy (with `.message`) when refused: no clip yet,
        bad input, an engine that cannot extend, or a render already running."""
        from ..engines.registry import settings_for
        from ..ops.extend import continue_clip, plan_extension

        refused = self._cannot_start()
        if refused is not None:
            return refused
        clip = self.clip
        if clip is None:
            message = "Nothing to extend yet: generate a clip (or pick one in the gallery) first."
            self._say(message, "warn")
            return StartResult(False, message)
        try:
            # the prompt, seconds and camera, validated; not the brush pad: a continuation
            # starts without brushes (they were painted on the parent's first frame)
            form = self.form.shot(brushes=False)
            own = self._engine_of(clip)
            load = {}
            if own is None and clip.shot is not None:     # the clip's engine, loaded as the Studio's
                dtype, options, _ = settings_for(clip.shot.engine, self.dtype, self.engine_options)
                load = {"dtype": dtype, "engine_options": options}
            shot, engine = plan_extension(clip, form.seconds if seconds is None else seconds,
                                          prompt=form.prompt, camera=form.camera, engine=own,
                                          device=None if self._as_loaded else self.device, **load)
        except Exception as exc:  # noqa: BLE001 - bad input: said in words, nothing started
            self._refused(exc, prefix="Not extended: ")
            return StartResult(False, str(exc))
        note = ("Extend does not use the brushes on the brush pad (they were painted on the "
                "clip's first frame, and a continuation starts without them: paint new ones on "
                "the continuation's first frame)." if self.form.brushes_on_pad() else "")

        return self._start(lambda on_step, cancel: continue_clip(
            clip, shot, engine, on_step=on_step, cancel=cancel, progress=False), wait, note)

    def _engine_now(self):
        """The engine Generate renders on: the picked one; when `rn.unload_engine` freed it,
        loaded again as the Studio loads engines (its device, dtype and options; given none,
        the engine the notebook loaded under the id since, else on the CPU — but an engine
        that was on a GPU is not silently reloaded on the CPU). An engine the user gave the
        Studio, or one left unloaded, refuses to render, saying how to load it again. None if
        the engine cannot load (`engine_error`)."""
        from ..engines.registry import canonical_device, loaded_engine

        engine = self.engine
        if engine is None:
            return self._load_engine()
        if not engine.unloaded or engine is self._given_engines.get(engine.id):
            return engine
        on_cpu = canonical_device(str(getattr(engine, "device", "cpu"))) == "cpu"
        if self._as_loaded and not on_cpu and loaded_engine(self.engine_picker.value) is None:
            return engine
        return self._load_engine(reset_form=False)

    def _engine_of(self, clip):
        """The engine the Studio holds for `clip`: its own when it made the clip, or one it
        was given; else None, and plan_extension finds the one loaded for it or loads it
        with the Studio's device, dtype and options — never a second copy with other settings."""
        name = clip.shot.engine if clip.shot is not None else None
        if self.engine is not None and self.engine.id == name:
            # unloaded: loaded again by Generate's rule (or left to refuse, saying how); one
            # that fails to load is refused with why, not tried a second time
            engine = self._engine_now()
            if engine is None:
                raise self.engine_error
            return engine
        return self._given_engines.get(name)

    def _cannot_start(self) -> StartResult | None:
        """Why no render can start now (the Studio closed, or a render running); None if one can."""
        if self._closed:
            return StartResult(False, "This Studio was closed; make a new one with rn.Studio().")
        if self.renderer.busy:
            message = self.renderer.busy_message
            self._say(message, "warn")
            return StartResult(False, message)
        return None

    def _start(self, task, wait: bool, note: str = "") -> StartResult:
        """Run `task(on_step, cancel)` on the worker; with `wait`, until it ends. `note`:
        said in the status line beside "Rendering…" and the result."""
        self._note = note
        started = self.renderer.start(task)
        if not started:
            self._say(started.message, "warn")
        elif wait:
            self.wait()
        return started

    def cancel(self) -> bool:
        """Stop the running render within one step (earlier clips stay as they are)."""
        if self.renderer.cancel():
            self._say("Cancelling…", "warn")
            return True
        if self.renderer.busy:                # finishing: the render is over, its clip being saved
            self._say("Nothing to cancel: the render is over and its clip is being saved "
                      "(that cannot be cancelled).", "info")
            return False
        self._say("Nothing is rendering.", "info")
        return False

    def wait(self, timeout: float | None = None):
        """Block until the running render ends (for scripts and tests); the last clip."""
        self.renderer.wait(timeout)
        return self.clip

    def save_unsaved(self) -> list:
        """Save the clips the project folder could not take when they were made
        (`studio.unsaved`; e.g. once the folder is writable again, or made again with
        rn.Store(path)). Returns those saved; the status line says what happened. The
        next clip that saves takes them along too."""
        if self.store is None:
            self._say("This Studio has no project folder (store=False): nothing to save to.", "warn")
            return []
        if not self.unsaved:
            self._say("Every clip made here is saved in the project.", "info")
            return []
        if self.renderer.busy:                # the worker may be saving them right now
            self._say(self.renderer.busy_message, "warn")
            return []
        saved, exc = self._save_earlier()
        self._refresh_gallery()
        done = f"Saved {len(saved)} clip{'s' * (len(saved) != 1)} in {self.store.path}"
        if exc is None:
            self._say(f"{done}; every clip made here is saved now.", "ok")
        else:
            self.error = exc
            self._say(f"{done if saved else 'Nothing saved'}: {type(exc).__name__}: {exc} — "
                      f"{len(self.unsaved)} still kept in studio.unsaved (and studio.clips).", "error")
        return saved

    SEQUENCE_NAME = "studio"

    @property
    def sequence(self):
        """The film being assembled (a runway_nb.Sequence, made on first use). With a project
        folder it is the project's sequence "studio": saved after every edit and reloaded
        by a new Studio on the same folder, so a kernel restart does not lose the cut.
        Another Studio or notebook on the same folder may edit it too: when its file was
        saved by them since this Studio read or wrote it, it is reloaded here first (the
        status line says so), and an edit is never saved over theirs (SequenceChanged)."""
        seq, note = self._fresh_sequence()
        if note:
            self._say(note, "info")
        return seq

    def _fresh_sequence(self):
        """(the sequence, a note): reloaded first when another writer saved the project's."""
        if self._sequence is None:
            self._sequence = self._project_sequence()
            return self._sequence, ""
        if not self._project_sequence_owned:     # the caller's own Sequence: theirs to reload
            return self._sequence, ""
        try:
            changed = self._sequence.changed_on_disk()
        except RunwayError:
            changed = False                       # unreadable: the next save says what is wrong
        note = self._reload_sequence() if changed else ""      # may replace self._sequence
        return self._sequence, note

    def _reload_sequence(self) -> str:
        """Take the project's sequence as another Studio or notebook saved it; a note."""
        store, name = self.store, self.SEQUENCE_NAME
        try:
            version = store.sequence_version(name)
            if version is None:                   # deleted: this cut is written anew by the next edit
                self._sequence.autosave(store, name, version=None)
                return (f"The project's sequence {name!r} was gone from {store.sequences_dir}: "
                        f"this Studio's cut is saved there again with the next edit.")
            seq = store.load_sequence(name, autosave=True)
        except RunwayError as exc:
            return (f"The project's sequence {name!r} was changed by another Studio or notebook "
                    f"and could not be reloaded ({exc}); this Studio's copy is not saved over it.")
        self._sequence = seq
        return (f"The project's sequence {name!r} had been changed by another Studio or notebook "
                f"on this project: reloaded it first ({len(seq)} clip{'s' * (len(seq) != 1)}, "
                f"their edits kept).")

    def _project_sequence(self):
        from ..sequence import Sequence

        if self.store is None:
            return Sequence()
        name = self.SEQUENCE_NAME
        try:
            if self.store.sequence_version(name) is not None:
                return self.store.load_sequence(name, autosave=True)
        except RunwayError as exc:      # never overwrite the saved cut with an empty one
            self._show_error(exc, prefix=f"The project's sequence {name!r} could not be reloaded "
                                         f"(it is left as it is; this one is kept in memory only): ")
            return Sequence()
        return Sequence().autosave(self.store, name, version=None)   # made by its first edit

    def add_to_sequence(self):
        """Append the current clip to `studio.sequence`; None (and a message) if it can't.
        The project's sequence is reloaded first if another Studio or notebook saved it
        since, so their edits and this one are both kept."""
        if self.clip is None:
            self._say("Nothing to add yet: generate a clip (or pick one in the gallery) first.", "warn")
            return None
        self._sync_gallery()                      # their new clips show here too
        note = ""
        try:
            seq, note = self._fresh_sequence()
            try:
                seq.append(self.clip)
            except SequenceChanged:               # saved by them between the check and this edit
                if not self._project_sequence_owned:
                    raise                         # the caller's own sequence: theirs to reload
                note = self._reload_sequence()
                seq = self._sequence
                seq.append(self.clip)
        except RunwayError as exc:
            self._show_error(exc, prefix=f"{note + ' ' if note else ''}Not added to the sequence: ")
            return None
        added = (f"{note + ' ' if note else ''}Added {self.clip.id} to the sequence: {len(seq)} "
                 f"clip{'s' * (len(seq) != 1)}, {seq.duration:.2f} s")
        if self.store is not None and self._project_sequence_owned and not seq.autosaved:
            # the project's cut could not be reloaded: this one is not saved, every add says so
            self._say(f"{added}, kept in memory only (the project's sequence {self.SEQUENCE_NAME!r} "
                      f"could not be reloaded, and is not saved over): studio.sequence.save('cut.json') "
                      f"keeps it.", "warn")
        else:
            self._say(f"{added}.", "ok")
        return seq

    def _sync_gallery(self) -> None:
        """Show clips another Studio or notebook saved in the project since the last look
        (a listing of the folder; the records are read only when it changed)."""
        try:
            self.gallery.refresh_if_changed()
        except Exception as exc:  # noqa: BLE001 - the folder gone: the next save says so in words
            self.error = exc

    def close(self) -> None:
        """Closing the Studio cancels its render (the worker stops within one step)."""
        self._closed = True
        if hasattr(self, "renderer"):         # not when __init__ refused its arguments
            self.renderer.cancel()
        stack = list(self.children)
        while stack:                      # close every model, not only this box's view
            w = stack.pop()
            stack.extend(getattr(w, "children", ()))
            w.close()
        super().close()

    @staticmethod
    def _open_store(store):
        if store is False:
            return None
        from ..store import Store

        if store is None:
            return Store()
        if isinstance(store, Store):
            return store
        if not isinstance(store, (str, os.PathLike)):
            raise InvalidInput("store", store, "must be a project folder (a path or rn.Store), None for "
                                               "./runway_project, or False for none")
        return Store(store)

    def __repr__(self) -> str:
        return (f"<Studio engine={self.engine_picker.value!r} state={self.renderer.state} "
                f"clips={len(self.clips)}>")
