"""The brush pad widget, headless: canvas events arrive as the front end sends them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("ipycanvas")

from ipycanvas.canvas import _CANVAS_MANAGER, COMMANDS

from runway_nb.errors import InvalidInput
from runway_nb.ui.brush_pad import BrushPad
from runway_nb.ui.pad_logic import MAX_BRUSHES, BrushPadLogic

ROOT = Path(__file__).resolve().parents[2]


def send(widget, event, x=0.0, y=0.0):
    widget._handle_custom_msg({"event": event, "x": x, "y": y}, [])


def stroke(pad, points):
    send(pad.canvas, "mouse_down", *points[0])
    for p in points[1:]:
        send(pad.canvas, "mouse_move", *p)
    send(pad.canvas, "mouse_up", *points[-1])


@pytest.fixture
def sent(monkeypatch):
    batches = []
    monkeypatch.setattr(_CANVAS_MANAGER, "_send_custom",
                        lambda command, buffers=[]: batches.append((command, buffers)))
    return batches


def test_without_a_frame_it_is_a_grid_at_64x64_and_a_frame_sets_the_clip_size():
    pad = BrushPad()
    assert (pad.canvas.width, pad.canvas.height) == (256, 256)
    assert (pad.logic.clip_width, pad.logic.clip_height) == (64, 64)
    wide = BrushPad(frame=np.zeros((2, 36, 64, 3), np.uint8), size=320)
    assert (wide.canvas.width, wide.canvas.height) == (320, 180)
    assert (wide.logic.clip_width, wide.logic.clip_height) == (64, 36)
    with pytest.raises(InvalidInput, match="uint8"):
        BrushPad(frame=np.zeros((8, 8), np.uint8))


def test_paint_then_arrow_on_the_canvas_makes_a_moving_brush_synced_in_state():
    pad = BrushPad(duration=2.0)
    stroke(pad, [(60 + 5 * i, 60) for i in range(10)])
    assert pad.error == "" and len(pad.state["brushes"]) == 1
    pad.tool_buttons.value = "arrow"
    stroke(pad, [(80, 60), (130, 60), (180, 60)])
    (brush,) = pad.brushes
    assert brush.horizontal == pytest.approx(100 / 256 / 2) and brush.mask.any()
    again = BrushPadLogic.from_state(json.loads(json.dumps(pad.state)))   # the synced copy is complete
    assert np.array_equal(again.region(0), brush.mask) and again.motion(0) == pad.logic.motion(0)
    assert "→ +0.20" in pad.status.value


def test_a_box_a_second_brush_and_the_sliders_act_on_the_selected_brush():
    pad = BrushPad()
    pad.tool_buttons.value = "box"
    stroke(pad, [(0, 0), (64, 64)])
    pad.add_button.click()
    stroke(pad, [(128, 128), (256, 256)])
    assert [b["box"] for b in pad.state["brushes"]] == [[0.0, 0.0, 16.0, 16.0], [32.0, 32.0, 64.0, 64.0]]
    assert pad.brush_picker.options == (("1", 0), ("2", 1)) and pad.brush_picker.value == 1
    pad.proximity.value = 0.5
    pad.brush_picker.value = 0
    pad.ambient.value = 0.3
    assert [(b["proximity"], b["ambient"]) for b in pad.state["brushes"]] == [(0.0, 0.3), (0.5, 0.0)]
    assert pad.proximity.value == 0.0                          # shows the selected brush's value
    pad.delete_button.click()
    assert len(pad.state["brushes"]) == 1 and pad.state["brushes"][0]["proximity"] == 0.5
    pad.undo_button.click()
    assert len(pad.state["brushes"]) == 2


def test_the_add_button_stops_at_the_limit():
    pad = BrushPad()
    for _ in range(MAX_BRUSHES):
        pad.add_button.click()
    assert len(pad.logic.items) == MAX_BRUSHES and pad.add_button.disabled


def test_a_gesture_that_cannot_work_is_shown_in_the_status_not_lost():
    pad = BrushPad()
    pad.tool_buttons.value = "arrow"
    send(pad.canvas, "mouse_down", 10, 10)
    assert "paint a region or drag a box first" in pad.error and "⚠" in pad.status.value
    pad.tool_buttons.value = "paint"
    stroke(pad, [(10, 10), (20, 20)])
    assert pad.error == ""


def test_a_reconnected_view_gets_frame_and_brushes_in_one_message(sent):
    pad = BrushPad(frame=np.full((64, 64, 3), 128, np.uint8))
    stroke(pad, [(60, 60), (90, 90)])
    sent.clear()
    send(pad.canvas, "client_ready")
    assert len(sent) == 1
    commands = [c[0] for c in sent[0][0] if isinstance(c, list) and c]
    assert commands.count(COMMANDS["putImageData"]) == 2       # the frame, and all brushes as one image
    assert any(bytes(b[:4]) == b"\x89PNG" for b in sent[0][1])  # brushes keep their transparency


def test_the_slider_fallback_sets_a_box_and_its_motion():
    pad = BrushPad.fallback(duration=2.0)
    assert not hasattr(pad, "canvas")
    pad.box_x.value = (0.5, 1.0)
    pad.box_y.value = (0.0, 0.25)
    pad.horizontal.value = -0.5
    pad.vertical.value = 0.25
    (brush,) = pad.brushes
    assert brush.box == (0.5, 0.0, 1.0, 0.25)          # fractions of the frame
    assert (brush.horizontal, brush.vertical) == pytest.approx((-0.5, 0.25))
    assert (pad.horizontal.value, pad.vertical.value) == (-0.5, 0.25)
    pad.add_button.click()
    pad.box_x.value = (0.0, 0.1)
    assert len(pad.brushes) == 2 and pad.brushes[1].box[:3:2] == pytest.approx((0.0, 0.1))


def test_the_brush_pad_does_not_import_torch():
    code = "import sys; import runway_nb.ui.brush_pad; assert 'torch' not in sys.modules, 'torch was imported'"
    result = subprocess.run([sys.executable, "-c", code], check=False, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("make", [BrushPad, lambda mode: __import__(
    "runway_nb.ui.camera_pad", fromlist=["CameraPad"]).CameraPad(mode=mode)])
def test_both_pads_refuse_an_unknown_mode_by_name_and_take_auto_as_the_canvas(make):
    with pytest.raises(InvalidInput) as err:
        make(mode="paint")
    assert "mode='paint'" in str(err.value) and "'canvas'" in str(err.value)
    assert make(mode="auto").mode == "canvas"            # ipycanvas is installed here
