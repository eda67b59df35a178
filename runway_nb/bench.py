"""How fast and how big is generating a clip on this machine? (A benchmark, not a test.)

    runway-nb bench                                  # shipped tiny engine, 2 threads
    runway-nb bench --threads 1 --runs 9 --json out.json
    runway-nb bench --engine runs/tiny/pipeline
    python benchmarks/bench_generate.py …            # the same, from a clone

Measures, for a 2-second clip at the engine's default size and steps (guidance on):
  * generate: wall time of `rn.generate(...)`, median of --runs after one warm-up run —
    with the default motion_mode (on tiny: the prompt's motion planned, a draft and a
    render) and, interleaved with it, motion_mode="native" (the model alone, one render);
  * first preview: time from calling `rn.generate` to the first `on_step` call (median);
  * peak RSS: the process's peak resident memory (getrusage), model and all;
  * denoiser FLOP/s: FLOPs of one denoiser forward (torch's FlopCounterMode) divided by
    its measured time, as a fraction of this machine's float32 matmul FLOP/s measured
    here with the same thread count — how well the model uses the CPU;
  * denoiser share: forwards per clip × time per forward, as a fraction of the clip time;
  * camera modes: the same clip (motion_mode="native") with no camera and with a pan in
    each camera mode the engine has, interleaved, median ("warp-only": tiny's warp with
    its camera input off, the training-free part alone).

The table ends with the README's targets for the tiny engine (a 2-s clip in ≤ 1.5 s, the
first preview in ≤ 0.3 s, ≤ 1.5 GB) and whether this machine meets them: they were set on
a 2-core laptop-class CPU, and a slower one (AVX2 only) takes about twice as long.

Default threads: 2, the core count of the machines this project targets (a laptop, Binder,
CI). Prints a table, and writes JSON with --json, for the README's "Benchmarks" section.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

PROMPT = "a red circle moving right on a blue background"


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# the README's targets for a 2-second clip on the tiny engine: (result key, target, limit, unit)
TARGETS = (("generate_s_median", "a 2-s clip ≤ 1.5 s", 1.5, "s"),
           ("first_preview_s_median", "first preview ≤ 0.3 s", 0.3, "s"),
           ("peak_rss_mb", "peak RSS ≤ 1.5 GB", 1536, "MB"))


def peak_rss_mb() -> float | None:
    try:
        import resource                      # Unix only
    except ImportError:
        return None
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss      # KiB on Linux, bytes on macOS
    return kb / 1024 / (1024 if sys.platform == "darwin" else 1)


def matmul_flops(torch, n: int = 1024, repeats: int = 20) -> float:
    """Measured float32 matmul FLOP/s: the best of `repeats` n×n @ n×n products."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best


def _denoiser(engine):
    pipe = getattr(engine, "pipe", None)
    for name in ("transformer", "unet"):
        if pipe is not None and getattr(pipe, name, None) is not None:
            return getattr(pipe, name)
    return None


def denoiser_numbers(torch, rn, engine_id, denoiser, repeats: int) -> dict:
    """Capture one real denoiser call during a render, then count and time it alone."""
    from torch.utils.flop_counter import FlopCounterMode

    calls = []

    def hook(module, args, kwargs):
        if not calls:
            calls.append((args, kwargs))
        else:
            calls.append(None)                 # just count the rest

    handle = denoiser.register_forward_pre_hook(hook, with_kwargs=True)
    try:
        rn.generate(PROMPT, engine=engine_id, seconds=2, seed=0, progress=False)
    finally:
        handle.remove()
    args, kwargs = calls[0]
    with torch.no_grad():
        with FlopCounterMode(display=False) as counter:
            denoiser(*args, **kwargs)
        flops = counter.get_total_flops()
        denoiser(*args, **kwargs)              # warm-up
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            denoiser(*args, **kwargs)
            times.append(time.perf_counter() - t)
    seconds = statistics.median(times)
    return {"forwards_per_clip": len(calls), "flops_per_forward": flops,
            "seconds_per_forward": seconds, "flops_per_second": flops / seconds,
            "batch": int(args[0].shape[0]) if args and hasattr(args[0], "shape") else None}


