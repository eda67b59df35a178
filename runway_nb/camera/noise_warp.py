"""Warp mode: make each frame's initial noise move along the camera path, still Gaussian.

A video diffusion model decides a clip's layout from its initial noise in the first
few steps. If frame i's noise is frame 0's noise seen through the camera of frame i,
the model is nudged, without any training, into a video that moves that way. Warping
noise naively (bilinear resampling) breaks it: interpolated noise has less variance
and is correlated between neighbours, which diffusion models turn into blur. This
module follows the integral-noise idea of "How I Warped Your Noise" (Chang, Chen,
Kim, Bhattacharya, Gross, Nießner, ICLR 2024), in a simple forward-splatting form:

  1. Think of the noise as living on the world, not on the frame: a fine grid of
     i.i.d. N(0, 1) samples, `k` × `k` per pixel of frame 0, over the whole area any
     frame of the path sees (the union of the views).
  2. Frame i's pixel p is the sum of the fine samples whose centres land in p under
     frame i's camera, divided by √(their number). A sum of n independent N(0, 1)
     values over √n is exactly N(0, 1); distinct pixels own distinct samples, so they
     stay independent. The noise is Gaussian white noise in every frame, for any path.
  3. A pixel that no sample lands in (content entering the frame is covered by the
     world grid; only a zoom in beyond `k`× leaves holes) gets fresh noise.

Frame 0 is then the plain sum of its k × k samples / k (white noise), and a world
point keeps its noise while the camera moves: the same fine samples feed it in every
frame where it is seen, which is what "the noise tracks the path" means.

    noise = warped_noise(16, 4, 16, 16, camera, torch.Generator().manual_seed(0))
    # (16, 4, 16, 16): latents for a 64 × 64 engine with a 4× autoencoder

`camera` is (frames, 4) [x, y, zoom, roll] relative to frame 0, as
`CameraPath.per_frame(frames, fps)` returns it (frame heights, y up, roll in degrees).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .geometry import _check_camera, frame_transform, invert

MAX_FINE_SAMPLES = 1 << 24    # per channel: caps memory on long, wide moves (k drops first)


def _oversampling(camera: np.ndarray, height: int, width: int, oversample: int | None) -> tuple[int, np.ndarray]:
    """Choose k and the world canvas (frame-0 pixel bounds [x0, y0, x1, y1], integers)."""
    corners = np.array([[-0.5, -0.5], [width - 0.5, -0.5], [width - 0.5, height - 0.5],
                        [-0.5, height - 0.5]])
    to_first = invert(frame_transform(camera, width, height))        # frame i pixel -> frame 0 pixel
    pts = np.einsum("tij,nj->tni", to_first[:, :, :2], corners) + to_first[:, None, :, 2]
    lo = np.floor(np.minimum(pts.min(axis=(0, 1)), -0.5) + 0.5).astype(int)   # first pixel index
    hi = np.ceil(np.maximum(pts.max(axis=(0, 1)), [width - 0.5, height - 0.5]) - 0.5).astype(int)
    span = hi - lo + 1                                                  # canvas size in pixels
    if oversample is None:
        # a zoom in by z shrinks a pixel's footprint on the world by z: keep ≥ 2 samples per side
        oversample = int(np.clip(math.ceil(2 * camera[:, 2].max()), 3, 8))
    k = int(oversample)
    while k > 1 and span[0] * span[1] * k * k > MAX_FINE_SAMPLES:
        k -= 1
    return k, np.array([lo[0], lo[1], hi[0], hi[1]])


def warped_noise(frames: int, channels: int, height: int, width: int, camera,
                 generator: torch.Generator | None = None, *, oversample: int | None = None) -> torch.Tensor:
    """Gaussian noise (frames, channels, height, width) float32 that moves along `camera`.

    Every frame is exactly N(0, 1) white noise; frame i shows frame 0's noise carried by
    the camera to where frame i sees it, with fresh noise only where no world sample
    falls. Deterministic for a given CPU `generator` state."""
    cam = _check_camera(camera)
    if cam.shape[0] != frames:
        raise ValueError(f"camera must have {frames} rows (one per frame), got {cam.shape[0]}")
    for name, v in (("frames", frames), ("channels", channels), ("height", height), ("width", width)):
        if int(v) != v or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    generator = generator if generator is not None else torch.Generator().manual_seed(0)
    k, (x0, y0, x1, y1) = _oversampling(cam, height, width, oversample)
    nx, ny = (x1 - x0 + 1) * k, (y1 - y0 + 1) * k
    # 1. the world's fine noise: k × k samples per frame-0 pixel over the whole canvas
    fine = torch.randn((channels, ny * nx), generator=generator)                  # (C, Ny·Nx)
    fresh = torch.randn((frames, channels, height, width), generator=generator)  # holes only
    # fine sample centres in frame-0 pixel coordinates (pixel i spans [i − ½, i + ½])
    gx = x0 - 0.5 + (np.arange(nx) + 0.5) / k
    gy = y0 - 0.5 + (np.arange(ny) + 0.5) / k
    px, py = (a.ravel() for a in np.meshgrid(gx, gy))                             # (Ny·Nx,)
    out = torch.empty((frames, channels, height, width))
    for i, m in enumerate(frame_transform(cam, width, height)):
        # 2. where each fine sample lands in frame i: the pixel that owns it
        u = np.rint(m[0, 0] * px + m[0, 1] * py + m[0, 2]).astype(np.int64)
        v = np.rint(m[1, 0] * px + m[1, 1] * py + m[1, 2]).astype(np.int64)
        inside = (u >= 0) & (u < width) & (v >= 0) & (v < height)
        owner = torch.from_numpy(v[inside] * width + u[inside])
        total = torch.zeros((channels, height * width)).index_add_(1, owner, fine[:, torch.from_numpy(inside)])
        count = torch.bincount(owner, minlength=height * width).to(total.dtype)
        # a sum of n independent N(0, 1) divided by √n is N(0, 1) again
        frame = (total / count.clamp(min=1).sqrt()).view(channels, height, width)
        # 3. pixels no sample reached (a zoom in beyond k×): fresh, independent noise
        out[i] = torch.where((count > 0).view(1, height, width), frame, fresh[i])
    return out
