"""CogVideoX (THUDM / Zhipu AI): text→video and image→video on an expert-transformer DiT.

    rn.load_engine("cogvideox")        # THUDM/CogVideoX-2b: 720×480, 49 frames at 8 fps
    rn.load_engine("THUDM/CogVideoX-5b")
    rn.load_engine("cogvideox-i2v")    # THUDM/CogVideoX-5b-I2V: starts from an image; extends clips

Latents: 16 channels, 8× smaller in space and 4× in time (frames = 4k + 1), scaled by the
VAE's `scaling_factor`, laid out (batch, frames, channels, h, w). The 1.0 models were trained
on 49 frames of 720×480 at 8 fps (model cards); the I2V model's learned positional
embeddings fix that size exactly.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from .diffusers_base import DiffusersEngine, PipelineCall

_COG = dict(sizes=((720, 480),), fps=(8.0,), max_frames=49, default_size=(720, 480), default_fps=8.0,
            default_frames=49, default_steps=50, default_guidance=6.0)


class CogVideoXEngine(DiffusersEngine):
    family = "cogvideox"
    description = "CogVideoX text→video (2B, 720×480, 8 fps, 49 frames; 5B via its hub id)"
    default_repo = "THUDM/CogVideoX-2b"
    image_pipeline = "CogVideoXImageToVideoPipeline"
    pipeline_classes = ("CogVideoXPipeline", "CogVideoXImageToVideoPipeline")
    default_gpu_dtype = "float16"        # the 2B card recommends FP16; the 5B ones BF16
    card = {**_COG, "notes": "text→video; load cogvideox-i2v to start from an image or extend"}
    known_checkpoints = {"THUDM/CogVideoX-2b": _COG, "THUDM/CogVideoX-5b": _COG,
                         "THUDM/CogVideoX-5b-I2V": _COG}

    @classmethod
    def resolve_dtype(cls, source, device, dtype):
        if dtype is None and device.split(":")[0] != "cpu" and "5b" in str(source or cls.default_repo).lower():
            dtype = "bfloat16"
        return super().resolve_dtype(source, device, dtype)

    def _prepare(self, shot, num_frames, init_frames):
        kwargs = dict(prompt=shot.prompt, negative_prompt=shot.negative_prompt or None,
                      height=shot.height, width=shot.width, num_frames=num_frames,
                      num_inference_steps=shot.steps, guidance_scale=shot.guidance,
                      # the transformer's text length (226); the prompt is padded to it
                      max_sequence_length=self.pipe.transformer.config.max_text_seq_length)
        if init_frames is not None:
            kwargs["image"] = Image.fromarray(np.asarray(init_frames[-1]))
        return PipelineCall(self.pipe, kwargs)

    def _latent_frames(self, latents, call):
        # (B, F, C, h, w) → (F, C, h, w); CogVideoX 1.5 pads the latent frames at the start
        # to a multiple of its temporal patch and drops the padding before decoding: so do we
        f = (call.kwargs["num_frames"] - 1) // self.temporal_ratio + 1
        return latents[0, -f:]

    def _encode_rgb(self, rgb):
        x = self._vae_mean(rgb[:, :, None])                 # (N, C, 1, h, w)
        return x[:, :, 0] * self.pipe.vae.config.scaling_factor

    def _decode_rgb(self, latents):
        x = latents[:, :, None] / self.pipe.vae.config.scaling_factor   # (N, C, 1, h, w)
        return self.pipe.vae.decode(x).sample[:, :, 0]

    def _latent_shape(self, frames, height, width):
        s = self.spatial_ratio
        return ((frames - 1) // self.temporal_ratio + 1, self.pipe.transformer.config.out_channels,
                height // s, width // s)

    def _noise_to_latents(self, noise, call):
        return noise[None]                                   # (F, C, h, w) → (1, F, C, h, w)


class CogVideoXI2VEngine(CogVideoXEngine):
    family = "cogvideox-i2v"
    description = "CogVideoX image→video (5B, 720×480, 8 fps): starts from a frame; extends clips"
    default_repo = "THUDM/CogVideoX-5b-I2V"
    card = {**_COG, "text_to_video": False, "image_to_video": True, "extend": True,
            "notes": "image→video and extend start from one frame"}
