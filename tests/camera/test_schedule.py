"""Deforum 2D schedules: Deforum's in-betweens, its sign conventions, and round trips."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runway_nb.camera import (
    AXES,
    EASINGS,
    CameraPath,
    Keyframe,
    Speed,
    as_camera_path,
    parse_schedule,
    schedule_values,
)
from runway_nb.camera.schedule import format_schedule
from runway_nb.engines.base import Capabilities, Engine
from runway_nb.errors import InvalidInput
from runway_nb.shot import Shot

DEFORUM_DEFAULT_ZOOM = "0: (1.0025+0.002*sin(1.25*3.14*t/30))"


# ---- parsing and in-betweens (Deforum's get_inbetweens) -----------------------------------

def test_numeric_keyframes_are_joined_linearly_and_held_at_the_ends():
    values = schedule_values("4:(1.0), 8:(3.0)", 12)
    np.testing.assert_allclose(values, [1, 1, 1, 1, 1, 1.5, 2, 2.5, 3, 3, 3, 3])


def test_a_formula_is_evaluated_on_every_frame_until_the_next_keyframe():
    values = schedule_values("0:(t*t), 3:(10), 5:(t)", 8)
    # frame 4 lies between the number at 3 and the formula's first value at 5: linear, as pandas does
    np.testing.assert_allclose(values, [0, 1, 4, 10, 7.5, 5, 6, 7])


def test_deforum_default_zoom_per_frame():
    values = schedule_values(DEFORUM_DEFAULT_ZOOM, 31)
    assert values[0] == pytest.approx(1.0025, abs=1e-15)
    assert values[30] == pytest.approx(1.0025 + 0.002 * math.sin(1.25 * 3.14), abs=1e-15)


def test_max_f_is_the_last_frame_and_keys_past_the_end_are_ignored():
    np.testing.assert_allclose(schedule_values("0:(t/max_f)", 5), [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_allclose(schedule_values("0:(1), 10:(5)", 3), [1, 1, 1])


def test_parse_keeps_numbers_and_formulas_apart():
    keys = parse_schedule(" 0 : ( 1.5 ) ,24:(1+t), ")
    assert [k.frame for k in keys] == [0, 24]
    assert keys[0].value == 1.5 and keys[1].value.text == "1+t"
    assert parse_schedule(1.04)[0].value == 1.04
    # numpy scalars are numbers too (they were refused as 'a schedule looks like…')
    assert parse_schedule(np.float32(1.5))[0].value == 1.5 and parse_schedule(np.int64(2))[0].value == 2.0
    assert CameraPath.from_deforum({"zoom": np.float32(1.01)}, 15, 512, 512) == \
        CameraPath.from_deforum({"zoom": float(np.float32(1.01))}, 15, 512, 512)
    for bad in (np.float32("nan"), 10**400):
        with pytest.raises(InvalidInput, match="finite number or a schedule string"):
            parse_schedule(bad, "camera.zoom")


@pytest.mark.parametrize("text, words", [
    ("", "empty"),
    ("(1.0)", "expected a frame number at character 1"),
    ("0 (1.0)", "expected ':' after frame 0"),
    ("0:1.0", "expected '(' after frame 0"),
    ("0:(1.0), 24:(1.04", "never closed"),
    ("0:(1.0) 24:(1.04)", "expected ','"),
    ("0:(1.0), 0:(2.0)", "frames must increase"),
    ("24:(1.0), 12:(2.0)", "frames must increase"),
    ("0:(1.0), 24:(1.04 +* 2)", "found '*' at character 20"),
    ("0:(__import__('os').system('ls'))", "calling '__import__' is not allowed"),
    ("0:(open('/etc/passwd'))", "calling 'open' is not allowed"),
    ("0:(1e999)", "not finite"),
    ("0:(1), " + "9" * 5000 + ":(1.01)", "(5000 digits) is past any run"),     # int() raised ValueError
])
def test_malformed_schedules_name_the_field_and_where_they_broke(text, words):
    with pytest.raises(InvalidInput) as err:
        parse_schedule(text, "camera.zoom")
    assert err.value.field == "camera.zoom"
    assert words in str(err.value)


def test_a_frame_number_of_thousands_of_digits_is_refused_by_its_key():
    """Python's int() refuses strings of 4300+ digits: that was a raw ValueError."""
    with pytest.raises(InvalidInput) as err:
        Shot("a", camera="zoom: 0:(1), " + "9" * 5000 + ":(1.01)")
    assert err.value.field == "camera.zoom" and "5000 digits" in str(err.value)
    assert parse_schedule("0:(1), " + "0" * 5000 + "7:(2)")[1].frame == 7        # leading zeros are no size


