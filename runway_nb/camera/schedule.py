"""Deforum 2D motion schedules: parse them, evaluate them, convert to and from our camera.

A Deforum schedule is a string of keyframes, frame number then value in parentheses:
`0:(1.0), 24:(1.04)`. A value may be a formula of the frame number t, e.g. Deforum's
default zoom `0: (1.0025+0.002*sin(1.25*3.14*t/30))`; `expr.py` evaluates it without
Python's eval. Values are per frame: each frame Deforum warps the previous picture
by that frame's zoom, angle and translation.

What we followed, from deforum-art/sd-webui-deforum, scripts/deforum_helpers/:
  * animation.py `anim_frame_warp_2d`: the warp is
    `getRotationMatrix2D(centre, angle, zoom) @ [[1, 0, translation_x], [0, 1, translation_y]]`
    applied with `cv2.warpPerspective` (a forward map; image y points down). So the
    previous picture is shifted by (translation_x, translation_y) pixels, then turned
    counter-clockwise by `angle` degrees and scaled by `zoom` about the centre.
    In film terms: zoom > 1 zooms in; angle > 0 turns the scene counter-clockwise,
    which is our roll > 0 (camera clockwise); translation_x > 0 slides the scene right,
    so the camera moves LEFT (x decreases; see deforum/deforum-stable-diffusion issue
    #132, "In 2D mode, positive translation_x moves left"); translation_y > 0 slides
    the scene down, so the camera moves UP.
  * animation_key_frames.py `get_inbetweens`: numeric keyframes are joined linearly;
    a formula keyframe is evaluated at every frame until the next keyframe; before
    the first and after the last keyframe the value is held; keyframes at or past
    max_frames are ignored. `max_f` (= max_frames - 1) may appear in formulas.
  * The warp of frame 0 is never applied (frame 0 is generated, not warped).
  * args.py defaults: W = H = 512, max_frames = 120, fps = 15.
Deforum rotates about the pixel (W // 2, H // 2); we rotate about the exact centre,
a half-pixel difference on odd sizes.
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidInput, check_number
from .expr import Expression, parse_expression

DEFORUM_2D_KEYS = ("zoom", "angle", "translation_x", "translation_y")
NEUTRAL = {"zoom": 1.0, "angle": 0.0, "translation_x": 0.0, "translation_y": 0.0}
DEFORUM_DEFAULTS = {"fps": 15.0, "width": 512, "height": 512, "max_frames": 120}
# The run's settings a Deforum settings file (and our schedule text) may carry beside the
# schedules, by their Deforum key -> our option name; the rest of a settings file is ignored.
DEFORUM_SETTINGS = {"fps": "fps", "W": "width", "H": "height", "width": "width",
                    "height": "height", "max_frames": "n_frames"}
VARIABLES = ("t", "max_f")
SCHEDULE_FORM = ("a schedule looks like '0:(1.0), 24:(1.04)': frame numbers in increasing "
                 "order, each followed by ':' and a value in parentheses")
_PLAIN_NUMBER = re.compile(r"\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*\Z", re.ASCII)
_FRAME = re.compile(r"\d+", re.ASCII)          # ASCII digits only: int('١') is 1 too
_SNAP = 1e-12  # pixels / degrees; float noise below this is written as 0
MAX_RUN_FRAMES = 100_000      # the most frames of a Deforum run that are read
_MAX_FRAME_DIGITS = 15          # a frame number longer than this is refused unread
# A path made from per-frame positions (a Deforum import) keeps a keyframe where they bend by
# more than this (relative + absolute: `bends`), and writes positions below it as 0
PATH_TOLERANCE = 1e-14


@dataclass(frozen=True)
class ScheduleKey:
    frame: int
    value: float | Expression


def parse_schedule(text, field: str = "schedule") -> tuple[ScheduleKey, ...]:
    """Parse `0:(1.0), 24:(1.04)` into keys. A bare number means one keyframe at 0."""
    if isinstance(text, numbers.Real) and not isinstance(text, bool):     # numpy's float32 too
        try:
            value = float(text)
        except OverflowError:            # an integer past what a float holds
            value = math.inf
        if not math.isfinite(value):
            raise InvalidInput(field, text, "must be a finite number or a schedule string")
        return (ScheduleKey(0, value),)
    if not isinstance(text, str):
        raise InvalidInput(field, text, SCHEDULE_FORM)

    def fail(pos: int, reason: str):
        near = text[max(0, pos - 12): pos + 12]
        bare = re.fullmatch(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*", text)
        raise InvalidInput(field, text, f"{reason} at character {pos + 1} (near {near!r}); {SCHEDULE_FORM}",
                           f"For {text.strip()} over the whole run write '0:({text.strip()})'." if bare else None)

    keys: list[ScheduleKey] = []
    pos, n = 0, len(text)
    while True:
        pos = _skip_space(text, pos)
        if pos == n:
            if not keys:
                fail(pos, "the schedule is empty")
            break
        m = _FRAME.match(text, pos)
        if m is None:
            fail(pos, "expected a frame number")
        digits = m.group().lstrip("0") or "0"
        if len(digits) > _MAX_FRAME_DIGITS:     # int() of 4300+ digits raises; no run is that long
            fail(pos, f"frame {digits[:6]}… ({len(digits)} digits) is past any run: a run has at most "
                      f"{MAX_RUN_FRAMES} frames")
        frame = int(digits)
        if keys and frame <= keys[-1].frame:
            fail(pos, f"frame {frame} comes after frame {keys[-1].frame}; frames must increase "
                      "and appear once")
        pos = _skip_space(text, m.end())
        for symbol in ":(":
            if pos == n or text[pos] != symbol:
                fail(pos, f"expected {symbol!r} after frame {frame}")
            pos = _skip_space(text, pos + 1)
        start = pos
        end = _matching_parenthesis(text, start)
        if end is None:
            fail(start - 1, f"the '(' of frame {frame} is never closed")
        inner = text[start:end]
        if _PLAIN_NUMBER.match(inner):
            value: float | Expression = float(inner)
            if not math.isfinite(value):
                fail(start, f"the value of frame {frame} is not finite")
        else:
            value = parse_expression(inner, field, variables=VARIABLES, offset=start, shown=text)
        keys.append(ScheduleKey(frame, value))
        pos = _skip_space(text, end + 1)
        if pos == n:
            break
        if text[pos] != ",":
            fail(pos, "expected ',' between keyframes")
        pos += 1
    return tuple(keys)


def schedules_from_text(text: str, field: str = "schedule") -> dict:
    """'zoom: 0:(1.0), 24:(1.04); angle: 0:(0)' -> {'zoom': '0:(1.0), 24:(1.04)', 'angle': '0:(0)'}:
    Deforum's schedules as a user pastes them, ';' or a line apart (a schedule itself never
    holds either). Each schedule is parsed later, where its own errors say where it broke.
    The run's settings may come with them, as in a Deforum settings file ('fps: 30; W: 768;
    H: 432; zoom: …'): they become numbers under their Deforum keys, checked where used."""
    parts: dict = {}
    named: dict[str, str] = {}          # option name -> the key that gave it ('W' and 'width' are one)
    for part in filter(str.strip, str(text).replace("\n", ";").split(";")):
        key, colon, value = part.partition(":")
        key = key.strip()
        if not colon or key not in (*DEFORUM_2D_KEYS, *DEFORUM_SETTINGS):
            raise InvalidInput(field, part.strip(), "each ';'-separated part must be 'KEY: SCHEDULE' "
                               f"with KEY one of {', '.join(DEFORUM_2D_KEYS)}, or a run's setting "
                               f"'KEY: NUMBER' with KEY one of {', '.join(DEFORUM_SETTINGS)}",
                               "For example 'fps: 30; zoom: 0:(1.0), 24:(1.04); angle: 0:(0)'.")
        name = DEFORUM_SETTINGS.get(key, key)
        if name in named:
            said = (f"{key!r} comes twice" if named[name] == key
                    else f"{named[name]!r} and {key!r} both set the {name}")
            raise InvalidInput(field, text, f"must give each schedule and setting once; {said}")
        named[name] = key
        parts[key] = value.strip() if key in DEFORUM_2D_KEYS else _setting_number(value, f"{field}.{key}")
    if not parts.keys() & set(DEFORUM_2D_KEYS):
        raise InvalidInput(field, text, "must hold at least one 'KEY: SCHEDULE' part, KEY one of "
                           + ", ".join(DEFORUM_2D_KEYS), "For example 'zoom: 0:(1.0), 24:(1.04)'.")
    return parts


