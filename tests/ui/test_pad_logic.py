"""The pads' pure logic, driven by synthetic pointer streams (no canvas, no widgets)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runway_nb import Shot
from runway_nb.camera import PRESETS, CameraPath, as_camera_path
from runway_nb.camera.recorder import CameraPadLogic
from runway_nb.errors import InvalidInput
from runway_nb.ui.pad_logic import (
    MAX_BRUSHES,
    BrushPadLogic,
    mask_to_runs,
    runs_to_mask,
)


def drag(pad, points, times=None):
    """Press at points[0], move through the rest, release at the last one."""
    times = [None] * len(points) if times is None else times
    pad.pointer_down(*points[0], t=times[0])
    for (x, y), t in zip(points[1:-1], times[1:-1]):
        pad.pointer_move(x, y, t=t)
    return pad.pointer_up(*points[-1], t=times[-1])


def line(start, end, n=100):
    return [tuple(p) for p in np.linspace(start, end, n)]


def end(pad, fps=8.0):
    """[x, y, zoom, roll] at the clip's last frame."""
    n = round(pad.duration * fps) + 1
    return pad.path.per_frame(n, fps)[-1]


# ---- drag -> pan path, film convention -------------------------------------------------

def test_dragging_the_frame_right_moves_the_camera_right_by_the_dragged_distance():
    pad = CameraPadLogic(duration=2.0, width=256, height=256)
    drag(pad, line((128, 128), (192, 128)))
    x, y, zoom, roll = end(pad)
    assert x == pytest.approx(64 / 256) and y == 0 and zoom == 1 and roll == 0
    assert pad.path.keyframes[-1].pan == pytest.approx(0.25)          # pan, not truck, by default
    assert pad.path.duration == 2.0 and pad.path.keyframes[-1].time == 2.0


def test_dragging_up_tilts_up_and_one_frame_width_is_aspect_units():
    pad = CameraPadLogic(duration=1.0, width=256, height=128)          # a 2:1 frame
    drag(pad, line((0, 100), (256, 36)))                               # one frame width right, 64 px up
    x, y, _, _ = end(pad)
    assert x == pytest.approx(2.0) and y == pytest.approx(0.5)


def test_truck_mode_draws_on_the_truck_and_pedestal_axes():
    pad = CameraPadLogic(drag_axis="truck")
    drag(pad, line((100, 100), (60, 140)))
    last = pad.path.keyframes[-1]
    assert last.truck < 0 and last.pedestal < 0 and last.pan == 0 and last.tilt == 0
    assert end(pad)[0] == pytest.approx(-40 / 256)
    with pytest.raises(InvalidInput, match="drag_axis"):
        pad.drag_axis = "dolly"


def test_the_drags_timing_is_kept_and_scaled_to_the_clip():
    """Slow over the first 20 px (0.8 s), fast over the next 60 px (0.2 s): at mid-clip the
    camera has gone less than a third of the way."""
    pad = CameraPadLogic(duration=4.0)
    pts = line((100, 100), (120, 100), 41)[:-1] + line((120, 100), (180, 100), 41)
    times = list(np.linspace(0, 0.8, 41)[:-1]) + list(np.linspace(0.8, 1.0, 41))
    drag(pad, pts, times)
    x_mid = pad.path.per_frame(3, 1 / 2.0)[1, 0]                       # t = 2 s of 4
    assert x_mid < (80 / 256) / 3
    assert pad.path.keyframes[-1].time == 4.0


def test_without_times_the_event_index_is_the_clock():
    pad = CameraPadLogic(duration=2.0)
    drag(pad, line((0, 128), (200, 128), 201))                          # uniform steps
    x = pad.path.per_frame(5, 2.0)[:, 0]
    assert np.allclose(np.diff(x), 50 / 256, atol=1e-3)


def test_a_click_is_not_a_drag():
    pad = CameraPadLogic(path="pan_left")
    drag(pad, [(50, 50), (51, 50)])
    assert pad.path == CameraPath.preset("pan_left") and not pad.can_undo


# ---- thinning ----------------------------------------------------------------------------

def test_a_fast_straight_drag_of_500_events_becomes_two_keyframes():
    pad = CameraPadLogic()
    pts = line((10, 128), (250, 128), 500)
    pad.pointer_down(*pts[0], t=0)
    kept = sum(pad.pointer_move(x, y, t=i / 1000) for i, (x, y) in enumerate(pts[1:-1], 1))
    assert kept < 100                                   # the stream is throttled to one per 3 px
    pad.pointer_up(*pts[-1], t=0.5)
    assert len(pad.path.keyframes) == 2


def test_a_scribbled_circle_is_simplified_to_at_most_max_keyframes_but_keeps_its_shape():
    pad = CameraPadLogic(max_keyframes=12)
    a = np.linspace(0, 2 * np.pi, 500)
    pts = list(zip(128 + 60 * np.sin(a), 68 + 60 * np.cos(a)))
    drag(pad, pts, list(np.linspace(0, 1, 500)))
    assert 5 <= len(pad.path.keyframes) <= 12
    xy = pad.path.per_frame(33, 16)[:, :2] * 256
    assert np.abs(np.hypot(xy[:, 0], xy[:, 1] - 60) - 60).max() < 6     # still a circle of radius 60


def test_a_pause_mid_drag_is_a_hold_when_events_carry_seconds():
    pad = CameraPadLogic(duration=3.0)
    pts = line((0, 128), (60, 128), 21) + [(60.5, 128)] + line((61, 128), (121, 128), 21)
    times = list(np.linspace(0, 1, 21)) + [2.0] + list(np.linspace(2.05, 3.0, 21))
    drag(pad, pts, times)
    x = pad.path.per_frame(4, 1.0)[:, 0] * 256                           # at 0, 1, 2, 3 s
    assert x[1] == pytest.approx(x[2], abs=1.0)                          # held still from 1 s to 2 s