@pytest.mark.parametrize("text, field, said", [
    ("zoom: 0:(1), 200000:(1.01)", "camera.zoom", "it has one at frame 200000"),       # was camera.n_frames=200001
    ("translation_x: 0:(0); angle: 0:(0), 99999:(1)", "camera.angle", "frame 99999 (6666.6 s)"),  # was keyframe.time
    ("max_frames: 200000; zoom: 0:(1.01)", "camera.max_frames", "≤ 100000"),           # was camera.n_frames
    ("max_frames: 60000; zoom: 0:(1.0)", "camera.max_frames", "at most 54001 frames at 15 fps"),
])
def test_a_run_too_long_to_read_names_the_schedule_or_max_frames_typed(text, field, said):
    """A keyframe far out made the run that long: the schedule (or the max_frames given) is
    named, not a run length or a keyframe time the user never typed."""
    with pytest.raises(InvalidInput) as err:
        Shot("a", camera=text)
    assert err.value.field == field and said in str(err.value)
    if field != "camera.max_frames":
        assert err.value.value == dict(p.split(": ", 1) for p in text.split("; "))[field[len("camera."):]]
    with pytest.raises(InvalidInput) as err:
        CameraPath.from_deforum({"zoom": "0:(1.0)"}, 15, 512, 512, n_frames=60000)
    assert err.value.field == "camera.n_frames" and err.value.value == 60000


def test_formulas_that_blow_up_name_the_frame():
    with pytest.raises(InvalidInput, match="frame 3"):
        schedule_values("0:(1/(t-3))", 8, "camera.zoom")
    with pytest.raises(InvalidInput, match="frame 0"):
        schedule_values("0:(log(t))", 8, "camera.zoom")


# ---- sign conventions --------------------------------------------------------------------

def from_deforum(n=9, **schedules):
    return CameraPath.from_deforum(schedules, fps=8, width=512, height=256, n_frames=n).per_frame(n, 8)


def test_positive_translation_x_slides_the_scene_right_so_the_camera_moves_left():
    cam = from_deforum(translation_x="0:(2.56)")
    np.testing.assert_allclose(cam[:, 0], -np.arange(9) * 2.56 / 256, atol=1e-15)   # pixels / height


def test_positive_translation_y_slides_the_scene_down_so_the_camera_moves_up():
    cam = from_deforum(translation_y="0:(2.56)")
    np.testing.assert_allclose(cam[:, 1], np.arange(9) * 2.56 / 256, atol=1e-15)


def test_positive_angle_turns_the_scene_counter_clockwise_which_is_our_positive_roll():
    np.testing.assert_allclose(from_deforum(angle="0:(1.5)")[:, 3], 1.5 * np.arange(9))


def test_zoom_is_multiplied_each_frame_and_frame_zero_is_never_warped():
    cam = from_deforum(zoom="0:(2.0), 1:(1.04)")
    np.testing.assert_allclose(cam[:, 2], 1.04 ** np.arange(9))


def test_translation_is_measured_in_the_previous_frames_pixels():
    # zoomed in ×2, the same 10 pixels are half as far in the world
    cam = from_deforum(n=3, zoom="0:(1), 1:(2), 2:(1)", translation_x="0:(0), 1:(0), 2:(10)")
    assert cam[2, 0] == pytest.approx(-10 / 256 / 2)


def test_presets_export_to_the_pixels_deforum_needs():
    schedules = CameraPath.preset("pan_left").to_deforum(24, 12, 768, 512)
    assert len(parse_schedule(schedules["translation_x"])) == 1   # constant speed: one keyframe
    # written to the digits a trip through a path keeps (round_trip_steps: 9 decimals of a
    # pixel here), not the float noise past them
    assert parse_schedule(schedules["translation_x"])[0].value == pytest.approx(0.22 / 12 * 512, rel=1e-10)
    assert schedules["zoom"] == "0:(1.0)" and schedules["angle"] == "0:(0.0)"
    zoom = CameraPath.preset("zoom_in", 2).to_deforum(24, 12, 768, 512)["zoom"]
    assert parse_schedule(zoom)[0].value == pytest.approx(math.exp(0.44 / 12), rel=1e-10)


