"""The film file: a Sequence as JSON, enough to re-make the whole film.

    {"runway_nb_film": 1, "generator": "runway_nb 0.1.0",
     "sequence": {"transition": {"kind": "crossfade", "seconds": 0.5}, "size": null,
                  "fps": null, "conform": false, "soundtrack": "music.wav"},
     "clips":   {"<id>": {"id", "shot", "parent", "fps", "frames", "width", "height",
                          "provenance", "file"?}},      # every clip AND its parent chain
     "entries": [{"type": "clip", "clip": "<id>", "start": 0, "end": 16, "transition": null},
                 {"type": "title", "text": "Act one", "seconds": 1.5, "background": [0,0,0],
                  "color": [255,255,255], "transition": {"kind": "fade_to_black", "seconds": 1}}]}

A clip's frames come from (in order) clips you pass, a Store, the file the record names
(relative to the film file), or — with `render=True` — its recipe: a Shot renders on its
engine (the one loaded under its id, as `rn.load_engine` loaded it — on a GPU, with
offload… — where one is, among several the one whose settings match the clip's
provenance; else one loaded now on the CPU); an extension re-renders from its parent's
last frames; an upscale/interpolation re-runs on its parent; a slice (`clip[2:6]`) is cut
from its parent again. `load_film` checks a hand-edited file and names the bad entry.
"""

from __future__ import annotations

import json
import math
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from collections.abc import Callable, Mapping

import numpy as np

from .._version import __version__
from ..errors import InvalidInput
from ..shot import Shot

FILM_VERSION = 1
_TOP = {"runway_nb_film", "generator", "created", "sequence", "clips", "entries"}
_SEQ = {"transition", "size", "fps", "conform", "soundtrack"}
_RECORD = {"id", "shot", "parent", "fps", "frames", "width", "height", "provenance", "file"}
_CLIP_ENTRY = {"type", "clip", "start", "end", "transition"}
_TITLE_ENTRY = {"type", "text", "seconds", "background", "color", "transition"}


def _jsonable(value) -> Any:
    return json.loads(json.dumps(value, default=str))


def clip_record(clip) -> dict:
    """What the film (and the Store) remembers of a clip: its recipe, not its frames."""
    t, h, w = np.shape(clip.frames)[:3]
    return {"id": clip.id, "shot": None if clip.shot is None else clip.shot.to_dict(),
            "parent": _parent_id(clip), "fps": float(clip.fps), "frames": int(t),
            "width": int(w), "height": int(h), "provenance": _jsonable(dict(clip.provenance or {}))}


def _parent_id(clip) -> str | None:
    parent = getattr(clip, "parent", None)
    return getattr(parent, "id", parent)


def film_dict(seq, files: Mapping[str, str] | None = None,
              lookup: Callable[[str], dict | None] | None = None, folder=None) -> dict:
    """The film file's content. `files`: clip id → video path (relative to the film);
    `lookup(id)`: a record for an ancestor known only by id (the Store passes its own)."""
    records: dict[str, dict] = {}

    def add(clip) -> None:
        while clip is not None and not isinstance(clip, str) and clip.id not in records:
            records[clip.id] = clip_record(clip)
            clip = clip.parent
        pid = clip if isinstance(clip, str) else None
        while pid and pid not in records and lookup is not None:   # ancestors known by id only
            rec = lookup(pid)
            if rec is None:
                break
            records[pid] = {k: rec[k] for k in _RECORD if k in rec and k != "file"}
            pid = rec.get("parent")

    entries = []
    for e in seq.entries:
        t = None if e.transition is None else {"kind": e.transition.kind, "seconds": e.transition.seconds}
        if e.clip is None:
            entries.append({"type": "title", "text": e.text, "seconds": e.seconds,
                            "background": list(e.background), "color": list(e.color), "transition": t})
        else:
            add(e.clip)
            entries.append({"type": "clip", "clip": e.clip.id, "start": e.start, "end": e.stop,
                            "transition": t})
    for cid, path in (files or {}).items():
        if cid in records:
            records[cid]["file"] = str(path)
    sound = seq.soundtrack
    if sound is not None and folder is not None:
        # relative to the film file when it sits below it, so a project folder can move
        rel = os.path.relpath(Path(sound).resolve(), Path(folder).resolve())
        sound = rel if not rel.startswith("..") else Path(sound).resolve()
    return {"runway_nb_film": FILM_VERSION, "generator": f"runway_nb {__version__}",
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "sequence": {"transition": {"kind": seq.transition.kind, "seconds": seq.transition.seconds},
                         "size": None if seq._size is None else list(seq._size), "fps": seq._fps,
                         "conform": seq.conform, "soundtrack": None if sound is None else str(sound)},
            "clips": records, "entries": entries}


