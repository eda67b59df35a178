"""Presets move the camera the way the tiny engine was trained to, in film directions."""

from __future__ import annotations

import numpy as np
import pytest

from runway_nb.camera import PRESETS, SPEED_AT_INTENSITY_1, CameraPath, as_camera_path
from runway_nb.camera.presets import check_preset, parse_preset_spec
from runway_nb.errors import InvalidInput
from runway_nb.tiny import toyworld

BASIC = ("static", "pan_left", "pan_right", "tilt_up", "tilt_down",
         "zoom_in", "zoom_out", "roll_cw", "roll_ccw")


def test_speed_table_is_the_toy_worlds():
    assert SPEED_AT_INTENSITY_1 == toyworld.CAMERA_SPEED


@pytest.mark.parametrize("move", BASIC)
@pytest.mark.parametrize("intensity, n_frames, fps", [(1.0, 16, 8.0), (0.5, 9, 24.0), (1.7, 33, 12.5)])
def test_basic_presets_equal_the_toy_world_arrays(move, intensity, n_frames, fps):
    ours = CameraPath.preset(move, intensity).per_frame(n_frames, fps)
    theirs = toyworld.camera_for_move(move, intensity, n_frames, fps)
    assert ours.shape == (n_frames, 4) and ours.dtype == np.float64
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-9)


def test_toy_world_knows_no_move_we_lack():
    assert set(toyworld.CAMERA_MOVES) <= set(PRESETS)


@pytest.mark.parametrize("move, column, sign", [
    ("pan_left", 0, -1), ("pan_right", 0, +1), ("truck_left", 0, -1), ("truck_right", 0, +1),
    ("tilt_up", 1, +1), ("tilt_down", 1, -1), ("pedestal_up", 1, +1), ("pedestal_down", 1, -1),
    ("roll_cw", 3, +1), ("roll_ccw", 3, -1),
])
def test_film_convention_directions(move, column, sign):
    cam = CameraPath.preset(move).per_frame(8, 8)
    steps = np.diff(cam[:, column])
    assert np.all(np.sign(steps) == sign)
    others = [c for c in (0, 1, 3) if c != column]
    assert np.all(cam[:, others] == 0) and np.all(cam[:, 2] == 1)


def test_zoom_in_grows_and_zoom_out_shrinks():
    assert np.all(np.diff(CameraPath.preset("zoom_in").per_frame(8, 8)[:, 2]) > 0)
    assert np.all(np.diff(CameraPath.preset("zoom_out").per_frame(8, 8)[:, 2]) < 0)


def test_speed_is_per_second_so_longer_clips_travel_further():
    short = CameraPath.preset("pan_left").per_frame(9, 8)       # 1 s
    long = CameraPath.preset("pan_left").per_frame(17, 8)       # 2 s
    assert long[-1, 0] == pytest.approx(2 * short[-1, 0])
    assert short[-1, 0] == pytest.approx(-SPEED_AT_INTENSITY_1["pan"])
    # the frame rate changes the sampling, not the motion
    assert CameraPath.preset("pan_left").per_frame(25, 24)[-1, 0] == pytest.approx(short[-1, 0])


def test_truck_and_pan_agree_in_the_2d_camera_but_stay_distinct_axes():
    truck, pan = CameraPath.preset("truck_left"), CameraPath.preset("pan_left")
    np.testing.assert_array_equal(truck.per_frame(8, 8), pan.per_frame(8, 8))
    assert truck != pan
    axes_truck = truck.per_frame_axes(8, 8)
    assert np.all(axes_truck[:, 2] == 0) and axes_truck[-1, 0] < 0


@pytest.mark.parametrize("name", sorted(set(PRESETS) - {"static"}))
def test_every_other_preset_moves(name):
    cam = CameraPath.preset(name).per_frame(8, 8)
    assert np.abs(cam[-1] - [0, 0, 1, 0]).max() > 0.01


def test_combos_combine_their_parts():
    combo = CameraPath.preset("push_in_pan_left", 0.8).per_frame(12, 8)
    np.testing.assert_allclose(combo[:, 0], CameraPath.preset("pan_left", 0.8).per_frame(12, 8)[:, 0])
    np.testing.assert_allclose(combo[:, 2], CameraPath.preset("zoom_in", 0.8).per_frame(12, 8)[:, 2])


def test_intensity_scales_speed_and_zero_is_static():
    one, half = CameraPath.preset("tilt_up", 1).per_frame(8, 8), CameraPath.preset("tilt_up", 0.5).per_frame(8, 8)
    np.testing.assert_allclose(half[:, 1], one[:, 1] / 2)
    np.testing.assert_array_equal(CameraPath.preset("tilt_up", 0).per_frame(8, 8),
                                  CameraPath.static().per_frame(8, 8))


