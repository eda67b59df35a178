"""Upscale and interpolate, measured against the toy world's exact ground truth."""

from __future__ import annotations

import numpy as np
import pytest

from runway_nb.errors import InvalidInput
from runway_nb.ops.interpolate import interpolate_frames
from runway_nb.ops.upscale import upscale_frames
from runway_nb.tiny import toyworld


def psnr(a, b):
    return 10 * np.log10(255.0**2 / np.mean((a.astype(np.float64) - b) ** 2))


def scenes(n, seed=11):
    rng = np.random.default_rng(seed)
    return [toyworld.sample_scene(rng, "eval") for _ in range(n)]


def test_flow_interpolation_beats_cross_fading_on_ground_truth():
    flow, blend = [], []
    for scene in scenes(6):
        truth = toyworld.render(scene, 17, 16.0, 64, 64)        # 16 fps ground truth
        half = truth[::2]                                       # what an 8 fps clip holds
        for method, scores in (("flow", flow), ("blend", blend)):
            made = interpolate_frames(half, 2, method)
            assert made.shape == truth.shape
            np.testing.assert_array_equal(made[::2], half)      # original frames are kept
            scores.append(psnr(made[1::2], truth[1::2]))
    assert np.mean(flow) > np.mean(blend) + 1.0


def test_interpolation_refuses_what_it_cannot_do():
    frames = np.zeros((1, 8, 8, 3), np.uint8)
    with pytest.raises(InvalidInput, match="at least 2 frames"):
        interpolate_frames(frames, 2)
    with pytest.raises(InvalidInput, match="factor"):
        interpolate_frames(np.zeros((3, 8, 8, 3), np.uint8), 1)
    with pytest.raises(InvalidInput, match="method"):
        interpolate_frames(np.zeros((3, 8, 8, 3), np.uint8), 2, "magic")


@pytest.mark.parametrize("factor", [2, 4])
def test_upscale_beats_bicubic_on_ground_truth(factor):
    ours, bicubic = [], []
    for scene in scenes(16, seed=2024 + factor):
        low = toyworld.render(scene, 2, 8.0, 64, 64)
        high = toyworld.render(scene, 2, 8.0, 64 * factor, 64 * factor)
        up, used = upscale_frames(low, factor)
        assert up.shape == high.shape and up.dtype == np.uint8
        ours.append(psnr(up, high))
        bicubic.append(psnr(upscale_frames(low, factor, "bicubic")[0], high))
    if used == "learned":
        assert np.mean(ours) > np.mean(bicubic) + 0.5
    else:  # without the learned weights the default falls back to Lanczos
        assert used == "lanczos" and np.mean(ours) >= np.mean(bicubic) - 0.2


def test_upscale_refuses_unsupported_factors_and_methods():
    frames = np.zeros((1, 8, 8, 3), np.uint8)
    with pytest.raises(InvalidInput, match="factor=3.*2, 4"):
        upscale_frames(frames, 3)
    with pytest.raises(InvalidInput, match="method"):
        upscale_frames(frames, 2, "nearest-ish")


def test_clip_methods_keep_the_parent_and_leave_the_original_untouched():
    import warnings

    from runway_nb import Clip, Shot

    frames = toyworld.render(scenes(1)[0], 4, 8.0, 64, 64)
    clip = Clip(frames, 8, shot=Shot("a ball", seed=1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")            # read-only frames must not trouble torch
        big = clip.upscale(2)
    smooth = clip.interpolate(2)
    assert big.frames.shape == (4, 128, 128, 3) and big.parent is clip
    assert smooth.fps == 16 and len(smooth) == 7 and smooth.parent is clip
    np.testing.assert_array_equal(clip.frames, frames)
