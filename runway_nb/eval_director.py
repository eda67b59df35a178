"""Director Mode's evaluation: does a clip follow its camera path, and do brushes move
one object while the rest holds still? (`python -m runway_nb.eval --camera / --brushes`)

Camera. Held-out prompts (colour, shape, background, motion combinations never seen in
training; no camera words in the text, so the path is the only instruction) × the eight
single-axis presets at random intensities 0.6–1.5, rendered in each camera mode (and
"warp-only": warp with the tiny engine's camera input off, the training-free part alone). The
camera each clip shows is measured (`runway_nb.tiny.motion.measure_camera`, moving
objects left out) and compared with the requested path:
  * direction: the measured move, classified by the analyzer's rule, is the requested one
    (the dominant move: a pan that also zooms by more than 10 % reads as a zoom);
  * on its axis: the requested axis moves the requested way past the same threshold,
    whatever the other axes do (a weaker reading, printed beside direction);
  * translation error: how far apart the two cameras put frame 0's centre, mean over
    frames, in % of the frame width (and in pixels);
  * zoom error: |log measured zoom − log requested zoom| × 100 (≈ %), mean over frames;
  * roll error: |measured − requested roll| in degrees, mean over frames.
The same measurement of the toy world's own render of each combination is the ceiling
("truth"); "virtual on truth" is the virtual camera's window over the toy world's static
render (oversampled, as for an engine that can render bigger frames) — what the window
applies, without the model's own drift. Mode "model-still" (opt-in) checks the ruler on the
model's own pictures: the first frame of each clip the engine renders, frozen and filmed
through the same exact window — what the measurement reads where only the camera moves.

Brushes. Image→video: the toy world's first frame of a two-object scene (both still) is
given, a brush painted over one object (its mask, dilated like a generous stroke) asks
it to travel a quarter of the frame in one of four directions; the clip is tracked:
  * trajectory error: brushed object's centroid vs where the brush says, % of width;
  * background motion: the measured camera's centre shift (objects left out), % of width;
  * the other object's drift, % of width; and the same clips without the brush;
  * success: the object is tracked in ≥ 75 % of frames and its error is ≤ 10 %
    (the trajectory error averages the frames where it is seen; "lost" says how many not);
  * stray: pixels of the brushed colour away from the followed object (a second copy), in
    % of the object's own, against the same in the given first frame (the sky's own stars);
  * off-scenery: pixels, objects and their rims apart, in a colour the scene's sky and
    ground never show (`analyzer.off_scenery`: a repainted sky, smears; ~0 on renders).
Frames where the brush's target lies outside the picture (a camera move can carry it out)
are scored by no position: "target out" says how many there were.
With `--brush-camera PRESET[:INTENSITY]` every clip also has that camera move: the brushed
object is expected where the camera films its brushed path, the other object where the
camera carries it, and background motion is the measured camera's distance from the
requested one.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
from tqdm.auto import tqdm

from .camera import CameraPath
from .camera.brush import MotionBrush
from .camera.geometry import frame_transform
from .tiny import toyworld
from .tiny.analyzer import off_scenery
from .tiny.motion import (centre_error_px, classify_move, measure_camera, moves_on_axis, object_masks,
                          stray_share, track)

MOVES = ("pan_left", "pan_right", "tilt_up", "tilt_down", "zoom_in", "zoom_out", "roll_cw", "roll_ccw")
FRAMES, FPS, SIZE = 16, 8.0, 64
# "warp-only": warp with the tiny engine's camera input switched off — the training-free
# method alone, as an engine without a camera input gets it (the warp target)
WARP_ONLY = "warp-only"
CAMERA_MODES = ("native", "warp", WARP_ONLY, "virtual")
# "model-still": the ruler on the model's pictures (a frozen first frame, the exact window)
MODEL_STILL = "model-still"
EVAL_MODES = (*CAMERA_MODES, MODEL_STILL)
CAMERA_TARGETS = {"native": {"direction": 95, "translation_pct": 5},
                  WARP_ONLY: {"direction": 80}, "virtual": {"translation_px": 1}}
BRUSH_TARGETS = {"trajectory_pct": 10, "background_pct": 2}
# a brushed target closer than this to the border is out of the picture (an object's centroid
# there is its visible part's, biased inward)
EDGE_PX = 3.0


# ---- combinations ----------------------------------------------------------------------------

def camera_combos(n: int, seed: int = 0, camera_words: bool = False) -> list[dict]:
    """n held-out prompt × path combinations: moves cycle through MOVES. With
    `camera_words` the prompt also names the move ("camera pans left"), as the plain
    evaluation's prompts do; by default the path is the only instruction."""
    combos = []
    for i in range(n):
        rng = np.random.default_rng([seed, 11, i])
        scene = toyworld.sample_scene(rng, "eval", camera_probability=0.0, two_object_probability=0.0)
        move, intensity = MOVES[i % len(MOVES)], float(rng.uniform(0.6, 1.5))
        worded = toyworld.ToyScene(scene.background, scene.objects, move, intensity, scene.texture_seed)
        caption = toyworld.caption_for(worded, rng, camera_in_text=camera_words)
        combos.append({"scene": scene, "prompt": caption, "move": move, "intensity": round(intensity, 3),
                       "seed": 1000 + i})
    return combos


