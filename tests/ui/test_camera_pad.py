"""The camera pad widget, headless: canvas events arrive as the front end sends them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("ipycanvas")

from ipycanvas.canvas import _CANVAS_MANAGER, COMMANDS

from runway_nb.camera import PRESETS, CameraPath
from runway_nb.errors import InvalidInput
from runway_nb.ui.camera_pad import PRESET_BUTTONS, CameraPad

ROOT = Path(__file__).resolve().parents[2]


class Clock:
    """An injectable clock: tests decide how much time passes between events."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def send(widget, event, x=0.0, y=0.0):
    """A message from the browser, through the widget's comm handler."""
    widget._handle_custom_msg({"event": event, "x": x, "y": y}, [])


@pytest.fixture
def sent(monkeypatch):
    """Every batch of draw commands the kernel sends to the browser."""
    batches = []
    monkeypatch.setattr(_CANVAS_MANAGER, "_send_custom",
                        lambda command, buffers=[]: batches.append((command, buffers)))
    return batches


def drag(pad, clock, points, dt=0.02):
    send(pad.canvas, "mouse_down", *points[0])
    for x, y in points[1:]:
        clock.now += dt
        send(pad.canvas, "mouse_move", x, y)
    send(pad.canvas, "mouse_up", *points[-1])


def test_without_a_preview_the_pad_is_a_square_grid_and_with_one_it_takes_its_aspect(sent):
    pad = CameraPad()
    assert (pad.canvas.width, pad.canvas.height) == (256, 256) and pad.preview is None
    frames = np.zeros((4, 90, 160, 3), np.uint8)                      # a clip: its first frame is shown
    wide = CameraPad(preview=frames, size=320)
    assert (wide.canvas.width, wide.canvas.height) == (320, 180)
    sent.clear()
    send(wide.canvas, "client_ready")                                  # a (re)connected view
    commands = [c[0] for batch, _ in sent for c in batch if isinstance(c, list) and c]
    assert COMMANDS["putImageData"] in commands and COMMANDS["strokePolygon"] in commands
    assert len(sent) == 1                                              # one message, not one per command
    assert any(bytes(b[:2]) == b"\xff\xd8" for b in sent[0][1])        # the frame travels as JPEG bytes
    with pytest.raises(InvalidInput, match="uint8"):
        CameraPad(preview=np.zeros((32, 32, 3), np.float32))


def test_a_drag_on_the_canvas_sets_the_path_and_its_synced_json():
    clock = Clock()
    pad = CameraPad(clock=clock, duration=2.0)
    seen = []
    pad.observe(lambda change: seen.append(change["new"]), "path_json")
    drag(pad, clock, [(100 + 4 * i, 128) for i in range(26)])
    assert pad.error == ""
    assert pad.path.per_frame(17, 8)[-1, 0] == pytest.approx(100 / 256, abs=1e-5)   # right = camera right
    assert seen and json.loads(seen[-1]) == pad.path.to_dict()
    assert CameraPath.from_dict(json.loads(pad.path_json)) == pad.path
    assert pad.state["path"] == pad.path.to_dict()


def test_the_path_json_set_by_the_front_end_is_adopted_and_bad_json_is_refused_visibly():
    pad = CameraPad()
    pad.path_json = json.dumps(CameraPath.preset("tilt_up", 0.5).to_dict())
    assert pad.path == CameraPath.preset("tilt_up", 0.5)
    pad.path_json = '{"preset": "tilt_sideways"}'
    assert "tilt_sideways" in pad.error and "preset" in pad.status.value
    assert pad.path == CameraPath.preset("tilt_up", 0.5)
    assert json.loads(pad.path_json) == pad.path.to_dict()             # the trait was put back


def test_moves_are_throttled_to_30_redraws_a_second(sent):
    clock = Clock()
    pad = CameraPad(clock=clock)
    send(pad.canvas, "mouse_down", 10, 128)
    sent.clear()
    for i in range(1, 60):                                             # 60 events in one instant
        send(pad.canvas, "mouse_move", 10 + 3 * i, 128)
    assert len(sent) == 1
    sent.clear()
    for i in range(1, 5):                                              # 1/10 s apart: each redraws
        clock.now += 0.1
        send(pad.canvas, "mouse_move", 200 + 4 * i, 128)
    assert len(sent) == 4
    send(pad.canvas, "mouse_up", 216, 128)
    assert pad.path.keyframes[-1].pan > 0


def test_wheel_zooms_and_leaving_the_pad_ends_a_drag():
    clock = Clock()
    pad = CameraPad(clock=clock)
    send(pad.canvas, "mouse_wheel", 0, -100)                           # wheel up
    assert pad.path.per_frame(17, 8)[-1, 2] == pytest.approx(1.1)
    send(pad.canvas, "mouse_down", 128, 128)
    for i in range(1, 20):
        clock.now += 0.02
        send(pad.canvas, "mouse_move", 128 - 5 * i, 128)
    send(pad.canvas, "mouse_out", 0, 128)
    assert pad.path.keyframes[-1].pan < 0 and pad.path.keyframes[-1].zoom == pytest.approx(1.1)


