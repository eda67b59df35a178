"""Store: a project folder where nothing generated is lost.

    runway_project/
      clips/<id>.npz          the exact frames (compressed uint8): what `load_clip` reads
      clips/<id>.mp4          the clip as video, for players, editors and OTIO timelines
      clips/<id>.png          a thumbnail (the middle frame) for galleries
      clips/<id>.json         shot + provenance + parent id. Written LAST: an entry exists
                              only once its JSON does, so an interrupted save shows nothing
      sequences/<name>.json   film files (see export/film.py), autosaved sequences
      sequences/.<name>.lock  taken while an autosaved sequence checks and saves (empty)

Why an .npz beside the .mp4: H.264 in yuv420p is lossy (and halves colour resolution),
so frames read back from the mp4 are not the frames rendered. Extend conditions on a
clip's last frames and upscale/interpolate would compound the loss; a compressed uint8
npz of a toy clip is tens of KB and reloads bit-exactly. The mp4 is for people.

Each file is written to a temp file in the same folder (`.<name>~<host>~<pid>~<rand>.tmp…`),
flushed to disk, then renamed with os.replace (atomic on POSIX and Windows). `gallery()`
ignores temp files; `repair()` deletes those whose writer process is gone, and files
left without their JSON by a crash once they are older than `grace` seconds (a
concurrent writer may still be about to write that JSON).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import secrets
import socket
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import InvalidInput, StoreError
from .export.film import clip_record, film_dict, load_film

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_TEMP = re.compile(r"^\.(?P<name>.+)~(?P<host>[0-9a-f]{8})~(?P<pid>\d+)~[0-9a-f]+\.tmp(\.\w+)?$")
_HOST = f"{zlib.crc32(socket.gethostname().encode()):08x}"
_DATA = (".npz", ".mp4", ".png")


def check_name(field_name: str, name) -> str:
    """A file name that stays inside its folder: refused (not silently changed) otherwise."""
    if not isinstance(name, str) or not _NAME.match(name) or name.endswith(".tmp"):
        raise InvalidInput(field_name, name, "must be 1–100 letters, digits, '.', '-' or '_', "
                           "starting with a letter or digit (no folders, no '..')",
                           "e.g. 'my_film' or 'act-1'.")
    return name


def check_project_folder(folder, field: str = "path") -> Path:
    """A project folder that a Store could be made in, checked without making it: the CLI
    and `%%runway --store` check before minutes of rendering, and make the folder only when
    they write the clip, so a refused command leaves no empty project behind."""
    given, folder = str(folder), Path(folder).expanduser()
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise InvalidInput(field, given, f"must be a folder ({existing} is a file)")
    from .files import check_writable

    check_writable(existing / "probe", field, given)        # a file made there and removed
    return folder


def _why(exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return "the disk is full (no space left); free some space or use another folder"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "the folder is read-only (permission denied); choose a writable folder with rn.Store(path=...)"
    return f"{exc.strerror or exc}"


@dataclass(frozen=True)
class StoreEntry:
    """One stored clip, as the gallery lists it. `entry.load()` → the Clip."""
    id: str
    record: dict = field(repr=False)
    store: Store = field(repr=False, compare=False)

    @property
    def shot(self):
        from .shot import Shot

        return None if self.record.get("shot") is None else Shot.from_dict(self.record["shot"])

    @property
    def prompt(self) -> str:
        return (self.record.get("shot") or {}).get("prompt", "")

    @property
    def parent(self) -> str | None:
        return self.record.get("parent")

    @property
    def stored(self) -> float:
        return self.record.get("stored", 0.0)

    @property
    def duration(self) -> float:
        return self.record["frames"] / self.record["fps"]

    @property
    def video(self) -> Path:
        return self.store.clips_dir / f"{self.id}.mp4"

    @property
    def thumbnail(self) -> Path:
        return self.store.clips_dir / f"{self.id}.png"

    def load(self):
        return self.store.load_clip(self.id)

    def __repr__(self) -> str:
        r = self.record
        return (f"StoreEntry({self.id!r}, {self.prompt[:40]!r}, {self.duration:.2f} s, "
                f"{r['width']}x{r['height']})")

    def _repr_html_(self) -> str:
        import base64
        import html

        png = base64.b64encode(self.thumbnail.read_bytes()).decode() if self.thumbnail.exists() else ""
        return (f"<figure style='display:inline-block;margin:2px'><img src='data:image/png;base64,"
                f"{png}' style='image-rendering:pixelated;height:96px'><figcaption>"
                f"{html.escape(self.prompt[:40])}</figcaption></figure>")


class Store:
    """A project folder of clips and sequences that survives kernel restarts."""

    def __init__(self, path="runway_project"):
        self.path = Path(path).expanduser()
        self.clips_dir = self.path / "clips"
        self.sequences_dir = self.path / "sequences"
        try:
            for d in (self.clips_dir, self.sequences_dir):
                if not d.is_dir():
                    d.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"Cannot make the project folder {self.path}: {_why(exc)}.") from exc

    # ---- clips ----------------------------------------------------------------------
    def add(self, clip) -> StoreEntry:
        """Save a clip (frames, video, thumbnail, then JSON). Adding a stored clip again is free."""
        from .clip import Clip

        if not isinstance(clip, Clip):
            raise InvalidInput("clip", clip, "must be a runway_nb Clip", "Make one with rn.generate(...).")
        cid = check_name("clip.id", clip.id)
        if (self.clips_dir / f"{cid}.json").exists():
            entry = self._entry(cid)
            if clip.lossy or not entry.record.get("lossy"):
                return entry
            # stored from a video's lossy copy, and here are the exact frames: they take its place
        frames = np.asarray(clip.frames)
        record = {**clip_record(clip), "stored": time.time(),
                  "stored_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "ancestors": _ancestors(clip),
                  **({"lossy": True} if clip.lossy else {})}
        try:
            self._write(self.clips_dir / f"{cid}.npz", lambda p: _save_npz(p, frames))
            self._write(self.clips_dir / f"{cid}.mp4", lambda p: _save_mp4(p, frames, clip))
            self._write(self.clips_dir / f"{cid}.png", lambda p: _save_png(p, frames))
            self._write(self.clips_dir / f"{cid}.json", lambda p: _save_json(p, record))
        except OSError as exc:
            gone = self._gone()
            if gone:
                raise StoreError(f"Cannot save clip {cid}: {gone}") from exc
            raise StoreError(f"Cannot save clip {cid} in {self.path}: {_why(exc)}. Clips saved "
                             f"before are intact.") from exc
        return StoreEntry(cid, record, self)

    def gallery(self) -> list[StoreEntry]:
        """Every complete clip, newest first (what a new kernel sees after a restart).
        StoreError when the project folder is gone (deleted or moved)."""
        gone = self._gone()
        if gone:
            raise StoreError(f"Cannot list the clips: {gone}")
        self.repair()
        entries = []
        for p in self.clips_dir.glob("*.json"):
            if p.name.startswith("."):
                continue
            try:
                entries.append(self._entry(p.stem))
            except (InvalidInput, StoreError):
                continue           # a hand-damaged record: load_clip(id) says what is wrong
        return sorted(entries, key=lambda e: (e.stored, e.id), reverse=True)

    def __contains__(self, clip_id) -> bool:
        return isinstance(clip_id, str) and bool(_NAME.match(clip_id)) and (
            self.clips_dir / f"{clip_id}.json").is_file()

    def __len__(self) -> int:
        return sum(1 for p in self.clips_dir.glob("*.json") if not p.name.startswith("."))

    def load_clip(self, clip_id: str):
        """The stored clip, frames bit-exact (from the .npz; the .mp4 if the npz is gone, or
        when it was stored from a video file: then `clip.lossy` says so)."""
        from .clip import Clip

        entry = self._entry(check_name("clip_id", clip_id))
        r = entry.record
        npz = self.clips_dir / f"{clip_id}.npz"
        try:
            if npz.is_file():
                with np.load(npz, allow_pickle=False) as data:
                    frames = data["frames"]
            else:
                from .export.video import read_video

                frames = read_video(entry.video)[0]
        except (OSError, ValueError, KeyError) as exc:
            raise StoreError(f"Cannot read the frames of clip {clip_id} in {self.clips_dir}: {exc}") from exc
        clip = Clip(frames, r["fps"], shot=entry.shot, parent=r.get("parent"),
                    provenance=r.get("provenance") or {}, id=None if r.get("lossy") or not npz.is_file()
                    else clip_id)
        return clip._as_copy_of(clip_id)

    # ---- sequences ------------------------------------------------------------------
    def save_sequence(self, name: str, seq) -> Path:
        """Store every clip of `seq`, then its film file as sequences/<name>.json."""
        path = self.sequences_dir / f"{check_name('name', name)}.json"
        for clip in seq.clips:
            self.add(clip)
        data = film_dict(seq, lookup=self._record, folder=self.sequences_dir)
        try:
            self._write(path, lambda p: _save_json(p, data))
        except OSError as exc:
            gone = self._gone()
            raise StoreError(f"Cannot save sequence {name!r}: {gone}" if gone else
                             f"Cannot save sequence {name!r} in {self.path}: {_why(exc)}.") from exc
        return path

    def load_sequence(self, name: str, *, render: bool = False, autosave: bool = False):
        """The sequence saved as `name`, its clips from this project. A clip no longer here
        (its files deleted) is refused by name; `render=True` re-makes it from its Shot (and
        its parents': extensions, upscales, cuts) instead, on the engine loaded under the
        Shot's engine id where there is one (as loaded: a GPU, offload…), else one loaded on
        the CPU. `autosave=True`: every edit of it is saved back as `name` (Sequence.autosave,
        from the version read here, so an edit never overwrites another writer's since)."""
        path = self.sequences_dir / f"{check_name('name', name)}.json"
        version = self.sequence_version(name) if autosave else None     # read before the file itself
        if not path.is_file():
            raise InvalidInput("name", name, f"is not a saved sequence; saved: "
                               f"{', '.join(self.sequences()) or 'none yet'}")
        seq = load_film(path).to_sequence(store=self, render=render)
        return seq.autosave(self, name, version=version) if autosave else seq

    def sequence_version(self, name: str) -> str | None:
        """What sequences/<name>.json holds now, as a digest (None: no such sequence).
        An autosaved Sequence remembers the version it read or wrote, and refuses to save
        over another (SequenceChanged): two Studios or notebooks on one project never
        silently overwrite each other's edits."""
        path = self.sequences_dir / f"{check_name('name', name)}.json"
        try:
            return hashlib.sha256(path.read_bytes()).hexdigest()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"Cannot read sequence {name!r} in {self.path}: {_why(exc)}.") from exc

    @contextlib.contextmanager
    def sequence_lock(self, name: str):
        """Hold the project's lock on sequence `name` (other processes and threads using it
        wait): an autosaved Sequence checks the version and writes under it, so no writer
        slips in between. Where no lock can be taken (no fcntl on Windows, a read-only or
        deleted folder) it goes on without one: the version check still catches a change
        made before it, and the write's own error says what is wrong with the folder."""
        lock = self.sequences_dir / f".{check_name('name', name)}.lock"
        try:
            import fcntl
        except ImportError:           # Windows: the version check alone
            yield
            return
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError:
            yield
            return
        try:
            deadline = time.monotonic() + 60.0
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise StoreError(f"Sequence {name!r} in {self.path} stayed locked by another "
                                         f"writer for a minute ({lock}); try again.") from None
                    time.sleep(0.01)
            yield
        finally:
            os.close(fd)              # releases the lock

    def sequences(self) -> list[str]:
        """Saved sequence names, newest first."""
        paths = [p for p in self.sequences_dir.glob("*.json") if not p.name.startswith(".")]
        return [p.stem for p in sorted(paths, key=lambda p: p.stat().st_mtime, reverse=True)]

    # ---- upkeep ---------------------------------------------------------------------
    def repair(self, grace: float = 300.0) -> list[Path]:
        """Delete temp files of writers that are gone, and data files without a JSON older
        than `grace` seconds. Returns what was deleted; entries are never touched."""
        removed, now = [], time.time()
        for folder in (self.clips_dir, self.sequences_dir):
            try:
                found = list(folder.iterdir())
            except OSError:
                continue           # gone or unreadable: nothing to tidy
            for p in found:
                m = _TEMP.match(p.name)
                try:
                    old = now - p.stat().st_mtime > grace
                    orphan = (m is None and p.suffix in _DATA and folder == self.clips_dir
                              and not (folder / f"{p.stem}.json").exists())
                    if (m and (old or _writer_gone(m))) or (orphan and old):
                        p.unlink()
                        removed.append(p)
                except OSError:
                    continue       # vanished meanwhile, or a read-only folder: nothing to do
        return removed

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r}, {len(self)} clips, {len(self.sequences())} sequences)"

    # ---- internals ------------------------------------------------------------------
    def _gone(self) -> str | None:
        """What is true when the project folder (or its clips folder) no longer exists;
        None while it does."""
        if not self.path.is_dir():
            return (f"the project folder {self.path} is gone (deleted or moved?), and with it "
                    f"every clip saved there before. rn.Store({str(self.path)!r}) makes it again "
                    f"(empty).")
        for folder in (self.clips_dir, self.sequences_dir):
            if not folder.is_dir():
                return (f"the folder {folder} of the project {self.path} is gone (deleted or "
                        f"moved?), and with it what was saved there before. "
                        f"rn.Store({str(self.path)!r}) makes it again (empty).")
        return None

    def _entry(self, clip_id: str) -> StoreEntry:
        return StoreEntry(clip_id, self._read_record(clip_id), self)

    def _read_record(self, clip_id: str) -> dict:
        path = self.clips_dir / f"{clip_id}.json"
        if not path.is_file():
            raise InvalidInput("clip_id", clip_id, f"is not a clip in {self.path}",
                               "store.gallery() lists the stored clips.")
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StoreError(f"Cannot read {path}: {exc}") from exc
        if not isinstance(record, dict) or record.get("id") != clip_id or not all(
                k in record for k in ("fps", "frames", "width", "height")):
            raise StoreError(f"{path} is not a runway_nb clip record (edited or damaged).")
        return record

    def _record(self, clip_id: str) -> dict | None:
        """A record for `clip_id`: its own JSON, or a copy kept by a descendant."""
        if clip_id in self:
            return self._read_record(clip_id)
        for p in self.clips_dir.glob("*.json"):
            try:
                found = json.loads(p.read_text(encoding="utf-8")).get("ancestors", {}).get(clip_id)
            except (OSError, ValueError, AttributeError):
                continue
            if found:
                return found
        return None

    def _write(self, final: Path, fill) -> None:
        """fill(temp path) → fsync → os.replace(temp, final) → fsync the folder."""
        tmp = final.with_name(f".{final.stem}~{_HOST}~{os.getpid()}~{secrets.token_hex(4)}"
                              f".tmp{final.suffix}")
        try:
            fill(tmp)
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
            os.replace(tmp, final)
        except BaseException:
            try:
                tmp.unlink()
            except OSError:
                pass
            raise
        try:
            fd = os.open(final.parent, os.O_RDONLY)
            try:
                os.fsync(fd)      # the rename itself reaches the disk
            finally:
                os.close(fd)
        except OSError:
            pass                  # some systems (Windows) cannot open a folder; the rename is done