def write_json_atomic(path, data: dict) -> Path:
    """Write JSON to a temp file in the same folder, then rename: never a half file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, ensure_ascii=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def save_film(seq, path, files: Mapping[str, str] | None = None, lookup=None) -> Path:
    """Write the film file; links to clip videos that the film file being replaced had (and
    that are still there) are kept, so saving film.json after film.otio's export loses none."""
    path = Path(path)
    files = {**film_links(path), **(files or {})}
    return write_json_atomic(path, film_dict(seq, files, lookup, folder=path.parent))


def _is_clip_json(data) -> bool:
    """The JSON Clip.save / generate write beside a video (a shot, no film version)."""
    return isinstance(data, dict) and "shot" in data and "runway_nb_film" not in data


def film_links(path: Path, field: str = "path") -> dict[str, str]:
    """The clip-video links of the film file at `path` whose videos still exist ({} when
    there is no file). Anything else there — a clip's JSON from clip.save, a file of the
    user's — is refused by name: saving a film must not replace it. Ids are content hashes,
    so a linked video under a clip's id is that clip."""
    path = Path(path)
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        data = None
    if not (isinstance(data, dict) and "runway_nb_film" in data):
        what = "a clip's JSON, written by clip.save" if _is_clip_json(data) else "not a runway_nb film file"
        raise InvalidInput(field, str(path), f"would be replaced by the film's JSON, and it is {what}",
                           "Save the film under another name.")
    clips = data.get("clips") if isinstance(data.get("clips"), dict) else {}
    return {cid: rec["file"] for cid, rec in clips.items()
            if isinstance(rec, dict) and isinstance(rec.get("file"), str) and (path.parent / rec["file"]).is_file()}


# ---- reading and checking ----------------------------------------------------------------
@contextmanager
def _field(prefix: str):
    """Re-raise an InvalidInput from a nested check with the entry's path in front."""
    try:
        yield
    except InvalidInput as exc:
        raise InvalidInput(f"{prefix}.{exc.field}", exc.value, exc.allowed, exc.hint) from None


def _need(cond: bool, field: str, value, allowed: str) -> None:
    if not cond:
        raise InvalidInput(field, value, allowed, "The film file was edited or is damaged; fix "
                           "that field or save the sequence again.")


def _keys(obj, allowed: set, field: str) -> None:
    _need(isinstance(obj, dict), field, obj, "must be a JSON object")
    extra = sorted(set(obj) - allowed)
    _need(not extra, f"{field}.{extra[0] if extra else ''}", obj.get(extra[0]) if extra else None,
          f"is not a known key; allowed: {', '.join(sorted(allowed))}")


def _int(v, low=0) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= low


def _rgb_ok(v) -> bool:
    return isinstance(v, list) and len(v) == 3 and all(_int(c) and c <= 255 for c in v)


