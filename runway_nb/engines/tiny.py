"""The embedded `tiny` engine: the toy-world video model trained by `runway_nb.tiny.train`.

Runs offline on a laptop CPU in about a second per 2-second clip. Camera paths are
followed three ways: native (the denoiser was trained on the per-frame camera path as
a numeric input), warp (warped noise and early x0 guidance, training-free, with that
input kept on) and virtual (the base class's crop window). Motion brushes are applied
training-free by the same early x0 guidance (runway_nb/tiny/guidance.py).
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from ..camera.geometry import camera_moves, frame_transform
from ..errors import Cancelled, InvalidInput, WeightsError
from ..shot import Shot
from ..tiny import CONTEXT, WINDOW
from ..tiny.planner import (continue_path, find_object, find_strays, motion_path, place_path, read_motion,
                            relocate, reshape)
from .base import Capabilities, Engine, StepInfo, cancel_requested

WEIGHTS = Path(__file__).resolve().parent.parent / "tiny" / "weights"
REQUIRED = ("model_index.json", "vae/config.json", "vae/diffusion_pytorch_model.safetensors",
            "text_encoder/config.json", "text_encoder/diffusion_pytorch_model.safetensors",
            "transformer/config.json", "transformer/diffusion_pytorch_model.safetensors",
            "tokenizer/vocab.json", "scheduler/scheduler_config.json")


@lru_cache(maxsize=8)
def weights_sha256(folder: str) -> str:
    """A hash over every weights file of a pipeline folder (recorded in each clip)."""
    h = hashlib.sha256()
    for path in sorted(Path(folder).rglob("*.safetensors")):
        h.update(path.relative_to(folder).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def is_tiny_folder(folder: Path) -> bool:
    index = folder / "model_index.json"
    if not index.is_file():
        return False
    try:
        data = json.loads(index.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(data, dict) and data.get("_class_name") == "TinyVideoPipeline"


class TinyEngine(Engine):
    id = "tiny"
    description = ("embedded toy-world model (64×64, 8 fps; camera native, warp or virtual; motion "
                   "brushes; the prompt's motion planned; offline, CPU or GPU)")
    # the same for every tiny pipeline (the shipped one and retrained ones): a class attribute,
    # so the engine list shows it without loading weights
    capabilities = Capabilities(
        text_to_video=True, image_to_video=True, extend=True,
        # best first: on held-out paths warp (with the camera input) follows in 100 % of
        # clips, the native camera input alone (with camera guidance) in 67 % (README)
        camera_modes=("warp", "native", "virtual"), motion_brushes=True,
        # on 2 × 100 held-out prompts the planned motion is right in 89 and 88 % of the
        # clips, the model's own in 36 % (README, Evaluation)
        motion_modes=("planned",),
        max_frames=8 * 60 * 5, sizes=((64, 64),), fps=(8.0,), default_size=(64, 64),
        default_fps=8.0, default_frames=WINDOW, default_steps=20, default_guidance=4.0,
        notes=f"renders {WINDOW}-frame windows; longer clips chain windows over "
              f"{CONTEXT} shared frames")

    def __init__(self, folder: str | Path | None = None, device: str = "cpu", dtype=None):
        from ..tiny.pipeline import TinyVideoPipeline

        # float32 only: the pipeline's latents, noise and guidance are float32 throughout, and a
        # 64×64 model gains nothing from half precision (float16 failed in `.to`, bfloat16 in
        # the first matmul)
        if not (dtype is None or dtype == torch.float32
                or (isinstance(dtype, str) and dtype.lower() in ("float32", "fp32"))):
            raise InvalidInput("dtype", dtype, "the tiny engine runs in float32 only (leave dtype "
                               "out, or 'float32' / torch.float32)")
        self.folder = Path(folder) if folder is not None else WEIGHTS
        missing = [name for name in REQUIRED if not (self.folder / name).is_file()]
        if missing:
            raise WeightsError(
                f"the tiny engine's weights are incomplete in {self.folder}: missing "
                f"{', '.join(missing)}. Reinstall runway_nb, or train them with "
                "`python -m runway_nb.tiny.train --out runs/tiny` and load runs/tiny/pipeline.")
        try:
            self.pipe = TinyVideoPipeline.load(self.folder)
        except Exception as exc:  # safetensors/json errors → one clear message
            raise WeightsError(f"could not load the tiny engine's weights from {self.folder}: "
                               f"{type(exc).__name__}: {exc}. The files may be corrupt; reinstall "
                               "runway_nb or retrain.") from exc
        if device != "cpu":
            self.pipe.to(device=device)
        self.device = device
        self.id = "tiny" if self.folder == WEIGHTS else str(self.folder)
        # extend conditions on an odd number of frames: the denoiser's tokens span 2 frames,
        # so the last given frame and the first new one share a token and the join falls
        # where the model's own frame steps are smallest (benchmarks/bench_extend.py, 20
        # held-out prompts: the median seam drops from 2.1× to 1.7× the median frame step).
        # Window-to-window carry inside one render stays CONTEXT.
        self.context = CONTEXT + 1
        self.max_context = WINDOW // 2
        # extend redraws the last 3 of the 5 context frames and dissolves into them (the
        # pipeline's `blend_frames`): on 8 held-out prompts the largest frame step over a
        # join fell from 2.15× to 1.79× the median step; 2 frames: 2.0×, 4: 1.82×
        self.blend = 3
        # continuations are guided harder than the first clip (4): over a 60 s chain of 2 s
        # extensions, colours washed out to white or a sky turned to sunset in 3 of 20
        # held-out prompts at 4 (benchmarks/bench_extend.py; README, Extend)
        self.extend_guidance = 6.0
        # a planned motion's draft takes this share of the shot's steps (tiny/planner.py): a
        # cleaner draft is a cleaner object to move; planned motion right in 81 % of 100
        # held-out prompts at 0.75 against 76 % at 0.5 (72 against 67 % on a second set of
        # 100), 79 % for a full draft, at +0.2 s a clip
        self.draft_share = 0.75
        # warp mode keeps the trained camera input on (but with brushes, see _render): the
        # training-free warp and the model's own reading of the path add up. On 2 × 64
        # held-out paths the camera went the asked way in 100 / 100 % of clips, 0.5 / 0.5 % of
        # the width off, with it on; 100 / 100 %, 0.7 / 0.7 % off, with it off (as an engine
        # without the input gets warp); 67 / 69 %, 3.6 / 3.5 % off, with the input alone. It
        # costs camera guidance's third denoiser branch (README: Director Mode, Benchmarks;
        # the fourth stage's weights: 94 against 84 %, before the guide moved the latents)
        self.warp_camera_input = True
        # the σ range in which native mode with a moving camera guides the prompt (the
        # pipeline's `guidance_interval`; outside it a step skips the negative prompt's
        # branch). Every step, as for any other shot: (0, 0.6) — the camera settled before the
        # prompt is pushed — read 81 / 89 % against 75 / 81 % on the two path sets it was
        # picked on, but 101 against 102 of 128 on two fresh sets, and the shape was right in
        # 51 against 63 of those clips (README, Director Mode). It is 16 % faster.
        self.native_guidance_interval = (0.0, 1.0)

    def _resolve_camera_mode(self, shot: Shot, given: int = 0) -> str:
        """auto: warp for a moving camera (100 % of held-out paths followed, against 67 % for the
        native input alone), but native for a locked-off camera: there is no path to warp along,
        and warp's guidance would only hold the first frame's layout."""
        mode = super()._resolve_camera_mode(shot, given)
        if shot.camera_mode == "auto" and mode == "warp":
            fps = shot.fps or self.capabilities.default_fps
            n = shot.frames or max(2, round((shot.seconds or 2.0) * fps))
            if not camera_moves(shot.camera.per_frame(n, fps)):
                return "native"
        return mode

    def _resolve_motion_mode(self, shot: Shot) -> str:
        """auto plans only a prompt that names an object motion ("drifts left", "bouncing"…);
        anything else is the model's own."""
        mode = super()._resolve_motion_mode(shot)
        if shot.motion_mode == "auto" and mode == "planned" and read_motion(shot.prompt) is None:
            return "native"
        return mode

    def provenance(self) -> dict:
        return {**super().provenance(), "weights_sha256": weights_sha256(str(self.folder)),
                "device": self.device}

    def _render(self, shot: Shot, on_step, cancel, init_frames, progress, started):
        import time

        k = 0 if init_frames is None else len(init_frames)
        total = k + shot.frames
        blend = min(shot.blend_frames, max(k - 1, 0))
        camera = None if shot.camera is None else shot.camera.per_frame(total, shot.fps)
        # motion_mode="planned": the prompt's object motion, drawn as a brush (tiny/planner.py)
        plan = read_motion(shot.prompt) if shot.motion_mode == "planned" else None
        # warp mode: the path is followed training-free, by warped noise and early x0 guidance
        # (tiny/guidance.py), and by the camera input unless `warp_camera_input` is off or the
        # shot has brushes (a planned motion is one): the input, pushed by camera guidance,
        # then fights the brush for the object — planned motion right in 69 % of 100 held-out
        # prompts with it on, 81 % off (the fourth stage's weights; README, Director Mode)
        # native mode, a moving camera: the prompt guided only in `native_guidance_interval`
        interval = (0.0, 1.0)
        if shot.camera_mode == "native" and camera_moves(camera):
            interval = self.native_guidance_interval
        warp_camera = None
        if camera is not None and shot.camera_mode == "warp":
            warp_camera = camera
            if not self.warp_camera_input or shot.brushes or plan is not None:
                camera = None                       # the null embedding: "no camera given"
        # brushes (training-free too): pixel masks and per-frame motion over the whole clip;
        # given frames (extend, image→video) are still, the brush starts at the first one
        brushes = [(b.region(shot.width, shot.height),
                    np.concatenate([np.tile([[0.0, 0.0, 1.0]], (max(k - 1, 0), 1)),
                                    b.per_frame(total - max(k - 1, 0), shot.fps, shot.width, shot.height,
                                                seed=shot.seed)]))
                   for b in shot.brushes]
        drafting = plan is not None and not k         # given frames show the object already
        draft_frames = min(total, WINDOW) if drafting else 0
        # the draft only has to show where the object is and what it looks like: fewer steps
        draft_steps = max(1, round(self.draft_share * shot.steps)) if drafting else 0
        steps_done, phase = [0], ["render"]
        n_windows = self.pipe.windows_for(total)
        total_steps = n_windows * shot.steps + draft_steps

        def callback(pipe, i, t, kw):
            steps_done[0] += 1
            if on_step is not None:
                x0 = kw["x0"]                                              # (T, C, h, w)
                rgb = pipe.vae.preview(x0)                                 # (T, 3, h, w)
                rgb = ((rgb + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
                rgb = rgb.repeat(4, axis=1).repeat(4, axis=2)              # nearest ×4 → frame size
                on_step(StepInfo(step=steps_done[0], total=total_steps, preview=rgb,
                                 elapsed=time.perf_counter() - started,
                                 frame_offset=kw["window_start"], extra={"pass": phase[0]}))
            if cancel_requested(cancel):
                pipe._interrupt = True

        bar_config = dict(getattr(self.pipe, "_progress_bar_config", {}))

        def run(n, steps=shot.steps, **kw):
            cut = (lambda a: None if a is None else a[:n])
            if drafting:           # two progress bars on the console: say which is which
                self.pipe.set_progress_bar_config(**{**bar_config, "desc": phase[0]})
            try:
                out = self.pipe(
                    shot.prompt, negative_prompt=shot.negative_prompt or None, num_frames=n,
                    height=shot.height, width=shot.width, num_inference_steps=steps,
                    guidance_scale=shot.guidance, camera=cut(camera), known_frames=init_frames,
                    generator=torch.Generator().manual_seed(shot.seed), callback_on_step_end=callback,
                    show_progress=progress, warp_camera=cut(warp_camera), guidance_interval=interval, **kw)
            finally:               # the cached engine's next render gets the plain bar back
                self.pipe.set_progress_bar_config(**bar_config)
            if self.pipe.interrupt:
                raise Cancelled(f"render cancelled after {steps_done[0]} steps; nothing was saved")
            return out.frames

        notes = {}
        first_frame = None
        seen_by = camera if camera is not None else warp_camera                # the object is filmed too
        maps = None if seen_by is None else frame_transform(seen_by, shot.width, shot.height)
        if plan is not None and k:
            # a continuation: the plan goes on from where the given frames show the object
            first, last = (find_object(init_frames[i], plan.color) for i in (0, -1))
            notes["motion_plan"] = {"motion": plan.motion, "words": plan.phrase, "color": plan.color,
                                    "object_found": first is not None and last is not None,
                                    "continued_from_given_frames": k}
            if first is not None and last is not None:
                brushes = [(first, continue_path(plan.motion, first, last, k, total, shot.fps, maps))]
        elif plan is not None:
            # a (shorter) draft from the same seed shows where the model puts the object; the plan
            # moves it where its whole path fits and renders again, the object as a brush
            phase[0] = "draft"
            draft = run(draft_frames, steps=draft_steps)
            phase[0] = "render"
            mask = find_object(draft[0], plan.color)
            notes["motion_plan"] = {"motion": plan.motion, "words": plan.phrase, "color": plan.color,
                                    "object_found": mask is not None}
            if mask is not None:                               # else: nothing to move, the model's own
                # copies of the object the draft painted twice are erased, not left behind
                strays = find_strays(draft[0], mask, plan.color)
                path = motion_path(plan.motion, total, shot.fps, shot.height)
                dx, dy, fitted = place_path(mask, path, camera=maps)
                first_frame, mask = relocate(draft[0], mask, dx, dy, erase=strays)
                if plan.shape is not None:
                    # the model paints most objects as soft blobs: the plan draws the named
                    # shape, and the guide carries it (shape right in 38 → 57 % of 100
                    # held-out prompts, 39 → 54 % of a second 100; README, Planned motion)
                    first_frame, mask = reshape(first_frame, mask, plan.shape, plan.color)
                    notes["motion_plan"]["shape"] = plan.shape
                brushes = [(mask, fitted)]
                moved = np.abs(path[:, :2]).max()
                notes["motion_plan"].update(
                    start_shift_px=[int(dx), int(dy)],
                    path_share=round(float(np.abs(fitted[:, :2]).max() / moved), 3) if moved else 1.0)
        # (a continuation gets the guide's light form: the pipeline's CONTINUATION_GUIDE)
        frames = run(total, brushes=brushes or None, blend_frames=blend, first_frame=first_frame)
        frames = np.ascontiguousarray(frames[k - blend:])      # the dissolve, then the new frames
        return (frames, notes) if notes else frames
