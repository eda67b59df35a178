"""The tiny engine on a GPU against the CPU: the same shots, the same seeds.

    python benchmarks/bench_gpu.py          # on a machine with CUDA (Colab's GPU runtime, say)

For native camera, warp, planned motion (brushes + a draft pass) and an extend (given
frames, blend), prints each device's seconds for a 2-s clip, that live previews arrived on
both, and the mean absolute difference of the frames (0–255). Noise is drawn on the CPU
either way, so the two differ only by floating-point order. README: Benchmarks.
"""

from __future__ import annotations

import time

import numpy as np
import torch

import runway_nb as rn
from runway_nb.engines.registry import load_engine

SHOTS = [
    dict(prompt="a red ball moving right on a blue background", camera="pan_left:1.0",
         camera_mode="native", motion_mode="native"),
    dict(prompt="a red ball moving right on a blue background", camera="zoom_in:1.0",
         camera_mode="warp", motion_mode="native"),
    dict(prompt="a yellow square moving up in the black void", motion_mode="planned"),
]


def main() -> None:
    import argparse

    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("no CUDA device here: this benchmark compares a GPU with the CPU")
    torch.set_num_threads(2)
    for device in ("cpu", "cuda"):            # load and warm both once, outside the timings
        rn.generate("a red ball", seed=0, seconds=1, progress=False, device=device)
    for kw in SHOTS:
        out = {}
        for device in ("cpu", "cuda"):
            previews = []
            start = time.perf_counter()
            clip = rn.generate(seed=3, seconds=2, progress=False, device=device,
                               on_step=previews.append, **kw)
            out[device] = (np.asarray(clip.frames, np.float32), time.perf_counter() - start, len(previews))
        diff = np.abs(out["cpu"][0] - out["cuda"][0]).mean()
        print(f"{kw.get('camera', '-'):14s} {kw.get('camera_mode', 'auto'):6s} {kw['motion_mode']:8s} "
              f"cpu {out['cpu'][1]:.1f} s  cuda {out['cuda'][1]:.1f} s  previews {out['cpu'][2]}/{out['cuda'][2]}  "
              f"mean |cpu − cuda| {diff:.2f} of 255")
    base = rn.generate("a green triangle moving left under a night sky", seed=4, seconds=2,
                       progress=False, device="cuda")
    longer = base.extend(2, progress=False, engine=load_engine("tiny", device="cuda"))
    print(f"extend on cuda: {len(base.frames)} → {len(longer.frames)} frames")


if __name__ == "__main__":
    main()
