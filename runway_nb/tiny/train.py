"""Train the embedded `tiny` engine from scratch on the toy world.

    python -m runway_nb.tiny.train --preset default --out runs/tiny      # ≈ 1–3 h on 2 CPU cores
    python -m runway_nb.tiny.train --preset classroom --out runs/class   # ≈ 12 min, reuses the shipped VAE
    python -m runway_nb.tiny.train --out runs/tiny --resume              # continue a stopped run
    python -m runway_nb.tiny.train --preset camera --init-from runs/tiny/pipeline --out runs/cam
                                      # second stage: world-point camera input, fewer camera words
    python -m runway_nb.tiny.train --preset objects --init-from runs/dec/pipeline --out runs/obj
                                      # fourth: the loss weighted where the objects are
    python -m runway_nb.tiny.train --preset director --out runs/dir
                                      # fifth: more moving cameras, for the native camera input
    python -m runway_nb.tiny.train --preset director_gpu --out runs/gpu
                                      # sixth, on a GPU (--device cuda): the fifth at batch 128,
                                      # ≈ 7 min on an H200; any preset takes --device cuda

Three stages, each resumable: (1) render a pool of captioned clips, (2) train the
autoencoder, (3) train the text encoder + denoiser with rectified flow on the pool's
latents. The run folder gets `run.json` (the run's settings, before any work),
`cache/` (the pool), `checkpoint/` (safetensors + JSON, written atomically every few
minutes) and, at the end, `pipeline/`: the diffusers-style folder that
`runway_nb.load_engine(path)` reads and that ships as the package's weights. A folder
holds one run: a fresh run in a folder holding another's is refused (`check_fresh`).
Everything is seeded: the same command gives the same weights on the same machine.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from tqdm.auto import tqdm

from ..camera.geometry import frame_transform
from . import data
from .autoencoder import TinyAutoencoder
from .guidance import carry_grid
from .model import TinyVideoDiT, camera_features
from .text import TinyTextEncoder, WordTokenizer
from .toyworld import UNIFORM_STARRY
from ..options import flag_error


@dataclass
class TrainConfig:
    pool_size: int = 16000       # rendered training clips
    ae_steps: int = 1500         # autoencoder steps (batch of ae_batch frames)
    ae_batch: int = 64
    steps: int = 3000            # denoiser steps
    batch: int = 16
    lr: float = 3e-4
    warmup: int = 150
    ema: float = 0.999
    text_dropout: float = 0.1    # empty prompt, for classifier-free guidance
    camera_dropout: float = 0.2  # "no camera given": learn to follow the words alone
    known_probability: float = 0.3  # condition on given first frames (extend, image→video)
    dim: int = 128
    depth: int = 6
    seed: int = 0
    threads: int = 2             # torch threads and rendering processes; 2 cores here, more only thrash
    device: str = "cpu"          # "cuda": the pool's encoding and the denoiser on a GPU (the
                                 # autoencoder stages stay on the CPU; batches are drawn there)
    checkpoint_minutes: float = 5.0
    max_minutes: float = 0.0     # stop (and export) after this long, the learning rate decayed
                                 # by then whatever `steps` says; 0 = no limit
    vae_from: str = ""           # "" = train the autoencoder; "shipped" or a vae/ folder = reuse it
    init_from: str = ""          # "" = a fresh denoiser; "shipped" or a pipeline/ folder = continue it
    camera_world: bool = False   # give the denoiser the world-point camera embedding (model.py)
    camera_aligned: bool = False  # temporal attention along the camera path (model.py; no new weights)
    camera_in_text: float = 0.7  # share of captions that also name the camera move in words
    camera_probability: float = 0.6  # share of training clips whose camera moves
    starry_share: float = UNIFORM_STARRY  # share of training clips under a starry sky (black,
                                 # night); the default, every sky equally likely (0.25), as in every stage so far
    decoder_steps: int = 0       # then fine-tune the decoder this long, encoder frozen
    decoder_lr: float = 5e-4
    edge_weight: float = 4.0     # decoder fine-tune: extra L1 weight on edges (small objects)
    object_weight: float = 0.0   # denoiser: extra loss weight where objects are (≈3 % of pixels)
    sigma_shift: float = 1.0     # > 1 trains more at high noise, where layout and camera are decided
    rigid_weight: float = 0.0    # denoiser: + this × the gap, in decoded pixels, between each frame's
                                 # estimated clean background and frame 0's carried there by the
                                 # clip's camera (the warp guide's pull, learned; `rigid_targets`)
    rigid_frames: int = 4        # … on this many later frames of each clip, drawn per step (decoding
                                 # all 16 made a CPU step 3.5× slower)
    teacher_pool: str = ""       # a folder of teacher clips (tiny/distill.py: a model's own clips in
                                 # warp mode) added to the pool, their camera always given

    def __post_init__(self):
        # a bad value should fail here, not an hour into a run
        from ..errors import check_number

        for name in ("text_dropout", "camera_dropout", "known_probability", "camera_in_text",
                     "camera_probability", "starry_share", "ema"):
            setattr(self, name, check_number(name, getattr(self, name), low=0, high=1))
        for name in ("pool_size", "ae_batch", "batch", "dim", "depth", "threads", "warmup", "rigid_frames"):
            setattr(self, name, check_number(name, getattr(self, name), low=1, integer=True))
        for name in ("ae_steps", "steps", "decoder_steps", "seed"):   # a seed < 0: numpy's ValueError
            setattr(self, name, check_number(name, getattr(self, name), low=0, integer=True))
        for name in ("lr", "decoder_lr", "sigma_shift"):
            setattr(self, name, check_number(name, getattr(self, name), low=0, low_inclusive=False))
        for name in ("edge_weight", "object_weight", "rigid_weight", "checkpoint_minutes", "max_minutes"):
            setattr(self, name, check_number(name, getattr(self, name), low=0))
        from ..engines.registry import DEVICE_KINDS
        from ..errors import InvalidInput

        if self.batch > self.pool_size:              # a batch draws distinct clips from the pool
            raise InvalidInput("batch", self.batch, f"must be at most pool_size ({self.pool_size})",
                               "Lower --batch or raise --pool-size.")
        if not isinstance(self.device, str) or self.device.split(":")[0] not in DEVICE_KINDS:
            raise InvalidInput("device", self.device, "must be 'cpu', 'cuda' (or 'cuda:N') or 'mps'")

    @property
    def pool_recipe(self) -> data.PoolRecipe:
        """What this stage's pool draws (kept as three flat fields here: the command line and
        training.json name them one by one)."""
        return data.PoolRecipe(self.camera_in_text, self.camera_probability, self.starry_share)


PRESETS = {
    "default": TrainConfig(),
    # Teaching: reuse the shipped autoencoder (a good one takes ~20 min alone) and spend the
    # quarter hour on the part the lesson is about, the text-conditioned denoiser.
    "classroom": TrainConfig(pool_size=3000, steps=2000, dim=96, depth=4, lr=5e-4, warmup=50,
                             vae_from="shipped"),
    # Second stage on top of `default`: the camera as a world-point embedding, and captions
    # that name the move less often, so the model must read the numeric path (Director
    # Mode's native camera) while colours, shapes and motions keep training.
    "camera": TrainConfig(steps=7000, lr=2e-4, warmup=100, seed=1, camera_world=True,
                          camera_in_text=0.3, init_from="shipped"),
    # Third stage: a sharper decoder for the same latent space (the encoder is frozen, so
    # the denoiser is untouched): 5,000 steps of edge-weighted L1, ≈ 26 min on 2 cores.
    "decoder": TrainConfig(steps=0, seed=1, camera_world=True, camera_in_text=0.3,
                           init_from="shipped", decoder_steps=5000),
    # Fourth stage: the same data, the loss weighted 9× where the objects are, so the
    # denoiser's capacity goes to the shapes and paths the captions ask for (the sky and
    # ground, ~97 % of the pixels, dominated the plain loss).
    "objects": TrainConfig(steps=4000, lr=2e-4, warmup=100, seed=1, camera_world=True,
                           camera_in_text=0.3, init_from="shipped", object_weight=8.0),
    # Fifth stage, for Director Mode's native camera: nine clips in ten with a moving camera
    # (six in ten before), less camera dropout, and half the object weight, so the sky and
    # ground that show a camera move count for more in the loss.
    "director": TrainConfig(steps=3000, lr=1.5e-4, warmup=100, seed=2, camera_world=True,
                            camera_in_text=0.3, camera_probability=0.9, camera_dropout=0.15,
                            init_from="shipped", object_weight=4.0),
    # Trials after the fifth stage, kept to reproduce the README's numbers (neither shipped:
    # the native camera measured no better). The director stage again, its noise levels
    # shifted toward high noise, where a video model settles its camera motion (AC3D,
    # Bahmani et al. 2024); the same pool (seed 2).
    "director_high_noise": TrainConfig(steps=3000, lr=1.5e-4, warmup=100, seed=2, camera_world=True,
                                       camera_in_text=0.3, camera_probability=0.9, camera_dropout=0.15,
                                       init_from="shipped", object_weight=4.0, sigma_shift=2.0),
    # … and with temporal attention along the camera path (the same weights, attending where
    # each token's world point sits in the other time slots; 2.0 s/step, so 1,600 steps).
    "director_aligned": TrainConfig(steps=1600, lr=1.5e-4, warmup=100, seed=2, camera_world=True,
                                    camera_aligned=True, camera_in_text=0.3, camera_probability=0.9,
                                    camera_dropout=0.15, init_from="shipped", object_weight=4.0),
    # The fifth stage's recipe on a GPU: the same pool and loss, 8× the batch and twice the
    # learning rate (a larger batch takes a larger step); the steps a lent H200 made in 7.3
    # minutes (README, Training). And the same with temporal attention along the camera path
    # (3× slower a step: the steps it made in those minutes, beside the other on one GPU).
    "director_gpu": TrainConfig(steps=3124, batch=128, lr=3e-4, warmup=200, seed=2, camera_world=True,
                                camera_in_text=0.3, camera_probability=0.9, camera_dropout=0.15,
                                init_from="shipped", object_weight=4.0, device="cuda", threads=8),
    "director_gpu_aligned": TrainConfig(steps=991, batch=128, lr=3e-4, warmup=200, seed=2,
                                        camera_world=True, camera_aligned=True, camera_in_text=0.3,
                                        camera_probability=0.9, camera_dropout=0.15, init_from="shipped",
                                        object_weight=4.0, device="cuda", threads=8),
    # Eighth stage, on a GPU: the seventh stage's weights on a fresh pool three times the
    # size (seed 3, 48,000 clips) — every director stage before saw the same 16,000 clips,
    # the GPU stages some 40 times each; the steps a lent H200 made in its minutes.
    "director_gpu_fresh": TrainConfig(pool_size=48000, steps=6232, batch=128, lr=1.5e-4, warmup=200, seed=3,
                                      camera_world=True, camera_in_text=0.3, camera_probability=0.9,
                                      camera_dropout=0.15, init_from="shipped", object_weight=4.0,
                                      device="cuda", threads=16),
    # Ninth stage, on a GPU: the eighth stage's recipe on another fresh pool, plus the rigid
    # loss (README, Training); the steps a lent H200 made in 5.5 minutes beside its control,
    # `director_gpu_fresh --seed 5 --threads 8` (the same pool without it), on the same GPU.
    "director_gpu_rigid": TrainConfig(pool_size=48000, steps=2242, batch=128, lr=1.5e-4, warmup=200, seed=5,
                                      camera_world=True, camera_in_text=0.3, camera_probability=0.9,
                                      camera_dropout=0.15, init_from="shipped", object_weight=4.0,
                                      rigid_weight=30.0, device="cuda", threads=8),
    # Camera self-distillation (README, Training), on the CPU: the ninth stage's weights on a
    # fresh pool half made of their own clips in warp mode (tiny/distill.py, --teacher-pool),
    # whose camera is always given, so the camera input learns the warp guide's rigid moves.
    # Tried, not shipped: native direction fell (61 % against its control's 71 %).
    "director_distill": TrainConfig(pool_size=1200, steps=1000, lr=1e-4, warmup=50, seed=10, camera_world=True,
                                    camera_in_text=0.3, camera_probability=0.9, camera_dropout=0.15,
                                    init_from="shipped", object_weight=4.0),
    "smoke": TrainConfig(pool_size=32, ae_steps=3, ae_batch=8, steps=3, batch=2, dim=32,
                         depth=1, warmup=1, threads=1),
}


def _atomic_save(tensors: dict, meta: dict, folder: Path) -> None:
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, tmp / "state.safetensors")
    (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
    old = folder.with_name(folder.name + ".old")
    if folder.exists():
        folder.rename(old)
    tmp.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def _flatten(prefix: str, state: dict) -> dict:
    out = {}
    for k, v in state.items():
        if isinstance(v, dict):
            out.update(_flatten(f"{prefix}{k}.", v))
        elif torch.is_tensor(v):
            out[f"{prefix}{k}"] = v
    return out


def _optimizer_tensors(opt: torch.optim.Optimizer) -> dict:
    return {f"opt.{k}": v for k, v in _flatten("", opt.state_dict()["state"]).items()}


def _load_optimizer(opt: torch.optim.Optimizer, tensors: dict) -> None:
    state = opt.state_dict()
    for idx in range(len(state["param_groups"][0]["params"])):
        keys = {k.split(".")[-1]: v for k, v in tensors.items() if k.startswith(f"opt.{idx}.")}
        if keys:
            state["state"][idx] = keys
    opt.load_state_dict(state)


def _source(name: str) -> Path:
    """'shipped' -> the package's own weights folder, anything else -> that path."""
    return Path(__file__).parent / "weights" if name == "shipped" else Path(name)


