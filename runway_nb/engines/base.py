"""The Engine contract: one diffusion pipeline behind a small, testable interface.

    engine = load_engine("tiny")
    shot = engine.resolve(Shot("a red ball bouncing"))     # defaults filled, limits checked
    clip = engine.render(shot, on_step=show, cancel=event)  # -> Clip

Contract every engine keeps (tests/engines/contract.py checks it):
  * the same resolved shot on the same engine and device gives the same frames
    (bit-exact on CPU): all noise comes from a CPU `torch.Generator` seeded by the shot;
  * `on_step(StepInfo)` is called once per denoising step with a cheap preview of the
    current clean estimate (x0), never a full decode;
  * `cancel` (a threading.Event or any callable returning bool) stops within one step
    and `render` raises `Cancelled`; a cancel that comes after the last step (during the
    final decode) is too late to save any time, and the finished clip is returned, not
    thrown away: its provenance says `cancel_too_late`, and a warning says so;
  * asking for something the engine cannot do raises `UnsupportedCapability` before
    any heavy work, naming what it can do;
  * the Clip carries the resolved Shot and provenance (engine id, weights hash, version).
"""

from __future__ import annotations

import threading
import time
import warnings
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..errors import Cancelled, InvalidInput, UnsupportedCapability
from ..shot import Shot


@dataclass(frozen=True)
class Capabilities:
    text_to_video: bool = True
    image_to_video: bool = False
    extend: bool = False
    camera_modes: tuple[str, ...] = ()      # of "native", "warp", "virtual"; best first ("auto" takes it)
    motion_brushes: bool = False            # applies Shot.brushes (MotionBrush regions)
    motion_modes: tuple[str, ...] = ()      # "planned" where the engine plans the prompt's motion;
                                            # best first ("auto" takes it; none: "native" only)
    negative_prompt: bool = True
    max_frames: int = 16
    sizes: tuple[tuple[int, int], ...] = ((64, 64),)   # allowed (width, height)
    fps: tuple[float, ...] = (8.0,)                     # allowed frame rates
    default_size: tuple[int, int] = (64, 64)
    default_fps: float = 8.0
    default_frames: int = 16
    default_steps: int = 20
    default_guidance: float = 4.0
    notes: str = ""

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass
class StepInfo:
    """What `on_step` receives each denoising step."""
    step: int                  # 1-based step within the whole render
    total: int                 # steps in the whole render (all windows)
    preview: np.ndarray        # (t, h, w, 3) uint8: a cheap picture of the current x0 estimate
    elapsed: float             # seconds since render started
    frame_offset: int = 0      # first clip frame the preview shows (long clips render in windows)
    extra: dict = field(default_factory=dict)


def check_callbacks(on_step=None, cancel=None) -> None:
    """Refuse, by name, an `on_step` that cannot be called or a `cancel` that is neither a
    flag (an object with is_set(), e.g. threading.Event) nor a function: found before any
    work, not as Python's "'int' object is not callable" from inside the first step."""
    if on_step is not None and not callable(on_step):
        raise InvalidInput("on_step", on_step, "must be a function called with each step's StepInfo, or None")
    if cancel is not None and not (hasattr(cancel, "is_set") or callable(cancel)):
        raise InvalidInput("cancel", cancel, "must be a threading.Event (or anything with is_set()), a "
                                             "function returning True to stop, or None")


def cancel_requested(cancel) -> bool:
    if cancel is None:
        return False
    if hasattr(cancel, "is_set"):
        return bool(cancel.is_set())
    return bool(cancel())


def extend_in_steps(frames: int, fps: float) -> str:
    """Advice for an extension longer than an engine adds at once: the step, in seconds, that
    fits (`round(seconds * fps)` new frames at most `frames`)."""
    import math

    step = f"{math.floor(frames / fps * 100) / 100 or frames / fps:g}"
    return f"Extend in steps of at most {step} s (clip.extend({step}).extend({step})…)."


def _with_notes(out) -> tuple[np.ndarray, dict]:
    return out if isinstance(out, tuple) else (out, {})