# ---- zoom and roll -------------------------------------------------------------------------

def test_wheel_up_zooms_in_at_the_end_of_the_clip_and_wheel_down_zooms_out():
    pad = CameraPadLogic(duration=2.0)
    pad.wheel(-100)
    assert pad.path.keyframes[-1].time == 2.0 and end(pad)[2] == pytest.approx(1.1)
    zoom = pad.path.per_frame(17, 8)[:, 2]
    assert np.all(np.diff(zoom) > 0)                                    # it grows over the clip
    pad.wheel(300)
    assert end(pad)[2] == pytest.approx(1.1 * 1.1 ** -3)
    for _ in range(100):
        pad.wheel(-500)
    assert end(pad)[2] == pytest.approx(16.0)                            # the pad's limit


def test_dragging_the_zoom_handle_outward_zooms_out_and_inward_zooms_in():
    pad = CameraPadLogic()
    hx, hy = pad.handles()["zoom"]
    assert 0 < hx < 256 and 0 < hy < 256                                # reachable on a static path
    assert pad.pointer_down(hx, hy) == "zoom"
    pad.pointer_move(hx - 60, hy - 60)                                   # towards the centre
    assert end(pad)[2] > 1.5
    pad.pointer_up(128 + (hx - 128) * 2, 128 + (hy - 128) * 2)           # twice as far out
    assert end(pad)[2] == pytest.approx(0.5, rel=1e-3)
    pad.undo()
    assert end(pad)[2] == 1.0


def test_turning_the_roll_handle_clockwise_rolls_clockwise():
    pad = CameraPadLogic()
    hx, hy = pad.handles()["roll"]
    assert pad.pointer_down(hx, hy) == "roll"
    pad.pointer_move(128 + 50, 128 - 50)                                 # a quarter turn clockwise,
    pad.pointer_move(128 + 70, 128)                                      # seen on screen (y down)
    pad.pointer_up(128 + 70, 128)
    assert end(pad)[3] == pytest.approx(90.0)
    tl, tr = pad.outline(pad.duration)[:2]
    assert tr[1] > tl[1] + 100                                           # the top edge now points down


def test_a_new_drag_keeps_the_zoom_already_drawn():
    pad = CameraPadLogic()
    pad.wheel(-200)
    drag(pad, line((100, 100), (150, 100)))
    x, _, zoom, _ = end(pad)
    assert x == pytest.approx(50 / 256, abs=1e-5) and zoom == pytest.approx(1.21)   # values kept to 1e-6


# ---- timeline, presets, undo, state ---------------------------------------------------------

def test_keyframe_timeline_edits():
    pad = CameraPadLogic(duration=2.0)
    drag(pad, line((0, 128), (100, 128)))
    i = pad.add_keyframe(1.0)
    assert i == 1 and [k.time for k in pad.path.keyframes] == [0.0, 1.0, 2.0]
    assert pad.selected == 1
    pad.set_easing(0, "ease_in_out")
    assert pad.path.keyframes[0].easing == "ease_in_out"
    pad.move_keyframe(1, 1.5)
    assert pad.path.keyframes[1].time == 1.5
    with pytest.raises(InvalidInput, match=r"keyframes\[1\].time.*0 … 2 s"):
        pad.move_keyframe(1, 2.5)
    with pytest.raises(InvalidInput, match="easing.*linear"):
        pad.set_easing(1, "bouncy")
    pad.delete_keyframe(1)
    assert len(pad.path.keyframes) == 2
    with pytest.raises(InvalidInput, match="from 0 to 1"):
        pad.delete_keyframe(7)


def test_refused_timeline_edits_name_what_was_typed_and_change_nothing():
    """set_easing(0, ['linear']) was a TypeError (unhashable); move_keyframe(2, 1.00001) beside a
    keyframe at 1.0 passed the neighbour check, rounded onto it and was refused as
    camera.keyframes[2].time=1.0, after pushing a no-op undo step."""
    pad = CameraPadLogic(duration=2.0)
    drag(pad, line((0, 128), (100, 128)))
    pad.add_keyframe(1.0)
    pad.add_keyframe(1.5)
    before, undo_depth = pad.state(), len(pad._undo)
    with pytest.raises(InvalidInput) as err:
        pad.set_easing(0, ["linear"])
    assert err.value.field == "keyframes[0].easing" and err.value.value == ["linear"]
    with pytest.raises(InvalidInput) as err:
        pad.move_keyframe(2, 1.00001)
    assert err.value.field == "keyframes[2].time" and err.value.value == 1.00001
    assert "1 … 2 s" in str(err.value) and "4 decimals" in str(err.value)
    assert pad.state() == before and len(pad._undo) == undo_depth
    assert pad.move_keyframe(2, 1.00006).keyframes[2].time == 1.0001          # rounds past it: taken
    assert len(pad._undo) == undo_depth + 1


@pytest.mark.parametrize("option, value", [("min_px", "a"), ("min_px", -1), ("hold_s", float("nan")),
                                           ("tolerance_px", 0), ("tolerance_px", None)])
def test_bad_pad_options_are_refused_by_name(option, value):
    """CameraPadLogic(min_px='a') was a raw ValueError from float()."""
    with pytest.raises(InvalidInput) as err:
        CameraPadLogic(**{option: value})
    assert err.value.field == option


def test_the_selected_keyframe_is_what_the_wheel_zooms():
    pad = CameraPadLogic(duration=2.0)
    drag(pad, line((0, 128), (100, 128)))
    pad.add_keyframe(1.0)
    pad.wheel(-100)
    zooms = [k.zoom for k in pad.path.keyframes]
    assert zooms == [1.0, pytest.approx(1.1), 1.0]


def test_the_last_keyframe_cannot_be_deleted():
    pad = CameraPadLogic()
    with pytest.raises(InvalidInput, match="at least one keyframe"):
        pad.delete_keyframe(0)


