"""`rn.Studio()`: the text-to-video studio as one notebook widget (plain ipywidgets).

    studio = rn.Studio()              # prompt, settings, Generate, live preview, player, gallery
    studio                            # shows itself
    studio.prompt.value = "a red ball bouncing"
    studio.generate(wait=True)        # every button has a Python twin
    studio.clip                       # the last clip made

A thin skin: the form becomes a `Shot` (validated by the core, which names the field
and the value when something is wrong), the engine renders it on a worker thread
(`ui/worker.py`), and the Studio only shows what comes back. The kernel stays
responsive during a render, so Cancel stops it within one denoising step. Errors show
in the status line in words (in JupyterLab an exception raised in a button callback
would otherwise vanish), and the progress bar turns red on failure or cancel, green on
success. A clip is shown and put in the project folder (the gallery) only once it is
complete, so a failed or cancelled render leaves earlier clips untouched.

Controls follow the engine's capabilities: sizes and frame rates it cannot make are
not offered, and camera controls are disabled for an engine without camera control.
The camera slot (`studio.camera_slot`) holds a preset + intensity today; Director
Mode's drawing pad plugs in with `studio.set_camera_control(pad)`.

No torch import here: the engine is loaded (and torch with it) when the Studio is made.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from ..errors import Cancelled, InvalidInput, RunwayError
from ..shot import Shot
from .form import FIELDS, ShotForm
from .gallery import Gallery
from .player import Player, filmstrip, png_bytes
from .worker import BUSY_MESSAGE, RUNNING, Renderer, StartResult

_COLOURS = {"info": "#555", "ok": "#1a7f37", "warn": "#9a6700", "error": "#cf222e"}


def _capabilities(engine):
    from ..engines.base import Capabilities

    return engine.capabilities if engine is not None else Capabilities()


class Studio(widgets.VBox):
    """Prompt → settings → Generate → live preview → player → gallery → sequence."""

    def __init__(self, engine: str = "tiny", *, store: Any = None, sequence=None,
                 preview_interval: float = 0.1, clock: Callable[[], float] = time.monotonic):
        self.clip = None                  # the last clip made (or restored)
        self.clips: list = []             # every clip made by this Studio, in order
        self.error: BaseException | None = None   # the last error shown (full object)
        self.engine = None
        self._closed = False
        self.store = self._open_store(store)
        self._sequence = sequence
        self.renderer = Renderer(on_progress=self._on_progress, on_preview=self._on_preview,
                                 on_done=self._on_done, on_error=self._on_error,
                                 on_state=self._on_state, preview_interval=preview_interval,
                                 clock=clock)
        self._build()
        self.engine_picker.options = self._engine_options(str(engine))
        self.engine_picker.value = str(engine)
        self._load_engine()                          # and apply its capabilities to the form
        self.engine_picker.observe(self._on_engine, "value")

    # ---- layout -------------------------------------------------------------------------
    def _build(self) -> None:
        W = widgets
        self.engine_error: BaseException | None = None
        self.form = ShotForm()
        for name in FIELDS:                       # studio.prompt, studio.seed, … : the form's widgets
            setattr(self, name, getattr(self.form, name))
        self.dice.on_click(self._shown(lambda _b: self.form.roll_seed()))
        self.generate_button = W.Button(description="Generate", button_style="primary", icon="play")
        self.cancel_button = W.Button(description="Cancel", icon="stop", disabled=True)
        self.sequence_button = W.Button(description="Add to sequence", icon="plus")
        self.generate_button.on_click(self._shown(lambda _b: self.generate()))
        self.cancel_button.on_click(self._shown(lambda _b: self.cancel()))
        self.sequence_button.on_click(self._shown(lambda _b: self.add_to_sequence()))
        self.progress = W.IntProgress(value=0, min=0, max=1, layout=W.Layout(width="260px"))
        self.progress_label = W.Label("")
        self.status = W.HTML("")
        self.preview = W.Image(format="png", layout=W.Layout(min_height="128px"))
        self.player = Player()
        self.gallery = Gallery(self.store, on_pick=self._shown(self.restore))
        form = W.VBox([
            self.form,
            W.HBox([self.generate_button, self.cancel_button, self.sequence_button]),
            W.HBox([self.progress, self.progress_label]), self.status,
        ], layout=W.Layout(width="440px"))
        right = W.VBox([W.HTML("<b>live preview</b> (denoised estimate)"), self.preview,
                        W.HTML("<b>clip</b>"), self.player])
        super().__init__([W.HTML("<h3 style='margin:4px 0'>runway_nb studio</h3>"),
                          W.HBox([form, right]), self.gallery])

    def _shown(self, callback):
        """Wrap a button callback so an exception shows in the status line, not nowhere."""
        def run(*args):
            try:
                return callback(*args)
            except Exception as exc:  # noqa: BLE001 - shown to the user, kept in studio.error
                self._show_error(exc)
        return run

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

    def _on_engine(self, change) -> None:
        self._load_engine()

    def _load_engine(self):
        from ..engines.registry import load_engine

        try:
            self.engine, self.engine_error = load_engine(self.engine_picker.value), None
        except Exception as exc:  # noqa: BLE001 - shown; Generate tries again
            self.engine, self.engine_error = None, exc
            self._show_error(exc, prefix="Could not load the engine: ")
        self._apply_capabilities()
        if self.engine is not None and self.status.value and "load the engine" in self.status.value:
            self._say("")
        return self.engine

    def _apply_capabilities(self) -> None:
        self.form.apply_capabilities(_capabilities(self.engine))
        self.generate_button.disabled = self.renderer.busy

    # ---- form ⇄ Shot (ShotForm does the work) ---------------------------------------------------
    def set_camera_control(self, widget, get_camera: Callable[[], Any] | None = None) -> None:
        """Plug a camera widget (Director Mode's pad) into the camera slot; Generate then
        takes the move from `get_camera()` (default: `widget.path`)."""
        self.form.set_camera_control(widget, get_camera)

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
                self.engine_picker.options = [*self.engine_picker.options, (shot.engine, shot.engine)]
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
        self._say(f"Restored the settings of {getattr(entry, 'id', 'the shot')} (seed {shot.seed}, "
                  "locked): Generate re-makes it exactly.", "ok")
        return shot

    # ---- actions (every button has this Python twin) ---------------------------------------------
    def generate(self, wait: bool = False) -> StartResult:
        """Start rendering the form's shot on the worker thread. Falsy (with `.message`)
        when refused: bad input, or a render already running."""
        if self._closed:
            return StartResult(False, "This Studio was closed; make a new one with rn.Studio().")
        if self.renderer.busy:
            self._say(BUSY_MESSAGE, "warn")
            return StartResult(False, BUSY_MESSAGE)
        try:
            engine = self.engine or self._load_engine()
            if engine is None:
                raise self.engine_error
            shot = engine.resolve(self.shot(new_seed=True))
        except Exception as exc:  # noqa: BLE001 - bad input: said in words, nothing started
            self._show_error(exc)
            return StartResult(False, str(exc))

        def task(on_step, cancel):
            return engine.render(shot, on_step=on_step, cancel=cancel, progress=False)

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
        self._say("Nothing is rendering.", "info")
        return False

    def wait(self, timeout: float | None = None):
        """Block until the running render ends (for scripts and tests); the last clip."""
        self.renderer.wait(timeout)
        return self.clip

    @property
    def sequence(self):
        """The film being assembled (a runway_nb.Sequence, made on first use)."""
        if self._sequence is None:
            from ..sequence import Sequence

            self._sequence = Sequence()
        return self._sequence

    def add_to_sequence(self):
        """Append the current clip to `studio.sequence`; None (and a message) if it can't."""
        if self.clip is None:
            self._say("Nothing to add yet: generate a clip (or pick one in the gallery) first.", "warn")
            return None
        try:
            self.sequence.append(self.clip)
        except RunwayError as exc:
            self._show_error(exc, prefix="Not added to the sequence: ")
            return None
        seq = self.sequence
        self._say(f"Added {self.clip.id} to the sequence: {len(seq)} clips, "
                  f"{seq.duration:.2f} s.", "ok")
        return seq

    def close(self) -> None:
        """Closing the Studio cancels its render (the worker stops within one step)."""
        self._closed = True
        self.renderer.cancel()
        stack = list(self.children)
        while stack:                      # close every model, not only this box's view
            w = stack.pop()
            stack.extend(getattr(w, "children", ()))
            w.close()
        super().close()

    # ---- worker callbacks (they run on the worker thread: keep them small) --------------------
    def _on_state(self, state: str) -> None:
        if state == RUNNING:
            self.error = None
            self.progress.value, self.progress.bar_style = 0, ""
            self.progress_label.value = "starting…"
            self._say("Rendering… (Cancel stops it within one step)", "info")
        self.generate_button.disabled = state == RUNNING
        self.cancel_button.disabled = state != RUNNING

    def _on_progress(self, p) -> None:
        if self._closed:
            return
        self.progress.max = max(1, p.total)
        self.progress.value = p.step
        self.progress_label.value = p.label

    def _on_preview(self, info) -> None:
        if not self._closed:
            self.preview.value = png_bytes(filmstrip(info.preview, 4), 128)

    def _on_done(self, clip) -> None:
        self.clip = clip
        self.clips.append(clip)
        if self._closed:
            return
        saved = self._save(clip)
        self.player.show(clip)
        self.progress.value, self.progress.bar_style = self.progress.max, "success"
        shot = clip.shot
        self.progress_label.value = f"done · {len(clip.frames)} frames"
        self._say(f"Made {clip.id}: {len(clip.frames)} frames at {clip.fps:g} fps, seed "
                  f"{shot.seed if shot is not None else '?'}{saved}", "ok" if saved.endswith(".") else "warn")

    def _save(self, clip) -> str:
        if self.store is None:
            return "."
        try:
            self.store.add(clip)
        except Exception as exc:  # noqa: BLE001 - the clip is kept in studio.clip; say why
            self.error = exc
            return (f"; NOT saved to the project ({type(exc).__name__}: {exc}) — it is still in "
                    "studio.clip")
        self.gallery.refresh()
        return f", saved in {self.store.path}."

    def _on_error(self, exc: BaseException) -> None:
        self.progress.bar_style = "danger"
        if isinstance(exc, Cancelled):
            self.error = exc
            p = self.renderer.progress
            where = f" at step {p.step}/{p.total}" if p else ""
            self.progress_label.value = f"cancelled{where}"
            self._say(f"Cancelled{where}. Earlier clips and the gallery are untouched.", "warn")
        else:
            self.progress_label.value = "failed"
            self._show_error(exc, prefix="The render failed: ")

    # ---- status line ------------------------------------------------------------------------
    def _show_error(self, exc: BaseException, prefix: str = "") -> None:
        self.error = exc
        text = str(exc) if isinstance(exc, RunwayError) else f"{type(exc).__name__}: {exc}"
        if not isinstance(exc, RunwayError):
            text += " (details: studio.error)"
        self._say(prefix + text, "error")

    def _say(self, text: str, level: str = "info") -> None:
        if not text:
            self.status.value = ""
            return
        self.status.value = (f"<div dir='auto' style='color:{_COLOURS[level]};white-space:pre-wrap;"
                             f"overflow-wrap:anywhere'>{html.escape(text)}</div>")

    @property
    def message(self) -> str:
        """The status line as plain text (what the user reads)."""
        import re

        return html.unescape(re.sub(r"<[^>]+>", "", self.status.value))

    @staticmethod
    def _open_store(store):
        if store is False:
            return None
        from ..store import Store

        if store is None:
            return Store()
        return store if isinstance(store, Store) else Store(store)

    def __repr__(self) -> str:
        return (f"<Studio engine={self.engine_picker.value!r} state={self.renderer.state} "
                f"clips={len(self.clips)}>")
