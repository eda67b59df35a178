"""The denoiser's world-point camera embedding follows the toy world's camera model."""

from __future__ import annotations

import numpy as np
import torch

from runway_nb.tiny import toyworld
from runway_nb.tiny.model import WORLD_FREQUENCIES, camera_features, world_features


def _world_xy(camera: np.ndarray, gh=8, gw=8):
    """Recover the world points from their Fourier features (lowest frequency's phase)."""
    feats = world_features(camera_features(torch.tensor(camera, dtype=torch.float64))[None], gh, gw, 1)[0]
    n = len(WORLD_FREQUENCIES)
    f = 2 * np.pi * WORLD_FREQUENCIES[0]
    wx = torch.atan2(feats[..., 0], feats[..., n]) / f
    wy = torch.atan2(feats[..., 2 * n], feats[..., 3 * n]) / f
    return wx.numpy(), wy.numpy()


def test_a_static_camera_sees_the_screen_grid():
    wx, wy = _world_xy(toyworld.camera_for_move("static", 1.0, 2, 8.0))
    assert np.allclose(wx[0], wx[1]) and np.allclose(wy[0], wy[1])
    assert np.isclose(wx[0, 0], -0.5 + 1 / 16) and np.isclose(wy[0, 0], 0.5 - 1 / 16)   # top-left token


def test_panning_by_one_token_shifts_the_world_points_by_one_column():
    cam = np.zeros((2, 4))
    cam[:, 2] = 1.0
    cam[1, 0] = 1 / 8                          # the camera moves right by one token width
    wx, wy = _world_xy(cam)
    grid0, grid1 = wx[0].reshape(8, 8), wx[1].reshape(8, 8)
    assert np.allclose(grid1[:, :-1], grid0[:, 1:])   # what was one column right is now here
    assert np.allclose(wy[0], wy[1])


def test_world_points_match_the_renderer_under_zoom_and_roll():
    # a zoomed, rolled camera: each token's world point is where toyworld.render samples it
    cam = np.array([[0.0, 0.0, 1.0, 0.0], [0.07, -0.03, 1.3, 20.0]])
    wx, wy = _world_xy(cam)
    sx = ((np.arange(8) + 0.5) / 8 - 0.5)
    sy = 0.5 - (np.arange(8) + 0.5) / 8
    sx, sy = np.meshgrid(sx, sy)
    th = np.deg2rad(-20.0)
    ex = 0.07 + (np.cos(th) * sx - np.sin(th) * sy) / 1.3
    ey = -0.03 + (np.sin(th) * sx + np.cos(th) * sy) / 1.3
    assert np.allclose(wx[1], ex.ravel(), atol=1e-9) and np.allclose(wy[1], ey.ravel(), atol=1e-9)