def _writer_gone(m: re.Match) -> bool:
    if m["host"] != _HOST:
        return False              # another machine's writer: only age can tell
    try:
        os.kill(int(m["pid"]), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def _ancestors(clip) -> dict:
    out, parent = {}, getattr(clip, "parent", None)
    while parent is not None and not isinstance(parent, str):
        out[parent.id] = clip_record(parent)
        parent = parent.parent
    return out


def _save_npz(path: Path, frames: np.ndarray) -> None:
    with open(path, "wb") as f:      # a file object: np.savez would append ".npz" to a name
        np.savez_compressed(f, frames=frames)


def _save_mp4(path: Path, frames: np.ndarray, clip) -> None:
    from .export.video import write_video

    write_video(path, frames, clip.fps, metadata=_provenance_tags(clip))


def _provenance_tags(clip) -> dict:
    from ._version import __version__

    prompt = clip.shot.prompt if clip.shot is not None else ""
    return {"title": prompt[:200], "comment": f"made with runway_nb {__version__}; clip {clip.id}",
            "encoder": f"runway_nb {__version__}"}


def _save_png(path: Path, frames: np.ndarray) -> None:
    from PIL import Image

    Image.fromarray(frames[len(frames) // 2]).save(path, format="PNG")


def _save_json(path: Path, data: dict) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, ensure_ascii=False)
