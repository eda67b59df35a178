"""Training data for the tiny engine: a cached pool of rendered toy-world clips.

Rendering is cheap (~10 ms a clip) but not free on two cores, so the training script
renders a fixed pool once (in two processes), keeps it on disk next to its
checkpoints, and encodes it to latents once the autoencoder is trained.
"""

from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import toyworld

FRAMES, FPS, SIZE = 16, 8.0, 64


@dataclass(frozen=True)
class PoolRecipe:
    """What a pool's clips are drawn from. `camera_in_text`: the share of captions that
    name the camera move; `camera_probability`: the share of clips whose camera moves;
    `starry_share`: the share under a starry sky (default: every sky equally likely)."""
    camera_in_text: float = 0.7
    camera_probability: float = 0.6
    starry_share: float = toyworld.UNIFORM_STARRY

    def __post_init__(self):
        from ..errors import check_number

        for name in ("camera_in_text", "camera_probability", "starry_share"):
            object.__setattr__(self, name, check_number(name, getattr(self, name), low=0, high=1))

    def stem(self, n: int, seed: int) -> str:
        """The cache's file name: the defaults keep the name older caches were written under."""
        return (f"pool_s{seed}_n{n}" + ("" if self.camera_in_text == 0.7 else f"_c{self.camera_in_text:g}")
                + ("" if self.camera_probability == 0.6 else f"_m{self.camera_probability:g}")
                + ("" if self.starry_share == toyworld.UNIFORM_STARRY else f"_st{self.starry_share:g}"))

    def draw(self, seed: int, index: int):
        """Clip `index` of the pool `seed`: its scene and camera (T, 4). The same draws for
        the frames and for the object masks."""
        rng = np.random.default_rng([seed, index])
        scene = toyworld.sample_scene(rng, "train", camera_probability=self.camera_probability,
                                      camera_in_text_probability=self.camera_in_text,
                                      starry_share=self.starry_share)
        return scene, toyworld.camera_for_move(scene.camera, scene.camera_intensity, FRAMES, FPS)


def _render_chunk(args):
    seed, start, count, recipe = args
    frames = np.empty((count, FRAMES, SIZE, SIZE, 3), np.uint8)
    cameras = np.empty((count, FRAMES, 4), np.float32)
    captions, scenes = [], []
    for i in range(count):
        scene, cam = recipe.draw(seed, start + i)
        frames[i] = toyworld.render(scene, FRAMES, FPS, SIZE, SIZE, camera=cam)
        cameras[i] = cam
        captions.append(scene.caption)
        scenes.append({"background": scene.background, "camera": scene.camera,
                       "objects": [[o.color, o.shape, o.motion] for o in scene.objects]})
    return frames, cameras, captions, scenes


def _map_chunks(fn, n: int, seed: int, recipe: PoolRecipe, workers: int, progress, size: int = 250):
    """fn over the pool's chunks of `size` clips, in `workers` processes, in order;
    `progress(k)` after each chunk of k clips."""
    jobs = [(seed, s, min(size, n - s), recipe) for s in range(0, n, size)]
    parts = []
    with ProcessPoolExecutor(workers) as pool:
        for (_, _, count, _), part in zip(jobs, pool.map(fn, jobs)):
            parts.append(part)
            if progress:
                progress(count)
    return parts


def render_pool(n: int, seed: int, cache_dir: Path, workers: int = 2, progress=None,
                recipe: PoolRecipe = PoolRecipe()):
    """Render (or load from cache) n training clips drawn by `recipe`: frames
    (n,T,H,W,3) uint8, cameras (n,T,4), captions, scene summaries."""
    cache_dir = Path(cache_dir)
    stem = recipe.stem(n, seed)
    path = cache_dir / f"{stem}.npz"
    if path.exists():
        data = np.load(path)
        meta = json.loads((cache_dir / f"{stem}.json").read_text())
        return data["frames"], data["cameras"], meta["captions"], meta["scenes"]
    parts = _map_chunks(_render_chunk, n, seed, recipe, workers, progress)
    frames = np.concatenate([p[0] for p in parts])
    cameras = np.concatenate([p[1] for p in parts])
    captions = [c for p in parts for c in p[2]]
    scenes = [s for p in parts for s in p[3]]
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cache_dir / (path.name + ".tmp.npz")
    np.savez(tmp, frames=frames, cameras=cameras)
    tmp.replace(path)
    (cache_dir / f"{stem}.json").write_text(json.dumps({"captions": captions, "scenes": scenes}))
    return frames, cameras, captions, scenes


LATENT_SCALE = 4   # the autoencoder's downsampling: 64×64 frames -> 16×16 latents


def _mask_chunk(args):
    seed, start, count, recipe = args
    s = SIZE // LATENT_SCALE
    out = np.empty((count, FRAMES, s, s), np.uint8)
    for i in range(count):
        scene, cam = recipe.draw(seed, start + i)           # the same draws as _render_chunk
        cover = toyworld.object_coverage(scene, FRAMES, FPS, SIZE, SIZE, camera=cam)
        cover = cover.reshape(FRAMES, s, LATENT_SCALE, s, LATENT_SCALE).mean((2, 4))
        out[i] = np.round(cover * 255).astype(np.uint8)
    return out


def render_object_masks(n: int, seed: int, cache_dir: Path, workers: int = 2, progress=None,
                        recipe: PoolRecipe = PoolRecipe()) -> np.ndarray:
    """Object coverage of the pool `render_pool(n, seed, ..., recipe)` draws, at latent
    resolution: (n, T, 16, 16) uint8, 255 = wholly object. Cached beside the pool."""
    cache_dir = Path(cache_dir)
    path = cache_dir / f"{recipe.stem(n, seed)}_objects.npy"
    if path.exists():
        return np.load(path)
    masks = np.concatenate(_map_chunks(_mask_chunk, n, seed, recipe, workers, progress))
    cache_dir.mkdir(parents=True, exist_ok=True)
    np.save(str(path) + ".tmp.npy", masks)
    Path(str(path) + ".tmp.npy").replace(path)
    return masks


def caption_vocabulary() -> set[str]:
    """Every word the toy world's captions can use."""
    from .text import WordTokenizer

    tok = WordTokenizer([])
    words: set[str] = set()
    for table in (toyworld.COLOR_WORDS, toyworld.SHAPE_WORDS, toyworld.MOTION_WORDS,
                  toyworld.BACKGROUND_WORDS, toyworld.CAMERA_WORDS):
        for phrases in table.values():
            for phrase in phrases:
                words.update(tok.words(phrase))
    words.update(["slowly", "gently", "quickly", "fast", "an", "a", "and"])
    return words