def test_presets_and_intensity_make_the_named_preset():
    pad = CameraPadLogic()
    assert pad.apply_preset("pan_left", 0.5) == CameraPath.preset("pan_left", 0.5)
    pad.set_intensity(2.0)
    assert pad.path.to_dict() == CameraPath.preset("pan_left", 2.0).to_dict()
    with pytest.raises(InvalidInput, match="camera preset"):
        pad.apply_preset("pan_sideways")
    # a numpy intensity (a slider's value read from an array) is a number like any other
    assert pad.apply_preset("zoom_in", np.float32(0.5)) == CameraPath.preset("zoom_in", 0.5)
    assert pad.apply_preset("zoom_in", np.int64(1)) == CameraPath.preset("zoom_in", 1.0)
    assert pad.set_intensity(np.float32(2)) == CameraPath.preset("zoom_in", 2.0)


def test_undo_goes_back_one_edit_at_a_time_and_clear_is_undoable():
    pad = CameraPadLogic()
    pad.apply_preset("zoom_in")
    drag(pad, line((0, 128), (100, 128)))
    drawn = pad.path
    pad.clear()
    assert pad.path == CameraPath()
    assert pad.undo() == drawn
    assert pad.undo() == CameraPath.preset("zoom_in")
    assert pad.undo() == CameraPath() and not pad.can_undo


@pytest.mark.parametrize("seconds, then", [(4.0, 2.0), (2.0, 4.0)])
def test_undo_after_the_clip_length_changed_undoes_the_edit_and_keeps_the_length(seconds, then):
    # before: the length change was itself an undoable edit and an undo gave back the old
    # length: a 4-s path kept on a 2-s clip (refused at Generate), or a 2-s path on a 4-s
    # clip, holding the camera still for its second half
    pad = CameraPadLogic(duration=seconds)
    drawn = drag(pad, line((128, 128), (220, 100)), list(np.linspace(0, seconds * 0.75, 100)))
    pad.wheel(-100)
    pad.set_duration(then)
    undone = pad.undo()                                                  # the wheel
    assert [k.time for k in undone.keyframes] == [round(k.time * then / seconds, 4) for k in drawn.keyframes]
    assert [k.zoom for k in undone.keyframes] == [k.zoom for k in drawn.keyframes]
    assert pad.duration == then and undone.duration == then
    Shot("a red ball", seconds=then, camera=pad.path)                 # renderable at the clip's length
    assert pad.undo() == CameraPath() and not pad.can_undo              # then the drag


def test_undo_of_a_preset_after_the_clip_length_changed_keeps_the_length():
    pad = CameraPadLogic(duration=2.0)
    pad.apply_preset("pan_left")
    drag(pad, line((128, 128), (200, 128)))
    pad.set_duration(4.0)
    assert pad.undo() == CameraPath.preset("pan_left") and pad.duration == 4.0
    drag(pad, line((128, 128), (200, 128)))
    assert pad.path.duration == 4.0                                    # the next drag is built for 4 s


def test_a_refused_drag_leaves_no_undo_step():
    # before: the undo step was taken before the drag was checked, so the first undo did nothing
    pad = CameraPadLogic(duration=2.0)
    pad.pointer_down(100, 100, t=0.0)
    with pytest.raises(InvalidInput):
        pad.pointer_up(1e7, 100, t=1.0)
    assert pad.path == CameraPath() and not pad.can_undo


def test_state_round_trips_through_json():
    pad = CameraPadLogic(duration=3.0, width=320, height=180, drag_axis="truck")
    drag(pad, line((10, 90), (200, 40)), list(np.linspace(0, 1, 100)))
    pad.wheel(-100)
    pad.select(1)
    again = CameraPadLogic.from_state(json.loads(json.dumps(pad.state())))
    assert again.path == pad.path and again.state() == pad.state()
    assert Shot("a red ball", camera=again.path).camera == pad.path     # a Shot takes the drawn path
    with pytest.raises(InvalidInput, match="pad state"):
        CameraPadLogic.from_state({"path": {}})


# ---- Deforum schedules pasted in and written out ----------------------------------------

@settings(max_examples=40, deadline=None)
@given(st.sampled_from(sorted(PRESETS)), st.floats(0.1, 3), st.sampled_from([1.0, 2.0, 2.05, 4.5]))
def test_a_path_written_as_deforum_text_and_pasted_back_is_the_same_path(name, intensity, seconds):
    pad = CameraPadLogic(duration=seconds)
    pad.apply_preset(name, intensity)
    again = CameraPadLogic(duration=seconds)
    again.import_schedules(pad.export_schedules())
    assert again.duration == seconds                                  # the clip keeps its length
    n = round(seconds * 8) + 1
    # the text's per-frame steps have ~11 significant digits and add up: a roll of 108° is
    # 108° to 1e-11 of it (1.2e-9°), not to 1e-9° absolute
    np.testing.assert_allclose(again.path.per_frame(n, 8), pad.path.per_frame(n, 8), rtol=1e-9, atol=1e-9)


def test_exported_text_says_the_clips_length_so_camera_reads_it_over_the_clip():
    # before: without max_frames, camera= read the text over Deforum's 120 frames, and this
    # drift (a zoom that falls after frame 11) ran out of range long after the pad's 2 s
    pad = CameraPadLogic(duration=2.0)
    pad.import_schedules("zoom: 0:(1), 10:(1.1), 11:(0.9)")
    read = as_camera_path(pad.export_schedules())
    np.testing.assert_allclose(read.per_frame(17, 8), pad.path.per_frame(17, 8), rtol=0, atol=1e-9)


