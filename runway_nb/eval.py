"""Evaluate an engine on held-out toy-world prompts.

    python -m runway_nb.eval --n 100 --json eval.json
    python -m runway_nb.eval --n 100 --motion-mode native   # the model's own object motion
    python -m runway_nb.eval --camera --n 64        # Director Mode: camera path per mode
    python -m runway_nb.eval --brushes --n 32       # Director Mode: motion brushes
    python -m runway_nb.eval --brushes --brush-camera pan_left:1.0   # … under a moving camera

Draws a fixed, seeded set of scenes whose (colour, shape, background, motion)
combinations never appear in training, generates each through `rn.generate` with the
scene's camera move, reads the clip back with the toy-world analyzer, and prints the
share of clips whose background, object colour, shape, object motion and camera
move are right, plus flicker. The same analyzer run on the toy world's own renders
of the same scenes is printed beside it: that is the ceiling the oracle allows.
`--camera` and `--brushes` run Director Mode's evaluation instead (runway_nb/eval_director.py;
both flags: both evaluations, one report). A flag one evaluation alone reads (`--modes`,
`--camera-words`, `--brush-camera`; `--camera-mode`, `--motion-mode`) is refused with another.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from .errors import InvalidInput
from .tiny import toyworld
from .tiny.analyzer import analyze, score
from .options import flag_error

TARGETS = {"background": 95, "color": 90, "motion": 80, "camera": 85, "shape": 70}


def eval_scenes(n: int, seed: int = 0) -> list[toyworld.ToyScene]:
    scenes = []
    for i in range(n):
        rng = np.random.default_rng([seed, 7, i])
        s = toyworld.sample_scene(rng, "eval", two_object_probability=0.0)
        caption = toyworld.caption_for(s, rng, camera_in_text=True)
        scenes.append(toyworld.ToyScene(s.background, s.objects, s.camera, s.camera_intensity,
                                        s.texture_seed, caption))
    return scenes


def score_clip(frames, scene) -> dict:
    """One clip's row: what the analyzer reads in `frames` and whether it is `scene`'s."""
    a = analyze(frames)
    return {"prompt": scene.caption, "camera": scene.camera, **score(a, scene),
            "flicker": a.flicker, "seen": {"background": a.background, "color": a.color,
                                           "shape": a.shape, "motion": a.motion, "camera": a.camera}}


def metrics_of(rows: list[dict]) -> dict | None:
    """The share (%) of rows right per measure, and mean flicker; None for no rows."""
    if not rows:
        return None
    metrics = {k: 100.0 * np.mean([r[k] for r in rows]) for k in TARGETS}
    metrics["flicker"] = float(np.mean([r["flicker"] for r in rows]))
    return metrics


def evaluate(render_fn, scenes, progress: bool = True) -> dict:
    """render_fn(scene, index) -> frames (T,H,W,3) uint8. Returns metrics (%) and rows."""
    rows = [score_clip(render_fn(scene, i), scene)
            for i, scene in enumerate(tqdm(scenes, desc="evaluate", disable=not progress))]
    return {"metrics": metrics_of(rows), "rows": rows}


def _truth(scene, i):
    """The toy world's own render of `scene`: the analyzer's ceiling."""
    return toyworld.render(scene, 16, 8.0, 64, 64)


def _evaluate_with_truth(render_fn, scenes, progress: bool = True) -> tuple[dict, dict, int]:
    """`evaluate` of `render_fn` and of the toy world's own renders, scene by scene, so that a
    Ctrl-C leaves both over the same finished scenes: (model, truth, scenes finished). The
    interrupt is caught here and told by the count (less than len(scenes))."""
    model, truth = [], []
    try:
        for i, scene in enumerate(tqdm(scenes, desc="evaluate", disable=not progress)):
            row = score_clip(render_fn(scene, i), scene)
            truth.append(score_clip(_truth(scene, i), scene))
            model.append(row)
    except KeyboardInterrupt:
        pass
    return ({"metrics": metrics_of(model), "rows": model}, {"metrics": metrics_of(truth[:len(model)]),
                                                            "rows": truth[:len(model)]}, len(model))


def print_table(model: dict, truth: dict) -> None:
    print(f"\n{'metric':<12}{'model %':>9}{'oracle on truth %':>19}{'target %':>10}")
    for k, target in TARGETS.items():
        print(f"{k:<12}{model['metrics'][k]:>9.1f}{truth['metrics'][k]:>19.1f}{target:>10}")
    print(f"{'flicker':<12}{model['metrics']['flicker']:>9.2f}{truth['metrics']['flicker']:>19.2f}")


def _check_json(path: Path) -> None:
    """--json's file: one this user can write, found out before the evaluation runs."""
    from .files import check_writable

    check_writable(path, "json")


