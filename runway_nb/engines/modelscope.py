"""ModelScope text-to-video (Alibaba DAMO) and its Zeroscope fine-tunes, on a 3D UNet.

    rn.load_engine("modelscope")                      # ali-vilab/text-to-video-ms-1.7b: 256×256
    rn.load_engine("cerspense/zeroscope_v2_576w")     # the Zeroscope fine-tune: 576×320, 24 frames

Diffusers marks `TextToVideoSDPipeline` deprecated (no fixes after 0.33.1) but still ships
and runs it in 0.42, so this adapter keeps it working; it is the oldest and weakest model
here and the first to go when diffusers removes the pipeline. Its loop predates
`callback_on_step_end`: previews and cancel use the older `callback(step, t, latents)`,
called every step, from which raising still stops within the step.

Latents: 4 channels (SD 1.5's VAE), 8× smaller in space, one latent frame per video frame.
Defaults: 256×256 and 16 frames are the pipeline's own (the UNet's sample size); the model
card runs 25 steps after swapping in DPMSolverMultistepScheduler, while the checkpoint ships
DDIM, which this adapter keeps (swap `engine.pipe.scheduler` to follow the card exactly).
"""

from __future__ import annotations

from .diffusers_base import DiffusersEngine, ImageVaeLatents, PipelineCall

_MS = dict(sizes=((256, 256),), fps=(8.0,), max_frames=32, default_size=(256, 256), default_fps=8.0,
           default_frames=16, default_steps=25, default_guidance=9.0)
_ZEROSCOPE = dict(sizes=((576, 320),), fps=(8.0,), max_frames=36, default_size=(576, 320),
                  default_fps=8.0, default_frames=24, default_steps=40, default_guidance=9.0)


class ModelScopeEngine(ImageVaeLatents, DiffusersEngine):
    family = "modelscope"
    description = "ModelScope text→video 1.7B (256×256, 8 fps; deprecated upstream); also Zeroscope"
    default_repo = "ali-vilab/text-to-video-ms-1.7b"   # the hub redirects the old damo-vilab id here
    pipeline_classes = ("TextToVideoSDPipeline",)
    default_gpu_dtype = "float16"
    card = {**_MS, "notes": "deprecated in diffusers (kept working while it ships)"}
    known_checkpoints = {"damo-vilab/text-to-video-ms-1.7b": _MS, "ali-vilab/text-to-video-ms-1.7b": _MS,
                         "cerspense/zeroscope_v2_576w": _ZEROSCOPE}

    def __init__(self, source=None, device="cpu", dtype=None, **options):
        if options.get("variant") is None and source is None and device != "cpu":
            options["variant"] = "fp16"      # the half-precision files the diffusers docs load
        super().__init__(source, device, dtype, **options)

    def _prepare(self, shot, num_frames, init_frames):
        return PipelineCall(self.pipe, dict(
            prompt=shot.prompt, negative_prompt=shot.negative_prompt or None, height=shot.height,
            width=shot.width, num_frames=num_frames, num_inference_steps=shot.steps,
            guidance_scale=shot.guidance))

    def _callback_kwargs(self, step_end) -> dict:
        return {"callback": lambda i, t, latents: step_end(self.pipe, i, t, {"latents": latents}),
                "callback_steps": 1}

    def _step_frames(self, tensor, latents, call):
        return tensor        # the pipeline steps on (B·F, C, h, w), and B is 1: (F, C, h, w)