def test_a_drawn_path_exports_to_deforum_frames_and_imports_exactly_at_them():
    pad = CameraPadLogic(duration=2.0)
    drag(pad, [(128, 128), (160, 100), (200, 140), (210, 150)], [0, 0.3, 0.8, 1.0])
    text = pad.export_schedules()
    assert text.startswith("fps: 15; W: 512; H: 512; max_frames: 31; zoom: 0:(") and "; translation_x: 0:(" in text
    again = CameraPadLogic(duration=2.0)
    again.import_schedules(text)
    np.testing.assert_allclose(again.path.per_frame(31, 15), pad.path.per_frame(31, 15), rtol=0, atol=1e-9)


def test_a_shots_deforum_camera_stays_schedules_on_the_pad_until_it_is_edited():
    """A Shot's camera typed as Deforum text keeps its schedules (a longer clip reads on). Set
    on the pad, as the Studio restores a clip, it stays that path, so the Shot made from the
    pad is the clip's (same JSON, same clip id); an edit makes it the keyframes it was read
    to, which the clip length stretches, and undo gives the schedules back (an undo gives
    back edits, never the clip's length: that is the form's)."""
    camera = Shot("a red ball", camera="zoom: 0:(1.0), 24:(1.04)").camera
    assert "deforum" in camera.to_dict()
    pad = CameraPadLogic(duration=8.0)
    pad.set_path(camera)
    assert pad.path == camera and pad.path.to_dict() == camera.to_dict()
    assert Shot("a red ball", seed=1, camera=pad.path).to_json() == \
        Shot("a red ball", seed=1, camera=camera).to_json()
    pad.set_duration(8.0)                                     # the same clip length: nothing changes
    assert pad.path == camera and CameraPadLogic.from_state(pad.state()).path == camera
    pad.set_duration(16.0)                                    # a new length: drawn paths stretch
    assert pad.path.deforum is None and "keyframes" in pad.path.to_dict()
    assert pad.path.keyframes[-1].time == pytest.approx(2 * camera.keyframes[-1].time, abs=1e-3)
    pad.undo()                                                # the path set, not the length
    assert pad.path == CameraPath() and pad.duration == 16.0
    pad.set_duration(8.0)
    pad.set_path(camera)
    pad.wheel(-100)                                           # a zoom on the pad: an edit
    assert pad.path.deforum is None and pad.path.keyframes[-1].zoom != camera.keyframes[-1].zoom
    pad.undo()
    assert pad.pointer_down(40, 60, t=0.0) == "path"         # away from the handles (zoomed in 68×)
    pad.pointer_move(72, 60, t=0.5)
    pad.pointer_up(104, 60, t=1.0)                            # a drag: an edit
    assert pad.path.deforum is None and pad.path.keyframes[-1].pan > 0
    pad.undo()
    assert pad.path == camera