def main(argv=None):
    from .errors import EXIT_INTERRUPTED, RunwayError, say_failure

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    try:
        _main(ap, argv)
    except KeyboardInterrupt:                    # before the clips (loading the engine): nothing
        print(f"{ap.prog}: interrupted before any clip was evaluated", file=sys.stderr)  # to keep
        raise SystemExit(EXIT_INTERRUPTED) from None
    except (RunwayError, OSError) as exc:        # weights not installed, a package missing, a
        raise SystemExit(say_failure(ap.prog, exc, ap)) from None  # full disk: one line, as runway-nb


def _main(ap: argparse.ArgumentParser, argv) -> None:
    ap.add_argument("--n", type=int, default=100,
                    help="how many held-out scenes (with --camera: prompt × path pairs; with --brushes: "
                         "two-object scenes) to render (default: 100)")
    ap.add_argument("--engine", default="tiny", help="engine id or pipeline folder (default: tiny)")
    ap.add_argument("--seed", type=int, default=0,
                    help="which fixed set of scenes is drawn, an integer ≥ 0 (each clip's own seed is "
                         "set by its place in the set) (default: 0)")
    ap.add_argument("--steps", type=int,
                    help="denoising steps per clip, 1–1000 (default: the engine's own, 20 on tiny)")
    ap.add_argument("--device", default="cpu",
                    help="where the engine samples: cpu (default), cuda, cuda:N or mps; the noise is "
                         "drawn on the CPU either way, so the clips match the CPU's")
    ap.add_argument("--json", type=Path, metavar="OUT.json",
                    help="also write the report, every clip's scores included, here (default: none; "
                         "checked before the evaluation starts)")
    # the defaults of the flags one evaluation alone reads are filled in after the check that
    # refuses them with another: None says the flag was not given
    ap.add_argument("--camera-mode", choices=("auto", "native", "warp", "virtual"),
                    help="how the scenes' camera moves are applied (default: the engine's best); "
                         "not with --camera or --brushes")
    ap.add_argument("--motion-mode", choices=("auto", "native", "planned"),
                    help="how the object's motion is made: planned (the prompt's motion followed as a "
                         "brush) or native (the model alone); default: the engine's best; not with "
                         "--camera or --brushes")
    ap.add_argument("--camera", action="store_true", help="camera paths: direction and error per mode "
                    "(with --brushes too: both evaluations, one report)")
    ap.add_argument("--modes",
                    help="camera modes for --camera (default: native,warp,warp-only,virtual; warp-only: "
                         "warp with the camera input off; model-still: the ruler on a frozen frame of "
                         "the model's, moved exactly)")
    ap.add_argument("--camera-words", action="store_true",
                    help="with --camera: also name the move in the prompt (default: the path alone)")
    ap.add_argument("--brushes", action="store_true", help="motion brushes: trajectory and background")
    ap.add_argument("--brush-camera", default=None, metavar="PRESET[:INTENSITY]",
                    help="with --brushes: every clip under this camera move (default: locked off)")
    args = ap.parse_args(argv)
    # A flag the chosen evaluation does not read is refused, not ignored: left out of --camera,
    # --modes silently ran the plain evaluation instead, minutes of the wrong one.
    for flag, given, mode in (("--modes", args.modes is not None, "camera"),
                              ("--camera-words", args.camera_words, "camera"),
                              ("--brush-camera", args.brush_camera is not None, "brushes")):
        if given and not getattr(args, mode):
            ap.error(f"{flag} only means something with --{mode}: add --{mode} or drop {flag}")
    for flag, given in (("--camera-mode", args.camera_mode), ("--motion-mode", args.motion_mode)):
        if given is not None and (args.camera or args.brushes):
            ap.error(f"{flag} only means something in the plain evaluation, not with --camera or "
                     f"--brushes: drop {flag}" + (" (--camera renders the modes --modes names)"
                                                  if flag == "--camera-mode" else ""))
    args.camera_mode, args.motion_mode = args.camera_mode or "auto", args.motion_mode or "auto"
    args.modes = args.modes if args.modes is not None else "native,warp,warp-only,virtual"
    import runway_nb as rn

    from .camera import as_camera_path
    from .engines.registry import check_device
    from .errors import EngineNotFound, check_number

    try:                                         # bad settings are refused before any work
        check_number("n", args.n, low=1, integer=True)          # 0 clips: a table of nan
        # the scenes are drawn by default_rng([seed, …]), which takes no negative seed
        check_number("seed", args.seed, low=0, integer=True)
        if args.steps is not None:                               # the limits a Shot has
            check_number("steps", args.steps, low=1, high=1000, integer=True)
        if args.json is not None:                                # found out now, not after the eval
            _check_json(args.json)
        if args.brush_camera is not None:
            as_camera_path(args.brush_camera, field="brush_camera")
        check_device(args.device)
    except InvalidInput as exc:
        flag_error(ap, exc)

    modes = tuple(m.strip() for m in args.modes.split(",") if m.strip())
    if args.camera:                              # so are unknown camera modes
        from .eval_director import EVAL_MODES

        bad = [m for m in modes if m not in EVAL_MODES] or ([] if modes else [args.modes])
        if bad:
            ap.error(str(InvalidInput("modes", bad[0], f"must be one or more of {', '.join(EVAL_MODES)}, "
                                                       "separated by commas")))

    # an unknown engine is refused as a usage error; loaded once here, the plain evaluation's
    # rn.generate finds it in load_engine's cache
    try:
        engine = rn.load_engine(args.engine, device=args.device)
    except (EngineNotFound, InvalidInput) as exc:
        flag_error(ap, exc)

    if args.camera or args.brushes:
        _director(ap, args, engine, modes)
        return

    scenes = eval_scenes(args.n, args.seed)

    def generate(scene, i):
        return rn.generate(scene.caption, engine=args.engine, device=args.device, frames=16, fps=8, seed=1000 + i,
                           steps=args.steps, camera=f"{scene.camera}:{scene.camera_intensity}",
                           camera_mode=args.camera_mode, motion_mode=args.motion_mode,
                           progress=False).frames

    # each scene's model clip and its ground truth together: a Ctrl-C leaves both over the
    # same finished scenes, reported as partial
    model, truth, done = _evaluate_with_truth(generate, scenes)
    interrupted = done < len(scenes)
    if interrupted:
        print(f"\npartial: {done} of {len(scenes)} scenes evaluated (interrupted)")
    if done:
        print_table(model, truth)
    # what the numbers were measured with: a --steps 2 report must not read as a real one
    report = {"engine": args.engine, "n": args.n, "seed": args.seed, "steps": args.steps, "device": args.device,
              "camera_mode": args.camera_mode, "motion_mode": args.motion_mode, "model": model,
              "ground_truth": truth["metrics"]}
    _finish(ap, args, report, done, len(scenes), interrupted)


