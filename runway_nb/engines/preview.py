"""Live previews for diffusers engines: a linear map from latent channels to RGB.

Decoding latents with the VAE at every step would cost as much as a few denoising
steps on the real models (and gigabytes of activations), so previews use the trick
popular UIs use: each latent pixel's channels are close to an affine function of the
colour of the patch it decodes to. Instead of a table copied per model, the map is
*fitted to the loaded VAE*: a few blocky random-colour images are encoded and decoded once
(the first time a preview is asked for), and a ridge regression from latent channels to
the mean decoded colour of each latent pixel's patch gives `rgb ≈ latents · W + b`. It
therefore fits any checkpoint of a family, fine-tunes included. (Regressing on the decoded
colours rather than the input ones changes little for a trained VAE, whose decoder gives
the colours back, and keeps the map on the decoder's side for an untrained one. A random
test VAE is far from linear, though: there a preview only roughly resembles the clip.)

What is previewed is the model's clean estimate x0 at each step (engines/x0.py), not the
noisy latents x_t. A preview has one frame per *video* frame: latent frame 0 is video frame
0 and each later latent frame stands for the next r frames (r = the VAE's time compression),
trimmed to the clip's frames. Its size is the clip's width × height for clips up to
`PREVIEW_SIDE` pixels on the longer side, and for bigger clips the clip's size divided by the
smallest power of two that brings it under that (720×480 → 180×120, 768×512 → 192×128):
a thumbnail is all a live preview needs, and per-step cost stays a few megabytes.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

PREVIEW_SIDE = 256        # longest preview side, in pixels, before previews are scaled down


def preview_size(height: int, width: int, spatial: int) -> tuple[int, int]:
    """(height, width) of the previews of a height × width clip whose VAE shrinks space
    by `spatial`: the clip's size, halved while it is over PREVIEW_SIDE (at most down to the
    latent grid, and only while the halves stay whole pixels)."""
    d = 1
    while (max(height, width) // d > PREVIEW_SIDE and d < spatial
           and height % (2 * d) == 0 and width % (2 * d) == 0):
        d *= 2
    return height // d, width // d


def video_frame_index(frames: int, temporal: int) -> np.ndarray:
    """For each of `frames` video frames, the latent frame it comes from: a causal video VAE
    encodes frame 0 alone and then `temporal` frames per latent frame (frames = r·k + 1)."""
    return (np.arange(frames) + temporal - 1) // temporal


class LatentPreview:
    """`rgb = latents · weight + bias`, then nearest upsampling to the preview size."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor):
        self.weight = weight.float()      # (C, 3)
        self.bias = bias.float()          # (3,)
        self._on_device: dict = {}        # device -> (weight, bias) there

    @classmethod
    def fit(cls, encode: Callable[[torch.Tensor], torch.Tensor], spatial: int,
            decode: Callable[[torch.Tensor], torch.Tensor] | None = None, seed: int = 0,
            images: int = 6, grid: int = 4, latent_size: int = 8, ridge: float = 1e-3) -> "LatentPreview":
        """Fit the map. `encode(rgb)` takes (N, 3, H, W) in [-1, 1] and returns the latents the
        denoiser works on, (N, C, h, w) with h = H / `spatial`; `decode` (optional) is its
        inverse, and then the colours the map learns are the decoded ones."""
        g = torch.Generator().manual_seed(seed)
        size = latent_size * spatial
        # Blocky images: each block of colour covers several latent pixels, so most latent
        # pixels see one flat colour (edges, where the VAE mixes neighbours, are a minority).
        colours = torch.rand(images, 3, grid, grid, generator=g) * 2 - 1
        rgb = torch.nn.functional.interpolate(colours, size=(size, size), mode="nearest")
        with torch.no_grad():
            latents = encode(rgb)                                                 # (N, C, h, w)
            if decode is not None:   # regress on what the decoder makes of these latents
                rgb = decode(latents).float().cpu().clamp(-1, 1)                   # (N, 3, H, W)
            latents = latents.float().cpu()
        target = torch.nn.functional.adaptive_avg_pool2d(rgb, latents.shape[-2:])  # (N, 3, h, w)
        x = latents.permute(0, 2, 3, 1).reshape(-1, latents.shape[1])              # (N·h·w, C)
        y = target.permute(0, 2, 3, 1).reshape(-1, 3)
        x1 = torch.cat([x, torch.ones(len(x), 1)], dim=1).double()
        eye = torch.eye(x1.shape[1], dtype=torch.float64) * ridge * len(x1)
        eye[-1, -1] = 0                                                            # the bias is free
        solution = torch.linalg.solve(x1.T @ x1 + eye, x1.T @ y.double())          # (C + 1, 3)
        return cls(solution[:-1].float(), solution[-1].float())

    def __call__(self, latents: torch.Tensor, size: tuple[int, int],
                 frames: np.ndarray | None = None) -> np.ndarray:
        """(F, C, h, w) latents → (T, height, width, 3) uint8, with `frames` (T,) the latent
        frame of each preview frame (all F in order when None). The map runs where the
        latents are (a GPU during real renders): only the 3-channel picture comes back."""
        lat = latents.detach()
        if lat.device not in self._on_device:
            self._on_device[lat.device] = (self.weight.to(lat.device), self.bias.to(lat.device))
        weight, bias = self._on_device[lat.device]
        rgb = torch.einsum("fchw,cr->frhw", lat.float(), weight) + bias[None, :, None, None]
        rgb = torch.nn.functional.interpolate(rgb.clamp(-1, 1), size=size, mode="nearest")
        out = ((rgb + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
        return out if frames is None else out[frames]                               # (T, H, W, 3)
