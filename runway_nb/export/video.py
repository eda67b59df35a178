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


def gif_delays(n: int, fps: float) -> list[int]:
    """Delays (ms, whole hundredths) for n GIF frames: frame i ends at i+1 frame times rounded
    to a hundredth, so the delays alternate (8 fps: 130, 120, 130, …; 24 fps: 40, 40, 50, …)
    and the whole lasts n / fps seconds (to the hundredth) where one delay of
    round(1000 / fps) ms made 8 fps 8.33 fps, and a 3-s film 2.88 s. Above 100 fps (a
    frame time under a hundredth) every frame gets the shortest delay, 10 ms."""
    period = 1000.0 / fps
    if period < 10:
        return [10] * n
    ends = [10 * math.floor(i * period / 10 + 0.5) for i in range(n + 1)]
    return [b - a for a, b in zip(ends, ends[1:])]


def gif_timing(delays: list[int]) -> tuple[list[int], float]:
    """(frames each GIF frame stands for, fps) from the GIF's delays in ms. GIF writers merge
    identical neighbouring frames into one longer frame; the shortest delay is one frame.
    The rate is a common one when its frame time is within a hundredth of a second of that,
    every delay is within a hundredth of a whole number of its frames, and their mean delay
    within half a hundredth (the rounding) of its frame time; of several, the one whose frames
    fit the total best. So what gif_delays wrote reads back at its rate, and a GIF whose every
    delay is 120 ms at 8 fps (not 8.33). Else the frame time is the mean delay of the frames
    held once (delays up to 1.5 × the shortest): uncommon rates with long held frames come
    back approximately."""
    shortest, total = min(delays), sum(delays)
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
                           duration=gif_delays(len(images), fps), loop=0)
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


def read_video(path) -> tuple[np.ndarray, float]:
    """-> frames (T,H,W,3) uint8, fps."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput("path", str(path), "must be an existing video file")
    if path.suffix.lower() == ".gif":
        from PIL import Image, ImageSequence

        # GIF writers merge identical neighbouring frames into one longer frame:
        # expand them again by their duration.
        with Image.open(path) as im:
            items = [(np.asarray(f.convert("RGB")), f.info.get("duration", 125) or 125)
                     for f in ImageSequence.Iterator(im)]
        counts, fps = gif_timing([d for _, d in items])
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
