"""Keyframed paths: easing, JSON, validation, display."""

from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runway_nb.camera import AXES, EASINGS, CameraPath, Keyframe, Speed
from runway_nb.errors import InvalidInput


def pan_path(easing: str) -> CameraPath:
    """Pan from 0 to 1 frame height between t=0 and t=1 s, then hold."""
    return CameraPath((Keyframe(0.0, easing=easing), Keyframe(1.0, pan=1.0)))


def pan_at(path: CameraPath, fps: float = 10.0, n: int = 21) -> np.ndarray:
    return path.per_frame(n, fps)[:, 0]


# ---- easing ---------------------------------------------------------------------------

def test_linear_moves_at_constant_speed_then_holds():
    x = pan_at(pan_path("linear"))
    np.testing.assert_allclose(x[:11], np.linspace(0, 1, 11), atol=1e-12)
    assert np.all(x[10:] == 1.0)


def test_ease_in_out_starts_and_ends_at_rest_and_is_symmetric():
    x = pan_at(pan_path("ease_in_out"), fps=100, n=101)
    steps = np.diff(x)
    assert steps[0] < 0.05 * steps[50] and steps[-1] < 0.05 * steps[50]
    assert x[50] == pytest.approx(0.5)
    np.testing.assert_allclose(x[:51], 1 - x[100:49:-1], atol=1e-12)


def test_ease_in_is_slow_first_and_ease_out_slow_last():
    ease_in, ease_out = pan_at(pan_path("ease_in")), pan_at(pan_path("ease_out"))
    assert ease_in[3] < 0.3 < ease_out[3]
    assert ease_in[10] == ease_out[10] == 1.0


def test_hold_stays_until_the_next_keyframe_then_jumps():
    x = pan_at(pan_path("hold"))
    assert np.all(x[:10] == 0.0) and np.all(x[10:] == 1.0)


def test_value_before_the_first_keyframe_is_held():
    path = CameraPath((Keyframe(0.5, pan=0.3), Keyframe(1.0, pan=0.8)))
    x = path.per_frame(11, 10)[:, 0]
    assert np.all(x[:6] == 0.0)   # relative to frame 0, which already sits at 0.3
    assert x[10] == pytest.approx(0.5)


def test_zoom_is_interpolated_geometrically():
    path = CameraPath((Keyframe(0.0), Keyframe(1.0, zoom=4.0)))
    assert path.per_frame(3, 2)[1, 2] == pytest.approx(2.0)   # halfway in time = ×2, not ×2.5


def test_per_frame_is_relative_to_frame_zero():
    path = CameraPath((Keyframe(0.0, pan=0.4, tilt=-0.2, roll=10, zoom=2.0), Keyframe(1.0, pan=0.5, zoom=3.0)))
    cam = path.per_frame(3, 2)
    np.testing.assert_allclose(cam[0], [0, 0, 1, 0])
    np.testing.assert_allclose(cam[2], [0.1, 0.2, 1.5, -10])


def test_axes_feed_the_four_columns():
    path = CameraPath((Keyframe(0.0), Keyframe(1.0, truck=0.1, pedestal=0.2, pan=0.3, tilt=0.4, roll=5, zoom=2)))
    axes = path.per_frame_axes(2, 1)
    np.testing.assert_allclose(axes[1], [0.1, 0.2, 0.3, 0.4, 5, 2])
    np.testing.assert_allclose(path.per_frame(2, 1)[1], [0.4, 0.6, 2, 5])
    assert AXES == ("truck", "pedestal", "pan", "tilt", "roll", "zoom")


def test_speed_adds_a_drift_on_top_of_keyframes():
    path = CameraPath((Keyframe(0.0), Keyframe(1.0, roll=10)), speed=Speed(pan=0.5))
    cam = path.per_frame(3, 1)   # t = 0, 1, 2
    np.testing.assert_allclose(cam[:, 0], [0, 0.5, 1.0])
    np.testing.assert_allclose(cam[:, 3], [0, 10, 10])


