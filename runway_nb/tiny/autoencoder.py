"""A per-frame convolutional autoencoder: 64×64×3 pixels ⇄ 16×16×4 latents.

The diffusion model works in this 48× smaller latent space (as Stable Diffusion and
every open video model do), which makes training and sampling affordable on a CPU.
The autoencoder is deterministic; during training a little noise is added to the
latents so the decoder forgives the imperfect latents a diffusion model produces.

`latent_rgb` is a fixed 4→3 linear map (plus bias) fitted by least squares after
training: it turns any latent into a rough picture for free, which is how live
previews are drawn each denoising step without running the decoder.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch import nn


class TinyAutoencoder(ModelMixin, ConfigMixin):
    config_name = "config.json"

    @register_to_config
    def __init__(
        self,
        latent_channels: int = 4,   # channels per latent pixel
        width: int = 64,            # conv channels in the middle of the network
        latent_mean: tuple = (0.0, 0.0, 0.0, 0.0),  # per-channel statistics of training
        latent_std: tuple = (1.0, 1.0, 1.0, 1.0),   # latents, to feed the DiT unit-variance inputs
        latent_rgb: tuple = ((0.0,) * 5,) * 3,      # 3×(C+1) preview projection (weights | bias)
    ):
        super().__init__()
        w = width
        # The encoder is lean (it runs over every training frame once); the decoder gets
        # the capacity, since it must draw sharp edges from 16×16 latents.
        self.encoder = nn.Sequential(
            nn.Conv2d(3, w // 2, 4, stride=2, padding=1), nn.SiLU(),          # H/2
            nn.Conv2d(w // 2, w, 3, padding=1), nn.SiLU(),
            nn.Conv2d(w, w, 4, stride=2, padding=1), nn.SiLU(),               # H/4
            nn.Conv2d(w, latent_channels, 3, padding=1),
        )
        self.decoder = nn.Sequential(
            nn.Conv2d(latent_channels, w, 3, padding=1), nn.SiLU(),
            nn.Conv2d(w, w, 3, padding=1), nn.SiLU(),
            nn.Upsample(scale_factor=2, mode="nearest"),                     # H/2
            nn.Conv2d(w, w, 3, padding=1), nn.SiLU(),
            nn.Conv2d(w, w, 3, padding=1), nn.SiLU(),
            nn.Upsample(scale_factor=2, mode="nearest"),                     # H
            nn.Conv2d(w, w // 2, 3, padding=1), nn.SiLU(),
            nn.Conv2d(w // 2, 3, 3, padding=1),
        )

    # Pixels are floats in [-1, 1]; latents returned here are *normalized* (unit variance).
    def encode(self, pixels: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) in [-1, 1] -> (N, C, H/4, W/4) normalized latents."""
        z = self.encoder(pixels)
        return (z - self._stat("latent_mean", z)) / self._stat("latent_std", z)

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """(N, C, h, w) normalized latents -> (N, 3, 4h, 4w) pixels in about [-1, 1]."""
        z = latents * self._stat("latent_std", latents) + self._stat("latent_mean", latents)
        return self.decoder(z)

    def preview(self, latents: torch.Tensor) -> torch.Tensor:
        """Cheap RGB picture of normalized latents (…, C, h, w) -> (…, 3, h, w) in [-1, 1]."""
        m = torch.tensor(self.config.latent_rgb, dtype=latents.dtype, device=latents.device)
        rgb = torch.einsum("rc,...chw->...rhw", m[:, :-1], latents) + m[:, -1, None, None]
        return rgb.clamp(-1, 1)

    def _stat(self, name: str, like: torch.Tensor) -> torch.Tensor:
        return torch.tensor(getattr(self.config, name), dtype=like.dtype,
                            device=like.device)[:, None, None]

    def reconstruction_loss(self, pixels: torch.Tensor, latent_noise: float = 0.1) -> torch.Tensor:
        z = self.encoder(pixels)
        z_noisy = z + latent_noise * torch.randn_like(z)
        recon = self.decoder(z_noisy)
        # L1 keeps edges sharp; the small L2 on z keeps the latent scale tame for the DiT.
        return F.l1_loss(recon, pixels) + 1e-4 * z.pow(2).mean()

    def decoder_loss(self, pixels: torch.Tensor, edge_weight: float = 4.0,
                     latent_noise: float = 0.1) -> torch.Tensor:
        """L1 for fine-tuning the decoder alone, weighted up where the picture has edges.
        The toy world's objects are ~10 px across; under a plain L1 their outlines are a
        sliver of the loss, and a circle and a square decode to the same blob."""
        with torch.no_grad():
            z = self.encoder(pixels)
            detail = (pixels - F.avg_pool2d(pixels, 3, 1, 1, count_include_pad=False)).abs().sum(1, keepdim=True)
            weight = 1 + edge_weight * detail
        recon = self.decoder(z + latent_noise * torch.randn_like(z))
        return ((recon - pixels).abs() * weight).mean() / weight.mean()
