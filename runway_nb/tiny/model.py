"""TinyVideoDiT: the denoiser of the embedded engine, a diffusion transformer over video latents.

Read it in one sitting. The ideas, each from a paper:
  * latents are cut into (2 frames × 2 × 2) patches → tokens            (ViT, Latte)
  * attention is factorized: spatial within a time slot, then temporal
    across slots at each position — far cheaper than full 3-D attention (Latte, 2024)
  * every block cross-attends to the prompt's word features            (PixArt-α)
  * adaLN-Zero: the noise level, pooled text and *per-slot camera motion*
    scale/shift/gate each sub-layer; gates start at zero so every block
    begins as the identity and training is stable                      (DiT, Peebles & Xie 2023)
  * the camera path is a numeric per-frame input (not only words), so the model
    can be told exactly how far to pan, tilt, zoom or roll; with `camera_world`
    each token also gets an embedding of the *world* point it looks at, the 2-D
    analogue of CameraCtrl's per-pixel Plücker rays: content that stays put in
    the world keeps its embedding as the camera moves      (He et al. 2024)
  * with `camera_aligned`, temporal attention follows the camera: a token attends, in
    every other time slot, to the keys and values sampled where its world point sits
    under that slot's camera (bilinear, out-of-frame keys masked) instead of at the same
    screen position — the same attention for a locked-off camera, and a pan no longer
    has to be carried across positions by spatial attention block by block (in the
    spirit of epipolar attention for camera control, e.g. CamCo, Xu et al. 2024). Off
    in the shipped weights: fine-tuned onto them it measured worse (README, Training)
  * known frames (for image→video and extend) enter as extra input channels with
    a mask, as in inpainting models
  * trained with rectified flow: predict v = noise − x0                  (Liu et al. 2022, SD3)
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch import nn


def sincos(positions: torch.Tensor, dim: int) -> torch.Tensor:
    """Fixed sinusoidal features of (any-shaped) positions -> (..., dim)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
    angles = positions.float()[..., None] * freqs.to(positions.device)
    return torch.cat([angles.sin(), angles.cos()], dim=-1)