def split_deforum(data: dict, field: str = "camera") -> tuple[dict, dict]:
    """A Deforum settings file's keys (or `schedules_from_text`'s) apart: the 2D schedules, and
    the run's settings under our option names (fps, width, height, n_frames). Every other key
    is Deforum's own business and is left out. 'W' and 'width' (or 'H' and 'height') both
    given is refused, as in the text form: which one was meant is not ours to guess."""
    for name in ("width", "height"):
        given = [key for key, option in DEFORUM_SETTINGS.items() if option == name and key in data]
        if len(given) > 1:
            raise InvalidInput(field, {key: data[key] for key in given},
                               f"must give each setting once; {given[0]!r} and {given[1]!r} both set the {name}")
    schedules = {key: data[key] for key in DEFORUM_2D_KEYS if key in data}
    settings = {name: data[key] for key, name in DEFORUM_SETTINGS.items() if key in data}
    return schedules, settings


def _setting_number(value: str, field: str) -> float:
    if not _PLAIN_NUMBER.match(value):
        raise InvalidInput(field, value.strip(), "must be a plain number, such as 'fps: 30' or 'W: 768'")
    return float(value)


def check_deforum_settings(fps, width, height, field: str = "schedule") -> tuple[float, int, int]:
    """A Deforum run's fps and picture size, checked before anything uses them: keyframes are
    frames at that rate, translations pixels of that picture. One range for the Python API,
    the camera pad and the CLI (below 1 fps a short clip would hold a single Deforum frame)."""
    return (float(check_number(f"{field}.fps", fps, low=1, high=240)),
            int(check_number(f"{field}.width", width, low=8, high=16384, integer=True)),
            int(check_number(f"{field}.height", height, low=8, high=16384, integer=True)))