def train_autoencoder(cfg: TrainConfig, frames: np.ndarray, run: Path, resume: bool = False) -> TinyAutoencoder:
    done = run / "checkpoint" / "vae"
    if (done / "config.json").exists():
        return _load_autoencoder(done)                   # a resumed run: stage 2 is done
    flat = frames.reshape(-1, *frames.shape[2:])                      # (N*T, H, W, 3)
    vae_from = cfg.vae_from or (str(_source(cfg.init_from) / "vae") if cfg.init_from else "")
    if vae_from:
        source = _source(vae_from) / "vae" if vae_from == "shipped" else Path(vae_from)
        if not (source / "config.json").is_file():          # named by the setting that asked for it
            field, value = ("vae_from", cfg.vae_from) if cfg.vae_from else ("init_from", cfg.init_from)
            raise FileNotFoundError(f"{field}={value!r}: no autoencoder (config.json) in {source}")
        ae = _load_autoencoder(source)
        print(f"autoencoder: reusing {source}")
    else:
        ae = _fresh_autoencoder(cfg, flat, run, resume)
    if cfg.decoder_steps:
        sharpen_decoder(ae, cfg, flat, run, resume)
    ae.save_pretrained(done, safe_serialization=True)
    for stage in ("autoencoder", "decoder"):             # the stage is done: its partial goes
        shutil.rmtree(run / "checkpoint" / f"{stage}.partial", ignore_errors=True)
    return ae