def test_static_does_not_move():
    cam = CameraPath.static().per_frame(5, 8)
    np.testing.assert_array_equal(cam, np.tile([0.0, 0.0, 1.0, 0.0], (5, 1)))
    assert CameraPath.static().describe() == "static"


def test_preset_strings_with_intensity():
    path = as_camera_path("pan_left:0.5")
    assert path == CameraPath.preset("pan_left", 0.5)
    assert path.describe() == "pan_left ×0.5"
    assert as_camera_path(" zoom_in ") == CameraPath.preset("zoom_in", 1.0)


def test_unknown_preset_names_the_choices_and_a_close_match():
    with pytest.raises(InvalidInput) as err:
        CameraPath.preset("pan_lefft")
    assert err.value.field == "camera" and "pan_right" in str(err.value) and "'pan_left'" in str(err.value)


@pytest.mark.parametrize("given, expected", [(np.float32(0.5), 0.5), (np.int64(1), 1.0), (np.float16(2), 2.0)])
def test_a_numpy_intensity_is_a_number_like_any_other(given, expected):
    """numpy scalars were refused as 'must be a number' (check_preset tested int/float only)."""
    path = CameraPath.preset("zoom_in", given)
    assert path == CameraPath.preset("zoom_in", expected) and type(path.intensity) is float


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), 11, "fast", True,
                                 pytest.param(10**400, id="10**400"), np.float32("nan")])
def test_bad_intensity_is_refused(bad):
    with pytest.raises(InvalidInput) as err:
        CameraPath.preset("pan_left", bad)
    assert err.value.field == "camera.intensity"


@pytest.mark.parametrize("spec", ["pan_left:", "pan_left:fast", "pan_left:-0.5"])
def test_bad_preset_specs_are_refused(spec):
    with pytest.raises(InvalidInput, match="pan_left|number|intensity"):
        as_camera_path(spec)


# ---- the -10 … +10 UI scale -------------------------------------------------------------

@pytest.mark.parametrize("axis, value, preset", [
    ("pan", -5, "pan_left"), ("pan", 5, "pan_right"), ("tilt", 5, "tilt_up"), ("tilt", -5, "tilt_down"),
    ("zoom", 5, "zoom_in"), ("zoom", -5, "zoom_out"), ("roll", 5, "roll_cw"), ("roll", -5, "roll_ccw"),
    ("truck", -5, "truck_left"), ("pedestal", 5, "pedestal_up"),
])
def test_ui_five_is_intensity_one(axis, value, preset):
    np.testing.assert_allclose(CameraPath.from_axes(**{axis: value}).per_frame(16, 8),
                               CameraPath.preset(preset).per_frame(16, 8), atol=1e-12)


def test_ui_ten_is_twice_as_fast_and_seconds_stops_the_move():
    np.testing.assert_allclose(CameraPath.from_axes(pan=-10).per_frame(16, 8),
                               CameraPath.preset("pan_left", 2).per_frame(16, 8), atol=1e-12)
    timed = CameraPath.from_axes(pan=-5, seconds=1).per_frame(17, 8)   # 2 s clip
    assert timed[8, 0] == pytest.approx(-SPEED_AT_INTENSITY_1["pan"])
    assert np.all(timed[8:, 0] == timed[8, 0])   # holds after one second


@pytest.mark.parametrize("kwargs, field", [({"pan": 11}, "camera.pan"), ({"zoom": float("nan")}, "camera.zoom"),
                                           ({"roll": -10.5}, "camera.roll"), ({"seconds": 0}, "camera.seconds")])
def test_ui_values_out_of_range_are_refused(kwargs, field):
    with pytest.raises(InvalidInput) as err:
        CameraPath.from_axes(**kwargs)
    assert err.value.field == field


def test_strength_scales_the_whole_move():
    base = CameraPath.preset("push_in_pan_right")
    half = base.with_strength(0.5).per_frame(16, 8)
    full = base.per_frame(16, 8)
    np.testing.assert_allclose(half[:, 0], full[:, 0] / 2)
    np.testing.assert_allclose(np.log(half[:, 2]), np.log(full[:, 2]) / 2)
    np.testing.assert_array_equal(base.with_strength(0).per_frame(4, 8), CameraPath.static().per_frame(4, 8))
    with pytest.raises(InvalidInput, match="camera.strength"):
        base.with_strength(-1)


@pytest.mark.parametrize("typed", ["PAN_LEFT", "Pan Left", "pan-left"])
def test_a_preset_in_other_case_or_spacing_is_refused_with_its_name(typed):
    with pytest.raises(InvalidInput) as err:
        check_preset(typed, 1.0)
    assert "Did you mean 'pan_left'?" in str(err.value)


def test_an_intensity_with_an_underscore_is_no_number():
    # float('1_0') is 10: a typo taken as ten times the speed
    with pytest.raises(InvalidInput) as err:
        parse_preset_spec("pan_left:1_0")
    assert err.value.field == "camera.intensity"