def schedules_to_text(schedules: dict) -> str:
    """The inverse of `schedules_from_text`: 'zoom: 0:(1.0); angle: 0:(0.0); …', the run's
    settings first where the dict has them ('fps: 30; W: 768; H: 432; zoom: …')."""
    settings = [f"{key}: {schedules[key]:g}" for key in DEFORUM_SETTINGS if key in schedules]
    return "; ".join(settings + [f"{key}: {schedules[key]}" for key in DEFORUM_2D_KEYS if key in schedules])


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def _matching_parenthesis(text: str, start: int) -> int | None:
    depth = 1
    for i in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return i
    return None


def schedule_values(text, n_frames: int, field: str = "schedule") -> np.ndarray:
    """The per-frame values (n_frames,) Deforum's `get_inbetweens` would produce."""
    keys = parse_schedule(text, field)
    series = np.full(n_frames, np.nan)
    for i, key in enumerate(keys):
        if key.frame >= n_frames:
            break
        if isinstance(key.value, float):
            series[key.frame] = key.value
            continue
        stop = min(keys[i + 1].frame if i + 1 < len(keys) else n_frames, n_frames)
        frames = np.arange(key.frame, stop, dtype=np.float64)
        values = np.asarray(key.value.evaluate(frames, max_f=float(n_frames - 1)))
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            frame = key.frame + int(bad[0])
            raise InvalidInput(field, text, f"must give a finite number on every frame, but "
                                            f"{key.value.text!r} gives {values[bad[0]]} at frame {frame} (t={frame})")
        series[key.frame:stop] = values
    known = np.flatnonzero(~np.isnan(series))
    if known.size == 0:
        raise InvalidInput(field, text, f"needs a keyframe before frame {n_frames} "
                                        f"(the animation has {n_frames} frames)")
    return np.interp(np.arange(n_frames), known, series[known])