def _describe(obj: toyworld.ToyObject, rng) -> str:
    color = rng.choice(toyworld.COLOR_WORDS[obj.color])
    art = "an" if color[0] in "aeiou" else "a"
    return f"{art} {color} {rng.choice(toyworld.SHAPE_WORDS[obj.shape])}"


def brush_combos(n: int, seed: int = 0) -> list[dict]:
    """n two-object scenes (the first object from a held-out combination), both still;
    the brush moves one of them a quarter of the frame in one of four directions."""
    combos = []
    directions = {"right": (1, 0), "left": (-1, 0), "up": (0, 1), "down": (0, -1)}
    for i in range(n):
        rng = np.random.default_rng([seed, 13, i])
        base = toyworld.sample_scene(rng, "eval", camera_probability=0.0, two_object_probability=0.0)
        first = base.objects[0]
        while True:
            color = str(rng.choice(toyworld.COLORS))
            if color != first.color and (color, base.background) not in toyworld.CLASHES:
                break
        # two objects side by side, each with room to travel a quarter of the frame
        a = toyworld.ToyObject(first.shape, first.color, "still", -0.2, float(rng.uniform(-0.05, 0.1)), 0.1)
        b = toyworld.ToyObject(str(rng.choice(toyworld.SHAPES)), color, "still", 0.2,
                               float(rng.uniform(-0.05, 0.1)), 0.1)
        scene = toyworld.ToyScene(base.background, (a, b), "static", 1.0, base.texture_seed)
        prompt = f"{_describe(a, rng)} and {_describe(b, rng)} {rng.choice(toyworld.BACKGROUND_WORDS[scene.background])}"
        which = i % 2
        name = list(directions)[(i // 2) % 4]
        dx, dy = directions[name]
        speed = 0.25 / ((FRAMES) / FPS)        # a quarter of the frame over the clip
        combos.append({"scene": scene, "prompt": prompt, "object": which, "direction": name,
                       "horizontal": dx * speed, "vertical": dy * speed, "seed": 2000 + i})
    return combos


# ---- camera -----------------------------------------------------------------------------------

def camera_row(requested: np.ndarray, measured: np.ndarray, move: str) -> dict:
    err_px = centre_error_px(requested, measured, SIZE, SIZE)
    return {"move": move, "seen": classify_move(measured[-1], SIZE, SIZE),
            "direction": classify_move(measured[-1], SIZE, SIZE) == move,
            "on_axis": moves_on_axis(measured[-1], move, SIZE, SIZE),
            "translation_px": float(err_px.mean()), "translation_pct": float(100 * err_px.mean() / SIZE),
            "zoom_pct": float(100 * np.abs(np.log(measured[:, 2]) - np.log(requested[:, 2])).mean()),
            "roll_deg": float(np.abs(measured[:, 3] - requested[:, 3]).mean())}


class EvaluationInterrupted(KeyboardInterrupt):
    """Ctrl-C during `evaluate_camera` or `evaluate_brushes`, carrying what finished:
    `result`, as the evaluation returns it, the mode or label under way in it marked
    "partial" with its "done" of "of" clips (left out if none was done); `done` and `total`,
    the clips finished and asked for, all modes or labels together. Still a
    KeyboardInterrupt: code that stops on one stops on it."""

    def __init__(self, result: dict, done: int, total: int):
        super().__init__(f"interrupted after {done} of {total} clips")
        self.result, self.done, self.total = result, done, total


def _interrupted(out: dict, key, rows: list[dict], per_key: int, total: int) -> EvaluationInterrupted:
    """`out` with the rows of `key` (the mode or label under way) as a partial entry."""
    if rows and key not in out:
        out[key] = {"metrics": summarize(rows), "rows": rows, "partial": True, "done": len(rows),
                    "of": per_key}
    return EvaluationInterrupted(out, sum(len(r["rows"]) for r in out.values()), total)


def _partial_note(entry: dict) -> str:
    """A table row's mark for a mode or label the interrupt cut short."""
    return f"  partial: {entry['done']} of {entry['of']}" if entry.get("partial") else ""


def summarize(rows: list[dict]) -> dict:
    keys = [k for k in rows[0] if isinstance(rows[0][k], (bool, float, np.bool_))]
    return {k: float(np.mean([r[k] for r in rows]) * (100 if isinstance(rows[0][k], (bool, np.bool_)) else 1))
            for k in keys}


def evaluate_camera(engine, combos, modes=CAMERA_MODES, steps=None, progress=True) -> dict:
    """Per mode (and "truth", the toy world's own renders): summary metrics and rows.
    Modes are the Shot's camera modes, "warp-only" (warp with the engine's
    `warp_camera_input` off; an engine without one has no camera input to switch off) and
    "model-still" (the ruler on the model's pictures, module docstring)."""
    from .shot import Shot

    from .camera.virtual import apply_window, plan_window

    out, rows, mode = {}, [], None
    static = np.tile([0.0, 0.0, 1.0, 0.0], (FRAMES, 1))
    every = ("truth", "virtual on truth", *modes)
    try:
        for mode in every:
            rows = []
            for c in tqdm(combos, desc=f"camera {mode}", disable=not progress):
                path = CameraPath.preset(c["move"], c["intensity"])
                requested = path.per_frame(FRAMES, FPS)
                if mode == "truth":          # the toy world filmed with the path: the oracle's ceiling
                    frames = toyworld.render(c["scene"], FRAMES, FPS, SIZE, SIZE, camera=requested)
                elif mode == "virtual on truth":   # the window alone, over a truly static source
                    # rendered as an engine that can oversample would: at a bigger size showing the
                    # margin around the shot, so the window never enlarges and the scale is the truth's
                    plan = plan_window(requested, SIZE, SIZE, sizes=[(s, s) for s in (64, 96, 128, 192)])
                    ws, hs = plan.source_size
                    wide = static * [1, 1, 1 / plan.margin, 1]
                    source = toyworld.render(c["scene"], FRAMES, FPS, ws, hs, camera=wide)
                    frames = apply_window(source, requested, plan)
                elif mode == MODEL_STILL:    # the model's first frame, frozen, through the exact window
                    shot = Shot(c["prompt"], seed=c["seed"], frames=FRAMES, fps=FPS, steps=steps, motion_mode="native")
                    still = engine.render(shot, progress=False).frames[:1]
                    plan = plan_window(requested, SIZE, SIZE, sizes=[(SIZE, SIZE)])
                    frames = apply_window(np.repeat(still, FRAMES, axis=0), requested, plan)
                else:
                    # the object's motion left to the model: a planned motion's brush guidance
                    # would also pull the background along the path, and this measures the mode
                    shot = Shot(c["prompt"], seed=c["seed"], frames=FRAMES, fps=FPS, steps=steps,
                                camera=path, camera_mode="warp" if mode == WARP_ONLY else mode,
                                motion_mode="native")
                    with warp_camera_input(engine, on=mode != WARP_ONLY):
                        frames = engine.render(shot, progress=False).frames
                measured = measure_camera(frames, object_masks(frames, c["scene"].objects[0].color))
                rows.append({"prompt": c["prompt"], "background": c["scene"].background,
                             **camera_row(requested, measured, c["move"]),
                             "measured": measured.round(4).tolist()})
            out[mode] = {"metrics": summarize(rows), "rows": rows}
    except KeyboardInterrupt:                 # Ctrl-C: what finished goes with it
        raise _interrupted(out, mode, rows, len(combos), len(combos) * len(every)) from None
    return out


@contextmanager
def warp_camera_input(engine, on: bool):
    """Warp mode with the engine's camera input on or off inside the block, then as it was
    (an engine without the switch has no camera input in warp mode: nothing to do)."""
    before = getattr(engine, "warp_camera_input", None)
    if before is not None:
        engine.warp_camera_input = on
    try:
        yield
    finally:
        if before is not None:
            engine.warp_camera_input = before


# ---- brushes ------------------------------------------------------------------------------------

def brush_for(frame0: np.ndarray, color: str, horizontal: float, vertical: float) -> MotionBrush:
    """A brush painted over the object of `color` in the first frame (a generous stroke:
    the object's pixels grown by 2)."""
    import cv2

    mask = object_masks(frame0[None], color)[0].astype(np.uint8)
    mask = cv2.dilate(mask, np.ones((5, 5), np.uint8)) > 0
    return MotionBrush(mask=mask, horizontal=horizontal, vertical=vertical)


def brush_row(frames: np.ndarray, frame0: np.ndarray, combo: dict, brush: MotionBrush | None,
              camera: np.ndarray | None = None) -> dict:
    """Track both objects in [frame0, *frames] against what the brush asked for. With a
    `camera` (the clip's requested per-frame path) the brushed object is expected where the
    camera films its brushed path, the other where the camera carries it, and "background"
    is how far the measured camera strays from the requested one."""
    import cv2

    scene = combo["scene"]
    clip = np.concatenate([frame0[None], frames])
    moved, other = scene.objects[combo["object"]], scene.objects[1 - combo["object"]]
    want = MotionBrush(box=(0, 0, 1, 1), horizontal=combo["horizontal"], vertical=combo["vertical"]) \
        .per_frame(len(clip), FPS, SIZE, SIZE)[:, :2]
    if camera is None:
        camera = np.tile([0.0, 0.0, 1.0, 0.0], (len(clip), 1))
    maps = frame_transform(camera, SIZE, SIZE)                       # frame 0's pixels → frame t's

    def filmed(points):                                              # (T, 2) scene points → pixels
        return np.einsum("tij,tj->ti", maps[:, :, :2], points) + maps[:, :, 2]

    def in_picture(points):                                          # (T, 2) pixels → (T,) bool
        return ((points >= EDGE_PX) & (points <= SIZE - 1 - EDGE_PX)).all(1)

    a, b = track(clip, moved.color), track(clip, other.color)
    target = filmed(a[0] + want)
    # a target the camera has carried out of the picture cannot be filmed: those frames are
    # scored by no position (tracking benchmarks score visible points only) and counted apart
    inside = in_picture(target)
    seen = ~np.isnan(a[:, 0])
    scored = seen & inside
    tracked = float(seen[inside].mean()) if inside.any() else 0.0     # (not found in the given frame)
    traj = np.hypot(*(a[scored] - target[scored]).T) if scored.any() else np.array([SIZE])
    masks = object_masks(clip, moved.color) | object_masks(clip, other.color)
    cam = measure_camera(clip, masks)
    # colours the scene's sky and ground never show (a repainted sky, smears), objects and
    # their anti-aliased rims (a pixel's grow) set apart
    rims = np.stack([cv2.dilate(m.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0 for m in masks])
    off = off_scenery(clip, scene.background, rims)
    bg = centre_error_px(camera, cam, SIZE, SIZE)
    carried = filmed(np.tile(b[0], (len(clip), 1)))                 # where the other object should be
    drift = np.hypot(*(b - carried).T)[in_picture(carried)]
    traj_pct = float(100 * traj.mean() / SIZE)
    # the brushed colour elsewhere than the followed object (a second copy the model painted);
    # frame 0 is the given picture: what scenery of that colour the sky itself shows
    stray = stray_share(clip, moved.color, a)
    return {"prompt": combo["prompt"], "direction": combo["direction"],
            # a clip succeeds when the object is tracked in ≥ 75 % of the frames its target is
            # in the picture, and stays on course
            "success": bool(tracked >= 0.75 and traj_pct <= BRUSH_TARGETS["trajectory_pct"]),
            "trajectory_pct": traj_pct, "lost_pct": 100 * (1 - tracked),
            "target_out_pct": float(100 * (1 - inside.mean())),
            "background_pct": float(100 * bg.mean() / SIZE),
            "other_object_pct": float(100 * np.nanmean(drift) / SIZE) if np.isfinite(drift).any() else 100.0,
            "moved_pct": float(100 * np.hypot(*(a[seen][-1] - a[0])) / SIZE) if seen.any() else 0.0,
            "stray_pct": float(100 * np.nanmean(stray[1:])) if np.isfinite(stray[1:]).any() else 0.0,
            "stray_given_pct": float(100 * stray[0]) if np.isfinite(stray[0]) else 0.0,
            "off_scenery_pct": float(100 * off[1:].mean())}


def evaluate_brushes(engine, combos, steps=None, progress=True, baseline=True, camera=None) -> dict:
    """Brushed clips (and, with `baseline`, the same clips without the brush); `camera`: a
    camera for every clip ("pan_left:1.0", a CameraPath…), the brush then under a moving camera."""
    from .shot import Shot

    out, rows, label = {}, [], None
    labels = ("brush", "no brush") if baseline else ("brush",)
    try:
        for label in labels:
            rows = []
            for c in tqdm(combos, desc=f"brushes ({label})", disable=not progress):
                frame0 = toyworld.render(c["scene"], 1, FPS, SIZE, SIZE)[0]
                color = c["scene"].objects[c["object"]].color
                brush = brush_for(frame0, color, c["horizontal"], c["vertical"]) if label == "brush" else None
                shot = Shot(c["prompt"], seed=c["seed"], frames=FRAMES, fps=FPS, steps=steps, camera=camera,
                            brushes=() if brush is None else (brush,))
                frames = engine.render(shot, init_frames=frame0[None], progress=False).frames
                path = None if shot.camera is None else shot.camera.per_frame(FRAMES + 1, FPS)
                rows.append(brush_row(frames, frame0, c, brush, path))
            out[label] = {"metrics": summarize(rows), "rows": rows}
    except KeyboardInterrupt:                 # Ctrl-C: what finished goes with it
        raise _interrupted(out, label, rows, len(combos), len(combos) * len(labels)) from None
    return out


def wilson_interval(hits: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95 % (Wilson score) interval of a share seen as `hits` of `n` clips: how far a
    direction accuracy measured on 64 paths can be from the engine's true one (64 paths at
    67 %: 55–77 %), and unlike the textbook ± it stays inside 0–1 at 0 or n hits."""
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def print_camera(result: dict) -> None:
    print(f"\n{'mode':<17}{'direction %':>12}{'95 % interval':>14}{'on axis %':>10}{'transl. % W':>12}"
          f"{'transl. px':>11}{'zoom err %':>11}{'roll err °':>11}")
    for mode, r in result.items():
        m = r["metrics"]
        lo, hi = wilson_interval(sum(bool(row["direction"]) for row in r["rows"]), len(r["rows"]))
        print(f"{mode:<17}{m['direction']:>12.1f}{f'{100 * lo:.0f}–{100 * hi:.0f}':>14}{m['on_axis']:>10.1f}"
              f"{m['translation_pct']:>12.2f}{m['translation_px']:>11.2f}{m['zoom_pct']:>11.2f}{m['roll_deg']:>11.2f}"
              f"{_partial_note(r)}")
    print("targets: native ≥ 95 % direction and ≤ 5 % translation; warp-only (the camera input off) "
          "≥ 80 %; virtual ≤ 1 px")
    for mode, r in result.items():
        line = direction_by_sky(r["rows"])
        if line:
            print(f"{mode:<17}{line}")


def direction_by_sky(rows: list[dict]) -> str:
    """Direction right, as right / paths, on starry skies and on the rest, then per sky: the
    model's stars are finer than a latent pixel, and that is where native moves go wrong
    (README, Director Mode). Rows without a background (older JSON) give ''."""
    if not rows or any("background" not in row for row in rows):
        return ""

    def tally(keep) -> str:
        picked = [bool(row["direction"]) for row in rows if keep(row["background"])]
        return f"{sum(picked)}/{len(picked)}"

    skies = sorted({row["background"] for row in rows})
    groups = [f"{name} {tally(keep)}" for name, keep in (("starry", lambda b: b in toyworld.STARRY),
                                                         ("the rest", lambda b: b not in toyworld.STARRY))
              if any(keep(b) for b in skies)]                                 # no empty group
    return (f"direction by sky: {', '.join(groups)}; per sky: "
            + ", ".join(f"{b} {tally(lambda x, b=b: x == b)}" for b in skies))


def print_brushes(result: dict) -> None:
    print(f"\n{'clips':<10}{'trajectory % W':>15}{'lost %':>8}{'success %':>10}{'background % W':>16}"
          f"{'other obj % W':>15}{'moved % W':>11}{'target out %':>14}{'stray %':>9}{'given %':>9}"
          f"{'off-scenery %':>14}")
    for label, r in result.items():
        m = r["metrics"]
        print(f"{label:<10}{m['trajectory_pct']:>15.2f}{m['lost_pct']:>8.1f}{m['success']:>10.1f}"
              f"{m['background_pct']:>16.2f}{m['other_object_pct']:>15.2f}{m['moved_pct']:>11.2f}"
              f"{m['target_out_pct']:>14.1f}{m['stray_pct']:>9.1f}{m['stray_given_pct']:>9.1f}"
              f"{m['off_scenery_pct']:>14.1f}{_partial_note(r)}")
    print("targets: trajectory error ≤ 10 % of the width, background motion ≤ 2 %")