def validate_film(data) -> None:
    """Raise InvalidInput naming the first bad field (e.g. `entries[2].transition.kind`)."""
    from ..sequence import Transition

    _keys(data, _TOP, "film")
    _need(data.get("runway_nb_film") == FILM_VERSION, "runway_nb_film", data.get("runway_nb_film"),
          f"must be {FILM_VERSION} (the film file version this runway_nb reads)")
    seq = data.get("sequence", {})
    _keys(seq, _SEQ, "sequence")
    with _field("sequence"):
        Transition(**(seq.get("transition") or {}))
    size, fps = seq.get("size"), seq.get("fps")
    _need(size is None or (isinstance(size, list) and len(size) == 2 and all(_int(v, 8) for v in size)),
          "sequence.size", size, "must be null or [width, height]")
    _need(fps is None or (isinstance(fps, (int, float)) and 0 < fps <= 240), "sequence.fps", fps,
          "must be null or a number in (0, 240]")
    _need(isinstance(seq.get("conform", False), bool), "sequence.conform", seq.get("conform"),
          "must be true or false")
    _need(seq.get("soundtrack") is None or isinstance(seq["soundtrack"], str),
          "sequence.soundtrack", seq.get("soundtrack"), "must be null or a file path")
    clips = data.get("clips", {})
    _need(isinstance(clips, dict), "clips", clips, "must be an object of clip records by id")
    for cid, rec in clips.items():
        f = f"clips[{cid!r}]"
        _keys(rec, _RECORD, f)
        _need(rec.get("id") == cid, f"{f}.id", rec.get("id"), f"must equal its key {cid!r}")
        if rec.get("shot") is not None:
            with _field(f"{f}.shot"):
                Shot.from_dict(rec["shot"])
        _need(rec.get("parent") is None or isinstance(rec["parent"], str), f"{f}.parent",
              rec.get("parent"), "must be null or a clip id")
        _need(isinstance(rec.get("fps"), (int, float)) and 0 < rec["fps"] <= 1000, f"{f}.fps",
              rec.get("fps"), "must be a positive number")
        for k in ("frames", "width", "height"):
            _need(_int(rec.get(k), 1), f"{f}.{k}", rec.get(k), "must be a positive integer")
        _need(isinstance(rec.get("provenance", {}), dict), f"{f}.provenance", rec.get("provenance"),
              "must be an object")
        file = rec.get("file")
        _need(file is None or (isinstance(file, str) and not PurePosixPath(file).is_absolute()
                               and ".." not in PurePosixPath(file).parts and "\0" not in file),
              f"{f}.file", file, "must be a path inside the film's folder (relative, no '..')")
    entries = data.get("entries")
    _need(isinstance(entries, list), "entries", entries, "must be a list of clip and title entries")
    for i, e in enumerate(entries):
        f = f"entries[{i}]"
        _need(isinstance(e, dict) and e.get("type") in ("clip", "title"), f"{f}.type",
              e.get("type") if isinstance(e, dict) else e, "must be 'clip' or 'title'")
        _keys(e, _CLIP_ENTRY if e["type"] == "clip" else _TITLE_ENTRY, f)
        if e.get("transition") is not None:
            _need(isinstance(e["transition"], dict), f"{f}.transition", e["transition"],
                  "must be null or {\"kind\": ..., \"seconds\": ...}")
            with _field(f):
                Transition(**e["transition"])
        if e["type"] == "clip":
            cid = e.get("clip")
            _need(isinstance(cid, str) and cid in clips, f"{f}.clip", cid,
                  "must be the id of a clip listed under 'clips'")
            n = clips[cid]["frames"]
            start, end = e.get("start", 0), e.get("end", n)
            _need(_int(start) and _int(end) and start < end <= n, f"{f}.start/end", [start, end],
                  f"must be a frame window 0 ≤ start < end ≤ {n} (the clip's frames)")
        else:
            text = e.get("text")
            _need(isinstance(text, str) and text.strip() != "", f"{f}.text", text,
                  "must be the title's words")
            s = e.get("seconds")
            _need(isinstance(s, (int, float)) and not isinstance(s, bool) and math.isfinite(s)
                  and 0 < s <= 60, f"{f}.seconds", s, "must be a number of seconds in (0, 60]")
            for k in ("background", "color"):
                _need(k not in e or _rgb_ok(e[k]), f"{f}.{k}", e.get(k), "must be [r, g, b] in 0–255")


