"""A per-frame camera [x, y, zoom, roll] as a 2-D similarity between pixel grids (numpy only).

Every way of applying a camera path (the virtual camera's crop window, noise warping,
latent guidance) and the measurement that checks it need the same map: where does a
point of the first frame land in frame i? With the toy world's camera model
(`runway_nb.tiny.toyworld`: a frame's view maps screen point s, in frame heights with
y up, to world c + R(−roll) s / zoom, and frame 0 is the identity view), a point at
screen position s₀ in frame 0 sits in frame i at

    s_i = zoom_i · R(roll_i) · (s₀ − c_i)

In pixel coordinates (x right, y down, pixel centres at integers, as OpenCV uses them)
that is an affine map u_i = A u₀ + b with A = zoom · R(−roll) (y flips), which is what
`frame_transform` returns as a 2 × 3 matrix. `camera_from_transform` inverts it, so a
measured similarity reads back as [x, y, zoom, roll] in the units of `CameraPath`.
"""

from __future__ import annotations

import numpy as np


def _check_camera(camera, name: str = "camera") -> np.ndarray:
    cam = np.asarray(camera, dtype=np.float64)
    if cam.ndim == 1:
        cam = cam[None]
    if cam.ndim != 2 or cam.shape[1] != 4:
        raise ValueError(f"{name} must have shape (frames, 4) [x, y, zoom, roll], got {cam.shape}")
    if not np.isfinite(cam).all() or (cam[:, 2] <= 0).any():
        raise ValueError(f"{name} must be finite with zoom > 0")
    return cam


def camera_moves(camera) -> bool:
    """Whether a per-frame camera (frames, 4) moves at all: a locked-off camera has no path to
    warp along and needs no camera guidance. `None` (no camera given) does not move."""
    if camera is None:
        return False
    cam = np.asarray(camera)
    return not np.allclose(cam, cam[0])


def frame_transform(camera, width: int, height: int) -> np.ndarray:
    """(T, 2, 3) float64: maps pixel u₀ of frame 0 to pixel A u₀ + b of each frame.

    `camera` is (T, 4) [x, y, zoom, roll°] relative to frame 0, as `CameraPath.per_frame`
    returns it; `width` × `height` is the pixel grid (a latent grid works the same way:
    the camera is in frame heights, so only the aspect ratio matters)."""
    cam = _check_camera(camera)
    ctr = np.array([(width - 1) / 2.0, (height - 1) / 2.0])
    out = np.empty((len(cam), 2, 3))
    for i, (x, y, zoom, roll) in enumerate(cam):
        r = np.deg2rad(roll)
        cos, sin = np.cos(r), np.sin(r)
        a = zoom * np.array([[cos, sin], [-sin, cos]])          # zoom · R(−roll) in y-down pixels
        # the camera centre c (frame heights, y up) seen from frame i, in pixels (y down)
        shift = zoom * height * np.array([cos * x - sin * y, -(sin * x + cos * y)])
        out[i, :, :2] = a
        out[i, :, 2] = ctr - a @ ctr - shift
    return out


def camera_from_transform(matrix, width: int, height: int) -> np.ndarray:
    """Invert `frame_transform`: a (2, 3) or (T, 2, 3) pixel similarity → (T, 4) camera.

    A general affine matrix is read as its nearest similarity (zoom = √|det A|, roll from
    the rotation part), which is how a measured fit becomes a camera path."""
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim == 2:
        m = m[None]
    ctr = np.array([(width - 1) / 2.0, (height - 1) / 2.0])
    out = np.empty((len(m), 4))
    for i, mi in enumerate(m):
        a, b = mi[:, :2], mi[:, 2]
        zoom = float(np.sqrt(abs(np.linalg.det(a))))
        # rotation part of a similarity [[p, q], [−q, p]]: average the two estimates of each
        p, q = (a[0, 0] + a[1, 1]) / 2.0, (a[0, 1] - a[1, 0]) / 2.0
        r = np.arctan2(q, p)
        cos, sin = np.cos(r), np.sin(r)
        shift = (ctr - a @ ctr - b) / (zoom * height)             # = [cos x − sin y, −(sin x + cos y)]
        u, v = shift[0], -shift[1]
        x, y = cos * u + sin * v, -sin * u + cos * v              # undo the rotation
        out[i] = (x, y, zoom, np.rad2deg(r))
    return out


def relative_camera(camera, start: int) -> np.ndarray:
    """Express an absolute per-frame camera (T, 4) relative to frame `start`'s view.

    A frame's view maps screen s to world c + R(−φ) s / z; in the start frame's
    screen units, frame i's camera sits at z_s R(φ_s)(c_i − c_s), zoomed z_i / z_s,
    rolled φ_i − φ_s. (The tiny model is conditioned on paths relative to frame 0.)"""
    cam = _check_camera(camera)
    c0, z0, r0 = cam[start, :2], cam[start, 2], np.deg2rad(cam[start, 3])
    rot = np.array([[np.cos(r0), -np.sin(r0)], [np.sin(r0), np.cos(r0)]])
    out = np.empty_like(cam)
    out[:, :2] = z0 * (cam[:, :2] - c0) @ rot.T
    out[:, 2] = cam[:, 2] / z0
    out[:, 3] = cam[:, 3] - cam[start, 3]
    return out


def invert(matrix) -> np.ndarray:
    """Inverse of (…, 2, 3) affine maps."""
    m = np.asarray(matrix, dtype=np.float64)
    a_inv = np.linalg.inv(m[..., :2])
    return np.concatenate([a_inv, -(a_inv @ m[..., 2:])], axis=-1)


def compose(outer, inner) -> np.ndarray:
    """(…, 2, 3) affine maps: x ↦ outer(inner(x))."""
    o, i = np.asarray(outer, np.float64), np.asarray(inner, np.float64)
    return np.concatenate([o[..., :2] @ i[..., :2], o[..., :2] @ i[..., 2:] + o[..., 2:]], axis=-1)


def apply(matrix, points) -> np.ndarray:
    """Apply a (2, 3) map to (N, 2) points."""
    m = np.asarray(matrix, np.float64)
    return np.asarray(points, np.float64) @ m[:, :2].T + m[:, 2]
