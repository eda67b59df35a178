"""Every form a user may type for a camera move, and clear refusals for the rest."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from runway_nb.camera import CameraPath, as_camera_path
from runway_nb.errors import InvalidInput
from runway_nb.shot import Shot

CUSTOM = CameraPath([{"time": 0}, {"time": 1.5, "pan": -0.3, "zoom": 1.2, "easing": "ease_in_out"}])
DEFORUM = {"zoom": "0:(1.0), 24:(1.04)", "translation_x": "0:(0)", "angle": "0:(0)"}


def test_a_camera_path_passes_through_unchanged():
    assert as_camera_path(CUSTOM) is CUSTOM


def test_our_dict_and_its_json_and_a_json_file(tmp_path):
    assert as_camera_path(CUSTOM.to_dict()) == CUSTOM
    assert as_camera_path(json.dumps(CUSTOM.to_dict())) == CUSTOM
    file = tmp_path / "move.json"
    file.write_text(json.dumps(CUSTOM.to_dict()))
    assert as_camera_path(file) == CUSTOM
    assert as_camera_path(str(file)) == CUSTOM


def test_a_deforum_dict_its_json_and_a_deforum_settings_file(tmp_path):
    direct = CameraPath.from_deforum(DEFORUM, fps=15, width=512, height=512)
    assert as_camera_path(DEFORUM) == direct
    assert as_camera_path(json.dumps(DEFORUM)) == direct
    settings = {**DEFORUM, "animation_mode": "2D", "W": 640, "H": 384, "fps": 12, "max_frames": 30,
                "strength_schedule": "0: (0.65)", "translation_z": "0:(10)"}   # other keys are Deforum's own
    file = tmp_path / "deforum_settings.json"
    file.write_text(json.dumps(settings))
    assert as_camera_path(file) == CameraPath.from_deforum(DEFORUM, fps=12, width=640, height=384, n_frames=30)


def test_deforum_schedules_as_text_as_a_user_pastes_them():
    """'KEY: SCHEDULE' parts, ';' or a line apart, as on the command line; an expression with
    a '/' is a schedule, not a file path."""
    text = "zoom: 0:(1.0), 24:(1.04); translation_x: 0:(0)\nangle: 0:(0)"
    assert as_camera_path(text) == CameraPath.from_deforum(DEFORUM, fps=15, width=512, height=512)
    wobble = {"zoom": "0: (1.0025+0.002*sin(1.25*3.14*t/30))"}
    assert as_camera_path("zoom: 0: (1.0025+0.002*sin(1.25*3.14*t/30))") == as_camera_path(wobble)
    assert Shot("a red ball", camera="zoom: 0:(1.04)").camera == as_camera_path({"zoom": "0:(1.04)"})


def test_schedule_text_may_name_the_deforum_run_it_was_written_for():
    """As in a settings file: 'fps: 12; W: 640; H: 384; max_frames: 30' beside the schedules,
    so a schedule from a 12 fps run is not read at Deforum's 15 fps (on the CLI too)."""
    text = "fps: 12; W: 640; H: 384; max_frames: 30\nzoom: 0:(1.0), 24:(1.04); translation_x: 0:(0); angle: 0:(0)"
    settings_file_path = CameraPath.from_deforum(DEFORUM, fps=12, width=640, height=384, n_frames=30)
    assert as_camera_path(text) == settings_file_path
    assert as_camera_path("translation_x: 0:(4); width: 640; height: 384; fps: 12") == \
        CameraPath.from_deforum({"translation_x": "0:(4)"}, fps=12, width=640, height=384)
    at_15 = as_camera_path("translation_x: 0:(4)").per_frame(2, 1)[1, 0]
    assert as_camera_path("fps: 30; translation_x: 0:(4)").per_frame(2, 1)[1, 0] == pytest.approx(2 * at_15)


def test_a_windows_file_on_drive_w_or_h_is_a_file_not_deforum_text():
    """'W' and 'H' are Deforum's width and height, and drive letters too."""
    for path in (r"W:\moves\pan.json", "H:/moves/pan.JSON"):
        with pytest.raises(InvalidInput) as err:
            as_camera_path(path)                   # no such file here: refused as a file
        assert err.value.field == "camera" and "readable .json file" in str(err.value)


