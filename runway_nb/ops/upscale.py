"""Upscale a clip ×2 or ×4.

Default ("auto"): for the toy world's clips (the tiny engine's, or a tiny pipeline folder's)
the learned toy-world upscaler shipped in `runway_nb/tiny/upscalers/x{2,4}` (trained by
`python -m runway_nb.tiny.upscaler`), which beats bicubic on toy-world ground truth (see
the README's numbers); for anything else Lanczos — the toy-world network knows flat shapes
and skies, and on a real photo it lost to Lanczos (22.5 against 23.6 dB). An engine with its
own upsampler can register it with `register_upscaler(engine_id, fn)`; "learned",
"lanczos" and "bicubic" choose explicitly.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import InvalidInput, check_number

FACTORS = (2, 4)
METHODS = ("auto", "learned", "lanczos", "bicubic")
UPSCALERS = Path(__file__).resolve().parent.parent / "tiny" / "upscalers"
_ENGINE_UPSCALERS: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {}


def register_upscaler(engine_id: str, fn: Callable[[np.ndarray, int], np.ndarray]) -> None:
    """Let clips from `engine_id` upscale with the engine's own upsampler:
    fn(frames (T,H,W,3) uint8, factor) -> (T, H·factor, W·factor, 3) uint8."""
    _ENGINE_UPSCALERS[engine_id] = fn


@lru_cache(maxsize=4)
def _learned(factor: int):
    from ..tiny.loading import from_folder
    from ..tiny.upscaler import TinyUpscaler

    folder = UPSCALERS / f"x{factor}"
    if not (folder / "config.json").is_file():
        return None
    return from_folder(TinyUpscaler, folder).eval()


def classical(frames: np.ndarray, factor: int, method: str = "lanczos") -> np.ndarray:
    from PIL import Image

    resample = {"lanczos": Image.LANCZOS, "bicubic": Image.BICUBIC}[method]
    t, h, w, _ = frames.shape
    return np.stack([np.asarray(Image.fromarray(f).resize((w * factor, h * factor), resample))
                     for f in frames])


def check_factor(factor) -> int:
    """The factor as a plain int (2.0 and numpy's int64(2) are 2), or InvalidInput naming the
    factors there are."""
    try:
        whole = check_number("factor", factor, integer=True)
    except InvalidInput:
        whole = None
    if whole not in FACTORS:
        raise InvalidInput("factor", factor, f"must be one of {', '.join(map(str, FACTORS))}",
                           "For ×8, upscale twice.")
    return whole


def is_toy_world(engine_id: str | None) -> bool:
    """Whether clips of `engine_id` show the toy world: the tiny engine, or a folder of a tiny
    pipeline trained by `runway_nb.tiny.train` (its id is its path)."""
    if engine_id == "tiny":
        return True
    index = Path(str(engine_id)) / "model_index.json" if engine_id else None
    try:
        return index is not None and index.is_file() and "TinyVideoPipeline" in index.read_text()
    except (OSError, UnicodeDecodeError):
        return False


def upscale_frames(frames: np.ndarray, factor: int, method: str = "auto", engine_id: str | None = None):
    """-> (upscaled frames, the method actually used). `engine_id`: the engine the frames
    came from, for "auto" (see the module docs); None (frames of unknown origin): Lanczos."""
    factor = check_factor(factor)
    if method not in METHODS:
        raise InvalidInput("method", method, f"must be one of {', '.join(METHODS)}")
    if method == "auto" and engine_id in _ENGINE_UPSCALERS:
        return _ENGINE_UPSCALERS[engine_id](frames, factor), f"engine:{engine_id}"
    if method == "auto" and not is_toy_world(engine_id):
        method = "lanczos"
    if method in ("auto", "learned"):
        model = _learned(factor)
        if model is not None:
            return model.upscale_frames(frames), "learned"
        if method == "learned":
            raise InvalidInput("method", method, f"needs the learned ×{factor} upscaler, which is "
                               f"not installed in {UPSCALERS}", "Use method='lanczos'.")
        method = "lanczos"
    return classical(frames, factor, method), method


def upscale(clip, factor: int = 2, method: str = "auto"):
    from ..clip import Clip

    factor = check_factor(factor)      # a plain int, so provenance (and a film) records 2, not "2"
    engine_id = clip.shot.engine if clip.shot is not None else clip.provenance.get("engine")
    frames, used = upscale_frames(np.asarray(clip.frames), factor, method, engine_id)
    return Clip(frames, clip.fps, shot=clip.shot, parent=clip,
                provenance={**clip.provenance, "upscaled": {"factor": factor, "method": used},
                            "upscaled_from": clip.id})