def _load_autoencoder(folder: Path) -> TinyAutoencoder:
    """A trained autoencoder as a fresh object from its public config: from_pretrained
    records the folder it read (`_name_or_path`), and a machine path must not end up in
    the pipeline folder that ships."""
    loaded = TinyAutoencoder.from_pretrained(folder)
    ae = TinyAutoencoder(**{k: v for k, v in loaded.config.items() if not k.startswith("_")})
    ae.load_state_dict(loaded.state_dict())
    return ae.eval()


def _pixels(flat: np.ndarray, idx: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(flat[np.sort(idx)]).permute(0, 3, 1, 2).float() / 127.5 - 1


def _autoencoder_loop(stage: str, cfg: TrainConfig, run: Path, resume: bool, ae: TinyAutoencoder,
                      opt: torch.optim.Optimizer, rng: np.random.Generator, flat: np.ndarray,
                      steps: int, lr: float, loss_fn) -> None:
    """An autoencoder stage's loop (cosine learning rate, `steps` batches of frames drawn by
    `rng`). Like the denoiser's it checkpoints every `checkpoint_minutes` and on Ctrl-C —
    weights, optimizer, the batch sampler's state and torch's (the losses draw latent
    noise), in checkpoint/<stage>.partial — and `resume` continues from there to the
    weights an unstopped run reaches."""
    ckpt = run / "checkpoint" / f"{stage}.partial"
    step = 0
    if resume and (ckpt / "meta.json").exists():
        tensors = load_file(ckpt / "state.safetensors")
        ae.load_state_dict({k[len("ae."):]: v for k, v in tensors.items() if k.startswith("ae.")})
        _load_optimizer(opt, tensors)
        torch.set_rng_state(tensors["torch_rng"])
        meta = json.loads((ckpt / "meta.json").read_text())
        rng.bit_generator.state, step = meta["rng"], meta["step"]
        print(f"{stage}: resumed at step {step}")

    def save(step, rng_states):
        tensors = {f"ae.{k}": v.detach() for k, v in ae.state_dict().items()}
        tensors.update(_optimizer_tensors(opt))
        tensors["torch_rng"] = rng_states[1]
        _atomic_save(tensors, {"step": step, "rng": rng_states[0], "config": asdict(cfg)}, ckpt)

    def states():
        return rng.bit_generator.state, torch.get_rng_state()

    last_save, before = time.time(), states()
    bar = tqdm(total=steps, initial=step, desc=stage)
    try:
        while step < steps:
            before = states()                         # a stop mid-step redraws this batch
            px = _pixels(flat, rng.choice(len(flat), cfg.ae_batch, replace=False))
            for g in opt.param_groups:
                g["lr"] = lr * 0.5 * (1 + math.cos(math.pi * step / steps))
            loss = loss_fn(px)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            with _whole_step():
                opt.step()
                step += 1
                before = states()                     # the next batch's: a stop from here keeps it
            bar.update(1)
            bar.set_postfix(l1=f"{loss.item():.4f}")
            if time.time() - last_save > cfg.checkpoint_minutes * 60:
                save(step, states())
                last_save = time.time()
    except KeyboardInterrupt:
        save(step, before)
        print(f"{stage}: stopped at step {step}; continue with --resume")
        raise
    finally:
        bar.close()


def _fresh_autoencoder(cfg: TrainConfig, flat: np.ndarray, run: Path, resume: bool = False) -> TinyAutoencoder:
    torch.manual_seed(cfg.seed)
    ae = TinyAutoencoder()
    opt = torch.optim.AdamW(ae.parameters(), lr=1e-3)
    rng = np.random.default_rng([cfg.seed, 1])
    _autoencoder_loop("autoencoder", cfg, run, resume, ae, opt, rng, flat, cfg.ae_steps, 1e-3,
                      ae.reconstruction_loss)
    ae.eval()
    # Statistics that normalize latents, and the least-squares latent→RGB preview map.
    with torch.no_grad():
        px = _pixels(flat, rng.choice(len(flat), min(2048, len(flat)), replace=False))
        z = ae.encoder(px)                                             # (n, C, 16, 16)
        mean, std = z.mean((0, 2, 3)), z.std((0, 2, 3)) + 1e-6
        zn = ((z - mean[:, None, None]) / std[:, None, None]).permute(0, 2, 3, 1).reshape(-1, 4)
        small = torch.nn.functional.avg_pool2d(px, 4).permute(0, 2, 3, 1).reshape(-1, 3)
        design = torch.cat([zn, torch.ones(len(zn), 1)], 1)
        proj = torch.linalg.lstsq(design, small).solution.T            # (3, C+1)
    ae.register_to_config(latent_mean=mean.tolist(), latent_std=std.tolist(),
                          latent_rgb=proj.tolist())
    return ae


def sharpen_decoder(ae: TinyAutoencoder, cfg: TrainConfig, flat: np.ndarray, run: Path,
                    resume: bool = False) -> None:
    """Fine-tune the decoder alone. The encoder (and so the latent space, its statistics and
    the preview map) stays as it is, so a denoiser trained on it needs no retraining."""
    torch.manual_seed(cfg.seed)
    ae.train()
    ae.encoder.requires_grad_(False)
    opt = torch.optim.AdamW(ae.decoder.parameters(), lr=cfg.decoder_lr, weight_decay=0.0)
    rng = np.random.default_rng([cfg.seed, 3])
    try:
        _autoencoder_loop("decoder", cfg, run, resume, ae, opt, rng, flat, cfg.decoder_steps,
                          cfg.decoder_lr, lambda px: ae.decoder_loss(px, edge_weight=cfg.edge_weight))
    finally:
        ae.encoder.requires_grad_(True)
        ae.eval()


@torch.no_grad()
def encode_pool(ae: TinyAutoencoder, frames: np.ndarray, run: Path, device: str = "cpu") -> np.ndarray:
    path = run / "checkpoint" / "latents.npy"
    if path.exists():
        return np.load(path)
    out = np.empty((len(frames), frames.shape[1], 4, 16, 16), np.float16)
    ae.to(device)
    for i in tqdm(range(0, len(frames), 32), desc="encode latents"):
        clip = frames[i:i + 32]
        px = torch.from_numpy(clip.reshape(-1, *clip.shape[2:])).to(device).permute(0, 3, 1, 2).float() / 127.5 - 1
        out[i:i + 32] = ae.encode(px).reshape(len(clip), clip.shape[1], 4, 16, 16).cpu().numpy()
    ae.to("cpu")
    np.save(str(path) + ".tmp.npy", out)
    os.replace(str(path) + ".tmp.npy", path)
    return out


def make_batch(cfg, step, latents, cameras, captions, tokenizer, objects=None, camera_always=None):
    """A deterministic batch for `step` (so a resumed run sees the same data), its target v
    and the loss weight per latent pixel (B, T, 1, h, w).

    The weight is 0 on given frames (nothing to learn there) and, with `cfg.object_weight`,
    1 + object_weight where the objects are (`objects`: the pool's coverage masks, grown by a
    latent pixel so their outline counts too). Objects cover about 3 % of a frame, so an
    unweighted loss is almost all sky and ground; shape and motion live in that 3 %.
    `camera_always`: clips (a teacher pool's, tiny/distill.py) whose camera is never dropped —
    their motion is the camera input's to learn, not the "no camera" branch's."""
    rng = np.random.default_rng([cfg.seed, 2, step])
    gen = torch.Generator().manual_seed(cfg.seed * 1_000_003 + step)
    idx = np.sort(rng.choice(len(latents), cfg.batch, replace=False))
    x0 = torch.from_numpy(latents[idx].astype(np.float32))                   # (B, T, C, h, w)
    texts = ["" if rng.random() < cfg.text_dropout else captions[i] for i in idx]
    ids, mask = tokenizer(texts)
    cam = camera_features(torch.from_numpy(cameras[idx]))                    # (B, T, 4)
    cam_known = torch.from_numpy(rng.random(cfg.batch) >= cfg.camera_dropout)
    if camera_always is not None:
        cam_known |= torch.from_numpy(camera_always[idx])
    b, t = x0.shape[:2]
    known_mask = torch.zeros(b, t, dtype=torch.bool)
    for row in range(b):
        if rng.random() < cfg.known_probability:
            known_mask[row, : int(rng.choice([1, 2, 4, 8]))] = True
    # Rectified flow with logit-normal noise levels (SD3): x_t = (1-σ) x0 + σ ε, v = ε - x0,
    # shifted toward high noise by `sigma_shift` (SD3's timestep shift: s σ / (1 + (s − 1) σ))
    sigma = torch.sigmoid(torch.randn(b, generator=gen))
    sigma = cfg.sigma_shift * sigma / (1 + (cfg.sigma_shift - 1) * sigma)
    noise = torch.randn(x0.shape, generator=gen)
    s = sigma[:, None, None, None, None]
    xt = (1 - s) * x0 + s * noise
    known = x0 * known_mask[:, :, None, None, None]
    weight = (~known_mask).float()[:, :, None, None, None].expand(b, t, 1, *x0.shape[-2:])
    if cfg.object_weight and objects is not None:
        weight = weight * (1 + cfg.object_weight * object_cover(objects[idx]))
    batch = dict(latents=xt, timestep=sigma * 1000, ids=ids, mask=mask, camera=cam,
                 camera_known=cam_known, known=known, known_mask=known_mask)
    if cfg.rigid_weight:
        # frame 0 and a few later frames, the same for the whole batch (drawn last, so the
        # batch itself is the one a run without the rigid loss draws)
        later = rng.choice(np.arange(1, t), min(cfg.rigid_frames, t - 1), replace=False)
        frames = np.concatenate([[0], np.sort(later)])
        batch["rigid_frames"] = torch.from_numpy(frames)
        batch["rigid_clips"], batch["rigid_grid"], batch["rigid_weight"] = rigid_targets(
            cameras[idx][:, frames], cam_known, known_mask[:, frames],
            None if objects is None else objects[idx][:, frames], *x0.shape[-2:])
    return batch, noise - x0, weight


def rigid_targets(cameras: np.ndarray, camera_known: torch.Tensor, known_mask: torch.Tensor,
                  objects: np.ndarray | None, h: int, w: int, factor: int = 4):
    """For the rigid loss, on the decoded pixel grid (`factor` × the latent h × w): which clips
    it counts — those whose camera moves, is given to the model and has a frame after the
    first that is not given — as indices (N,) into the batch, and for those clips alone
    (nothing is built, sent to the GPU or decoded for the others): where frame 0's content
    sits in each frame (cameras (B, T, 4) relative to frame 0 -> `grid_sample` grids (N, T, H,
    W, 2)) and which pixels count (N, T, 1, H, W): frames after the first, not given, inside
    what frame 0 saw, and away from the objects, which move on their own (`objects`: the
    pool's latent coverage masks (B, T, h, w) uint8, grown by a latent pixel).

    In pixels, not latents: the autoencoder's latents of a moved picture are far from frame
    0's latents moved (a gap of 0.10 of their variance on a pool's moving clips) and the
    model's estimates sit at that floor, so a latent loss would only pull toward the bilinear
    blur; decoded, the truth's gap is 0.0015 and the estimates' up to three times that
    (README, Training)."""
    t = cameras.shape[1]
    hp, wp = h * factor, w * factor
    moving = torch.from_numpy(np.abs(cameras - cameras[:, :1]).max((1, 2)) > 1e-6)
    clips = torch.nonzero(moving & camera_known & (~known_mask[:, 1:]).any(1)).flatten()
    picked = clips.numpy()
    maps = np.stack([frame_transform(c, wp, hp) for c in cameras[picked]]) if len(picked) \
        else np.zeros((0, t, 2, 3))                                           # (N, T, 2, 3) frame 0 -> t
    grid, inside = carry_grid(maps, hp, wp)
    count = inside * (~known_mask[clips]).float()[:, :, None, None, None]
    count[:, 0] = 0.0                                                         # frame 0 is the anchor
    if objects is not None:
        cover = F.interpolate(object_cover(objects[picked]).flatten(0, 1), scale_factor=factor, mode="nearest")
        cover = cover.view(len(picked), t, 1, hp, wp)
        count = count * (1 - cover) * (1 - carry_first(cover, grid)).clamp(0, 1)
    return clips, grid, count


def rigid_gap(frames: torch.Tensor, grid: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Weighted mean squared gap between each frame of `frames` (B, T, C, H, W) and frame 0
    carried there along `grid` (`rigid_targets`). The caller decides whether frame 0 is a
    fixed target (detached)."""
    c = frames.shape[2]
    return ((frames - carry_first(frames, grid)) ** 2 * weight).sum() / (weight.sum() * c).clamp_min(1e-6)


def carry_first(frames: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """Each clip's frame 0 of `frames` (B, T, C, H, W) carried to every frame along `grid`
    (B, T, H, W, 2), bilinear, zero outside what frame 0 saw."""
    b, t = frames.shape[:2]
    carried = F.grid_sample(frames[:, :1].expand(-1, t, -1, -1, -1).flatten(0, 1), grid.flatten(0, 1),
                            mode="bilinear", padding_mode="zeros", align_corners=True)
    return carried.view(frames.shape)


def object_cover(objects: np.ndarray) -> torch.Tensor:
    """The pool's object coverage masks (B, T, h, w) uint8 -> (B, T, 1, h, w) in [0, 1], grown
    by a latent pixel so the objects' outlines count too."""
    b, t, h, w = objects.shape
    cover = torch.from_numpy(objects.astype(np.float32) / 255).reshape(b * t, 1, h, w)
    return F.max_pool2d(cover, 3, stride=1, padding=1).view(b, t, 1, h, w)


def _rigid_loss(batch: dict, pred: torch.Tensor, decoder) -> torch.Tensor:
    """The clean clip the model sees, x̂0 = x_t − σ v̂ (given frames as given), at the batch's
    rigid frames, decoded by the frozen decoder; frame 0 is the fixed target the later frames
    are held to."""
    # only the clips the loss counts (`rigid_targets`; none at all gives a zero loss), picked
    # by index so the GPU need not wait for a mask to be read back, at the rigid frames
    frames = batch["rigid_frames"]
    pick = lambda a: a.index_select(0, batch["rigid_clips"])  # noqa: E731
    sigma = pick(batch["timestep"])[:, None, None, None, None] / 1000
    x0_hat = pick(batch["latents"])[:, frames] - sigma * pick(pred)[:, frames]
    x0_hat = torch.where(pick(batch["known_mask"])[:, frames, None, None, None],
                         pick(batch["known"])[:, frames], x0_hat)
    b, t = x0_hat.shape[:2]
    pixels = decoder(x0_hat.flatten(0, 1))
    pixels = pixels.view(b, t, *pixels.shape[1:])
    pixels = torch.cat([pixels[:, :1].detach(), pixels[:, 1:]], 1)
    return rigid_gap(pixels, batch["rigid_grid"], batch["rigid_weight"])


_STATE = {"step": 0, "lr": None}   # the last finished step (for the Ctrl-C handler) and its rate


def _denoiser_loop(cfg, step, started, params, ema, opt, text, dit, latents, cameras, captions,
                   tokenizer, losses, save_checkpoint, objects=None, decoder=None, camera_always=None):
    """The training loop proper: one screen, like nanoGPT's. `decoder`: the frozen
    autoencoder's `decode`, for the rigid loss."""
    _STATE.update(step=step, lr=None)
    last_save = begun = time.time()
    deadline = started + cfg.max_minutes * 60
    draw = lambda s: make_batch(cfg, s, latents, cameras, captions, tokenizer, objects, camera_always)  # noqa: E731
    # On a GPU the next batch is drawn (on the CPU) while this step runs; batches depend only
    # on the step number, so the data are the same either way.
    ahead = ThreadPoolExecutor(1) if cfg.device != "cpu" else None
    upcoming = ahead.submit(draw, step) if ahead else None
    live = [p.detach() for p in params]      # views of the weights the optimizer updates in place
    bar = tqdm(total=cfg.steps, initial=step, desc="denoiser")
    try:
        while step < cfg.steps:
            if cfg.max_minutes and time.time() > deadline:
                print(f"time limit reached at step {step}")
                break
            # cosine decay over the steps, or over the time left where a time limit comes first,
            # so a run cut short by `max_minutes` still ends at a low learning rate
            done = step / cfg.steps
            if cfg.max_minutes:
                done = max(done, (time.time() - begun) / max(deadline - begun, 1e-9))
            lr = cfg.lr * min(1.0, (step + 1) / cfg.warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(done, 1.0))))
            for g in opt.param_groups:
                g["lr"] = lr
            _STATE["lr"] = lr
            batch, target, weight = upcoming.result() if ahead else draw(step)
            if ahead and step + 1 < cfg.steps:
                upcoming = ahead.submit(draw, step + 1)
            batch = {k: v.to(cfg.device, non_blocking=True) for k, v in batch.items()}
            target, weight = target.to(cfg.device), weight.to(cfg.device)
            feats = text(batch["ids"], batch["mask"])
            pred = dit(batch["latents"], batch["timestep"], feats, batch["mask"], batch["camera"],
                       batch["camera_known"], batch["known"], batch["known_mask"])
            loss = ((pred - target) ** 2 * weight).sum() / (weight.sum() * target.shape[2])
            if cfg.rigid_weight:
                loss = loss + cfg.rigid_weight * _rigid_loss(batch, pred, decoder)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            with _whole_step():
                opt.step()
                decay = min(cfg.ema, (1 + step) / (10 + step))
                with torch.no_grad():
                    torch._foreach_lerp_(ema, live, 1 - decay)
                step += 1
                _STATE["step"] = step
            losses.append(loss.detach())         # read every few steps: a read waits for the GPU
            bar.update(1)
            if step % 20 == 0 or step == cfg.steps:
                bar.set_postfix(loss=f"{torch.stack(losses[-50:]).mean().item():.4f}", lr=f"{lr:.1e}")
            if time.time() - last_save > cfg.checkpoint_minutes * 60:
                save_checkpoint(step)
                last_save = time.time()
    finally:
        bar.close()
        if ahead:
            ahead.shutdown(cancel_futures=True)
    return step


