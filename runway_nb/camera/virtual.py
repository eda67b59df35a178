"""The virtual camera: film the shot with a locked-off camera, then move a window over it.

Any engine can follow any camera path this way, exactly: the engine renders the shot
with a static camera on a *source* frame, and each output frame is a crop / zoom /
rotate window of that source frame, placed where the path says (one `cv2.warpAffine`
per frame, bicubic; the source is pre-blurred where the window shrinks it, so a zoom
out does not alias). It is the fallback when an engine has no native or warp control,
and the measure of the others: what it applies is the requested path, to a fraction
of a pixel.

The window has to stay inside the source frame, so the source shows more than the
shot: the first frame's window is the central 1 / `margin` of the source, where
`margin` is what the path needs (a pan of half a frame needs 2). Where the engine can
make a bigger frame (its `sizes`) the source is rendered big enough that the window
is never enlarged — oversampling; otherwise it is rendered at the shot's size and the
window enlarges it by up to `margin` (softer pictures, the price of a big move on a
small engine). A path that needs more than `MAX_MARGIN` keeps `MAX_MARGIN`, and the
parts of the window outside the source are mirrored; `VirtualPlan.covered` says so.

    plan = plan_window(camera, 64, 64, sizes=[(64, 64)])
    frames = apply_window(source_frames, camera, plan)      # (T, 64, 64, 3) uint8
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .geometry import _check_camera, compose, frame_transform, invert

MAX_MARGIN = 3.0   # a bigger margin enlarges a native-size source into mush; mirror beyond it
# the bicubic kernel reads 2 pixels around each sample: keep the window that far inside
_SAFETY_PX = 2.0


@dataclass(frozen=True)
class VirtualPlan:
    """How a path is filmed: the source frame to render and the window's first position."""

    source_size: tuple[int, int]   # (width, height) the engine renders with a static camera
    output_size: tuple[int, int]   # (width, height) of the shot
    margin: float                  # the first window is the central 1 / margin of the source
    needed: float                  # the margin the path needs (≤ margin unless capped)

    @property
    def covered(self) -> bool:
        """True when every window lies inside the source (no mirrored border)."""
        return self.needed <= self.margin + 1e-9

    def as_dict(self) -> dict:
        return {"source_size": list(self.source_size), "margin": round(self.margin, 6),
                "needed": round(self.needed, 6), "covered": self.covered}


def needed_margin(camera, width: int, height: int) -> float:
    """The smallest margin whose source frame contains every window of the path."""
    cam = _check_camera(camera)
    src_of_out = invert(frame_transform(cam, width, height))        # frame i pixel -> frame 0 pixel
    corners = np.array([[-0.5, -0.5], [width - 0.5, -0.5], [width - 0.5, height - 0.5],
                        [-0.5, height - 0.5]])
    ctr = np.array([(width - 1) / 2.0, (height - 1) / 2.0])
    pts = np.einsum("tij,nj->tni", src_of_out[:, :, :2], corners) + src_of_out[:, None, :, 2]
    reach = np.abs(pts - ctr).max(axis=(0, 1))                     # half-extent in frame-0 pixels
    if (reach > np.array([width, height]) / 2.0 + 1e-6).any():     # leaves the frame: keep clear
        reach = reach + _SAFETY_PX
    return float(max(1.0, 2 * reach[0] / width, 2 * reach[1] / height))


def plan_window(camera, width: int, height: int, sizes=None, max_margin: float = MAX_MARGIN,
                oversample: bool = True) -> VirtualPlan:
    """Choose the source size and margin for `camera` (T, 4) on a `width` × `height` shot.

    `sizes` are the (width, height) pairs the engine can render: the smallest one of the
    shot's aspect ratio that holds the whole path without enlarging is taken, else the
    largest of that aspect; with none (or `oversample=False`) the shot's own size."""
    need = needed_margin(camera, width, height)
    margin = min(need, float(max_margin))
    source = (width, height)
    if oversample and sizes:
        aspect = width / height
        same = sorted({(int(w), int(h)) for w, h in sizes
                       if abs(w / h - aspect) < 0.01 * aspect and h >= height})
        if same:
            big = [s for s in same if s[1] >= margin * height]
            source = big[0] if big else same[-1]
    return VirtualPlan(source_size=source, output_size=(width, height), margin=margin, needed=need)


def window_matrices(camera, plan: VirtualPlan) -> np.ndarray:
    """(T, 2, 3) maps from output pixels of frame i to source pixels (cv2's inverse map)."""
    w, h = plan.output_size
    ws, hs = plan.source_size
    out_to_first = invert(frame_transform(camera, w, h))           # output frame i -> output frame 0
    k = hs / (plan.margin * h)                                      # source pixels per frame-0 pixel
    first_to_src = np.array([[k, 0.0, (ws - 1) / 2.0 - k * (w - 1) / 2.0],
                             [0.0, k, (hs - 1) / 2.0 - k * (h - 1) / 2.0]])
    return compose(first_to_src, out_to_first)


def apply_window(frames: np.ndarray, camera, plan: VirtualPlan) -> np.ndarray:
    """Film `frames` (T, Hs, Ws, C) — rendered with a static camera at `plan.source_size` —
    through the moving window: returns (T, H, W, C) of the same dtype."""
    import cv2

    frames = np.asarray(frames)
    cam = _check_camera(camera)
    if frames.ndim != 4 or len(frames) != len(cam):
        raise ValueError(f"frames must be (T, H, W, C) with T = {len(cam)} camera rows, got {frames.shape}")
    source = frames.shape[2], frames.shape[1]
    if source != tuple(plan.source_size):
        # previews can come at another size than the source: same window, rescaled
        plan = VirtualPlan(source, plan.output_size, plan.margin, plan.needed)
    mats = window_matrices(cam, plan)
    w, h = plan.output_size
    out = np.empty((len(frames), h, w, frames.shape[3]), frames.dtype)
    for i, (img, m) in enumerate(zip(frames, mats)):
        shrink = float(np.sqrt(abs(np.linalg.det(m[:, :2]))))      # source pixels per output pixel
        if shrink > 1.05:   # low-pass first so a shrinking window does not alias (Nyquist)
            sigma = 0.5 * np.sqrt(shrink ** 2 - 1.0)
            img = cv2.GaussianBlur(img, (0, 0), sigmaX=sigma, borderType=cv2.BORDER_REFLECT_101)
        warped = cv2.warpAffine(np.ascontiguousarray(img), m, (w, h),
                                flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
                                borderMode=cv2.BORDER_REFLECT_101)
        out[i] = warped.reshape(h, w, -1)
    return out
