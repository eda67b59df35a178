"""How the Studio reports a render: progress bar, its label, live preview and status line.

The worker thread (`ui/worker.py`) calls back into the Studio as a render starts, steps,
finishes or fails; this mixin is the Studio's side of those callbacks. It also holds
the status line, where every message and error is said in words (in JupyterLab an
exception raised in a button callback would otherwise vanish, hence `_shown`):

    state RUNNING    bar reset, "starting…", Generate and Extend disabled, Cancel enabled
    each step        the bar and "step 3/20 · ~2 s left"; a 4-frame preview strip
    state FINISHING  the render is over: Cancel disabled too (nothing left to cancel)
    done             the clip in the player, then "saving…" while it goes into the project
                     folder (seconds for a big clip), then the bar green; Generate and
                     Extend come back only when the worker is idle again, so a click is
                     never offered and then refused
    cancelled/error  the bar red, the reason in the status line; earlier clips untouched
    refused          (bad input, nothing started) the bar empty, "not started", the reason

The callbacks run on the worker thread, so they stay small and never draw on a canvas:
a finished clip's first frame is left in `_pending_background` for the main thread.
The mixin expects the Studio's widgets (`progress`, `progress_label`, `status`,
`preview`, `player`, `gallery`, the buttons), `store`, `renderer` and `clips`.
No torch import here.
"""

from __future__ import annotations

import html

from ..errors import Cancelled, RunwayError
from ..tiny.planner import plan_note
from .player import filmstrip, png_bytes
from .worker import IDLE, RUNNING

_COLOURS = {"info": "#555", "ok": "#1a7f37", "warn": "#9a6700", "error": "#cf222e"}


class RenderFeedback:
    """The Studio's worker callbacks and status line (a mixin: the state lives in the Studio)."""

    def _shown(self, callback):
        """Wrap a button callback so an exception shows in the status line, not nowhere."""
        def run(*args):
            try:
                return callback(*args)
            except Exception as exc:  # noqa: BLE001 - shown to the user, kept in studio.error
                self._show_error(exc)
        return run

    # ---- worker callbacks (they run on the worker thread: keep them small) --------------------
    def _on_state(self, state: str) -> None:
        if state == RUNNING:
            self.error = None
            self.progress.value, self.progress.bar_style = 0, ""
            self.progress_label.value = "starting…"
            self._say("Rendering… (Cancel stops it within one step)" + _note(self._note), "info")
        # enabled exactly when a click would start something: not while the finished
        # render's clip is still being shown and saved (the worker would refuse it)
        self.generate_button.disabled = state != IDLE
        self._enable_extend(state != IDLE)
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
        self.player.show(clip)
        with self._background_lock:           # the main thread draws it (see _show_background)
            self._pending_background = clip.frames[0]
        if self.store is not None:            # seconds for a big clip: say so, not "Rendering…"
            self.progress_label.value = "saving…"
            self._say(f"Saving {clip.id} in {self.store.path}… (Generate and Extend are back "
                      "once it is saved)", "info")
        saved = self._save(clip)
        self.progress.value, self.progress.bar_style = self.progress.max, "success"
        shot = clip.shot
        self.progress_label.value = f"done · {len(clip.frames)} frames"
        parent = clip.provenance.get("extended_from")
        made = (f"Extended {parent} to {clip.id}: {len(clip.frames)} frames, {clip.duration:.2f} s"
                if parent else f"Made {clip.id}: {len(clip.frames)} frames")
        self._say(f"{made} at {clip.fps:g} fps, seed "
                  f"{shot.seed if shot is not None else '?'}{_plan_note(clip.provenance)}{saved}"
                  f"{_note(self._note)}", "ok" if saved.endswith(".") else "warn")

    def _save(self, clip) -> str:
        """Put a finished clip in the project folder, and the clips that could not be saved
        before with it; what happened, as the end of the status line."""
        if self.store is None:
            return "."
        try:
            self.store.add(clip)
        except Exception as exc:  # noqa: BLE001 - the clip is kept in studio.clips; say why
            self.error = exc
            if not any(c is clip for c in self.unsaved):
                self.unsaved.append(clip)
            where = next((f"studio.clips[{i}]" for i, c in enumerate(self.clips) if c is clip),
                         "studio.unsaved")
            return (f"; NOT saved to the project ({type(exc).__name__}: {exc}) — it is kept in "
                    f"{where} ({_unsaved(self.unsaved)}: studio.unsaved). They are saved with the "
                    f"next clip that saves, or by studio.save_unsaved() once the folder can be "
                    f"written again")
        saved, exc = self._save_earlier()
        self._refresh_gallery()
        also = (f"; also saved {len(saved)} earlier clip{'s' * (len(saved) != 1)} that could not "
                f"be saved before" if saved else "")
        if exc is not None:               # said, not dropped: the first message promised them
            self.error = exc
            also += (f"; {len(self.unsaved)} earlier still NOT saved ({type(exc).__name__}: {exc}), "
                     f"kept in studio.unsaved")
        return f", saved in {self.store.path}{also}."

    def _save_earlier(self) -> tuple[list, BaseException | None]:
        """Save `studio.unsaved` in order, stopping at the first that fails: (saved, error)."""
        saved = []
        for clip in list(self.unsaved):
            try:
                self.store.add(clip)          # free for a clip saved meanwhile (a sequence's)
            except Exception as exc:  # noqa: BLE001 - kept in studio.unsaved; the caller says
                return saved, exc
            self.unsaved.remove(clip)
            saved.append(clip)
        return saved, None

    def _refresh_gallery(self) -> None:
        try:
            self.gallery.refresh()
        except Exception as exc:  # noqa: BLE001 - the folder gone meanwhile: said, nothing lost
            self.error = exc

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

    def _refused(self, exc: BaseException, prefix: str = "") -> None:
        """A click refused before any render started (bad input): the bar is cleared so it
        does not go on saying "done · 16 frames" of the last clip beside the refusal."""
        self.progress.value, self.progress.bar_style = 0, ""
        self.progress_label.value = "not started"
        self._show_error(exc, prefix)

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


__all__ = ["RenderFeedback"]


def _unsaved(clips) -> str:
    n = len(clips)
    return f"{n} clip{'s' * (n != 1)} not saved"


def _note(note: str) -> str:
    return f" {note}" if note else ""


def _plan_note(provenance: dict) -> str:
    note = plan_note(provenance)
    if provenance.get("cancel_too_late"):   # Engine.render keeps a clip finished before it heard Cancel
        note = "; ".join(filter(None, [note, "Cancel came after the last step, so the finished clip "
                                             "was kept"]))
    return f"; {note}" if note else ""
