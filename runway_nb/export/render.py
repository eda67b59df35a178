"""Turn a Sequence's edit list into pictures and files: the film's frames (transitions,
title cards, conforming), a thumbnail strip, the inline display and `save` by suffix.

Kept apart from `sequence.py` so the edit list reads in one sitting; the timing rules
are documented there and implemented here.
"""

from __future__ import annotations

import math
import os
import textwrap
from pathlib import Path

import numpy as np

from ..errors import InvalidInput

GENERATOR = "runway_nb"


# ---- pictures -------------------------------------------------------------------------
def title_card(text: str, width: int, height: int, background=(0, 0, 0),
               color=(255, 255, 255)) -> np.ndarray:
    """(H, W, 3) uint8: `text` centred on a solid frame, in PIL's default font."""
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("RGB", (width, height), tuple(background))
    draw = ImageDraw.Draw(img)
    size = max(8, height // 8)
    try:                      # Pillow ≥ 10.1 with FreeType: a scalable default font
        font = ImageFont.load_default(size=size)
    except TypeError:         # older Pillow: the fixed bitmap font
        font = ImageFont.load_default()
    # wrap to the frame's width: a character of the default font is about 0.6 × its size wide
    per_line = max(4, int(width * 0.9 / (0.6 * size)))
    lines = textwrap.wrap(text, per_line) or [text]
    draw.multiline_text((width / 2, height / 2), "\n".join(lines), fill=tuple(color), font=font,
                        anchor="mm", align="center")
    return np.asarray(img, dtype=np.uint8)


def conform_frames(frames: np.ndarray, src_fps: float, width: int, height: int,
                   fps: float) -> np.ndarray:
    """Retime (nearest frame) and resize (aspect kept, black letterbox) to the film format."""
    from PIL import Image

    t, h, w = frames.shape[:3]
    if not math.isclose(src_fps, fps):
        n = max(1, round(t / src_fps * fps))
        frames = frames[np.minimum((np.arange(n) * src_fps / fps).astype(int), t - 1)]
    if (w, h) == (width, height):
        return frames
    scale = min(width / w, height / h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    x0, y0 = (width - nw) // 2, (height - nh) // 2
    out = np.zeros((len(frames), height, width, 3), np.uint8)
    for k, f in enumerate(frames):
        out[k, y0:y0 + nh, x0:x0 + nw] = np.asarray(Image.fromarray(f).resize((nw, nh), Image.LANCZOS))
    return out


def entry_frames(entry, width: int, height: int, fps: float) -> np.ndarray:
    """One entry's own frames at the film format (a title card repeated, or the trimmed clip)."""
    if entry.clip is None:
        card = title_card(entry.text, width, height, entry.background, entry.color)
        return np.broadcast_to(card, (entry.length(fps), height, width, 3))
    frames = np.asarray(entry.clip.frames)[entry.start:entry.stop]
    return conform_frames(frames, float(entry.clip.fps), width, height, fps)


def _ramp(seg: np.ndarray, factors: np.ndarray) -> np.ndarray:
    return np.rint(seg.astype(np.float32) * factors[:, None, None, None]).astype(np.uint8)


def render_entries(entries, transitions, width: int, height: int, fps: float) -> np.ndarray:
    """The film's frames. `transitions[i]` is how entry i begins (None for entry 0)."""
    segs = [entry_frames(e, width, height, fps) for e in entries]
    starts, pos = [], 0
    for i, seg in enumerate(segs):
        if i and transitions[i].kind == "crossfade":
            pos -= transitions[i].split(fps)[1]          # B starts n frames before A ends
        starts.append(pos)
        pos += len(seg)
    out = np.empty((pos, height, width, 3), np.uint8)
    for i, seg in enumerate(segs):
        t_in = transitions[i]
        t_out = transitions[i + 1] if i + 1 < len(segs) else None
        head = t_in.split(fps)[1] if t_in is not None else 0
        tail = t_out.split(fps)[0] if t_out is not None else 0
        p = starts[i]
        out[p:p + len(seg)] = seg
        # a dip to black: the last frame before the cut and the first after it are black
        if t_out is not None and t_out.kind == "fade_to_black" and tail:
            end = p + len(seg)
            out[end - tail:end] = _ramp(seg[-tail:], np.arange(tail - 1, -1, -1) / tail)
        if t_in is not None and t_in.kind == "fade_to_black" and head:
            out[p:p + head] = _ramp(seg[:head], np.arange(head) / head)
        if t_in is not None and t_in.kind == "crossfade" and head:
            # B's first frames were just written over A's last ones: blend the two back in.
            # (A's tail is untouched by any fade: its way out is this crossfade.)
            a = segs[i - 1][-head:].astype(np.float32)
            alpha = (np.arange(1, head + 1, dtype=np.float32) / (head + 1))[:, None, None, None]
            out[p:p + head] = np.rint((1 - alpha) * a + alpha * seg[:head]).astype(np.uint8)
    return out


def thumbnail_strip(entries, width: int, height: int, fps: float, thumb_height: int = 48) -> bytes:
    """PNG bytes: the middle frame of each entry, side by side with a 2-pixel gap."""
    import io

    from PIL import Image

    tw = max(1, round(width * thumb_height / height))
    strip = Image.new("RGB", (len(entries) * (tw + 2) - 2, thumb_height), (40, 40, 40))
    for k, e in enumerate(entries):
        if e.clip is None:
            frame = title_card(e.text, width, height, e.background, e.color)
        else:
            frame = np.asarray(e.clip.frames[(e.start + e.stop - 1) // 2])
        strip.paste(Image.fromarray(frame).resize((tw, thumb_height)), (k * (tw + 2), 0))
    buf = io.BytesIO()
    strip.save(buf, format="PNG")
    return buf.getvalue()


# ---- files ------------------------------------------------------------------------------
def provenance_tags(seq, sidecar: Path) -> dict:
    """Container metadata naming the generator and the film file that re-makes the video."""
    from .._version import __version__

    prompts = "; ".join(dict.fromkeys(c.shot.prompt for c in seq.clips if c.shot is not None))
    return {"title": prompts[:200] or "runway_nb film",
            "comment": f"made with runway_nb {__version__}; recipe (every Shot): {sidecar.name}",
            "encoder": f"runway_nb {__version__}"}


def check_export_path(path) -> Path:
    from ..sequence import SUFFIXES

    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise InvalidInput("path", str(path), f"must end with one of {', '.join(SUFFIXES)}",
                           "The suffix chooses the format, e.g. seq.save('film.mp4').")
    folder = path.parent
    if not folder.is_dir():
        raise InvalidInput("path", str(path), f"must be in an existing folder; {folder} does not exist",
                           f"Create it first: os.makedirs({str(folder)!r}).")
    # found now, not after the film is rendered and encoded: a folder where the file (or an
    # .otio's media folder) would go
    if path.is_dir():
        raise InvalidInput("path", str(path), f"must not name a folder ({path} is one)")
    media = path.with_name(f"{path.stem}_media")
    if path.suffix.lower() == ".otio" and media.exists() and not media.is_dir():
        raise InvalidInput("path", str(path), f"needs the folder {media.name} beside it for the clips' "
                           "videos, and a file has that name", "Rename or move that file.")
    return path


def save_sequence(seq, path, *, store=None, absolute_urls: bool = True) -> Path:
    """Export by suffix (see Sequence.save). Checks everything before writing anything."""
    from .film import film_links, save_film

    path = check_export_path(path)
    suffix = path.suffix.lower()
    seq._require_format()
    sidecar = path.with_suffix(".json")
    film_links(sidecar)        # refuses, before any writing, a JSON there that is not a film's
    if suffix == ".json":
        save_film(seq, path, lookup=None if store is None else store._record)
        linked = film_links(path)
        lost = [c.id for c in seq.clips if c.id not in linked and (
            c.shot is None or (c.parent is None and "image" in (c.provenance or {})))]
        if lost and store is None:
            import warnings

            warnings.warn(f"{path.name} cannot re-make clip{'s' * (len(lost) > 1)} {', '.join(lost)} from "
                          f"its Shot (made from frames, or from a picture the film does not hold), and holds "
                          f"no video of it: the film cannot be rebuilt from this file alone (runway-nb "
                          f"render, load_film). Save it as .otio, which keeps each clip's video beside "
                          f"the film, or in a project (rn.Store(DIR).save_sequence(name, seq)).", stacklevel=3)
        return path
    if suffix == ".otio":
        from .otio import write_otio

        files = write_otio(seq, path, store=store, absolute=absolute_urls)
        save_film(seq, sidecar, files=files)
        return path
    with_sound = seq.soundtrack is not None and suffix in (".mp4", ".webm")
    if with_sound:
        _check_audio(Path(seq.soundtrack))   # before the film is rendered, not after
    frames = seq.frames()
    fps = seq.format()[2]
    tags = provenance_tags(seq, sidecar)
    if with_sound:
        _write_with_sound(path, frames, fps, seq.soundtrack, tags)
    else:
        if seq.soundtrack is not None:
            import warnings

            warnings.warn(f"A {suffix} has no sound: {path.name} is written without the soundtrack "
                          f"{seq.soundtrack.name} (the film's JSON keeps it; .mp4 and .webm carry it).",
                          stacklevel=3)
        from .video import write_video

        write_video(path, frames, fps, metadata=tags)
    save_film(seq, sidecar)
    return path


def _write_with_sound(path: Path, frames: np.ndarray, fps: float, sound: Path, tags: dict) -> None:
    """moviepy muxes the soundtrack (cut to the film's length); the video stream gets the
    same settings as the silent export: H.264 yuv420p + faststart (VP9 for .webm). Written
    to a temp file and renamed, as silent exports are: an interrupted export leaves the
    earlier file at `path` whole, and moviepy's scratch audio goes with its temp folder."""
    import tempfile

    try:
        from moviepy import AudioFileClip, ImageSequenceClip
    except ImportError:
        from ..errors import MissingDependency

        raise MissingDependency("moviepy", "Adding a soundtrack to an export") from None
    from ..files import new_temp_file

    audio = AudioFileClip(str(sound))      # checked by save_sequence (_check_audio)
    video = ImageSequenceClip(list(frames), fps=fps)
    tmp = new_temp_file(path)
    try:
        if audio.duration > video.duration:
            audio = audio.subclipped(0, video.duration)
        webm = path.suffix.lower() == ".webm"
        params = ["-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2"]          # yuv420p needs even sizes
        # VP9 from RGB frames would be profile 1 (gbrp), which browsers do not all play
        params += ["-pix_fmt", "yuv420p"] if webm else ["-movflags", "+faststart"]
        for key, value in tags.items():
            params += ["-metadata", f"{key}={value}"]
        with tempfile.TemporaryDirectory(dir=path.parent, prefix=f".{path.stem}.audio.") as scratch:
            # WebM's sound is Vorbis: moviepy cannot name a scratch file for libopus (it raised
            # "audio_codec … unknown"), and ffmpeg's Opus refuses a 44.1 kHz soundtrack
            video.with_audio(audio).write_videofile(
                str(tmp), fps=fps, codec="libvpx-vp9" if webm else "libx264",
                audio_codec="libvorbis" if webm else "aac", pixel_format="yuv420p", ffmpeg_params=params,
                temp_audiofile=str(Path(scratch) / ("sound.ogg" if webm else "sound.m4a")), logger=None)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
        audio.close()
        video.close()


def _check_audio(sound: Path) -> None:
    """Refuse a soundtrack gone since it was set, or one ffmpeg finds no audio in, before
    moviepy opens it: moviepy's reader of such a file fails half-made and complains again
    from its __del__."""
    import subprocess

    import imageio_ffmpeg

    if not sound.is_file():
        raise InvalidInput("soundtrack", str(sound), "must be an existing file",
                           "Set seq.soundtrack to the file's new place, or to None.")
    probe = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(sound)],
                           capture_output=True, text=True, errors="replace")
    if "Audio:" not in probe.stderr:
        said = [line.strip() for line in probe.stderr.splitlines() if line.strip()]
        raise InvalidInput("soundtrack", str(sound), "must be audio that ffmpeg can read"
                           + (f" (ffmpeg: {said[-1]})" if said else ""))


# ---- display ----------------------------------------------------------------------------
def mimebundle(seq) -> dict:
    """HTML5 <video> of the cut + the thumbnail strip (image/png) + text/plain."""
    import base64
    import html

    from ..errors import RunwayError
    from .video import encode_mp4_bytes

    text = repr(seq)
    try:
        width, _, fps = seq._require_format()
        mp4 = encode_mp4_bytes(seq.frames(), fps)
        strip = seq.thumbnails()
    except RunwayError as exc:
        return {"text/plain": f"{text}\n({exc})"}
    v = base64.b64encode(mp4).decode()
    s = base64.b64encode(strip).decode()
    shown = max(width, 256)
    body = (f"<div class='runway-sequence'><video controls loop playsinline width='{shown}' "
            f"src='data:video/mp4;base64,{v}'></video><br><img src='data:image/png;base64,{s}' "
            f"style='image-rendering:pixelated'><div><code>{html.escape(text)}</code></div></div>")
    return {"text/html": body, "image/png": strip, "text/plain": text}