@contextlib.contextmanager
def _whole_step():
    """A Ctrl-C during the weight update (the optimizer's step, the EMA, the step count)
    waits for its end, so the checkpoint saved at the interrupt holds the weights, Adam's
    moments and the step count of one same step: saved halfway through the update, part of
    the weights had taken the step and `--resume` applied it to them a second time. (Only
    in the main thread, where Python takes Ctrl-C; elsewhere as it was.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []
    previous = signal.signal(signal.SIGINT, lambda *_: caught.append(True))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


def _frozen_decoder(ae: TinyAutoencoder, device: str):
    """The autoencoder's decode on `device`, its weights frozen (gradients reach x̂0 only)."""
    ae.to(device).eval().requires_grad_(False)
    return ae.decode


def _init_denoiser(cfg: TrainConfig, text, dit, tokenizer) -> None:
    """Start from a trained pipeline folder; layers it lacks keep their (zero) init."""
    from .pipeline import TinyVideoPipeline

    source = _source(cfg.init_from)
    if not (source / "model_index.json").is_file():
        raise FileNotFoundError(f"init_from={cfg.init_from!r}: no pipeline (model_index.json) in {source}")
    old = TinyVideoPipeline.load(source)
    if old.tokenizer.vocab != tokenizer.vocab:
        raise ValueError(f"init_from={cfg.init_from!r}: its tokenizer differs from the toy world's "
                         "vocabulary; train from scratch instead")
    text.load_state_dict(old.text_encoder.state_dict())
    missing, unexpected = dit.load_state_dict(old.transformer.state_dict(), strict=False)
    if unexpected or any(not k.startswith("world_embed.") for k in missing):
        raise ValueError(f"init_from={cfg.init_from!r}: its denoiser does not match this preset "
                         f"(missing {missing}, unexpected {unexpected})")
    print(f"denoiser: continuing from {source}" + (" (+ new world-point camera embedding)" if missing else ""))