@pytest.mark.parametrize("text, where, said", [
    ("zoom: 0:(1.0), 24:(1.04", "camera.zoom", "never closed"),   # the schedule's own error
    ("zoom: 0:(1.04); colour: 0:(1)", "camera", "KEY one of zoom, angle, translation_x"),
    ("zoom: 0:(1.04); zoom: 0:(1.02)", "camera", "'zoom' comes twice"),
    ("fps: fast; zoom: 0:(1.04)", "camera.fps", "must be a plain number"),      # the run's settings
    ("fps: 0.5; zoom: 0:(1.04)", "camera.fps", "≥ 1 and ≤ 240"),   # one range for API, pad and CLI
    ("W: 4; zoom: 0:(1.04)", "camera.width", "≥ 8 and ≤ 16384"),
    ("fps: 30; H: 384", "camera", "at least one 'KEY: SCHEDULE'"),  # settings and no schedule
    ("fps: 30; fps: 24; zoom: 0:(1.04)", "camera", "'fps' comes twice"),
    ("W: 768; width: 640; zoom: 0:(1.04)", "camera", "'W' and 'width' both set the width"),
])
def test_bad_schedule_text_names_the_part_that_is_wrong(text, where, said):
    with pytest.raises(InvalidInput) as err:
        as_camera_path(text)
    assert err.value.field == where and said in str(err.value)


def test_a_bare_schedule_name_is_taken_for_a_preset_and_the_presets_are_listed():
    with pytest.raises(InvalidInput) as err:
        as_camera_path("zoom")                     # meant zoom_in? the presets say
    assert err.value.field == "camera" and "zoom_in" in str(err.value)


def test_deforum_dict_zoom_grows_as_deforum_would():
    cam = as_camera_path({"zoom": "0:(1.04)"}).per_frame(4, 15)
    np.testing.assert_allclose(cam[:, 2], 1.04 ** np.arange(4))


def test_3d_deforum_settings_are_refused_not_misread():
    with pytest.raises(InvalidInput) as err:
        as_camera_path({**DEFORUM, "animation_mode": "3D"})
    assert err.value.field == "camera.animation_mode"


@pytest.mark.parametrize("value", [42, 1.5, ["pan_left"], ("pan_left", 1), b"pan_left", None, "wobble",
                                   {"colour": "red"}, "[1, 2]", '"pan_left"'])
def test_anything_else_is_refused_with_the_allowed_forms_and_preset_names(value):
    with pytest.raises(InvalidInput) as err:
        as_camera_path(value)
    message = str(err.value)
    assert err.value.field == "camera"
    assert "pan_left:0.5" in message and "Deforum" in message and "orbit" in message


def test_errors_name_the_callers_field():
    with pytest.raises(InvalidInput) as err:
        as_camera_path({"zoom": "0:(1.0), 24:(1.04"}, field="shot.camera")
    assert err.value.field == "shot.camera.zoom" and "never closed" in str(err.value)


def test_bad_json_and_missing_files_say_so(tmp_path):
    with pytest.raises(InvalidInput, match="valid JSON"):
        as_camera_path('{"preset": "pan_left",}')
    with pytest.raises(InvalidInput, match="readable .json file"):
        as_camera_path(str(tmp_path / "nowhere.json"))
    with pytest.raises(InvalidInput, match="readable .json file"):
        as_camera_path(Path(tmp_path))


def test_shot_takes_any_camera_form_and_round_trips_through_json():
    shot = Shot("a red ball on a green field", seed=1, camera="pan_left:0.5")
    assert shot.camera == CameraPath.preset("pan_left", 0.5)
    assert Shot.from_json(shot.to_json()) == shot
    deforum_shot = Shot("a red ball", seed=1, camera=DEFORUM)
    again = Shot.from_json(deforum_shot.to_json())
    assert again == deforum_shot
    np.testing.assert_array_equal(again.camera.per_frame(16, 8), deforum_shot.camera.per_frame(16, 8))
    with pytest.raises(InvalidInput, match="camera"):
        Shot("a red ball", camera="pan_sideways")