# ---- round trips (property tests) ---------------------------------------------------------

@st.composite
def camera_paths(draw):
    times = sorted(draw(st.sets(st.floats(0, 3, allow_nan=False), min_size=1, max_size=4)))
    keyframes = [Keyframe(t, truck=draw(st.floats(-1, 1)), pedestal=draw(st.floats(-1, 1)),
                          pan=draw(st.floats(-1, 1)), tilt=draw(st.floats(-1, 1)), roll=draw(st.floats(-90, 90)),
                          zoom=draw(st.floats(0.5, 2)), easing=draw(st.sampled_from(sorted(EASINGS))))
                 for t in times]
    speed = Speed(**{axis: draw(st.floats(-0.5, 0.5)) for axis in AXES})
    return CameraPath(tuple(keyframes), speed=speed, strength=draw(st.floats(0, 2)))


@settings(max_examples=50, deadline=None)
@given(camera_paths(), st.integers(2, 40), st.sampled_from([6, 8, 12.5, 24, 30]),
       st.integers(64, 1024), st.integers(64, 1024))
def test_path_to_deforum_and_back_gives_the_same_camera(path, n_frames, fps, width, height):
    schedules = path.to_deforum(n_frames, fps, width, height)
    assert set(schedules) == {"zoom", "angle", "translation_x", "translation_y"}
    again = CameraPath.from_deforum(schedules, fps, width, height, n_frames=n_frames)
    # per-frame steps are written to ~11 significant digits and Deforum compounds them, so a
    # zoom of 35× after 14 frames is 35× to 1e-10, not to 1e-9 absolute (1.6e-9 off)
    np.testing.assert_allclose(again.per_frame(n_frames, fps), path.per_frame(n_frames, fps), rtol=1e-9, atol=1e-9)


per_frame_values = st.lists(st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False), min_size=1, max_size=60)


@settings(max_examples=50, deadline=None)
@given(per_frame_values)
def test_schedule_strings_give_their_values_back(values):
    values = np.array(values)
    text = format_schedule(values)
    np.testing.assert_allclose(schedule_values(text, len(values)), values, rtol=1e-13, atol=1e-12)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0.8, 1.25), min_size=2, max_size=30), st.lists(st.floats(-20, 20), min_size=2, max_size=30))