def test_after_last_holds_or_continues_the_last_segment():
    frames = (Keyframe(0.0), Keyframe(1.0, pan=0.5, roll=10, zoom=2.0))
    held = CameraPath(frames).per_frame(3, 1)
    going = CameraPath(frames, after_last="continue").per_frame(3, 1)
    np.testing.assert_allclose(held[2], [0.5, 0, 2, 10])
    np.testing.assert_allclose(going[2], [1.0, 0, 4, 20])


# ---- immutability and equality -----------------------------------------------------------

def test_paths_are_immutable_values():
    a = CameraPath((Keyframe(0.0), Keyframe(2.0, pan=1.0)))
    b = CameraPath([{"time": 0}, {"time": 2, "pan": 1}])
    assert a == b and hash(a) == hash(b)
    assert a != CameraPath((Keyframe(0.0), Keyframe(2.0, pan=1.5)))
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.strength = 2.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.keyframes[0].pan = 3.0


# ---- JSON ----------------------------------------------------------------------------------

finite = st.floats(-5, 5, allow_nan=False, allow_infinity=False)


@st.composite
def camera_paths(draw):
    times = sorted(draw(st.sets(st.floats(0, 6, allow_nan=False), min_size=1, max_size=5)))
    keyframes = [Keyframe(t, truck=draw(finite), pedestal=draw(finite), pan=draw(finite), tilt=draw(finite),
                          roll=draw(st.floats(-180, 180)), zoom=draw(st.floats(0.25, 4)),
                          easing=draw(st.sampled_from(sorted(EASINGS)))) for t in times]
    speed = Speed(**{axis: draw(st.floats(-1, 1)) for axis in AXES})
    return CameraPath(tuple(keyframes), speed=speed, strength=draw(st.floats(0, 3)),
                      after_last=draw(st.sampled_from(["hold", "continue"])),
                      label=draw(st.none() | st.text(max_size=10)))


@settings(max_examples=50, deadline=None)
@given(camera_paths())
def test_json_round_trip_is_exact(path):
    text = json.dumps(path.to_dict())
    again = CameraPath.from_dict(json.loads(text))
    assert again == path and again.label == path.label
    np.testing.assert_array_equal(again.per_frame(12, 5), path.per_frame(12, 5))


@settings(max_examples=50, deadline=None)
@given(st.sampled_from(["pan_left", "orbit", "crane_up", "static"]), st.floats(0, 10), st.floats(0, 10))
def test_presets_round_trip_in_compact_form(name, intensity, strength):
    path = CameraPath.preset(name, intensity).with_strength(strength)
    data = json.loads(json.dumps(path.to_dict()))
    assert data["preset"] == name and "keyframes" not in data
    again = CameraPath.from_dict(data)
    assert again == path and again.describe() == path.describe()


def test_a_changed_preset_is_not_written_as_the_preset():
    edited = dataclasses.replace(CameraPath.preset("pan_left"), keyframes=(Keyframe(0), Keyframe(1, roll=5)))
    data = edited.to_dict()
    assert "preset" not in data and CameraPath.from_dict(data) == edited


# ---- bad input -----------------------------------------------------------------------------

GOOD = [{"time": 0.0}, {"time": 1.0, "pan": 0.5}, {"time": 2.0, "zoom": 1.5}]


def with_change(index, **change):
    frames = [dict(k) for k in GOOD]
    frames[index].update(change)
    return {"keyframes": frames}