@dataclass
class Film:
    """A checked film file. `to_sequence()` brings the Sequence back."""
    data: dict
    folder: Path | None = None

    @property
    def entries(self) -> list:
        return self.data["entries"]

    @property
    def clips(self) -> dict:
        return self.data.get("clips", {})

    def to_sequence(self, clips: Mapping | None = None, *, store=None, render: bool = False,
                    load_engine=None):
        """A Sequence with this film's edit. See the module doc for where frames come from;
        `load_engine(name)` gives the engine a re-rendered clip's Shot names (default: the
        engine loaded under that id, else one loaded on the CPU; see the module doc)."""
        from ..sequence import Entry, Sequence, Transition

        cache: dict[str, Any] = {}
        making: list[str] = []        # the chain of clips being re-made, to refuse a loop

        def get(cid: str):
            if cid in making:         # a hand-edited file (or an old one) whose parents loop
                loop = " → ".join([*making[making.index(cid):], cid])
                raise InvalidInput(f"clips[{cid!r}].parent", cid, f"must not lead back to the clip "
                                   f"itself ({loop})", "Set that clip's parent to null, or to the "
                                   "clip it was made from.")
            if cid not in cache:
                making.append(cid)
                try:
                    cache[cid] = self._clip(cid, clips or {}, store, render, load_engine, get)
                finally:
                    making.pop()
            return cache[cid]

        s = self.data.get("sequence", {})
        sound = s.get("soundtrack")
        if sound is not None and self.folder is not None and not Path(sound).is_absolute():
            sound = self.folder / sound
        if sound is not None and not Path(sound).is_file():
            # the picture edit is still worth having: load it silent and say so
            import warnings

            warnings.warn(f"The film's soundtrack {sound} is not there (moved or deleted): the film is "
                          f"loaded without sound. Set seq.soundtrack = 'its new place.wav' to add it "
                          f"back (sequence.soundtrack in the film file).", stacklevel=2)
            sound = None
        seq = Sequence(transition=Transition(**(s.get("transition") or {})).kind,
                       transition_seconds=(s.get("transition") or {}).get("seconds", 0.5),
                       size=s.get("size") and tuple(s["size"]), fps=s.get("fps"),
                       conform=s.get("conform", False), soundtrack=sound)
        built = []
        for i, e in enumerate(self.entries):
            t = None if e.get("transition") is None else Transition(**e["transition"])
            if e["type"] == "title":
                built.append(Entry(text=e["text"], seconds=float(e["seconds"]), transition=t,
                                   background=tuple(e.get("background", (0, 0, 0))),
                                   color=tuple(e.get("color", (255, 255, 255)))))
                continue
            clip = get(e["clip"])
            n = len(clip.frames)
            start, end = e.get("start", 0), e.get("end", n)
            _need(end <= n, f"entries[{i}].end", end, f"must be ≤ {n}, the frames of the clip "
                  f"{e['clip']} as loaded")
            built.append(Entry(clip=clip, start=start, end=None if end == n else end, transition=t))
        seq._commit(tuple(built))
        return seq

    def _clip(self, cid, clips, store, render, load_engine, get):
        from ..clip import Clip

        rec = self.clips.get(cid)
        if cid in clips:
            return clips[cid]
        if store is not None and cid in store:
            return store.load_clip(cid)
        if rec and rec.get("file") and self.folder is not None and (self.folder / rec["file"]).is_file():
            return Clip.load(self.folder / rec["file"])
        if not render or rec is None:
            raise InvalidInput(f"clips[{cid!r}]", cid, "has no frames here: not passed in, not in "
                               "the store, and no video file beside the film",
                               "Pass render=True to re-render it from its Shot.")
        return _replay(rec, get, load_engine)


