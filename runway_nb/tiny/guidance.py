"""Training-free layout guidance: steer the early clean estimates (x0) of a denoising run.

The tiny model was trained on camera paths but never on motion brushes, and warp mode
must work for a model that has no camera input. Both are applied here the same way,
without training:
during the first denoising steps — when a diffusion model settles the layout, and the
later steps only add detail — each frame's clean estimate x0 is pulled toward a target
built from the first frame's estimate:

  * the background is frame 0's estimate seen through the camera of frame t (for a
    static camera: frame 0 itself, so the unbrushed scene holds still);
  * each brushed region is frame 0's content of that region, moved (shifted, scaled)
    to where the brush says it is at frame t, pasted over the background;
  * where a brushed region was but no longer is, the background is filled in from the
    same rows of frame 0 outside every region (a sky, a horizon and a ground vary
    mostly from top to bottom).

Frames are pulled where the target is known. Content entering the frame stays the
model's own, except that with brushes (the object taken out of the backdrop) it is
pulled toward the backdrop's rows carried past the edge, so the object is not painted
twice. It is the known-region replacement of inpainting samplers (RePaint, Lugmayr et
al. 2022) with a moving target, in the spirit of training-free trajectory control
(FreeTraj, Qiu et al. 2024, steers noise and attention instead). It acts on x0 through
the flow-matching identity x_t = (1 − σ) x0 + σ ε: the sampler
(tiny/pipeline.py) puts the guided x0 back into the latents themselves, noised with the
window's starting noise, wherever `pull` says the target is known (`guide_replace`).
Shapes: x0 is (T, C, h, w) latents; masks (h, w) in [0, 1].
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..camera.geometry import compose, frame_transform, invert


def pixel_to_latent(matrix: np.ndarray, factor: int) -> np.ndarray:
    """A (…, 2, 3) map between pixel grids expressed on the latent grid (`factor`× smaller)."""
    off = 0.5 / factor - 0.5
    down = np.array([[1.0 / factor, 0.0, off], [0.0, 1.0 / factor, off]])
    up = invert(down)
    return compose(down, compose(matrix, up))


def carry_grid(maps: np.ndarray, h: int, w: int, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Affine maps (…, 2, 3) of source → target pixels on an h × w grid -> where each target
    pixel's source lies, as a `grid_sample` grid (…, h, w, 2) (±1 at the edge pixels'
    centres), and whether it lies inside the source picture (…, 1, h, w) float."""
    inv = torch.from_numpy(invert(maps)).float().to(device)                   # target -> source
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32, device=device),
                            torch.arange(w, dtype=torch.float32, device=device), indexing="ij")
    pixels = torch.stack([xs, ys, torch.ones_like(xs)], -1).view(h * w, 3)
    src = pixels @ inv.transpose(-1, -2)                                      # (…, h·w, 2) pixels
    inside = ((src[..., 0] >= -0.5) & (src[..., 0] <= w - 0.5) & (src[..., 1] >= -0.5)
              & (src[..., 1] <= h - 0.5)).float()
    grid = torch.stack([src[..., 0] / max(w - 1, 1) * 2 - 1, src[..., 1] / max(h - 1, 1) * 2 - 1], -1)
    lead = maps.shape[:-2]
    return grid.view(*lead, h, w, 2), inside.view(*lead, 1, h, w)


def warp(images: torch.Tensor, maps: np.ndarray, padding: str = "zeros") -> tuple[torch.Tensor, torch.Tensor]:
    """Move one picture (C, h, w) by T affine maps (T, 2, 3) of source → target pixels.

    Returns the moved pictures (T, C, h, w) (bilinear) and where each target pixel's
    source lies inside the picture (T, 1, h, w) float, on the pictures' device."""
    c, h, w = images.shape
    grid, inside = carry_grid(maps, h, w, images.device)
    moved = F.grid_sample(images[None].expand(len(maps), -1, -1, -1), grid,
                          mode="bilinear", padding_mode=padding, align_corners=True)
    return moved, inside


def brush_matrices(centre: tuple[float, float], motion: np.ndarray) -> np.ndarray:
    """Per-frame pixel maps (T, 2, 3) of a brush: scale about its centre, then shift."""
    cx, cy = centre
    dx, dy, s = motion[:, 0], motion[:, 1], motion[:, 2]
    out = np.zeros((len(motion), 2, 3))
    out[:, 0, 0] = out[:, 1, 1] = s
    out[:, 0, 2] = cx * (1 - s) + dx
    out[:, 1, 2] = cy * (1 - s) + dy
    return out