class Engine(ABC):
    """Base class: subclasses set `id`, `capabilities` and implement `_render`."""

    id: str = "engine"
    description: str = ""
    capabilities: Capabilities = Capabilities()

    # ---- validation -------------------------------------------------------------------
    def resolve(self, shot: Shot, given: int = 0) -> Shot:
        """Fill the engine's defaults into `shot` and check it against the capabilities.
        `given`: how many frames the render starts from (`init_frames`: 1 for image→video,
        the clip's last frames for an extension); "auto" picks what works with them.

        Raises InvalidInput / UnsupportedCapability naming the field, the value and
        what this engine allows. The returned shot is complete and reproducible."""
        if self.unloaded:
            raise self._unloaded_error()
        caps = self.capabilities
        # an extension (shot.parent) continues a clip at its own fps and size: the way out of a
        # mismatch is another engine or another clip, not other settings of this one
        extension = ("An extension keeps the clip's {}: extend it with the engine that made it "
                     "(or one that makes {}){}.")
        fps = shot.fps if shot.fps is not None else caps.default_fps
        if caps.fps and fps not in caps.fps:
            raise UnsupportedCapability("fps", shot.fps, f"the {self.id} engine makes "
                                        f"{', '.join(f'{f:g}' for f in caps.fps)} fps",
                                        extension.format("frame rate", f"{fps:g} fps", "")
                                        if shot.parent is not None else None)
        frames = shot.frames
        if frames is None:
            frames = caps.default_frames if shot.seconds is None else max(1, round(shot.seconds * fps))
        if shot.parent is not None and caps.extend:
            # an extension: its new frames, after the context the engine re-makes
            most = self.max_extension_frames(shot.context_frames or 1)
            if frames > most:
                raise UnsupportedCapability(
                    "frames", frames, f"the {self.id} engine adds at most {most} frames "
                    f"({most / fps:g} s at {fps:g} fps) per extension", extend_in_steps(most, fps))
        if frames > caps.max_frames:
            raise UnsupportedCapability(
                "frames", frames, f"the {self.id} engine makes at most {caps.max_frames} frames "
                f"({caps.max_frames / fps:g} s at {fps:g} fps)",
                "Make a shorter clip and extend it with clip.extend(seconds)." if caps.extend else
                f"Make a shorter clip (the {self.id} engine cannot extend clips, so it makes none longer).")
        width = shot.width if shot.width is not None else caps.default_size[0]
        height = shot.height if shot.height is not None else caps.default_size[1]
        if caps.sizes and (width, height) not in caps.sizes:
            allowed = ", ".join(f"{w}x{h}" for w, h in caps.sizes)
            raise UnsupportedCapability("size", f"{width}x{height}",
                                        f"the {self.id} engine makes {allowed}",
                                        "Upscale the clip afterwards for a bigger picture."
                                        if shot.parent is None else extension.format(
                                            "size", f"{width}x{height}",
                                            f", or first resize the clip to {allowed}"))
        if shot.negative_prompt and not caps.negative_prompt:
            raise UnsupportedCapability("negative_prompt", shot.negative_prompt,
                                        f"the {self.id} engine does not use a negative prompt")
        mode = self._resolve_camera_mode(shot, given)
        camera = shot.camera
        if camera is not None:
            # a Deforum schedule read at its default 120 frames reads on to the clip's end
            # (with the frames an extension continues, which its path runs over too)
            context = (shot.context_frames or 0) if shot.parent is not None else 0
            camera = camera.covering(context + frames, fps)
            # a drift that runs out of range by the end, keyframes past it (a new clip only)
            camera.check_over(frames, fps, from_start=shot.parent is None)
        self._check_brushes(shot, mode, width, height)
        motion_mode = self._resolve_motion_mode(shot)
        if shot.engine != self.id:
            shot = shot.replace(engine=self.id)
        return shot.replace(frames=frames, seconds=None, fps=float(fps), width=width, height=height,
                            camera=camera, camera_mode=mode, motion_mode=motion_mode,
                            steps=shot.steps or caps.default_steps,
                            guidance=caps.default_guidance if shot.guidance is None else shot.guidance)

    def _resolve_camera_mode(self, shot: Shot, given: int = 0) -> str:
        """The concrete way this engine follows `shot.camera`: the user's choice if the engine
        has it; for "auto" the engine's best, the first of its `camera_modes` (each engine lists
        them best first, from measurement). No camera: left as given. `given`: the frames the
        render starts from (see `resolve`), for engines whose modes depend on them."""
        modes = self.capabilities.camera_modes
        mode = shot.camera_mode
        if shot.camera is None:
            return mode
        if not modes:
            raise UnsupportedCapability("camera", shot.camera.describe() if hasattr(
                shot.camera, "describe") else shot.camera, f"the {self.id} engine has no camera control")
        if mode == "auto":
            return modes[0]
        if mode not in modes:
            raise UnsupportedCapability("camera_mode", mode, f"the {self.id} engine follows a camera "
                                        f"path with camera_mode {', '.join(modes)} (or auto)",
                                        "Use camera_mode='auto' to let the engine pick the best.")
        return mode

    def _resolve_motion_mode(self, shot: Shot) -> str:
        """How the prompt's object motion is made: "native" (the model alone) or "planned"
        (the engine reads the motion from the prompt and follows it as a motion brush).
        "auto" takes the engine's best, but stays native beside brushes of the user's own.
        A continuation (extend, image→video) plans from where the given frames show the
        object."""
        modes = self.capabilities.motion_modes
        if shot.motion_mode == "auto":
            if modes and modes[0] == "planned" and shot.brushes:
                return "native"
            return modes[0] if modes else "native"
        if shot.motion_mode not in modes and shot.motion_mode != "native":
            raise UnsupportedCapability("motion_mode", shot.motion_mode,
                                        f"the {self.id} engine makes motion "
                                        f"{', '.join(dict.fromkeys((*modes, 'native')))} (or auto)",
                                        "Use motion_mode='auto' to let the engine pick the best.")
        if shot.motion_mode == "planned" and shot.brushes:
            raise UnsupportedCapability("motion_mode", "planned", "cannot be combined with brushes "
                                        "(the plan is a brush of its own)",
                                        "Drop the brushes, or use motion_mode='native'.")
        return shot.motion_mode

    def _check_brushes(self, shot: Shot, mode: str, width: int, height: int) -> None:
        if not shot.brushes:
            return
        if not self.capabilities.motion_brushes:
            raise UnsupportedCapability("brushes", f"{len(shot.brushes)} motion brush(es)",
                                        f"the {self.id} engine cannot apply motion brushes",
                                        "Render brushed shots with engine='tiny', or drop the brushes.")
        if shot.camera is not None and mode == "virtual":
            raise UnsupportedCapability("brushes", f"{len(shot.brushes)} motion brush(es)",
                                        "cannot be combined with camera_mode='virtual' (the window "
                                        "would move the brushed regions a second time)",
                                        "Use camera_mode 'native' or 'warp', or drop the camera.")
        for i, brush in enumerate(shot.brushes):
            brush.check_size(width, height, field=f"brushes[{i}]")

    max_context: int | None = None          # the most context frames extend takes (None: no limit)

    def context_used(self, given: int) -> int:
        """How many of `given` context frames the engine conditions on (all, here)."""
        return given

    def max_extension_frames(self, context: int) -> int:
        """The most new frames one extension from `context` frames adds (engines that re-make
        their context frames within one call add fewer)."""
        return self.capabilities.max_frames

    # ---- rendering ----------------------------------------------------------------------
    def render(self, shot: Shot, on_step: Callable[[StepInfo], None] | None = None,
               cancel=None, init_frames: np.ndarray | None = None, progress: bool = True):
        """Render `shot` to a Clip. `init_frames` (K, H, W, 3) uint8 are given first frames
        (image→video, extend); the clip returned starts after them when `shot.parent` is set
        — or `shot.blend_frames` before their end, on engines that dissolve a join."""
        from ..clip import Clip

        if not isinstance(shot, Shot):
            raise InvalidInput("shot", shot, "must be a runway_nb.Shot")
        check_callbacks(on_step, cancel)
        given = 0 if init_frames is None else (1 if np.ndim(init_frames) == 3 else len(init_frames))
        shot = self.resolve(shot, given)
        if init_frames is not None:
            init_frames = self._check_init_frames(shot, init_frames)
        # One render at a time per engine: a pipeline keeps per-render state (its scheduler's
        # timesteps and step index, the interrupt flag, the x0 tap), and engines are cached and
        # shared — by the Studio's worker, a notebook cell and render_many's threads alike. A
        # second caller waits its turn; processes (Dask workers) have their own engines.
        with self._render_lock:
            if self.unloaded:                        # unloaded while this render waited its turn
                raise self._unloaded_error()
            self.__dict__["_rendering_in"] = threading.get_ident()
            try:
                started = time.perf_counter()
                if cancel_requested(cancel):
                    raise Cancelled("cancelled before the first step; nothing was rendered")
                extra = {}
                if shot.camera is not None and shot.camera_mode == "virtual":
                    # no dissolve under a moving window (it is fitted to the frames after the
                    # given ones): the clip's Shot says so, and a re-render does the same
                    shot = shot.replace(blend_frames=0)
                    frames, plan, notes = self._render_virtual(shot, on_step, cancel, init_frames, progress, started)
                    extra["virtual_camera"] = plan.as_dict()
                else:
                    frames, notes = _with_notes(self._render(shot, on_step, cancel, init_frames, progress, started))
                extra.update(notes)
            finally:
                self.__dict__.pop("_rendering_in", None)
        if cancel_requested(cancel):
            # Every denoising step ran (a cancel during them stops the render within the step)
            # and the frames exist: Cancel came during the final decode, too late to save any
            # time. The finished clip is kept, not thrown away, and says so.
            extra["cancel_too_late"] = True
            warnings.warn("Cancel came after the last denoising step, during the final decode: too "
                          "late to save any time, so the finished clip is returned (its provenance "
                          "says cancel_too_late), not thrown away.", UserWarning, stacklevel=2)
        provenance = {**self.provenance(), **extra, "seconds": round(time.perf_counter() - started, 3),
                      "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        return Clip(frames, shot.fps, shot=shot, provenance=provenance)

    def _render_virtual(self, shot: Shot, on_step, cancel, init_frames, progress, started):
        """camera_mode="virtual", for every engine: render the shot with a static camera on a
        source frame (bigger where the engine can), then move the window along the path
        (runway_nb/camera/virtual.py). The Clip still carries `shot`, camera and all."""
        from ..camera import CameraPath
        from ..camera.geometry import relative_camera
        from ..camera.virtual import apply_window, plan_window

        k = 0 if init_frames is None else len(init_frames)
        camera = shot.camera.per_frame(k + shot.frames, shot.fps)
        if k:
            # continue from the last given frame's view: no margin, so there is no jump at
            # the join; what the path uncovers is mirrored from the picture's edge
            camera = relative_camera(camera, k - 1)
            plan = plan_window(camera[k - 1:], shot.width, shot.height, max_margin=1.0, oversample=False)
        else:
            plan = plan_window(camera, shot.width, shot.height, sizes=self.capabilities.sizes)
        camera = camera[k:]
        ws, hs = plan.source_size
        # the source is filmed locked-off, and an engine with a camera input is told so: left
        # without one, a model trained mostly on moving shots picks a move of its own (the tiny
        # engine's sources held still in a quarter of held-out clips that way; README)
        locked = "native" in self.capabilities.camera_modes
        source_shot = shot.replace(camera=CameraPath.static() if locked else None,
                                   camera_mode="native" if locked else "auto", width=ws, height=hs)

        def windowed(info: StepInfo):
            rows = camera[info.frame_offset - k: info.frame_offset - k + len(info.preview)]
            if info.frame_offset >= k and len(rows) == len(info.preview):
                info.preview = apply_window(info.preview, rows, plan)
            on_step(info)

        frames, notes = _with_notes(self._render(source_shot, None if on_step is None else windowed,
                                                 cancel, init_frames, progress, started))
        return apply_window(frames, camera, plan), plan, notes

    def _check_init_frames(self, shot: Shot, init_frames) -> np.ndarray:
        caps = self.capabilities
        if not (caps.image_to_video or caps.extend):
            raise UnsupportedCapability("init_frames", "given", f"the {self.id} engine cannot start "
                                        "from given frames (no image→video or extend)")
        arr = np.asarray(init_frames)
        if arr.ndim == 3:
            arr = arr[None]
        if arr.dtype != np.uint8 or arr.ndim != 4 or arr.shape[1:] != (shot.height, shot.width, 3):
            raise InvalidInput("init_frames", f"array {arr.dtype} {arr.shape}",
                               f"must be uint8 frames of shape (K, {shot.height}, {shot.width}, 3)")
        return arr

    @abstractmethod
    def _render(self, shot: Shot, on_step, cancel, init_frames, progress: bool,
                started: float) -> np.ndarray:
        """Return frames (T, H, W, 3) uint8 for a resolved shot — or (frames, notes), notes a
        dict of JSON values for the clip's provenance; raise Cancelled if cancelled."""

    @property
    def unloaded(self) -> bool:
        """Whether `rn.unload_engine` freed this engine's weights (it then refuses to render:
        load it again)."""
        return bool(self.__dict__.get("_unloaded"))

    @property
    def _render_lock(self) -> threading.Lock:
        return self.__dict__.setdefault("_render_lock_", threading.Lock())

    def unload(self) -> None:
        """Let go of this engine's weights (`rn.unload_engine` calls it): the memory comes back
        once nothing else holds the model, and `resolve`, `render` (and whatever needs the
        model) refuse from then on with a WeightsError saying to load it again.

        A render running in another thread (a Studio's worker, render_many) finishes first:
        dropping the model under it killed it mid-step and freed nothing until it ended. The
        wait is said in a warning; Cancel the render to unload sooner. From inside the
        engine's own render (a step callback) it is refused: that render could never end."""
        if self.unloaded:                 # a second unload: nothing left to let go of
            return
        self._check_unload_here()
        lock = self._render_lock
        if not lock.acquire(blocking=False):
            warnings.warn(f"unloading the {self.id} engine waits for the render running on it to finish "
                          "(cancel that render to unload sooner)", UserWarning, stacklevel=3)
            lock.acquire()
        try:
            self._drop_weights()
        finally:
            lock.release()

    def _check_unload_here(self) -> None:
        """Refuse an unload from inside this engine's own render (its step callback)."""
        from ..errors import RunwayError

        if self.__dict__.get("_rendering_in") == threading.get_ident():
            raise RunwayError(f"the {self.id} engine cannot be unloaded from inside its own render (a step "
                              "callback): unload it after the render returns")

    def _drop_weights(self) -> None:
        """`unload`'s work, no render running (engines that hold more extend it)."""
        self.__dict__["_unloaded"] = True
        for name in ("pipe", "_variants", "_preview"):
            self.__dict__.pop(name, None)

    def _unloaded_error(self):
        from ..errors import WeightsError

        return WeightsError(f"the {self.id} engine was unloaded (rn.unload_engine) and holds no "
                            f"weights any more. Load it again: rn.load_engine({self.id!r}, ...).")

    def __getattr__(self, name):
        # only for attributes not found: the model of an unloaded engine
        if name == "pipe" and self.__dict__.get("_unloaded"):
            raise self._unloaded_error()
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def provenance(self) -> dict:
        from .. import __version__

        return {"engine": self.id, "runway_nb": __version__}

    def __repr__(self) -> str:
        # where it runs and in what precision: what tells two loaded copies apart
        # (rn.loaded_engines()), and an unloaded one says so
        where = [str(v).replace("torch.", "") for v in (getattr(self, "device", None), getattr(self, "dtype", None))
                 if v is not None]
        state = " (unloaded)" if self.unloaded else ""
        return f"<{type(self).__name__} {self.id!r}{' ' + ' '.join(where) if where else ''}{state}>"
