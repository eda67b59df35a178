"""The background render job behind the Studio: pure Python, no widgets, no torch here.

    renderer = Renderer(on_progress=..., on_preview=..., on_done=..., on_error=...)
    started = renderer.start(lambda on_step, cancel: engine.render(shot, on_step=on_step,
                                                                  cancel=cancel, progress=False))
    if not started:
        print(started.message)      # "A render is already running…"
    renderer.cancel()               # the engine stops within one denoising step
    renderer.wait()                 # join the worker (tests, scripts)

Why a thread: a render on the kernel's main thread would block the comm handler, so
Cancel clicks and canvas drawing would queue up until the render ended. A daemon
thread keeps the kernel answering; only one render runs at a time (a second `start`
is refused with a message, never interleaved), and the engine checks the cancel
Event once per step.

State machine (`renderer.state`, every change reported to `on_state`):

    idle ──start──► running ──► finishing ──► done | cancelled | failed ──► idle

`finishing`: the task has ended and its completion callback (`on_done`, or `on_error`)
runs — the Studio shows and saves the clip there, which takes seconds for a big clip.
The job still holds the worker: `start` is refused (saying it is finishing, not that a
render runs) and there is nothing left to cancel. The terminal state is reported only
once that callback has returned, so an observer that re-enables its buttons on it (or
on idle) never offers a start that would be refused. It is kept in `renderer.outcome`
with `result` / `error`, so nothing is lost when the state returns to idle. Exceptions are never swallowed: a failing
task — or a failing callback — reaches `on_error` and is stored in `renderer.error`.

Previews are throttled: at most one every `preview_interval` seconds by the injected
`clock` (default ~10 per second), and the latest one is always delivered in the end,
so the last picture shown is the last step's. Progress is reported every step.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

IDLE, RUNNING, FINISHING = "idle", "running", "finishing"
DONE, CANCELLED, FAILED = "done", "cancelled", "failed"
BUSY_MESSAGE = ("A render is already running; wait for it to finish or press Cancel "
                "(renders never run side by side).")
FINISHING_MESSAGE = ("The last render is finishing (its clip is being shown and saved); "
                     "start again in a moment (this part cannot be cancelled).")


@dataclass(frozen=True)
class Progress:
    """One step's progress: `step` of `total`, seconds `elapsed` and an `eta` estimate."""
    step: int
    total: int
    elapsed: float
    eta: float | None

    @property
    def label(self) -> str:
        text = f"step {self.step}/{self.total}"
        if self.eta is not None and self.step < self.total:
            text += f" · ~{self.eta:.0f} s left" if self.eta >= 1 else " · <1 s left"
        return text


@dataclass(frozen=True)
class StartResult:
    """What `start` answers: truthy when the job started, else falsy with a `message`."""
    ok: bool
    message: str = ""

    def __bool__(self) -> bool:
        return self.ok


def is_cancelled(exc: BaseException) -> bool:
    """True for runway_nb.errors.Cancelled (imported lazily: the core stays out of import)."""
    from ..errors import Cancelled

    return isinstance(exc, Cancelled)


