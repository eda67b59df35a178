"""Director Mode's pure core: camera paths, presets, Deforum schedules (numpy only).

    from runway_nb.camera import CameraPath
    CameraPath.preset("pan_left", 0.5).per_frame(16, 8)      # (16, 4) [x, y, zoom, roll]
    CameraPath.from_axes(pan=-5, zoom=+2)                     # UI sliders, -10 … +10
    CameraPath.from_deforum({"zoom": "0:(1.04)"}, fps=15, width=512, height=512)

`as_camera_path` turns anything a user may type into a `CameraPath` (it is what
`Shot(camera=...)` calls). No torch and no widgets are imported here.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from ..errors import InvalidInput
from .expr import Expression, evaluate, parse_expression
from .path import AXES, EASINGS, UI_PER_INTENSITY, UI_RANGE, CameraPath, Keyframe, Speed
from .presets import (
    MAX_INTENSITY,
    PRESETS,
    SPEED_AT_INTENSITY_1,
    parse_preset_spec,
    preset_names,
)
from .schedule import (
    DEFORUM_2D_KEYS,
    DEFORUM_DEFAULTS,
    DEFORUM_SETTINGS,
    parse_schedule,
    schedule_values,
    schedules_from_text,
    schedules_to_text,
    split_deforum,
)

__all__ = [
    "ALLOWED_FORMS",
    "AXES",
    "DEFORUM_2D_KEYS",
    "DEFORUM_DEFAULTS",
    "DEFORUM_SETTINGS",
    "EASINGS",
    "MAX_INTENSITY",
    "PRESETS",
    "SPEED_AT_INTENSITY_1",
    "UI_PER_INTENSITY",
    "UI_RANGE",
    "CameraPath",
    "Expression",
    "Keyframe",
    "Speed",
    "as_camera_path",
    "evaluate",
    "parse_expression",
    "parse_preset_spec",
    "parse_schedule",
    "preset_names",
    "schedule_values",
    "schedules_from_text",
    "schedules_to_text",
]

ALLOWED_FORMS = (
    "must be a CameraPath; a preset name such as 'pan_left' or 'pan_left:0.5' (intensity after "
    "the colon); Deforum 2D schedules as text, 'KEY: SCHEDULE' parts split by ';' such as "
    "'zoom: 0:(1.0), 24:(1.04); angle: 0:(0)' (read at Deforum's 15 fps and 512 × 512 unless "
    "parts such as 'fps: 30; W: 768; H: 432' say otherwise), or as a dict {'zoom': '0:(1.0), 24:(1.04)'}; "
    "a dict in CameraPath.to_dict() form; a JSON string of a dict; or the path of a .json "
    "file. Presets: " + ", ".join(PRESETS)
)
_OWN_KEYS = {"runway_nb_camera", "keyframes", "speed", "preset"}


def as_camera_path(value, field: str = "camera") -> CameraPath:
    """Accept every form a user may give a camera move; refuse anything else clearly."""
    if isinstance(value, CameraPath):
        return value
    if isinstance(value, os.PathLike):
        return _from_file(Path(value), field)
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            return _from_json(text, field)
        key, colon, _ = text.partition(":")
        key = key.strip()
        # Deforum text before files ('t/30' is no path), but 'W:\moves\pan.json' is a
        # Windows drive, not Deforum's W: schedule text never ends in '.json'
        if colon and (key in DEFORUM_2D_KEYS or key in DEFORUM_SETTINGS and not text.lower().endswith(".json")):
            return _from_mapping(schedules_from_text(text, field), field)
        if colon and "(" in text and not text.lower().endswith(".json"):
            # 'translation_z: 0:(1)' or 'zoom 0:(1.0)': schedule text with a key we do not
            # read — the schedule parser names the key and lists those it reads, where the
            # preset parser would have complained about an intensity
            return _from_mapping(schedules_from_text(text, field), field)
        if text.lower().endswith(".json") or "/" in text or os.sep in text:
            return _from_file(Path(text), field)
        try:
            return CameraPath.preset(*parse_preset_spec(text, field))
        except InvalidInput as exc:
            if exc.field != field:            # a bad intensity: that message is the precise one
                raise
            raise InvalidInput(field, value, ALLOWED_FORMS, exc.hint) from None
    if isinstance(value, dict):
        return _from_mapping(value, field)
    raise InvalidInput(field, value, ALLOWED_FORMS)


def _from_mapping(data: dict, field: str) -> CameraPath:
    keys = set(data)
    if keys & _OWN_KEYS:
        return CameraPath.from_dict(data, field)
    if keys & set(DEFORUM_2D_KEYS):
        mode = data.get("animation_mode", "2D")
        if mode != "2D":
            raise InvalidInput(f"{field}.animation_mode", mode, "must be '2D': runway_nb imports "
                               "Deforum's 2D motion (zoom, angle, translation_x, translation_y)")
        schedules, settings = split_deforum(data, field)
        options = {"fps": DEFORUM_DEFAULTS["fps"], "width": DEFORUM_DEFAULTS["width"],
                   "height": DEFORUM_DEFAULTS["height"], "n_frames": None, **settings}
        try:
            return CameraPath.from_deforum(schedules, field=field, **options)
        except InvalidInput as exc:
            if exc.field != f"{field}.n_frames":
                raise
            # the run's length came from the dict's (or text's) max_frames: name that
            raise InvalidInput(f"{field}.max_frames", exc.value, exc.allowed, exc.hint) from None
    raise InvalidInput(field, data, ALLOWED_FORMS,
                       "A dict needs 'preset' or 'keyframes' (our form) or Deforum's "
                       + ", ".join(DEFORUM_2D_KEYS) + ".")


def _from_json(text: str, field: str, source: str | None = None) -> CameraPath:
    """`source`: the file the text came from, named in errors instead of its contents."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(field, source or text, f"must {'hold' if source else 'be'} valid JSON (line "
                                                  f"{exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except ValueError:          # an integer of more digits than Python converts (4300 by default)
        raise InvalidInput(field, source or text, f"must {'hold' if source else 'be'} JSON whose integers "
                                                  f"have at most {sys.get_int_max_str_digits()} digits") from None
    except RecursionError:      # '[[[[…' nested deeper than the parser goes
        raise InvalidInput(field, source or text, f"must {'hold' if source else 'be'} JSON nested at most a "
                                                  "few hundred levels deep") from None
    if not isinstance(data, dict):
        raise InvalidInput(field, source or text, ALLOWED_FORMS)
    return _from_mapping(data, field)


def _from_file(path: Path, field: str) -> CameraPath:
    try:
        text = path.read_text(encoding="utf-8-sig")   # a byte-order mark (Notepad) is fine
    except OSError as exc:
        raise InvalidInput(field, str(path), f"must be a readable .json file ({exc.strerror or exc})",
                           "Or give a preset name such as 'pan_left'.") from None
    except UnicodeDecodeError as exc:      # a file saved as Latin-1, UTF-16…: JSON files are UTF-8
        raise InvalidInput(field, str(path), f"must be a JSON file in UTF-8 (byte {exc.object[exc.start]:#04x} "
                           f"at offset {exc.start} is not UTF-8)",
                           "Save it again as UTF-8 (most editors offer it under 'Save with encoding').") from None
    return _from_json(text, field, source=str(path))