@pytest.mark.parametrize("data, field", [
    (with_change(2, time=0.5), "camera.keyframes[2].time"),            # out of order
    (with_change(1, time=0.0), "camera.keyframes[1].time"),            # duplicated time
    (with_change(0, time=-1.0), "camera.keyframes[0].time"),
    (with_change(1, pan=float("nan")), "camera.keyframes[1].pan"),
    (with_change(1, roll=float("inf")), "camera.keyframes[1].roll"),
    (with_change(2, zoom=0.0), "camera.keyframes[2].zoom"),
    (with_change(2, zoom=-2.0), "camera.keyframes[2].zoom"),
    (with_change(1, easing="bouncy"), "camera.keyframes[1].easing"),
    (with_change(1, wobble=1.0), "camera.keyframes[1].wobble"),
    (with_change(1, pan="left"), "camera.keyframes[1].pan"),
    ({"keyframes": GOOD, "duration": 1.5}, "camera.keyframes[2].time"),  # outside the clip
    ({"keyframes": []}, "camera.keyframes"),
    ({"keyframes": GOOD, "speed": {"pan": float("nan")}}, "camera.speed.pan"),
    ({"keyframes": GOOD, "speed": {"dolly": 1.0}}, "camera.speed.dolly"),
    ({"keyframes": GOOD, "strength": -0.5}, "camera.strength"),
    ({"keyframes": GOOD, "after_last": "loop"}, "camera.after_last"),
    ({"keyframes": GOOD, "colour": "red"}, "camera.colour"),
    ({"runway_nb_camera": 99, "keyframes": GOOD}, "camera.runway_nb_camera"),
    ({"preset": "pan_left", "intensity": -1}, "camera.intensity"),
])
def test_bad_paths_are_refused_with_the_field_named(data, field):
    snapshot = json.dumps(data)
    with pytest.raises(InvalidInput) as err:
        CameraPath.from_dict(data)
    assert err.value.field == field
    assert "allowed" in str(err.value) or "must" in str(err.value)
    assert json.dumps(data) == snapshot   # the caller's dict is untouched


@pytest.mark.parametrize("data, field", [
    ({"keyframes": [{"time": 10**400}]}, "camera.keyframes[0].time"),
    (with_change(1, pan=-10**400), "camera.keyframes[1].pan"),
    ({"keyframes": GOOD, "speed": {"roll": 10**400}}, "camera.speed.roll"),
    ({"keyframes": GOOD, "strength": 10**400}, "camera.strength"),
    ({"keyframes": GOOD, "duration": 10**400}, "camera.duration"),
])
def test_an_integer_too_big_for_a_float_is_refused_by_name(data, field):
    """10**400 is a finite number no float holds: math.isfinite raised a raw OverflowError."""
    with pytest.raises(InvalidInput) as err:
        CameraPath.from_dict(data)
    assert err.value.field == field and err.value.value in (10**400, -10**400)
    assert "must be ≥" in str(err.value) or "must be >" in str(err.value)


def test_check_number_refuses_an_integer_too_big_for_a_float_even_without_limits():
    from runway_nb.errors import check_number

    for integer in (False, True):
        with pytest.raises(InvalidInput, match="at most 1.798e[+]308 in size") as err:
            check_number("x", 10**400, integer=integer)
        assert err.value.field == "x"
    with pytest.raises(InvalidInput, match="≤ 10"):
        check_number("x", 10**400, high=10, integer=True)
    assert check_number("x", 10**300, integer=True) == 10**300 and check_number("x", np.int64(3)) == 3


def test_errors_name_the_callers_field():
    with pytest.raises(InvalidInput) as err:
        CameraPath.from_dict(with_change(2, time=0.5), field="shots[3].camera")
    assert err.value.field == "shots[3].camera.keyframes[2].time"


def test_zoom_error_says_what_zoom_means():
    with pytest.raises(InvalidInput, match="1 = no zoom"):
        Keyframe(0.0, zoom=0.0)


@pytest.mark.parametrize("zoom", [1e-300, 9.9e-5, 2e4, np.float32(1e-6), pytest.param(10**400, id="10**400")])
def test_a_keyframe_zoom_outside_the_documented_range_is_refused_at_the_keyframe(zoom):
    """1e-300 was taken and only refused at resolve, without naming the keyframe (10**400 was an
    OverflowError): the keyframe is refused with the range every per-frame check holds it to."""
    with pytest.raises(InvalidInput) as err:
        CameraPath([{"time": 0}, {"time": 0.5, "zoom": zoom}])
    assert err.value.field == "camera.keyframes[1].zoom" and "from 1/10000 to 10000" in str(err.value)
    for edge in (1e-4, 1e4, np.float32(2)):
        assert Keyframe(0.0, zoom=edge).zoom == float(edge)


