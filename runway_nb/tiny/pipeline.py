"""TinyVideoPipeline: text (+ camera path, + optional first frames) → video, in numbered steps.

Components are separate objects, saved as separate folders, exactly like a diffusers
pipeline: `vae/` (TinyAutoencoder), `text_encoder/` (TinyTextEncoder), `tokenizer/`
(vocab.json), `transformer/` (TinyVideoDiT), `scheduler/` (a stock diffusers
FlowMatchEulerDiscreteScheduler — swap it for another flow-matching scheduler in one
line). Loading is safetensors-only.

Clips longer than the model's 16-frame window are made window by window: each new
window is conditioned on the last `context` frames of the previous one (the same
mechanism `Clip.extend` uses), so length costs time linearly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from diffusers import FlowMatchEulerDiscreteScheduler
from diffusers.pipelines.pipeline_utils import DiffusionPipeline

from ..camera.geometry import camera_moves, relative_camera
from ..camera.noise_warp import warped_noise
from . import CONTEXT, WINDOW  # the window sizes (the engine list reads them without diffusers)
from .autoencoder import TinyAutoencoder
from .guidance import LayoutGuide, window_brushes
from .loading import from_folder
from .model import TinyVideoDiT, camera_features
from .text import TinyTextEncoder, WordTokenizer

COMPONENTS = ("vae", "text_encoder", "transformer")
# Guidance toward the camera input, on top of the prompt's: 24 held-out paths, native mode,
# follow rate 4 % without it, 25 % at 2, 33 % at 5 and at 10 (README, Director Mode).
CAMERA_GUIDANCE = 5.0
# How far each guided step moves the latents themselves to the guided estimate (below):
# 0 moves only the step's increment (the guide's weak first form), 1 replaces them where
# the guide's target is known. 0.5 and 1 were level on every eval (README, Director Mode).
GUIDE_REPLACE = 1.0
# The share of the first steps the layout guide acts in. With the latents put on the guide's
# target, 85 % against 70 %: shape 52 → 59 % and 50 → 54 % on 2 × 100 held-out prompts
# (planned motion 87 → 89, 89 → 92 %), warp-only 98 → 100 % of 64 paths, flicker 6.3 →
# 5.6; all the steps froze the clips (flicker 3.8, under the toy world's own 4.6).
GUIDE_STEPS = 0.85
# A continuation (several given frames: extend) keeps the guide's light form — each step's
# direction only, 70 % of the steps: holding the latents on targets built from generated
# frames compounded over a chain (60 s of 2-s extensions: colours right at the end 50 %,
# seam 1.45×; README, Extend). One given picture (image→video) gets the defaults above.
CONTINUATION_GUIDE = {"guide_replace": 0.0, "guide_steps": 0.7}


@dataclass
class TinyVideoPipelineOutput:
    frames: np.ndarray          # (T, H, W, 3) uint8


class TinyVideoPipeline(DiffusionPipeline):
    def __init__(self, vae: TinyAutoencoder, text_encoder: TinyTextEncoder, transformer: TinyVideoDiT,
                 scheduler: FlowMatchEulerDiscreteScheduler):
        super().__init__()
        self.register_modules(vae=vae, text_encoder=text_encoder, transformer=transformer,
                              scheduler=scheduler)
        self.tokenizer: WordTokenizer | None = None
        self._interrupt = False

    # ---- construction, saving and loading ------------------------------------------------
    @classmethod
    def from_components(cls, vae, text_encoder, transformer, tokenizer, scheduler=None):
        pipe = cls(vae.eval(), text_encoder.eval(), transformer.eval(),
                   scheduler or FlowMatchEulerDiscreteScheduler(shift=1.0))
        pipe.tokenizer = tokenizer
        return pipe

    def save(self, folder: str | Path, training: dict | None = None) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name in COMPONENTS:
            getattr(self, name).save_pretrained(folder / name, safe_serialization=True)
        self.scheduler.save_pretrained(folder / "scheduler")
        self.tokenizer.save(folder / "tokenizer")
        index = {"_class_name": type(self).__name__, "library": "runway_nb.tiny",
                 **{n: type(getattr(self, n)).__name__ for n in (*COMPONENTS, "scheduler")},
                 "tokenizer": "WordTokenizer"}
        (folder / "model_index.json").write_text(json.dumps(index, indent=1))
        if training is not None:
            (folder / "training.json").write_text(json.dumps(training, indent=1))

    @classmethod
    def load(cls, folder: str | Path) -> "TinyVideoPipeline":
        """Load a pipeline folder written by `save` (safetensors only, never pickle)."""
        folder = Path(folder)
        classes = {"vae": TinyAutoencoder, "text_encoder": TinyTextEncoder, "transformer": TinyVideoDiT}
        parts = {name: from_folder(klass, folder / name) for name, klass in classes.items()}
        scheduler = FlowMatchEulerDiscreteScheduler.from_pretrained(folder / "scheduler")
        return cls.from_components(parts["vae"], parts["text_encoder"], parts["transformer"],
                                   WordTokenizer.load(folder / "tokenizer"), scheduler)

    @property
    def interrupt(self) -> bool:
        return self._interrupt

    # ---- generation ---------------------------------------------------------------------
    @torch.no_grad()
    def __call__(
        self,
        prompt: str,
        negative_prompt: str | None = None,
        num_frames: int = WINDOW,
        height: int = 64,
        width: int = 64,
        num_inference_steps: int = 20,
        guidance_scale: float = 4.0,
        camera: np.ndarray | None = None,       # (num_frames, 4) absolute per-frame camera
        known_frames: np.ndarray | None = None,  # (K, H, W, 3) uint8 first frames, K ≤ WINDOW // 2
        generator: torch.Generator | None = None,
        callback_on_step_end: Callable | None = None,
        show_progress: bool = True,
        warp_camera: np.ndarray | None = None,  # (num_frames, 4) camera followed training-free
        brushes: list | None = None,            # [(mask (H, W) bool, motion (num_frames, 3))]
        guide_steps: float | None = None,       # share of the first steps with layout guidance
        guide_reveal: float = 1.0,              # pull on ground a moving camera reveals (brushes only)
        camera_guidance_scale: float = CAMERA_GUIDANCE,  # extra guidance toward a moving camera path
        guidance_interval: tuple[float, float] = (0.0, 1.0),  # σ range where the prompt is guided
        blend_frames: int = 0,                  # last known frames redrawn and dissolved (extend)
        blend_pin: float = 0.3,                 # share of the first steps the redrawn frames are pinned
        first_frame: np.ndarray | None = None,  # (H, W, 3) uint8 planned layout of frame 0 (guided, not given)
        guide_replace: float | None = None,     # share of the latents moved to the guided estimate
    ) -> TinyVideoPipelineOutput:
        """Frames (num_frames, H, W, 3), the known ones first. With `blend_frames` = b > 0 the
        last b known frames are not held fixed: they are drawn again with the new frames
        (pinned to the given ones through the first `blend_pin` of the steps, RePaint-style)
        and dissolve (linearly, in latent space) from the given picture into the redrawn one.
        A continuation's content otherwise jumps at its first frame (the model does not
        quite continue its given frames); the dissolve spreads that jump over b + 1 frame
        steps, as StreamingT2V blends its overlapping chunks (Henschel et al. 2024).

        `guidance_interval` = (lo, hi): the prompt's classifier-free guidance acts only on
        steps whose noise level σ lies in [lo, hi] (a guidance interval, Kynkäänniemi et al.
        2024); elsewhere the step takes the conditional prediction (camera guidance still
        acts) and the negative-prompt branch is not run. The default, (0, 1), is every step."""
        # 1. Check inputs (the engine validates user input; these guard direct callers).
        if height != 64 or width != 64:
            raise ValueError(f"the tiny pipeline makes 64×64 frames, got {width}×{height}")
        if known_frames is not None and not 1 <= len(known_frames) <= WINDOW // 2:
            raise ValueError(f"known_frames must hold 1 to {WINDOW // 2} frames, got {len(known_frames)}")
        blend = int(blend_frames)
        n_known = 0 if known_frames is None else len(known_frames)
        if blend < 0 or (blend and blend >= n_known):
            raise ValueError(f"blend_frames must be 0 or fewer than the {n_known} known frames, got {blend_frames}")
        # the guide's defaults: light for a continuation, the latents held otherwise
        light = known_frames is not None and len(known_frames) > 1
        if guide_steps is None:
            guide_steps = CONTINUATION_GUIDE["guide_steps"] if light else GUIDE_STEPS
        if guide_replace is None:
            guide_replace = CONTINUATION_GUIDE["guide_replace"] if light else GUIDE_REPLACE
        for name, value in (("guide_steps", guide_steps), ("guide_replace", guide_replace),
                            ("guide_reveal", guide_reveal), ("blend_pin", blend_pin)):
            if not 0.0 <= float(value) <= 1.0:       # shares; NaN fails this too
                raise ValueError(f"{name} must be a share from 0 to 1, got {value}")
        lo, hi = (float(v) for v in guidance_interval)
        if not 0.0 <= lo <= hi <= 1.0:
            raise ValueError(f"guidance_interval must be (lo, hi) with 0 ≤ lo ≤ hi ≤ 1, got {guidance_interval}")
        if camera is not None and np.asarray(camera).shape != (num_frames, 4):
            raise ValueError(f"camera must have shape ({num_frames}, 4), got {np.asarray(camera).shape}")
        if warp_camera is not None and np.asarray(warp_camera).shape != (num_frames, 4):
            raise ValueError(f"warp_camera must have shape ({num_frames}, 4), got {np.asarray(warp_camera).shape}")
        self._interrupt = False
        generator = generator or torch.Generator().manual_seed(0)
        camera_guidance = camera_guidance_scale if camera_moves(camera) else 0.0

        # 2. Encode the prompt and the negative prompt once, as a batch of 2 for guidance.
        dev = self.transformer.device            # noise is drawn on the CPU (same seed, same video), run here
        ids, mask = (t.to(dev) for t in self.tokenizer([prompt, negative_prompt or ""]))
        text = self.text_encoder(ids, mask)                                 # (2, L, D)

        # 3. Encode given first frames (image→video, extend) and a planned first frame to latents.
        known = None
        if known_frames is not None:
            px = torch.from_numpy(np.array(known_frames)).to(dev).permute(0, 3, 1, 2).float() / 127.5 - 1
            known = self.vae.encode(px)                                      # (K, C, 16, 16)
        planned = None
        if first_frame is not None:
            if known_frames is not None:
                raise ValueError("give known_frames or a planned first_frame, not both")
            px = torch.from_numpy(np.array(first_frame)[None]).to(dev).permute(0, 3, 1, 2).float() / 127.5 - 1
            planned = self.vae.encode(px)[0]                                 # (C, 16, 16)

        # 4. Window by window: denoise, keep the new frames, carry the last CONTEXT over.
        h, w = height // 4, width // 4
        c = self.transformer.config.latent_channels
        made: list[torch.Tensor] = []            # latent frames, (C, h, w) each
        total = num_frames
        bar = (self.progress_bar(total=self.windows_for(total) * num_inference_steps)
               if show_progress else None)
        start = 0
        while len(made) < total:
            given = known is not None and not made     # the caller's frames, not a carry-over
            context = known if not made else torch.stack(made[-CONTEXT:])
            k = 0 if context is None else len(context)
            window_cam = self._window_camera(camera, start, total)
            # warp mode and brushes (training-free): warped noise and early-step x0 guidance
            warp_cam = self._window_camera(warp_camera, start, total)
            guide = None
            if warp_cam is not None or brushes:
                guide = LayoutGuide(warp_cam if warp_cam is not None else window_cam,
                                    window_brushes(brushes or [], start, total, WINDOW), height // h,
                                    (h, w), steps=round(guide_steps * num_inference_steps),
                                    first_frame=planned if planned is not None and not made else None,
                                    reveal=guide_reveal)
            latents = self._denoise_window(text, mask, context, window_cam, generator, (WINDOW, c, h, w),
                                           num_inference_steps, guidance_scale, callback_on_step_end,
                                           bar, window_start=start, noise_camera=warp_cam, guide=guide,
                                           camera_guidance=camera_guidance, guidance_interval=(lo, hi),
                                           redraw=blend if given else 0,
                                           redraw_steps=round(blend_pin * num_inference_steps),
                                           guide_replace=guide_replace)
            if latents is None:                  # interrupted
                break
            if given and blend:
                # the dissolve: given → redrawn over the last `blend` known frames
                alpha = torch.arange(1, blend + 1, dtype=latents.dtype, device=dev)[:, None, None, None] / (blend + 1)
                latents[k - blend:k] = (1 - alpha) * known[k - blend:] + alpha * latents[k - blend:k]
            made.extend(latents[k:] if made else latents)
            start = len(made) - CONTEXT
        if bar is not None:
            bar.close()
        if not made:
            return TinyVideoPipelineOutput(np.zeros((0, height, width, 3), np.uint8))

        # 5. Decode latents to pixels, frame by frame batch.
        z = torch.stack(made[:total])
        if known is not None:
            z[: len(known) - blend] = known[: len(known) - blend]   # given frames stay as given
        px = self.vae.decode(z)
        frames = ((px.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1)
        return TinyVideoPipelineOutput(frames.cpu().numpy())

    @staticmethod
    def windows_for(num_frames: int) -> int:
        """How many denoising windows a clip of `num_frames` (given frames included) takes."""
        return 1 + max(0, -(-(num_frames - WINDOW) // (WINDOW - CONTEXT)))

    def _window_camera(self, camera, start, total):
        if camera is None:
            return None
        cam = np.asarray(camera, np.float64)
        idx = np.minimum(np.arange(start, start + WINDOW), total - 1)
        cam = cam[idx]
        # frames past the end (a short final window) keep moving at the last velocity
        over = np.arange(start, start + WINDOW) - (total - 1)
        if total >= 2 and (over > 0).any():
            vel = np.asarray(camera)[total - 1] - np.asarray(camera)[total - 2]
            vel[2] = 0.0
            cam = cam + np.clip(over, 0, None)[:, None] * vel
        return relative_camera(cam, 0)

    def _denoise_window(self, text, text_mask, context, camera, generator, shape, steps, guidance,
                        callback, bar, window_start, noise_camera=None, guide=None, camera_guidance=0.0,
                        redraw=0, redraw_steps=0, guide_replace=0.0, guidance_interval=(0.0, 1.0)):
        t, c, h, w = shape
        # 4a. Timesteps: σ from 1 (pure noise) to 0, as the scheduler lays them out.
        self.scheduler.set_timesteps(steps)
        # 4b. Initial noise from the caller's CPU generator: same seed → same video. In warp
        #     mode the noise moves along the camera path (runway_nb/camera/noise_warp.py).
        dev = self.transformer.device
        if noise_camera is None:
            x = torch.randn((1, t, c, h, w), generator=generator).to(dev)
        else:
            x = warped_noise(t, c, h, w, noise_camera, generator)[None].to(dev)
        noise = x.clone()                        # kept: guided latents are noised again with it
        known = torch.zeros_like(x)
        known_mask = torch.zeros(1, t, dtype=torch.bool, device=dev)
        noise_known = torch.randn((1, t, c, h, w), generator=generator).to(dev)
        if context is not None:
            k = len(context)
            known[0, : k - redraw] = context[: k - redraw]   # redrawn frames: unknown to the model
            known_mask[0, : k - redraw] = True
            pinned = context[k - redraw:]
        cam = torch.zeros(1, t, 4, device=dev)
        if camera is not None:
            cam = camera_features(torch.from_numpy(camera).float())[None].to(dev)
        kmask = known_mask[:, :, None, None, None]
        # The branches one batched call evaluates: prompt + camera, then the negative prompt +
        # camera (classifier-free guidance), then the prompt without the camera (camera
        # guidance, two conditions as in InstructPix2Pix, Brooks et al. 2023; the model
        # learned the "no camera" input from training's camera dropout).
        # Outside the guidance interval the negative prompt's branch is left out.
        def branches(guided: bool):
            rows = [0] + ([1] if guided else []) + ([0] if camera_guidance else [])
            cam_known = torch.tensor([camera is not None] * (len(rows) - bool(camera_guidance))
                                     + [False] * bool(camera_guidance), device=dev)
            return text[rows], text_mask[rows], cam_known

        lo, hi = guidance_interval
        both = {guided: branches(guided) for guided in {guidance != 1.0, False}}
        # 4c. The denoising loop (Euler steps of the rectified-flow ODE).
        for i, tstep in enumerate(self.scheduler.timesteps):
            sigma = self.scheduler.sigmas[i]
            guided = guidance != 1.0 and lo <= float(sigma) <= hi
            step_text, step_mask, cam_known = both[guided]
            batch = len(step_text)
            # given frames sit at the noise level the model was trained to see them at
            x = torch.where(kmask, (1 - sigma) * known + sigma * noise_known, x)
            if redraw and i < redraw_steps:      # redrawn frames: pinned early, then the model's own
                x[0, k - redraw: k] = (1 - sigma) * pinned + sigma * noise_known[0, k - redraw: k]
            out = self.transformer(
                x.expand(batch, -1, -1, -1, -1), tstep.expand(batch), step_text, step_mask,
                cam.expand(batch, -1, -1), cam_known, known.expand(batch, -1, -1, -1, -1),
                known_mask.expand(batch, -1))
            v = out[:1]
            if guided:               # classifier-free guidance (Ho & Salimans 2022)
                v = out[1:2] + guidance * (out[:1] - out[1:2])
            if camera_guidance:
                v = v + camera_guidance * (out[:1] - out[-1:])
            x0 = x - sigma * v                                        # the current clean estimate
            if guide is not None and i < guide.steps:   # (past them the guide changes nothing)
                # move the layout, keep the noise estimate ε = x + (1 − σ) v (x = (1−σ) x0 + σ ε)
                eps = x + (1 - sigma) * v
                x0, pull = guide.pull(i, x0[0], 0 if context is None else len(context),
                                      anchor=None if context is None else context[0])
                x0 = x0[None]
                # Changing v alone moves only this step's increment: after the first step a
                # step carries a few % of the target into the latents, and the model painted
                # its own layout over the rest (under a pan, second copies of a brushed object
                # at 77 % of its size). So where the target is known the latents themselves
                # are put on it at this noise level — RePaint's known-region replacement
                # (Lugmayr et al. 2022) — noised with this window's own starting noise; with
                # the model's ε instead, the classifier-free-guided estimate fed back into the
                # latents every step and cast the colours (36 % of the pixels off the scene's
                # palette under a pan, against 8 %). Fully replaced, the step runs the straight
                # path from that noise to the target: x = (1 − σ) x0 + σ noise, v = noise − x0.
                if guide_replace:
                    w = guide_replace * pull[None]
                    x = x + w * ((1 - sigma) * x0 + sigma * noise - x)
                    eps = eps + w * (noise - eps)
                v = eps - x0
            x = self.scheduler.step(v, tstep, x).prev_sample
            if bar is not None:
                bar.update(1)
            if callback is not None:
                callback(self, i, tstep, {"latents": x, "x0": x0[0], "window_start": window_start})
            if self._interrupt:
                return None
        return x[0]
