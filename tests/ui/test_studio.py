"""The Studio, driven headless: set widget values, click buttons, join the worker.

Renders use the smoke pipeline (real classes, seconds to train) with 2 steps and
4 frames. To hold a render mid-run without sleeping, a test blocks the worker inside
the preview update (an observer on `studio.preview`) until it opens a gate."""

from __future__ import annotations

import json

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
from runway_nb.errors import InvalidInput, UnsupportedCapability
from runway_nb.shot import Shot
from runway_nb.store import Store
from runway_nb.ui.brush_pad import BrushPad
from runway_nb.ui.camera_pad import CameraPad
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


def _studio(smoke_pipeline, tmp_path, **kwargs):
    s = Studio(engine=str(smoke_pipeline), store=Store(tmp_path / "project"), **kwargs)
    s.prompt.value = "a red ball bouncing on a green field"
    s.seconds.value, s.steps.value = 0.5, 2           # 4 frames at 8 fps
    return s


@pytest.fixture
def studio(smoke_pipeline, tmp_path):
    """The Studio as `rn.Studio()` makes it: with the camera pad in its camera slot."""
    s = _studio(smoke_pipeline, tmp_path)
    yield s
    s.close()
    s.wait(10)


@pytest.fixture
def preset_studio(smoke_pipeline, tmp_path):
    """`rn.Studio(camera="presets")`: a preset dropdown and an intensity instead of the pad."""
    s = _studio(smoke_pipeline, tmp_path, camera="presets")
    yield s
    s.close()
    s.wait(10)


def drag(pad, points):
    """A mouse drag on the camera pad's canvas, as the browser sends it."""
    (x0, y0), *rest = points
    pad._on_mouse_down(x0, y0)
    for x, y in rest:
        pad._on_mouse_move(x, y)
    pad._on_mouse_up(*points[-1])


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
    assert clip.shot.motion_mode == "planned"                        # "bouncing": auto plans it
    plan = clip.provenance["motion_plan"]                            # and the status line says how
    assert ("motion planned from 'bouncing'" if plan["object_found"] else "'bouncing' not planned") \
        in studio.message
    assert studio.progress.value == studio.progress.max == 2 + 2     # a ¾-step draft (of 2), the 2-step render
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
    for _ in range(20):                                     # twenty fast clicks
        studio.generate_button.click()
    refused = [studio.generate() for _ in range(20)]       # and twenty from Python
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
    assert "Cancelled at step 1/4" in studio.message and "untouched" in studio.message   # draft + render
    assert studio.clip is first and studio.clips == [first]
    assert [e.id for e in studio.gallery.entries] == [first.id]
    assert [e.id for e in Store(studio.store.path).gallery()] == [first.id]   # on disk too


def test_while_the_finished_clip_is_saved_the_studio_says_saving_and_offers_no_button(studio, monkeypatch):
    """Saving a big clip takes seconds (Store.add of a CogVideoX clip: ~9 s). Meanwhile the
    buttons used to come back (the worker said done before the save) while Generate was
    refused as "already running", Cancel said "Nothing is rendering" and the status line
    still said "Rendering…"."""
    entered, gate = threading.Event(), threading.Event()
    add = studio.store.add

    def slow_add(clip):
        entered.set()
        assert gate.wait(10), "the test never released the save"
        return add(clip)

    monkeypatch.setattr(studio.store, "add", slow_add)
    assert studio.generate()
    assert entered.wait(60)
    try:
        assert studio.generate_button.disabled and studio.extend_button.disabled
        assert studio.cancel_button.disabled                  # the render is over: nothing to cancel
        assert studio.progress_label.value == "saving…"
        assert "Saving" in studio.message and "Rendering" not in studio.message
        refused = studio.generate()
        assert not refused and "being shown and saved" in refused.message
        assert "already running" not in studio.message
        assert studio.cancel() is False and "being saved" in studio.message
        assert "Nothing is rendering" not in studio.message
    finally:
        gate.set()
    studio.wait(60)
    assert studio.renderer.outcome == "done" and "saved in" in studio.message
    assert not studio.generate_button.disabled and not studio.extend_button.disabled
    assert studio.cancel_button.disabled and studio.progress_label.value.startswith("done")
    assert [e.id for e in studio.gallery.entries] == [studio.clip.id]


