"""Memory of reading a video back (`Clip.load`, the Store, `read_video`). A benchmark, not a test.

    python benchmarks/bench_read_video.py                 # 20 s at 8 fps, 256 × 256
    python benchmarks/bench_read_video.py --seconds 60 --size 512

Writes an H.264 file, reads it back, and reports the peak of Python and numpy allocations
during the read (tracemalloc; ffmpeg's own memory is another process's) against the
decoded frames' size: the frames are held once, not as a pipe's bytes plus a copy.
"""

from __future__ import annotations

import argparse
import tempfile
import tracemalloc
from pathlib import Path

import numpy as np

from runway_nb.options import number


def main(argv=None):
    from runway_nb.export.video import read_video, write_video

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=number(0, float, above=True), default=20.0)
    ap.add_argument("--fps", type=number(0, float, above=True), default=8.0)
    ap.add_argument("--size", type=number(2), default=256, help="width and height in pixels")
    args = ap.parse_args(argv)
    n = int(round(args.seconds * args.fps))
    with tempfile.TemporaryDirectory() as tmp:
        rng = np.random.default_rng(0)
        frames = np.repeat(rng.integers(0, 255, (1, args.size, args.size, 3), dtype=np.uint8), n, axis=0)
        frames[..., 0] = (np.arange(n) % 256).astype(np.uint8)[:, None, None]   # every frame differs
        path = write_video(Path(tmp) / "clip.mp4", frames, args.fps)
        del frames
        tracemalloc.start()
        got, _ = read_video(path)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    print(f"{len(got)} frames of {args.size} × {args.size}: decoded {got.nbytes / 1e6:.1f} MB, "
          f"peak while reading {peak / 1e6:.1f} MB ({peak / got.nbytes:.2f}× the frames)")


if __name__ == "__main__":
    main()