def _replay(rec: dict, get, load_engine):
    """Re-make one clip from its record (its parent first, when it has one)."""
    cid, pid, prov = rec["id"], rec.get("parent"), rec.get("provenance") or {}
    if pid is not None and prov.get("sliced_from") == pid and not any(
            prov.get(k) == pid for k in ("upscaled_from", "interpolated_from")):
        return _slice(get(pid), prov.get("sliced"), f"clips[{cid!r}].provenance.sliced")
    if rec.get("shot") is None:
        raise InvalidInput(f"clips[{cid!r}].shot", None, "is needed to re-render this clip")
    if pid is None and prov.get("image") is not None:
        picture = prov["image"].get("name", "a picture") if isinstance(prov["image"], dict) else "a picture"
        raise InvalidInput(f"clips[{cid!r}].provenance.image", picture,
                           "is what this image→video clip was made from, and is not in the film: its "
                           "Shot alone cannot re-make it", _KEEP_ITS_FRAMES)
    shot = Shot.from_dict(rec["shot"])
    if pid is None and shot.parent is not None:
        raise InvalidInput(f"clips[{cid!r}].parent", None, f"is needed: its Shot continues clip "
                           f"{shot.parent}, which the film does not record", _KEEP_ITS_FRAMES)
    if load_engine is None:
        from ..engines.registry import find_or_load_engine

        def load_engine(name):
            # as loaded (a GPU, offload…), not a second copy on the CPU; the clip's settings
            # pick among several
            return find_or_load_engine(name, like=prov)
    if pid is not None:
        parent = get(pid)
        if prov.get("upscaled_from") == pid:
            from ..ops.upscale import upscale

            with _field(f"clips[{cid!r}].provenance.upscaled"):
                method = prov["upscaled"]["method"]
                return upscale(parent, _recorded_factor(prov["upscaled"]["factor"]),
                               "auto" if str(method).startswith("engine:") else method)
        if prov.get("interpolated_from") == pid:
            from ..ops.interpolate import interpolate

            with _field(f"clips[{cid!r}].provenance.interpolated"):
                return interpolate(parent, _recorded_factor(prov["interpolated"]["factor"]),
                                   prov["interpolated"]["method"])
        if shot.parent == pid:       # an extension: continue from the parent's last frames
            from ..ops.extend import continue_clip

            return _as_recorded(continue_clip(parent, shot, load_engine(shot.engine), progress=False), rec)
        raise InvalidInput(f"clips[{cid!r}].provenance", prov, "must say how the clip was made from "
                           f"its parent {pid} (extended, upscaled, interpolated or sliced)")
    return _as_recorded(load_engine(shot.engine).render(shot, progress=False), rec)


_KEEP_ITS_FRAMES = ("Keep the clip's video beside the film (Sequence.save('film.otio') writes each "
                    "clip's) or the clip in the project's store, where its frames are found without "
                    "re-rendering.")


def _as_recorded(clip, rec: dict):
    """A clip re-made from its Shot, as the film recorded it: one re-timed after it was
    rendered (rn.Clip(clip.frames, fps=16, shot=clip.shot): the same frames played at
    another rate) is re-timed the same way; one whose frame count its Shot does not make
    (its frames were changed after rendering) is refused by name, not put in silently."""
    from ..clip import Clip

    cid, made = rec["id"], len(clip.frames)
    if rec.get("frames") not in (None, made):
        raise InvalidInput(f"clips[{cid!r}].frames", rec["frames"], f"is not what its Shot makes ({made} "
                           "frames): the clip was changed after it was rendered", _KEEP_ITS_FRAMES)
    if rec.get("fps") not in (None, clip.fps):
        return Clip(clip.frames, fps=float(rec["fps"]), shot=clip.shot, parent=clip.parent,
                    provenance=rec.get("provenance") or {})
    return clip


def _slice(parent, cut, field: str):
    """`parent[start:stop:step]` as Clip.__getitem__ recorded it (`range(start, stop, step)`
    of the parent's frames; a stop of -1 with a negative step runs through frame 0)."""
    n = len(parent.frames)
    ok = (isinstance(cut, dict) and set(cut) == {"start", "stop", "step"}
          and all(isinstance(v, int) and not isinstance(v, bool) for v in cut.values()) and cut["step"] != 0)
    _need(ok, field, cut, "must be {\"start\": …, \"stop\": …, \"step\": …}, whole numbers, step not 0")
    start, stop, step = cut["start"], cut["stop"], cut["step"]
    _need(0 <= start < n and -1 <= stop <= n and len(range(start, stop, step)) > 0, field, cut,
          f"must take at least one of the parent's {n} frames (0 ≤ start < {n})")
    return parent[slice(start, None if stop < 0 else stop, step)]


def _recorded_factor(factor):
    """A factor as a film records it (earlier versions wrote a numpy factor as the string "2")."""
    return int(factor) if isinstance(factor, str) and factor.strip().isdigit() else factor


def load_film(path) -> Film:
    """Read and check a film file; InvalidInput names the bad entry of a broken one."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput("path", str(path), "must be an existing film .json file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput("film JSON", str(path), f"must be valid JSON ({exc})") from None
    if _is_clip_json(data):
        raise InvalidInput("path", str(path), "must be a film file (Sequence.save('film.json')); this "
                           "is one clip's JSON, written beside its video by generate or clip.save",
                           "Continue that clip with `runway-nb extend`, or play its video.")
    validate_film(data)
    return Film(data, path.parent)
