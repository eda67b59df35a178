"""Overhead of runway_nb's diffusers adapters over calling the diffusers pipeline directly.
(A benchmark, not a test; the numbers go in the README.)

    python benchmarks/bench_adapters.py                  # every family, 2 steps, 9 repeats
    python benchmarks/bench_adapters.py --families wan ltx --steps 4 --repeats 15 --json a.json

For each family's tiny random-weight pipeline (runway_nb.engines.testing), in one process
and interleaved (A, B, C, A, B, C, …) so drifts in machine load hit all three alike:

  A. direct: `pipe(**kwargs)` — the diffusers pipeline with the exact inputs the adapter
     passes (prompt, size, frames, steps, guidance, a CPU generator with the same seed);
  B. render: `engine.render(shot)` — validation, the step callback, uint8 frames, the Clip;
  C. render + previews: B with an `on_step` receiver (a latent→RGB preview each step).

Reported: the median seconds of each and overhead = median(B) / median(A) − 1 (target
≤ 3 %), and the same for C. On these tiny pipelines a step takes milliseconds, so the
fixed per-render costs weigh far more than on the real models, where a step takes seconds:
this is an upper bound on the overhead users see.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from runway_nb import Shot  # noqa: E402
from runway_nb.engines.registry import load_engine  # noqa: E402
from runway_nb.engines.testing import FAMILIES, build_tiny_pipeline  # noqa: E402
from runway_nb.options import number  # noqa: E402


def measure(family: str, root: Path, steps: int, repeats: int) -> dict:
    folder = build_tiny_pipeline(family, root / family)
    engine = load_engine(str(folder))
    init = np.zeros((1, 32, 32, 3), np.uint8) if not engine.capabilities.text_to_video else None
    shot = engine.resolve(Shot("a red ball moving left", seed=3, steps=steps, frames=9))
    call = engine._prepare(shot, engine.model_frames(shot.frames), init)
    call.pipe.set_progress_bar_config(disable=True)

    def direct():
        generator = torch.Generator("cpu").manual_seed(shot.seed)
        return call.pipe(**call.kwargs, generator=generator, output_type="np").frames

    def render():
        return engine.render(shot, init_frames=init, progress=False)

    def render_previews():
        return engine.render(shot, init_frames=init, progress=False, on_step=lambda info: None)

    runs = {"direct": direct, "render": render, "render_previews": render_previews}
    for fn in runs.values():          # warm-up: first-call allocations, the preview map fit
        fn()
    times = {name: [] for name in runs}
    for _ in range(repeats):
        for name, fn in runs.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    med = {name: statistics.median(v) for name, v in times.items()}
    # the same frames both ways: the adapter adds nothing to the pixels
    same = np.array_equal((np.asarray(direct()[0])[: shot.frames] * 255).round().astype(np.uint8),
                          render().frames)
    return {"family": family, "steps": steps, "frames": shot.frames, "same_frames": bool(same),
            **{f"{k}_s": round(v, 4) for k, v in med.items()},
            "overhead": round(med["render"] / med["direct"] - 1, 4),
            "overhead_previews": round(med["render_previews"] / med["direct"] - 1, 4)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--families", nargs="+", default=list(FAMILIES), choices=FAMILIES)
    ap.add_argument("--steps", type=number(1), default=2)
    ap.add_argument("--repeats", type=number(1), default=9)
    ap.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for family in args.families:
            rows.append(measure(family, Path(tmp), args.steps, args.repeats))
            r = rows[-1]
            print(f"{family:<14} direct {r['direct_s'] * 1000:7.1f} ms   render {r['render_s'] * 1000:7.1f} ms "
                  f"({r['overhead']:+.1%})   + previews {r['render_previews_s'] * 1000:7.1f} ms "
                  f"({r['overhead_previews']:+.1%})   same frames: {r['same_frames']}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
