"""The Studio's render worker, with fake tasks: no widgets, no torch, no sleeps."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass

import pytest

from runway_nb.errors import Cancelled, InvalidInput
from runway_nb.ui.worker import BUSY_MESSAGE, FINISHING_MESSAGE, Progress, Renderer


@dataclass
class Info:
    step: int
    total: int
    preview: object = None


class Clock:
    """A clock the test moves by hand."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def gated_task(gate: threading.Event, entered: threading.Event, steps: int = 50, result="clip"):
    """A task that waits at step 1 until the test opens `gate`, checking cancel each step
    the way an engine does."""
    def task(on_step, cancel):
        for i in range(1, steps + 1):
            on_step(Info(i, steps, preview=i))
            if i == 1:
                entered.set()
                gate.wait(10)
            if cancel.is_set():
                raise Cancelled(f"cancelled at step {i}")
        return result
    return task


def recording_renderer(**kw):
    seen = {"done": [], "error": [], "state": [], "progress": [], "preview": []}
    r = Renderer(on_done=seen["done"].append, on_error=seen["error"].append,
                 on_state=seen["state"].append, on_progress=seen["progress"].append,
                 on_preview=lambda info: seen["preview"].append(info.preview), **kw)
    return r, seen


def test_a_job_runs_on_a_daemon_thread_and_reports_done():
    r, seen = recording_renderer()
    main = threading.current_thread()
    ran_on = []

    def task(on_step, cancel):
        ran_on.append(threading.current_thread())
        on_step(Info(1, 1))
        return "clip"

    assert r.start(task)
    assert r.wait(5)
    assert ran_on[0] is not main and ran_on[0].daemon
    assert seen["done"] == ["clip"] and seen["error"] == []
    assert seen["state"] == ["running", "finishing", "done", "idle"]
    assert (r.state, r.outcome, r.result) == ("idle", "done", "clip")


def test_a_second_start_while_busy_is_refused_with_a_message():
    r, seen = recording_renderer()
    gate, entered = threading.Event(), threading.Event()
    assert r.start(gated_task(gate, entered, steps=3))
    entered.wait(5)
    second = [r.start(lambda on_step, cancel: "other") for _ in range(20)]
    assert not any(second)
    assert second[0].message == BUSY_MESSAGE and "already running" in second[0].message
    gate.set()
    r.wait(5)
    assert seen["done"] == ["clip"]          # the first job only: never interleaved
    assert r.start(lambda on_step, cancel: "next")   # idle again: a new job may start
    r.wait(5)
    assert seen["done"] == ["clip", "next"]


def test_cancel_stops_the_job_within_one_step():
    r, seen = recording_renderer()
    gate, entered = threading.Event(), threading.Event()
    assert r.start(gated_task(gate, entered, steps=50))
    entered.wait(5)
    assert r.cancel() is True
    gate.set()
    r.wait(5)
    assert r.outcome == "cancelled" and isinstance(r.error, Cancelled)
    assert "step 1" in str(r.error)                     # stopped at the step it was on
    assert [p.step for p in seen["progress"]] == [1]
    assert seen["done"] == [] and seen["error"] == [r.error]
    assert seen["state"] == ["running", "finishing", "cancelled", "idle"]
    assert r.cancel() is False                         # nothing to cancel any more


def test_task_errors_reach_on_error_and_are_stored():
    r, seen = recording_renderer()
    boom = InvalidInput("size", "big", "must be WIDTHxHEIGHT")

    def task(on_step, cancel):
        raise boom

    r.start(task)
    r.wait(5)
    assert r.outcome == "failed" and r.error is boom and seen["error"] == [boom]
    assert seen["state"] == ["running", "finishing", "failed", "idle"]


