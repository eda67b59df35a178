"""Layout guidance (runway_nb/tiny/guidance.py): what a brushed render's target is where a
moving camera reveals ground frame 0 never showed."""

from __future__ import annotations

import numpy as np
import torch

from runway_nb.camera.geometry import frame_transform
from runway_nb.tiny.guidance import LayoutGuide, warp

T, H, W = 4, 8, 8


def _scene():
    """Frame 0: each row one value (a sky over a ground), an object of value 5 in the middle,
    the later frames' estimates full of 9 (a second object the model is painting)."""
    rows = torch.arange(H, dtype=torch.float32)[:, None].expand(H, W)
    anchor = rows[None].clone()
    anchor[0, 3:5, 3:5] = 5.0
    x0 = torch.full((T, 1, H, W), 9.0)
    x0[0] = anchor
    region = np.zeros((4 * H, 4 * W), np.float32)
    region[12:20, 12:20] = 1.0                                    # the object, in pixels (×4)
    still = np.tile(np.eye(2, 3), (T, 1, 1))
    camera = np.zeros((T, 4))
    camera[:, 0] = 0.1 * np.arange(T)                             # pans right: new ground on the right
    camera[:, 2] = 1.0
    return anchor, x0, [(region, still)], camera


def _revealed(camera):
    _, inside = warp(torch.zeros(1, H, W), frame_transform(camera, W, H))
    return inside[:, 0] < 0.5


def test_revealed_ground_is_pulled_to_the_object_free_backdrop():
    anchor, x0, brushes, camera = _scene()
    out = LayoutGuide(camera, brushes, 4, (H, W), steps=5, reveal=1.0)(0, x0, 0, anchor=anchor)
    new = _revealed(camera)
    assert new[1:].any()
    rows = torch.arange(H, dtype=torch.float32)[:, None].expand(H, W)
    # the revealed columns continue each row's own backdrop (no 9s, no copy of the object)
    assert torch.allclose(out[:, 0][new], rows.expand(T, H, W)[new], atol=1e-4)


def test_without_reveal_new_ground_is_the_models_own():
    anchor, x0, brushes, camera = _scene()
    out = LayoutGuide(camera, brushes, 4, (H, W), steps=5, reveal=0.0)(0, x0, 0, anchor=anchor)
    new = _revealed(camera)
    assert torch.equal(out[:, 0][new], x0[:, 0][new])


def test_reveal_needs_a_brush_a_plain_warp_leaves_new_ground_alone():
    # without a brushed region the backdrop still holds the object: copying its edge outward
    # could smear the object, so the revealed ground stays the model's
    anchor, x0, _, camera = _scene()
    out = LayoutGuide(camera, [], 4, (H, W), steps=5, reveal=1.0)(0, x0, 0, anchor=anchor)
    new = _revealed(camera)
    assert torch.equal(out[:, 0][new], x0[:, 0][new])


def test_the_guide_works_on_the_device_of_the_estimates():
    """A GPU render guides on the GPU: every tensor the guide makes or keeps follows the
    estimates' device. "meta" tensors (shapes, no data) stand in for a GPU here — mixing
    them with CPU tensors fails the way mixing CUDA and CPU ones does."""
    anchor, x0, brushes, camera = _scene()
    for device in ("cpu", "meta"):
        a, x = anchor.to(device), x0.to(device)
        warped = LayoutGuide(camera, brushes, 4, (H, W), steps=5, reveal=1.0)(0, x, 0, anchor=a)
        planned = LayoutGuide(None, brushes, 4, (H, W), steps=5, first_frame=a)(0, x, 0)
        assert warped.device.type == planned.device.type == device
        assert warped.shape == planned.shape == x0.shape


def test_the_guide_says_where_it_pulled_so_the_sampler_replaces_only_there():
    # the sampler puts the guided estimate into its latents weighted by `pull`: full weight
    # where the target is known, none on the anchor frame, on given frames, on ground the
    # camera reveals without a brush, and after the guided steps
    anchor, x0, _, camera = _scene()
    guide = LayoutGuide(camera, [], 4, (H, W), steps=5)
    out, pull = guide.pull(0, x0, 1, anchor=anchor)
    assert torch.equal(out, guide(0, x0, 1, anchor=anchor))
    new = _revealed(camera)
    assert pull.shape == (T, 1, H, W) and torch.all(pull[0] == 0)
    assert torch.all(pull[:, 0][new] == 0) and torch.all(pull[1:, 0][~new[1:]] == 1)
    _, given = guide.pull(0, x0, 2, anchor=anchor)
    assert torch.all(given[:2] == 0) and torch.equal(given[2:], pull[2:])
    late, none = guide.pull(5, x0, 1, anchor=anchor)
    assert torch.equal(late, x0) and torch.all(none == 0)


def test_revealed_ground_continues_each_rows_backdrop_not_its_edge_pixel():
    # a star at the frame's edge is not drawn outward into a streak across the new ground:
    # with the latents put on the target, an edge pixel copied outward became one
    anchor, x0, brushes, camera = _scene()
    anchor[0, 1, W - 1] = 50.0                                    # a star at the right edge
    out = LayoutGuide(camera, brushes, 4, (H, W), steps=5, reveal=1.0)(0, x0, 0, anchor=anchor)
    new = _revealed(camera)
    row_mean = anchor[0, 1].mean()
    assert new[1:, 1].any()
    assert torch.allclose(out[:, 0, 1][new[:, 1]], row_mean.expand(int(new[:, 1].sum())), atol=1e-4)