def modulate(x, shift, scale):
    return x * (1 + scale) + shift


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int, context_dim: int | None = None):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(context_dim or dim, 2 * dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, x, context=None, mask=None):
        b, n, d = x.shape
        context = x if context is None else context
        q = self.q(x).view(b, n, self.heads, -1).transpose(1, 2)            # (B, h, n, d/h)
        k, v = self.kv(context).view(b, context.shape[1], 2, self.heads, -1).permute(2, 0, 3, 1, 4)
        attn_mask = None if mask is None else mask[:, None, None, :]         # (B, 1, 1, L)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
        return self.out(y.transpose(1, 2).reshape(b, n, d))

    def aligned(self, x, grid, valid, grid_hw):
        """Temporal self-attention along the camera: x (B, S, N, D) tokens of S slots on a
        (gh, gw) grid; grid (B, S, S', N, 2) where query slot s's tokens sit in slot s'
        (grid_sample coordinates); valid (B, S, S', N) whether that point is in frame."""
        b, s, n, d = x.shape
        gh, gw = grid_hw
        q = self.q(x).reshape(b * s * n, 1, self.heads, -1).transpose(1, 2)          # (BSN, h, 1, d/h)
        kv = self.kv(x).permute(0, 1, 3, 2).reshape(b * s, 2 * d, gh, gw)            # key slot s' as an image
        # every query slot's points sampled from key slot s' in one call: (B S', S N) points
        points = grid.transpose(1, 2).reshape(b * s, s * n, 1, 2)
        kv = F.grid_sample(kv, points, mode="bilinear", padding_mode="border", align_corners=False)
        kv = kv.view(b, s, 2, self.heads, d // self.heads, s, n).permute(2, 0, 5, 6, 3, 1, 4)
        k, v = (t.reshape(b * s * n, self.heads, s, -1) for t in kv)                # (BSN, h, S', d/h)
        mask = valid.permute(0, 1, 3, 2).reshape(b * s * n, 1, 1, s)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.out(y.reshape(b, s, n, d))


class Block(nn.Module):
    """Spatial attention → temporal attention → cross-attention → MLP, each adaLN-Zero gated."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float):
        super().__init__()
        self.norms = nn.ModuleList(nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
                                   for _ in range(4))
        self.spatial = Attention(dim, heads)
        self.temporal = Attention(dim, heads)
        self.cross = Attention(dim, heads)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(approximate="tanh"),
                                 nn.Linear(hidden, dim))
        self.ada = nn.Sequential(nn.SiLU(), nn.Linear(dim, 12 * dim))
        nn.init.zeros_(self.ada[1].weight)   # adaLN-Zero: gates (and shifts) start at 0
        nn.init.zeros_(self.ada[1].bias)

    def forward(self, x, cond, text, text_mask, align=None):
        b, s, n, d = x.shape                                   # x: (B, S slots, N positions, D)
        m = self.ada(cond)[:, :, None, :].chunk(12, dim=-1)     # each (B, S, 1, D)
        h = modulate(self.norms[0](x), m[0], m[1]).reshape(b * s, n, d)
        x = x + m[2] * self.spatial(h).view(b, s, n, d)
        h = modulate(self.norms[1](x), m[3], m[4])
        if align is None:                                      # at the same screen position
            x = x + m[5] * self.temporal(h.transpose(1, 2).reshape(b * n, s, d)).view(b, n, s, d).transpose(1, 2)
        else:                                                  # where the camera carries each point
            x = x + m[5] * self.temporal.aligned(h, *align)
        h = modulate(self.norms[2](x), m[6], m[7]).reshape(b, s * n, d)
        x = x + m[8] * self.cross(h, text, text_mask).view(b, s, n, d)
        x = x + m[11] * self.mlp(modulate(self.norms[3](x), m[9], m[10]))
        return x


class TinyVideoDiT(ModelMixin, ConfigMixin):
    @register_to_config
    def __init__(
        self,
        latent_channels: int = 4,   # channels of the autoencoder's latents
        patch_t: int = 2,           # frames per token
        patch_hw: int = 2,          # latent pixels per token side
        dim: int = 128,             # transformer width
        depth: int = 6,             # number of blocks
        heads: int = 4,
        mlp_ratio: float = 3.0,
        text_dim: int = 128,        # width of the text encoder's features
        camera_dim: int = 4,        # per-frame camera: x, y, log zoom, roll
        camera_world: bool = False,  # add the world-point embedding (weights from before it: False)
        camera_aligned: bool = False,  # temporal attention along the camera (no new weights)
    ):
        super().__init__()
        c, pt, p = latent_channels, patch_t, patch_hw
        in_dim = pt * p * p * (2 * c + 1)      # noisy latent + known latent + known mask
        self.patch_in = nn.Linear(in_dim, dim)
        self.time_mlp = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))
        self.text_proj = nn.Linear(text_dim, dim)
        self.pool_mlp = nn.Sequential(nn.Linear(text_dim, dim), nn.SiLU(), nn.Linear(dim, dim))
        self.camera_mlp = nn.Sequential(nn.Linear(pt * camera_dim, dim), nn.SiLU(),
                                        nn.Linear(dim, dim))
        self.camera_null = nn.Parameter(torch.zeros(dim))   # "no camera given": the text decides
        if camera_world:
            # zero-initialised, so a model trained without it starts out unchanged (ControlNet's trick)
            self.world_embed = nn.Linear(4 * len(WORLD_FREQUENCIES), dim)
            nn.init.zeros_(self.world_embed.weight)
            nn.init.zeros_(self.world_embed.bias)
        self.blocks = nn.ModuleList(Block(dim, heads, mlp_ratio) for _ in range(depth))
        self.final_norm = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.final_ada = nn.Sequential(nn.SiLU(), nn.Linear(dim, 2 * dim))
        self.patch_out = nn.Linear(dim, pt * p * p * c)
        for layer in (self.final_ada[1], self.patch_out):   # the model starts by predicting 0
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(
        self,
        latents: torch.Tensor,      # (B, T, C, h, w) noisy latents
        timestep: torch.Tensor,     # (B,) noise level × 1000
        text: torch.Tensor,         # (B, L, text_dim) word features
        text_mask: torch.Tensor,    # (B, L) True = real token
        camera: torch.Tensor,       # (B, T, 4) per-frame camera relative to frame 0
        camera_known: torch.Tensor,  # (B,) bool; False = use the null embedding
        known: torch.Tensor,        # (B, T, C, h, w) clean latents of given frames (0 elsewhere)
        known_mask: torch.Tensor,   # (B, T) bool: which frames are given
    ) -> torch.Tensor:
        b, t, c, h, w = latents.shape
        pt, p = self.config.patch_t, self.config.patch_hw
        s, gh, gw = t // pt, h // p, w // p
        mask = known_mask[:, :, None, None, None].to(latents.dtype).expand(b, t, 1, h, w)
        x = torch.cat([latents, known, mask], dim=2)                       # (B, T, 2C+1, h, w)
        # patchify: (B, S, pt, C', gh, p, gw, p) -> (B, S, gh*gw, pt*C'*p*p)
        x = x.view(b, s, pt, -1, gh, p, gw, p).permute(0, 1, 4, 6, 2, 3, 5, 7)
        x = self.patch_in(x.reshape(b, s, gh * gw, -1))                    # (B, S, N, D)
        d = x.shape[-1]
        gy, gx = torch.meshgrid(torch.arange(gh, device=x.device), torch.arange(gw, device=x.device), indexing="ij")
        pos = torch.cat([sincos(gy.flatten(), d // 2), sincos(gx.flatten(), d // 2)], -1)
        x = x + pos.to(x) + sincos(torch.arange(s, device=x.device), d).to(x)[:, None, :]
        if self.config.camera_world:
            world = self.world_embed(world_features(camera.to(x), gh, gw, pt))            # (B, S, N, D)
            x = x + world * camera_known[:, None, None, None].to(x)

        # conditioning vector per time slot: noise level + pooled prompt + camera motion
        cond = self.time_mlp(sincos(timestep, d).to(x)) + self.pool_mlp(text[:, 0])   # (B, D)
        cam = self.camera_mlp(camera.reshape(b, s, -1).to(x))                           # (B, S, D)
        cam = torch.where(camera_known[:, None, None], cam, self.camera_null.to(x))
        cond = cond[:, None, :] + cam                                                    # (B, S, D)
        ctx = self.text_proj(text)

        align = None
        if self.config.camera_aligned:
            # "no camera given" rows attend as a locked-off camera would: at the same position
            still = torch.where(camera_known[:, None, None], camera.to(x), torch.zeros_like(camera, dtype=x.dtype))
            align = (*aligned_grid(still, gh, gw, pt), (gh, gw))
        for block in self.blocks:
            x = block(x, cond, ctx, text_mask, align)
        shift, scale = self.final_ada(cond)[:, :, None, :].chunk(2, dim=-1)
        x = self.patch_out(modulate(self.final_norm(x), shift, scale))    # (B, S, N, pt*p*p*C)
        x = x.view(b, s, gh, gw, pt, c, p, p).permute(0, 1, 4, 5, 2, 6, 3, 7)
        return x.reshape(b, t, c, h, w)


def camera_features(camera: torch.Tensor) -> torch.Tensor:
    """Per-frame camera [x, y, zoom, roll°] -> model features [x, y, log zoom, roll/30°].

    Scaled so a typical move spans about ±1 over a clip."""
    x, y, z, r = camera.unbind(-1)
    return torch.stack([x * 2.0, y * 2.0, torch.log(z) * 2.0, r / 30.0], dim=-1)


WORLD_FREQUENCIES = (0.25, 0.5, 1.0, 2.0, 4.0)   # cycles per world unit (a frame height at zoom 1)


def _token_centres(gh: int, gw: int, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(N,) screen coordinates of the token centres in frame heights, y up, origin at the centre
    (in `like`'s dtype, on its device)."""
    sx = ((torch.arange(gw, dtype=like.dtype, device=like.device) + 0.5) / gw - 0.5) * (gw / gh)
    sy = 0.5 - (torch.arange(gh, dtype=like.dtype, device=like.device) + 0.5) / gh
    sy, sx = (g.flatten() for g in torch.meshgrid(sy, sx, indexing="ij"))
    return sx, sy


def _unscale(camera: torch.Tensor):
    """Undo `camera_features`' scaling: x, y, zoom, roll (°)."""
    return camera[..., 0] / 2.0, camera[..., 1] / 2.0, torch.exp(camera[..., 2] / 2.0), camera[..., 3] * 30.0


def _world_points(cx, cy, zoom, roll, sx, sy):
    """The toy world's camera model (`toyworld.render`): the world point c + Rot(−roll) s / zoom
    that screen point s shows (all arguments broadcast together)."""
    th = torch.deg2rad(-roll)
    return cx + (th.cos() * sx - th.sin() * sy) / zoom, cy + (th.sin() * sx + th.cos() * sy) / zoom


def aligned_grid(camera: torch.Tensor, gh: int, gw: int, pt: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Where each token's world point sits in every time slot: (B, T, 4) camera features ->
    grid (B, S, S', N, 2) in `grid_sample` coordinates (x right, y down, ±1 at the frame's
    edges) and valid (B, S, S', N), the point inside slot s''s frame.

    The toy world's camera model (`toyworld.render`): world = c + Rot(−roll) s / zoom, so a
    world point w shows at s = zoom Rot(roll) (w − c). A slot's camera is its frames' mean."""
    b, t, _ = camera.shape
    slot = camera.reshape(b, t // pt, pt, -1).mean(2)                   # (B, S, 4), log zoom averaged
    cx, cy, zoom, roll = (v[..., None] for v in _unscale(slot))     # each (B, S, 1)
    wx, wy = _world_points(cx, cy, zoom, roll, *_token_centres(gh, gw, camera))   # (B, S, N)
    dx = wx[:, :, None] - cx[:, None]                                # (B, S, S', N): w − c'
    dy = wy[:, :, None] - cy[:, None]
    th2, z2 = torch.deg2rad(roll)[:, None], zoom[:, None]
    px = z2 * (th2.cos() * dx - th2.sin() * dy)
    py = z2 * (th2.sin() * dx + th2.cos() * dy)
    grid = torch.stack([2 * px * gh / gw, -2 * py], dim=-1)             # token centres → (2i+1)/g − 1
    valid = (grid.abs() <= 1).all(-1)
    return grid, valid


def world_features(camera: torch.Tensor, gh: int, gw: int, pt: int) -> torch.Tensor:
    """Fourier features of the world point at each token's centre: (B, T, 4) camera
    features -> (B, T // pt, gh * gw, 4 * len(WORLD_FREQUENCIES)).

    Uses the toy world's camera model (`toyworld.render`): world = c + Rot(-roll) s / zoom,
    s the token centre in frame heights; averaged over the frames that share a token."""
    b, t, _ = camera.shape
    cx, cy, zoom, roll = (v[..., None] for v in _unscale(camera))
    wx, wy = _world_points(cx, cy, zoom, roll, *_token_centres(gh, gw, camera))   # (B, T, N)
    wx = wx.view(b, t // pt, pt, -1).mean(2)
    wy = wy.view(b, t // pt, pt, -1).mean(2)
    freqs = 2 * math.pi * torch.tensor(WORLD_FREQUENCIES, dtype=camera.dtype, device=camera.device)
    ax, ay = wx[..., None] * freqs, wy[..., None] * freqs
    return torch.cat([ax.sin(), ax.cos(), ay.sin(), ay.cos()], dim=-1)
