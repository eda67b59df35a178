"""Sequence: clips and title cards in order, joined by cuts, crossfades or dips to black.

A Sequence is an edit list, not a render. It holds the original clips (never changed),
each entry's trim window and the transition into it; `frames()` renders the film when
asked and `save(path)` exports it by suffix. Every edit is checked on a copy of the
entry list and committed only if the whole result is valid, so a refused edit leaves
the sequence exactly as it was.

Timing (n = round(seconds × fps) frames of the sequence):

    cut            A then B                                          |A| + |B|
    crossfade      A's last n frames blend into B's first n:         |A| + |B| − n
                   frame k = (1 − α)·A + α·B with α = (k + 1)/(n + 1)
    fade_to_black  A's last ⌊n/2⌋ frames ramp down to black and B's  |A| + |B|
                   first n − ⌊n/2⌋ ramp up from it (a dip: nothing overlaps, nothing is lost)

Format: every clip must have the sequence's size and fps (the first clip's, or the
`size=`/`fps=` given). A mismatch is refused, naming the entry — no silent resize.
`Sequence(..., conform=True)` opts in to resizing (aspect kept, letterboxed) and
retiming (nearest frame) every clip to that format instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from . import parse_size
from .errors import InvalidInput, SequenceChanged, check_number

TRANSITIONS = ("cut", "crossfade", "fade_to_black")
SUFFIXES = (".mp4", ".gif", ".webm", ".otio", ".json")
AUDIO_SUFFIXES = (".wav", ".mp3", ".ogg", ".flac", ".m4a", ".aac")
MAX_TITLE_CHARS = 200
_SAVE_NOW = object()     # autosave's default: write the sequence now


@dataclass(frozen=True)
class Transition:
    """How an entry begins: `kind` (cut | crossfade | fade_to_black) over `seconds`."""
    kind: str = "cut"
    seconds: float = 0.5

    def __post_init__(self):
        if self.kind not in TRANSITIONS:
            raise InvalidInput("transition", self.kind, f"must be one of {', '.join(TRANSITIONS)}")
        check_number("transition_seconds", self.seconds, low=0, high=60)
        object.__setattr__(self, "seconds", float(self.seconds))

    def split(self, fps: float) -> tuple[int, int]:
        """Frames taken from (the entry before, this entry) at `fps`."""
        n = 0 if self.kind == "cut" else round(self.seconds * fps)
        if self.kind == "crossfade":
            return n, n
        return n // 2, n - n // 2


def as_transition(kind, seconds=None, default: Transition | None = None) -> Transition | None:
    """None → None (follow the sequence default); a name, dict or Transition → Transition."""
    if kind is None and seconds is None:
        return None
    if isinstance(kind, Transition):
        return kind if seconds is None else replace(kind, seconds=seconds)
    if isinstance(kind, dict):
        unknown = sorted(set(kind) - {"kind", "seconds"}, key=str)
        if unknown:
            raise InvalidInput(f"transition.{unknown[0]}", kind[unknown[0]],
                               "is not a transition's setting: a dict has 'kind' and 'seconds'")
        return Transition(**kind)
    if kind is None:
        kind = default.kind if default else "cut"
    if seconds is None:
        seconds = default.seconds if default else 0.5
    return Transition(kind, seconds)


@dataclass(frozen=True)
class Entry:
    """One place in the sequence: a clip (with a trim window) or a title card."""
    clip: Any = None                    # a Clip, or None for a title card
    start: int = 0                      # trim window [start, end) in the clip's own frames
    end: int | None = None              # None: to the clip's last frame
    text: str | None = None             # title card text
    seconds: float = 0.0                # title card duration
    background: tuple = (0, 0, 0)
    color: tuple = (255, 255, 255)
    transition: Transition | None = None  # into this entry; None: the sequence default

    @property
    def kind(self) -> str:
        return "title" if self.clip is None else "clip"

    @property
    def stop(self) -> int:
        return len(self.clip.frames) if self.end is None else self.end

    def length(self, fps: float) -> int:
        """Frames this entry lasts at the sequence's fps (before transitions)."""
        if self.clip is None:
            return max(1, round(self.seconds * fps))
        n = self.stop - self.start
        return n if math.isclose(self.clip.fps, fps) else max(1, round(n / self.clip.fps * fps))

    def __repr__(self) -> str:
        what = f"title {self.text!r} {self.seconds:g} s" if self.clip is None else (
            f"clip {self.clip.id} frames {self.start}:{self.stop}")
        how = "" if self.transition is None else f", {self.transition.kind} {self.transition.seconds:g} s"
        return f"Entry({what}{how})"