# What a resumed run may change: where and how fast it runs, and how long (to more steps).
# Every other setting makes the run what it is (its model, pool, losses): resuming with
# another dim crashed on the checkpoint's shapes, another pool_size trained on the old
# pool's cached latents.
RESUME_MAY_CHANGE = ("device", "threads", "max_minutes", "checkpoint_minutes", "steps")


RUN_RECORD = "run.json"   # a run's settings, written before any work (`record_run`)


def record_run(cfg: TrainConfig, run: Path) -> None:
    """Write the run's settings to `run`/run.json, atomically, before any work: a run stopped
    before its first checkpoint (Ctrl-C or kill while the pool renders or the autoencoder's
    first minutes run) still says what it was, so `--resume` starts it over as it was."""
    run.mkdir(parents=True, exist_ok=True)
    tmp = run / (RUN_RECORD + ".tmp")
    tmp.write_text(json.dumps({"config": asdict(cfg)}, indent=1))
    os.replace(tmp, run / RUN_RECORD)


def _checkpoints(run: Path) -> list[str]:
    """The checkpoints a run folder holds (a stopped stage's, the finished autoencoder, the
    denoiser's), as paths relative to `run`."""
    ckpt = run / "checkpoint"
    return [f"checkpoint/{stage}" for stage, file in (("autoencoder.partial", "meta.json"),
                                                      ("decoder.partial", "meta.json"),
                                                      ("vae", "config.json"), ("denoiser", "meta.json"))
            if (ckpt / stage / file).is_file()]


