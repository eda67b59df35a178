"""Extend: the seam at each join, colour drift over a 60 s chain, and cost versus length.
(A benchmark, not a test; the numbers go in the README.)

    python benchmarks/bench_extend.py                       # 20 held-out prompts, 2 s → 60 s
    python benchmarks/bench_extend.py --prompts 6 --seconds 18 --json extend.json
    python benchmarks/bench_extend.py --prompts 10 --start 10 --json b.json   # a second process…
    python benchmarks/bench_extend.py --merge a.json b.json                   # …one table

For each held-out toy-world prompt (`runway_nb.eval.eval_scenes`: colour/shape/background/
motion combinations the model never saw in training, each with its camera move), the tiny
engine renders a 2 s clip, which is then extended by `--step` seconds at a time with
`clip.extend` until it is `--seconds` long — the way a user grows a shot cell by cell.

  * seam: at each join (the first frame an `extend` call added) the mean absolute change
    from the previous frame, divided by the median frame-to-frame change inside the
    rendered pieces of the same chain. 1.0 = a join looks like any other frame step;
    target ≤ 1.5. Reported over the joins of the first 18 s and of the whole chain.
  * drift: the toy-world analyzer reads the background and the object colour from the
    chain's last 2 s; right = both match the prompt. The first 2 s are scored the same
    way for reference (the model's own accuracy before any extension). Target ≥ 90 %.
  * cost: CPU seconds (this process, 1 torch thread) to reach 2, 4, 8, 18 and 60 s of
    chain, and seconds of compute per second of video at each length (flat = linear).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from runway_nb.options import number

CHECKPOINTS = (2, 4, 8, 18, 60)


def frame_changes(frames: np.ndarray) -> np.ndarray:
    """Mean |Δ| (0–255) between each frame and the next: (T − 1,)."""
    x = frames.astype(np.int16)
    return np.abs(x[1:] - x[:-1]).mean(axis=(1, 2, 3))


def seam_ratios(frames: np.ndarray, joins: list[int], blended: list[int] | None = None) -> np.ndarray:
    """For each join index j (frame j is the first new frame of an extension, and the `b`
    frames before it are the engine's dissolve from the parent into the continuation), the
    largest change over the join's frame steps, j − b − 1 → … → j, over the median change
    between frames elsewhere (joins excluded). b = 0: the one step j − 1 → j."""
    blended = blended or [0] * len(joins)
    d = frame_changes(frames)                      # d[i] = change from frame i to i + 1
    spans = [np.arange(j - b - 1, j) for j, b in zip(joins, blended)]
    inside = np.delete(d, np.concatenate(spans))
    # a locked-off still scene changes by < 1 grey level: floor the scale at 0.5 so a
    # ratio means "visibly more change than usual", not "1 grey level over 0.1"
    return np.array([d[span].max() for span in spans]) / max(float(np.median(inside)), 0.5)


def chain(scene, seed: int, step: float, seconds: float, steps: int | None, context: int | None,
          blend: int | None = None):
    """Render 2 s, extend by `step` s until `seconds` long. -> frames, joins, {length: cpu s}."""
    import runway_nb as rn

    camera = None if scene.camera == "static" else f"{scene.camera}:{scene.camera_intensity:.2f}"
    cpu0 = time.process_time()
    clip = rn.generate(scene.caption, seconds=2, seed=seed, steps=steps, camera=camera, progress=False)
    cost, joins, blended = {2: time.process_time() - cpu0}, [], []
    while clip.duration < seconds - 1e-9:
        joins.append(len(clip))
        clip = clip.extend(min(step, seconds - clip.duration), context=context, blend=blend,
                           progress=False)
        blended.append(clip.provenance.get("blended_frames", 0))
        cost[round(clip.duration, 3)] = time.process_time() - cpu0
    return clip, joins, blended, cost


def run(args) -> dict:
    import torch

    from runway_nb.eval import eval_scenes
    from runway_nb.tiny.analyzer import analyze

    torch.set_num_threads(1)
    import runway_nb as rn

    rn.load_engine("tiny")          # load the weights before the clock runs: cost is rendering
    scenes = eval_scenes(args.start + args.prompts, seed=args.seed)[args.start:]
    rows, fps = [], 8
    for i, scene in enumerate(scenes, start=args.start):
        clip, joins, blended, cost = chain(scene, 1000 + i, args.step, args.seconds, args.steps, args.context,
                                            args.blend)
        fps = clip.fps
        ratios = seam_ratios(clip.frames, joins, blended)
        early = [r for j, r in zip(joins, ratios) if j < 18 * fps]
        want = (scene.background, scene.objects[0].color)
        start, end = analyze(clip.frames[: 2 * int(fps)]), analyze(clip.frames[-2 * int(fps):])
        rows.append({
            "prompt": str(scene.caption), "camera": scene.camera, "motion": scene.objects[0].motion,
            "frames": len(clip), "context": clip.shot.context_frames, "blend": clip.shot.blend_frames,
            "seam_18s": [float(r) for r in early],
            "seam_all": [float(r) for r in ratios],
            "start": {"background": start.background, "color": start.color},
            "end": {"background": end.background, "color": end.color},
            "start_right": (start.background, start.color) == want,
            "end_right": (end.background, end.color) == want,
            "end_background_right": end.background == want[0], "end_color_right": end.color == want[1],
            "cost_cpu_s": {str(k): round(v, 3) for k, v in cost.items()}})
        if args.json:   # after every prompt, so a long run that is stopped still leaves numbers
            args.json.write_text(json.dumps({"rows": rows, "summary": summarize(rows, args)}, indent=1))
        print(f"[{i + 1}/{args.start + len(scenes)}] seam mean {np.mean(ratios):.2f} max {np.max(ratios):.2f}  "
              f"start {rows[-1]['start_right']} end {rows[-1]['end_right']}  "
              f"{cost[max(cost)]:.0f} cpu s  {str(scene.caption)!r}", file=sys.stderr, flush=True)
    return {"rows": rows, "summary": summarize(rows, args)}


def summarize(rows, args) -> dict:
    out = {"prompts": len(rows), "step_s": args.step, "seconds": args.seconds,
           "context": rows[0]["context"] if rows else args.context,
           "blend": rows[0].get("blend") if rows else args.blend}
    for key in ("seam_18s", "seam_all"):
        r = np.concatenate([row[key] for row in rows]) if rows else np.zeros(0)
        if len(r):
            out[key] = {"joins": int(len(r)), "median": float(np.median(r)), "mean": float(np.mean(r)),
                        "p90": float(np.percentile(r, 90)), "max": float(np.max(r)),
                        "share_le_1.5": float(np.mean(r <= 1.5))}
    for key in ("start_right", "end_right", "end_background_right", "end_color_right"):
        out[key + "_pct"] = 100.0 * float(np.mean([row[key] for row in rows]))
    # drift proper: of the prompts the model got right in the first 2 s, how many stay right
    kept = [row["end_right"] for row in rows if row["start_right"]]
    out["kept_right_pct"] = 100.0 * float(np.mean(kept)) if kept else float("nan")
    out["kept_of"] = len(kept)
    # what each miss shows instead, to read beside its prompt (a grown object's colour where
    # the sky was, a sky read off ground a long tilt brought into view, …)
    out["misses"] = [f"{row['prompt']!r}: background {row['end']['background']}, object {row['end']['color']}"
                     for row in rows if not row["end_right"]]
    lengths = [c for c in CHECKPOINTS if all(str(c) in row["cost_cpu_s"] or str(float(c)) in row["cost_cpu_s"]
                                              for row in rows)]
    cost = {}
    for c in lengths:
        v = [row["cost_cpu_s"].get(str(c), row["cost_cpu_s"].get(str(float(c)))) for row in rows]
        cost[c] = {"cpu_s": float(np.mean(v)), "cpu_s_per_video_s": float(np.mean(v)) / c}
    out["cost"] = cost
    if len(cost) >= 2:
        x = np.array(list(cost), float)
        y = np.array([v["cpu_s"] for v in cost.values()])
        slope, icept = np.polyfit(x, y, 1)
        out["cost_fit"] = {"cpu_s_per_video_s": float(slope), "intercept_s": float(icept),
                           "r2": float(1 - np.sum((y - (slope * x + icept)) ** 2) / np.sum((y - y.mean()) ** 2))}
    return out


def print_table(s: dict) -> None:
    print(f"\nextend benchmark: {s['prompts']} held-out prompts, 2 s + {s['step_s']:g} s steps "
          f"→ {s['seconds']:g} s, context {s['context']}, blend {s.get('blend', 0)}, tiny engine, "
          "1 torch thread")
    print(f"\n{'seam (join / median step)':<28}{'joins':>6}{'median':>8}{'mean':>7}{'p90':>7}{'max':>7}"
          f"{'≤1.5×':>8}")
    for key, name in (("seam_18s", "joins in the first 18 s"), ("seam_all", "all joins")):
        if key in s:
            v = s[key]
            print(f"{name:<28}{v['joins']:>6}{v['median']:>8.2f}{v['mean']:>7.2f}{v['p90']:>7.2f}"
                  f"{v['max']:>7.2f}{100 * v['share_le_1.5']:>7.0f}%")
    print(f"\n{'colours right (analyzer)':<34}{'%':>6}")
    print(f"{'first 2 s (reference)':<34}{s['start_right_pct']:>6.0f}")
    print(f"{'last 2 s of the chain':<34}{s['end_right_pct']:>6.0f}")
    print(f"{'  background only':<34}{s['end_background_right_pct']:>6.0f}")
    print(f"{'  object colour only':<34}{s['end_color_right_pct']:>6.0f}")
    print(f"{'still right, of those right at 2 s':<34}{s['kept_right_pct']:>6.0f}  ({s['kept_of']} prompts)")
    for miss in s.get("misses", []):
        print(f"  miss: {miss}")
    print(f"\n{'chain length s':<16}{'CPU s':>8}{'CPU s / video s':>17}")
    for c, v in s["cost"].items():
        print(f"{c:<16}{v['cpu_s']:>8.1f}{v['cpu_s_per_video_s']:>17.2f}")
    if "cost_fit" in s:
        f = s["cost_fit"]
        print(f"linear fit: {f['cpu_s_per_video_s']:.2f} CPU s per video s + {f['intercept_s']:.1f} s, "
              f"R² = {f['r2']:.4f}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prompts", type=number(1), default=20, help="held-out prompts (default 20)")
    ap.add_argument("--seconds", type=number(0, float, above=True), default=60.0, help="chain length (default 60)")
    ap.add_argument("--step", type=number(0, float, above=True), default=2.0, help="seconds added per extend call (default 2)")
    ap.add_argument("--steps", type=int, help="denoising steps (default: the engine's, 20)")
    ap.add_argument("--context", type=int, help="frames each extension is conditioned on "
                    "(default: the engine's choice; 4 reproduces the earlier, even context)")
    ap.add_argument("--blend", type=int, help="frames each join dissolves over (default: the "
                    "engine's, 2 on tiny; 0 = plain cuts, as before)")
    ap.add_argument("--seed", type=int, default=0, help="which held-out prompts (runway_nb.eval)")
    ap.add_argument("--start", type=int, default=0, help="skip the first N prompts (split a run "
                    "over several processes, then --merge their JSON files)")
    ap.add_argument("--json", type=Path, help="also write the summary and per-prompt rows here")
    ap.add_argument("--merge", type=Path, nargs="+", help="print one table from earlier --json files")
    args = ap.parse_args(argv)
    if args.merge:
        rows = [row for path in args.merge for row in json.loads(path.read_text())["rows"]]
        first = json.loads(args.merge[0].read_text())["summary"]
        args.step, args.seconds = first["step_s"], first["seconds"]
        print_table(summarize(rows, args))
        return
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    result = run(args)
    print_table(result["summary"])
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
