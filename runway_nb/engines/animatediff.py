"""AnimateDiff: a Stable Diffusion 1.5 image model plus a motion adapter; camera moves by MotionLoRA.

    rn.load_engine("animatediff")   # Realistic Vision 5.1 + guoyww/animatediff-motion-adapter-v1-5-2
    rn.generate("a lighthouse at dusk", engine="animatediff", camera="zoom_in:0.8", camera_mode="native")

Director Mode, natively: the AnimateDiff authors published eight camera MotionLoRAs
(guoyww/animatediff-motion-lora-{zoom-in, zoom-out, pan-left, pan-right, tilt-up,
tilt-down, rolling-clockwise, rolling-anticlockwise}), each a LoRA on the motion modules
trained on clips with that one move. A preset camera path of the same name selects its
LoRA, and the preset's intensity × strength becomes the LoRA's adapter weight (1 = the
strength it was trained at). Any other path (combined moves, keyframes) is followed by
noise warping or the virtual camera instead; asking for "native" then says which presets
it covers. LoRAs load on first use (diffusers' LoRA loader needs `peft`); under "auto", a
preset whose LoRA is not in the cache while downloads are off is followed by warping.

Latents: 4 channels, 8× smaller in space, one latent frame per video frame.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import InvalidInput, MissingDependency, WeightsError
from . import hub
from .diffusers_base import DiffusersEngine, ImageVaeLatents, PipelineCall

MOTION_LORAS = {   # Director Mode preset -> published MotionLoRA
    "zoom_in": "guoyww/animatediff-motion-lora-zoom-in",
    "zoom_out": "guoyww/animatediff-motion-lora-zoom-out",
    "pan_left": "guoyww/animatediff-motion-lora-pan-left",
    "pan_right": "guoyww/animatediff-motion-lora-pan-right",
    "tilt_up": "guoyww/animatediff-motion-lora-tilt-up",
    "tilt_down": "guoyww/animatediff-motion-lora-tilt-down",
    "roll_cw": "guoyww/animatediff-motion-lora-rolling-clockwise",
    "roll_ccw": "guoyww/animatediff-motion-lora-rolling-anticlockwise",
}
MOTION_ADAPTER = "guoyww/animatediff-motion-adapter-v1-5-2"
_SD15 = dict(sizes=((512, 512), (512, 768), (768, 512)), fps=(8.0,), max_frames=32,
             default_size=(512, 512), default_fps=8.0, default_frames=16, default_steps=25,
             default_guidance=7.5)


class AnimateDiffEngine(ImageVaeLatents, DiffusersEngine):
    family = "animatediff"
    description = "AnimateDiff on SD 1.5 (512×512, 8 fps, 16 frames); camera presets by MotionLoRA"
    default_repo = "SG161222/Realistic_Vision_V5.1_noVAE"
    pipeline_classes = ("AnimateDiffPipeline",)
    default_gpu_dtype = "float16"
    native_camera = True
    card = {**_SD15, "notes": "trained on 16 frames (the motion module's positions reach 32); "
                              "native camera: the eight MotionLoRA presets"}
    known_checkpoints = {"SG161222/Realistic_Vision_V5.1_noVAE": _SD15}

    def __init__(self, source=None, device="cpu", dtype=None, *, motion_adapter: str = MOTION_ADAPTER,
                 motion_loras: dict | None = None, **options):
        unknown = sorted(set(motion_loras or {}) - set(MOTION_LORAS))
        if unknown:
            raise InvalidInput("motion_loras", unknown[0], "must map camera presets to LoRA sources; "
                               f"presets: {', '.join(MOTION_LORAS)}")
        for name, lora in (motion_loras or {}).items():
            # a folder that is there, or a hub id: found now, not as diffusers' offline error
            # ("you must specify a `weight_name`") at the first render that needs it
            if not isinstance(lora, (str, os.PathLike)) or not (
                    Path(lora).expanduser().is_dir() or hub.looks_like_hub_id(str(lora))):
                raise InvalidInput(f"motion_loras[{name!r}]", lora, "must be a MotionLoRA: a folder "
                                   "that exists or a hub id such as 'guoyww/animatediff-motion-lora-zoom-in'")
        self.motion_adapter = motion_adapter
        self.motion_loras = {**MOTION_LORAS, **(motion_loras or {})}
        self._loaded_loras: set[str] = set()
        super().__init__(source, device, dtype, **options)

    def _from_pretrained(self, diffusers, source, **kwargs):
        load = self._load_kwargs(**kwargs)
        if hub.pipeline_class(source) == "AnimateDiffPipeline":   # a saved AnimateDiff folder
            return diffusers.AnimateDiffPipeline.from_pretrained(source, **load)
        # an SD 1.5 checkpoint plus the motion adapter, as the diffusers docs assemble it
        hub.require_hub_weights(self.motion_adapter, "the animatediff motion adapter",
                                filename="config.json")
        adapter = diffusers.MotionAdapter.from_pretrained(
            self.motion_adapter, **{k: v for k, v in load.items() if k != "trust_remote_code"})
        pipe = diffusers.AnimateDiffPipeline.from_pretrained(source, motion_adapter=adapter, **load)
        pipe.scheduler = diffusers.DDIMScheduler.from_config(
            pipe.scheduler.config, clip_sample=False, timestep_spacing="linspace",
            beta_schedule="linear", steps_offset=1)
        return pipe

    def _prepare(self, shot, num_frames, init_frames):
        if self._loaded_loras:      # a render without a native camera runs the plain motion module
            self.pipe.disable_lora()
        return PipelineCall(self.pipe, dict(
            prompt=shot.prompt, negative_prompt=shot.negative_prompt or None, height=shot.height,
            width=shot.width, num_frames=num_frames, num_inference_steps=shot.steps,
            guidance_scale=shot.guidance))

    # ---- native camera: MotionLoRA ------------------------------------------------------------------
    @staticmethod
    def _preset(shot) -> tuple[str, float] | None:
        spec = shot.camera.to_dict()
        if "preset" not in spec:
            return None
        return spec["preset"], spec["intensity"] * spec.get("strength", 1.0)

    def _native_covers(self, shot) -> bool:
        # a locked-off camera ("static") is the plain motion module, no MotionLoRA: the virtual
        # camera films its source that way on every engine with a native camera
        preset = self._preset(shot)
        return preset is not None and (preset[0] == "static" or preset[0] in self.motion_loras)

    def _native_available(self, shot) -> bool:
        # a MotionLoRA that is neither loaded, nor a folder, nor cached, while downloads are off
        # (or peft, which loads it, is missing): auto follows the path the next way instead
        import importlib.util

        name = self._preset(shot)[0]
        if name == "static" or name.replace("_", "-") in self._loaded_loras:
            return True
        if importlib.util.find_spec("peft") is None:      # MotionLoRAs load through peft
            return False
        source = str(self.motion_loras[name])
        return (not hub.looks_like_hub_id(source) or not hub.offline()
                or hub.is_cached(source, filename="diffusion_pytorch_model.safetensors"))

    def _native_allowed(self) -> str:
        return ("the animatediff engine's native camera (MotionLoRA) covers the presets "
                + ", ".join(self.motion_loras) + ", one at a time (and static, with none)")

    def _native_camera(self, shot, call: PipelineCall) -> None:
        name, weight = self._preset(shot)
        if name == "static":        # no LoRA: _prepare has switched any loaded one off
            return
        adapter = name.replace("_", "-")
        if adapter not in self._loaded_loras:
            self._load_motion_lora(name, adapter)
        self.pipe.enable_lora()
        self.pipe.set_adapters([adapter], [weight])
        call.extra["motion_lora"] = {"preset": name, "source": self.motion_loras[name], "weight": weight}

    def _load_motion_lora(self, preset: str, adapter: str) -> None:
        import importlib.util

        if importlib.util.find_spec("peft") is None:
            raise MissingDependency("peft", "AnimateDiff's MotionLoRA camera", extra="models")
        source = str(self.motion_loras[preset])
        if hub.looks_like_hub_id(source):
            hub.require_hub_weights(source, f"the {preset} MotionLoRA",
                                    filename="diffusion_pytorch_model.safetensors")
        try:
            self.pipe.load_lora_weights(source, adapter_name=adapter,
                                        use_safetensors=not self.options["allow_pickle"])
        except (OSError, ValueError, KeyError) as exc:
            raise WeightsError(f"could not load the {preset} MotionLoRA from {source!r}: "
                               f"{type(exc).__name__}: {exc}") from exc
        self._loaded_loras.add(adapter)
