"""Director Mode for the diffusers adapters: the camera hooks of `DiffusersEngine`.

A shot's camera path reaches a real diffusers model in one of three ways (see
`Engine._resolve_camera_mode` for how "auto" picks):

- "warp": the pipeline starts from noise warped along the path
  (`runway_nb.camera.noise_warp`), made in the family's latent layout, passed as `latents`;
- "native": the family's own camera control (AnimateDiff's MotionLoRAs), through the
  `_native_covers` / `_native_available` / `_native_allowed` / `_native_camera` hooks an
  adapter overrides;
- "virtual": a static render cropped by `Engine.render`, nothing to do here.

`DiffusersCamera` is a mixin: `DiffusersEngine(DiffusersCamera, Engine)`, so `super()`
below is `Engine`, and it relies on the engine's `id`, `dtype`, `capabilities` and
`temporal_ratio`. Adapters fill in `_latent_shape` (and `_noise_to_latents` where their
latents are not (B, C, F, h, w)).
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING

import torch

from ..errors import UnsupportedCapability
from ..shot import Shot

if TYPE_CHECKING:
    from .diffusers_base import PipelineCall


def warp_available() -> bool:
    """Noise warping (Director Mode 'warp') is in runway_nb.camera.noise_warp, when present."""
    return importlib.util.find_spec("runway_nb.camera.noise_warp") is not None


class DiffusersCamera:
    """How a diffusers adapter follows `shot.camera` ('warp' or 'native'); see the module doc."""

    warp_with_init_frames = True         # False where the i2v pipeline takes `latents` pre-mixed

    def _resolve_camera_mode(self, shot: Shot, given: int = 0) -> str:
        """As Engine's, but "auto" skips "native" for paths the native control does not cover
        (AnimateDiff's MotionLoRAs know eight preset moves), and an explicit "native" for such
        a path is refused, naming what is covered. Extending on a family that cannot warp
        given frames (LTX) uses the virtual camera; so does "auto" for image→video there (an
        explicit "warp" from a picture is refused, naming what works)."""
        mode = super()._resolve_camera_mode(shot, given)
        if mode == "warp" and shot.parent is not None and not self.warp_with_init_frames:
            # this family's conditioning pipeline draws its own noise: an extension follows the
            # (inherited) path with the virtual camera, and its resolved shot says so
            return "virtual"
        if mode == "warp" and given and not self.warp_with_init_frames:
            # image→video: the same pipelines, the same reason
            if shot.camera_mode == "auto":
                return "virtual"
            raise UnsupportedCapability("camera_mode", "warp", f"the {self.id} engine warps noise "
                                        "only for text→video renders",
                                        "Use camera_mode='virtual' (or 'auto') to move the camera "
                                        "in an image→video render.")
        if shot.camera is None or mode != "native":
            return mode
        if shot.camera_mode == "native":
            if self._native_covers(shot):
                return mode
            raise UnsupportedCapability("camera", shot.camera.describe(), self._native_allowed(),
                                        "Use camera_mode='warp' or 'virtual' (or 'auto') for other paths.")
        # auto takes native only where it can run here: an explicit "native" still says what is
        # missing (e.g. the command that downloads a MotionLoRA)
        if self._native_covers(shot) and self._native_available(shot):
            return mode
        return next(m for m in ("warp", "virtual") if m in self.capabilities.camera_modes)

    def _apply_camera(self, shot: Shot, call: PipelineCall, total: int, generator, given: int) -> None:
        """'warp': start from noise warped along the camera path; 'native': the adapter's own
        control. ('virtual' never reaches here: Engine.render crops a static render.)"""
        if shot.camera is None:
            return
        if shot.camera_mode == "warp":
            from ..camera.noise_warp import warped_noise

            if given and not self.warp_with_init_frames:
                doing = "while extending" if shot.parent is not None else "in an image→video render"
                raise UnsupportedCapability("camera_mode", "warp", f"the {self.id} engine warps noise "
                                            "only for text→video renders",
                                            f"Use camera_mode='virtual' to move the camera {doing}.")
            f, c, h, w = self._latent_shape(total, shot.height, shot.width)
            path = shot.camera.per_frame(total, shot.fps)[:: self.temporal_ratio]   # one row per latent frame
            noise = warped_noise(f, c, h, w, path, generator)                       # (F, C, h, w)
            call.kwargs["latents"] = self._noise_to_latents(noise, call).to(self.dtype)
        elif shot.camera_mode == "native":
            self._native_camera(shot, call)

    def _native_covers(self, shot: Shot) -> bool:
        return False

    def _native_available(self, shot: Shot) -> bool:
        """Whether the native control for a covered path can load here (its weights)."""
        return True

    def _native_allowed(self) -> str:
        return f"the {self.id} engine has no native camera control"

    def _native_camera(self, shot: Shot, call: PipelineCall) -> None:
        raise UnsupportedCapability("camera_mode", "native", self._native_allowed())

    def _latent_shape(self, frames: int, height: int, width: int) -> tuple[int, int, int, int]:
        raise NotImplementedError

    def _noise_to_latents(self, noise: torch.Tensor, call: PipelineCall) -> torch.Tensor:
        return noise.transpose(0, 1)[None]       # (F, C, h, w) → (1, C, F, h, w)

    native_camera = False                # the family has its own camera control

    @classmethod
    def _camera_modes(cls) -> tuple[str, ...]:
        modes = ("native",) if cls.native_camera else ()
        return modes + (("warp",) if warp_available() else ()) + ("virtual",)
