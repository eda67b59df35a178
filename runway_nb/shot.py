"""Shot: the complete, serializable recipe of one clip.

A Shot is validated when it is made: a bad value raises `InvalidInput` naming the
field, the value and what is allowed, long before any torch code runs. Fields left
as None mean "the engine's default"; `Engine.resolve(shot)` fills them in, and the
resolved shot is what a Clip carries — so every clip can be re-made exactly from
its JSON. `Shot.from_json(shot.to_json()) == shot` always holds.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from .errors import InvalidInput, check_number

SCHEMA_VERSION = 1
MAX_PROMPT_CHARS = 4000
MAX_SEED = 2**63 - 1
CAMERA_MODES = ("auto", "native", "warp", "virtual")
MOTION_MODES = ("auto", "native", "planned")


def draw_seed() -> int:
    """A fresh random seed (from the OS, not the global RNG)."""
    return secrets.randbelow(2**31)


@dataclass(frozen=True)
class Shot:
    prompt: str
    negative_prompt: str = ""
    seed: int | None = None          # None: a fresh seed is drawn and recorded here
    frames: int | None = None        # number of frames (or give `seconds`)
    seconds: float | None = None     # duration; frames = round(seconds × fps) once fps is known
    fps: float | None = None
    width: int | None = None
    height: int | None = None
    steps: int | None = None         # denoising steps
    guidance: float | None = None    # classifier-free guidance scale
    engine: str = "tiny"
    camera: Any = None               # a CameraPath (or a preset string / dict, converted)
    camera_mode: str = "auto"        # auto | native | warp | virtual
    brushes: tuple = ()              # MotionBrush regions that move (dicts are converted)
    motion_mode: str = "auto"        # auto | native | planned: how the prompt's object motion is made
    parent: str | None = None        # id of the clip this one continues (extend)
    context_frames: int | None = None  # how many of the parent's last frames condition this one
    blend_frames: int = 0            # how many of those the continuation redraws and dissolves into
    meta: Mapping = field(default_factory=dict, compare=True)  # free-form notes (title, tags…), read-only

    def __post_init__(self):
        set_ = object.__setattr__
        for name in ("prompt", "negative_prompt", "engine"):
            if not isinstance(getattr(self, name), str):
                raise InvalidInput(name, getattr(self, name), "must be text (a str)")
        if not self.prompt.strip():
            raise InvalidInput("prompt", self.prompt, "must contain some words",
                               "Describe the clip, e.g. 'a red ball bouncing on a green field'.")
        for name in ("prompt", "negative_prompt"):
            if len(getattr(self, name)) > MAX_PROMPT_CHARS:
                raise InvalidInput(name, getattr(self, name),
                                   f"must be at most {MAX_PROMPT_CHARS} characters "
                                   f"(got {len(getattr(self, name))})")
        if not self.engine.strip():
            raise InvalidInput("engine", self.engine, "must name an engine, e.g. 'tiny'")
        if self.seed is None:
            set_(self, "seed", draw_seed())
        else:
            check_number("seed", self.seed, low=0, high=MAX_SEED, integer=True)
            set_(self, "seed", int(self.seed))
        if self.frames is not None and self.seconds is not None:
            raise InvalidInput("frames", self.frames, "give either frames or seconds, not both",
                               f"(seconds={self.seconds!r} was given too)")
        if self.frames is not None:
            set_(self, "frames", check_number("frames", self.frames, low=1, high=100_000, integer=True))
        if self.seconds is not None:
            set_(self, "seconds", float(check_number("seconds", self.seconds, low=0,
                                                     low_inclusive=False, high=3600)))
        if self.fps is not None:
            set_(self, "fps", float(check_number("fps", self.fps, low=0, low_inclusive=False, high=240)))
        for name in ("width", "height"):
            if getattr(self, name) is not None:
                set_(self, name, check_number(name, getattr(self, name), low=8, high=8192, integer=True))
        if self.steps is not None:
            set_(self, "steps", check_number("steps", self.steps, low=1, high=1000, integer=True))
        if self.guidance is not None:
            set_(self, "guidance", float(check_number("guidance", self.guidance, low=0, high=100)))
        if self.camera_mode not in CAMERA_MODES:
            raise InvalidInput("camera_mode", self.camera_mode, f"must be one of {', '.join(CAMERA_MODES)}")
        if self.motion_mode not in MOTION_MODES:
            raise InvalidInput("motion_mode", self.motion_mode, f"must be one of {', '.join(MOTION_MODES)}")
        if self.camera is not None:
            from .camera import as_camera_path

            set_(self, "camera", as_camera_path(self.camera, field="camera"))
        if not (isinstance(self.brushes, tuple) and not self.brushes):
            from .camera.brush import as_brushes

            set_(self, "brushes", as_brushes(self.brushes, field="brushes"))
        if self.parent is not None and not isinstance(self.parent, str):
            raise InvalidInput("parent", self.parent, "must be a clip id (a str) or None")
        if self.context_frames is not None:
            set_(self, "context_frames", check_number("context_frames", self.context_frames,
                                                      low=1, high=1000, integer=True))
        set_(self, "blend_frames", check_number("blend_frames", self.blend_frames, low=0,
                                                high=max(0, (self.context_frames or 1) - 1), integer=True))
        set_(self, "meta", _frozen(_json_meta(self.meta)))

    # ---- derived values -------------------------------------------------------------
    @property
    def duration(self) -> float | None:
        if self.frames is not None and self.fps:
            return self.frames / self.fps
        return self.seconds

    def replace(self, **changes) -> "Shot":
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    # ---- JSON -----------------------------------------------------------------------
    def to_dict(self) -> dict:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["camera"] = None if self.camera is None else self.camera.to_dict()
        data["brushes"] = [b.to_dict() for b in self.brushes]
        if not self.brushes:         # shots without brushes read the same as before brushes existed
            del data["brushes"]
        data["meta"] = _thawed(self.meta)
        return {"runway_nb_shot": SCHEMA_VERSION, **data}

    def to_json(self, indent: int | None = 1) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: Any) -> "Shot":
        if not isinstance(data, dict):
            raise InvalidInput("shot", data, "must be a JSON object of shot fields")
        data = dict(data)
        version = data.pop("runway_nb_shot", SCHEMA_VERSION)
        if version != SCHEMA_VERSION:
            raise InvalidInput("runway_nb_shot", version, f"this runway_nb reads version {SCHEMA_VERSION}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidInput("shot", unknown[0], f"is not a Shot field; allowed fields: {', '.join(sorted(known))}")
        if "prompt" not in data:
            raise InvalidInput("prompt", None, "is required in a shot")
        # JSON has no int/float distinction for whole numbers: accept 24.0 for an int field
        for name in ("seed", "frames", "width", "height", "steps", "context_frames", "blend_frames"):
            v = data.get(name)
            if isinstance(v, float) and v.is_integer():
                data[name] = int(v)
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> "Shot":
        try:
            data = json.loads(text)
        except (TypeError, json.JSONDecodeError) as exc:
            raise InvalidInput("shot JSON", str(text)[:60], f"must be valid JSON ({exc})") from None
        return cls.from_dict(data)

    # ---- display ----------------------------------------------------------------------
    def _rows(self):
        for f in fields(self):
            name, value = f.name, getattr(self, f.name)
            if name == "camera" and self.camera is not None:
                value = self.camera.describe() if hasattr(self.camera, "describe") else "custom path"
            if name == "brushes":
                value = "; ".join(b.describe() for b in value)
            if value not in (None, "", {}, ()):
                yield name, value

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self._rows())
        return f"Shot({inner})"

    def _repr_html_(self) -> str:
        import html

        rows = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
                       f"<td style='text-align:left'>{html.escape(str(v))}</td></tr>"
                       for k, v in self._rows())
        return f"<table class='runway-shot'>{rows}</table>"


# ---- meta: JSON notes, read-only like the rest of a Shot ----------------------------------
# A Shot is frozen, and clips share their shots: a meta dict that could be changed in place
# would change every clip's recipe behind its back (and what its JSON says). So meta is
# stored as a read-only copy (a dict and lists that refuse changes, yet compare, print,
# pickle and serialize as plain ones); `shot.replace(meta={...})` makes a new one.

def _json_meta(meta: Any) -> dict:
    """`meta` as plain JSON (a copy), or InvalidInput naming what JSON cannot hold."""
    if not isinstance(meta, Mapping):
        raise InvalidInput("meta", meta, "must be a dict of JSON values")
    try:
        # JSON keys are text: {1: 'a'} would come back from a saved clip as {'1': 'a'}
        bad = next((k for k in meta if not isinstance(k, str)), None)
        if bad is not None:
            raise TypeError(f"key {bad!r} is not text")
        return json.loads(json.dumps(_thawed(meta), allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise InvalidInput("meta", meta, "must be a dict of JSON values: text keys; text, numbers "
                           f"(not NaN or inf), true/false, null, lists and dicts ({exc})") from None


def _read_only(self, *args, **kwargs):
    raise TypeError("a Shot's meta is read-only (clips share their shots); make a changed copy "
                    "with shot.replace(meta={**shot.meta, 'key': value})")


class ReadOnlyDict(dict):
    __setitem__ = __delitem__ = __ior__ = clear = pop = popitem = setdefault = update = _read_only

    def __reduce__(self):
        return ReadOnlyDict, (dict(self),)


class ReadOnlyList(list):
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _read_only
    append = clear = extend = insert = pop = remove = reverse = sort = _read_only

    def __reduce__(self):
        return ReadOnlyList, (list(self),)


def _frozen(value: Any) -> Any:
    if isinstance(value, dict):
        return ReadOnlyDict({k: _frozen(v) for k, v in value.items()})
    if isinstance(value, list):
        return ReadOnlyList(_frozen(v) for v in value)
    return value


def _thawed(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _thawed(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_thawed(v) for v in value]
    return value