def saved_config(run: Path) -> dict | None:
    """The settings a run folder's checkpoint was saved with (the denoiser's, else a stopped
    autoencoder or decoder stage's), else those its run.json recorded as it started (a run
    stopped before its first checkpoint), or None where nothing records them."""
    for stage in ("denoiser", "decoder.partial", "autoencoder.partial"):
        meta = run / "checkpoint" / stage / "meta.json"
        if meta.is_file():
            return _run_json(meta).get("config")
    record = run / RUN_RECORD
    if record.is_file():
        return _run_json(record).get("config")
    return None


def _run_json(path: Path) -> dict:
    """A JSON record a run wrote (run.json, a checkpoint's meta.json), or InvalidInput naming
    the file when it is not one (edited by hand, or not a run's folder at all)."""
    from ..errors import InvalidInput

    try:
        data = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput("run record", str(path), f"must be the JSON a training run wrote ({exc})",
                           "Restore or delete it, or train into another --out folder.") from None
    if not isinstance(data, dict):
        raise InvalidInput("run record", str(path), "must be a JSON object with the run's 'config'")
    return data


def resumed_config(saved: dict, **given) -> TrainConfig:
    """The config of a resumed run: its saved settings (those this version knows), then `given`."""
    known = {f.name for f in fields(TrainConfig)}
    return TrainConfig(**{**{k: v for k, v in saved.items() if k in known}, **given})


def check_resume(cfg: TrainConfig, run: Path, cli: bool = False) -> None:
    """Resuming continues the run in `run`: refuse a folder with nothing to continue (it
    silently started afresh) and settings other than the run's own (RESUME_MAY_CHANGE apart)."""
    from ..errors import InvalidInput

    saved = saved_config(run)
    if saved is None and not _checkpoints(run):
        raise InvalidInput("--out" if cli else "run", str(run), "holds no run to resume (no run.json, "
                           "no checkpoint)", "Drop --resume to start a fresh run there." if cli else
                           "Leave resume off to start a fresh run there.")
    differ = _differences(cfg, saved or {})
    if differ:
        (field, value, was), rest = differ[0], differ[1:]
        also = " (and " + "; ".join(f"{k}={w!r} not {v!r}" for k, v, w in rest) + ")" if rest else ""
        raise InvalidInput(field, value, f"resuming continues the run in {run} as it was saved, with "
                           f"{field}={was!r}{also}",
                           "Drop --preset and the settings that differ (the run's own are used), or "
                           "train into another --out folder." if cli else
                           "Pass the run's own settings (run.json, checkpoint/*/meta.json), or train "
                           "into another folder.")


def _differences(cfg: TrainConfig, saved: dict) -> list[tuple[str, object, object]]:
    """(setting, cfg's value, saved value) for each setting that makes `cfg` another run than
    the saved one's (RESUME_MAY_CHANGE apart; settings an older version did not save, too)."""
    def same(key, a, b) -> bool:               # a folder (weights, teacher clips), however its path is written
        return a == b or (key in ("init_from", "vae_from", "teacher_pool") and bool(a) and bool(b)
                          and Path(a).resolve() == Path(b).resolve())

    return [(k, v, saved[k]) for k, v in asdict(cfg).items()
            if k in saved and k not in RESUME_MAY_CHANGE and not same(k, v, saved[k])]


def _run_work(run: Path) -> list[str]:
    """What of a run a fresh run in `run` would reuse or overwrite: its checkpoints, the
    pool's latents (keyed by nothing: `encode_pool` reads them back as they are) and its
    exported pipeline. The cached pool is not among them: its file is named by its seed, size
    and recipe (`data.PoolRecipe.stem`), so another run finds its own pool or renders it."""
    work = _checkpoints(run)
    if (run / "checkpoint" / "latents.npy").is_file():
        work.append("checkpoint/latents.npy")
    if (run / "pipeline" / "model_index.json").is_file():
        work.append("pipeline")
    return work


