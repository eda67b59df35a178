"""Teacher clips for camera self-distillation: a model's own clips in warp mode.

Warp mode (warped noise + x̂0 guidance + the camera input) follows a camera path in 98 % of
held-out paths; the camera input alone, native mode, in about 80 %: it sends the camera the
right way but repaints sky and ground as it goes, which reads as zoom. These clips are the
model's own pictures moved rigidly along their path, so a stage trained on them (the
`teacher_pool` setting of train.py, their camera always given) asks the camera input to do
what the warp guide does, in the model's own drawing (guidance distillation, Meng et al.
2023, with the warp guide in the teacher's place). Tried once and not shipped: from the
shipped weights, 1,200 teacher clips beside 1,200 toy-world ones made native direction worse,
311 of 512 held-out paths against 361 for the same stage without them (README, Training).

    python -m runway_nb.tiny.distill --out runs/teacher --clips 1200      # ≈ 30 min on 2 cores
    python -m runway_nb.tiny.train --preset director_distill --teacher-pool runs/teacher --out runs/dist

Scenes and paths come from the training split (toyworld's "train" scenes, every camera
moving), never the eval's held-out ones; each clip's noise seed is NOISE_SEED + its index,
above the eval's 1000 + i. Clips are written in chunks of CHUNK (about 25 s of work each on
one core, so the progress bar moves), each atomically, so a stopped run (Ctrl-C) keeps what
it made and a rerun of the same command goes on from there.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from . import data
from ..options import flag_error

CHUNK = 10
NOISE_SEED = 50000
RECIPE = data.PoolRecipe(camera_in_text=0.3, camera_probability=1.0)   # the director stages' captions
RECORD = "teacher.json"


def _chunk_path(out: Path, start: int) -> Path:
    return out / f"teacher_{start:06d}.npz"


def _make_chunk(args) -> int:
    """Clips start … stop − 1 of the teacher pool `seed`, by the pipeline in `teacher`."""
    teacher, seed, start, stop, out = args
    import torch

    from .pipeline import TinyVideoPipeline

    torch.set_num_threads(1)                 # one process per core: threads beyond them thrash
    pipe = TinyVideoPipeline.load(teacher)
    latents, cameras, captions = [], [], []
    for i in range(start, stop):
        scene, cam = RECIPE.draw(seed, i)
        frames = pipe(scene.caption, camera=cam, warp_camera=cam, show_progress=False,
                      generator=torch.Generator().manual_seed(NOISE_SEED + i)).frames
        with torch.no_grad():                # encoded as the training pool's frames are
            px = torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 127.5 - 1
            latents.append(pipe.vae.encode(px).numpy().astype(np.float16))
        cameras.append(cam.astype(np.float32))
        captions.append(scene.caption)
    path = _chunk_path(out, start)
    tmp = path.with_name(path.stem + ".tmp.npz")
    np.savez(tmp, latents=np.stack(latents), cameras=np.stack(cameras), captions=np.array(captions))
    os.replace(tmp, path)
    return stop - start


def make_teacher_pool(out: Path, clips: int, seed: int = 9, teacher: str = "shipped",
                      workers: int = 2, progress=None) -> Path:
    """Render `clips` teacher clips into `out` in `workers` processes; chunks already there
    (a stopped run of the same settings) are kept. `progress(k)` after each chunk."""
    from ..errors import InvalidInput, check_number
    from .train import _source

    clips = check_number("clips", clips, low=1, integer=True)
    seed = check_number("seed", seed, low=0, integer=True)        # numpy's seeds are ≥ 0
    workers = check_number("workers", workers, low=1, integer=True)
    source = _source(teacher)
    if not (source / "model_index.json").is_file():
        raise InvalidInput("teacher", teacher, "must be 'shipped' or a trained pipeline/ folder (one with model_index.json)")
    settings = {"seed": seed, "teacher": teacher, "recipe": RECIPE.stem(clips, seed), "noise_seed": NOISE_SEED,
                "chunk": CHUNK}
    out.mkdir(parents=True, exist_ok=True)
    record = out / RECORD
    if record.is_file():
        held = json.loads(record.read_text())
        if {k: held.get(k) for k in ("seed", "teacher", "noise_seed", "chunk")} != \
                {k: settings[k] for k in ("seed", "teacher", "noise_seed", "chunk")}:
            raise InvalidInput("out", str(out), f"holds another teacher pool ({held}); its chunks would mix with these",
                               "Use another --out folder, or delete this one.")
    record.write_text(json.dumps({**settings, "clips": clips}, indent=1))
    todo = [(source, seed, s, min(s + CHUNK, clips), out) for s in range(0, clips, CHUNK)
            if _chunk_clips(_chunk_path(out, s)) != min(s + CHUNK, clips) - s]
    if progress is not None and len(todo) < -(-clips // CHUNK):
        progress(clips - sum(stop - start for _, _, start, stop, _ in todo))
    with ProcessPoolExecutor(min(workers, max(len(todo), 1))) as pool:
        for n in pool.map(_make_chunk, todo):
            if progress is not None:
                progress(n)
    return out


def _chunk_clips(path: Path) -> int | None:
    """How many clips a finished chunk holds (None: not made yet). An earlier, smaller pool's
    last chunk holds fewer than a larger pool's: it is made again, not taken as done."""
    if not path.is_file():
        return None
    with np.load(path) as chunk:
        return len(chunk["captions"])


def teacher_chunks(folder: Path) -> list[Path]:
    """The finished chunks in `folder` (a chunk being written is a .tmp.npz), in order."""
    return sorted(c for c in Path(folder).glob("teacher_*.npz") if not c.name.endswith(".tmp.npz"))


def load_teacher_pool(folder: Path):
    """latents (n, T, C, h, w) float16, cameras (n, T, 4), captions: every chunk in `folder`."""
    from ..errors import InvalidInput

    chunks = teacher_chunks(folder)
    if not chunks:
        raise InvalidInput("teacher_pool", str(folder), "must be a folder of teacher clips (teacher_*.npz, "
                           "made by python -m runway_nb.tiny.distill)")
    parts = [np.load(c) for c in chunks]
    return (np.concatenate([p["latents"] for p in parts]), np.concatenate([p["cameras"] for p in parts]),
            [str(c) for p in parts for c in p["captions"]])


def main(argv=None):
    from tqdm.auto import tqdm

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True, help="folder for the teacher clips")
    ap.add_argument("--clips", type=int, default=1200, help="how many (default 1200)")
    ap.add_argument("--seed", type=int, default=9, help="the training split's scenes to draw (default 9)")
    ap.add_argument("--teacher", default="shipped", help='"shipped" or a pipeline/ folder')
    ap.add_argument("--workers", type=int, default=2, help="processes, one torch thread each (default 2)")
    args = ap.parse_args(argv)
    from ..errors import InvalidInput

    bar = tqdm(total=args.clips, desc="teacher clips")
    try:
        make_teacher_pool(args.out, args.clips, args.seed, args.teacher, args.workers, bar.update)
    except InvalidInput as exc:
        flag_error(ap, exc)
    except KeyboardInterrupt:
        bar.close()
        print(f"stopped: {len(teacher_chunks(args.out))} finished chunks (of up to {CHUNK} clips) kept in "
              f"{args.out}; the same command goes on from there", file=sys.stderr)
        raise SystemExit(130) from None
    finally:
        bar.close()
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
