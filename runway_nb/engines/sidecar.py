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
    for key in ("sizes",):
        if key in out:
            out[key] = tuple(tuple(int(v) for v in size) for size in out[key])
    for key in ("fps",):
        if key in out:
            out[key] = tuple(float(v) for v in out[key])
    if "default_size" in out:
        out["default_size"] = tuple(int(v) for v in out["default_size"])
    return out