def check_fresh(cfg: TrainConfig, run: Path, cli: bool = False) -> None:
    """A run without `resume` starts afresh, but in a folder that holds a run it reuses that
    run's finished autoencoder and latents (and overwrites its checkpoints and pipeline):
    right for the same run started over (the same settings, RESUME_MAY_CHANGE apart: every
    stage is seeded, so they are what it would compute again), a mix of two runs otherwise.
    Refuse that folder, by name, unless it holds no run's work (a new folder, or one where
    only a pool was cached or a run stopped before any checkpoint) or this same run's."""
    from ..errors import InvalidInput

    work = _run_work(run)
    if not work:
        return
    saved = resumable = saved_config(run)
    if saved is None and (run / "pipeline" / "training.json").is_file():   # a pipeline alone
        saved = _run_json(run / "pipeline" / "training.json").get("config")
    if saved is not None and not _differences(cfg, saved):
        return
    field = "--out" if cli else "run"
    if saved is None:                      # an older version's run, stopped after its autoencoder
        held = "a run whose settings it does not record"
    else:
        held = "another run (" + "; ".join(f"{k}={w!r} there, not {v!r}"
                                           for k, v, w in _differences(cfg, saved)) + ")"
    raise InvalidInput(field, str(run), f"must be a new folder or one holding this same run; it holds "
                       f"{held}: its {', '.join(work)}, which a fresh run there would reuse or overwrite",
                       ("Add --resume to continue that run with its own settings, or " if resumable else "")
                       + ("train into another --out folder" if cli else "train into another folder")
                       + " (or delete this one to start over).")


def check_run(cfg: TrainConfig, run: Path, resume: bool = False, cli: bool = False) -> None:
    """Refuse, before any work (no pool rendered, no folder made), what would fail minutes
    later: a device this machine lacks (a GPU preset on a machine without one), an init_from
    or vae_from folder without the weights it should hold, with `resume` a run it cannot
    continue (`check_resume`) and without it a folder holding another run (`check_fresh`).
    `cli`: name the command line's flags (--init-from, --out), as `main` reports them."""
    from ..engines.registry import check_device
    from ..errors import InvalidInput

    def name(field: str) -> str:
        return "--" + field.replace("_", "-") if cli else field

    check_device(cfg.device)
    if run.exists() and not run.is_dir():
        raise InvalidInput("--out" if cli else "run", str(run), "must be a folder (for the run's "
                           "checkpoints and pipeline); a file has that name")
    if cfg.init_from and not (_source(cfg.init_from) / "model_index.json").is_file():
        raise InvalidInput(name("init_from"), cfg.init_from,
                           "must be 'shipped' or a trained pipeline/ folder (one with model_index.json)")
    # a run whose autoencoder stage is done reads its own (train_autoencoder), not vae_from's
    if cfg.vae_from and not (run / "checkpoint" / "vae" / "config.json").is_file():
        source = _source(cfg.vae_from) / "vae" if cfg.vae_from == "shipped" else Path(cfg.vae_from)
        if not (source / "config.json").is_file():
            raise InvalidInput(name("vae_from"), cfg.vae_from,
                               "must be 'shipped' or an autoencoder's vae/ folder (one with config.json)")
    if cfg.teacher_pool:
        from .distill import teacher_chunks

        if not teacher_chunks(Path(cfg.teacher_pool)):
            raise InvalidInput(name("teacher_pool"), cfg.teacher_pool, "must be a folder of teacher clips "
                               "(teacher_*.npz)", "Make one with python -m runway_nb.tiny.distill --out FOLDER.")
    if resume:
        check_resume(cfg, run, cli)
    else:
        check_fresh(cfg, run, cli)


def _finished(run: Path, steps: int) -> bool:
    """Whether the run in `run` has trained `steps` steps and exported its pipeline."""
    meta = run / "checkpoint" / "denoiser" / "meta.json"
    return (run / "pipeline" / "model_index.json").is_file() and meta.is_file() and \
        _run_json(meta).get("step", -1) >= steps


def _set_aside(run: Path) -> Path | None:
    """A run started over in its folder moves the earlier start's denoiser checkpoint and
    pipeline to previous/N/ rather than overwrite them: hours of training are not lost to a
    command that forgot --resume (or gave another --steps). None when there were none."""
    earlier = [p for p in (run / "checkpoint" / "denoiser", run / "pipeline") if p.exists()]
    if not earlier:
        return None
    n = 1
    while (run / "previous" / str(n)).exists():
        n += 1
    aside = run / "previous" / str(n)
    aside.mkdir(parents=True)
    for p in earlier:
        os.replace(p, aside / p.name)
    return aside