@pytest.mark.parametrize("n_frames, fps", [(0, 8), (2.5, 8), (8, 0), (8, float("nan"))])
def test_per_frame_refuses_bad_sizes(n_frames, fps):
    with pytest.raises(InvalidInput):
        CameraPath.static().per_frame(n_frames, fps)


# ---- display -------------------------------------------------------------------------------

def test_describe_and_repr():
    assert CameraPath.preset("pan_left", 0.5).describe() == "pan_left ×0.5"
    assert CameraPath.preset("zoom_in").with_strength(0.5).describe() == "zoom_in ×1, strength 0.5"
    custom = CameraPath([{"time": 0}, {"time": 1, "pan": 1}, {"time": 2}])
    assert custom.describe() == "custom path, 3 keyframes"
    assert repr(custom) == "CameraPath('custom path, 3 keyframes')"
    assert CameraPath.from_axes(pan=-5, zoom=2).describe() == "pan -5, zoom +2"


@pytest.mark.parametrize("path", [CameraPath.static(), CameraPath.preset("orbit"),
                                  CameraPath([{"time": 0}, {"time": 3, "roll": 30, "zoom": 2}])])
def test_svg_plot_is_well_formed_and_self_contained(path):
    svg = path._repr_svg_()
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg") and root.findall(".//{http://www.w3.org/2000/svg}polyline")
    assert "<script" not in svg and "http" not in svg.replace("http://www.w3.org/2000/svg", "")
    assert path.describe() in path._repr_html_()


def test_a_path_moves_unless_it_is_locked_off_for_every_frame():
    from runway_nb.camera.geometry import camera_moves

    assert camera_moves(CameraPath.preset("pan_left", 0.1).per_frame(16, 8))
    assert camera_moves(CameraPath.preset("zoom_in").per_frame(16, 8))
    assert not camera_moves(CameraPath.preset("static").per_frame(16, 8))
    assert not camera_moves(CameraPath.preset("pan_left").per_frame(1, 8))   # one frame: nowhere to go
    assert not camera_moves(None)                                             # no camera given


@pytest.mark.parametrize("easing", [["linear"], {}, 3, None])
def test_an_easing_that_is_not_a_name_is_refused_by_name(easing):
    with pytest.raises(InvalidInput) as err:
        CameraPath.from_dict({"keyframes": [{"time": 0, "easing": easing}]})
    assert "easing" in err.value.field and "ease_in_out" in str(err.value)


def test_a_slider_move_too_long_for_the_zoom_range_names_seconds():
    with pytest.raises(InvalidInput) as err:
        CameraPath.from_axes(zoom=10, seconds=1700)            # e^(speed × 1700) overflows
    assert err.value.field == "camera.seconds" and "10000×" in str(err.value)
    assert CameraPath.from_axes(zoom=10, seconds=20).per_frame(2, 1 / 20)[-1, 2] < 1e4


def test_a_drift_that_leaves_the_range_over_the_clip_is_refused_when_the_clip_is_known(shipped_weights):
    """Fine over half a second, 1e260× (then inf) over a minute: refused once the length is known."""
    import runway_nb as rn
    from runway_nb.shot import Shot

    fast = CameraPath(speed=Speed(zoom=10))
    fast.check_over(4, 8)                                   # half a second: e^3.75
    with pytest.raises(InvalidInput) as err:
        fast.check_over(480, 8)
    assert err.value.field == "camera" and "480 frames at 8 fps" in str(err.value)
    engine = rn.load_engine("tiny")
    assert engine.resolve(Shot("a", seconds=0.5, camera=fast)).camera == fast
    with pytest.raises(InvalidInput, match="shorter"):
        engine.resolve(Shot("a", seconds=60, camera=fast))


