"""A pipeline folder's own capabilities file, `runway_nb.json` (the "sidecar").

A diffusers `model_index.json` says which classes make up a pipeline, not what sizes,
frame counts or frame rates it was trained for. A folder may declare those beside it:

    {"sizes": [[32, 32]], "fps": [8], "max_frames": 9, "default_steps": 2}

`DiffusersEngine._documented` lays these fields over the family's documented defaults
(fine-tunes and the tiny test pipelines of `engines/testing.py` rely on it). A hub id's is
read from its snapshot in the Hugging Face cache (downloaded, when online, if the repo has one). Allowed are
the size/fps/frames/defaults/notes fields of `Capabilities`; any other field, or bad JSON,
is a WeightsError naming the file.
"""

from __future__ import annotations

import math
from pathlib import Path

from ..errors import WeightsError

SIDECAR = "runway_nb.json"           # optional capabilities file in a pipeline folder
_SIDECAR_FIELDS = {"sizes", "fps", "max_frames", "default_size", "default_fps", "default_frames",
                   "default_steps", "default_guidance", "notes"}


def read_sidecar(path: Path) -> dict:
    """Capabilities fields from a folder's runway_nb.json, checked."""
    import json

    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise WeightsError(f"{path} is not valid JSON ({exc}); fix or delete it.") from None
    unknown = sorted(set(data) - _SIDECAR_FIELDS) if isinstance(data, dict) else ["(not an object)"]
    if unknown:
        raise WeightsError(f"{path}: {unknown[0]!r} is not a capabilities field; allowed: "
                           f"{', '.join(sorted(_SIDECAR_FIELDS))}.")
    out = dict(data)

    def bad(key, allowed):
        raise WeightsError(f"{path}: {key}={data[key]!r} is not allowed: {allowed}; fix or delete it.")

    def whole(v, low=1, high=1_000_000):
        return isinstance(v, int) and not isinstance(v, bool) and low <= v <= high

    def number(v):
        return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)

    def size(v):
        return isinstance(v, list) and len(v) == 2 and all(whole(x, high=8192) for x in v)

    if "sizes" in out:
        if not (isinstance(out["sizes"], list) and out["sizes"] and all(size(v) for v in out["sizes"])):
            bad("sizes", "a list of [width, height] pairs, e.g. [[832, 480]]")
        out["sizes"] = tuple(tuple(v) for v in out["sizes"])
    if "fps" in out:
        if not (isinstance(out["fps"], list) and out["fps"] and all(number(v) and v > 0 for v in out["fps"])):
            bad("fps", "a list of frame rates, e.g. [16]")
        out["fps"] = tuple(float(v) for v in out["fps"])
    if "default_size" in out:
        if not size(out["default_size"]):
            bad("default_size", "a [width, height] pair, e.g. [832, 480]")
        out["default_size"] = tuple(out["default_size"])
    for key in ("max_frames", "default_frames", "default_steps"):
        if key in out and not whole(out[key]):
            bad(key, "a whole number ≥ 1")
    for key, low in (("default_fps", 0), ("default_guidance", -1)):
        if key in out and not (number(out[key]) and out[key] > low):
            bad(key, "a number" + (" > 0" if low == 0 else " ≥ 0"))
    if "notes" in out and not isinstance(out["notes"], str):
        bad("notes", "text")
    return out


def fit_defaults(fields: dict, given: dict, path: Path) -> dict:
    """The capabilities a sidecar leaves (`given`, laid over the family's: `fields`), each
    default among the values allowed. A default the sidecar itself names outside them is a
    WeightsError naming the file (the engine advertised a default it then refused, on its
    first plain render); a family default its sizes, rates or length leave out becomes the
    first allowed one (a fine-tune made for other sizes need not repeat every default)."""
    def size(v):
        return "x".join(str(x) for x in v)

    def rate(v):
        return f"{v:g}"

    for default, allowed, show in (("default_size", "sizes", size), ("default_fps", "fps", rate)):
        value, values = fields.get(default), fields.get(allowed)
        if value is not None and values and value not in values:
            if default in given:
                raise WeightsError(f"{path}: {default} {show(value)} is not among its {allowed} "
                                   f"({', '.join(show(v) for v in values)}); fix or delete it.")
            fields[default] = values[0]
    most, default = fields.get("max_frames"), fields.get("default_frames")
    if most is not None and default is not None and default > most:
        if "default_frames" in given:
            raise WeightsError(f"{path}: default_frames {default} is more than its max_frames {most}; "
                               "fix or delete it.")
        fields["default_frames"] = most
    return fields
