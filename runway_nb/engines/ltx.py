"""LTX-Video (Lightricks): fast text→video, image→video and conditioning (extend) on one checkpoint.

    rn.load_engine("ltx")     # Lightricks/LTX-Video-0.9.5: 768×512 (and more), 24 fps, up to 257 frames

One set of weights serves three diffusers pipelines, built from the same components:
`LTXPipeline` (text), `LTXImageToVideoPipeline` (first frame) and `LTXConditionPipeline`
(frames at given positions: extend conditions on the clip's last r + 1 frames, r = the
VAE's time compression). Latents: 128 channels, 32× smaller in space and 8× in time
(frames = 8k + 1, sizes divisible by 32, per the model card), normalised by the VAE's
`latents_mean` / `latents_std`, and packed to (batch, tokens, channels) inside the pipeline.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from .base import Capabilities
from .diffusers_base import DiffusersEngine, PipelineCall, call_default

_LTX = dict(sizes=((768, 512), (512, 768), (704, 480), (480, 704)), fps=(24.0,), max_frames=257,
            default_size=(768, 512), default_fps=24.0, default_frames=161, default_steps=50,
            default_guidance=3.0, text_to_video=True, image_to_video=True, extend=True)


class LTXEngine(DiffusersEngine):
    family = "ltx"
    description = "LTX-Video (2B): text→video, image→video and extend; 768×512, 24 fps, fast"
    default_repo = "Lightricks/LTX-Video-0.9.5"
    pipeline_classes = ("LTXPipeline", "LTXImageToVideoPipeline", "LTXConditionPipeline")
    default_gpu_dtype = "bfloat16"
    card = {**_LTX, "notes": "extend conditions on the clip's last 9 frames"}
    known_checkpoints = {"Lightricks/LTX-Video-0.9.5": _LTX, "Lightricks/LTX-Video": _LTX}
    warp_with_init_frames = False        # its i2v/condition pipelines take `latents` pre-mixed

    @property
    def context(self) -> int:             # frames of a clip that extend conditions on
        return self.temporal_ratio + 1

    @property
    def max_context(self) -> int:
        """Whole latent frames (r·k + 1) that leave room for one new latent frame in a call."""
        r = self.temporal_ratio
        return max(1, (self.max_model_frames - 2) // r * r + 1)

    def context_used(self, given):
        return self._lead_frames(min(given, self.max_context))     # r·k + 1: rounded down

    def _capabilities(self) -> Capabilities:
        fields = self._documented(_LTX)
        fields.setdefault("notes", f"extend conditions on the clip's last {self.context} frames")
        return Capabilities(camera_modes=self._camera_modes(), **fields)

    def _lead_frames(self, given):
        # the conditioning pipeline re-makes the frames it conditions on (see below)
        return 0 if given == 0 else (given - 1) // self.temporal_ratio * self.temporal_ratio + 1

    def _prepare(self, shot, num_frames, init_frames):
        # frame_rate conditions the positional embedding: the clip's real rate (the pipelines'
        # own default, 25, is the LTX repo's; the model card and diffusers' examples export 24)
        kwargs = dict(prompt=shot.prompt, negative_prompt=shot.negative_prompt or None,
                      height=shot.height, width=shot.width, num_frames=num_frames,
                      frame_rate=shot.fps, num_inference_steps=shot.steps,
                      guidance_scale=shot.guidance)
        if self.pipe.vae.config.timestep_conditioning:
            # 0.9.1+ decoders denoise the last step themselves: the settings diffusers'
            # LTX docs give for these "timestep-aware" VAEs (the pipeline default is 0.0)
            kwargs.update(decode_timestep=0.05, decode_noise_scale=0.025)
        if init_frames is None:
            pipe = self.variant("LTXPipeline")
        elif len(init_frames) == 1 and shot.parent is None:
            kwargs["image"] = Image.fromarray(np.asarray(init_frames[0]))
            pipe = self.variant("LTXImageToVideoPipeline")
        else:
            from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition

            frames = self._conditioning_frames(init_frames)
            kwargs["conditions"] = [LTXVideoCondition(video=[Image.fromarray(f) for f in frames],
                                                      frame_index=0, strength=1.0)]
            pipe = self.variant("LTXConditionPipeline")
        # each pipeline's own prompt length (128 for text/image, 256 for conditioning), within
        # what the tokenizer knows
        kwargs["max_sequence_length"] = min(call_default(pipe, "max_sequence_length"),
                                            self.pipe.tokenizer.model_max_length)
        return PipelineCall(pipe, kwargs)

    def _conditioning_frames(self, init_frames):
        """The last r·k + 1 given frames: a whole number of latent frames."""
        arr = np.asarray(init_frames)
        return arr[-self._lead_frames(len(arr)):]

    def _latent_frames(self, latents, call):
        f, _, h, w = self._latent_shape(call.kwargs["num_frames"], call.kwargs["height"],
                                        call.kwargs["width"])
        config = self.pipe.transformer.config
        tokens = latents[:, : f * h * w]            # conditioning tokens, if any, come after
        video = call.pipe._unpack_latents(tokens, f, h, w, config.patch_size, config.patch_size_t)
        return video[0].transpose(0, 1)             # (B, C, F, h, w) → (F, C, h, w)

    def _step_frames(self, tensor, latents, call):
        if tensor.ndim == 5:
            # LTXImageToVideoPipeline steps only the frames after the first, unpacked:
            # (B, C, F - 1, h, w). The first latent frame is the given image, already clean.
            first = self._latent_frames(latents, call)[:1]                  # (1, C, h, w)
            return torch.cat([first, tensor[0].transpose(0, 1).to(first.dtype)])
        return self._latent_frames(tensor, call)                            # packed tokens

    def _encode_rgb(self, rgb):
        vae = self.pipe.vae
        x = self._vae_mean(rgb[:, :, None])        # (N, C, 1, h, w)
        x = self.pipe._normalize_latents(x, vae.latents_mean, vae.latents_std, vae.config.scaling_factor)
        return x[:, :, 0]

    def _decode_rgb(self, latents):
        vae = self.pipe.vae
        x = self.pipe._denormalize_latents(latents[:, :, None], vae.latents_mean, vae.latents_std,
                                           vae.config.scaling_factor)       # (N, C, 1, h, w)
        # checkpoints whose decoder is timestep-conditioned (0.9.1+) decode clean latents at t = 0
        temb = torch.zeros(len(x), device=x.device, dtype=x.dtype) if vae.config.timestep_conditioning else None
        return vae.decode(x, temb).sample[:, :, 0]

    def _latent_shape(self, frames, height, width):
        s = self.spatial_ratio
        return ((frames - 1) // self.temporal_ratio + 1, self.pipe.transformer.config.in_channels,
                height // s, width // s)

    def _noise_to_latents(self, noise, call):
        config = self.pipe.transformer.config
        return call.pipe._pack_latents(noise.transpose(0, 1)[None], config.patch_size, config.patch_size_t)