def deforum_camera(schedules, height: int, n_frames: int | None = None, field: str = "camera") -> np.ndarray:
    """Deforum 2D schedules -> our per-frame camera (n_frames, 4). Without n_frames:
    Deforum's default max_frames (120), or up to the last keyframe if that is later."""
    if not isinstance(schedules, dict) or not schedules:
        raise InvalidInput(field, schedules, "must be a dict of Deforum schedules with keys "
                                             + ", ".join(DEFORUM_2D_KEYS))
    unknown = sorted(set(schedules) - set(DEFORUM_2D_KEYS))
    if unknown:
        raise InvalidInput(f"{field}.{unknown[0]}", schedules[unknown[0]],
                           "is not a Deforum 2D motion schedule; allowed: " + ", ".join(DEFORUM_2D_KEYS))
    if n_frames is None:
        last = {k: parse_schedule(v, f"{field}.{k}")[-1].frame for k, v in schedules.items()}
        for k in DEFORUM_2D_KEYS:     # the run would reach it: name the schedule, not a run length never typed
            if last.get(k, 0) >= MAX_RUN_FRAMES:
                raise InvalidInput(f"{field}.{k}", schedules[k], f"must keep its keyframes before frame "
                                   f"{MAX_RUN_FRAMES} (a run reads at most {MAX_RUN_FRAMES} frames); it has "
                                   f"one at frame {last[k]}",
                                   "Or give the run's length as max_frames: keyframes at or past it are "
                                   "ignored, as in Deforum.")
        n_frames = max(DEFORUM_DEFAULTS["max_frames"], max(last.values()) + 1)
    n_frames = int(check_number(f"{field}.n_frames", n_frames, low=2, high=MAX_RUN_FRAMES, integer=True))
    values = {k: (schedule_values(schedules[k], n_frames, f"{field}.{k}") if k in schedules
                  else np.full(n_frames, NEUTRAL[k])) for k in DEFORUM_2D_KEYS}
    return deforum_to_camera(values, height, field)


def deforum_to_camera(values: dict[str, np.ndarray], height: int, field: str = "camera") -> np.ndarray:
    """Per-frame Deforum 2D warps -> our per-frame camera (n, 4) [x, y, zoom, roll].

    Frame j's warp maps frame j-1's screen s (frame heights, y up) to
    z R(a) (s + tau) with tau = (tx, -ty) / height. Our camera maps the world w to
    s = Z R(roll) (w - c). Matching the two gives Z_j = Z_{j-1} z_j, roll_j =
    roll_{j-1} + a_j and c_j = c_{j-1} - R(-roll_{j-1}) tau_j / Z_{j-1}.
    """
    zoom, angle = values["zoom"], values["angle"]
    n = len(zoom)
    if np.any(zoom[1:] <= 0):
        j = 1 + int(np.flatnonzero(zoom[1:] <= 0)[0])
        raise InvalidInput(f"{field}.zoom", float(zoom[j]), f"must stay above 0 on every frame (frame {j})")
    roll = np.concatenate([[0.0], np.cumsum(angle[1:])])
    tau_x = values["translation_x"][1:] / height
    tau_y = -values["translation_y"][1:] / height
    theta = np.deg2rad(-roll[:-1])
    # a zoom compounding out of float range is refused by the caller, naming its schedule
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        scale = np.concatenate([[1.0], np.cumprod(zoom[1:])])
        step_x = (np.cos(theta) * tau_x - np.sin(theta) * tau_y) / scale[:-1]
        step_y = (np.sin(theta) * tau_x + np.cos(theta) * tau_y) / scale[:-1]
    cam = np.empty((n, 4))
    cam[:, 0] = np.concatenate([[0.0], -np.cumsum(step_x)])
    cam[:, 1] = np.concatenate([[0.0], -np.cumsum(step_y)])
    cam[:, 2], cam[:, 3] = scale, roll
    return cam