def _director(ap, args, engine, modes) -> None:
    """--camera and/or --brushes: Director Mode's evaluations, one report. A Ctrl-C ends it
    with what finished: the evaluation under way's partial table, and the partial JSON."""
    from . import eval_director as director

    report = {"engine": args.engine, "n": args.n, "seed": args.seed, "steps": args.steps, "device": args.device}
    parts = []                                   # (key, clips asked for, evaluation, table)
    if args.camera:
        parts.append(("camera", args.n * (2 + len(modes)),
                      lambda: director.evaluate_camera(engine, director.camera_combos(
                          args.n, args.seed, camera_words=args.camera_words), modes=modes, steps=args.steps),
                      director.print_camera))
    if args.brushes:
        report["brush_camera"] = args.brush_camera
        parts.append(("brushes", args.n * 2,
                      lambda: director.evaluate_brushes(engine, director.brush_combos(args.n, args.seed),
                                                        steps=args.steps, camera=args.brush_camera),
                      director.print_brushes))
    done, interrupted = 0, False
    for key, clips, evaluate_part, print_part in parts:
        try:
            report[key] = evaluate_part()
        except director.EvaluationInterrupted as exc:
            report[key], interrupted = exc.result, True
            done += exc.done
            print(f"\npartial: {key}, {exc.done} of {exc.total} clips evaluated (interrupted)")
            if exc.result:
                print_part(exc.result)
            break
        except KeyboardInterrupt:                # between the clips (drawing the combinations)
            interrupted = True
            break
        done += clips
        print_part(report[key])
    _finish(ap, args, report, done, sum(clips for _, clips, _, _ in parts), interrupted)


def _finish(ap, args, report: dict, done: int, total: int, interrupted: bool) -> None:
    """Write the report (--json), marked partial after a Ctrl-C; then, after one, say so on
    one line and exit 130 (the shell's status for a Ctrl-C)."""
    from .errors import EXIT_INTERRUPTED, StoreError, say_failure
    from .files import write_report

    if interrupted:
        report["partial"] = True
        report["interrupted"] = {"after": done, "of": total}
    if args.json:
        try:
            write_report(args.json, json.dumps(report, indent=1), "the report")
        except StoreError as exc:                # kept elsewhere; the message says where
            status = say_failure(ap.prog, exc)
            raise SystemExit(EXIT_INTERRUPTED if interrupted else status) from None
    if interrupted:
        kept = f"; the partial report is in {args.json}" if args.json else ""
        print(f"interrupted after {done} of {total} clips{kept}", file=sys.stderr)
        raise SystemExit(EXIT_INTERRUPTED)


if __name__ == "__main__":
    main()