def test_keyframes_past_the_end_of_a_new_clip_are_refused_when_the_clip_is_known(shipped_weights):
    """A move that would not be seen is bad input (the issue's "times outside the clip");
    seconds that round to whole frames, an extension and a Deforum run are not."""
    import runway_nb as rn
    from runway_nb.shot import Shot

    engine = rn.load_engine("tiny")
    long = {"keyframes": [{"time": 0}, {"time": 5, "pan": 1}]}
    with pytest.raises(InvalidInput) as err:
        engine.resolve(Shot("a", seconds=2, camera=long))
    assert err.value.field == "camera.keyframes[1].time" and "0 … 2 s" in str(err.value)
    with pytest.raises(InvalidInput, match="camera.duration=5"):
        engine.resolve(Shot("a", seconds=2, camera={**long, "keyframes": long["keyframes"][:1], "duration": 5}))
    typed = {"keyframes": [{"time": 0}, {"time": 1.3, "pan": 1}], "duration": 1.3}    # 10 frames: 1.25 s
    assert engine.resolve(Shot("a", seconds=1.3, camera=typed)).frames == 10
    assert engine.resolve(Shot("a", seconds=2, camera=long, parent="0123456789ab")).camera is not None
    assert engine.resolve(Shot("a", seconds=2, camera="zoom: 0:(1.0), 24:(1.04)")).frames == 16


def test_a_path_that_continues_is_refused_past_the_clip_unless_it_is_a_deforum_run():
    """after_last='continue' skipped the check meant for Deforum runs, so a user's keyframe at
    10 s in a 1-s clip was taken; Deforum runs (120 frames, or the max_frames given, also
    after a trip through JSON) are still read over any clip, as they run on by design."""
    from runway_nb.camera import as_camera_path

    past = CameraPath(keyframes=[{"time": 0}, {"time": 10, "pan": 1}], after_last="continue")
    with pytest.raises(InvalidInput) as err:
        past.check_over(8, 8)
    assert err.value.field == "camera.keyframes[1].time" and err.value.value == 10.0
    assert "0 … 1 s (8 frames at 8 fps)" in str(err.value)
    drawn = CameraPath(keyframes=[{"time": 0}, {"time": 0.5, "pan": 1}], duration=10, after_last="continue")
    with pytest.raises(InvalidInput, match="camera.duration=10"):
        drawn.check_over(8, 8)
    past.check_over(8, 8, from_start=False)                  # an extension runs over what it continues
    CameraPath(keyframes=[{"time": 0}, {"time": 1, "pan": 1}], after_last="continue").check_over(8, 8)
    for text in ("zoom: 0:(1.0), 24:(1.04)", "max_frames: 120; zoom: 0:(1.01)", "max_frames: 60; angle: 0:(1)"):
        run = as_camera_path(text)
        assert run.keyframes[-1].time > 1
        run.check_over(8, 8)
        CameraPath.from_dict(json.loads(json.dumps(run.to_dict()))).check_over(8, 8)


@settings(max_examples=60, deadline=None)
@given(st.floats(0.0, 3.0), st.integers(2, 40), st.sampled_from(sorted(EASINGS)), st.sampled_from(["hold", "continue"]),
       st.floats(0.2, 2.0))
def test_a_path_read_from_a_later_time_gives_the_same_frames_from_there(start_frame, n, easing, after, strength):
    """from_time(t) is what a continuation follows: its frame k is the path's frame
    t·fps + k, relative to the frame at t — for any easing, drift and after-last rule."""
    fps = 8.0
    start = round(start_frame * fps) / fps
    path = CameraPath(keyframes=(Keyframe(0.0), Keyframe(0.75, truck=0.4, roll=10, easing=easing),
                                 Keyframe(2.0, pan=-0.3, tilt=0.2, zoom=1.3, easing=easing)),
                      speed=Speed(pedestal=0.05), after_last=after, strength=strength)
    later = path.from_time(start, n, fps)
    whole = path.per_frame_axes(int(start * fps) + n, fps)[int(start * fps):]
    want = whole.copy()
    want[:, :5] -= whole[0, :5]
    want[:, 5] /= whole[0, 5]
    np.testing.assert_allclose(later.per_frame_axes(n, fps), want, rtol=1e-9, atol=1e-9)
    assert CameraPath.from_dict(json.loads(json.dumps(later.to_dict()))) == later


def test_a_constant_speed_path_read_later_is_itself():
    path = CameraPath.preset("pan_left", 1.5)
    assert path.from_time(1.25, 16, 8) is path
