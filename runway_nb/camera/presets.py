"""Named camera moves and their speeds.

A preset is a constant-speed move: a speed per second on some of the six axes
(see `runway_nb.camera.path`), multiplied by an intensity. Because speeds are per
second, a longer clip travels further at the same intensity.

At intensity 1 the speeds are the toy world's `CAMERA_SPEED`, the speeds the tiny
engine was trained on (a test holds the two tables equal). They are copied here, not
imported, so the camera layer does not depend on the engine package.

Pan and truck both slide the frame sideways in the tiny engine's 2D camera; a real
truck also shows parallax (near things slide faster than far ones), which the tiny
model does not model yet. The same holds for tilt and pedestal, and for zoom and a
dolly push. Combined moves below are written with the axis a filmmaker would use,
so engines that do model parallax can tell them apart.
"""

from __future__ import annotations

import difflib

from ..errors import InvalidInput, check_number

# Per second at intensity 1: frame heights (pan/tilt), log-zoom, degrees (roll).
SPEED_AT_INTENSITY_1 = {"pan": 0.22, "tilt": 0.22, "zoom": 0.22, "roll": 18.0}
MAX_INTENSITY = 10.0

_SIDE = SPEED_AT_INTENSITY_1["pan"]
_UP = SPEED_AT_INTENSITY_1["tilt"]
_IN = SPEED_AT_INTENSITY_1["zoom"]
_CW = SPEED_AT_INTENSITY_1["roll"]

# name -> speed per axis at intensity 1. Signs: truck/pan + = right, pedestal/tilt + = up,
# roll + = clockwise, zoom + = in (log-zoom per second).
PRESETS: dict[str, dict[str, float]] = {
    "static": {},
    # the eight moves the tiny engine was trained on
    "pan_left": {"pan": -_SIDE},
    "pan_right": {"pan": _SIDE},
    "tilt_up": {"tilt": _UP},
    "tilt_down": {"tilt": -_UP},
    "zoom_in": {"zoom": _IN},
    "zoom_out": {"zoom": -_IN},
    "roll_cw": {"roll": _CW},
    "roll_ccw": {"roll": -_CW},
    # moving the whole camera rather than turning it
    "truck_left": {"truck": -_SIDE},
    "truck_right": {"truck": _SIDE},
    "pedestal_up": {"pedestal": _UP},
    "pedestal_down": {"pedestal": -_UP},
    # combos
    "push_in_pan_left": {"zoom": _IN, "pan": -_SIDE},
    "push_in_pan_right": {"zoom": _IN, "pan": _SIDE},
    "pull_out_pan_left": {"zoom": -_IN, "pan": -_SIDE},
    "pull_out_pan_right": {"zoom": -_IN, "pan": _SIDE},
    # a crane rises and pulls back to reveal the scene (or sinks and pushes in)
    "crane_up": {"pedestal": _UP, "zoom": -0.5 * _IN},
    "crane_down": {"pedestal": -_UP, "zoom": 0.5 * _IN},
    # An orbit circles the subject: the camera trucks one way and pans back twice as far,
    # so the far background slides the other way. Without parallax (tiny engine) it
    # reads as a gentle pan opposite to the orbit's direction.
    "orbit_left": {"truck": -_SIDE, "pan": 2 * _SIDE},
    "orbit_right": {"truck": _SIDE, "pan": -2 * _SIDE},
    "orbit": {"truck": _SIDE, "pan": -2 * _SIDE},   # = orbit_right (clockwise seen from above)
}


def preset_names() -> tuple[str, ...]:
    return tuple(PRESETS)


def check_preset(name, intensity, field: str = "camera") -> tuple[str, float]:
    """Validate a preset name and intensity; return them (intensity as float)."""
    if not isinstance(name, str) or name not in PRESETS:
        typed = str(name).strip().lower().replace("-", "_").replace(" ", "_")   # 'PAN_LEFT', 'pan left'
        close = [typed] if typed in PRESETS else difflib.get_close_matches(typed, PRESETS, n=1)
        raise InvalidInput(field, name, "must be a camera preset: " + ", ".join(PRESETS),
                           f"Did you mean {close[0]!r}?" if close else None)
    try:       # any real number: numpy's float32(0.5) and int64(1) too, not True
        intensity = float(check_number(f"{field}.intensity", intensity, low=0, high=MAX_INTENSITY))
    except InvalidInput:
        raise InvalidInput(f"{field}.intensity", intensity,
                           f"must be a number from 0 to {MAX_INTENSITY:g} (1 = the preset's normal "
                           "speed, 2 = twice as fast)",
                           "For the opposite direction use the opposite preset (pan_right, not "
                           "pan_left with a negative intensity).") from None
    return name, intensity


def parse_preset_spec(spec: str, field: str = "camera") -> tuple[str, float]:
    """'pan_left' -> ('pan_left', 1.0); 'pan_left:0.5' -> ('pan_left', 0.5)."""
    name, _, rest = spec.strip().partition(":")
    name = name.strip()
    intensity: float = 1.0
    if rest.strip():
        try:
            if "_" in rest:            # float() takes '1_0' as 10: a typo, not a number
                raise ValueError(rest)
            intensity = float(rest)
        except ValueError:
            raise InvalidInput(f"{field}.intensity", rest.strip(),
                               "must be a number after the colon, as in 'pan_left:0.5'") from None
    elif _:
        raise InvalidInput(field, spec, "must have a number after the colon, as in 'pan_left:0.5'")
    return check_preset(name, intensity, field)
