"""Extend a clip: continue it from its last frames, seamlessly.

The engine renders new frames conditioned on the clip's last `context` frames (the
tiny engine's known-frame channels; image→video conditioning for engines that have
it). The result holds the parent's frames followed by the new ones; its Shot
describes the added part (`parent` = the parent's id, `context_frames`,
`blend_frames`), so the whole chain can be re-made from the JSON files in a Store.

Engines that can (`engine.blend`, the tiny engine: 3) also redraw the last
`blend_frames` of the context and dissolve the parent's frames into the redrawn
ones, so a join is spread over a few frames instead of being one cut; those last
frames of the parent are then the dissolve in the result (the parent clip itself is
never changed).

A clip interpolated after it was made (`clip.interpolate(2)`: 16 fps from an 8 fps
engine) is continued the same way at the engine's own rate — conditioned on every
second frame from its last, its new frames counted at the engine's fps for the
seconds asked — and the new part is then interpolated like the clip was (its factor
and method), so the whole clip keeps one speed. A clip bigger than its engine renders
(upscaled) is refused: extend first, then upscale the longer clip.
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidInput, UnsupportedCapability, check_number
from ..shot import MAX_SEED


def continuation_seed(seed: int, frames_so_far: int) -> int:
    """A different, reproducible seed for each extension (the same seed would replay
    the parent's first noise and tend to repeat its motion)."""
    return (seed * 1_000_003 + frames_so_far * 7919 + 1) % (MAX_SEED + 1)


def extend(clip, seconds: float, prompt: str | None = None, camera=None, engine=None, *,
           context: int | None = None, blend: int | None = None, guidance: float | None = None,
           device: str | None = None, dtype=None, engine_options: dict | None = None,
           motion_mode: str | None = None, on_step=None, cancel=None, progress: bool = True):
    """`context`: how many of the clip's last frames condition the new ones (default: the
    engine's choice, `engine.context`; the tiny engine takes 1 to 8, ltx r·k + 1 frames —
    others are rounded down —, cogvideox-i2v and wan-i2v only 1: more are refused; the
    Shot records the frames used). `blend`: how many of
    those the engine redraws and dissolves into (default `engine.blend`; 0 = a plain cut).
    `guidance`: the continuation's guidance scale (default `engine.extend_guidance` where
    the engine has one — 6 on tiny, which holds colours over long chains — else the clip's).
    `engine`: default, the engine that made the clip: the loaded one (on the device, dtype and
    memory options the clip's provenance records, where several are loaded), else loaded now.
    `device`: where an engine is loaded (default "cpu"); given, only an engine loaded on that
    device continues the clip. `dtype`, `engine_options`: given, the engine is the one
    `rn.load_engine` gives for them (the one loaded with them, or loaded now). `motion_mode`:
    as `rn.generate`'s (default: "native" when the clip was made so, the model's own motion
    going on, else "auto": a planning engine goes on with the prompt's motion)."""
    from ..engines.base import check_callbacks

    check_callbacks(on_step, cancel)             # before an engine loads
    shot, eng = plan_extension(clip, seconds, prompt=prompt, camera=camera, engine=engine,
                               context=context, blend=blend, guidance=guidance, device=device,
                               dtype=dtype, engine_options=engine_options, motion_mode=motion_mode)
    return continue_clip(clip, shot, eng, on_step=on_step, cancel=cancel, progress=progress)


def plan_extension(clip, seconds: float, prompt: str | None = None, camera=None, engine=None, *,
                   context: int | None = None, blend: int | None = None, guidance: float | None = None,
                   device: str | None = None, dtype=None, engine_options: dict | None = None,
                   motion_mode: str | None = None):
    """Check an extension and write its Shot, rendering nothing: -> (shot, engine). Bad
    input is refused here, so a caller that renders later (the Studio's worker) can
    refuse it before starting. The arguments are `extend`'s."""
    from ..engines.base import Engine
    from ..engines.registry import load_engine, loaded_engine, require_capability

    seconds = check_number("seconds", seconds, low=0, low_inclusive=False, high=3600)
    if clip.shot is None:
        raise InvalidInput("clip", clip, "has no Shot, so no engine to continue it",
                           "Only clips made by an engine (rn.generate, Engine.render) can be extended.")
    step, _ = rendered_rate(clip)
    from .. import _load_arguments

    settings = _load_arguments(engine, dtype, engine_options)      # checked as generate's
    eng = engine if isinstance(engine, Engine) else None            # an Engine given: as it is
    name = clip.shot.engine if engine is None else engine          # else an id, folder or Path
    if eng is None and not settings:
        # the engine loaded under it (the clip's own: the one that made it), as it is loaded
        # (on a GPU, with offload…), as rn.generate takes one: loading the id afresh would
        # make a second copy, on the CPU, without the user's options
        eng = loaded_engine(name, like=clip.provenance, device=device)
    if eng is None:
        require_capability(name, "extend")          # before its weights load (or download)
        # load_engine's cache returns the engine already loaded with these settings
        eng = load_engine(name, device="cpu" if device is None else device, **settings)
    require_capability(eng, "extend")           # a folder's or hub id's engine, now known
    if context is None:
        context = getattr(eng, "context", 1)
    else:
        context = check_number("context", context, low=1, integer=True)
        most = getattr(eng, "max_context", None)
        if most is not None and context > most:
            raise UnsupportedCapability(
                "context", context, f"the {eng.id} engine continues a clip from at most {most} of its "
                "last frames" + (" (it starts from the last frame alone, as from an image)" if most == 1 else ""),
                "Leave context out." if most == 1 else f"Use context={most} or less, or leave it out.")
    context = min(int(context), (len(clip) - 1) // step + 1)     # of the frames the engine made
    # what the engine conditions on of those (LTX: whole latent frames, r·k + 1) is what the
    # Shot records: a re-render from it makes the same frames
    context = eng.context_used(context) if hasattr(eng, "context_used") else context
    most = min(getattr(eng, "blend", 0), context - 1)
    if blend is None:
        blend = most
    else:
        check_number("blend", blend, low=0, high=most, integer=True)   # ≤ engine.blend, < context
    if guidance is None:
        guidance = getattr(eng, "extend_guidance", None) or clip.shot.guidance
    new_frames = max(1, round(seconds * clip.fps / step))          # at the engine's fps
    if camera is None and clip.shot.camera is not None:
        # the clip's own move goes on: the engine reads a path from the continuation's first
        # frame, the clip's frame where the context starts, so the path is read from there
        # (read from its start, a keyframed move began again after the join)
        fps = clip.shot.fps or clip.fps / step
        made = (len(clip) - 1) // step + 1
        camera = clip.shot.camera.from_time((made - context) / fps, context + new_frames, fps)
    shot = clip.shot.replace(
        prompt=clip.shot.prompt if prompt is None else prompt,
        camera=clip.shot.camera if camera is None else camera,
        frames=new_frames, seconds=None, parent=clip.id, context_frames=context,
        # brushes are painted on the parent's first frame; its objects have moved since,
        # so a continuation starts without them (draw new ones on its first frame)
        brushes=(), seed=continuation_seed(clip.shot.seed, (len(clip) - 1) // step + 1),
        # (counted in the frames the engine made: interpolating before or after extending
        # gives the same new frames)
        # the engine decides again (auto): a planning engine goes on with the prompt's motion
        # from where the clip's last frames show the object; a clip made with the model's own
        # motion ("native", planning turned off) goes on with it
        motion_mode=motion_mode if motion_mode is not None else (
            "native" if clip.shot.motion_mode == "native" else "auto"),
        blend_frames=int(blend), guidance=guidance)
    eng.resolve(shot)      # refused now, not on the worker: e.g. more new frames than one call adds
    return shot, eng


def check_size(clip) -> None:
    """Refuse, naming both sizes, a clip that is not the size its Shot renders (an upscaled
    one): the engine continues a clip at its own size, before any engine loads."""
    shot = clip.shot
    if shot.width is not None and shot.height is not None and (clip.width, clip.height) != (
            shot.width, shot.height):
        factor = (clip.provenance.get("upscaled") or {}).get("factor")
        raise InvalidInput("clip", f"{clip.width}x{clip.height}",
                           f"must be {shot.width}x{shot.height} to be extended: the {shot.engine} engine "
                           f"continues it at the size it renders"
                           + (f", and this clip was upscaled ×{factor}" if factor else ""),
                           f"Extend the clip before upscaling it: clip.extend(seconds).upscale({factor or 2}).")


def rendered_rate(clip) -> tuple[int, str | None]:
    """(step, method): the clip plays `step` frames per frame its engine made — 1, or, for a
    clip its provenance says was interpolated, the factor it went through (the clip's fps
    over its Shot's), the in-betweens made by `method` (None for 1). A clip re-timed without
    in-betweens (`rn.Clip(clip.frames, fps=16, shot=clip.shot)`) plays its engine's frames
    at another rate: step 1, the continuation played at that rate too. Checked with its size
    (`check_size`) before any engine loads: InvalidInput for a clip no continuation would match."""
    from .interpolate import MAX_FACTOR, METHODS

    check_size(clip)
    shot = clip.shot
    interpolated = clip.provenance.get("interpolated")
    if shot.fps is None or clip.fps == shot.fps or not isinstance(interpolated, dict):
        return 1, None
    ratio = clip.fps / shot.fps
    step = round(ratio)
    if step < 2 or abs(ratio - step) > 1e-6 * ratio:
        raise InvalidInput("clip", f"{clip.fps:g} fps", f"must play at the {shot.fps:g} fps its engine "
                           f"made it at, or a whole multiple of that (an interpolated clip), to be "
                           f"extended", "Extend the clip before changing its frame rate.")
    if step > MAX_FACTOR:       # interpolated more than once: no one pass makes its in-betweens
        raise InvalidInput("clip", f"{clip.fps:g} fps", f"must be at most {MAX_FACTOR}× the {shot.fps:g} "
                           f"fps its engine made it at to be extended (this one is {step}×, "
                           "interpolated more than once)",
                           "Extend the clip before interpolating it: clip.extend(seconds).interpolate(...).")
    method = interpolated.get("method")
    return step, method if method in METHODS else "flow"


def continue_clip(clip, shot, engine, **render_kw):
    """Render the continuation `shot` (its `parent` is `clip`) and join it on: the clip's
    frames, the last `shot.blend_frames` of them replaced by the engine's dissolve, then
    the new frames. Shared by `extend` and a film's re-render.

    An interpolated clip (see the module doc) is continued from its engine-rate frames and
    the new part interpolated the same way; provenance counts in the result's frames
    (`added_frames` = shot.frames × step) and records the interpolation."""
    from ..clip import Clip
    from .interpolate import interpolate_frames

    step, method = rendered_rate(clip)
    k = min(shot.context_frames or 1, (len(clip) - 1) // step + 1)
    given = np.asarray(clip.frames[len(clip) - 1 - step * np.arange(k)[::-1]])
    added = engine.render(shot, init_frames=given, **render_kw)
    blended = len(added) - shot.frames           # the engine's dissolve comes first
    keep = len(clip) - blended * step
    new = np.asarray(added.frames)
    if step > 1:      # in-betweens from the last kept frame (one the engine made) on, as before
        new = interpolate_frames(np.concatenate([clip.frames[keep - 1:keep], new]), step, method)[1:]
    frames = np.concatenate([clip.frames[:keep], new])
    provenance = {**added.provenance, "extended_from": clip.id, "added_frames": shot.frames * step,
                  "blended_frames": blended * step}
    if step > 1:
        provenance["interpolated"] = {"factor": step, "method": method}
    return Clip(frames, clip.fps, shot=added.shot, parent=clip, provenance=provenance)
