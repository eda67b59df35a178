"""DiffusersEngine: what every adapter of a real diffusers video model shares.

    engine = rn.load_engine("wan", device="cuda", cpu_offload=True, vae_tiling=True)
    engine = rn.load_engine("path/to/a/pipeline/folder")          # family from model_index.json

An adapter (cogvideox.py, ltx.py, wan.py, animatediff.py, modelscope.py) says which
pipeline classes it loads, reads its capabilities from the loaded configs, and fills in a
few hooks (how its pipeline is called, where its latents keep their frames and channels).
This base does the rest, the same way for all of them:

1. loading: `from_pretrained` from a hub id or a local folder, safetensors only unless
   `allow_pickle=True`, never `trust_remote_code`; an uncached hub id while offline is a
   WeightsError naming the download command (see hub.py);
2. memory options as plain engine options: `cpu_offload` (True = whole models, or
   "sequential" = layer by layer), `vae_slicing`, `vae_tiling`, `dtype`;
3. rendering through the pipeline's own `__call__` with `callback_on_step_end`, which
   (a) turns the model's clean estimate x0 of this step (read off the scheduler's `step`
   by x0.py) into a preview with a linear latent→RGB map (preview.py): one frame per video
   frame, at the clip's size or a power-of-two fraction of it for big clips,
   and (b) cancels: it raises out of the denoising loop within the step. (Diffusers'
   `_interrupt` flag only skips the remaining steps and then still decodes the half-denoised
   latents with the full VAE — seconds to minutes wasted on the real models — so we stop
   the call instead, and raise `Cancelled`.);
4. seeds: all noise from a CPU `torch.Generator` seeded by the shot, so CPU renders are
   bit-exact and a GPU render starts from the same noise as a CPU one;
5. frame counts: video VAEs compress time by r (4 or 8) and need r·k + 1 frames; the
   adapter renders the next such count and trims the extra frames, so a clip always has
   exactly the frames its Shot asks for;
6. image→video and extend through the family's image→video or conditioning pipeline,
   else `UnsupportedCapability` naming engines that can.

How a camera path reaches the pipeline (warp / native) is in diffusers_camera.py; a
folder's own capabilities file (runway_nb.json) is read by sidecar.py.
"""

from __future__ import annotations

import inspect
import math
import re
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..errors import (Cancelled, EngineNotFound, InvalidInput, MissingDependency, UnsupportedCapability,
                      WeightsError)
from ..shot import Shot
from . import hub
from .base import Capabilities, Engine, StepInfo, cancel_requested, extend_in_steps
from .diffusers_camera import DiffusersCamera
from .diffusers_camera import warp_available as warp_available   # re-exported (was defined here)
from .preview import LatentPreview, preview_size, video_frame_index
from .sidecar import SIDECAR, fit_defaults, read_sidecar
from .x0 import X0Tap

DTYPES = {"float32": torch.float32, "fp32": torch.float32, "float16": torch.float16,
          "fp16": torch.float16, "bfloat16": torch.bfloat16, "bf16": torch.bfloat16}
EXTEND_ENGINES = "tiny, ltx, cogvideox-i2v or wan-i2v"
# how diffusers and huggingface_hub say the hub was out of reach (no network, downloads off)
_UNREACHABLE = re.compile(r"connect|connection|network|internet|outgoing traffic|not fully cached|"
                          r"local_files_only|offline", re.IGNORECASE)


def _dtype_argument() -> str:
    """Recent diffusers call `from_pretrained`'s dtype argument `dtype` (and warn about the
    old `torch_dtype`); older ones only know `torch_dtype`."""
    from diffusers.utils import deprecation_utils

    return "dtype" if hasattr(deprecation_utils, "_TORCH_DTYPE_DEPRECATION_MESSAGE") else "torch_dtype"


class _StopRender(Exception):
    """Raised inside the step callback to leave the pipeline's loop at once."""


@dataclass
class PipelineCall:
    """One call of a diffusers pipeline, as an adapter prepares it."""
    pipe: object                   # the DiffusionPipeline to call (t2v, i2v or conditioning)
    kwargs: dict                   # its arguments (prompt, sizes, frames, image/conditions…)
    lead: int = 0                  # leading output frames that re-make the given frames
    extra: dict = field(default_factory=dict)