def camera_to_deforum(cam: np.ndarray, height: int) -> dict[str, np.ndarray]:
    """Inverse of `deforum_to_camera`. Frame 0's warp is never applied by Deforum, so it
    repeats frame 1's: a constant-speed move becomes a single keyframe."""
    n = len(cam)
    out = {key: np.full(n, NEUTRAL[key]) for key in DEFORUM_2D_KEYS}
    if n < 2:
        return out
    x, y, scale, roll = cam.T
    out["zoom"][1:] = scale[1:] / scale[:-1]
    out["angle"][1:] = np.diff(roll)
    back_x, back_y = x[:-1] - x[1:], y[:-1] - y[1:]          # c_{j-1} - c_j
    theta = np.deg2rad(roll[:-1])
    tau_x = scale[:-1] * (np.cos(theta) * back_x - np.sin(theta) * back_y)
    tau_y = scale[:-1] * (np.sin(theta) * back_x + np.cos(theta) * back_y)
    out["translation_x"][1:] = tau_x * height
    out["translation_y"][1:] = -tau_y * height
    for key in DEFORUM_2D_KEYS:
        out[key][0] = out[key][1]
        if key != "zoom":
            out[key][np.abs(out[key]) < _SNAP] = 0.0
    return out


def format_schedule(values: np.ndarray, tolerance: float = 1e-12, step: float = 0.0,
                    first_repeats: bool = False) -> str:
    """Per-frame values -> the shortest schedule string whose linear in-betweens give them
    back (to `tolerance`, relative), each written with 15 significant digits.

    With `step` (a power of ten, from `round_trip_steps`) the in-betweens may also be off
    by `step`, each keyframe's value is rounded to that decimal place and written as the
    shortest text of the rounded number (4.59, not 4.59000000000001), and the keyframes are
    chosen again from what that text reads back as, until they no longer change: text that
    reads back within `round_trip_steps`' bound of its own values (under 0.4 step) is
    written the same again. `first_repeats`: frame 0 is written as frame 1's value (as
    `camera_to_deforum` does, Deforum never applying frame 0's warp), so what the text
    reads back as is taken so too."""
    values = np.asarray(values, dtype=np.float64)
    places = None if step <= 0 else -round(math.log10(step))

    def keyframes(track):
        keep = bends(track[:, None], tolerance, step)
        while len(keep) > 1 and abs(track[keep[-1]] - track[keep[-2]]) <= (
                tolerance * (1.0 + abs(track[keep[-1]])) + step):
            keep.pop()   # Deforum holds the last value anyway
        written = [float(tidy_number(track[j], places)) for j in keep]
        return keep, written

    keep, written = keyframes(values)
    for _ in range(8 if places is not None else 0):   # two or three passes settle it
        read = np.interp(np.arange(len(values)), keep, written)
        if first_repeats and len(read) > 1:
            read[0] = read[1]
        again = keyframes(read)
        if again == (keep, written):
            break
        keep, written = again
    return ", ".join(f"{j}:({tidy_number(v, places)})" for j, v in zip(keep, written))


