"""Write and read video files with the ffmpeg that imageio-ffmpeg bundles (no system ffmpeg).

MP4 is H.264 in yuv420p with +faststart, so browsers play it inline; WebM is VP9;
GIF loops, its frame times rounded to hundredths of a second so the whole lasts as long
as the clip (gif_delays). yuv420p needs even sizes: odd frames are padded by repeating the edge
pixels (recorded in the metadata), never resized.
"""

from __future__ import annotations

import errno
import math
import os
import re
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from ..errors import InvalidInput
from ..files import new_temp_file

VIDEO_SUFFIXES = (".mp4", ".webm", ".gif")
_CODECS = {
    ".mp4": ("libx264", ["-pix_fmt", "yuv420p", "-movflags", "+faststart", "-crf", "16"]),
    ".webm": ("libvpx-vp9", ["-pix_fmt", "yuv420p", "-b:v", "0", "-crf", "24"]),
}


def _even(frames: np.ndarray) -> np.ndarray:
    h, w = frames.shape[1:3]
    ph, pw = h % 2, w % 2
    if ph or pw:
        frames = np.pad(frames, ((0, 0), (0, ph), (0, pw), (0, 0)), mode="edge")
    return frames


# A GIF holds each frame's delay in whole hundredths of a second: 1/8 s or 1/24 s has none.
COMMON_FPS = (5, 6, 8, 10, 12, 12.5, 15, 16, 20, 24, 25, 30, 50, 60)


# This package's GIFs say what clip they hold in their comment block, so they read back
# exactly without their JSON (delays in hundredths cannot tell 40 fps from 50, say):
# gif_timing's reading of the delays is for GIFs from elsewhere or from earlier versions.
_GIF_COMMENT = re.compile(r"runway_nb clip: (\d+) frames at ([0-9.e+]+) fps\Z")


def _gif_comment(n: int, fps: float) -> bytes:
    return f"runway_nb clip: {n} frames at {float(fps)!r} fps".encode()


def _gif_clip(comment) -> tuple[int, float] | None:
    """(frames, fps) from a GIF comment _gif_comment wrote, else None."""
    if not isinstance(comment, bytes):
        return None
    found = _GIF_COMMENT.match(comment.decode("ascii", "replace"))
    try:
        return (int(found[1]), float(found[2])) if found else None
    except ValueError:
        return None


def gif_delays(n: int, fps: float) -> list[int]:
    """Delays (ms, whole hundredths) for n GIF frames: frame i ends at i+1 frame times rounded
    to a hundredth, so the delays alternate (8 fps: 130, 120, 130, …; 24 fps: 40, 40, 50, …)
    and the whole lasts n / fps seconds (to the hundredth) where one delay of
    round(1000 / fps) ms made 8 fps 8.33 fps, and a 3-s film 2.88 s. Above 100 fps (a
    frame time under a hundredth) every frame gets the shortest delay, 10 ms."""
    return np.diff(_gif_ends(n, fps)).tolist()


def _gif_ends(n: int, fps: float) -> np.ndarray:
    """When each of n GIF frames ends (ms, from 0 before the first): gif_delays summed."""
    period = 1000.0 / fps
    if period < 10:
        return np.arange(n + 1, dtype=np.int64) * 10
    return 10 * np.floor(np.arange(n + 1) * period / 10 + 0.5).astype(np.int64)


def _merged(delays: list[int], n: int, fps: float) -> list[int] | None:
    """How many frames each GIF frame stands for when `delays` are gif_delays(n, fps) with
    identical neighbouring frames merged (each merged frame ends where its last frame did);
    None when they are not."""
    ends, got = _gif_ends(n, fps), np.cumsum(delays)
    at = np.searchsorted(ends, got)
    if at[-1] != n or not np.array_equal(ends[at], got):
        return None
    return np.diff(at, prepend=0).tolist()


