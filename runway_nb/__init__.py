"""runway_nb — a text-to-video studio inside Jupyter, on an in-kernel diffusion engine.

    import runway_nb as rn
    clip = rn.generate("a red ball bouncing on a green field", seconds=2, seed=7, camera="pan_left")
    clip            # plays inline
    clip.save("ball.mp4")

Importing the package is cheap: torch and the engines load on first use, so the
widget layer (`runway_nb.ui`) never pulls torch into a process that only draws.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._version import __version__
from .errors import (Cancelled, EngineNotFound, InvalidInput, MissingDependency, RunwayError,
                     StoreError, UnsupportedCapability, WeightsError)
from .shot import Shot

if TYPE_CHECKING:
    from .clip import Clip

__all__ = ["CameraPath", "MotionBrush", "Sequence", "Store", "Studio", "Cancelled", "Clip", "EngineNotFound", "InvalidInput", "MissingDependency", "RunwayError",
           "Shot", "StoreError", "UnsupportedCapability", "WeightsError", "__version__", "generate",
           "list_engines", "load_engine", "loaded_engines", "parse_size", "render_many", "unload_engine"]

_LAZY = {"Clip": ("clip", "Clip"), "load_engine": ("engines.registry", "load_engine"),
         "unload_engine": ("engines.registry", "unload_engine"),
         "loaded_engines": ("engines.registry", "loaded_engines"),
         "list_engines": ("engines.registry", "list_engines"), "Sequence": ("sequence", "Sequence"),
         "Store": ("store", "Store"), "Studio": ("ui.studio", "Studio"),
         "CameraPath": ("camera", "CameraPath"), "render_many": ("batch", "render_many"),
         "MotionBrush": ("camera.brush", "MotionBrush")}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(f".{module}", __name__), attr)
    raise AttributeError(f"module 'runway_nb' has no attribute {name!r}")


def parse_size(size, field: str = "size") -> tuple[int, int] | None:
    """'64x64', '64×64', (64, 64) or None -> (width, height), each 1 … 8192."""
    import numbers

    if size is None:
        return None
    wh = None
    if isinstance(size, str):
        parts = size.lower().replace("×", "x").split("x")
        if len(parts) == 2 and all(p.strip().isdigit() for p in parts):
            wh = int(parts[0]), int(parts[1])
    elif isinstance(size, (tuple, list)) and len(size) == 2 and all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in size):   # numpy's too
        wh = int(size[0]), int(size[1])
    if wh is None or not all(1 <= v <= 8192 for v in wh):
        raise InvalidInput(field, size, "must be WIDTHxHEIGHT, e.g. '64x64', or a (width, height) pair, "
                                        "each from 1 to 8192 pixels")
    return wh


def generate(prompt: str, *, engine="tiny", seconds=None, frames=None, fps=None, size=None, seed=None,
             steps=None, guidance=None, camera=None, negative_prompt=None, camera_mode="auto",
             brushes=None, motion_mode="auto", on_step=None, cancel=None, progress: bool = True,
             device: str | None = None, image=None, dtype=None, engine_options: dict | None = None) -> "Clip":
    """Make a clip from a text prompt. Every argument is validated before any heavy work;
    a seed of None draws one and records it in `clip.shot`. `camera` is a preset
    ("pan_left:0.5"), a Deforum schedule, a path JSON or a CameraPath; `camera_mode` is
    auto | native | warp | virtual; `brushes` a list of MotionBrush (or their dicts);
    `motion_mode` auto | native | planned (planned: the object motion the prompt names is
    planned and followed as a motion brush, on engines that can; see the README).
    `image` (image→video, on engines that can): a picture file, PIL image or uint8 array the
    clip starts from, cropped and resized to the clip's size (runway_nb/image.py); the clip
    records it in `clip.provenance["image"]` (its Shot alone cannot re-make the clip).
    `engine` given by id or folder: with `device`, `dtype` and `engine_options` all left out,
    the engine already loaded under it is used as it is (`rn.load_engine("ltx", device="cuda",
    cpu_offload=True)` beforehand: that one, not a second copy on the CPU; the latest loaded
    where several are), else it loads on the CPU. Any of them given (`device="cpu"` too):
    the engine is the one `rn.load_engine` gives for them (a dict of `cpu_offload`,
    `vae_slicing`, `vae_tiling`… as `engine_options`), loaded now unless one was loaded with
    exactly those settings."""
    from .engines.base import check_callbacks
    from .engines.registry import find_or_load_engine, require_capability

    load = _load_arguments(engine, dtype, engine_options)
    check_callbacks(on_step, cancel)
    wh = parse_size(size)
    shot = Shot(prompt=prompt, negative_prompt=negative_prompt or "", seed=seed, frames=frames,
                seconds=seconds, fps=fps, width=None if wh is None else wh[0],
                height=None if wh is None else wh[1], steps=steps, guidance=guidance,
                engine=str(engine), camera=camera, camera_mode=camera_mode,
                brushes=() if brushes is None else brushes,
                motion_mode=motion_mode)
    if image is None:
        require_capability(engine, "text_to_video")      # an image-only id, before it loads
        eng = find_or_load_engine(engine, device, **load)
        require_capability(eng, "text_to_video")         # a folder's or hub id's, once loaded
        return eng.render(shot, on_step=on_step, cancel=cancel, progress=progress)
    from .image import fit, read_picture

    picture = read_picture(image)             # a bad picture is refused before an engine loads
    require_capability(engine, "image_to_video")      # and an engine id that cannot use one
    eng = find_or_load_engine(engine, device, **load)
    require_capability(eng, "image_to_video")         # a folder's or hub id's, once loaded
    shot = eng.resolve(shot, given=1)         # the size the picture is fitted to
    frame, note = fit(*picture, shot.width, shot.height)
    clip = eng.render(shot, on_step=on_step, cancel=cancel, progress=progress, init_frames=frame[None])
    clip.provenance["image"] = note
    return clip


def _load_arguments(engine, dtype, engine_options) -> dict:
    """`generate`'s dtype and engine options as load_engine's keywords, checked by name."""
    from collections.abc import Mapping

    from .engines.base import Engine

    if engine_options is not None and not (isinstance(engine_options, Mapping)
                                           and all(isinstance(k, str) for k in engine_options)):
        raise InvalidInput("engine_options", engine_options, "must be a dict of load_engine options, "
                           "e.g. {'vae_tiling': True}")
    options = dict(engine_options or {})
    for name in ("device", "dtype"):
        if name in options:
            raise InvalidInput("engine_options", options, f"must not hold {name!r}",
                               f"Pass {name}= to generate itself.")
    if isinstance(engine, Engine) and (dtype is not None or options):
        given = "dtype" if dtype is not None else "engine_options"
        raise InvalidInput(given, dtype if dtype is not None else options,
                           f"applies when an engine loads, and the {engine.id} engine is loaded already",
                           "Pass its id or folder as engine=, or load it with rn.load_engine(..., "
                           "dtype=…, vae_tiling=…) yourself.")
    return ({"dtype": dtype} if dtype is not None else {}) | options


def load_ipython_extension(ipython) -> None:
    """`%load_ext runway_nb`: the %%runway cell magic and %runway line magics."""
    from .magics import load_ipython_extension as load

    load(ipython)
