"""MotionBrush: validation, motion per frame, exact JSON, inside a Shot, from the pad and files."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from runway_nb import Shot
from runway_nb.camera.brush import MAX_BRUSHES, MotionBrush, as_brushes, brushes_from_files
from runway_nb.errors import InvalidInput
from runway_nb.ui.pad_logic import BrushPadLogic


def disc(h=64, w=64, cx=20, cy=30, r=6) -> np.ndarray:
    ys, xs = np.mgrid[0:h, 0:w]
    return (xs - cx) ** 2 + (ys - cy) ** 2 <= r * r


# ---- validation ------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, field, words", [
    ({}, "brush.mask", "exactly one region"),
    ({"mask": disc(), "box": (0, 0, 1, 1)}, "brush.mask", "exactly one region"),
    ({"mask": np.zeros((8, 8), bool)}, "brush.mask", "cover part of the frame"),
    ({"mask": np.full((8, 8), 2)}, "brush.mask", "booleans"),
    ({"mask": np.ones(8, bool)}, "brush.mask", "2-D"),
    ({"mask": [[1, 0], [1]]}, "brush.mask", "every row the same length"),   # was numpy's ValueError
    ({"box": np.array(0.5)}, "brush.box", "x0, y0, x1, y1"),                  # was len() TypeError
    ({"box": (0.5, 0.1, 0.2, 0.9)}, "brush.box", "x1 > x0"),
    ({"box": (0, 0, 1.5, 1)}, "brush.box", "≤ 1"),
    ({"box": (0, 0, 1)}, "brush.box", "x0, y0, x1, y1"),
    ({"box": (0, 0, 1, 1), "horizontal": float("nan")}, "brush.horizontal", "finite"),
    ({"box": (0, 0, 1, 1), "vertical": 50}, "brush.vertical", "≤ 10"),
    ({"box": (0, 0, 1, 1), "proximity": 2}, "brush.proximity", "≤ 1"),
    ({"box": (0, 0, 1, 1), "ambient": -0.1}, "brush.ambient", "≥ 0"),
    ({"box": (0, 0, 1, 1), "trajectory": [(0.1, 0.1)]}, "brush.trajectory", "2 to"),
    ({"box": (0, 0, 1, 1), "trajectory": [(0.1, 0.1), (0.2, float("inf"))]}, "brush.trajectory[1].y", "finite"),
    ({"box": (0, 0, 1, 1), "trajectory": [(0, 0), (1, 1)], "horizontal": 0.1}, "brush.trajectory", "not both"),
])
def test_bad_brushes_name_the_field_and_what_is_allowed(kwargs, field, words):
    with pytest.raises(InvalidInput) as err:
        MotionBrush(**kwargs)
    assert err.value.field == field and words in str(err.value)


def test_a_mask_is_copied_and_frozen():
    mask = disc()
    brush = MotionBrush(mask=mask, horizontal=0.2)
    mask[:] = False                                   # the caller's array changing later ...
    assert brush.mask.any()                           # ... does not change the brush
    with pytest.raises(ValueError):
        brush.mask[0, 0] = True
    assert MotionBrush(mask=disc().astype(np.uint8)).mask.dtype == bool   # 0 / 1 is fine


def test_a_mask_must_match_the_clip_size():
    brush = MotionBrush(mask=disc(32, 48))
    assert brush.region(48, 32).sum() == disc(32, 48).sum()
    with pytest.raises(InvalidInput, match="48×32 mask.*64×64"):
        brush.region(64, 64)
    with pytest.raises(InvalidInput) as err:
        brush.check_size(64, 64, field="brushes[2]")
    assert err.value.field == "brushes[2].mask"


# ---- motion ----------------------------------------------------------------------------------

def test_speeds_become_pixels_per_frame_in_screen_directions():
    brush = MotionBrush(box=(0.2, 0.2, 0.4, 0.4), horizontal=0.25, vertical=0.5, proximity=0.3)
    m = brush.per_frame(9, 8.0, 64, 32)                # 1 s
    np.testing.assert_allclose(m[0], [0, 0, 1])
    np.testing.assert_allclose(m[-1], [0.25 * 64, -0.5 * 32, np.exp(0.3)])   # up = smaller y


def test_a_trajectory_is_followed_at_constant_speed_to_its_end():
    brush = MotionBrush(box=(0.1, 0.4, 0.3, 0.6), trajectory=[(0.2, 0.5), (0.6, 0.5), (0.6, 0.1)])
    m = brush.per_frame(17, 8.0, 100, 100)
    np.testing.assert_allclose(m[-1, :2], [40, -40])
    np.testing.assert_allclose(m[8, :2], [40, 0])      # half way along its length: the corner
    steps = np.hypot(*np.diff(m[:, :2], axis=0).T)
    np.testing.assert_allclose(steps, steps[0])


def test_ambient_jitter_is_small_starts_still_and_comes_from_the_seed():
    brush = MotionBrush(box=(0, 0, 1, 1), ambient=1.0)
    a, b = brush.per_frame(40, 8.0, 64, 64, seed=1), brush.per_frame(40, 8.0, 64, 64, seed=2)
    np.testing.assert_allclose(a[0], [0, 0, 1])
    assert 0 < np.abs(a[:, :2]).max() <= 0.03 * 64 * 2
    np.testing.assert_array_equal(a, brush.per_frame(40, 8.0, 64, 64, seed=1))
    assert not np.array_equal(a, b)


# ---- JSON and the Shot ------------------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(mask=arrays(bool, st.tuples(st.integers(1, 12), st.integers(1, 12))).filter(lambda m: m.any()),
       h=st.floats(-2, 2, allow_nan=False), v=st.floats(-2, 2, allow_nan=False),
       ambient=st.floats(0, 1, allow_nan=False))
def test_json_round_trip_is_exact(mask, h, v, ambient):
    brush = MotionBrush(mask=mask, horizontal=h, vertical=v, ambient=ambient)
    again = MotionBrush.from_dict(json.loads(json.dumps(brush.to_dict())))
    assert again == brush and np.array_equal(again.mask, mask)


def test_shot_round_trip_with_five_brushes():
    brushes = [MotionBrush(mask=disc(cx=10 + 10 * i), horizontal=0.1 * i) for i in range(4)]
    brushes.append(MotionBrush(box=(0.6, 0.6, 0.9, 0.9), trajectory=[(0.7, 0.7), (0.8, 0.2)], ambient=0.3))
    shot = Shot("two balls", seed=1, brushes=brushes)
    assert isinstance(shot.brushes, tuple) and len(shot.brushes) == 5
    again = Shot.from_json(shot.to_json())
    assert again == shot and again.brushes[4].trajectory == ((0.7, 0.7), (0.8, 0.2))
    assert shot != shot.replace(brushes=brushes[:4])
    assert "brushes" not in Shot("a ball", seed=1).to_dict()      # old shot files are unchanged
    assert "trajectory of 2 points" in repr(shot)


def test_a_shot_takes_dicts_and_refuses_bad_brushes_naming_which():
    shot = Shot("a ball", seed=1, brushes=[{"box": [0, 0, 0.5, 0.5], "horizontal": 0.2}])
    assert shot.brushes == (MotionBrush(box=(0, 0, 0.5, 0.5), horizontal=0.2),)
    with pytest.raises(InvalidInput) as err:
        Shot("a ball", brushes=[{"box": [0, 0, 1, 1]}, {"box": [0, 0, 1, 1], "speed": 3}])
    assert err.value.field == "brushes[1].speed" and "allowed" in str(err.value)
    with pytest.raises(InvalidInput, match="at most 8"):
        Shot("a ball", brushes=[MotionBrush(box=(0, 0, 1, 1))] * (MAX_BRUSHES + 1))
    with pytest.raises(InvalidInput, match="brushes"):
        Shot("a ball", brushes="left ball")
    with pytest.raises(InvalidInput) as err:
        Shot("a ball", brushes=[{"mask": {"width": 2, "height": 2, "runs": [1, 1]}}])
    assert err.value.field == "brushes[0].mask.runs"


def test_generate_refuses_brushes_that_are_not_a_list_by_name_as_a_shot_does():
    # before: `brushes or ()` raised numpy's "truth value of an array is ambiguous" for an
    # array of brushes, and took False / 0 / "" silently as no brushes
    import runway_nb as rn

    brush = MotionBrush(box=(0, 0, 0.5, 0.5), horizontal=0.1)
    for value in (np.array([brush, brush]), (b for b in [brush]), False, ""):
        with pytest.raises(InvalidInput) as err:              # refused before any engine loads
            rn.generate("a red ball", brushes=value, frames=4, steps=2, progress=False)
        assert err.value.field == "brushes" and "list of MotionBrush" in str(err.value)
    with pytest.raises(InvalidInput, match=r"list\(\.\.\.\)"):
        Shot("a ball", brushes=np.array([brush, brush]))


# ---- where brushes come from -------------------------------------------------------------------

def test_the_brush_pad_gives_motion_brushes():
    pad = BrushPadLogic(clip_width=64, clip_height=64, duration=2.0)
    pad.tool = "box"
    pad.pointer_down(32, 32), pad.pointer_up(96, 128)          # pad pixels: 256 × 256
    pad.tool = "arrow"
    pad.pointer_down(60, 80), pad.pointer_up(188, 80)          # half the frame to the right
    pad.add_brush()
    pad.tool = "paint"
    pad.pointer_down(200, 200), pad.pointer_up(200, 200)
    pad.tool = "path"
    for x, y in ((200, 200), (220, 180), (240, 200)):
        (pad.pointer_down if x == 200 else pad.pointer_move)(x, y)
    pad.pointer_up(240, 200)
    box, painted = pad.brushes()
    assert box.box == (0.125, 0.125, 0.375, 0.5) and box.horizontal == pytest.approx(0.25)
    assert painted.mask.shape == (64, 64) and painted.trajectory[0] == pytest.approx((200 / 256, 200 / 256))
    Shot("two balls", brushes=pad.brushes())                   # what a shot takes


def test_brush_files(tmp_path):
    one, many = tmp_path / "one.json", tmp_path / "many.json"
    one.write_text(json.dumps(MotionBrush(mask=disc(), vertical=0.2).to_dict()))
    many.write_text(json.dumps({"brushes": [{"box": [0, 0, 0.3, 0.3]}, {"box": [0.5, 0.5, 1, 1]}]}))
    assert len(brushes_from_files([one, many])) == 3 and brushes_from_files(None) == ()
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(InvalidInput, match="line 1"):
        brushes_from_files([bad])
    with pytest.raises(InvalidInput, match="readable"):
        brushes_from_files([tmp_path / "missing.json"])
    assert as_brushes(None) == ()


def test_a_shots_brush_mask_cannot_be_made_writable_again():
    from runway_nb.shot import Shot

    painted = np.zeros((64, 64), bool)
    painted[10:20, 10:20] = True
    shot = Shot("a", brushes=[MotionBrush(mask=painted, horizontal=3)])
    before = shot.to_json()
    painted[:] = True                                       # the caller's array is not the brush's
    with pytest.raises(ValueError):
        shot.brushes[0].mask.flags.writeable = True
    assert shot.to_json() == before


def test_a_clips_json_gives_its_shots_brushes_and_a_films_is_refused_by_name(tmp_path):
    # before: the clip's JSON was read as one brush, "brushes[0].fps=8.0 is not allowed: is
    # not a brush field", and a film's likewise, naming none of them
    from runway_nb import Clip, Sequence

    frames = np.zeros((8, 64, 64, 3), np.uint8)
    brushed = Shot("a red ball", frames=8, fps=8, brushes=[MotionBrush(box=(0.3, 0.3, 0.6, 0.6), horizontal=0.3),
                                                          MotionBrush(mask=disc(), vertical=-0.2)])
    clip = Clip(frames, 8, shot=brushed)
    clip.save(tmp_path / "brushed.gif")
    read = brushes_from_files([tmp_path / "brushed.json"])
    assert [b.to_dict() for b in read] == [b.to_dict() for b in brushed.brushes]

    Clip(frames, 8, shot=Shot("a red ball", frames=8, fps=8)).save(tmp_path / "plain.gif")
    with pytest.raises(InvalidInput, match="it is a clip's JSON whose shot has none") as refused:
        brushes_from_files([tmp_path / "plain.json"])
    assert refused.value.field == "brush" and refused.value.value == str(tmp_path / "plain.json")

    Sequence([clip]).save(tmp_path / "film.json")
    with pytest.raises(InvalidInput, match="it is a film's JSON") as refused:
        brushes_from_files([tmp_path / "film.json"])
    assert refused.value.value == str(tmp_path / "film.json")


def test_brush_files_that_are_not_utf8_hold_no_brush_or_are_a_camera_path_are_refused_by_name(tmp_path):
    # before: a Latin-1 file raised a raw UnicodeDecodeError; [] and {"brushes": []} gave no
    # brush at all (a render without one); a camera path was "brushes[0].keyframes is not a brush field"
    ok = tmp_path / "ok.json"
    ok.write_text(json.dumps({"box": [0, 0, 0.5, 0.5], "horizontal": 0.1}))
    latin1 = tmp_path / "latin1.json"
    latin1.write_bytes('{"box": [0, 0, 0.5, 0.5], "note": "café"}'.encode("latin-1"))
    with pytest.raises(InvalidInput, match="UTF-8") as err:
        brushes_from_files([ok, latin1])
    assert err.value.field == "brush" and err.value.value == str(latin1)
    for n, text in enumerate(["[]", '{"brushes": []}', '{"brushes": null}']):
        empty = tmp_path / f"empty{n}.json"
        empty.write_text(text)
        with pytest.raises(InvalidInput, match="at least one motion brush") as err:
            brushes_from_files([ok, empty])
        assert err.value.field == "brush" and err.value.value == str(empty)
    for n, camera in enumerate([{"keyframes": [{"time": 0}, {"time": 1, "pan": 1}]}, {"zoom": "0:(1.01)"}]):
        path = tmp_path / f"camera{n}.json"
        path.write_text(json.dumps(camera))
        with pytest.raises(InvalidInput, match="it is a camera path.*--camera") as err:
            brushes_from_files([path])
        assert err.value.value == str(path)
    text = tmp_path / "text.json"
    text.write_text('"hello"')
    with pytest.raises(InvalidInput, match="must hold motion brushes") as err:
        brushes_from_files([text])
    assert err.value.value == str(text)


def test_a_bad_brush_in_one_of_several_files_names_that_file(tmp_path):
    ok, bad = tmp_path / "ok.json", tmp_path / "bad.json"
    ok.write_text(json.dumps([{"box": [0, 0, 0.5, 0.5]}, {"box": [0.5, 0.5, 1, 1]}]))
    bad.write_text('{"box": [0, 0, 0.5, 0.5], "horizontal": NaN}')
    with pytest.raises(InvalidInput, match=re.escape(f"in the brush file {bad}")) as err:
        brushes_from_files([ok, bad])
    assert err.value.field == "brushes[0].horizontal"       # its place in that file, not in all of them
    bad.write_text('{"brushes": "left ball"}')
    with pytest.raises(InvalidInput, match=re.escape(f"in the brush file {bad}")) as err:
        brushes_from_files([ok, bad])
    assert err.value.field == "brushes"


def test_a_brush_file_with_a_byte_order_mark_is_read(tmp_path):
    """Notepad saves UTF-8 with a byte-order mark: refused as invalid JSON before."""
    brush = MotionBrush(box=(0.1, 0.1, 0.5, 0.5), horizontal=2)
    marked = tmp_path / "notepad.json"
    marked.write_bytes(b"\xef\xbb\xbf" + json.dumps([brush.to_dict()]).encode())
    assert brushes_from_files([marked]) == (brush,)
