"""OpenTimelineIO export: the cut as a timeline that real editors open.

One video track. Each entry is an otio Clip whose ExternalReference points at a video
file (the Store's clips/<id>.mp4, or `<stem>_media/<id>.mp4` written beside the .otio;
title cards are rendered to a short mp4 there too). Source ranges are in each clip's own
fps; the timeline's rate is the film's fps. A clip the sequence conforms to another fps
(conform=True) has its range in the film's fps instead, starting at its trim point's time
and lasting exactly the frames the film renders of it (round(frames / its fps × film fps),
less the dissolve handles): in its own frames that length is fractional, and rounding it
there left the timeline a frame off the film. When the film rounds that length up, the
range's last frame starts inside the media and ends up to half a film frame past its end
(the film holds the clip's last frame there).

Transitions follow OTIO's model, where a transition sits on the cut and borrows frames
either side of it: our crossfade of n frames overlaps A's last n frames with B's first
n, so the cut goes h = ⌊n/2⌋ frames into the overlap, A's range ends n − h frames early
and B's starts h frames late, and an SMPTE_Dissolve with in_offset = h, out_offset = n − h
plays exactly the overlap. The track lasts |A| + |B| − n, like the render. A
fade_to_black overlaps nothing, so it is a zero-length Custom transition named
"fade_to_black" with its seconds in metadata (editors show a cut; re-renders keep the dip).
"""

from __future__ import annotations

import math
from pathlib import Path

from ..errors import InvalidInput, MissingDependency


def _otio():
    try:
        import opentimelineio
    except ImportError:
        raise MissingDependency("opentimelineio", "Exporting an OpenTimelineIO timeline") from None
    return opentimelineio


def build_timeline(seq, media: dict[int, Path], name: str = "runway_nb film", absolute: bool = True):
    """An otio Timeline of `seq`. `media[i]` is the video file of entry i."""
    otio = _otio()
    from .._version import __version__

    width, height, fps = seq._require_format()
    entries = seq.entries
    into = [None] + [seq._into(i) for i in range(1, len(entries))]
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    for i, e in enumerate(entries):
        rate = fps if e.clip is None else float(e.clip.fps)
        total = e.length(fps) if e.clip is None else len(e.clip.frames)
        # a dissolve puts the cut h frames into the overlap: this entry starts h frames late
        # and ends n − h early, and those frames become the handles the dissolve plays
        cut_in = _dissolve(into[i], fps)[0]
        cut_out = _dissolve(into[i + 1], fps)[1] if i + 1 < len(entries) else 0
        if e.clip is None or math.isclose(rate, fps):
            first = 0 if e.clip is None else e.start
            count = e.length(fps) if e.clip is None else e.stop - e.start
            start = otio.opentime.RationalTime(first + cut_in, rate)
            duration = otio.opentime.RationalTime(count - cut_in - cut_out, rate)
        else:
            # conformed to the film's fps: the film plays e.length(fps) frames of this clip
            # (nearest-frame retiming, film frame k showing the clip at k / fps s from the
            # trim point). Counted in the clip's own frames that length is fractional, and
            # rounding it there puts the range a frame off the film, so the range is in the
            # film's frames: it starts at the trim point's time and lasts what the film plays
            start = (otio.opentime.RationalTime(e.start, rate).rescaled_to(fps)
                     + otio.opentime.RationalTime(cut_in, fps))
            duration = otio.opentime.RationalTime(e.length(fps) - cut_in - cut_out, fps)
        url = Path(media[i]).resolve().as_uri() if absolute else str(media[i])
        ref = otio.schema.ExternalReference(target_url=url, available_range=otio.opentime.TimeRange(
            otio.opentime.RationalTime(0, rate), otio.opentime.RationalTime(total, rate)))
        meta = {"runway_nb": {"entry": i, "kind": e.kind}}
        if e.clip is not None:
            meta["runway_nb"].update(clip=e.clip.id, prompt=e.clip.shot.prompt if e.clip.shot else None)
        else:
            meta["runway_nb"]["text"] = e.text
        if i and into[i].kind != "cut":
            track.append(_transition(otio, into[i], fps))
        track.append(otio.schema.Clip(
            name=e.text if e.clip is None else f"{i:02d} {e.clip.id}", media_reference=ref,
            source_range=otio.opentime.TimeRange(start, duration),
            metadata=meta))
    timeline = otio.schema.Timeline(name=name, global_start_time=otio.opentime.RationalTime(0, fps),
                                    metadata={"runway_nb": {"generator": f"runway_nb {__version__}",
                                                            "width": width, "height": height, "fps": fps}})
    timeline.tracks.append(track)
    return timeline


def _dissolve(t, fps: float) -> tuple[int, int]:
    """(in_offset, out_offset) in film frames: how far the transition reaches back into the
    entry before the cut and forward into the one after. Zero for cuts and dips."""
    if t is None or t.kind != "crossfade":
        return 0, 0
    n = t.split(fps)[1]
    return n // 2, n - n // 2


def _transition(otio, t, fps: float):
    h, rest = _dissolve(t, fps)
    kind = (otio.schema.TransitionTypes.SMPTE_Dissolve if t.kind == "crossfade"
            else otio.schema.TransitionTypes.Custom)
    return otio.schema.Transition(
        name=t.kind, transition_type=kind, in_offset=otio.opentime.RationalTime(h, fps),
        out_offset=otio.opentime.RationalTime(rest, fps),
        metadata={"runway_nb": {"kind": t.kind, "seconds": t.seconds}})


def write_otio(seq, path, store=None, absolute: bool = True) -> dict[str, str]:
    """Write `path` (.otio) and the media it references; returns clip id → media path
    (relative to the .otio's folder) for the film sidecar."""
    otio = _otio()
    import numpy as np

    from .render import title_card
    from .video import write_video

    path = Path(path)
    width, height, fps = seq._require_format()
    media_dir = path.with_name(f"{path.stem}_media")
    media: dict[int, Path] = {}
    files: dict[str, str] = {}
    for i, e in enumerate(seq.entries):
        if e.clip is not None and store is not None:
            media[i] = store.add(e.clip).video
        else:
            media_dir.mkdir(exist_ok=True)
            if e.clip is None:
                card = title_card(e.text, width, height, e.background, e.color)
                media[i] = media_dir / f"title_{i:02d}.mp4"
                write_video(media[i], np.broadcast_to(card, (e.length(fps), height, width, 3)), fps)
            else:
                media[i] = media_dir / f"{e.clip.id}.mp4"
                if not media[i].exists():
                    e.clip.save(media[i])
        if e.clip is not None:
            try:
                files[e.clip.id] = Path(media[i]).resolve().relative_to(path.parent.resolve()).as_posix()
            except ValueError:
                pass              # outside the film's folder (a Store elsewhere): not a film "file"
    try:
        otio.adapters.write_to_file(build_timeline(seq, media, name=path.stem, absolute=absolute),
                                    str(path))
    except OSError as exc:
        raise InvalidInput("path", str(path), f"could not be written ({exc.strerror or exc})") from exc
    return files