def _rgb(field: str, value) -> tuple:
    if isinstance(value, (tuple, list)) and len(value) == 3 and all(
            isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 255 for v in value):
        return tuple(value)
    raise InvalidInput(field, value, "must be an (r, g, b) triple of integers 0–255")


class Sequence:
    """Ordered clips and title cards; `seq += clip`, `seq.save("film.mp4")`."""

    def __init__(self, clips=(), transition="cut", transition_seconds: float = 0.5, *,
                 size=None, fps=None, conform: bool = False, soundtrack=None):
        self._default = Transition(transition, transition_seconds)
        self._size = parse_size(size)
        self._fps = None if fps is None else float(check_number("fps", fps, low=0,
                                                                low_inclusive=False, high=240))
        self._conform = bool(conform)
        self._entries: tuple[Entry, ...] = ()
        self._soundtrack: Path | None = None
        self._autosave = None          # (store, name) once `autosave` is called
        self._version = None           # the store's version of `name` this sequence is
        from .clip import Clip

        if isinstance(clips, Clip):    # Sequence(clip): one clip, not one entry per frame of it
            clips = (clips,)
        self._commit(tuple(self._clip_entry(c, f"clips[{i}]") for i, c in enumerate(clips)))
        if soundtrack is not None:
            self.soundtrack = soundtrack

    # ---- reading ------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self):
        return iter(self._entries)

    def __getitem__(self, i) -> Entry:
        return self._entries[self._index(i)]

    @property
    def entries(self) -> tuple[Entry, ...]:
        return self._entries

    @property
    def clips(self) -> tuple:
        """The clips in playing order (title cards left out), as they were appended."""
        return tuple(e.clip for e in self._entries if e.clip is not None)

    @property
    def conform(self) -> bool:
        return self._conform

    @property
    def transition(self) -> Transition:
        """The default transition, used by entries that set none of their own."""
        return self._default

    @transition.setter
    def transition(self, value):
        self._commit(self._entries, as_transition(value, None, self._default) or Transition())

    @property
    def soundtrack(self) -> Path | None:
        return self._soundtrack

    @soundtrack.setter
    def soundtrack(self, path):
        if path is not None:
            p = Path(path)
            if p.suffix.lower() not in AUDIO_SUFFIXES:
                raise InvalidInput("soundtrack", str(path), f"must be an audio file ending "
                                   f"with one of {', '.join(AUDIO_SUFFIXES)}")
            if not p.is_file():
                raise InvalidInput("soundtrack", str(path), "must be an existing file",
                                   f"No file at {p.resolve()}.")
            path = p
        before, self._soundtrack = self._soundtrack, path
        try:
            self._commit(self._entries)   # an autosaved sequence saves it, as any other edit
        except BaseException:
            self._soundtrack = before
            raise

    def format(self) -> tuple[int, int, float] | None:
        """(width, height, fps) of the film, or None while it has no clip to set it."""
        return self._format(self._entries)[0]

    @property
    def frame_count(self) -> int:
        fmt = self.format()
        if fmt is None or not self._entries:
            return 0
        fps = fmt[2]
        overlap = sum(self._into(i).split(fps)[1] for i in range(1, len(self._entries))
                      if self._into(i).kind == "crossfade")
        return sum(e.length(fps) for e in self._entries) - overlap

    @property
    def duration(self) -> float:
        fmt = self.format()
        return 0.0 if fmt is None else self.frame_count / fmt[2]

    # ---- editing (each builds a new entry list, checks it, then commits) -------------
    def append(self, clip, transition=None, transition_seconds=None) -> Sequence:
        return self.insert(len(self._entries), clip, transition, transition_seconds)

    def insert(self, i: int, clip, transition=None, transition_seconds=None) -> Sequence:
        i = self._index(i, allow_end=True)
        entry = replace(self._clip_entry(clip, f"sequence[{i}]"),
                        transition=as_transition(transition, transition_seconds, self._default))
        self._commit(self._entries[:i] + (entry,) + self._entries[i:])
        return self

    def __iadd__(self, other):
        items = other if isinstance(other, (list, tuple)) else [other]
        entries = list(self._entries)
        for k, clip in enumerate(items):
            entries.append(self._clip_entry(clip, f"sequence[{len(self._entries) + k}]"))
        self._commit(tuple(entries))
        return self

    def title(self, text: str, seconds: float = 1.5, *, at: int | None = None, transition=None,
              transition_seconds=None, background=(0, 0, 0), color=(255, 255, 255)) -> Sequence:
        """Add a title card: `text` centred on a solid frame, lasting `seconds`."""
        if not isinstance(text, str) or not text.strip():
            raise InvalidInput("text", text, "must be some words for the title card")
        if len(text) > MAX_TITLE_CHARS:
            raise InvalidInput("text", text, f"must be at most {MAX_TITLE_CHARS} characters")
        check_number("seconds", seconds, low=0, low_inclusive=False, high=60)
        i = self._index(len(self._entries) if at is None else at, allow_end=True)
        entry = Entry(text=text, seconds=float(seconds), background=_rgb("background", background),
                      color=_rgb("color", color),
                      transition=as_transition(transition, transition_seconds, self._default))
        self._commit(self._entries[:i] + (entry,) + self._entries[i:])
        return self

    def move(self, i: int, j: int) -> Sequence:
        """Move entry i so that it ends up at index j."""
        i, j = self._index(i, field="i"), self._index(j, field="j")
        entries = list(self._entries)
        entries.insert(j, entries.pop(i))
        self._commit(tuple(entries))
        return self

    def remove(self, i: int) -> Entry:
        i = self._index(i)
        removed = self._entries[i]
        self._commit(self._entries[:i] + self._entries[i + 1:])
        return removed

    def trim(self, i: int, start: float | None = None, end: float | None = None) -> Sequence:
        """Play only [start, end) seconds of entry i's clip (clip time; None keeps the
        current edge). The clip itself is untouched: trimming is an edit, not a cut."""
        i = self._index(i)
        e = self._entries[i]
        if e.clip is None:
            raise InvalidInput(f"sequence[{i}]", e.text, "is a title card, which has no frames "
                               "to trim", "Remove it and add a new title with other seconds.")
        total = len(e.clip.frames)
        lo = e.start if start is None else round(check_number("start", start, low=0) * e.clip.fps)
        hi = e.stop if end is None else round(check_number("end", end, low=0) * e.clip.fps)
        if not 0 <= lo < hi <= total:
            raise InvalidInput(f"sequence[{i}] trim", (start, end), f"must keep at least one frame "
                               f"within the clip's {total / e.clip.fps:g} s ({total} frames at "
                               f"{e.clip.fps:g} fps); got frames {lo}:{hi}")
        self._commit(self._replace_at(i, replace(e, start=lo, end=None if hi == total else hi)))
        return self

    def set_transition(self, i: int, transition, transition_seconds=None) -> Sequence:
        """The transition into entry i (None: follow the default). Entry 0 has none to show,
        but keeps what is set in case it moves later."""
        i = self._index(i)
        t = as_transition(transition, transition_seconds, self._default)
        self._commit(self._replace_at(i, replace(self._entries[i], transition=t)))
        return self

    def autosave(self, store, name: str, *, version: Any = _SAVE_NOW) -> Sequence:
        """Save to `store` as `name` now and after every edit (an edit that cannot be saved
        is undone and its StoreError raised).

        An edit is saved only over the file this sequence last read or wrote: if another
        writer (a second Studio or notebook on the project) saved `name` since, the edit is
        undone and SequenceChanged raised, so neither overwrites the other; reload with
        `store.load_sequence(name, autosave=True)` and redo it. `version`: this sequence already is that
        version of the store's `name` (`store.sequence_version(name)` read before loading
        it; None: not saved yet): nothing is written now."""
        if version is _SAVE_NOW:
            for clip in self.clips:               # encoded before the lock: others wait for the write alone
                store.add(clip)
            with store.sequence_lock(name):
                store.save_sequence(name, self)
                version = store.sequence_version(name)
        self._autosave, self._version = (store, name), version
        return self

    @property
    def autosaved(self) -> bool:
        """Whether every edit is saved to a project (`autosave`); False: in memory only."""
        return self._autosave is not None

    def changed_on_disk(self) -> bool:
        """True when this autosaved sequence's file was saved by another writer since this
        sequence read or wrote it (its next edit would raise SequenceChanged)."""
        if self._autosave is None:
            return False
        store, name = self._autosave
        return store.sequence_version(name) != self._version

    # ---- rendering --------------------------------------------------------------------
    def frames(self) -> np.ndarray:
        """Render the film: (T, H, W, 3) uint8."""
        from .export.render import render_entries

        width, height, fps = self._require_format()
        trans = [None] + [self._into(i) for i in range(1, len(self._entries))]
        return render_entries(self._entries, trans, width, height, fps)

    def thumbnails(self, height: int = 48) -> bytes:
        """A PNG strip: the middle frame of every entry, in order."""
        from .export.render import thumbnail_strip

        width, h, fps = self._require_format()
        return thumbnail_strip(self._entries, width, h, fps, height)

    def save(self, path, **options) -> Path:
        """Export by suffix: .mp4 / .gif / .webm (video + <stem>.json film sidecar), .otio
        (a timeline referencing each clip's video, saved beside it), .json (the film file)."""
        from .export.render import save_sequence

        return save_sequence(self, path, **options)

    # ---- display ----------------------------------------------------------------------
    def __repr__(self) -> str:
        n_titles = sum(e.clip is None for e in self._entries)
        fmt = self.format()
        where = "" if fmt is None else f", {self.duration:.2f} s at {fmt[2]:g} fps, {fmt[0]}x{fmt[1]}"
        titles = f", {n_titles} title{'s' * (n_titles != 1)}" if n_titles else ""
        n = len(self._entries) - n_titles
        return (f"Sequence({n} clip{'s' * (n != 1)}{titles}{where}, "
                f"transition={self._default.kind!r})")

    def _repr_mimebundle_(self, include=None, exclude=None):
        from .export.render import mimebundle

        return mimebundle(self)

    # ---- internals --------------------------------------------------------------------
    def _index(self, i, allow_end: bool = False, field: str = "index") -> int:
        n = len(self._entries)
        top = n if allow_end else n - 1
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not -n <= i <= top:
            raise InvalidInput(field, i, f"must be an index from 0 to {top} (the sequence has "
                               f"{n} entr{'y' if n == 1 else 'ies'})" if top >= 0 else
                               "cannot point into an empty sequence")
        return int(i) + n if i < 0 else int(i)

    def _replace_at(self, i: int, entry: Entry) -> tuple[Entry, ...]:
        return self._entries[:i] + (entry,) + self._entries[i + 1:]

    def _clip_entry(self, clip, field: str) -> Entry:
        from .clip import Clip

        if not isinstance(clip, Clip):
            raise InvalidInput(field, clip, "must be a runway_nb Clip",
                               "Make one with rn.generate(...) or rn.Clip(frames, fps=...).")
        return Entry(clip=clip)

    def _into(self, i: int, entries=None, default=None) -> Transition:
        e = (entries or self._entries)[i]
        return e.transition or (default or self._default)

    def _format(self, entries):
        """((w, h, fps) or None, where it came from)."""
        first = next((k for k, e in enumerate(entries) if e.clip is not None), None)
        w_h = self._size
        fps = self._fps
        if first is not None:
            clip = entries[first].clip
            h, w = clip.frames.shape[1:3]
            w_h = w_h or (w, h)
            fps = fps or float(clip.fps)
        if w_h is None or fps is None:
            return None, ""
        given = "given to Sequence" if self._size or self._fps else f"set by sequence[{first}]"
        return (w_h[0], w_h[1], fps), given

    def _require_format(self):
        if not self._entries:
            raise InvalidInput("sequence", "empty", "needs at least one clip to render",
                               "Append a clip: seq.append(clip) or seq += clip.")
        fmt = self.format()
        if fmt is None:
            raise InvalidInput("sequence", "titles only", "needs a clip (or size= and fps=) to "
                               "know the film's frame size and fps")
        return fmt

    def _check(self, entries, default: Transition) -> None:
        fmt, given = self._format(entries)
        if fmt is None:
            return
        width, height, fps = fmt
        for i, e in enumerate(entries):
            if e.clip is None or self._conform:
                continue
            h, w = e.clip.frames.shape[1:3]
            if (w, h) != (width, height) or not math.isclose(e.clip.fps, fps):
                raise InvalidInput(f"sequence[{i}]", f"{w}x{h} at {e.clip.fps:g} fps",
                                   f"every clip must match the film's {width}x{height} at {fps:g} "
                                   f"fps ({given})", "Upscale/interpolate the clip to match, or "
                                   "make the sequence with conform=True to resize and retime "
                                   "every clip to that format.")
        lengths = [e.length(fps) for e in entries]
        used = [[0, 0] for _ in entries]          # frames taken by the transition in / out
        for i in range(1, len(entries)):
            t = self._into(i, entries, default)
            used[i - 1][1], used[i][0] = t.split(fps)
        for k, (n_in, n_out) in enumerate(used):
            if n_in + n_out > lengths[k]:
                i = k if n_in > lengths[k] or n_out == 0 else k + 1
                t = self._into(i, entries, default)
                raise InvalidInput(f"sequence[{i}] transition", f"{t.kind} {t.seconds:g} s",
                                   f"needs {n_in + n_out} frames of sequence[{k}] at {fps:g} fps "
                                   f"(for its transitions in and out) but it has {lengths[k]}",
                                   "Use a shorter transition, a cut, or a longer clip.")

    def _commit(self, entries: tuple[Entry, ...], default: Transition | None = None) -> None:
        default = default or self._default
        self._check(entries, default)
        before = (self._entries, self._default)
        self._entries, self._default = entries, default
        if self._autosave is not None:
            store, name = self._autosave
            try:
                for clip in self.clips:           # new clips encoded before the lock (adding a
                    store.add(clip)               # stored one is free): others wait for the JSON alone
                with store.sequence_lock(name):
                    if store.sequence_version(name) != self._version:
                        raise SequenceChanged(
                            f"The sequence {name!r} in {store.path} was saved by another writer "
                            f"(another Studio or notebook on this project) since this one read or "
                            f"saved it: this edit is undone here rather than saved over theirs. "
                            f"Reload it with store.load_sequence({name!r}, autosave=True) and redo "
                            f"the edit.")
                    store.save_sequence(name, self)
                    self._version = store.sequence_version(name)
            except BaseException:
                self._entries, self._default = before
                raise

