"""What do the Studio's live previews cost the denoising loop? (A benchmark, not a test.)

    python benchmarks/bench_preview.py                 # 1 torch thread, 9 runs per variant
    python benchmarks/bench_preview.py --runs 15 --json out.json

The same 2-second shot is generated through a headless `rn.Studio` (its real worker thread,
preview encoding and widget updates; no browser) three ways, interleaved, median wall time
of `studio.generate(wait=True)`:
  * previews off: `preview_interval` huge, so only the first step's preview is sent;
  * throttled: the Studio's default, at most one preview every 0.1 s (+ the last one);
  * every step: `preview_interval=0`, an x0 filmstrip PNG for each of the 20 steps.
The overhead is each variant's time over "previews off".
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from runway_nb.options import number

VARIANTS = {"previews off": 1e9, "throttled (default, 0.1 s)": 0.1, "every step": 0.0}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=number(1), default=9)
    ap.add_argument("--threads", type=number(1), default=1)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    import runway_nb as rn

    with tempfile.TemporaryDirectory() as project:
        studios = {name: rn.Studio(store=Path(project) / name.split()[0], preview_interval=interval)
                   for name, interval in VARIANTS.items()}
        for studio in studios.values():
            studio.prompt.value = "a red circle moving right on a blue background"
            studio.generate(wait=True)                                   # warm-up (and engine load)
        times = {name: [] for name in studios}
        sent = {name: 0 for name in studios}
        for _ in range(args.runs):
            for name, studio in studios.items():                          # interleaved
                started = time.perf_counter()
                studio.generate(wait=True)
                times[name].append(time.perf_counter() - started)
                sent[name] = studio.renderer.previews_sent
        for studio in studios.values():
            studio.close()

    base = statistics.median(times["previews off"])
    rows = []
    print(f"{'variant':<28}{'median s':>10}{'overhead':>10}{'previews sent':>15}")
    for name, ts in times.items():
        med = statistics.median(ts)
        rows.append({"variant": name, "median_s": med, "overhead": med / base - 1, "previews": sent[name]})
        print(f"{name:<28}{med:>10.3f}{100 * (med / base - 1):>+9.1f}%{sent[name]:>15}")
    if args.json:
        args.json.write_text(json.dumps({"threads": args.threads, "runs": args.runs, "rows": rows,
                                         "python": sys.version.split()[0]}, indent=1))


if __name__ == "__main__":
    main()