def test_importing_the_camera_layer_pulls_in_neither_torch_nor_widgets():
    code = ("import sys, runway_nb.camera; "
            "print(sorted(m for m in ('torch', 'ipywidgets', 'matplotlib') if m in sys.modules))")
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("text", ["translation_z: 0:(1)", "rotation_3d_y: 0:(1)", "zoomm: 0:(1.0)",
                                  "zoom 0:(1.0)"])
def test_one_schedule_with_a_key_we_do_not_read_is_named_as_a_schedule(text):
    """Not mistaken for a preset with a bad intensity: the message lists the keys read."""
    with pytest.raises(InvalidInput) as err:
        as_camera_path(text)
    assert err.value.field == "camera" and "intensity" not in str(err.value)
    assert "translation_x" in str(err.value) and "'KEY: SCHEDULE'" in str(err.value)


def test_a_camera_file_that_is_not_json_is_named_by_its_path(tmp_path):
    bad = tmp_path / "pan.json"
    bad.write_text('{"zoom": \n')
    with pytest.raises(InvalidInput) as err:
        as_camera_path(str(bad))
    assert err.value.value == str(bad) and "line 2" in str(err.value)


def test_a_camera_file_that_is_not_utf8_is_named_by_its_path(tmp_path):
    """A file saved as Latin-1 was a raw UnicodeDecodeError; it is refused by its path."""
    bad = tmp_path / "latin1.json"
    bad.write_bytes('{"label": "café", "keyframes": [{"time": 0}]}'.encode("latin-1"))
    for given in (str(bad), bad):
        with pytest.raises(InvalidInput) as err:
            as_camera_path(given)
        assert err.value.field == "camera" and err.value.value == str(bad)
        assert "UTF-8" in err.value.allowed and "0xe9" in err.value.allowed
    with pytest.raises(InvalidInput, match="UTF-8"):
        Shot("a red ball", camera=bad)


def test_a_utf8_file_with_a_byte_order_mark_is_read(tmp_path):
    """Notepad saves UTF-8 with a byte-order mark: refused as invalid JSON before."""
    marked = tmp_path / "notepad.json"
    marked.write_bytes(b"\xef\xbb\xbf" + b'{"preset": "pan_left", "intensity": 0.5}')
    assert as_camera_path(marked) == as_camera_path("pan_left:0.5")


def test_json_with_an_integer_of_thousands_of_digits_or_nested_too_deep_is_refused(tmp_path):
    """json.loads raised a raw ValueError (Python's 4300-digit limit) or RecursionError."""
    huge = '{"preset": "pan_left", "intensity": 1' + "0" * 5000 + "}"
    file = tmp_path / "huge.json"
    file.write_text(huge)
    for given, shown in ((huge, huge), (str(file), str(file)), (file, str(file))):
        with pytest.raises(InvalidInput) as err:
            as_camera_path(given)
        assert err.value.field == "camera" and err.value.value == shown and "digits" in str(err.value)
    with pytest.raises(InvalidInput, match="nested") as err:
        as_camera_path('{"keyframes": ' + "[" * 100_000)
    assert err.value.field == "camera"


@pytest.mark.parametrize("both", [{"W": 768, "width": 700}, {"H": 256, "height": 512}])
def test_a_deforum_dict_or_file_giving_a_size_twice_is_refused_as_the_text_is(both, tmp_path):
    """'W' and 'width' both set the width: the dict used whichever came later, silently."""
    data = {"translation_x": "0:(10)", **both}
    file = tmp_path / "deforum.json"
    file.write_text(json.dumps(data))
    for given in (data, json.dumps(data), file):
        with pytest.raises(InvalidInput) as err:
            as_camera_path(given)
        first, second = both
        assert err.value.field == "camera" and err.value.value == both
        assert f"{first!r} and {second!r} both set the" in str(err.value)
    text = "; ".join(f"{k}: {v}" for k, v in data.items())
    with pytest.raises(InvalidInput, match="both set the"):
        as_camera_path(text)
