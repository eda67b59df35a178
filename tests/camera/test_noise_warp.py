"""Warped noise stays white Gaussian noise in every frame, and moves with the camera."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from runway_nb.camera import CameraPath
from runway_nb.camera.geometry import frame_transform
from runway_nb.camera.noise_warp import warped_noise

PATHS = {
    "pan_left": CameraPath.preset("pan_left", 1.5),
    "tilt_up": CameraPath.preset("tilt_up", 1.0),
    "zoom_in ×2.7": CameraPath.preset("zoom_in", 3.0),       # beyond the default oversampling
    "zoom_out": CameraPath.preset("zoom_out", 1.5),
    "roll_cw": CameraPath.preset("roll_cw", 1.5),
    "orbit": CameraPath.preset("orbit", 1.0),
}


def noise(path: CameraPath, frames=8, channels=4, size=48, seed=0) -> torch.Tensor:
    cam = path.per_frame(frames, 4.0)
    return warped_noise(frames, channels, size, size, cam, torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("name", PATHS)
def test_every_frame_is_standard_white_noise(name):
    n = noise(PATHS[name])
    assert n.shape == (8, 4, 48, 48) and n.dtype == torch.float32
    for frame in n:                                    # 9216 samples a frame
        assert abs(float(frame.mean())) < 0.05
        assert abs(float(frame.var()) - 1.0) < 0.06
        # white: neighbours are uncorrelated (bilinear warping would correlate them)
        for a, b in ((frame[:, :, 1:], frame[:, :, :-1]), (frame[:, 1:], frame[:, :-1])):
            assert abs(float((a * b).mean())) < 0.05


def test_a_whole_pixel_pan_shifts_the_noise_exactly():
    cam = np.zeros((4, 4))
    cam[:, 2] = 1.0
    cam[:, 0] = np.arange(4) * 2 / 16          # the camera moves right 2 pixels a frame (height 16)
    n = warped_noise(4, 2, 16, 16, cam, torch.Generator().manual_seed(1))
    for t in range(1, 4):                      # so the scene, and its noise, slides left
        torch.testing.assert_close(n[t][:, :, : -2 * t], n[0][:, :, 2 * t:], rtol=0, atol=0)


@pytest.mark.parametrize("name", ["pan_left", "zoom_out", "roll_cw", "orbit"])
def test_the_noise_tracks_the_path(name):
    """A point of frame 0 carries its noise to where the camera puts it in frame t: the last
    frame correlates with frame 0 moved along the path, not with frame 0 where it was."""
    path = PATHS[name]
    n = noise(path, channels=1, size=48)[:, 0].numpy()
    m = frame_transform(path.per_frame(8, 4.0), 48, 48)[-1]
    ys, xs = np.mgrid[0:48, 0:48]
    u = np.rint(m[0, 0] * xs + m[0, 1] * ys + m[0, 2]).astype(int)
    v = np.rint(m[1, 0] * xs + m[1, 1] * ys + m[1, 2]).astype(int)
    inside = (u >= 0) & (u < 48) & (v >= 0) & (v < 48)
    along = np.corrcoef(n[0][inside], n[-1][v[inside], u[inside]])[0, 1]
    still = np.corrcoef(n[0].ravel(), n[-1].ravel())[0, 1]
    # a zoomed-out pixel sums several frame-0 pixels' noise: it shares ≈ zoom of its variance
    zoom = path.per_frame(8, 4.0)[-1, 2]
    assert along > 0.5 * min(1.0, zoom) and abs(still) < 0.2


def test_a_static_camera_repeats_the_same_noise():
    n = noise(CameraPath.static(), frames=3)
    torch.testing.assert_close(n[1], n[0], rtol=0, atol=0)


def test_same_generator_state_same_noise():
    a, b = noise(PATHS["orbit"], seed=3), noise(PATHS["orbit"], seed=3)
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert not torch.equal(a, noise(PATHS["orbit"], seed=4))


def test_bad_arguments_are_refused():
    cam = CameraPath.static().per_frame(4, 8.0)
    with pytest.raises(ValueError, match="5 rows"):
        warped_noise(5, 1, 8, 8, cam)
    with pytest.raises(ValueError, match=r"shape \(frames, 4\)"):
        warped_noise(4, 1, 8, 8, cam[:, :3])
    with pytest.raises(ValueError, match="zoom > 0"):
        warped_noise(4, 1, 8, 8, cam * [1, 1, 0, 1])
    with pytest.raises(ValueError, match="channels"):
        warped_noise(4, 0, 8, 8, cam)