def _merged_before(delays: list[int], fps: float) -> list[int] | None:
    """The same for GIFs written before gif_delays: every frame round(1000 / fps) ms, a merged
    run of k frames k times that, each kept in whole hundredths rounded down (as Pillow writes
    them). None when the delays are not such multiples."""
    ms = round(1000 / fps)
    if ms < 10:
        return None
    counts = [-(-d // ms) for d in delays]          # k·ms lies in [d, d + 10)
    if any(k < 1 or k * ms >= d + 10 for k, d in zip(counts, delays)):
        return None
    return counts


def gif_counts(delays: list[int], n: int, fps: float) -> list[int] | None:
    """How many frames each GIF frame stands for, when the GIF holds a clip of `n` frames at
    `fps` (what a clip's JSON records) as this package writes it (gif_delays) or wrote it
    before (one rounded delay); None when its delays are not those of such a clip. Merged
    frames (a static clip is one GIF frame) are counted by where they end."""
    delays = [int(d) for d in delays]
    if not delays or n < len(delays) or not fps > 0:
        return None
    counts = _merged(delays, n, fps)
    if counts is None:
        counts = _merged_before(delays, fps)
    return counts if counts is not None and sum(counts) == n else None


def _multiples(low: float, high: float, step: float) -> list[float]:
    """The multiples of `step` from low to high (the first 1000)."""
    first = max(math.ceil(low / step - 1e-9), 1)
    last = min(math.floor(high / step + 1e-9), first + 999)
    return [round(k * step, 6) for k in range(first, last + 1)]


def gif_timing(delays: list[int]) -> tuple[list[int], float]:
    """(frames each GIF frame stands for, fps) from the GIF's delays in ms, when nothing says
    what clip it holds (Clip.load gives a clip's JSON to gif_counts instead). GIF writers merge
    identical neighbouring frames into one longer frame; the shortest delay is one frame.
    The readings weighed:

    - exact: a rate whose gif_delays, merged, give exactly these delays — what this package
      writes: 7, 32 or 12.5 fps read back as such (the fewest decimals that do: 29.97, not
      29.9712; else 1000 · frames / total);
    - written before gif_delays, every frame one delay of round(1000 / fps) ms: a common or
      whole rate whose delay that is (120 ms each is 8 fps, not 8.33).

    The likeliest costs least: a common rate (COMMON_FPS) nothing, a whole one 1, a half 2, one
    more for each decimal, 6 for 1000 · frames / total; each frame held (merged) 2 more, as a
    held frame is rare (20, 10, 20, 10 ms is 66.7 fps, not 100 fps with every other frame held);
    of equal cost, an exact reading, then the nearest rate. Else, other writers: a common rate
    the delays fit within a hundredth of a second each; else the mean delay of the frames held
    once (up to 1.5 × the shortest). One delay fits many clips (20 ms each is 50 fps, or 40 fps
    written before; a clip held for runs of frames may fit two rates): a clip's JSON settles it
    (gif_counts)."""
    delays = [int(d) for d in delays]
    shortest, total = min(delays), sum(delays)

    def tier(fps, level):
        return 0 if fps in COMMON_FPS else 1 if fps == int(fps) else level

    found = []                                  # (cost, writer, distance, counts, fps)

    def exact(n, guesses, level, near):
        fits = [(fps, _merged(delays, n, fps)) for fps in guesses]
        found.extend((tier(fps, level) + 2 * sum(k > 1 for k in c), 0, abs(fps - near), c, float(fps))
                     for fps, c in fits if c is not None)
        return any(c is not None for _, c in fits)

    # nothing merged: GIF frame i ends at frame i's time rounded to 10 ms, C − 5 ≤ i · 1000 / fps
    # < C + 5 (a hair wider for float ties: each guess is checked with gif_delays)
    n, ends = len(delays), np.cumsum(delays)
    i = np.arange(1, n + 1)
    low, high = 1000 / (np.min((ends + 5) / i) + 1e-6), 1000 / max(np.max((ends - 5) / i) - 1e-6, 1e-6)
    near = 1000 * n / total
    for level, step in enumerate((0.5, 0.1, 0.01, 0.001), start=2):
        if exact(n, _multiples(low, high, step), level, near):
            break
    else:
        exact(n, [near, (low + high) / 2], 6, near)
    # frames held: a whole or half rate whose frame time is within 10 ms of the shortest delay
    for fps in _multiples(1000 / (shortest + 10), 1000 / max(shortest - 10, 10), 0.5):
        middle = round(total * fps / 1000)
        for m in range(max(middle - 1, n + 1), middle + 2):
            exact(m, [fps], 2, fps)
    for fps in sorted(set(COMMON_FPS) | set(range(1, 101))):
        counts = _merged_before(delays, fps)
        if counts is not None and min(counts) == 1:             # the shortest is one frame
            found.append((tier(fps, 2) + 2 * sum(k > 1 for k in counts), 1, abs(1000 / fps - shortest),
                          counts, float(fps)))
    if found:
        *_, counts, fps = min(found, key=lambda f: f[:3])
        return counts, fps
    best = None
    for fps in COMMON_FPS:
        period = 1000.0 / fps
        counts = [max(1, round(d / period)) for d in delays]
        fits = (abs(period - shortest) < 10 and abs(total / sum(counts) - period) < 6
                and all(abs(d - n * period) <= 10.5 for d, n in zip(delays, counts)))
        misfit = abs(total - sum(counts) * period)
        if fits and (best is None or misfit < best[0]):
            best = (misfit, counts, float(fps))
    if best is not None:
        return best[1], best[2]
    once = [d for d in delays if d <= 1.5 * shortest]
    period = sum(once) / len(once)
    return [max(1, round(d / period)) for d in delays], 1000.0 / period


def write_video(path, frames: np.ndarray, fps: float, metadata: dict | None = None) -> Path:
    """Write frames (T,H,W,3) uint8 to `path` (format by suffix), atomically."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in VIDEO_SUFFIXES:
        raise InvalidInput("path", str(path), f"must end in one of {', '.join(VIDEO_SUFFIXES)}")
    if not path.parent.is_dir():
        raise InvalidInput("path", str(path), "must be in an existing folder",
                           f"Create {path.parent} first.")
    frames = np.ascontiguousarray(np.asarray(frames, np.uint8))
    tmp = new_temp_file(path)
    try:
        if suffix == ".gif":
            from PIL import Image

            images = [Image.fromarray(f) for f in frames]
            images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:],
                           duration=gif_delays(len(images), fps), loop=0,
                           comment=_gif_comment(len(images), fps))
        else:
            import imageio_ffmpeg

            codec, params = _CODECS[suffix]
            frames = _even(frames)
            for key, value in (metadata or {}).items():
                params = params + ["-metadata", f"{key}={value}"]
            writer = imageio_ffmpeg.write_frames(
                tmp, (frames.shape[2], frames.shape[1]), fps=fps, codec=codec, macro_block_size=1,
                output_params=params, ffmpeg_log_level="error", quality=None)
            writer.send(None)
            for frame in frames:
                writer.send(frame)
            writer.close()
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_video(path, clip: tuple[int, float] | None = None) -> tuple[np.ndarray, float]:
    """-> frames (T,H,W,3) uint8, fps. `clip`: the frame count and rate the video is known to
    hold (a clip's JSON): a GIF whose delays are such a clip's is read as that many frames at
    that rate (gif_counts), identical neighbours the writer merged repeated by their delays;
    one whose delays are not is read by gif_timing, as without it."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput("path", str(path), "must be an existing video file")
    if path.suffix.lower() == ".gif":
        from PIL import Image, ImageSequence

        # GIF writers merge identical neighbouring frames into one longer frame:
        # expand them again by their duration.
        with Image.open(path) as im:
            written = _gif_clip(im.info.get("comment"))
            items = [(np.asarray(f.convert("RGB")), f.info.get("duration", 125) or 125)
                     for f in ImageSequence.Iterator(im)]
        delays = [d for _, d in items]
        clip = clip if clip is not None else written
        counts = None if clip is None else gif_counts(delays, *clip)
        if counts is None:
            counts, fps = gif_timing(delays)
        else:
            fps = float(clip[1])
        frames = [f for (f, _), n in zip(items, counts) for _ in range(n)]
        return np.stack(frames), fps
    import imageio_ffmpeg

    # ffmpeg run to completion rather than imageio-ffmpeg's frame generator: that one
    # leaves its pipes to the garbage collector once ffmpeg has exited (a ResourceWarning
    # on every full read). The raw frames go through a temporary file rather than a pipe:
    # read back with np.fromfile they land once, writable, where a pipe's bytes would need
    # a second, writable copy (twice the clip's size at the peak).
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "frames.rgb"
        run = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path),
                              "-map", "0:v:0", "-f", "rawvideo", "-pix_fmt", "rgb24", "-y", str(raw)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
        log = run.stderr.decode("utf-8", "replace")
        # the size and rate of what ffmpeg wrote, from its output stream's line:
        # "Stream #0:0(und): Video: rawvideo (RGB[24] / 0x18424752), rgb24(…), 48x32, q=2-31, 8 fps, 8 tbn"
        line = next((ln for ln in log[log.find("Output #0"):].splitlines() if "Video:" in ln), "")
        size, rate = re.search(r", (\d+)x(\d+)", line), re.search(r", ([\d.]+)(k?) (?:fps|tbr)", line)
        if "No space left on device" in log:     # the video is fine; the scratch folder is not
            raise OSError(errno.ENOSPC, f"No space left in the temporary folder ({Path(tmp).parent}) for "
                          f"the raw frames of {path} (3 bytes a pixel a frame). Free some space there, "
                          "or point the TMPDIR environment variable at a larger disk.")
        if run.returncode != 0 or "Output #0" not in log or size is None or rate is None or not raw.is_file():
            last = log.strip().splitlines()[-1] if log.strip() else f"ffmpeg exit status {run.returncode}"
            raise InvalidInput("path", str(path), "must be a video file ffmpeg can read", f"ffmpeg said: {last}")
        w, h = int(size[1]), int(size[2])
        fps = float(rate[1]) * (1000 if rate[2] else 1)
        frames = np.fromfile(raw, np.uint8)
    frames = frames[: len(frames) // (h * w * 3) * (h * w * 3)].reshape(-1, h, w, 3)
    if not len(frames):
        raise InvalidInput("path", str(path), "must hold at least one video frame")
    return frames, fps


def encode_mp4_bytes(frames: np.ndarray, fps: float) -> bytes:
    """MP4 bytes for an inline player."""
    with tempfile.TemporaryDirectory() as tmp:
        out = write_video(Path(tmp) / "clip.mp4", frames, fps)
        return out.read_bytes()