def test_handles_drawn_on_the_canvas_zoom_and_roll():
    pad = CameraPad()
    hx, hy = pad.logic.handles()["roll"]
    send(pad.canvas, "mouse_down", hx, hy)
    send(pad.canvas, "mouse_move", 228, 128)                           # a quarter turn clockwise
    send(pad.canvas, "mouse_up", 228, 128)
    assert pad.path.per_frame(17, 8)[-1, 3] == pytest.approx(90)


def test_preset_buttons_intensity_undo_and_clear():
    pad = CameraPad()
    assert set(PRESET_BUTTONS) <= set(PRESETS)                         # every button is a real preset
    pad.preset_buttons["pan_left"].click()
    assert pad.path == CameraPath.preset("pan_left", 1.0)
    pad.intensity.value = 2.0
    assert pad.path == CameraPath.preset("pan_left", 2.0)
    pad.clear_button.click()
    assert pad.path == CameraPath()
    pad.undo_button.click()
    assert pad.path == CameraPath.preset("pan_left", 2.0)


def test_a_strong_preset_shows_its_intensity_and_the_next_button_keeps_it():
    # before: the slider stopped at 3, so a path at intensity 5 showed 3 and the next preset
    # button applied ×3
    pad = CameraPad(CameraPath.preset("pan_left", 5.0))
    assert pad.intensity.value == 5.0
    pad.preset_buttons["zoom_in"].click()
    assert pad.path == CameraPath.preset("zoom_in", 5.0)


def test_sliders_show_no_stale_speed_after_an_import_and_say_a_slider_replaces_it():
    # before: the sliders kept the pan they showed, and moving one silently dropped the import
    pad = CameraPad(mode="sliders", duration=2.0)
    pad.sliders["pan"].value = 5.0
    pad.schedule.value = "zoom: 0:(1.0), 24:(1.04)"
    pad.import_button.click()
    assert all(s.value == 0.0 for s in pad.sliders.values()) and not pad.error
    assert "moving one replaces" in pad.status.value
    pad.path = CameraPath.preset("pan_left")                  # a constant speed: shown, no warning
    assert pad.sliders["pan"].value < 0 and "moving one replaces" not in pad.status.value


@pytest.mark.parametrize("mode", ["canvas", "sliders"])
def test_deforum_schedules_are_pasted_in_and_written_out(mode):
    pad = CameraPad(mode=mode, duration=2.0)
    pad.schedule.value = "zoom: 0:(1.0), 24:(1.04); translation_x: 0:(0)"
    pad.import_button.click()
    assert pad.path.per_frame(31, 15)[-1, 2] > 1.0 and not pad.error  # a zoom in, over the clip
    assert CameraPath.from_dict(json.loads(pad.path_json)) == pad.path
    imported = pad.path
    pad.schedule.value = ""
    pad.export_button.click()
    assert pad.schedule.value.startswith("fps: 15; W: 512; H: 512; max_frames: 31; zoom: 0:(") and "24:(1.04)" in pad.schedule.value
    again = CameraPad(mode=mode, duration=2.0)
    again.schedule.value = pad.schedule.value
    again.import_button.click()
    np.testing.assert_allclose(again.path.per_frame(31, 15), imported.per_frame(31, 15), atol=1e-9)
    pad.schedule.value = "zoom: 0:(1.0), 24:(1.04"                   # a typo: shown, nothing changed
    pad.import_button.click()
    assert "schedule.zoom" in pad.error and "never closed" in pad.error and "⚠" in pad.status.value
    assert pad.path == imported
    pad.schedule.value = "translation_x: 0:(8)"                      # 8 px a frame, Deforum's way
    pad.import_button.click()
    at_15fps = pad.path.per_frame(2, 1)[1, 0]
    pad.deforum_fps.value = 30                                         # written for a 30 fps run:
    pad.import_button.click()                                          # twice the frames a second
    assert at_15fps != 0 and pad.path.per_frame(2, 1)[1, 0] == pytest.approx(2 * at_15fps)
    pad.deforum_fps.value = 0                                          # not a frame rate: shown, kept
    pad.import_button.click()
    assert "schedule.fps" in pad.error and pad.path.per_frame(2, 1)[1, 0] == pytest.approx(2 * at_15fps)
    assert pad.deforum_fps.value == 0                                  # the row as the user typed it
    pad.schedule.value = "fps: 30; W: 768; H: 432; translation_x: 0:(8)"   # the text names its run
    pad.import_button.click()
    assert not pad.error and (pad.deforum_fps.value, pad.deforum_width.value, pad.deforum_height.value) == \
        (30, 768, 432)                                                 # the row shows the run used
    assert pad.path.per_frame(2, 1)[1, 0] == pytest.approx(2 * at_15fps * 512 / 432)
    if mode == "canvas":                           # (the sliders have no undo)
        pad.undo_button.click()                    # the import undone: its path and its run
        assert pad.path.per_frame(2, 1)[1, 0] == pytest.approx(2 * at_15fps)
        assert (pad.deforum_fps.value, pad.deforum_width.value, pad.deforum_height.value) == (30, 512, 512)
        pad.deforum_fps.value = 24                 # a run being typed, not yet used: undoing
        pad.clear_button.click()                   # an edit that did not change the run
        pad.undo_button.click()                    # leaves it be
        assert pad.deforum_fps.value == 24 and pad.path.per_frame(2, 1)[1, 0] == pytest.approx(2 * at_15fps)


