"""Extend a clip: continue it from its last frames, seamlessly.

The engine renders new frames conditioned on the clip's last `context` frames (the
tiny engine's known-frame channels; image→video conditioning for engines that have
it). The result holds the parent's frames followed by the new ones; its Shot
describes the added part (`parent` = the parent's id, `context_frames`), so the
whole chain can be re-made from the JSON files in a Store.
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
           context: int | None = None, on_step=None, cancel=None, progress: bool = True):
    """`context`: how many of the clip's last frames condition the new ones (default: the
    engine's choice, `engine.context`; the tiny engine takes 1 to 8)."""
    from ..clip import Clip
    from ..engines.registry import load_engine

    check_number("seconds", seconds, low=0, low_inclusive=False, high=3600)
    if clip.shot is None:
        raise InvalidInput("clip", clip, "has no Shot, so no engine to continue it",
                           "Only clips made by an engine (rn.generate, Engine.render) can be extended.")
    eng = load_engine(engine if engine is not None else clip.shot.engine)
    if not eng.capabilities.extend:
        raise UnsupportedCapability("engine", eng.id, "cannot extend clips",
                                    "Extend with an engine that can: tiny, ltx, cogvideox-i2v "
                                    "or wan-i2v (e.g. engine='tiny').")
    if context is None:
        context = getattr(eng, "context", 1)
    else:
        check_number("context", context, low=1, high=getattr(eng, "max_context", 1000),
                     integer=True)
    context = min(int(context), len(clip))
    new_frames = max(1, round(seconds * clip.fps))
    shot = clip.shot.replace(
        prompt=clip.shot.prompt if prompt is None else prompt,
        camera=clip.shot.camera if camera is None else camera,
        frames=new_frames, seconds=None, parent=clip.id, context_frames=context,
        # brushes are painted on the parent's first frame; its objects have moved since,
        # so a continuation starts without them (draw new ones on its first frame)
        brushes=(), seed=continuation_seed(clip.shot.seed, len(clip)))
    added = eng.render(shot, on_step=on_step, cancel=cancel, progress=progress,
                       init_frames=np.asarray(clip.frames[-context:]))
    frames = np.concatenate([clip.frames, added.frames])
    return Clip(frames, clip.fps, shot=added.shot, parent=clip,
                provenance={**added.provenance, "extended_from": clip.id,
                            "added_frames": len(added)})