def test_deforum_to_path_and_back_gives_the_same_schedules(zooms, shifts):
    n = min(len(zooms), len(shifts))
    zooms[0], shifts[0] = zooms[1], shifts[1]   # frame 0's warp is never applied, so it is written as frame 1's
    schedules = {"zoom": format_schedule(zooms[:n]), "translation_x": format_schedule(shifts[:n]),
                 "angle": format_schedule(np.array(shifts[:n]) / 4)}
    path = CameraPath.from_deforum(schedules, 10, 640, 480, n_frames=n)
    again = path.to_deforum(n, 10, 640, 480)
    for key, text in schedules.items():
        np.testing.assert_allclose(schedule_values(again[key], n), schedule_values(text, n), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("schedules, key, typed", [
    ({"zoom": "0:(1.0), 24:(1.04)"}, "zoom", "24:(1.04)"),
    ({"translation_x": "0:(-9.95), 65:(4.59)", "zoom": "0:(1.01)"}, "translation_x", "65:(4.59)"),
    ({"angle": "0:(1.99), 74:(0.6)", "zoom": "0:(1.01)"}, "angle", "74:(0.6)"),
    ({"translation_y": "0:(-8.96), 54:(-8.18)"}, "translation_y", "54:(-8.18)"),
])
def test_typed_values_are_exported_as_typed_and_a_second_trip_writes_the_same_text(schedules, key, typed):
    """Read back from a path, a step comes back a few float epsilons off what was typed; the
    export wrote 4.59000000000001 for 4.59, and 8.18000000000006 after one more trip."""
    path = CameraPath.from_deforum(schedules, fps=15, width=512, height=512)
    text = path.to_deforum(120, 15, 512, 512)
    assert typed in text[key].split(", ")
    again = CameraPath.from_deforum(text, fps=15, width=512, height=512).to_deforum(120, 15, 512, 512)
    assert again == text


@st.composite
def typed_schedules(draw):
    """Deforum schedules as a user types them: a few keyframes (from frame 1 on) with short
    decimals, each a corner (the values zigzag), so each must be in the exported text."""
    n = draw(st.integers(3, 200))
    schedules, corners = {}, {}
    for key in draw(st.sets(st.sampled_from(["zoom", "angle", "translation_x", "translation_y"]), min_size=1)):
        frames = sorted(draw(st.sets(st.integers(1, n - 1), min_size=1, max_size=4)))
        # zoom per frame 0.99…1.01 (over 200 frames within the zoom range a path holds),
        # angles up to ±3°, translations up to ±20 px, each with a few decimals
        low, high, most, scale = {"zoom": (9950, 10050, 50, 10000),
                                  "angle": (-300, 300, 40, 100)}.get(key, (-2000, 2000, 40, 100))
        values = [draw(st.integers(low, high))]
        for k in range(1, len(frames)):        # up, down, up…: every keyframe is a bend
            step = draw(st.integers(1, most))
            values.append(values[-1] + (step if k % 2 else -step))
        texts = [repr(v / scale) for v in values]
        schedules[key] = ", ".join(f"{f}:({t})" for f, t in zip(frames, texts))
        corners[key] = texts
    return n, schedules, corners


@settings(max_examples=150, deadline=None)
@given(typed_schedules(), st.sampled_from([8, 15, 24, 30]), st.sampled_from([64, 432, 512, 1080]))
def test_export_import_export_writes_the_same_text_and_keeps_typed_values(typed, fps, height):
    n, schedules, corners = typed
    path = CameraPath.from_deforum(schedules, fps, 512, height, n_frames=n)
    text = path.to_deforum(n, fps, 512, height)
    for key, values in corners.items():
        written = [part.split(":", 1)[1] for part in text[key].split(", ")]
        assert all(f"({v})" in written for v in values), (key, values, text[key])
    again = CameraPath.from_deforum(text, fps, 512, height, n_frames=n).to_deforum(n, fps, 512, height)
    assert again == text


@pytest.mark.parametrize("path, n_frames, fps, height", [
    # slow drifts whose keyframes, chosen within a step of a straight line, were chosen
    # differently once read back (hypothesis found them: the property test below passed
    # most runs and failed on these; 0.0338541662 came back as …656)
    (CameraPath(keyframes=[Keyframe(0, easing="ease_in")], speed=Speed(tilt=0.25, roll=0.5),
                strength=0.0625), 21, 30, 65),
    (CameraPath(keyframes=[Keyframe(0, easing="ease_in")], speed=Speed(tilt=0.0625, roll=0.03125),
                strength=0.4375), 22, 24, 64),
])
def test_a_drift_read_back_near_a_straight_line_is_written_the_same(path, n_frames, fps, height):
    text = path.to_deforum(n_frames, fps, 512, height)
    again = CameraPath.from_deforum(text, fps, 512, height, n_frames=n_frames).to_deforum(n_frames, fps, 512, height)
    assert again == text


@settings(max_examples=50, deadline=None)
@given(camera_paths(), st.integers(2, 40), st.sampled_from([6, 8, 12.5, 24, 30]), st.integers(64, 1024))
def test_any_paths_export_is_written_the_same_after_a_trip_through_deforum(path, n_frames, fps, height):
    text = path.to_deforum(n_frames, fps, 512, height)
    again = CameraPath.from_deforum(text, fps, 512, height, n_frames=n_frames).to_deforum(n_frames, fps, 512, height)
    assert again == text


def test_motion_continues_after_the_imported_frames_as_deforum_holds_the_last_value():
    path = CameraPath.from_deforum({"translation_x": "0:(0), 4:(5.12)"}, fps=8, width=512, height=512, n_frames=5)
    cam = path.per_frame(9, 8)
    np.testing.assert_allclose(np.diff(cam[4:, 0]), -0.01, atol=1e-15)


def test_a_zoom_that_turns_around_imports_exactly():
    schedule = {"zoom": "0:(1.02), 100:(0.9)"}
    cam = CameraPath.from_deforum(schedule, fps=15, width=512, height=512).per_frame(120, 15)
    per_frame = schedule_values(schedule["zoom"], 120)
    expected = np.concatenate([[1.0], np.cumprod(per_frame[1:])])
    np.testing.assert_allclose(cam[:, 2], expected, rtol=1e-12)


# ---- bad input -------------------------------------------------------------------------------

@pytest.mark.parametrize("schedules, kwargs, field", [
    ({"zoom": "0:(1.0), 5:(0)"}, {}, "camera.zoom"),
    ({"zoom": "0:(1.0), 5:(-1)"}, {}, "camera.zoom"),
    ({"translation_z": "0:(10)"}, {}, "camera.translation_z"),
    ({"angle": "0:(x)"}, {}, "camera.angle"),
    ({"angle": "0:(1)"}, {"fps": 0}, "camera.fps"),
    ({"angle": "0:(1)"}, {"height": 0}, "camera.height"),
    ({"angle": "0:(1)"}, {"n_frames": 1}, "camera.n_frames"),
    ({"angle": "30:(1)"}, {"n_frames": 10}, "camera.angle"),
])
def test_bad_deforum_input_is_refused(schedules, kwargs, field):
    options = {"fps": 15, "width": 512, "height": 512, "n_frames": 20} | kwargs
    with pytest.raises(InvalidInput) as err:
        CameraPath.from_deforum(schedules, **options)
    assert err.value.field == field


def test_default_length_covers_deforums_default_or_the_last_keyframe():
    short = CameraPath.from_deforum({"zoom": DEFORUM_DEFAULT_ZOOM}, fps=15, width=512, height=512)
    assert short.keyframes[-1].time == pytest.approx(119 / 15)
    long = CameraPath.from_deforum({"angle": "0:(0), 300:(t)"}, fps=15, width=512, height=512)
    assert long.keyframes[-1].time == pytest.approx(300 / 15)


def test_bends_finds_every_corner_of_a_long_track():
    """The keyframes a per-frame track needs: both ends and each corner, however long the
    straight runs (a 20,000-frame constant schedule is two keyframes)."""
    from runway_nb.camera.schedule import bends

    assert bends(np.zeros((20000, 4))) == [0, 19999]
    corners = [0, 7, 3000, 3001, 12345, 19999]
    track = np.interp(np.arange(20000), corners, [0.0, 5.0, -2.0, 4.0, 4.5, 0.0])[:, None]
    assert bends(track) == corners
    assert bends(np.zeros((1, 2))) == [0] and bends(np.zeros((2, 2))) == [0, 1]


@pytest.mark.parametrize("text, key, frame", [
    ("zoom: 0:(1.1)", "zoom", 97),                 # 1.1 a frame passes 10000× at frame 97 of 120
    ("zoom: 0:(1e-300)", "zoom", 1),
    ("angle: 0:(1e5)", "angle", 11),
    ("translation_x: 0:(1e9)", "translation_x", 1),
])
def test_a_schedule_that_compounds_out_of_range_is_named_with_its_frame(text, key, frame):
    """Deforum's warps compound: the schedule typed and the frame it leaves the range are
    named (not a keyframe value nobody wrote), with how to give the run the clip's length."""
    with pytest.raises(InvalidInput) as err:
        Shot("a", seconds=2, camera=text)
    assert err.value.field == f"camera.{key}" and err.value.value == text.split(": ", 1)[1]
    assert f"at frame {frame}." in str(err.value) and "max_frames" in str(err.value)
    assert Shot("a", seconds=2, camera="max_frames: 30; zoom: 0:(1.1)").camera is not None


def test_a_run_of_the_length_given_that_compounds_out_of_range_does_not_advise_giving_its_length():
    """With max_frames (or n_frames) given, the advice to give max_frames was untrue."""
    for make in (lambda: Shot("a", seconds=2, camera="max_frames: 30; zoom: 0:(1.5)"),
                 lambda: CameraPath.from_deforum({"zoom": "0:(1.5)"}, 15, 512, 512, n_frames=30)):
        with pytest.raises(InvalidInput) as err:
            make()
        assert err.value.field == "camera.zoom" and "at frame 23" in str(err.value)
        assert "give the run's length as the clip's" not in err.value.hint
        assert "30 frames were evaluated, the run's length given" in err.value.hint
        assert "give a shorter run" in err.value.hint


# ---- schedules without max_frames, on clips longer than Deforum's 120 frames ------------------

class LongClips(Engine):
    """An engine for clips of up to 5 minutes, used here only to resolve shots."""

    id = "long-clips"
    capabilities = Capabilities(camera_modes=("virtual",), max_frames=24 * 300, fps=(8.0, 24.0))

    def _render(self, *args, **kwargs):
        raise AssertionError("resolve only")


def deforum_run_of(text, frames):
    """The path Deforum would follow with max_frames = frames (the run as long as the clip)."""
    from runway_nb.camera import schedules_from_text

    return CameraPath.from_deforum(schedules_from_text(text), fps=15, width=512, height=512, n_frames=frames)


@pytest.mark.parametrize("text", [
    DEFORUM_DEFAULT_ZOOM.join(["zoom: ", ""]),                 # a formula: it keeps on wobbling
    "zoom: 0:(1.01); translation_x: 0:(3)",                     # pixels of a frame that keeps zooming
    "angle: 0:(0.5); translation_x: 0:(3)",                     # ... that keeps turning: a circle
    "zoom: 0:(1.0), 100:(1.0+0.0001*t)",                        # a formula from frame 100 on
    "translation_x: 0:(10*t/max_f)",                            # max_f: the run's last frame
])
def test_a_schedule_without_max_frames_is_read_on_to_the_end_of_a_longer_clip(text):
    """10 s at 24 fps is 151 frames of a 15-fps Deforum run, past the 120 a schedule without
    max_frames is read for: the engine's shot follows the run to the clip's end, as Deforum
    with max_frames 151 would, instead of going on at the 120th frame's speed."""
    shot = LongClips().resolve(Shot("a", seconds=10, fps=24, camera=text))
    assert shot.frames == 240
    run = deforum_run_of(text, 151).per_frame(240, 24)
    np.testing.assert_allclose(shot.camera.per_frame(240, 24), run, rtol=1e-9, atol=1e-9)
    # what the clip showed before: the 120 frames' keyframes, going on at the last one's speed
    read_at_120 = replace(Shot("a", camera=text).camera, deforum=None).per_frame(240, 24)
    assert not np.allclose(read_at_120, run, rtol=1e-6, atol=1e-6)
    assert Shot.from_dict(shot.to_dict()) == shot                      # the clip's JSON re-makes it


def test_a_short_clip_keeps_deforums_120_frames_and_the_schedules_own_keyframes_are_kept():
    text = "translation_x: 0:(0), 200:(5)"                 # a keyframe past 120, at 13.3 s
    short = LongClips().resolve(Shot("a", seconds=2, fps=24, camera=text))
    assert short.camera == Shot("a", camera=text).camera               # 201 frames read: enough
    np.testing.assert_allclose(short.camera.per_frame(48, 24), deforum_run_of(text, 201).per_frame(48, 24))
    long = LongClips().resolve(Shot("a", seconds=20, fps=24, camera=text))
    np.testing.assert_allclose(long.camera.per_frame(480, 24), deforum_run_of(text, 301).per_frame(480, 24),
                               rtol=1e-9, atol=1e-9)
    # the ramp to 5 px a frame (502.5 px by frame 200), then 5 px a frame to 19.96 s (Deforum frame 299.375)
    assert long.camera.per_frame(480, 24)[-1, 0] == pytest.approx(-(502.5 + 5 * 99.375) / 512, rel=1e-9)


def test_a_schedule_given_max_frames_is_that_run_whatever_the_clip():
    text = "max_frames: 30; translation_x: 0:(0), 20:(5)"
    shot = LongClips().resolve(Shot("a", seconds=10, fps=24, camera=text))
    assert shot.camera == Shot("a", camera=text).camera


def test_a_longer_clip_that_takes_the_schedule_out_of_range_is_refused_by_key_and_frame():
    """1.04 a frame is 106× at frame 119 but passes 10000× at frame 235: fine for Deforum's
    120 frames, refused for a 30-s clip (451 frames), naming the schedule as typed."""
    assert Shot("a", camera="zoom: 0:(1.04)").camera is not None
    with pytest.raises(InvalidInput) as err:
        LongClips().resolve(Shot("a", seconds=30, fps=24, camera="zoom: 0:(1.04)"))
    assert err.value.field == "camera.zoom" and err.value.value == "0:(1.04)"
    assert "at frame 235" in str(err.value) and "needs 451 frames" in str(err.value)


def test_a_shot_saved_before_it_is_rendered_keeps_the_schedules_a_longer_clip_reads_on():
    shot = Shot("a", seconds=10, fps=24, camera="zoom: 0:(1.0025+0.002*sin(1.25*3.14*t/30))")
    saved = shot.to_dict()
    assert saved["camera"]["deforum"]["schedules"] == {"zoom": "0:(1.0025+0.002*sin(1.25*3.14*t/30))"}
    again = Shot.from_dict(saved)
    assert again == shot and LongClips().resolve(again) == LongClips().resolve(shot)
    bad = {**saved["camera"], "deforum": {**saved["camera"]["deforum"], "fps": 0}}
    with pytest.raises(InvalidInput) as err:
        CameraPath.from_dict(bad)
    assert err.value.field == "camera.deforum.fps"


# ---- every view of a path that keeps its schedules is the run over the frames asked for -------

def test_per_frame_reads_the_schedules_over_the_frames_asked_for_as_the_engine_renders_them():
    """20 s at 15 fps is 300 frames of a run read for 120: per_frame follows the formula on to
    frame 299 (zoom 2.1387, as rendered), not the 120th frame's speed (2.2855)."""
    text = "zoom: " + DEFORUM_DEFAULT_ZOOM
    path = Shot("a", camera=text).camera
    assert path.deforum is not None and path.deforum.frames == 120
    rendered = path.covering(300, 15).per_frame(300, 15)
    assert np.array_equal(path.per_frame(300, 15), rendered)
    np.testing.assert_allclose(rendered, deforum_run_of(text, 300).per_frame(300, 15), rtol=1e-9, atol=1e-9)
    assert path.per_frame(300, 15)[-1, 2] == pytest.approx(2.13870, abs=1e-5)
    assert np.array_equal(path.per_frame_axes(300, 15), path.covering(300, 15).per_frame_axes(300, 15))
    np.testing.assert_allclose(path.per_frame(300, 15)[:120], path.per_frame(120, 15), rtol=1e-12, atol=1e-12)
    # at the clip's own fps, the shot the engine renders and the path it came from agree
    shot = LongClips().resolve(Shot("a", seconds=10, fps=24, camera=text))
    assert np.array_equal(Shot("a", camera=text).camera.per_frame(240, 24), shot.camera.per_frame(240, 24))
    # the run read last is kept: a pad asking again does not read it again, and equality ignores it
    assert path.covering(300, 15) is path.covering(300, 15) and path == Shot("a", camera=text).camera


def test_a_path_that_keeps_its_schedules_is_checked_and_refused_over_the_run_the_clip_needs():
    path = Shot("a", camera="zoom: 0:(1.04)").camera
    path.check_over(120, 15)
    with pytest.raises(InvalidInput) as err:
        path.check_over(720, 24)             # 30 s: 451 frames of the run, past 10000× at frame 235
    assert err.value.field == "camera.zoom" and "needs 451 frames" in str(err.value)


def test_to_deforum_writes_the_schedules_read_over_the_frames_asked_for():
    """The run written back for 300 frames goes on wobbling to frame 299 (it ended at a
    keyframe at 119, going on straight), and read back with max_frames 300 it is the render."""
    text = "zoom: " + DEFORUM_DEFAULT_ZOOM
    path = Shot("a", camera=text).camera
    written = path.to_deforum(300, 15, 512, 512)
    assert written == path.covering(300, 15).to_deforum(300, 15, 512, 512)
    assert parse_schedule(written["zoom"])[-1].frame == 299
    back = CameraPath.from_deforum(written, 15, 512, 512, n_frames=300)
    np.testing.assert_allclose(back.per_frame(300, 15), path.covering(300, 15).per_frame(300, 15),
                               rtol=1e-9, atol=1e-9)


def test_a_bare_number_typed_as_a_schedule_is_told_how_to_write_it():
    with pytest.raises(InvalidInput) as err:
        as_camera_path("zoom: 1.04")
    assert "write '0:(1.04)'" in str(err.value)
    with pytest.raises(InvalidInput) as err:
        as_camera_path("zoom: 0:1.04")
    assert "write '" not in str(err.value)                         # only for a bare number