def test_the_timeline_strip_selects_moves_and_edits_keyframes():
    clock = Clock()
    pad = CameraPad(clock=clock, duration=2.0)
    drag(pad, clock, [(20 + 4 * i, 128) for i in range(26)])
    pad.frame.value = 8                                                # 1 s at 8 fps
    pad.add_key.click()
    assert [k.time for k in pad.path.keyframes] == [0.0, 1.0, 2.0] and pad.logic.selected == 1
    send(pad.strip, "mouse_down", 2, 15)                               # on keyframe 0
    assert pad.logic.selected == 0 and not pad.easing.disabled
    pad.easing.value = "ease_in_out"
    assert pad.path.keyframes[0].easing == "ease_in_out"
    x1 = pad._strip_x(1.0)
    send(pad.strip, "mouse_down", x1, 15)
    send(pad.strip, "mouse_up", pad._strip_x(1.5), 15)                 # dragged to 1.5 s
    assert pad.path.keyframes[1].time == pytest.approx(1.5)
    send(pad.strip, "mouse_down", pad._strip_x(1.5), 15)
    send(pad.strip, "mouse_up", pad._strip_x(3.0), 15)                 # past the last: stops before it
    assert pad.path.keyframes[1].time == pytest.approx(1.99)
    pad.delete_key.click()
    assert len(pad.path.keyframes) == 2 and pad.delete_key.disabled


def test_animate_plays_frames_in_the_browser_and_set_clip_follows_the_clip():
    pad = CameraPad(path="zoom_in", duration=2.0, fps=8)
    assert pad.play.max == pad.frame.max == 15 and pad.play.interval == 125
    pad.animate.value = True
    pad.frame.value = 15                                               # what the Play widget does
    assert pad.cursor_time == pytest.approx(15 / 8)
    pad.set_clip(duration=4.0, fps=10)
    assert pad.play.max == 39 and pad.play.interval == 100


def test_a_drawn_path_stretches_with_the_clip():
    clock = Clock()
    pad = CameraPad(clock=clock, duration=2.0)
    drag(pad, clock, [(20 + 4 * i, 128) for i in range(26)])
    pad.set_clip(duration=3.0)
    assert pad.path.keyframes[-1].time == 3.0 and pad.path.duration == 3.0


@pytest.mark.parametrize("values", [{"pan": -5}, {"truck": 3, "zoom": 2.5, "roll": -10},
                                    {"pedestal": 10, "tilt": -1.5}])
def test_the_slider_fallback_makes_the_same_path_as_from_axes(values):
    pad = CameraPad.fallback()
    assert not hasattr(pad, "canvas") and set(pad.sliders) == {"truck", "pedestal", "pan", "tilt", "roll", "zoom"}
    for axis, v in values.items():
        pad.sliders[axis].value = v
    pad.strength.value = 0.5
    expected = CameraPath.from_axes(**values, strength=0.5)
    assert pad.path == expected
    assert CameraPath.from_dict(json.loads(pad.path_json)) == expected


def test_the_slider_fallback_shows_a_preset_on_its_sliders():
    pad = CameraPad(path="pan_left", mode="sliders")
    assert pad.sliders["pan"].value == -5
    pad.path = CameraPath.preset("zoom_in", 2.0)
    assert pad.sliders["zoom"].value == 10 and pad.sliders["pan"].value == 0
    pad.reset.click()
    assert pad.path.per_frame(8, 8)[-1].tolist() == [0, 0, 1, 0]


def test_bad_mode_is_refused():
    with pytest.raises(InvalidInput, match="sliders"):
        CameraPad(mode="svg")


def test_the_pad_modules_do_not_import_torch():
    code = ("import sys; import runway_nb.ui.camera_pad, runway_nb.camera.recorder; "
            "assert 'torch' not in sys.modules, 'torch was imported'")
    result = subprocess.run([sys.executable, "-c", code], check=False, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