def round_trip_steps(cam: np.ndarray, values: dict[str, np.ndarray], height: int) -> dict[str, float]:
    """The decimal step (a power of ten) each Deforum schedule of the camera `cam` is written
    to, so that export → import → export writes the same text and a typed 1.04 comes back
    as 1.04.

    An import keeps a path's positions, not Deforum's per-frame steps, and only where they
    bend by more than PATH_TOLERANCE (relative, + the same absolute: `bends`; smaller
    positions become 0); a re-export reads each step back as the difference of two
    positions, times the zoom, turned by the roll. So a step comes back off by up to the
    bound computed here from the positions' size (written with 15 digits, 4.59 came back
    as 4.59000000000001, and 8.18000000000006 after one more trip). The step is about 8×
    that bound — the nearest power of ten in log, so a bound that comes back a little off
    gives the same step (the change lies at √10 × 10^k, not at round sizes) — so the bound
    is under 0.4 step: a written value reads back within half a step of itself and rounds
    to itself again. For a 512-px run that is about 9 decimals of a pixel and 11 of a zoom."""
    tol = PATH_TOLERANCE + 16 * np.finfo(float).eps      # + the arithmetic's own rounding
    x, y, scale, roll = (np.asarray(c, dtype=np.float64) for c in np.asarray(cam).T)
    # each position (x, y, roll, log-zoom) comes back off by at most tol (2 + |it|)
    with np.errstate(divide="ignore", invalid="ignore"):
        turned = 2.0 + float(np.max(np.abs(np.log(scale))))
    rolled = 2.0 + float(np.max(np.abs(roll)))
    if len(cam) > 1:           # x and y of two positions, in the previous frame's pixels
        off = 4.0 + np.abs(x) + np.abs(y)
        moved = height * tol * float(np.max(np.maximum(scale[1:], scale[:-1]) * (off[1:] + off[:-1])))
    else:
        moved = 0.0
    biggest = {key: float(np.max(np.abs(v))) for key, v in values.items()}
    bound = {"zoom": 2 * tol * turned * biggest["zoom"], "angle": 2 * tol * rolled}
    for key in ("translation_x", "translation_y"):
        bound[key] = moved + tol * biggest[key] * (turned + math.radians(rolled))
    steps = {}
    for key, size in bound.items():
        size = 8.0 * size
        if key == "zoom":      # never round a zoom to 0 (one frame of 1e-8× beside one of 1e8×)
            size = min(size, 1e-6 * float(np.min(np.abs(values[key]))))
        steps[key] = 10.0 ** round(math.log10(size)) if math.isfinite(size) and size > 0 else 0.0
    return steps


def bends(track: np.ndarray, tolerance: float = 1e-12, atol: float = 0.0) -> list[int]:
    """Indices where a per-frame track (n, k) stops being a straight line (by more than
    `tolerance` relative plus `atol`), plus both ends: the keyframes that linear
    in-betweens need to give every frame back. Each
    straight run is found by galloping then bisecting on its end (O(n log n)); growing it a
    frame at a time re-checked the whole run each time, O(n²): a constant 20,000-frame
    schedule took 23 s."""
    n = len(track)

    def straight(start: int, end: int) -> bool:
        inside = np.arange(start + 1, end)
        line = track[start] + (track[end] - track[start]) * ((inside - start) / (end - start))[:, None]
        return bool(np.all(np.abs(track[inside] - line) <= tolerance * (1.0 + np.abs(track[inside])) + atol))

    keep, start = [0], 0
    while start + 1 < n - 1:
        good, bad, step = start + 1, None, 1        # [start, start + 1] is always straight
        while bad is None and good < n - 1:
            end = min(good + step, n - 1)
            if straight(start, end):
                good, step = end, step * 2
            else:
                bad = end
        if bad is None:
            break                                   # straight to the last frame
        while bad - good > 1:
            mid = (good + bad) // 2
            good, bad = (mid, bad) if straight(start, mid) else (good, mid)
        start = good
        keep.append(start)
    return keep + [n - 1] if n > 1 else keep


def tidy_number(value: float, places: int | None = None) -> str:
    """The shortest text of `value` rounded to `places` decimals (Python's correctly rounded
    `round`: 4.590000000000012 -> '4.59'), or without `places` to 15 significant digits
    (float noise lives in the 16th and 17th: 7.04, not 7.039999999999992)."""
    value = float(value)
    if places is not None:
        value = round(value, places)
    return repr(float(f"{value:.15g}") + 0.0)   # + 0.0 turns -0.0 into 0.0