def train(cfg: TrainConfig, run: Path, resume: bool = False) -> Path:
    check_run(cfg, run, resume)
    torch.set_num_threads(cfg.threads)
    if resume and not _checkpoints(run):          # run.json alone: stopped before its first
        print(f"{run} has no checkpoint yet (the run stopped before its first): starting its "
              "work over with its own settings (run.json)")
    elif resume and _finished(run, cfg.steps):   # nothing to do: its record is left as it is
        print(f"{run} finished its {cfg.steps} steps already: its pipeline is {run / 'pipeline'} "
              "(resume with a larger --steps to train it on)")
        return run / "pipeline"
    elif not resume and _run_work(run):           # check_fresh let it: this same run, started over
        kept = [w for w in _run_work(run) if w in ("checkpoint/vae", "checkpoint/latents.npy")]
        aside = _set_aside(run)
        print(f"{run} holds this same run: starting it over" + (f", reusing its {' and '.join(kept)} "
              "(the same settings compute the same)" if kept else "") + "; --resume continues it instead"
              + (f"; its earlier denoiser checkpoint and pipeline are kept in {aside}" if aside else ""))
    record_run(cfg, run)
    started = time.time()
    bar = tqdm(total=cfg.pool_size, desc="render toy world")
    frames, cameras, captions, _ = data.render_pool(cfg.pool_size, cfg.seed, run / "cache",
                                                    workers=max(2, cfg.threads), progress=bar.update,
                                                    recipe=cfg.pool_recipe)
    bar.close()
    ae = train_autoencoder(cfg, frames, run, resume)
    latents = encode_pool(ae, frames, run, cfg.device) if cfg.steps else None   # a decoder-only stage needs none
    del frames
    objects = None
    if (cfg.object_weight or cfg.rigid_weight) and cfg.steps:
        bar = tqdm(total=cfg.pool_size, desc="object masks")
        objects = data.render_object_masks(cfg.pool_size, cfg.seed, run / "cache",
                                           workers=max(2, cfg.threads), progress=bar.update,
                                           recipe=cfg.pool_recipe)
        bar.close()
    camera_always = None
    if cfg.teacher_pool and cfg.steps:
        from .distill import load_teacher_pool

        t_latents, t_cameras, t_captions = load_teacher_pool(Path(cfg.teacher_pool))
        print(f"teacher pool: {len(t_latents)} clips from {cfg.teacher_pool}")
        camera_always = np.r_[np.zeros(len(latents), bool), np.ones(len(t_latents), bool)]
        latents = np.concatenate([latents, t_latents.astype(latents.dtype)])
        cameras = np.concatenate([cameras, t_cameras.astype(cameras.dtype)])
        captions = list(captions) + list(t_captions)
        if objects is not None:          # no masks for a model's own clips: weight 1 everywhere
            objects = np.concatenate([objects, np.zeros((len(t_latents), *objects.shape[1:]), objects.dtype)])

    tokenizer = WordTokenizer.from_captions(data.caption_vocabulary())
    torch.manual_seed(cfg.seed)
    text = TinyTextEncoder(vocab_size=len(tokenizer), max_length=tokenizer.max_length, dim=cfg.dim)
    dit = TinyVideoDiT(dim=cfg.dim, depth=cfg.depth, text_dim=cfg.dim, heads=max(2, cfg.dim // 32),
                       camera_world=cfg.camera_world, camera_aligned=cfg.camera_aligned)
    if cfg.init_from:
        _init_denoiser(cfg, text, dit, tokenizer)
    text.to(cfg.device)
    dit.to(cfg.device)
    params = list(text.parameters()) + list(dit.parameters())
    ema = [p.detach().clone() for p in params]
    # one fused kernel per step on a GPU (the per-tensor loop is ~100 small launches)
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.01, fused=cfg.device.startswith("cuda") or None)
    step = 0
    ckpt = run / "checkpoint" / "denoiser"
    if resume and (ckpt / "meta.json").exists():
        tensors = load_file(ckpt / "state.safetensors")
        for i, p in enumerate(params):
            p.data.copy_(tensors[f"param.{i}"])
            ema[i].copy_(tensors[f"ema.{i}"])
        _load_optimizer(opt, tensors)
        step = json.loads((ckpt / "meta.json").read_text())["step"]
        print(f"resumed at step {step}")

    def save_checkpoint(step):
        tensors = {f"param.{i}": p.detach() for i, p in enumerate(params)}
        tensors.update({f"ema.{i}": e for i, e in enumerate(ema)})
        tensors.update(_optimizer_tensors(opt))
        _atomic_save(tensors, {"step": step, "config": asdict(cfg)}, ckpt)

    losses: list[torch.Tensor] = []
    # TF32 matrix units on a GPU (≈3e-4 relative error), for this loop only: a notebook that
    # trains keeps its own settings afterwards
    tf32 = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    if cfg.device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    try:
        step = _denoiser_loop(cfg, step, started, params, ema, opt, text, dit, latents, cameras,
                              captions, tokenizer, losses, save_checkpoint, objects,
                              decoder=_frozen_decoder(ae, cfg.device) if cfg.rigid_weight else None,
                              camera_always=camera_always)
    except KeyboardInterrupt:
        # Ctrl-C (or the notebook's stop button): keep what was learned, then stop.
        step = _STATE["step"]
        save_checkpoint(step)
        print(f"stopped at step {step}; continue with --resume")
        raise
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = tf32
    save_checkpoint(step)

    # Export the EMA weights as the diffusers-style pipeline folder.
    for e, p in zip(ema, params):
        p.data.copy_(e)
    text.to("cpu")
    dit.to("cpu")
    ae.to("cpu")                           # the rigid loss may have taken it to the GPU
    from .pipeline import TinyVideoPipeline

    pipe = TinyVideoPipeline.from_components(ae, text, dit, tokenizer)
    out = run / "pipeline"
    pipe.save(out, training={"steps": step, "minutes": round((time.time() - started) / 60, 1),
                             "final_lr": _STATE.get("lr"), "device": str(cfg.device),
                             "config": asdict(cfg), "final_loss": float(torch.stack(losses[-200:]).mean())
                             if losses else None})
    print(f"wrote {out}")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", choices=sorted(PRESETS),
                    help="the run's settings (default: default; with --resume, the run's saved ones)")
    ap.add_argument("--out", type=Path, required=True, help="run folder (checkpoints, cache, pipeline/)")
    ap.add_argument("--resume", action="store_true",
                    help="continue the run folder's checkpoint with the settings the run was saved with "
                         "(--device, --threads, --max-minutes and --steps may change)")
    ap.add_argument("--steps", type=int, help="override the preset's denoiser steps")
    ap.add_argument("--ae-steps", type=int, help="override the preset's autoencoder steps")
    ap.add_argument("--max-minutes", type=float, help="stop and export after this many minutes")
    ap.add_argument("--threads", type=int, help="torch threads (default: the preset's)")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--device", help='"cpu" or "cuda" (default: the preset\'s)')
    ap.add_argument("--batch", type=int, help="override the preset's denoiser batch")
    ap.add_argument("--lr", type=float, help="override the preset's denoiser learning rate")
    ap.add_argument("--pool-size", type=int, help="override the preset's number of rendered training clips")
    ap.add_argument("--rigid-weight", type=float, help="override the preset's rigid loss weight (0: off)")
    ap.add_argument("--starry-share", type=float, help="share of the pool under starry skies (default 0.25: "
                    "every sky equally likely)")
    ap.add_argument("--teacher-pool", help="a folder of teacher clips to add to the pool (python -m "
                    "runway_nb.tiny.distill), their camera always given")
    ap.add_argument("--vae-from", help='reuse an autoencoder instead of training one: "shipped" or a vae/ folder')
    ap.add_argument("--init-from", help='continue a trained denoiser: "shipped" or a pipeline/ folder')
    args = ap.parse_args(argv)
    from ..errors import InvalidInput

    given = {k: v for k, v in {
        "steps": args.steps, "ae_steps": args.ae_steps, "max_minutes": args.max_minutes,
        "threads": args.threads, "seed": args.seed, "vae_from": args.vae_from,
        "init_from": args.init_from, "device": args.device, "batch": args.batch,
        "lr": args.lr, "pool_size": args.pool_size, "rigid_weight": args.rigid_weight,
        "starry_share": args.starry_share, "teacher_pool": args.teacher_pool}.items() if v is not None}
    try:
        saved = saved_config(args.out) if args.resume else None
        if saved is None:
            cfg = TrainConfig(**{**asdict(PRESETS[args.preset or "default"]), **given})
        else:
            # --resume continues the run in --out: a --preset given must agree with it, and what
            # no flag sets is the run's own (its dim, pool, …), not the default preset's
            if args.preset:
                check_resume(TrainConfig(**{**asdict(PRESETS[args.preset]), **given}), args.out, cli=True)
            cfg = resumed_config(saved, **given)
        check_run(cfg, args.out, args.resume, cli=True)    # a missing GPU, --init-from folder, checkpoint
    except InvalidInput as exc:
        flag_error(ap, exc)                  # usage + the message, exit status 2
    try:
        train(cfg, args.out, resume=args.resume)
    except KeyboardInterrupt:               # the checkpoint is saved and "stopped at step N" said
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