def test_done_is_reported_only_once_on_done_has_returned_and_finishing_is_busy():
    """on_done (the Studio shows and saves the clip: seconds for a big one) runs while the
    state is "finishing": start is refused saying so, cancel has nothing to stop, and
    "done" comes after it, so an observer that re-enables its buttons on done is never
    contradicted by a refused start."""
    entered, gate = threading.Event(), threading.Event()
    states, during = [], {}

    def on_done(result):
        entered.set()
        assert gate.wait(10), "the test never released on_done"
        states.append(("done returned", result))

    r = Renderer(on_done=on_done, on_state=states.append)
    assert r.start(lambda on_step, cancel: "clip")
    assert entered.wait(5)
    during["state"], during["busy"] = r.state, r.busy
    during["start"] = r.start(lambda on_step, cancel: "other")
    during["cancel"] = r.cancel()
    gate.set()
    assert r.wait(5)
    assert during["state"] == "finishing" and during["busy"] and during["cancel"] is False
    assert not during["start"] and during["start"].message == FINISHING_MESSAGE
    assert "already running" not in FINISHING_MESSAGE and "Cancel" not in FINISHING_MESSAGE
    assert states == ["running", "finishing", ("done returned", "clip"), "done", "idle"]
    assert (r.state, r.outcome, r.result) == ("idle", "done", "clip")


def test_a_failing_callback_is_reported_not_swallowed():
    errors = []

    def bad_done(result):
        raise RuntimeError("the player could not show it")

    r = Renderer(on_done=bad_done, on_error=errors.append)
    r.start(lambda on_step, cancel: "clip")
    r.wait(5)
    assert r.outcome == "failed" and isinstance(r.error, RuntimeError)
    assert [str(e) for e in errors] == ["the player could not show it"]
    assert r.state == "idle"                       # and the machine is not wedged


def test_a_failing_preview_callback_fails_the_job_visibly():
    errors = []

    def bad_preview(info):
        raise ValueError("bad picture")

    r = Renderer(on_preview=bad_preview, on_error=errors.append)
    r.start(lambda on_step, cancel: on_step(Info(1, 2)) or "clip")
    r.wait(5)
    assert r.outcome == "failed" and str(errors[0]) == "bad picture"


def test_previews_are_throttled_by_the_clock_but_the_last_one_always_arrives():
    clock = Clock()
    r, seen = recording_renderer(clock=clock, preview_interval=0.1)

    def task(on_step, cancel):
        for i in range(1, 21):            # 20 steps, 0.02 s apart: 0.4 s in all
            clock.now += 0.02
            on_step(Info(i, 20, preview=i))
        return "clip"

    r.start(task)
    r.wait(5)
    sent = seen["preview"]
    assert sent[0] == 1 and sent[-1] == 20
    assert len(sent) <= 0.4 / 0.1 + 2                 # ~10 per second, not 20
    assert all(b - a >= 5 for a, b in itertools.pairwise(sent[:-1]))   # 0.1 s = 5 steps apart
    assert len(seen["progress"]) == 20                # progress is never throttled


def test_the_latest_throttled_preview_is_flushed_when_a_job_is_cancelled():
    clock = Clock()
    r, seen = recording_renderer(clock=clock, preview_interval=10.0)

    def task(on_step, cancel):
        for i in range(1, 4):
            on_step(Info(i, 10, preview=i))   # clock never moves: only step 1 is due
        raise Cancelled("stopped")

    r.start(task)
    r.wait(5)
    assert seen["preview"] == [1, 3]               # the picture left on screen is the latest


def test_progress_reports_step_total_and_a_time_estimate():
    clock = Clock()
    r, seen = recording_renderer(clock=clock)

    def task(on_step, cancel):
        for i in range(1, 5):
            clock.now += 2.0
            on_step(Info(i, 4))
        return "clip"

    r.start(task)
    r.wait(5)
    first = seen["progress"][0]
    assert (first.step, first.total, first.eta) == (1, 4, pytest.approx(6.0))
    assert first.label == "step 1/4 · ~6 s left"
    assert seen["progress"][-1].label == "step 4/4"


def test_progress_label_for_short_waits():
    assert Progress(9, 10, 0.9, 0.1).label == "step 9/10 · <1 s left"


def test_a_non_callable_task_is_refused():
    with pytest.raises(TypeError, match="task must be callable"):
        Renderer().start("not a task")