def row_fill(x: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """Fill (C, h, w) where `hole` (h, w) ≈ 1 with the mean of the same row outside it."""
    keep = (1 - hole).clamp(0, 1)
    rows = (x * keep).sum(-1, keepdim=True) / keep.sum(-1, keepdim=True).clamp(min=1e-6)    # (C, h, 1)
    whole = (x * keep).sum((1, 2), keepdim=True) / keep.sum().clamp(min=1e-6)
    empty = keep.sum(-1, keepdim=True) < 0.5                                # a row wholly inside
    return torch.where(empty, whole, rows).expand_as(x)


class LayoutGuide:
    """x0 guidance for one denoising window.

    camera: (T, 4) window-relative camera the background follows (None: static);
    brushes: list of (region (H, W) float at the window's first frame in clip pixels,
    maps (T, 2, 3) pixel maps from the window's first frame to frame t);
    factor: pixels per latent pixel; steps: how many of the first steps are guided;
    strength: 1 = replace x0 by the target where it is known;
    first_frame: a planned first frame (C, h, w) latent (the motion planner's layout): the
    target is built from it instead of frame 0's own estimate, and frame 0 is pulled too;
    reveal: with brushes and a moving camera, how hard ground the camera reveals is pulled
    toward the backdrop's rows carried past the edge (0: left to the model).

    It works on the device of the estimates it is given (a GPU render guides on the GPU,
    with no copy to the CPU and back each step); its regions follow them there once."""

    def __init__(self, camera: np.ndarray | None, brushes, factor: int, latent_hw: tuple[int, int],
                 steps: int, strength: float = 1.0, first_frame: torch.Tensor | None = None,
                 reveal: float = 0.0):
        h, w = latent_hw
        self.steps, self.strength = int(steps), float(strength)
        self.first_frame = first_frame
        self.camera = None if camera is None else frame_transform(camera, w, h)       # (T, 2, 3)
        self.regions, self.maps = [], []
        for region, maps in brushes:
            r = torch.as_tensor(np.asarray(region, np.float32))[None, None]
            r = F.avg_pool2d(r, factor)                                      # coverage per latent pixel
            r = F.max_pool2d(r, 3, stride=1, padding=1)[0, 0]                # + a latent pixel of edge
            self.regions.append(r.clamp(0, 1))
            self.maps.append(pixel_to_latent(maps, factor))
        self.hole = None
        if self.regions:
            self.hole = torch.stack(self.regions).amax(0)                    # every region, at frame 0
        self.reveal = float(reveal) if self.regions else 0.0

    def __call__(self, step: int, x0: torch.Tensor, first: int, anchor: torch.Tensor | None = None) -> torch.Tensor:
        """Pull frames `first`… of x0 (T, C, h, w) toward the target built from `anchor`
        (frame 0's clean latent when it is given, else its current estimate x0[0]);
        frames before `first` (given frames) and steps past `self.steps` are left alone."""
        return self.pull(step, x0, first, anchor)[0]

    def pull(self, step: int, x0: torch.Tensor, first: int, anchor: torch.Tensor | None = None):
        """As calling the guide, and how hard each latent pixel was pulled: (guided x0,
        weights (T, 1, h, w) in [0, 1]; 0 where x0 was left as it was)."""
        if step >= self.steps or len(x0) <= first:
            return x0, torch.zeros(len(x0), 1, *x0.shape[2:], device=x0.device)
        self._to(x0.device)
        planned = anchor is None and self.first_frame is not None
        if anchor is None:
            anchor = self.first_frame if planned else x0[0]
        t = len(x0)
        if self.hole is not None:
            # the background behind the regions, then each region moved where its brush says
            background = anchor * (1 - self.hole) + row_fill(anchor, self.hole) * self.hole
        else:
            background = anchor
        if self.camera is not None:
            target, known = warp(background, self.camera[:t], padding="border" if self.reveal else "zeros")
            if self.reveal:
                # where the camera reveals new ground: the brushed (so object-free)
                # background's own rows, carried on past the edge, pulled by `reveal` (else
                # the model paints the prompt's object there a second time; on 26 held-out
                # panning and tilting prompts planned motion was right in 4 with none, 7 at
                # 0.5, 12 at 1). Each row's mean, not its edge pixel: with the latents put on
                # the target, an edge pixel copied outward drew a star or cloud into a streak.
                rows, _ = warp(background.mean(-1, keepdim=True).expand_as(background), self.camera[:t],
                               padding="border")
                target = known * target + (1 - known) * rows
                known = known + self.reveal * (1 - known)
        else:
            target = background[None].expand(t, -1, -1, -1)
            known = torch.ones(t, 1, *anchor.shape[1:], device=anchor.device)
        for region, maps in zip(self.regions, self.maps):
            if self.camera is not None:   # the object moves in the scene; the camera films it
                maps = compose(self.camera[:t], maps[:t])
            content, _ = warp(anchor, maps[:t])
            cover, _ = warp(region[None], maps[:t])                          # (T, 1, h, w)
            target = cover * content + (1 - cover) * target
            known = torch.maximum(known, cover)
        pull = (self.strength * known).clamp(0, 1)
        pull[:first if planned else max(first, 1)] = 0.0                     # frame 0 is the anchor
        return x0 + pull * (target - x0), pull

    def _to(self, device: torch.device) -> None:
        """Move the regions (and the planned first frame) to `device`, once."""
        if self.hole is not None and self.hole.device != device:
            self.regions = [r.to(device) for r in self.regions]
            self.hole = self.hole.to(device)
        if self.first_frame is not None and self.first_frame.device != device:
            self.first_frame = self.first_frame.to(device)


def window_brushes(brushes, start: int, total: int, window: int) -> list:
    """Whole-clip brushes [(mask (H, W) bool, motion (total, 3) [dx, dy, scale])] → what one
    denoising window starting at frame `start` needs: (the region where it is at `start`,
    maps (window, 2, 3) from frame `start` to each window frame), in clip pixels."""
    out = []
    idx = np.minimum(np.arange(start, start + window), total - 1)
    for mask, motion in brushes:
        mask = np.asarray(mask, bool)
        ys, xs = np.nonzero(mask)
        maps = brush_matrices((float(xs.mean()), float(ys.mean())), np.asarray(motion, np.float64))
        region = torch.from_numpy(mask.astype(np.float32))
        if start:
            region = warp(region[None], maps[start:start + 1])[0][0, 0]
        out.append((region.numpy(), compose(maps[idx], invert(maps[start]))))
    return out
