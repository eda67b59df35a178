"""Clip: frames + fps + the Shot that made them + parent + provenance.

Pure numpy (no torch, no widgets). A clip shows itself as an inline HTML5 player
when it ends a notebook cell, with a PNG contact sheet and text as fallbacks so
saved notebooks, nbconvert and GitHub still show something.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import math
from pathlib import Path

import numpy as np

from .errors import InvalidInput
from .shot import Shot

SUFFIXES = (".mp4", ".webm", ".gif")


class _Fixed:
    """A Clip attribute set once, by __init__ (as `_<name>`), that refuses a change by name."""

    def __init__(self, instead: str):
        self.instead = instead

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, clip, owner=None):
        return self if clip is None else getattr(clip, "_" + self.name)

    def __set__(self, clip, value):
        raise AttributeError(f"a Clip's {self.name} is fixed once it is made (its id, and the films "
                             f"and stores that name it, depend on it); make a new clip instead: "
                             f"{self.instead}")


class Clip:
    def __init__(self, frames, fps: float, shot: Shot | None = None, parent=None,
                 provenance: dict | None = None, id: str | None = None):
        arr = np.asarray(frames)
        if arr.dtype != np.uint8 or arr.ndim != 4 or arr.shape[-1] != 3 or len(arr) == 0:
            raise InvalidInput("frames", f"array {arr.dtype} {arr.shape}",
                               "must be uint8 frames of shape (T, H, W, 3) with T ≥ 1")
        if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not math.isfinite(fps) or fps <= 0:
            raise InvalidInput("fps", fps, "must be a finite number > 0")
        if shot is not None and not isinstance(shot, Shot):
            raise InvalidInput("shot", shot, "must be a runway_nb.Shot or None")
        arr = np.array(arr, copy=True)
        arr.setflags(write=False)
        self._frames = arr
        self._fps = float(fps)
        self._shot = shot
        self._parent = parent                 # a Clip, a clip id (str) or None
        self.provenance = dict(provenance or {})
        self._mp4: bytes | None = None
        self._id: str | None = id   # given when a stored clip is reloaded (its frames may be re-encoded)
        self._lossy = False

    # ---- basics ---------------------------------------------------------------------
    @property
    def frames(self) -> np.ndarray:
        return self._frames

    # A clip's id is a hash of its frames, rate and shot, and films, stores and children
    # refer to it by that id: what it hashes is fixed once made (the frames are read-only
    # too). `a.fps = 16` after `Sequence([a, b])` re-timed the film behind its back.
    fps = _Fixed("clip.interpolate(2) for in-betweens at twice the rate, Sequence(..., conform=True) "
                 "to fit a film's rate, or rn.Clip(clip.frames, fps=16, shot=clip.shot) to play the "
                 "same frames faster")
    shot = _Fixed("render shot.replace(...) for another take")
    parent = _Fixed("rn.Clip(frames, fps, parent=...)")

    @property
    def id(self) -> str:
        """A stable content id: the same render always has the same id."""
        if self._id is None:
            h = hashlib.sha256(self._frames.tobytes())
            h.update(repr(self._frames.shape).encode() + f"{self.fps:g}".encode())
            h.update(b"" if self.shot is None else self.shot.to_json().encode())
            self._id = h.hexdigest()[:12]
        return self._id

    @property
    def parent_id(self) -> str | None:
        return self.parent.id if isinstance(self.parent, Clip) else self.parent

    num_frames = property(lambda self: len(self._frames))
    height = property(lambda self: self._frames.shape[1])
    width = property(lambda self: self._frames.shape[2])

    @property
    def duration(self) -> float:
        return len(self._frames) / self.fps

    def __len__(self) -> int:
        return len(self._frames)

    def __getitem__(self, index):
        """`clip[2:6]`, `clip[::2]`, `clip[3]` (one frame): a clip of those frames whose parent
        is this one. The cut goes into its provenance (`sliced`: the frames are
        `range(start, stop, step)` of the parent's), so a film holding it re-makes it.
        Other numpy indices (lists of frames, masks, pixel crops) work too, but record no cut."""
        frames = self._frames[index]
        if frames.ndim == 3:
            frames = frames[None]
        provenance = {k: v for k, v in self.provenance.items() if k not in ("sliced", "sliced_from")}
        cut = _cut(index, len(self))
        if cut is None or cut[2] != 1:
            # every other frame of a ×2 clip, or any stepped cut, is no longer frames the engine
            # made with in-betweens: played as they are (a re-timed clip), an extension goes on
            # at the rate they play rather than skipping frames as for in-betweens
            provenance.pop("interpolated", None)
        if cut is not None:
            provenance.update(sliced=dict(zip(("start", "stop", "step"), cut)), sliced_from=self.id)
        part = Clip(frames, self.fps, shot=self.shot, parent=self, provenance=provenance)
        if part.id == self.id:
            # every frame, in order (clip[:], clip[0:len(clip)]): the same clip, and the same id —
            # as its own child it would be its own parent, a loop a film could never re-make
            return Clip(self._frames, self.fps, shot=self.shot, parent=self.parent,
                        provenance=self.provenance, id=self.id)
        return part

    def __repr__(self) -> str:
        prompt = "" if self.shot is None else self.shot.prompt
        prompt = prompt if len(prompt) <= 40 else prompt[:39] + "…"
        return (f"<Clip {len(self)} frames {self.width}×{self.height} @ {self.fps:g} fps, "
                f"{self.duration:.1f} s, {prompt!r}>")

    # ---- operations (each returns a new clip whose parent is this one) ---------------------
    def extend(self, seconds: float, prompt: str | None = None, camera=None, engine=None, **kw) -> "Clip":
        """Continue this clip from its last frames; the result holds these frames + the new ones
        (on engines that blend, the last few of these dissolve into the continuation: `blend=0`
        keeps them as they are). Without `engine=`, the engine that made the clip continues it:
        the one loaded (its device and options), else loaded now. Options: `context=`, `blend=`,
        `guidance=`, `device=`, `dtype=`, `engine_options=`, `motion_mode=`, `on_step=`,
        `cancel=`, `progress=` (see runway_nb.ops.extend.extend)."""
        import inspect

        from .ops.extend import extend

        allowed = [n for n, p in inspect.signature(extend).parameters.items() if p.kind == p.KEYWORD_ONLY]
        unknown = sorted(set(kw) - set(allowed))
        if unknown:      # not Python's bare "unexpected keyword argument"
            raise InvalidInput(unknown[0], kw[unknown[0]], "is not an option of extend; its options are "
                               + ", ".join(allowed),
                               "A continuation renders with the clip's steps and a seed made from the clip's."
                               if unknown[0] in ("steps", "seed") else None)
        return extend(self, seconds, prompt=prompt, camera=camera, engine=engine, **kw)

    def upscale(self, factor: int = 2, method: str = "auto") -> "Clip":
        from .ops.upscale import upscale

        return upscale(self, factor, method)

    def interpolate(self, factor: int = 2, method: str = "flow") -> "Clip":
        from .ops.interpolate import interpolate

        return interpolate(self, factor, method)

    # ---- files ------------------------------------------------------------------------
    def sidecar(self) -> dict:
        return {"id": self.id, "fps": self.fps, "frames": len(self), "width": self.width,
                "height": self.height, "parent_id": self.parent_id,
                "shot": None if self.shot is None else self.shot.to_dict(),
                "provenance": self.provenance}

    def save(self, path) -> Path:
        """Write the clip (format by suffix: .mp4, .webm, .gif) and `<stem>.json` beside it.
        Both are written atomically; a failure leaves earlier files untouched. A `<stem>.json`
        that is not this clip's — a film's, a file of yours, or the record of another clip
        whose video is beside it — is refused by name before anything is written."""
        from .export.video import write_video
        from .files import check_writable

        path = Path(path)
        if path.suffix.lower() not in SUFFIXES:
            raise InvalidInput("path", str(path), f"must end in one of {', '.join(SUFFIXES)}")
        check_writable(path, "path")              # a folder in its place: found before encoding
        check_sidecar_free(path, self.id)
        tags = {"comment": f"made with runway_nb; clip {self.id}",
                "encoder_software": f"runway_nb {self.provenance.get('runway_nb', '')}".strip()}
        write_video(path, self._frames, self.fps, metadata=tags)
        side = path.with_suffix(".json")
        tmp = side.with_name(f".{side.name}.tmp")
        tmp.write_text(json.dumps(self.sidecar(), indent=1, ensure_ascii=False))
        tmp.replace(side)
        return path

    @classmethod
    def load(cls, path) -> "Clip":
        """The clip in a video file, with the shot, parent, provenance and id that
        `<stem>.json` beside it records. A JSON that does not describe this video (its frame
        count, size or rate differ: another clip's record) is not applied: the video's own
        frames and rate are loaded without a shot, and a warning names both files. The
        frames are all there and nothing is mislabelled; the JSON is left as it is. A GIF
        (delays in hundredths of a second, identical neighbouring frames merged) is read as
        the frame count and rate its JSON records when its delays are those of such a clip."""
        from .export.video import read_video

        path = Path(path)
        side = path.with_suffix(".json")
        shot, parent, provenance, clip_id, data = None, None, {}, None, None
        if path.is_file() and side.is_file():       # (a missing video is read_video's to name)
            try:
                data = json.loads(side.read_text(encoding="utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise InvalidInput("path", str(side), f"must hold the clip's JSON as runway_nb wrote it "
                                   f"({exc})") from None
            if not isinstance(data, dict):
                raise InvalidInput("path", str(side), "must hold a JSON object (the clip's sidecar)")
        # A GIF's delays are whole hundredths of a second and its identical neighbouring frames
        # merged: read at the frame count and rate the JSON records when its delays are theirs
        # (40 fps read alone is 60 fps, a static clip one frame)
        frames, fps = read_video(path, clip=_recorded_timing(data))
        if data is not None:
            differs = _differences(data, frames, fps)
            if differs:
                import warnings

                warnings.warn(f"{side.name} does not describe {path.name}: {'; '.join(differs)}. It is "
                              f"another clip's record (saved over since this video was written?), so "
                              f"the video's frames are loaded without its shot, parent and id. Rename "
                              f"or delete {side.name} to keep them apart.", stacklevel=2)
                return cls(frames, fps)
            frames = _unpad(frames, data)
            shot = None if data.get("shot") is None else Shot.from_dict(data["shot"])
            # a clip's own sidecar says parent_id; a project folder's record (clips/<id>.json) parent
            parent, provenance, fps = data.get("parent_id", data.get("parent")), data.get("provenance", {}), \
                data.get("fps", fps)
            if not isinstance(provenance, dict):
                raise InvalidInput("path", str(side), "must hold the clip's JSON as runway_nb wrote it "
                                   f"(its provenance is an object, not {type(provenance).__name__})")
            clip_id = data.get("id")   # the id of the frames as made (video files are lossy)
        clip = cls(frames, fps, shot=shot, parent=parent, provenance=provenance)
        return clip._as_copy_of(clip_id)

    def _as_copy_of(self, clip_id: str | None) -> Clip:
        """This clip, decoded from a video of the clip `clip_id` names, under that id: when
        its frames are not that clip's exactly (video files are lossy), it says so (`lossy`)."""
        if clip_id is not None and self.id != clip_id:
            self._id, self._lossy = clip_id, True
        return self

    @property
    def lossy(self) -> bool:
        """True when these frames are a lossy copy of the clip its id names (decoded from a
        video file that re-encoded them): a project folder that stored such a copy takes the
        exact frames in its place when that clip is added (Store.add)."""
        return self._lossy

    # ---- display ------------------------------------------------------------------------
    def contact_sheet(self, n: int = 8, height: int = 96) -> bytes:
        """PNG bytes: n frames side by side."""
        from PIL import Image

        idx = np.linspace(0, len(self) - 1, min(n, len(self))).round().astype(int)
        strip = np.concatenate([self._frames[i] for i in idx], axis=1)
        scale = max(1, height // self.height)
        img = Image.fromarray(strip).resize((strip.shape[1] * scale, strip.shape[0] * scale),
                                            Image.NEAREST)
        buf = io.BytesIO()
        img.save(buf, format="PNG")
        return buf.getvalue()

    def thumbnail(self, size: int = 128) -> bytes:
        from PIL import Image

        img = Image.fromarray(self._frames[len(self) // 2])
        scale = max(1, size // max(self.width, self.height))
        img = img.resize((self.width * scale, self.height * scale), Image.NEAREST)
        buf = io.BytesIO()
        img.save(buf, format="PNG")
        return buf.getvalue()

    def mp4_bytes(self) -> bytes:
        if self._mp4 is None:
            from .export.video import encode_mp4_bytes

            self._mp4 = encode_mp4_bytes(self._frames, self.fps)
        return self._mp4

    def _repr_html_(self) -> str:
        data = base64.b64encode(self.mp4_bytes()).decode()
        # toy clips are 64×64: show them bigger, with crisp pixels
        width = max(256, self.width)
        return (f"<video controls loop autoplay muted playsinline style='width:{width}px;"
                f"image-rendering:pixelated' src='data:video/mp4;base64,{data}'></video>")

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/html": self._repr_html_(), "image/png": self.contact_sheet(),
                "text/plain": repr(self)}


def _cut(index, n: int) -> tuple[int, int, int] | None:
    """(start, stop, step) of the frames `index` takes along the first axis, or None when it
    is not a plain slice or frame number (a list, a mask, a tuple that also crops pixels)."""
    if isinstance(index, slice):
        return index.indices(n)
    if isinstance(index, (int, np.integer)) and not isinstance(index, bool):
        i = int(index) % n                      # frames[index] has raised for one out of range
        return i, i + 1, 1
    return None


def _differences(data: dict, frames: np.ndarray, fps: float) -> list[str]:
    """How a clip's JSON and the video beside it disagree ([] when they agree or when the
    JSON records none of it, e.g. a film's). The size may differ by the one pixel row or
    column that write_video pads an odd size with for H.264/VP9."""
    out = []
    t, h, w = frames.shape[:3]
    n = data.get("frames")
    if isinstance(n, int) and n != t:
        out.append(f"it records {n} frames, the video holds {t}")
    rw, rh = data.get("width"), data.get("height")
    if isinstance(rw, int) and isinstance(rh, int) and not (w in (rw, rw + rw % 2) and h in (rh, rh + rh % 2)):
        out.append(f"it records {rw}×{rh} pixels, the video is {w}×{h}")
    rf = data.get("fps")
    if isinstance(rf, (int, float)) and rf > 0 and abs(rf - fps) > 0.05 * rf:
        out.append(f"it records {rf:g} fps, the video plays at {fps:g}")
    return out


def _recorded_timing(data: dict | None) -> tuple[int, float] | None:
    """(frames, fps) as a clip's JSON records them, or None when it records no such pair."""
    if data is None:
        return None
    n, fps = data.get("frames"), data.get("fps")
    if (isinstance(n, int) and not isinstance(n, bool) and n > 0 and isinstance(fps, (int, float))
            and not isinstance(fps, bool) and math.isfinite(fps) and fps > 0):
        return n, float(fps)
    return None


def _unpad(frames: np.ndarray, data: dict) -> np.ndarray:
    """Frames cropped back to the recorded size (write_video pads odd sizes by one pixel)."""
    rw, rh = data.get("width"), data.get("height")
    if isinstance(rw, int) and isinstance(rh, int) and frames.shape[1:3] != (rh, rw):
        frames = frames[:, :rh, :rw]
    return frames


def check_sidecar_free(path, clip_id: str | None, field: str = "path", given=None) -> None:
    """Refuse, before anything is written, a video path whose `<stem>.json` is not clip
    `clip_id`'s: a film's (its edit would be lost), a file that is not a clip's JSON, or
    another clip's record while a video of that clip is still beside it (that video would be
    left described by this clip's shot and id). Another clip's record whose only video is
    `path` itself goes with that video: saving over a name replaces it, as re-running
    `clip.save("out.mp4")` on a new clip expects. `clip_id=None` (the clip is not made yet)
    checks the first two only."""
    from .export.film import _is_clip_json

    path = Path(path)
    side = path.with_suffix(".json")
    if not side.exists():
        return
    try:
        data = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        data = None
    if isinstance(data, dict) and "runway_nb_film" in data:
        what = "a film's JSON, written by Sequence.save (its trims, titles and transitions)"
    elif not _is_clip_json(data):
        what = "not a runway_nb clip's JSON"
    elif clip_id is None or data.get("id") == clip_id:
        return                                   # this clip again (e.g. as .gif beside its .mp4)
    else:
        others = [p.name for p in (path.with_suffix(s) for s in SUFFIXES) if p != path and p.is_file()]
        if not others:
            return
        what = (f"the record of another clip ({data.get('id')}), whose video "
                f"{' and '.join(others)} beside it would be left described as this one")
    raise InvalidInput(field, str(path) if given is None else given,
                       f"would replace {side.name}, which is {what}",
                       f"Save the clip under another name, or delete {side.name} if it is no longer needed.")