def camera_costs(rn, engine, runs: int) -> dict:
    """Median seconds of a 2-second clip with no camera and with a pan in each camera mode."""
    from runway_nb.eval_director import warp_camera_input

    modes = ["none", *engine.capabilities.camera_modes]
    if hasattr(engine, "warp_camera_input") and "warp" in modes:
        modes.append("warp-only")
    times = {m: [] for m in modes}
    for seed in range(runs + 1):                              # seed 0: a warm-up per mode
        for mode in modes:
            shot = rn.Shot(PROMPT, seconds=2, seed=seed, motion_mode="native",
                           camera=None if mode == "none" else "pan_left",
                           camera_mode={"none": "auto", "warp-only": "warp"}.get(mode, mode))
            with warp_camera_input(engine, on=mode != "warp-only"):
                start = time.perf_counter()
                engine.render(shot, progress=False)
            if seed:
                times[mode].append(time.perf_counter() - start)
    return {m: statistics.median(t) for m, t in times.items()}


def _say(message: str) -> None:
    """What the benchmark is doing now, on stderr (it takes a minute or two)."""
    print(f"bench: {message}", file=sys.stderr, flush=True)


def run(args) -> dict:
    import torch

    from .errors import check_number

    check_number("threads", args.threads, low=1, high=1024, integer=True)
    check_number("runs", args.runs, low=1, high=1000, integer=True)
    torch.set_num_threads(args.threads)
    import runway_nb as rn

    _say(f"loading {args.engine}")

    t0 = time.perf_counter()
    engine = rn.load_engine(args.engine)
    load_s = time.perf_counter() - t0
    caps = engine.capabilities

    def once(seed: int, motion_mode: str = "auto") -> tuple[float, float]:
        first = []
        start = time.perf_counter()
        clip = rn.generate(PROMPT, engine=args.engine, seconds=2, seed=seed, progress=False,
                           motion_mode=motion_mode,
                           on_step=lambda info: first or first.append(time.perf_counter()))
        total = time.perf_counter() - start
        if clip.frames.shape[0] != round(2 * clip.fps):     # timings of the wrong clip mean nothing
            raise RuntimeError(f"bench: {args.engine} made {clip.frames.shape[0]} frames at {clip.fps:g} "
                               f"fps, not the 2 seconds asked for")
        return total, first[0] - start

    _say(f"a warm-up clip, then {args.runs} timed run(s) planned and native")
    once(0)                                                   # warm-up (lazy init, caches)
    results, native = [], []
    for seed in range(1, args.runs + 1):
        results.append(once(seed))
        native.append(once(seed, "native")[0])
    clip_s = statistics.median(r[0] for r in results)
    preview_s = statistics.median(r[1] for r in results)

    out = {
        "engine": args.engine, "prompt": PROMPT, "seconds_of_video": 2,
        "frames": round(2 * caps.default_fps), "size": list(caps.default_size),
        "steps": caps.default_steps, "guidance": caps.default_guidance,
        "threads": args.threads, "runs": args.runs,
        "load_s": load_s, "generate_s_median": clip_s,
        "generate_s_all": [r[0] for r in results], "first_preview_s_median": preview_s,
        "motion_mode": engine.resolve(rn.Shot(PROMPT)).motion_mode,
        "generate_native_s_median": statistics.median(native),
        "machine": {"cpu": _cpu_name(), "cores": os.cpu_count(), "python": platform.python_version(),
                    "torch": torch.__version__, "runway_nb": rn.__version__},
    }
    denoiser = _denoiser(engine)
    if denoiser is not None:
        _say("the denoiser's FLOPs and this machine's matmul speed")
        d = denoiser_numbers(torch, rn, args.engine, denoiser, args.runs)
        peak = matmul_flops(torch)
        out["denoiser"] = {**d, "matmul_flops_per_second": peak,
                           "fraction_of_matmul": d["flops_per_second"] / peak,
                           "share_of_generate": d["forwards_per_clip"] * d["seconds_per_forward"] / clip_s}
    _say("a pan in each camera mode")
    out["camera_modes_s_median"] = camera_costs(rn, engine, args.runs)
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def table(r: dict) -> str:
    rows = [
        ("engine", r["engine"]),
        ("clip", f"{r['frames']} frames {r['size'][0]}x{r['size'][1]}, {r['steps']} steps, "
                 f"guidance {r['guidance']:g}"),
        ("threads", f"{r['threads']} (of {r['machine']['cores']} cores, {r['machine']['cpu']})"),
        ("load engine", f"{r['load_s']:.2f} s"),
        ("generate 2 s clip", f"{r['generate_s_median']:.3f} s (median of {r['runs']}; "
                              f"motion_mode {r['motion_mode']})"),
        ("  the model alone", f"{r['generate_native_s_median']:.3f} s (motion_mode native)"),
        ("first preview", f"{r['first_preview_s_median']:.3f} s"),
        ("peak RSS", "not measured here" if r["peak_rss_mb"] is None else f"{r['peak_rss_mb']:.0f} MB"),
    ]
    if "denoiser" in r:
        d = r["denoiser"]
        rows += [
            ("denoiser forward", f"{d['flops_per_forward'] / 1e9:.3f} GFLOP, "
                                 f"{d['seconds_per_forward'] * 1e3:.1f} ms (batch {d['batch']})"),
            ("denoiser FLOP/s", f"{d['flops_per_second'] / 1e9:.2f} GFLOP/s = "
                                f"{100 * d['fraction_of_matmul']:.0f}% of matmul "
                                f"({d['matmul_flops_per_second'] / 1e9:.1f} GFLOP/s)"),
            ("denoiser share", f"{d['forwards_per_clip']} forwards = "
                               f"{100 * d['share_of_generate']:.0f}% of generate time"),
        ]
    rows += [(f"  pan, {mode}" if mode != "none" else "  no camera (native motion)", f"{sec:.3f} s")
             for mode, sec in r.get("camera_modes_s_median", {}).items()]
    if r["engine"] == "tiny":
        rows += [("README targets", "(set on a 2-core laptop-class CPU)")]
        for key, target, limit, unit in TARGETS:
            value = r.get(key)
            shown = "not measured" if value is None else (
                f"{value:.{0 if unit == 'MB' else 2}f} {unit}: " + ("met" if value <= limit else "over"))
            rows.append((f"  {target}", shown))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def add_arguments(ap: argparse.ArgumentParser) -> None:
    """The options, shared by `runway-nb bench` and benchmarks/bench_generate.py."""
    ap.add_argument("--engine", default="tiny", help="engine id or pipeline folder (default: tiny)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (default: 2)")
    ap.add_argument("--runs", type=int, default=5, help="timed runs after the warm-up (default: 5)")
    ap.add_argument("--json", type=Path, metavar="OUT.json", help="also write the results here")


def report(args) -> None:
    """Run, print the table, and write the JSON if asked (only then: a run leaves nothing
    behind in the working tree)."""
    from .files import check_writable, write_report

    out = None
    if args.json is not None:
        # refused before the minute of timing, not when the results are ready to write: a
        # missing folder, a folder in the file's place, a folder this user cannot write to
        out = check_writable(args.json.expanduser(), "json", given=str(args.json))
    result = run(args)
    print(table(result))
    if out is not None:
        # and should the write still fail, the results are kept elsewhere (StoreError says where)
        write_report(out, json.dumps(result, indent=1), "the benchmark's results")
        print(f"wrote {args.json}")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(ap)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args = ap.parse_args(argv)
    from .errors import RunwayError, say_failure

    try:
        report(args)
    except (RunwayError, OSError) as exc:                # one line, as `runway-nb bench` says it
        raise SystemExit(say_failure(ap.prog, exc, ap)) from None


if __name__ == "__main__":
    main()
