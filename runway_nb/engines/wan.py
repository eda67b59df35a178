"""Wan 2.x (Wan-AI): text→video and image→video on a flow-matching DiT with a causal 3D VAE.

    rn.load_engine("wan")        # Wan-AI/Wan2.1-T2V-1.3B-Diffusers: 832×480, 81 frames at 16 fps
    rn.load_engine("wan-i2v")    # Wan-AI/Wan2.1-I2V-14B-480P-Diffusers: starts from an image

Latents: 16 channels, 8× smaller in space and 4× in time (frames = 4k + 1), normalised per
channel by the VAE's `latents_mean` / `latents_std`. Sizes, frame counts and defaults are
from the model cards and the diffusers Wan documentation.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from .diffusers_base import DiffusersEngine, PipelineCall, call_default

_WAN_480P = dict(sizes=((832, 480), (480, 832)), fps=(16.0,), max_frames=81, default_size=(832, 480),
                 default_fps=16.0, default_frames=81, default_steps=50, default_guidance=5.0)


class WanEngine(DiffusersEngine):
    family = "wan"
    description = "Wan 2.1 text→video (1.3B, 832×480, 16 fps; about 8 GB VRAM per its card)"
    default_repo = "Wan-AI/Wan2.1-T2V-1.3B-Diffusers"
    image_pipeline = "WanImageToVideoPipeline"
    pipeline_classes = ("WanPipeline", "WanImageToVideoPipeline")
    default_gpu_dtype = "bfloat16"
    card = {**_WAN_480P, "notes": "text→video; load wan-i2v to start from an image or extend"}
    known_checkpoints = {
        "Wan-AI/Wan2.1-T2V-1.3B-Diffusers": _WAN_480P,
        "Wan-AI/Wan2.1-T2V-14B-Diffusers": {**_WAN_480P, "sizes": ((832, 480), (480, 832), (1280, 720),
                                                                   (720, 1280))},
        "Wan-AI/Wan2.1-I2V-14B-480P-Diffusers": _WAN_480P,
        "Wan-AI/Wan2.1-I2V-14B-720P-Diffusers": {**_WAN_480P, "sizes": ((1280, 720), (720, 1280)),
                                                 "default_size": (1280, 720)},
    }

    def _prepare(self, shot, num_frames, init_frames):
        text_max = min(call_default(self.pipe, "max_sequence_length"),     # 512, Wan's own
                       self.pipe.tokenizer.model_max_length)
        kwargs = dict(prompt=shot.prompt, negative_prompt=shot.negative_prompt or None,
                      height=shot.height, width=shot.width, num_frames=num_frames,
                      num_inference_steps=shot.steps, guidance_scale=shot.guidance,
                      max_sequence_length=text_max)
        if init_frames is not None:
            kwargs["image"] = Image.fromarray(np.asarray(init_frames[-1]))
        return PipelineCall(self.pipe, kwargs)

    def _encode_rgb(self, rgb):
        vae = self.pipe.vae
        x = self._vae_mean(rgb[:, :, None])                                   # (N, C, 1, h, w)
        mean = torch.tensor(vae.config.latents_mean, dtype=x.dtype, device=x.device).view(1, -1, 1, 1, 1)
        std = torch.tensor(vae.config.latents_std, dtype=x.dtype, device=x.device).view(1, -1, 1, 1, 1)
        return ((x - mean) / std)[:, :, 0]                                     # as WanPipeline normalises

    def _decode_rgb(self, latents):
        vae = self.pipe.vae
        x = latents[:, :, None]                                               # (N, C, 1, h, w)
        mean = torch.tensor(vae.config.latents_mean, dtype=x.dtype, device=x.device).view(1, -1, 1, 1, 1)
        std = torch.tensor(vae.config.latents_std, dtype=x.dtype, device=x.device).view(1, -1, 1, 1, 1)
        return vae.decode(x * std + mean).sample[:, :, 0]

    def _latent_shape(self, frames, height, width):
        s = self.spatial_ratio
        return ((frames - 1) // self.temporal_ratio + 1, self.pipe.vae.config.z_dim, height // s, width // s)


class WanI2VEngine(WanEngine):
    family = "wan-i2v"
    description = "Wan 2.1 image→video (14B, 832×480, 16 fps): starts from a frame; extends clips"
    default_repo = "Wan-AI/Wan2.1-I2V-14B-480P-Diffusers"
    card = {**_WAN_480P, "text_to_video": False, "image_to_video": True, "extend": True,
            "notes": "image→video and extend start from one frame"}
