"""A small learned super-resolution stage for toy-world clips (×2 and ×4), and its training.

    python -m runway_nb.tiny.upscaler --factor 2 --out runway_nb/tiny/upscalers/x2

The network predicts the difference between the sharp frame and a bicubic
upsampling (residual learning, as in VDSR), with a sub-pixel convolution output
(ESPCN, Shi et al. 2016). The toy world renders the same scene at any resolution,
so training pairs are exact: the low-resolution input is the scene rendered at
64×64 (plus mild blur and noise, as the autoencoder's decodes are a little soft),
the target the same scene rendered at 128 or 256.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch import nn
from tqdm.auto import tqdm

from . import toyworld
from ..options import flag_error


class TinyUpscaler(ModelMixin, ConfigMixin):
    @register_to_config
    def __init__(self, factor: int = 2, width: int = 48, layers: int = 5):
        super().__init__()
        body = [nn.Conv2d(3, width, 5, padding=2), nn.SiLU()]
        for _ in range(layers - 2):
            body += [nn.Conv2d(width, width, 3, padding=1), nn.SiLU()]
        body += [nn.Conv2d(width, 3 * factor * factor, 3, padding=1), nn.PixelShuffle(factor)]
        self.body = nn.Sequential(*body)
        nn.init.zeros_(self.body[-2].weight)   # starts as plain bicubic
        nn.init.zeros_(self.body[-2].bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, h, w) in [0, 1] -> (N, 3, h·f, w·f) in [0, 1]."""
        base = F.interpolate(x, scale_factor=self.config.factor, mode="bicubic", align_corners=False)
        return (base + self.body(x)).clamp(0, 1)

    @torch.no_grad()
    def upscale_frames(self, frames: np.ndarray, batch: int = 16) -> np.ndarray:
        """(T, H, W, 3) uint8 -> (T, H·f, W·f, 3) uint8."""
        out = []
        for i in range(0, len(frames), batch):
            x = torch.from_numpy(np.array(frames[i:i + batch])).permute(0, 3, 1, 2).float() / 255
            y = self(x)
            out.append((y * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy())
        return np.concatenate(out)


def training_pair(rng: np.random.Generator, factor: int, size: int = 64):
    """One exact (low, high) pair: the same toy-world frame at two resolutions."""
    scene = toyworld.sample_scene(rng, "train")
    t0 = float(rng.uniform(0, 2))
    lo = toyworld.render(scene, 1, 8, size, size, t0=t0)[0]
    hi = toyworld.render(scene, 1, 8, size * factor, size * factor, t0=t0)[0]
    return lo, hi


def degrade(lo: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Soften inputs like the autoencoder's decodes do: a light blur and noise."""
    k = torch.tensor([0.25, 0.5, 0.25])
    kernel = (k[:, None] * k[None, :]).expand(3, 1, 3, 3)
    blurred = F.conv2d(F.pad(lo, (1, 1, 1, 1), mode="replicate"), kernel, groups=3)
    amount = torch.rand(lo.shape[0], 1, 1, 1, generator=gen)
    noisy = lo * (1 - amount) + blurred * amount
    return (noisy + 0.01 * torch.randn(lo.shape, generator=gen)).clamp(0, 1)


def train(factor: int, out: Path, steps: int = 3000, batch: int = 16, pool: int = 800, seed: int = 0,
          threads: int = 1) -> Path:
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    rng = np.random.default_rng([seed, factor])
    gen = torch.Generator().manual_seed(seed)
    pairs = [training_pair(rng, factor) for _ in tqdm(range(pool), desc="render pairs")]
    lo = torch.from_numpy(np.stack([p[0] for p in pairs])).permute(0, 3, 1, 2).float() / 255
    hi = torch.from_numpy(np.stack([p[1] for p in pairs])).permute(0, 3, 1, 2).float() / 255
    model = TinyUpscaler(factor)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    started = time.time()
    for step in (bar := tqdm(range(steps), desc=f"upscaler x{factor}")):
        idx = torch.randint(0, len(lo), (batch,), generator=gen)
        # random 32×32 crops (and the matching high-resolution crops) keep steps cheap
        y, x = (int(v) for v in torch.randint(0, 64 - 32 + 1, (2,), generator=gen))
        inp = degrade(lo[idx, :, y:y + 32, x:x + 32], gen)
        tgt = hi[idx, :, y * factor:(y + 32) * factor, x * factor:(x + 32) * factor]
        for g in opt.param_groups:
            g["lr"] = 2e-3 * 0.5 * (1 + np.cos(np.pi * step / steps))
        loss = F.l1_loss(model(inp), tgt)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        bar.set_postfix(l1=f"{loss.item():.4f}")
    model.save_pretrained(out, safe_serialization=True)
    (Path(out) / "training.json").write_text(json.dumps(
        {"factor": factor, "steps": steps, "batch": batch, "pool": pool, "seed": seed,
         "minutes": round((time.time() - started) / 60, 1)}, indent=1))
    return Path(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--factor", type=int, choices=(2, 4), required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    from ..errors import InvalidInput, check_number

    try:      # before the training pairs are rendered: untrained weights written over good ones,
        check_number("steps", args.steps, low=1, integer=True)   # or minutes of training lost
        check_number("threads", args.threads, low=1, high=256, integer=True)
        if args.out.exists() and not args.out.is_dir():
            raise InvalidInput("out", str(args.out), "must be a folder (for the upscaler's weights); a file "
                                                     "has that name")
    except InvalidInput as exc:
        flag_error(ap, exc)
    print(f"wrote {train(args.factor, args.out, steps=args.steps, threads=args.threads)}")


if __name__ == "__main__":
    main()
