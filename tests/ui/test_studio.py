"""The Studio, driven headless: set widget values, click buttons, join the worker.

Renders use the smoke pipeline (real classes, seconds to train) with 2 steps and
4 frames. To hold a render mid-run without sleeping, a test blocks the worker inside
the preview update (an observer on `studio.preview`) until it opens a gate."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import ipywidgets as widgets
import numpy as np
import pytest

from runway_nb.camera import CameraPath
from runway_nb.engines import registry
from runway_nb.engines.base import Capabilities, Engine
from runway_nb.errors import InvalidInput
from runway_nb.store import Store
from runway_nb.ui.player import Player, png_bytes
from runway_nb.ui.studio import Studio

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _one_thread():
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def studio(smoke_pipeline, tmp_path):
    s = Studio(engine=str(smoke_pipeline), store=Store(tmp_path / "project"))
    s.prompt.value = "a red ball bouncing on a green field"
    s.seconds.value, s.steps.value = 0.5, 2           # 4 frames at 8 fps
    yield s
    s.close()
    s.wait(10)


def hold_at_first_preview(studio):
    """Block the worker at its first preview; returns (entered, gate) events."""
    entered, gate = threading.Event(), threading.Event()

    def block(_change):
        if not entered.is_set():
            entered.set()
            assert gate.wait(10), "the test never released the render"

    studio.preview.observe(block, "value")
    return entered, gate


def test_import_runway_nb_ui_does_not_import_torch():
    code = ("import sys, runway_nb.ui, runway_nb.ui.studio, runway_nb.ui.player, runway_nb.ui.gallery, "
            "runway_nb.ui.worker, runway_nb.magics, runway_nb.options\n"
            "from runway_nb.ui import Studio, Player, Gallery, Renderer\n"
            "assert 'torch' not in sys.modules, 'torch was imported'\nprint('ok')")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, check=False)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_generate_makes_a_clip_with_live_previews_and_a_green_bar(studio):
    previews = []
    studio.preview.observe(lambda c: previews.append(bytes(c["new"])), "value")
    studio.generate_button.click()
    clip = studio.wait(60)
    assert clip is not None and clip.frames.shape == (4, 64, 64, 3)
    assert previews and all(p.startswith(b"\x89PNG") for p in previews)   # bytes, not base64 text
    assert studio.progress.value == studio.progress.max == 2
    assert studio.progress.bar_style == "success" and studio.progress_label.value.startswith("done")
    assert clip.id in studio.message and str(clip.shot.seed) in studio.message
    assert [e.id for e in studio.gallery.entries] == [clip.id]           # saved in the project
    assert studio.player.slider.max == 3 and studio.player.image.value == png_bytes(clip.frames[0], 192)
    assert not studio.generate_button.disabled and studio.cancel_button.disabled


def test_generate_while_running_is_refused_with_a_message_and_never_interleaved(studio):
    entered, gate = hold_at_first_preview(studio)
    assert studio.generate()
    assert entered.wait(30)
    assert studio.generate_button.disabled                  # the button says so too
    refused = [studio.generate() for _ in range(20)]       # twenty fast clicks
    for _ in range(5):
        studio.generate_button.click()
    assert not any(refused) and "already running" in refused[0].message
    assert "already running" in studio.message
    gate.set()
    studio.wait(60)
    assert len(studio.clips) == 1 and len(studio.gallery.entries) == 1


def test_cancel_mid_run_turns_the_bar_red_and_keeps_earlier_clips(studio):
    first = studio.generate(wait=True) and studio.clip
    entered, gate = hold_at_first_preview(studio)
    assert studio.generate()
    assert entered.wait(30)
    studio.cancel_button.click()
    gate.set()
    studio.wait(60)
    assert studio.renderer.outcome == "cancelled"
    assert studio.progress.bar_style == "danger"
    assert "Cancelled at step 1/2" in studio.message and "untouched" in studio.message
    assert studio.clip is first and studio.clips == [first]
    assert [e.id for e in studio.gallery.entries] == [first.id]
    assert [e.id for e in Store(studio.store.path).gallery()] == [first.id]   # on disk too


@pytest.mark.parametrize("widget, value, field, words", [
    ("prompt", "", "prompt", "must contain some words"),
    ("prompt", "ball " * 2000, "prompt", "at most 4000 characters"),
    ("seed", 2**64, "seed", "2**63 - 1"),
    ("seed", -5, "seed", "between 0"),
    ("fps", "0", "fps", "> 0"),
    ("fps", "fast", "fps", "must be a number"),
    ("size", "big", "size", "WIDTHxHEIGHT"),
    ("size", "32x32", "size", "64x64"),
    ("seconds", 0.0, "seconds", "> 0"),
    ("steps", 0, "steps", "≥ 1"),
])
def test_bad_input_is_said_in_the_status_line_and_nothing_starts(studio, widget, value, field, words):
    getattr(studio, widget).value = value
    if widget == "seed":
        studio.lock_seed.value = True
    result = studio.generate()
    assert not result and studio.renderer.state == "idle" and studio.renderer.outcome is None
    assert isinstance(studio.error, InvalidInput) and studio.error.field == field
    assert field in studio.message and words in studio.message
    assert studio.gallery.entries == []


def test_emoji_and_right_to_left_prompts_render(studio):
    for prompt in ("🎈 a red ball 🎈", "كرة حمراء تقفز"):
        studio.prompt.value = prompt
        clip = studio.generate(wait=True) and studio.clip
        assert studio.renderer.outcome == "done", studio.message
        assert clip.shot.prompt == prompt


def test_unlocked_seed_is_new_each_time_and_shown_locked_seed_stays(studio):
    studio.lock_seed.value = False
    a = studio.generate(wait=True) and studio.clip
    b = studio.generate(wait=True) and studio.clip
    assert a.shot.seed != b.shot.seed and studio.seed.value == b.shot.seed
    studio.lock_seed.value = True
    c = studio.generate(wait=True) and studio.clip
    assert c.shot.seed == b.shot.seed
    np.testing.assert_array_equal(c.frames, b.frames)      # same seed, same settings: same clip
    studio.dice.click()
    assert studio.seed.value != b.shot.seed and studio.lock_seed.value


def test_typing_a_seed_locks_it(studio):
    studio.lock_seed.value = False
    studio.seed.value = 1234
    assert studio.lock_seed.value
    assert (studio.generate(wait=True) and studio.clip).shot.seed == 1234


def test_gallery_click_restores_the_exact_settings_and_remakes_the_clip(studio):
    studio.seed.value, studio.steps.value = 77, 3
    studio.negative_prompt.value = "blue"
    studio.camera_preset.value, studio.camera_intensity.value = "zoom_in", 0.5
    original = studio.generate(wait=True) and studio.clip
    studio.prompt.value, studio.negative_prompt.value = "something else", ""
    studio.seed.value, studio.steps.value, studio.seconds.value = 1, 2, 1.0
    studio.camera_preset.value = "none"
    studio.lock_seed.value = False
    studio.gallery.tiles[0].children[1].click()            # the tile's button
    assert studio.prompt.value == original.shot.prompt and studio.negative_prompt.value == "blue"
    assert (studio.seed.value, studio.lock_seed.value, studio.steps.value) == (77, True, 3)
    assert studio.seconds.value == 0.5 and studio.fps.value == "8" and studio.size.value == "64x64"
    assert (studio.camera_preset.value, studio.camera_intensity.value) == ("zoom_in", 0.5)
    assert "Restored" in studio.message
    again = studio.generate(wait=True) and studio.clip
    assert again is not original and again.id == original.id   # re-made, same content id
    np.testing.assert_array_equal(again.frames, original.frames)


def test_a_new_studio_on_the_project_folder_shows_earlier_clips(studio, smoke_pipeline):
    made = studio.generate(wait=True) and studio.clip
    after_restart = Studio(engine=str(smoke_pipeline), store=Store(studio.store.path))
    assert [e.id for e in after_restart.gallery.entries] == [made.id]
    after_restart.gallery.pick(made.id)
    assert after_restart.seed.value == made.shot.seed and after_restart.clip.id == made.id
    np.testing.assert_array_equal(after_restart.clip.frames, made.frames)


def test_add_to_sequence(studio):
    assert studio.add_to_sequence() is None and "Nothing to add" in studio.message
    studio.generate(wait=True)
    studio.sequence_button.click()
    assert len(studio.sequence) == 1 and studio.sequence.clips[0] is studio.clip
    assert "1 clips" in studio.message


def test_closing_the_studio_mid_run_cancels_the_render(studio):
    entered, gate = hold_at_first_preview(studio)
    studio.generate()
    assert entered.wait(30)
    studio.close()
    gate.set()
    studio.wait(60)
    assert studio.renderer.outcome == "cancelled" and studio.clips == []
    assert not studio.generate() and studio.gallery.entries == []


class FakeEngine(Engine):
    """A numpy-only engine with other capabilities, or one that fails mid-render."""
    id = "fake"

    def __init__(self, fail=False, **_):
        self.fail = fail
        self.capabilities = Capabilities(camera_modes=(), negative_prompt=False, max_frames=8,
                                         sizes=((32, 32), (64, 32)), fps=(8.0, 12.0),
                                         default_size=(32, 32), default_frames=4, default_steps=2)

    def _render(self, shot, on_step, cancel, init_frames, progress, started):
        from runway_nb.engines.base import StepInfo

        frames = np.zeros((shot.frames, shot.height, shot.width, 3), np.uint8)
        for i in range(1, shot.steps + 1):
            if on_step:
                on_step(StepInfo(i, shot.steps, frames, 0.0))
            if self.fail:
                raise RuntimeError("out of memory on step 1")
        return frames


@pytest.fixture
def fake_engines(monkeypatch):
    registry.engine_ids()                     # the built-ins first, so they stay registered
    for fid, fail in (("fake", False), ("fake-broken", True)):
        monkeypatch.setitem(registry._ENTRIES, fid, registry.EngineEntry(
            fid, "test engine", lambda path=None, fail=fail, **kw: FakeEngine(fail), lambda: True))
    monkeypatch.setattr(registry, "_CACHE", {})


def test_controls_follow_the_engines_capabilities(fake_engines, tmp_path):
    s = Studio(engine="fake", store=False)
    assert list(s.fps.options) == ["8", "12"] and not s.fps.disabled
    assert list(s.size.options) == ["32x32", "64x32"] and s.size.value == "32x32"
    assert s.camera_preset.disabled and s.negative_prompt.disabled
    assert "fake" in [v for _, v in s.engine_picker.options]
    s.prompt.value, s.size.value, s.fps.value = "a box", "64x32", "12"
    clip = s.generate(wait=True) and s.clip
    assert clip.frames.shape == (6, 32, 64, 3) and clip.fps == 12    # 0.5 s at 12 fps
    s.size.value = "128x128"
    assert not s.generate() and "64x32" in s.message          # says what the engine makes


def test_a_failing_render_shows_the_error_and_turns_the_bar_red(fake_engines, tmp_path):
    s = Studio(engine="fake", store=Store(tmp_path))
    s.prompt.value = "a box"
    good = s.generate(wait=True) and s.clip
    s.engine_picker.options = [*s.engine_picker.options, ("broken", "fake-broken")]
    s.engine_picker.value = "fake-broken"
    s.prompt.value = "a box"
    assert s.generate()
    s.wait(30)
    assert s.progress.bar_style == "danger" and s.renderer.outcome == "failed"
    assert "RuntimeError: out of memory on step 1" in s.message
    assert isinstance(s.error, RuntimeError)
    assert s.clip is good and [e.id for e in s.gallery.entries] == [good.id]


def test_camera_slot_takes_a_pad_that_provides_a_path(smoke_pipeline):
    class Pad(widgets.VBox):
        path = CameraPath.preset("pan_left", 0.5)

    s = Studio(engine=str(smoke_pipeline), store=False)
    s.prompt.value = "a ball"
    pad = Pad()
    s.set_camera_control(pad)
    assert s.camera_slot.children[0] is pad
    assert s.shot().camera == Pad.path


def test_player_steps_scrubs_loops_and_sets_speed():
    class Clip:
        fps, shot = 8.0, None
        frames = np.stack([np.full((4, 4, 3), 40 * i, np.uint8) for i in range(3)])

    p = Player(Clip())
    assert p.image.value == png_bytes(Clip.frames[0], 192)
    p.forward.click()
    assert p.frame == 1 and p.image.value == png_bytes(Clip.frames[1], 192)
    p.back.click()
    p.back.click()
    assert p.frame == 2                                      # looping wraps around
    p.loop.value = False
    p.forward.click()
    assert p.frame == 2                                      # not looping: stops at the end
    p.speed.value = 2.0
    assert p.play.interval == round(1000 / 16)