class Renderer:
    """Runs one render task at a time in a daemon thread and reports through callbacks.

    A task is `task(on_step, cancel) -> result`, where `on_step(info)` receives objects
    with `.step`, `.total` and `.preview` (runway_nb.engines.StepInfo) and `cancel` is a
    threading.Event. Callbacks run on the worker thread; keep them short."""

    def __init__(self, *, on_progress: Callable[[Progress], Any] | None = None,
                 on_preview: Callable[[Any], Any] | None = None,
                 on_done: Callable[[Any], Any] | None = None,
                 on_error: Callable[[BaseException], Any] | None = None,
                 on_state: Callable[[str], Any] | None = None,
                 preview_interval: float = 0.1, clock: Callable[[], float] = time.monotonic):
        self.on_progress, self.on_preview = on_progress, on_preview
        self.on_done, self.on_error, self.on_state = on_done, on_error, on_state
        self.preview_interval = float(preview_interval)
        self.clock = clock
        self.state = IDLE
        self.outcome: str | None = None       # done | cancelled | failed, of the last job
        self.result: Any = None                # the last successful job's result
        self.error: BaseException | None = None  # the last job's exception (Cancelled included)
        self.progress: Progress | None = None
        self.previews_sent = 0
        self.callback_errors: list[BaseException] = []   # on_state failures (also on stderr)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()
        self._started = 0.0
        self._last_preview: float | None = None
        self._pending = None

    # ---- public API -----------------------------------------------------------------
    @property
    def busy(self) -> bool:
        """A job holds the worker (running, or finishing): `start` would be refused."""
        return self.state != IDLE

    @property
    def busy_message(self) -> str:
        """Why `start` would be refused now ("" when idle)."""
        if self.state == IDLE:
            return ""
        return BUSY_MESSAGE if self.state == RUNNING else FINISHING_MESSAGE

    def start(self, task: Callable[[Callable, threading.Event], Any], *,
              name: str = "runway_nb-render") -> StartResult:
        """Start `task` on a worker thread, or refuse (falsy result + message) if one runs."""
        if not callable(task):
            raise TypeError(f"task must be callable as task(on_step, cancel), got {task!r}")
        with self._lock:
            if self.state != IDLE:
                return StartResult(False, self.busy_message)
            self.state = RUNNING
            self.outcome, self.result, self.error, self.progress = None, None, None, None
            self.previews_sent, self._last_preview, self._pending = 0, None, None
            self._cancel = threading.Event()
            self._started = self.clock()
            self._thread = threading.Thread(target=self._run, args=(task, self._cancel),
                                            name=name, daemon=True)
        self._notify_state(RUNNING)
        self._thread.start()
        return StartResult(True, "started")

    def cancel(self) -> bool:
        """Ask the running job to stop (within one step). False when nothing runs (also
        while a job is finishing: its render is over)."""
        with self._lock:
            if self.state != RUNNING:
                return False
            self._cancel.set()
            return True

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Join the worker thread. True when no job is running any more."""
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        return not self.busy

    # ---- the worker thread ------------------------------------------------------------
    def _run(self, task, cancel: threading.Event) -> None:
        try:
            try:
                result = task(self._on_step, cancel)
            except BaseException as exc:  # noqa: BLE001 - reported to on_error, never lost
                self._flush_preview()
                self._finish(CANCELLED if is_cancelled(exc) else FAILED, error=exc)
                return
            self._flush_preview()
            self._finish(DONE, result=result)
        except BaseException as exc:  # noqa: BLE001 - a failing flush/callback: still reported
            self._finish(FAILED, error=exc, callbacks=False)
        finally:
            with self._lock:
                self.state = IDLE
            self._notify_state(IDLE)

    def _finish(self, outcome: str, *, result=None, error=None, callbacks: bool = True) -> None:
        """finishing: the completion callback runs; then the terminal state is reported."""
        with self._lock:
            self.state, self.outcome = FINISHING, outcome
            self.result, self.error = result, error
        self._notify_state(FINISHING)
        if not callbacks:
            self._report(self.on_error, error)
        elif outcome == DONE:
            self._report(self.on_done, result)
        else:
            self._report(self.on_error, error)
        with self._lock:
            self.state = outcome = self.outcome      # FAILED if the callback raised
        self._notify_state(outcome)

    def _report(self, callback, value) -> BaseException | None:
        """Call a completion callback; if it raises, the job counts as failed with that
        error and `on_error` hears about it (or stderr, if on_error itself raised)."""
        if callback is None:
            return None
        try:
            callback(value)
            return None
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            with self._lock:
                self.outcome, self.error = FAILED, exc
            if callback is not self.on_error and self.on_error is not None:
                try:
                    self.on_error(exc)
                    return exc
                except BaseException as also:  # noqa: BLE001 - last resort: stderr, not silence
                    traceback.print_exception(also, file=sys.stderr)
            print("runway_nb: a render callback failed:", file=sys.stderr)
            traceback.print_exception(exc, file=sys.stderr)
            return exc

    def _on_step(self, info) -> None:
        now = self.clock()
        step, total = int(info.step), int(info.total)
        elapsed = max(0.0, now - self._started)
        eta = elapsed / step * (total - step) if step > 0 else None
        self.progress = Progress(step, total, elapsed, eta)
        if self.on_progress is not None:
            self.on_progress(self.progress)
        if self.on_preview is None:
            return
        due = self._last_preview is None or now - self._last_preview >= self.preview_interval
        if due or step >= total:
            self._pending = None
            self._last_preview = now
            self._send_preview(info)
        else:
            self._pending = info      # kept: delivered if no later preview is sent in time

    def _flush_preview(self) -> None:
        if self._pending is not None:
            info, self._pending = self._pending, None
            self._send_preview(info)

    def _send_preview(self, info) -> None:
        self.previews_sent += 1
        self.on_preview(info)

    def _notify_state(self, state: str) -> None:
        if self.on_state is None:
            return
        try:
            self.on_state(state)
        except Exception as exc:  # noqa: BLE001 - a state observer must not wedge the machine
            self.callback_errors.append(exc)
            print(f"runway_nb: the on_state callback failed on {state!r}:", file=sys.stderr)
            traceback.print_exception(exc, file=sys.stderr)

    def __repr__(self) -> str:
        extra = f", last={self.outcome}" if self.outcome else ""
        return f"<Renderer {self.state}{extra}>"