@pytest.mark.parametrize("widget, value, field, words", [
    ("prompt", "", "prompt", "must contain some words"),
    ("prompt", "ball " * 2000, "prompt", "at most 4000 characters"),
    ("seed", 2**64, "seed", "2**63 - 1"),
    ("seed", 2**63, "seed", "2**63 - 1"),
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
    assert len(studio.message) < 400                      # a 10,000-character value is cut short
    assert studio.gallery.entries == []


def test_emoji_and_right_to_left_prompts_render(studio):
    prompts = ("🎈 a red ball 🎈", "كرة حمراء تقفز")
    for prompt in prompts:
        studio.prompt.value = prompt
        clip = studio.generate(wait=True) and studio.clip
        assert studio.renderer.outcome == "done", studio.message
        assert clip.shot.prompt == prompt
    # the gallery keeps each prompt whole in its tile's tooltip, newest first
    assert [t.children[1].tooltip for t in studio.gallery.tiles] == list(reversed(prompts))
    assert "dir='auto'" in studio.status.value             # right-to-left text reads right to left


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


def test_the_motion_dropdown_offers_the_engines_modes_and_rides_in_the_shot(studio):
    assert studio.motion_mode.options == ("auto", "planned", "native") and not studio.motion_mode.disabled
    studio.motion_mode.value = "native"
    clip = studio.generate(wait=True) and studio.clip
    assert clip.shot.motion_mode == "native" and "motion_plan" not in clip.provenance
    assert "planned" not in studio.message
    studio.motion_mode.value = "auto"
    studio.gallery.tiles[0].children[1].click()            # restoring puts the mode back
    assert studio.motion_mode.value == "native"


def test_the_status_line_says_whether_the_motion_was_planned():
    from runway_nb.tiny.planner import plan_note

    found = {"motion_plan": {"words": "drifts left", "object_found": True}}
    lost = {"motion_plan": {"words": "drifts left", "object_found": False}}
    assert plan_note(found) == "motion planned from 'drifts left'"
    assert "not planned (no object found" in plan_note(lost)
    assert plan_note({}) == ""


def test_gallery_click_restores_the_exact_settings_and_remakes_the_clip(preset_studio):
    studio = preset_studio
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


@pytest.mark.parametrize("derive, words", [(lambda c: c.upscale(2, "bicubic"), "an upscale of clip"),
                                           (lambda c: c[2:6], "a cut of clip")])
def test_restoring_a_clip_made_from_another_says_generate_re_makes_that_one(studio, derive, words):
    # before: "Generate re-makes it exactly", where Generate makes the clip it came from
    made = studio.generate(wait=True) and studio.clip
    studio.restore(derive(made))
    assert words in studio.message and f"Generate re-makes {made.id}, not this clip" in studio.message
    studio.restore(made)
    assert "Generate re-makes it exactly" in studio.message


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
    assert "1 clip," in studio.message


def test_the_sequence_is_kept_in_the_project_and_back_after_a_restart(studio, smoke_pipeline):
    first = studio.generate(wait=True) and studio.clip
    studio.add_to_sequence()
    studio.add_to_sequence()
    assert studio.store.sequences() == ["studio"]
    after_restart = Studio(engine=str(smoke_pipeline), store=Store(studio.store.path))
    try:
        assert [c.id for c in after_restart.sequence.clips] == [first.id, first.id]
        np.testing.assert_array_equal(after_restart.sequence.clips[0].frames, first.frames)
        after_restart.gallery.pick(first.id)
        after_restart.add_to_sequence()                   # and it goes on being saved
        assert len(Store(studio.store.path).load_sequence("studio")) == 3
    finally:
        after_restart.close()
        after_restart.wait(10)


def test_two_studios_on_one_project_keep_each_others_sequence_edits(studio, smoke_pipeline):
    """Two notebooks on the default runway_project/: each Studio autosaved its own copy of
    the sequence, so the last to add wrote its cut over the other's."""
    other = Studio(engine=str(smoke_pipeline), store=Store(studio.store.path))
    try:
        other.prompt.value, other.seconds.value, other.steps.value = "a blue cube", 0.5, 2
        mine = studio.generate(wait=True) and studio.clip
        theirs = other.generate(wait=True) and other.clip
        assert len(studio.sequence) == len(other.sequence) == 0          # both read it
        assert studio.add_to_sequence() and "reloaded" not in studio.message
        assert [e.id for e in studio.gallery.entries] == [theirs.id, mine.id]   # their clip, no refresh click
        assert other.add_to_sequence()
        assert "changed by another Studio" in other.message and "reloaded it first" in other.message
        assert "2 clips" in other.message
        on_disk = lambda: [c.id for c in Store(studio.store.path).load_sequence("studio").clips]  # noqa: E731
        assert on_disk() == [mine.id, theirs.id]
        assert studio.add_to_sequence() and "reloaded it first" in studio.message
        assert on_disk() == [mine.id, theirs.id, mine.id]
        assert [c.id for c in studio.sequence.clips] == on_disk()
        assert [c.id for c in other.sequence.clips] == on_disk() and "reloaded" in other.message
    finally:
        other.close()
        other.wait(10)


def test_a_deleted_sequence_file_is_written_again_with_this_studios_cut(studio):
    made = studio.generate(wait=True) and studio.clip
    studio.add_to_sequence()
    (studio.store.sequences_dir / "studio.json").unlink()
    assert studio.add_to_sequence() and "was gone" in studio.message
    assert [c.id for c in Store(studio.store.path).load_sequence("studio").clips] == [made.id, made.id]


def test_an_edit_racing_another_studios_save_is_reloaded_and_redone(studio, smoke_pipeline, monkeypatch):
    from runway_nb.sequence import Sequence

    mine = studio.generate(wait=True) and studio.clip
    studio.add_to_sequence()
    other = Studio(engine=str(smoke_pipeline), store=Store(studio.store.path))
    try:
        other.gallery.pick(mine.id)
        other.add_to_sequence()                               # saved by them…
        # …just after this Studio looked: its check misses it, the save must not
        monkeypatch.setattr(Sequence, "changed_on_disk", lambda self: False)
        assert studio.add_to_sequence()
        assert "reloaded it first" in studio.message and "3 clips" in studio.message
        assert len(Store(studio.store.path).load_sequence("studio")) == 3
    finally:
        other.close()
        other.wait(10)


def test_a_saved_sequence_that_cannot_be_reloaded_is_left_as_it_is(studio, smoke_pipeline):
    studio.generate(wait=True)
    studio.add_to_sequence()
    saved = studio.store.sequences_dir / "studio.json"
    data = json.loads(saved.read_text())
    data["clips"] = {}                                     # its clips gone from the record
    saved.write_text(json.dumps(data))
    kept = saved.read_bytes()
    again = Studio(engine=str(smoke_pipeline), store=Store(studio.store.path))
    try:
        assert len(again.sequence) == 0 and "could not be reloaded" in again.message
        again.gallery.pick(studio.clip.id)
        for _ in range(2):                                 # every add says it is not saved
            again.add_to_sequence()
            assert "kept in memory only" in again.message  # (it said "Added …" in green)
        assert saved.read_bytes() == kept                  # never overwritten by the new one
    finally:
        again.close()
        again.wait(10)


def _read_only(monkeypatch):
    import errno

    def refuse(self, final, fill):
        raise PermissionError(errno.EACCES, "Permission denied", str(final))

    monkeypatch.setattr(Store, "_write", refuse)     # as root, chmod would not stop the writes


def test_clips_the_project_could_not_take_are_saved_once_it_can(studio, monkeypatch):
    first = studio.generate(wait=True) and studio.clip
    _read_only(monkeypatch)
    lost = studio.generate(wait=True) and studio.clip
    assert "NOT saved" in studio.message and "read-only" in studio.message
    assert "studio.clips[1]" in studio.message and "studio.unsaved" in studio.message
    assert studio.unsaved == [lost] and studio.clips == [first, lost]
    assert studio.save_unsaved() == [] and "Nothing saved" in studio.message      # still read-only
    assert studio.unsaved == [lost]
    monkeypatch.undo()                                          # writable again
    made = studio.generate(wait=True) and studio.clip
    assert "also saved 1 earlier clip that could not be saved before" in studio.message
    assert studio.unsaved == [] and {e.id for e in studio.gallery.entries} == {first.id, lost.id, made.id}
    assert lost.id in Store(studio.store.path)


def test_an_earlier_clip_that_still_cannot_be_saved_is_said_when_the_next_one_saves(studio, monkeypatch):
    """The first message promised earlier clips are saved with the next one; when one of them
    still failed, the status line said only "saved in …"."""
    _read_only(monkeypatch)
    lost = studio.generate(wait=True) and studio.clip
    monkeypatch.undo()
    real_add = Store.add

    def add(self, clip):                      # that one clip alone still cannot be written
        if clip is lost:
            raise PermissionError("its file is locked")
        return real_add(self, clip)

    monkeypatch.setattr(Store, "add", add)
    made = studio.generate(wait=True) and studio.clip
    assert made.id in studio.store and f"saved in {studio.store.path}" in studio.message
    assert "1 earlier still NOT saved (PermissionError: its file is locked)" in studio.message
    assert studio.unsaved == [lost] and isinstance(studio.error, PermissionError)


def test_save_unsaved_saves_them_by_hand(studio, monkeypatch):
    _read_only(monkeypatch)
    lost = studio.generate(wait=True) and studio.clip
    monkeypatch.undo()
    assert studio.save_unsaved() == [lost] and "Saved 1 clip" in studio.message
    assert studio.unsaved == [] and [e.id for e in studio.gallery.entries] == [lost.id]
    assert studio.save_unsaved() == [] and "every clip made here is saved" in studio.message.lower()


def test_a_deleted_project_folder_is_said_as_it_is_and_the_refresh_button_says_why(studio):
    import shutil

    from runway_nb.errors import StoreError

    first = studio.generate(wait=True) and studio.clip
    shutil.rmtree(studio.store.path)
    lost = studio.generate(wait=True) and studio.clip
    assert "NOT saved" in studio.message and "is gone" in studio.message
    assert "intact" not in studio.message                      # clips saved before went with it
    assert studio.unsaved == [lost]
    with pytest.raises(StoreError, match="is gone"):
        studio.gallery.refresh()
    studio.gallery.refresh_button.click()                      # in the browser: never a lost exception
    assert "gallery could not be re-read" in studio.message and "is gone" in studio.message
    assert "could not re-read" in studio.gallery.title.value
    Store(studio.store.path)                                   # made again, as the message says
    assert studio.save_unsaved() == [lost]
    assert [e.id for e in studio.gallery.entries] == [lost.id] and first.id not in studio.store


def test_extend_continues_the_clip_in_the_player_and_keeps_its_parent(studio):
    assert studio.extend_button.disabled                   # nothing to extend yet
    refused = studio.extend()
    assert not refused and "Nothing to extend" in refused.message and studio.renderer.outcome is None
    first = studio.generate(wait=True) and studio.clip
    kept = first.frames.copy()
    assert not studio.extend_button.disabled
    studio.prompt.value = "a red ball resting on a green field"      # the continuation's words
    studio.extend_button.click()
    longer = studio.wait(60)
    assert studio.renderer.outcome == "done", studio.message
    assert len(longer) == 8 and longer.parent_id == first.id        # 4 frames + 0.5 s at 8 fps
    assert longer.shot.parent == first.id and longer.shot.prompt == "a red ball resting on a green field"
    assert longer.shot.camera is None                      # an empty pad: the clip's move (none) goes on
    np.testing.assert_array_equal(first.frames, kept)      # the parent is never changed
    keep = len(first) - longer.shot.blend_frames
    np.testing.assert_array_equal(longer.frames[:keep], first.frames[:keep])
    assert f"Extended {first.id} to {longer.id}" in studio.message and "1.00 s" in studio.message
    assert studio.progress.bar_style == "success" and studio.player.slider.max == 7
    assert {e.id for e in studio.gallery.entries} == {first.id, longer.id}
    assert Store(studio.store.path).load_clip(longer.id).parent_id == first.id   # on disk, parent recorded
    assert studio.clips == [first, longer] and not studio.extend_button.disabled


def test_extend_takes_the_pads_move_and_the_seconds_typed(studio):
    studio.generate(wait=True)
    drag(studio.camera_pad, [(80, 150), (110, 140), (140, 130), (170, 120)])
    studio.seconds.value = 1.0
    longer = studio.extend(wait=True) and studio.clip
    assert len(longer) == 4 + 8
    assert longer.shot.camera.to_dict()["keyframes"] == studio.camera_pad.path.to_dict()["keyframes"]


def test_extend_refuses_bad_input_in_words_and_a_cancel_keeps_the_clip(studio):
    first = studio.generate(wait=True) and studio.clip
    assert studio.progress_label.value.startswith("done") and studio.progress.bar_style == "success"
    studio.seconds.value = 0.0
    assert not studio.extend() and "Not extended" in studio.message and "seconds" in studio.message
    # the bar no longer says "done · 16 frames" of the last clip beside the refusal
    assert studio.progress_label.value == "not started" and studio.progress.bar_style == ""
    assert studio.progress.value == 0
    studio.seconds.value = 0.5
    assert not studio.extend(seconds=5000) and "seconds=5000" in studio.message
    assert studio.renderer.outcome == "done" and studio.clip is first     # nothing started
    entered, gate = hold_at_first_preview(studio)
    assert studio.extend()
    assert entered.wait(30)
    assert studio.extend_button.disabled and studio.generate_button.disabled
    assert not studio.extend() and "already running" in studio.message
    studio.cancel_button.click()
    gate.set()
    studio.wait(60)
    assert studio.renderer.outcome == "cancelled" and "untouched" in studio.message
    assert studio.clip is first and [e.id for e in studio.gallery.entries] == [first.id]
    assert not studio.extend_button.disabled                # the clip can still be extended


def test_extend_continues_a_clip_picked_in_the_gallery(studio, smoke_pipeline):
    made = studio.generate(wait=True) and studio.clip
    again = Studio(engine=str(smoke_pipeline), store=Store(studio.store.path))
    try:
        assert again.extend_button.disabled
        again.gallery.pick(made.id)
        assert not again.extend_button.disabled
        again.seconds.value, again.steps.value = 0.5, 2
        longer = again.extend(wait=True) and again.clip
        assert again.renderer.outcome == "done", again.message
        assert longer.parent_id == made.id and len(longer) == 8
        again.gallery.pick(longer.id)           # an extension: Generate would not re-make it
        assert f"continues {made.id}" in again.message and "re-makes" not in again.message
        assert again.clip.id == longer.id
    finally:
        again.close()
        again.wait(10)


def test_closing_the_studio_mid_run_cancels_the_render(studio):
    entered, gate = hold_at_first_preview(studio)
    studio.generate()
    assert entered.wait(30)
    studio.close()
    gate.set()
    studio.wait(60)
    assert studio.renderer.outcome == "cancelled" and studio.clips == []
    assert not studio.generate() and studio.gallery.entries == []
    assert studio.comm is None and studio.camera_pad.comm is None      # the pad is closed too
    assert Store(studio.store.path).gallery() == []                     # nothing half-written


def test_the_studio_has_the_camera_pad_and_a_drag_reaches_the_shot(studio):
    pad = studio.camera_pad
    assert isinstance(pad, CameraPad) and studio.camera_slot.children[0] is pad
    before = studio.shot().camera
    drag(pad, [(80, 150), (110, 140), (140, 130), (170, 120)])
    assert studio.shot().camera == pad.path and pad.path != before
    clip = studio.generate(wait=True) and studio.clip
    assert studio.renderer.outcome == "done", studio.message
    assert clip.shot.camera.to_dict()["keyframes"] == pad.path.to_dict()["keyframes"]


def test_the_pad_follows_the_clip_length_typed_in_the_form(studio):
    pad = studio.camera_pad
    drag(pad, [(80, 150), (110, 140), (140, 130), (170, 120)])
    last = pad.path.keyframes[-1].time
    studio.seconds.value = 1.0                             # twice as long: the drawn move stretches
    assert pad.logic.duration == 1.0
    assert pad.path.keyframes[-1].time == pytest.approx(2 * last, abs=1e-3)
    assert pad.frame.max == 8 - 1                          # 1 s at the engine's 8 fps
    studio.seconds.value = 0.0                             # not followed; Generate says why
    assert pad.logic.duration == 1.0
    assert not studio.generate() and "seconds" in studio.message


def test_an_empty_pad_means_no_camera_move_and_the_static_preset_a_static_camera(studio):
    pad = studio.camera_pad
    assert studio.shot().camera is None                    # untouched: as rn.generate without camera=
    assert "no camera move" in pad.status.value
    pad.preset_buttons["static"].click()
    assert studio.shot().camera.preset_name == "static"    # asked for: the model is told
    drag(pad, [(80, 150), (110, 140), (140, 130), (170, 120)])
    assert studio.shot().camera is not None
    pad.clear_button.click()
    assert studio.shot().camera is None


def test_gallery_click_restores_no_camera_into_the_pad_as_an_empty_pad(studio):
    original = studio.generate(wait=True) and studio.clip
    assert original.shot.camera is None
    drag(studio.camera_pad, [(80, 150), (110, 140), (140, 130), (170, 120)])
    studio.gallery.pick(0)
    assert studio.shot().camera is None
    again = studio.generate(wait=True) and studio.clip
    np.testing.assert_array_equal(again.frames, original.frames)


def test_gallery_click_restores_a_drawn_camera_path_into_the_pad(studio):
    pad = studio.camera_pad
    drag(pad, [(80, 150), (110, 140), (140, 130), (170, 120)])
    original = studio.generate(wait=True) and studio.clip
    pad.clear_button.click()
    assert pad.path != original.shot.camera
    studio.gallery.pick(0)
    assert pad.path.to_dict()["keyframes"] == original.shot.camera.to_dict()["keyframes"]
    again = studio.generate(wait=True) and studio.clip
    np.testing.assert_array_equal(again.frames, original.frames)


def test_restoring_a_deforum_clip_keeps_its_schedules_and_generate_remakes_it_exactly(studio):
    """A clip whose camera was Deforum text keeps the schedules in its Shot (a longer clip
    reads them on). Restored, the pad holds that very path, so Generate makes the same Shot
    and the same clip id, as the message says; the pad used to turn it into keyframes."""
    shot = studio.shot().replace(seed=5, camera="zoom: 0:(1.0), 2:(1.04)")
    original = studio.engine.render(shot, progress=False)
    assert "deforum" in original.shot.camera.to_dict()
    studio.camera_pad.clear_button.click()
    studio.restore(original)
    assert studio.camera_pad.path == original.shot.camera and "re-makes it exactly" in studio.message
    again = studio.generate(wait=True) and studio.clip
    assert again.shot == original.shot and again.id == original.id
    np.testing.assert_array_equal(again.frames, original.frames)

def test_every_part_carries_its_stable_css_class(studio):
    assert "rn-studio" in studio._dom_classes and "rn-studio" in Studio.__doc__
    for name, css in Studio.CSS_CLASSES.items():
        assert css in getattr(studio, name)._dom_classes, name
        assert css in Studio.__doc__, f"{css} is not documented"
    pad = studio.camera_pad
    assert "rn-camera-pad" in pad._dom_classes and "rn-camera-canvas" in pad.canvas._dom_classes
    assert "rn-camera-pad" in Studio.__doc__ and "rn-camera-canvas" in Studio.__doc__
    brushes = studio.brush_pad
    assert "rn-brush-pad" in brushes._dom_classes and "rn-brush-canvas" in brushes.canvas._dom_classes
    assert "rn-brush-pad" in Studio.__doc__ and "rn-brush-canvas" in Studio.__doc__


def test_unknown_camera_control_is_refused_in_words(smoke_pipeline):
    with pytest.raises(InvalidInput, match="camera.*'pad'.*'presets'"):
        Studio(engine=str(smoke_pipeline), store=False, camera="joystick")


@pytest.mark.parametrize("kwargs, field", [({"store": 123}, "store"), ({"store": False, "sequence": "abc"},
                                                                         "sequence")])
def test_a_store_or_sequence_of_the_wrong_kind_is_refused_in_words(smoke_pipeline, kwargs, field):
    # before: a TypeError from pathlib, or a string taken as the sequence until the first add
    with pytest.raises(InvalidInput) as err:
        Studio(engine=str(smoke_pipeline), **kwargs)
    assert err.value.field == field


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
    assert s.camera_pad.layout.display == "none"            # no camera control: no pad to draw on
    assert "fake" in [v for _, v in s.engine_picker.options]
    s.prompt.value, s.size.value, s.fps.value = "a box", "64x32", "12"
    assert s.shot().camera is None
    clip = s.generate(wait=True) and s.clip
    assert clip.frames.shape == (6, 32, 64, 3) and clip.fps == 12    # 0.5 s at 12 fps
    assert s.camera_pad.fps == 12                                  # the (hidden) pad follows the form
    assert s.extend_button.disabled                                # this engine cannot extend…
    assert not s.extend() and "cannot extend" in s.message         # …and says so from Python
    s.size.value = "128x128"
    assert not s.generate() and "64x32" in s.message          # says what the engine makes


def test_an_engine_loaded_by_the_user_is_used_as_it_is(fake_engines, monkeypatch):
    """rn.Studio(rn.load_engine("wan", device="cuda", dtype=...)) on a Colab GPU: the Studio
    renders on that very engine, and loads engines picked later on its device."""
    monkeypatch.setattr(registry, "check_device", lambda device: None)     # no GPU here
    mine = FakeEngine()
    mine.device = "cuda:1"
    s = Studio(mine, store=False)
    assert s.engine is mine and s.device == "cuda:1"
    s.prompt.value = "a box"
    assert s.generate(wait=True) and s.clip.shot.engine == "fake"
    asked = []
    monkeypatch.setattr(registry, "load_engine",
                        lambda name, **kw: asked.append((name, kw)) or FakeEngine())
    s.engine_picker.options = [*s.engine_picker.options, ("broken", "fake-broken")]
    s.engine_picker.value = "fake-broken"
    assert asked[-1] == ("fake-broken", {"device": "cuda:1", "dtype": None})
    assert "Engine fake-broken: size, fps, length, steps and guidance set to its defaults" in s.message
    assert all(kw["device"] == "cuda:1" for _, kw in asked)


def test_a_studio_given_an_id_alone_uses_the_engine_the_notebook_loaded(fake_engines, monkeypatch):
    """rn.load_engine("ltx", device="cuda", cpu_offload=True), then rn.Studio("ltx"): the
    Studio renders on that engine (it loaded a second copy on the CPU); an engine picked
    later that nothing loaded loads on the CPU; a Studio given a device loads on it."""
    monkeypatch.setattr(registry, "check_device", lambda device: None)     # no GPU here
    on_gpu = FakeEngine()
    on_gpu.device = "cuda"
    registry._CACHE[registry._cache_key(registry._ENTRIES["fake"], "fake", None, "cuda", None,
                                        {"cpu_offload": True})] = on_gpu
    s = Studio("fake", store=False)
    assert s.engine is on_gpu and [k for k in registry._CACHE if k[0] == "fake"] == [
        ("fake", "cuda", "None", "[('cpu_offload', True)]")]                  # no second copy
    s.prompt.value = "a box"
    assert s.generate(wait=True) and s.clip.shot.engine == "fake"
    s.engine_picker.options = [*s.engine_picker.options, ("broken", "fake-broken")]
    s.engine_picker.value = "fake-broken"
    assert s.engine is not on_gpu                                          # loaded now, on the CPU
    assert [k[:2] for k in registry._CACHE if k[0] == "fake-broken"] == [("fake-broken", "cpu")]
    cpu = Studio("fake", store=False, device="cpu")
    assert cpu.engine is not on_gpu and ("fake", "cpu") in [k[:2] for k in registry._CACHE]


def test_generate_after_unload_engine_loads_the_studios_engine_again(fake_engines, monkeypatch):
    """rn.unload_engine() frees the Studio's engine: Generate loads it again as the Studio
    loads engines (it refused, "load it again", with no way to in the Studio but re-picking);
    an engine that was on a GPU is not reloaded on the CPU behind the user's back, and one
    the user gave the Studio stays theirs to load."""
    s = Studio("fake", store=False)
    s.prompt.value, s.steps.value, s.fps.value = "a box", 3, "12"
    first = s.engine
    assert s.generate(wait=True)
    assert registry.unload_engine() >= 1
    assert s.generate(wait=True) and s.renderer.outcome == "done"
    assert s.engine is not first and len(s.clips) == 2
    # the settings typed in the form stay (loading it again does not reset them to its defaults)
    assert (s.steps.value, s.fps.value) == (3, "12") and s.clip.shot.steps == 3 and s.clip.fps == 12
    second = s.engine
    registry.unload_engine()
    # Extend (of the clip the unloaded engine made) loads it again too: this engine then
    # refuses for what it cannot do, not for having been unloaded
    assert not s.extend() and "cannot extend" in s.message and "unloaded" not in s.message
    assert s.engine is not second and not s.engine.unloaded

    registry.unload_engine()                                          # nothing loaded
    monkeypatch.setattr(registry, "check_device", lambda device: None)     # no GPU here
    key = registry._cache_key(registry._ENTRIES["fake"], "fake", None, "cuda", None, {})
    on_gpu = registry._CACHE[key] = FakeEngine()
    on_gpu.device = "cuda"
    s = Studio("fake", store=False)
    s.prompt.value = "a box"
    assert s.engine is on_gpu
    registry.unload_engine(on_gpu)
    assert not s.generate() and "was unloaded" in s.message          # not a CPU copy
    assert not any(k[:2] == ("fake", "cpu") for k in registry._CACHE)
    again = registry._CACHE[key] = FakeEngine()                       # the user loads it again
    again.device = "cuda"
    assert s.generate(wait=True) and s.engine is again

    mine = FakeEngine()
    s = Studio(mine, store=False)
    s.prompt.value = "a box"
    mine.unload()
    assert not s.generate() and "was unloaded" in s.message and s.engine is mine


def test_an_engine_picked_later_loads_without_the_settings_it_does_not_take(fake_engines, monkeypatch):
    """rn.Studio("ltx", dtype="bfloat16", engine_options={"cpu_offload": True}), then the tiny
    engine picked: it loads without them and the status line says so (it was refused by
    name, "cpu_offload=True is not allowed", and the Studio had no engine); the Studio's
    own engine keeps them, and its first engine given one it cannot take is still refused."""
    monkeypatch.setitem(registry._ENTRIES, "fake-big", registry.EngineEntry(
        "fake-big", "test engine", lambda path=None, **kw: FakeEngine(), lambda: True,
        options=("cpu_offload",)))
    asked = []
    real = registry.load_engine
    monkeypatch.setattr(registry, "load_engine", lambda name, **kw: asked.append((name, kw)) or real(name, **kw))
    s = Studio("fake-big", store=False, dtype="bfloat16", engine_options={"cpu_offload": True})
    assert asked[-1] == ("fake-big", {"device": "cpu", "dtype": "bfloat16", "cpu_offload": True})
    s.engine_picker.value = "tiny"
    assert asked[-1] == ("tiny", {"device": "cpu", "dtype": None})
    assert s.engine is not None and s.engine.id == "tiny" and s.engine_error is None
    assert "It loaded without dtype, cpu_offload, which it does not take" in s.message
    s.engine_picker.value = "fake-big"
    assert asked[-1] == ("fake-big", {"device": "cpu", "dtype": "bfloat16", "cpu_offload": True})
    assert "loaded without" not in s.message
    refused = Studio("tiny", store=False, engine_options={"cpu_offload": True})
    assert refused.engine is None and "cpu_offload=True is not allowed" in refused.message
    refused.prompt.value = "a red ball"                 # and Generate does not get round it
    assert not refused.generate() and "cpu_offload=True is not allowed" in refused.message
    assert refused.engine is None and refused.clips == []


def test_the_studio_loads_its_engine_on_the_device_and_options_given(fake_engines, monkeypatch):
    with pytest.raises(InvalidInput, match="device='abacus'"):
        Studio("fake", store=False, device="abacus")
    asked = []
    monkeypatch.setattr(registry, "load_engine", lambda name, **kw: asked.append((name, kw)) or FakeEngine())
    monkeypatch.setattr(registry, "check_device", lambda device: None)     # no GPU here
    Studio("fake", store=False, device="cuda", dtype="float16", engine_options={"cpu_offload": True})
    assert asked == [("fake", {"device": "cuda", "dtype": "float16", "cpu_offload": True})]


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


def _unloadable(monkeypatch):
    from runway_nb.errors import WeightsError

    def load(path=None, **_):
        raise WeightsError("the weights 'org/big' are not in the local cache (downloads are off)")

    monkeypatch.setitem(registry._ENTRIES, "fake-unloadable", registry.EngineEntry(
        "fake-unloadable", "test engine", load, lambda: False))


def test_switching_to_an_engine_that_cannot_load_keeps_the_typed_settings(fake_engines, studio,
                                                                         monkeypatch):
    _unloadable(monkeypatch)
    studio.engine_picker.options = [*studio.engine_picker.options, ("big", "fake-unloadable")]
    studio.seconds.value, studio.steps.value, studio.guidance.value = 1.5, 3, 6.0
    studio.engine_picker.value = "fake-unloadable"
    assert studio.engine is None and "Could not load the engine" in studio.message
    assert "not in the local cache" in studio.message
    assert (studio.seconds.value, studio.steps.value, studio.guidance.value) == (1.5, 3, 6.0)
    assert studio.extend_button.disabled
    studio.engine_picker.value = "fake"                   # one that loads: its defaults, said so
    assert studio.engine is not None and studio.steps.value == 2 and "set to its defaults" in studio.message


def test_restoring_a_clip_whose_engine_cannot_load_says_so(studio, monkeypatch):
    _unloadable(monkeypatch)
    made = studio.generate(wait=True) and studio.clip
    foreign = made.__class__(made.frames, made.fps, shot=made.shot.replace(engine="fake-unloadable", seed=5))
    studio.store.add(foreign)
    studio.gallery.refresh()
    asked, load = [], registry.load_engine
    monkeypatch.setattr(registry, "load_engine", lambda name, **kw: asked.append(name) or load(name, **kw))
    studio.gallery.pick(foreign.id)
    assert asked == ["fake-unloadable"]                   # not the picker's first engine on the way
    assert studio.engine is None and studio.engine_picker.value == "fake-unloadable"
    assert "re-makes it exactly" not in studio.message
    assert f"Restored the settings of {foreign.id}" in studio.message and "could not load" in studio.message
    assert "not in the local cache" in studio.message and type(studio.error).__name__ == "WeightsError"
    assert studio.seed.value == 5 and studio.clip.id == foreign.id
    assert not studio.generate() and "not in the local cache" in studio.message


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


# ---- the brush pad in the Studio --------------------------------------------------------------

def paint_and_aim(pad, stroke, arrow):
    """Paint a region with the pad's pure logic, then draw its arrow (pad pixels)."""
    lg = pad.logic
    lg.tool = "paint"
    lg.pointer_down(*stroke[0])
    for x, y in stroke[1:]:
        lg.pointer_move(x, y)
    lg.pointer_up(*stroke[-1])
    lg.tool = "arrow"
    lg.pointer_down(*arrow[0])
    lg.pointer_up(*arrow[1])
    lg.tool = "paint"


def test_the_studio_has_the_brush_pad_and_a_painted_brush_reaches_the_rendered_shot(studio):
    pad = studio.brush_pad
    assert isinstance(pad, BrushPad) and pad in studio.brush_slot.children
    assert studio.brushes == () and studio.shot().brushes == ()      # an empty pad: no brushes
    assert studio.brush_slot.layout.display == "none"                 # the camera pad shows first
    studio.pad_picker.value = "brushes"
    assert studio.brush_slot.layout.display is None and studio.camera_slot.layout.display == "none"
    studio.lock_seed.value = True
    plain = studio.generate(wait=True) and studio.clip
    paint_and_aim(pad, [(40 + 5 * i, 120) for i in range(8)], [(60, 120), (200, 120)])
    (brush,) = studio.brushes
    assert brush.mask.shape == (plain.shot.height, plain.shot.width) and brush.horizontal > 0
    brushed = studio.generate(wait=True) and studio.clip
    assert studio.renderer.outcome == "done", studio.message
    assert brushed.shot.brushes == (brush,) and brushed.shot.seed == plain.shot.seed
    assert not np.array_equal(brushed.frames, plain.frames)            # the engine moved the region


def test_gallery_click_restores_the_brushes_into_the_pad_exactly(studio):
    pad = studio.brush_pad
    paint_and_aim(pad, [(40 + 5 * i, 120) for i in range(8)], [(60, 120), (90, 60)])
    pad.logic.set_proximity(0, 0.4)
    lg = pad.logic                                     # a second brush: a box following a path
    lg.add_brush()
    lg.tool = "box"
    lg.pointer_down(150, 150)
    lg.pointer_up(220, 230)
    lg.tool = "path"
    lg.pointer_down(185, 190)
    for x, y in ((160, 160), (140, 120), (150, 80)):
        lg.pointer_move(x, y)
    lg.pointer_up(150, 80)
    original = studio.generate(wait=True) and studio.clip
    assert len(original.shot.brushes) == 2 and original.shot.brushes[1].trajectory is not None
    pad.clear_button.click()
    assert studio.brushes == ()
    studio.seconds.value = 1.0                         # another length: the restore sets it back
    studio.gallery.pick(0)
    assert len(pad.logic.items) == 2                   # shown on the pad, one per brush
    assert studio.brushes == original.shot.brushes     # MotionBrush equality: masks and floats exact
    again = studio.generate(wait=True) and studio.clip
    assert again.shot.brushes == original.shot.brushes
    np.testing.assert_array_equal(again.frames, original.frames)
    pad.logic.set_ambient(0, 0.5)                      # edited after the restore: the pad's own brushes
    assert studio.brushes[0].ambient == 0.5 and studio.brushes[1] == original.shot.brushes[1]


def test_an_engine_without_brushes_hides_the_pad_and_says_why(fake_engines, studio):
    pad = studio.brush_pad
    paint_and_aim(pad, [(40 + 5 * i, 120) for i in range(8)], [(60, 120), (200, 120)])
    assert len(studio.brushes) == 1
    studio.engine_picker.options = [*studio.engine_picker.options, ("fake", "fake")]
    studio.engine_picker.value = "fake"
    assert pad.layout.display == "none"
    assert "fake engine cannot apply motion brushes" in studio.brush_note.value
    studio.prompt.value = "a box"
    assert studio.brushes == () and studio.shot().brushes == ()       # hidden: none, not refused
    clip = studio.generate(wait=True) and studio.clip
    assert studio.renderer.outcome == "done" and clip.shot.brushes == ()
    with pytest.raises(UnsupportedCapability, match="brushes.*fake engine cannot apply motion brushes"):
        studio.engine.resolve(Shot(prompt="a box", brushes=pad.brushes))   # the engine refuses them
    studio.engine_picker.value = clip_engine = studio.engine_picker.options[-2][1]   # the smoke pipeline
    assert clip_engine != "fake" and pad.layout.display is None and studio.brush_note.value == ""
    assert len(studio.brushes) == 1                                    # kept while hidden


def test_extend_neither_checks_nor_uses_the_brush_pad_and_says_so(studio):
    """A continuation starts without brushes (they were painted on the parent's first
    frame), yet an unfinished brush on the pad used to refuse Extend ("Not extended:
    brushes[0]='an empty region' ...") and painted ones were dropped without a word."""
    first = studio.generate(wait=True) and studio.clip
    assert "brush" not in studio.message
    studio.brush_pad.add_button.click()                    # "+ brush", nothing painted yet
    assert not studio.generate() and "brushes[0]" in studio.message   # Generate still names it
    longer = studio.extend(wait=True) and studio.clip
    assert studio.renderer.outcome == "done", studio.message
    assert longer.parent_id == first.id and longer.shot.brushes == ()
    assert "does not use the brushes" in studio.message and "continuation's first frame" in studio.message
    studio.brush_pad.clear_button.click()
    paint_and_aim(studio.brush_pad, [(40 + 5 * i, 120) for i in range(8)], [(60, 120), (200, 120)])
    assert len(studio.brushes) == 1
    again = studio.extend(wait=True) and studio.clip
    assert again.parent_id == longer.id and again.shot.brushes == ()
    assert "does not use the brushes" in studio.message
    studio.brush_pad.clear_button.click()                  # an empty pad: nothing to say
    studio.extend(wait=True)
    assert studio.renderer.outcome == "done" and "brush" not in studio.message


def test_brush_pad_false_leaves_it_out(smoke_pipeline):
    s = Studio(engine=str(smoke_pipeline), store=False, brush_pad=False)
    assert s.brush_pad is None and s.brushes == () and s.pad_picker.layout.display == "none"
    assert s.camera_slot.layout.display is None


def test_a_brush_with_nothing_painted_is_named_when_generating(studio):
    studio.brush_pad.add_button.click()
    assert not studio.generate() and "brushes[0]" in studio.message
    studio.brush_pad.clear_button.click()
    assert studio.generate(wait=True) and studio.renderer.outcome == "done"


def test_a_made_clip_becomes_both_pads_background_drawn_on_the_main_thread(studio, monkeypatch):
    pytest.importorskip("ipycanvas")
    drawn_on = []
    for cls, name in ((CameraPad, "_paint_background"), (BrushPad, "_paint_frame")):
        real = getattr(cls, name)
        monkeypatch.setattr(cls, name, lambda self, real=real: (drawn_on.append(threading.current_thread()),
                                                                real(self))[1])
    clip = studio.generate(wait=True) and studio.clip
    assert studio.camera_pad.preview is None and studio.brush_pad.frame is None   # not from the worker
    studio.brush_pad.canvas._handle_custom_msg({"event": "mouse_move", "x": 10.0, "y": 10.0}, [])
    np.testing.assert_array_equal(studio.camera_pad.preview, clip.frames[0])
    np.testing.assert_array_equal(studio.brush_pad.frame, clip.frames[0])
    assert drawn_on and all(t is threading.main_thread() for t in drawn_on)


def test_a_cancel_too_late_to_stop_the_render_says_the_finished_clip_was_kept(studio, monkeypatch):
    """Engine.render keeps a clip whose Cancel came after its last denoising step (during the
    decode): the status line says so, or the user, who pressed Cancel, reads an ordinary 'Made'."""
    engine = studio.engine
    real_render = engine.render

    def render(shot, **kwargs):
        clip = real_render(shot, **kwargs)
        clip.provenance["cancel_too_late"] = True
        return clip

    monkeypatch.setattr(engine, "render", render)
    assert studio.generate(wait=True) and studio.renderer.outcome == "done"
    assert "Cancel came after the last step, so the finished clip was kept" in studio.message
    assert studio.clip is not None and studio.clip.id in studio.store


def test_a_studio_given_its_own_sequence_never_saves_it_under_another_name(fake_engines, tmp_path):
    """rn.Studio(sequence=seq) with seq autosaved as "film": when another writer saved "film"
    meanwhile, Add to sequence reloaded the project's "studio" into it and went on saving
    the user's cut as "studio". Now it is refused with the reload advice, the cut untouched."""
    from runway_nb.sequence import Sequence

    store = Store(tmp_path)
    mine = Sequence().autosave(store, "film")
    s = Studio("fake", store=store, sequence=mine)
    s.prompt.value = "a box"
    assert s.generate(wait=True)
    theirs = store.load_sequence("film", autosave=True)
    theirs.append(s.clip)                                   # another notebook's edit, saved
    assert s.add_to_sequence() is None
    assert "load_sequence('film', autosave=True)" in s.message
    assert mine._autosave[1] == "film" and len(mine) == 0 and store.sequences() == ["film"]
    assert len(store.load_sequence("film")) == 1            # their edit kept