def test_a_restored_long_deforum_clip_is_shown_and_remade_over_the_run_it_rendered():
    """A 20-s clip read its schedule over 300 frames: restored on the pad (20 s) the path is
    that run, the pad draws it, and a shot from the pad is the clip's, with its schedules."""
    text = "zoom: 0: (1.0025+0.002*sin(1.25*3.14*t/30)); translation_x: 0:(2)"
    rendered = Shot("a", seconds=20, fps=15, camera=text).camera.covering(300, 15)
    pad = CameraPadLogic(duration=20.0)
    pad.set_path(rendered)
    assert pad.path == rendered and pad.path.deforum.frames == 300
    run = rendered.per_frame(300, 15)
    np.testing.assert_allclose(pad.camera_at(299 / 15), run[-1], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(pad.trace(301)[:300], np.stack(pad.to_pad(run[:, 0], run[:, 1]), axis=1),
                               rtol=1e-9, atol=1e-9)
    assert Shot("a", seed=1, seconds=20, fps=15, camera=pad.path).to_json() == \
        Shot("a", seed=1, seconds=20, fps=15, camera=rendered).to_json()
    # a run read for 120 frames on a 20-s pad: the frame outline at 10 s is where the trace
    # (the run read over the pad's clip, max_f 300) passes, not a run read to 10 s (max_f 150)
    pad.set_path(Shot("a", camera="translation_x: 0:(10*t/max_f)").camera)
    np.testing.assert_allclose(pad.camera_at(10.0)[:2], pad.path.covering(301, 15).per_frame(151, 15)[-1, :2],
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(pad.outline(10.0).mean(axis=0), pad.trace(301)[150], rtol=1e-9, atol=1e-9)


def test_exported_text_names_its_run_so_the_cli_reads_it_back_at_that_run():
    """Written for a 30 fps, 768 × 432 run and given to `--camera` / `camera=` as it is: the
    same path, not one read at Deforum's 15 fps and 512 × 512."""
    pad = CameraPadLogic(duration=2.0)
    pad.apply_preset("orbit_left", 1.2)
    text = pad.export_schedules(fps=30, width=768, height=432)
    assert text.startswith("fps: 30; W: 768; H: 432; max_frames: 61; zoom: ")
    elsewhere = as_camera_path(text)
    np.testing.assert_allclose(elsewhere.per_frame(61, 30), pad.path.per_frame(61, 30), rtol=0, atol=1e-9)
    elsewhere_pad = CameraPadLogic(duration=2.0)                 # another pad, its row at 15 fps
    elsewhere_pad.import_schedules(text)
    assert elsewhere_pad.deforum_settings == {"fps": 30.0, "width": 768, "height": 432}
    np.testing.assert_allclose(elsewhere_pad.path.per_frame(61, 30), pad.path.per_frame(61, 30), rtol=0, atol=1e-9)


def test_pasted_schedules_are_undoable_and_bad_ones_change_nothing():
    pad = CameraPadLogic(duration=2.0)
    pad.apply_preset("pan_left")
    pad.import_schedules("zoom: 0: (1.0025+0.002*sin(1.25*3.14*t/30)); angle: 0:(0.5)")
    assert end(pad)[2] > 1 and end(pad)[3] > 0                        # Deforum's default zoom, a roll
    assert pad.undo() == CameraPath.preset("pan_left")
    for text, field, said in [("zoom: 0:(1.0), 24:(1.04", "schedule.zoom", "never closed"),
                              ("pan: 0:(1)", "schedule", "KEY one of zoom"),
                              ("zoom: 0:(__import__('os'))", "schedule.zoom", "calling '__import__'"),
                              ("", "schedule", "at least one")]:
        with pytest.raises(InvalidInput) as err:
            pad.import_schedules(text)
        assert err.value.field == field and said in str(err.value)
        assert pad.path == CameraPath.preset("pan_left") and pad.duration == 2.0


def test_a_pasted_schedule_out_of_range_advises_what_the_pad_reads_not_max_frames():
    """The pad reads the clip's length and ignores max_frames, but advised giving max_frames."""
    pad = CameraPadLogic(duration=2.0)
    pad.apply_preset("pan_left")
    before = pad.state()
    for text in ("zoom: 0:(1.5)", "max_frames: 10; zoom: 0:(1.5)"):
        with pytest.raises(InvalidInput) as err:
            pad.import_schedules(text)
        assert err.value.field == "schedule.zoom" and "at frame 23" in str(err.value)
        assert "give the run's length" not in err.value.hint and "'max_frames: 30" not in err.value.hint
        assert "31 frames at 15 fps" in err.value.hint and "make the clip shorter" in err.value.hint
        assert pad.state() == before and pad.undo() == CameraPath() and not pad.can_undo
        pad.apply_preset("pan_left")


def test_schedules_are_read_at_the_deforum_run_they_were_written_for():
    text = "translation_x: 0:(0), 30:(64)"          # px a frame, rising until Deforum frame 30
    at_default, at_30fps, at_1024 = (CameraPadLogic(duration=2.0) for _ in range(3))
    at_default.import_schedules(text)                                 # 15 fps, 512 × 512
    at_30fps.import_schedules(text, fps=30)
    at_1024.import_schedules(text, width=1024, height=1024)
    x = {name: pad.path.per_frame(9, 4)[:, 0] for name, pad in
         [("default", at_default), ("30fps", at_30fps), ("1024", at_1024)]}
    assert x["default"][8] != 0                                        # frame 30 at 15 fps: 2 s
    np.testing.assert_allclose(x["30fps"][4], x["default"][8], atol=1e-12)   # at 30 fps: 1 s
    np.testing.assert_allclose(x["1024"], x["default"] / 2, atol=1e-12)      # half the picture
    drawn = CameraPadLogic(duration=2.0)
    drawn.apply_preset("orbit_left", 1.5)
    run = {"fps": 24, "width": 768, "height": 432}
    again = CameraPadLogic(duration=2.0)
    again.import_schedules(drawn.export_schedules(**run), **run)
    np.testing.assert_allclose(again.path.per_frame(49, 24), drawn.path.per_frame(49, 24), rtol=0, atol=1e-9)
    for key, value in [("fps", 0), ("fps", float("nan")), ("width", 4), ("height", 2.5)]:
        with pytest.raises(InvalidInput) as err:
            again.import_schedules(text, **{key: value})
        assert err.value.field == f"schedule.{key}" and repr(value) in str(err.value)
        with pytest.raises(InvalidInput):
            again.export_schedules(**{key: value})
    np.testing.assert_allclose(again.path.per_frame(49, 24), drawn.path.per_frame(49, 24), rtol=0, atol=1e-9)


def test_settings_written_in_the_text_win_and_are_remembered():
    text = "translation_x: 0:(0), 30:(64)"
    at_30fps = CameraPadLogic(duration=2.0)
    at_30fps.import_schedules(text, fps=30, width=768, height=432)
    named = CameraPadLogic(duration=2.0)
    named.import_schedules("fps: 30; W: 768; H: 432; " + text)       # the arguments' defaults lose
    assert named.path == at_30fps.path
    assert named.deforum_settings == {"fps": 30.0, "width": 768, "height": 432}
    named.export_schedules(fps=24, width=512, height=256)
    assert named.deforum_settings == {"fps": 24.0, "width": 512, "height": 256}
    with pytest.raises(InvalidInput) as err:                          # refused: nothing changes
        named.import_schedules("fps: 500; " + text)
    assert err.value.field == "schedule.fps" and "500" in str(err.value)
    assert named.path == at_30fps.path and named.deforum_settings["fps"] == 24.0
    again = CameraPadLogic.from_state(json.loads(json.dumps(named.state())))   # re-displayed
    assert again.deforum_settings == named.deforum_settings
    named.undo()                                   # the import undone: the run before it too
    assert named.path == CameraPath() and named.deforum_settings == {"fps": 15.0, "width": 512, "height": 512}


def test_a_pad_state_with_a_bad_deforum_run_is_refused():
    state = CameraPadLogic(duration=2.0).state()
    with pytest.raises(InvalidInput) as err:
        CameraPadLogic.from_state({**state, "deforum_settings": {"fps": 0, "width": 512, "height": 512}})
    assert err.value.field == "pad state.deforum_settings.fps"
    old = {k: v for k, v in state.items() if k != "deforum_settings"}       # saved before it was kept
    assert CameraPadLogic.from_state(old).deforum_settings["fps"] == 15.0


def test_outline_at_time_zero_is_the_whole_pad():
    pad = CameraPadLogic(width=200, height=100)
    assert np.allclose(pad.outline(0.0), [[0, 0], [200, 0], [200, 100], [0, 100]])
    pad.apply_preset("zoom_in", 1.0)
    box = pad.outline(pad.duration)
    assert math.dist(box[0], box[1]) < 200                              # zoomed in: a smaller frame


# ---- brush pad logic -----------------------------------------------------------------------

def brush_pad(**options):
    options = {"clip_width": 64, "clip_height": 64, "width": 256, "height": 256, "duration": 2.0, **options}
    return BrushPadLogic(**options)


def gesture(pad, points):
    pad.pointer_down(*points[0])
    for p in points[1:]:
        pad.pointer_move(*p)
    pad.pointer_up(*points[-1])


def test_a_dab_and_a_stroke_paint_the_expected_area_at_the_clip_size():
    pad = brush_pad(radius=16)                                   # 16 pad px = 4 clip px
    gesture(pad, [(128, 128)])
    mask = pad.brush_dicts()[0]["mask"]
    assert mask.shape == (64, 64) and mask.sum() == pytest.approx(np.pi * 4 ** 2, rel=0.2)
    gesture(pad, line((64, 64), (64, 192), 30))                  # a 32-clip-px stroke, same brush
    expected = np.pi * 16 + 2 * 4 * 32 + np.pi * 16
    assert pad.brush_dicts()[0]["mask"].sum() == pytest.approx(expected, rel=0.15)
    assert len(pad.items) == 1                                   # painting adds to the selected brush


def test_erase_removes_paint():
    pad = brush_pad(radius=16)
    gesture(pad, line((40, 128), (216, 128), 40))
    before = pad.area(0)
    pad.tool = "erase"
    gesture(pad, line((128, 60), (128, 196), 20))
    assert 0 < pad.area(0) < before
    assert not pad.region(0)[:, 31:33].any()                     # a clean cut down the middle


def test_a_stroke_partly_off_the_pad_is_clipped_and_one_wholly_off_leaves_an_empty_brush():
    pad = brush_pad(radius=8)
    gesture(pad, line((-200, -200), (20, 20), 50))
    ys, xs = np.nonzero(pad.region(0))
    assert ys.max() <= 8 and xs.max() <= 8                       # only the corner is painted
    pad.add_brush()
    gesture(pad, line((-300, 50), (-100, 90), 20))
    assert pad.region(1) is None
    with pytest.raises(InvalidInput, match=r"brushes\[1\].*delete it"):
        pad.brush_dicts()


def test_a_dragged_box_is_kept_in_clip_pixels_and_clipped_to_the_frame():
    pad = brush_pad()
    pad.tool = "box"
    gesture(pad, [(200, 300), (64, 128)])                        # dragged up-left, from below the pad
    assert pad.items[0]["box"] == [16.0, 32.0, 50.0, 64.0]
    assert pad.area(0) == pytest.approx(34 * 32 / 64 ** 2)
    gesture(pad, [(-50, -50), (-10, -10)])                       # wholly off the pad: nothing
    assert len(pad.items) == 1 and pad.items[0]["box"] == [16.0, 32.0, 50.0, 64.0]


def test_an_arrow_gives_the_region_its_direction_and_speed_per_clip():
    pad = brush_pad(duration=2.0)
    pad.tool = "box"
    gesture(pad, [(20, 20), (80, 80)])
    pad.tool = "arrow"
    gesture(pad, [(50, 50), (150, 50)])                          # 100 px right over the 2 s clip
    assert pad.motion(0) == pytest.approx((100 / 256 / 2, 0.0))
    gesture(pad, [(50, 50), (50, 10)])                           # up is +
    d = pad.brush_dicts()[0]
    assert d["horizontal"] == pytest.approx(0) and d["vertical"] == pytest.approx(40 / 256 / 2)


def test_the_path_tool_draws_a_thinned_trajectory():
    pad = brush_pad()
    pad.tool = "box"
    gesture(pad, [(20, 20), (80, 80)])
    pad.tool = "path"
    gesture(pad, line((50, 50), (200, 50), 100) + line((200, 50), (200, 200), 100)[1:])
    traj = pad.items[0]["trajectory"]
    assert len(traj) == 3 and traj[1] == pytest.approx([50.0, 12.5])   # the corner, in clip pixels
    assert pad.items[0]["arrow"] is None and pad.motion(0) == pytest.approx((150 / 256 / 2, -150 / 256 / 2))


def test_arrow_before_any_region_is_refused_clearly():
    pad = brush_pad()
    pad.tool = "arrow"
    with pytest.raises(InvalidInput, match="paint a region or drag a box first"):
        pad.pointer_down(10, 10)


def test_five_brushes_each_with_its_own_motion_and_a_limit_with_a_clear_message():
    pad = brush_pad()
    for i in range(5):
        pad.add_brush()
        pad.set_box(i, (i * 12, 0, i * 12 + 10, 10))
        pad.set_motion(i, 0.1 * (i + 1), -0.05)
        pad.set_proximity(i, 0.2)
        pad.set_ambient(i, 0.1 * i)
    out = pad.brush_dicts()
    assert len(out) == 5
    assert [round(d["horizontal"], 6) for d in out] == [0.1, 0.2, 0.3, 0.4, 0.5]
    assert all(d["vertical"] == pytest.approx(-0.05) and d["proximity"] == 0.2 for d in out)
    assert not np.any(out[0]["mask"] & out[1]["mask"])
    for _ in range(MAX_BRUSHES - 5):
        pad.add_brush()
    with pytest.raises(InvalidInput, match=f"at most {MAX_BRUSHES}"):
        pad.add_brush()
    with pytest.raises(InvalidInput, match="proximity"):
        pad.set_proximity(0, 5.0)


def test_selecting_and_deleting_brushes_and_a_missing_one_is_a_clear_error():
    pad = brush_pad()
    with pytest.raises(InvalidInput, match="none drawn yet"):
        pad.delete(0)
    for i in range(3):
        pad.add_brush()
        pad.set_box(i, (0, 0, 10 + i, 10))
    pad.delete(1)
    assert [b["box"][2] for b in pad.items] == [10.0, 12.0] and pad.selected == 1
    with pytest.raises(InvalidInput, match="from 0 to 1"):
        pad.delete(5)
    with pytest.raises(InvalidInput, match="tool"):
        pad.tool = "lasso"
    pad.undo()
    assert len(pad.items) == 3


def test_brush_state_round_trips_through_json():
    pad = brush_pad(clip_width=48, clip_height=32, width=384, height=256)
    gesture(pad, line((30, 30), (200, 120), 40))
    pad.tool = "arrow"
    gesture(pad, [(100, 80), (300, 80)])
    pad.add_brush()
    pad.set_box(1, (2, 3, 20, 30))
    pad.set_ambient(1, 0.5)
    data = json.loads(json.dumps(pad.state()))
    again = BrushPadLogic.from_state(data)
    assert again.state() == pad.state()
    assert np.array_equal(again.region(0), pad.region(0)) and again.motion(0) == pad.motion(0)
    assert mask_to_runs(runs_to_mask([0, 3, 5], 2, 4)) == [0, 3, 5]
    with pytest.raises(InvalidInput, match="run lengths"):
        runs_to_mask([3, 4], 2, 4)


def test_a_new_clip_size_resamples_regions_and_a_new_length_changes_speed_not_travel():
    pad = brush_pad(duration=2.0)
    pad.tool = "box"
    gesture(pad, [(0, 0), (128, 64)])                                 # left half, top quarter
    pad.tool = "arrow"
    gesture(pad, [(64, 32), (128, 32)])
    before = pad.area(0)
    pad.set_clip(128, 32, duration=4.0)
    assert pad.region(0).shape == (32, 128) and pad.area(0) == pytest.approx(before)
    assert pad.motion(0) == pytest.approx((64 / 256 / 4, 0.0))      # same travel over a longer clip


def test_undo_after_a_new_clip_size_gives_back_the_edit_at_the_new_size():
    # before: the undo snapshots kept masks and boxes in the old clip pixels, so after a
    # resize an undo left a 64 × 64 mask on a 128 × 128 clip (every later stroke failed with
    # an IndexError) or a box at a quarter of its place
    pad = brush_pad()
    pad.add_brush()
    gesture(pad, [(20, 20), (40, 40)])                                # brush 0: painted
    pad.tool = "box"
    pad.add_brush()
    gesture(pad, [(64, 64), (192, 192)])                              # brush 1: the middle quarter
    pad.set_motion(0, 0.1, 0.0)
    pad.set_motion(1, 0.1, 0.0)
    painted = pad.area(0)
    pad.set_clip(128, 128)
    pad.undo()
    pad.undo()                                                        # both motions
    assert pad.items[0]["mask"].shape == (128, 128) and pad.area(0) == pytest.approx(painted, rel=0.1)
    assert pad.items[1]["box"] == [32.0, 32.0, 96.0, 96.0] and pad.area(1) == pytest.approx(0.25)
    assert pad.motion(0) == pad.motion(1) == (0.0, 0.0) and pad.clip_width == 128
    pad.tool = "paint"
    pad.select(0)
    gesture(pad, [(200, 200), (220, 220)])                            # painting goes on at the new size
    assert pad.area(0) > painted and len(pad.brushes()) == 2


@pytest.mark.parametrize("tool", ["arrow", "path"])
def test_an_arrow_or_path_dragged_far_off_the_pad_is_held_a_frame_beyond_its_edge(tool):
    # before: the gesture was taken as drawn and only brushes() (Generate) refused it
    pad = brush_pad()
    pad.tool = "box"
    gesture(pad, [(64, 64), (128, 128)])
    pad.tool = tool
    gesture(pad, [(96, 96), (400, 96), (1000, -900)])
    (brush,) = pad.brushes()                          # taken: brushes() refused it before
    if tool == "path":
        assert tuple(brush.trajectory[-1]) == pytest.approx((2.0, -1.0))   # a frame right, a frame up
    else:     # from the box's centre (24, 24 clip px) to (128, -64): over the 2-s clip, per second
        assert pad.motion(0) == pytest.approx(((128 - 24) / 64 / 2, (24 + 64) / 64 / 2))


def test_a_drag_that_rebuilds_the_keyframes_clears_the_selection():
    """The selected index named a keyframe of the old path; after a drag it would point at
    nothing (or at a different keyframe), and the next wheel turn must still work."""
    pad = CameraPadLogic(duration=2.0)
    for t in (0.5, 1.0, 1.5):
        pad.add_keyframe(t)
    assert pad.selected == 3
    pad.pointer_down(128, 128, t=0.0)
    pad.pointer_move(200, 128, t=0.5)
    pad.pointer_up(200, 128, t=1.0)
    assert pad.selected is None
    zoomed = pad.wheel(-100)
    assert zoomed.keyframes[-1].zoom > 1


@pytest.mark.parametrize("duration", [1.23457, 2.00004])
def test_a_duration_finer_than_the_keyframe_grid_still_takes_edits(duration):
    pad = CameraPadLogic(duration=duration)
    assert pad.duration == round(duration, 4)
    pad.wheel(-100)                                   # adds a keyframe at the clip's end
    pad.pointer_down(128, 128, t=0.0)
    pad.pointer_move(180, 128, t=0.5)
    pad.pointer_up(180, 128, t=1.0)
    pad.set_duration(duration * 2)
    assert pad.duration == round(duration * 2, 4)


@pytest.mark.parametrize("change, field", [({"preset": "nope"}, "pad state.preset"),
                                           ({"intensity": float("nan")}, "pad state.intensity"),
                                           ({"intensity": "abc"}, "pad state.intensity")])
def test_a_pad_state_with_a_bad_preset_or_intensity_is_refused(change, field):
    state = CameraPadLogic(duration=2.0).state()
    with pytest.raises(InvalidInput) as err:
        CameraPadLogic.from_state({**state, **change})
    assert err.value.field == field


def test_a_runaway_wheel_event_zooms_within_the_limits():
    pad = CameraPadLogic(duration=2.0)
    pad.wheel(-1e308)
    assert math.isfinite(pad.path.keyframes[-1].zoom) and pad.path.keyframes[-1].zoom > 1


def test_a_brush_pad_state_with_more_brushes_than_a_shot_takes_is_refused():
    pad = brush_pad()
    for k in range(8):
        pad.add_brush()
        pad.set_box(k, (2 + 4 * k, 3, 5 + 4 * k, 9))
    state = pad.state()
    state["brushes"] = state["brushes"] + state["brushes"][:1]
    with pytest.raises(InvalidInput) as err:
        BrushPadLogic.from_state(state)
    assert err.value.field == "brush pad state.brushes" and "at most 8" in str(err.value)


def _boxed_pad():
    pad = brush_pad()
    pad.add_brush()
    pad.set_box(0, (8, 8, 24, 24))
    return pad


@pytest.mark.parametrize("horizontal, vertical, field, words", [
    (float("nan"), 0, "brush.horizontal", "finite"),
    (100, 0, "brush.horizontal", "≤ 10"),
    (0, -11, "brush.vertical", "≥ -10"),
    (True, 0, "brush.horizontal", "a number"),
    (0, "0.1", "brush.vertical", "a number"),
])
def test_a_bad_speed_is_refused_when_set_and_leaves_the_pad_and_its_undo_as_they_were(horizontal, vertical,
                                                                                        field, words):
    # before: NaN, 100 and True were stored (with an undo entry) and refused only later by
    # brushes(); "0.1" raised a raw TypeError
    pad = _boxed_pad()
    before, undo = pad.state(), len(pad._undo)
    with pytest.raises(InvalidInput) as err:
        pad.set_motion(0, horizontal, vertical)
    assert err.value.field == field and words in str(err.value)
    assert pad.state() == before and len(pad._undo) == undo
    pad.set_motion(0, np.float32(0.25), -10)                    # in range, numpy too: taken
    assert pad.brushes()[0].vertical == pytest.approx(-10) and pad.brushes()[0].horizontal == pytest.approx(0.25)


def test_set_clip_checks_everything_before_changing_anything():
    # before: duration=3.0 was already set when clip_width=0 was refused
    pad = _boxed_pad()
    before = pad.state()
    with pytest.raises(InvalidInput) as err:
        pad.set_clip(duration=3.0, clip_width=0)
    assert err.value.field == "clip_width" and pad.duration == 2.0 and pad.state() == before


@pytest.mark.parametrize("box", [(1, 2, 3), None, "abcd", np.array(5.0), (1, 2, 3, 4, 5)])
def test_a_malformed_box_is_refused_by_name_and_changes_nothing(box):
    # before: a raw unpack ValueError or "'NoneType' object is not iterable" TypeError
    pad = _boxed_pad()
    before, undo = pad.state(), len(pad._undo)
    with pytest.raises(InvalidInput) as err:
        pad.set_box(0, box)
    assert err.value.field == "brush.box" and "x0, y0, x1, y1" in str(err.value)
    assert pad.state() == before and len(pad._undo) == undo
    pad.set_box(0, np.array([4.0, 4.0, 20.0, 20.0]))            # an array of four numbers is fine
    assert pad.items[0]["box"] == [4.0, 4.0, 20.0, 20.0]


@pytest.mark.parametrize("change, field", [
    ({"box": "abc"}, "brush pad state.brushes[0].box"),
    ({"box": [0, 0, float("nan"), 9]}, "brush pad state.brushes[0].box"),
    ({"arrow": [1, 2]}, "brush pad state.brushes[0].arrow"),
    ({"trajectory": [[1, 2], [3]]}, "brush pad state.brushes[0].trajectory"),
    ({"trajectory": 7}, "brush pad state.brushes[0].trajectory"),
    ({"proximity": "x"}, "brush pad state.brushes[0].proximity"),
    ({"ambient": 5}, "brush pad state.brushes[0].ambient"),
])
def test_a_brush_pad_state_with_a_malformed_brush_is_refused_when_read(change, field):
    # before: "box": "abc" was taken and brushes() raised a raw unpack ValueError later
    state = _boxed_pad().state()
    state["brushes"][0].update(change)
    with pytest.raises(InvalidInput) as err:
        BrushPadLogic.from_state(state)
    assert err.value.field == field


def test_a_brush_pad_state_whose_brushes_are_not_a_list_is_refused_by_name():
    # before: TypeError: object of type 'int' has no len()
    state = {**_boxed_pad().state(), "brushes": 5}
    with pytest.raises(InvalidInput) as err:
        BrushPadLogic.from_state(state)
    assert err.value.field == "brush pad state.brushes"


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "12", None])
def test_a_pointer_position_that_is_not_a_finite_number_is_refused_by_name(bad):
    """The pads stored a NaN position from pointer events (the Python twin of the canvas's),
    and built a path or a brush stroke from it later; now refused at the event, nothing kept."""
    cam = CameraPadLogic(duration=2.0)
    before = cam.state()
    with pytest.raises(InvalidInput, match=r"pointer\.x=.*a position on the pad"):
        cam.pointer_down(bad, 10)
    cam.pointer_down(100, 100)
    with pytest.raises(InvalidInput, match=r"pointer\.y="):
        cam.pointer_move(120, bad)
    with pytest.raises(InvalidInput, match=r"pointer\.y="):
        cam.pointer_up(140, bad)
    cam.pointer_up(140, 100)                 # the gesture goes on from the good events
    assert cam.path != CameraPath.from_dict(before["path"]) and cam.can_undo
    brush = BrushPadLogic()
    brush.tool = "paint"
    with pytest.raises(InvalidInput, match=r"pointer\.x="):
        brush.pointer_down(bad, 10)
    assert brush.items == [] and not brush.can_undo


def test_adding_a_keyframe_where_one_is_adds_nothing_to_undo():
    pad = CameraPadLogic(duration=2.0)
    i = pad.add_keyframe(1.0)
    depth = len(pad._undo)
    assert pad.add_keyframe(1.0) == i and pad.add_keyframe(1.00001) == i
    assert len(pad._undo) == depth