def call_default(pipe, name: str):
    """The default of argument `name` of `pipe`'s `__call__`, as the installed diffusers has it."""
    return inspect.signature(type(pipe).__call__).parameters[name].default


def parse_dtype(dtype, device: str, default_gpu: str) -> torch.dtype:
    if dtype is None:   # float32 on CPU (exact, and half precision is slow there), "cpu:0" too
        return torch.float32 if device.split(":")[0] == "cpu" else DTYPES[default_gpu]
    if isinstance(dtype, torch.dtype) and dtype in DTYPES.values():
        return dtype
    if isinstance(dtype, str) and dtype.lower() in DTYPES:
        return DTYPES[dtype.lower()]
    raise InvalidInput("dtype", dtype, "must be float32, float16 or bfloat16 (a string or torch dtype)")


class DiffusersEngine(DiffusersCamera, Engine):
    """Base of the diffusers adapters; subclasses set the class attributes and hooks."""

    family = "diffusers"                 # registry id of the family
    default_repo = ""                    # hub id `load_engine(family)` loads
    download_size = ""                   # shown in the download hint, e.g. "about 24 GB"
    pipeline_classes: tuple[str, ...] = ()   # model_index `_class_name`s this adapter loads
    default_gpu_dtype = "bfloat16"       # the dtype the model card recommends on a GPU
    context = 1                          # frames of a clip that `extend` continues from
    known_checkpoints: dict[str, dict] = {}  # hub id -> Capabilities fields from its model card

    def __init__(self, source: str | Path | None = None, device: str = "cpu", dtype=None, *,
                 cpu_offload: bool | str = False, vae_slicing: bool = False, vae_tiling: bool = False,
                 allow_pickle: bool = False, revision: str | None = None, variant: str | None = None):
        from .registry import check_device

        check_device(device)
        if cpu_offload not in (False, True, "model", "sequential"):
            raise InvalidInput("cpu_offload", cpu_offload, "must be False, True (= 'model': whole models "
                               "move to the GPU when used) or 'sequential' (layer by layer: least memory, "
                               "slowest)")
        if cpu_offload and not device.startswith("cuda"):
            raise InvalidInput("cpu_offload", cpu_offload, f"needs a CUDA device (device={device!r})",
                               "Offloading moves weights between CPU and GPU; on CPU there is nothing "
                               "to offload.")
        for name, value in (("vae_slicing", vae_slicing), ("vae_tiling", vae_tiling),
                            ("allow_pickle", allow_pickle)):
            if not isinstance(value, bool):
                raise InvalidInput(name, value, "must be True or False")
        self.device = device
        self.dtype = self.resolve_dtype(source, device, dtype)
        self.source = str(source) if source is not None else self.default_repo
        self.options = {"cpu_offload": cpu_offload, "vae_slicing": vae_slicing,
                        "vae_tiling": vae_tiling, "allow_pickle": allow_pickle, "revision": revision,
                        "variant": variant}
        self.pipe = self._load(self.source, allow_pickle, revision, variant)
        self._place(cpu_offload, vae_slicing, vae_tiling)
        self.id = self.family if source is None else str(source)
        self.capabilities = self._capabilities()
        self._preview: LatentPreview | None = None
        self._variants: dict[str, object] = {}

    @classmethod
    def resolve_dtype(cls, source, device: str, dtype) -> torch.dtype:
        """The dtype the engine runs in: `dtype` as given, else float32 on a CPU and the
        checkpoint's recommended dtype on a GPU (the registry keys its cache on it too)."""
        return parse_dtype(dtype, device, cls.default_gpu_dtype)

    # ---- 1. loading -----------------------------------------------------------------------------
    def _load(self, source: str, allow_pickle: bool, revision: str | None, variant: str | None):
        import diffusers

        local = Path(source).expanduser()
        what = f"the {self.family} engine"
        if local.is_dir():
            hub.check_local_pipeline(local, allow_pickle)
            found = hub.pipeline_class(local)
            if found not in self.pipeline_classes:
                raise EngineNotFound(f"engine={source!r}: the folder holds a {found}, not a "
                                     f"{' or '.join(self.pipeline_classes)} ({what}).")
            source = str(local)
        elif hub.looks_like_hub_id(source):
            hub.require_hub_weights(source, what, self.download_size)
        else:
            raise EngineNotFound(f"engine={source!r} is neither an existing folder nor a hub id "
                                 "(owner/name). Run `runway-nb engines` to list engines.")
        self._require_transformers()
        try:
            pipe = self._from_pretrained(diffusers, source, allow_pickle=allow_pickle, revision=revision,
                                         variant=variant)
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise WeightsError(f"could not load {what} from {source!r}: {type(exc).__name__}: "
                               f"{str(exc).rstrip('.')}.{self._load_hint(exc, source, allow_pickle)}") from exc
        if type(pipe).__name__ not in self.pipeline_classes:
            raise EngineNotFound(f"engine={source!r} is a {type(pipe).__name__}, not a "
                                 f"{' or '.join(self.pipeline_classes)} ({what}).")
        return pipe

    def _require_transformers(self) -> None:
        """Every family's text encoder (T5, UMT5, CLIP) is a `transformers` model: without the
        package (the [models] extra) diffusers fails deep inside loading, with an AttributeError
        or an error that blames the weights."""
        try:
            import transformers  # noqa: F401
        except ImportError:
            raise MissingDependency("transformers", f"The {self.family} engine (its text encoder)",
                                    extra="models") from None

    def _load_hint(self, exc: Exception, source: str, allow_pickle: bool) -> str:
        """What to do about a failed load: the pickle hint only where safetensors were missing
        (diffusers names them), the download where the hub could not be reached (a message
        about the network also names the .safetensors file it looked for)."""
        text = str(exc)
        if _UNREACHABLE.search(text):
            hint = " The Hugging Face hub could not be reached and the weights are not (all) in the cache."
            return hint + (f" {hub.download_hint(source, self.download_size)}"
                           if hub.looks_like_hub_id(source) else "")
        if "safetensors" in text and not allow_pickle:
            return (" If the checkpoint only has .bin/.pt files, convert it to safetensors, or pass "
                    "allow_pickle=True for a source you trust.")
        return ""

    def _from_pretrained(self, diffusers, source: str, **kwargs):
        """The loading call itself (AnimateDiff overrides it to add its motion adapter)."""
        return diffusers.DiffusionPipeline.from_pretrained(source, **self._load_kwargs(**kwargs))

    def _load_kwargs(self, *, allow_pickle: bool, revision, variant) -> dict:
        return {_dtype_argument(): self.dtype, "use_safetensors": not allow_pickle, "revision": revision,
                "variant": variant, "trust_remote_code": False}

    def _place(self, cpu_offload, vae_slicing: bool, vae_tiling: bool) -> None:
        """2. memory options: offload or move to the device; VAE slicing/tiling."""
        if cpu_offload == "sequential":
            self.pipe.enable_sequential_cpu_offload(device=self.device)
        elif cpu_offload:
            self.pipe.enable_model_cpu_offload(device=self.device)
        else:
            self.pipe.to(self.device)
        vae = self.pipe.vae
        for wanted, method in ((vae_slicing, "enable_slicing"), (vae_tiling, "enable_tiling")):
            if wanted:
                if not hasattr(vae, method):
                    raise UnsupportedCapability(method.replace("enable_", "vae_"), True,
                                                f"the {type(vae).__name__} of the {self.family} engine "
                                                "does not support it")
                getattr(vae, method)()

    def variant(self, class_name: str):
        """The family's sibling pipeline (e.g. its image→video one) sharing these components."""
        if class_name not in self._variants:
            import diffusers

            cls = getattr(diffusers, class_name)
            if isinstance(self.pipe, cls):
                self._variants[class_name] = self.pipe
            else:   # the same modules, no copy (from_pipe would also re-cast them)
                wanted = inspect.signature(cls.__init__).parameters
                parts = {k: v for k, v in self.pipe.components.items() if k in wanted}
                self._variants[class_name] = cls(**parts)
        return self._variants[class_name]

    # ---- hooks each adapter fills in ---------------------------------------------------------------
    image_pipeline: str | None = None    # the family's image→video pipeline class, if it has one
    I2V_NOTES = "image→video and extend start from one frame"

    @property
    def i2v(self) -> bool:
        """This checkpoint starts from an image (and so can extend) rather than from text."""
        return self.image_pipeline is not None and type(self.pipe).__name__ == self.image_pipeline

    def _capabilities(self) -> Capabilities:
        """The card's fields, adjusted for an image→video checkpoint of the family, then the
        checkpoint's own and a folder's `runway_nb.json` (see `_documented`)."""
        defaults = dict(self.card)
        if self.image_pipeline is not None:
            defaults.update(text_to_video=not self.i2v, image_to_video=self.i2v, extend=self.i2v)
            if self.i2v:
                defaults["notes"] = self.I2V_NOTES
        return Capabilities(camera_modes=self._camera_modes(), **self._documented(defaults))

    def _prepare(self, shot: Shot, num_frames: int, init_frames: np.ndarray | None) -> PipelineCall:
        """The pipeline and kwargs that make `num_frames` frames of `shot` (init_frames → i2v/extend)."""
        raise NotImplementedError

    def _latent_frames(self, latents: torch.Tensor, call: PipelineCall) -> torch.Tensor:
        """Callback latents → (F, C, h, w) for the preview."""
        return latents[0].transpose(0, 1)       # (B, C, F, h, w), the common layout

    def _step_frames(self, tensor: torch.Tensor, latents: torch.Tensor, call: PipelineCall) -> torch.Tensor:
        """A tensor in the layout the pipeline hands `scheduler.step` (x_t or x0) → (F, C, h, w).
        Most pipelines step on the callback's layout; `latents` (the callback's) are there for
        those that step on part of them (LTX image→video)."""
        return self._latent_frames(tensor, call)

    def _encode_rgb(self, rgb: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) in [-1, 1] → (N, C, h, w) latents as the denoiser sees them."""
        raise NotImplementedError

    # diffusers names the VAE's compression differently per family: the first the pipeline has wins
    _TEMPORAL_NAMES = ("vae_scale_factor_temporal", "vae_temporal_compression_ratio")
    _SPATIAL_NAMES = ("vae_scale_factor_spatial", "vae_spatial_compression_ratio", "vae_scale_factor")

    @property
    def temporal_ratio(self) -> int:
        """Frames per latent frame: 4 or 8 for video VAEs, 1 for per-frame (image) VAEs."""
        return next((int(getattr(self.pipe, n)) for n in self._TEMPORAL_NAMES if hasattr(self.pipe, n)), 1)

    @property
    def spatial_ratio(self) -> int:
        return next((int(getattr(self.pipe, n)) for n in self._SPATIAL_NAMES if hasattr(self.pipe, n)), 8)

    def model_frames(self, frames: int) -> int:
        """The smallest frame count ≥ `frames` this model can make (r·k + 1 for video VAEs)."""
        r = self.temporal_ratio
        return frames if r == 1 else r * math.ceil(max(frames - 1, 0) / r) + 1

    # ---- 3. rendering -------------------------------------------------------------------------------
    def _render(self, shot: Shot, on_step, cancel, init_frames, progress, started):
        import time

        caps = self.capabilities
        given = 0 if init_frames is None else len(init_frames)
        if given == 0 and not caps.text_to_video:
            raise UnsupportedCapability(
                "init_frames", None, f"the {self.id} checkpoint makes video from an image only",
                "Give it a picture to start from (rn.generate(..., image='photo.png'), "
                "--image photo.png) or a clip to extend, or load the family's text→video checkpoint.")
        extending = given > 0 and shot.parent is not None
        if extending and not caps.extend:
            raise UnsupportedCapability("engine", self.id, "cannot extend clips",
                                        f"Extend with an engine that can: {EXTEND_ENGINES}.")
        # 1. how many frames the model makes: the given frames it re-makes, the new ones, rounded up
        lead = self._lead_frames(given)
        total = self.model_frames(shot.frames + (lead if extending else 0))
        if total > self.max_model_frames:
            raise UnsupportedCapability(
                "frames", shot.frames, f"the {self.id} engine makes at most {self.max_model_frames} "
                f"frames per call, and this one needs {total} (with {lead if extending else 0} "
                "frames of context)", extend_in_steps(min(caps.max_frames, self.max_model_frames - lead),
                                                      shot.fps) if extending else None)
        start = lead if extending else 0         # the model's first frame the clip keeps
        call = self._prepare(shot, total, init_frames)
        # 2. seeds and camera: all noise from a CPU generator seeded by the shot
        generator = torch.Generator("cpu").manual_seed(shot.seed)
        call.kwargs["generator"] = generator
        self._apply_camera(shot, call, total, generator, given)
        # 3. previews and the step callback (preview + cancel): x0 is read off the scheduler's
        #    `step` (x0.py) while the pipeline runs; the preview shows the clip's frames
        tap = nullcontext()
        if on_step is not None:
            if self._preview is None:
                self._preview = LatentPreview.fit(self._encode_on_device, self.spatial_ratio,
                                                  self._decode_rgb)
            tap = X0Tap(call.pipe.scheduler)
            size = preview_size(shot.height, shot.width, self.spatial_ratio)
            shown = video_frame_index(total, self.temporal_ratio)[start:start + shot.frames]
        steps = [0]

        def step_end(pipe, i, t, kw):
            steps[0] += 1
            if on_step is not None:
                latents, what = self._step_latents(tap, kw["latents"], call)
                on_step(StepInfo(step=steps[0], total=getattr(pipe, "_num_timesteps", None) or shot.steps,
                                 preview=self._preview(latents, size, shown),
                                 elapsed=time.perf_counter() - started, extra={"preview_of": what}))
            if cancel_requested(cancel):
                raise _StopRender
            return kw

        call.pipe.set_progress_bar_config(disable=not progress)
        # 4. the pipeline's own denoising loop (the tap restores the scheduler's `step` on
        #    exit, cancel and errors included)
        try:
            with tap:
                out = call.pipe(**call.kwargs, **self._callback_kwargs(step_end), output_type="np")
        except _StopRender:
            call.pipe.maybe_free_model_hooks()   # offloaded models go back to the CPU
            raise Cancelled(f"render cancelled after {steps[0]} steps; nothing was saved") from None
        frames = np.asarray(out.frames[0])                      # (T, H, W, 3) float in [0, 1]
        frames = frames[start:start + shot.frames]
        frames = np.ascontiguousarray((frames * 255).round().clip(0, 255).astype(np.uint8))
        # what the adapter chose for this call (AnimateDiff: the MotionLoRA that made the
        # move) goes into the clip's provenance
        return (frames, dict(call.extra)) if call.extra else frames

    def _step_latents(self, tap: X0Tap, latents: torch.Tensor, call: PipelineCall):
        """What this step's preview shows, as (F, C, h, w) latent frames, and its name: the x0
        estimate, or x_t (the latents the step started from) when `preview_of="xt"` or when the
        scheduler gives no way to compute x0 (then the callback's latents stand in)."""
        if self.preview_of == "x0" and tap.x0 is not None:
            return self._step_frames(tap.x0, latents, call), "x0"
        if tap.sample is not None:
            return self._step_frames(tap.sample, latents, call), "xt"
        return self._latent_frames(latents, call), "xt"

    @property
    def preview_of(self) -> str:
        """"x0" (default): previews show the model's clean estimate at each step; "xt": the
        noisy latents the step started from (what the sampler works on)."""
        return self._preview_of

    @preview_of.setter
    def preview_of(self, value: str) -> None:
        if value not in ("x0", "xt"):
            raise InvalidInput("preview_of", value, "must be 'x0' (the model's clean estimate) or "
                               "'xt' (the noisy latents of the step)")
        self._preview_of = value

    _preview_of = "x0"

    def _callback_kwargs(self, step_end) -> dict:
        return {"callback_on_step_end": step_end, "callback_on_step_end_tensor_inputs": ["latents"]}

    def _lead_frames(self, given: int) -> int:
        """Output frames that re-make the given frames (i2v pipelines re-make their image)."""
        return min(given, 1)

    @property
    def max_model_frames(self) -> int:
        return self.model_frames(self.capabilities.max_frames)

    @property
    def max_context(self) -> int:
        """The most of a clip's last frames `extend` can condition on: an image→video pipeline
        starts from one frame (the last)."""
        return 1

    def context_used(self, given: int) -> int:
        """How many of `given` context frames the pipeline conditions on."""
        return min(given, self.max_context)

    def max_extension_frames(self, context: int) -> int:
        """The most new frames one call adds after `context` frames: the given frames it
        re-makes count against the model's frames per call."""
        return min(self.capabilities.max_frames,
                   self.max_model_frames - self._lead_frames(self.context_used(max(context, 1))))

    def _encode_on_device(self, rgb: torch.Tensor) -> torch.Tensor:
        device = getattr(self.pipe, "_execution_device", torch.device(self.device))
        return self._encode_rgb(rgb.to(device=device, dtype=self.pipe.vae.dtype))

    def _decode_rgb(self, latents: torch.Tensor) -> torch.Tensor:
        """(N, C, h, w) latents as the denoiser sees them → (N, 3, H, W) in [-1, 1]."""
        raise NotImplementedError

    def _vae_mean(self, x: torch.Tensor) -> torch.Tensor:
        return self.pipe.vae.encode(x).latent_dist.mean

    def _drop_weights(self) -> None:
        # from __dict__: an unloaded engine's `pipe` attribute raises WeightsError, not AttributeError
        remove = getattr(self.__dict__.get("pipe"), "remove_all_hooks", None)
        if remove is not None:             # cpu_offload's hooks hold the models too
            try:
                remove()
            except Exception:  # noqa: BLE001 - freeing memory must not fail on a hook
                pass
        super()._drop_weights()

    # ---- description ---------------------------------------------------------------------------------
    def provenance(self) -> dict:
        import diffusers

        return {**super().provenance(), "family": self.family, "source": self.source,
                "pipeline": type(self.pipe).__name__, "diffusers": diffusers.__version__,
                "device": self.device, "dtype": str(self.dtype).replace("torch.", ""),
                **{k: v for k, v in self.options.items() if v not in (False, None)}}

    # ---- documented capabilities ------------------------------------------------------------------
    card: dict = {}                      # Capabilities fields of `default_repo`, from its model card

    @classmethod
    def documented_capabilities(cls) -> Capabilities:
        """What the default checkpoint can do, without loading it (for `runway-nb engines`)."""
        return Capabilities(camera_modes=cls._camera_modes(), **cls.card)

    def _documented(self, defaults: dict) -> dict:
        """Capabilities fields for this source: the family's documented defaults, the values
        of a known published checkpoint, then a folder's own `runway_nb.json` (fine-tunes and
        the tiny test pipelines declare their sizes, frames and fps there)."""
        fields = dict(defaults)
        fields.update(self.known_checkpoints.get(self.source, {}))
        sidecar = self._sidecar()
        if sidecar is not None and sidecar.is_file():
            given = read_sidecar(sidecar)
            fields = fit_defaults({**fields, **given}, given, sidecar)
        return fields

    def _sidecar(self) -> Path | None:
        """Where this source's runway_nb.json is: in a local folder, or in the hub id's
        snapshot folder of the Hugging Face cache (not a folder of that name under the
        working directory)."""
        local = Path(self.source).expanduser()
        if local.is_dir():
            return local / SIDECAR
        if hub.looks_like_hub_id(self.source):
            return hub.repo_file(self.source, SIDECAR, self.options.get("revision"))
        return None


class ImageVaeLatents:
    """Latents of families that run an image VAE frame by frame under a UNet (AnimateDiff,
    ModelScope): Stable Diffusion's `scaling_factor`, no temporal compression."""

    def _encode_rgb(self, rgb):
        return self._vae_mean(rgb) * self.pipe.vae.config.scaling_factor

    def _decode_rgb(self, latents):
        return self.pipe.vae.decode(latents / self.pipe.vae.config.scaling_factor).sample

    def _latent_shape(self, frames, height, width):
        s = self.spatial_ratio
        return frames, self.pipe.unet.config.in_channels, height // s, width // s
