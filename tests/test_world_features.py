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


# ---- camera-aligned temporal attention ----------------------------------------------------

def _slot_cameras(move: str, intensity: float = 1.2) -> np.ndarray:
    """A 16-frame path held constant within each 2-frame slot (so a slot's camera is exact)."""
    from runway_nb.camera import CameraPath

    path = CameraPath.preset(move, intensity).per_frame(16, 8.0)
    return np.repeat(path[::2], 2, axis=0)


def test_aligned_grid_puts_each_point_where_the_camera_films_it():
    # against the pixel maps the warp mode and the oracle use (camera/geometry.frame_transform),
    # on the 8 × 8 token grid: slot 0's token centres, carried to every slot
    from runway_nb.camera.geometry import frame_transform
    from runway_nb.tiny.model import aligned_grid

    for move in ("pan_left", "tilt_up", "zoom_in", "roll_cw"):
        cam = _slot_cameras(move)
        grid, valid = aligned_grid(camera_features(torch.tensor(cam))[None], 8, 8, 2)
        ys, xs = np.mgrid[0:8, 0:8]
        centres = np.stack([xs.ravel(), ys.ravel(), np.ones(64)])             # token (col, row)
        for slot in range(8):
            expected = frame_transform(cam[2 * slot: 2 * slot + 1], 8, 8)[0] @ centres   # (2, N)
            got = (grid[0, 0, slot].numpy() + 1) * 8 / 2 - 0.5                          # back to token units
            np.testing.assert_allclose(got, expected.T, atol=1e-6, err_msg=f"{move}, slot {slot}")
            inside = (expected > -0.5) & (expected < 7.5)
            assert (valid[0, 0, slot].numpy() == inside.all(0)).all()


def test_aligned_temporal_attention_is_the_plain_one_for_a_locked_off_camera():
    from runway_nb.tiny.model import TinyVideoDiT

    torch.manual_seed(0)
    plain = TinyVideoDiT(dim=32, depth=2, heads=2, text_dim=32, camera_world=True)
    for prm in plain.parameters():                # adaLN-Zero starts every block as the identity:
        torch.nn.init.normal_(prm, std=0.2)      # random weights, so the blocks do something
    aligned = TinyVideoDiT(dim=32, depth=2, heads=2, text_dim=32, camera_world=True, camera_aligned=True)
    aligned.load_state_dict(plain.state_dict())
    b = 2
    inputs = dict(latents=torch.randn(b, 16, 4, 16, 16), timestep=torch.tensor([300.0, 700.0]),
                  text=torch.randn(b, 5, 32), text_mask=torch.ones(b, 5, dtype=torch.bool),
                  known=torch.zeros(b, 16, 4, 16, 16), known_mask=torch.zeros(b, 16, dtype=torch.bool))
    still = camera_features(torch.tensor(_slot_cameras("static"), dtype=torch.float32))[None].expand(b, -1, -1)
    pan = camera_features(torch.tensor(_slot_cameras("pan_left"), dtype=torch.float32))[None].expand(b, -1, -1)
    known = torch.tensor([True, True])
    with torch.no_grad():
        same = [m(camera=still, camera_known=known, **inputs) for m in (plain, aligned)]
        unknown = [m(camera=pan, camera_known=~known, **inputs) for m in (plain, aligned)]   # "no camera"
        moving = [m(camera=pan, camera_known=known, **inputs) for m in (plain, aligned)]
    torch.testing.assert_close(same[0], same[1], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(unknown[0], unknown[1], atol=1e-5, rtol=1e-4)
    assert (moving[0] - moving[1]).abs().max() > 1e-2        # a pan: keys fetched along the camera
