"""The virtual camera: a window moved over a static render applies exactly the requested path."""

from __future__ import annotations

import numpy as np
import pytest

from runway_nb.camera import CameraPath
from runway_nb.camera.geometry import camera_from_transform, frame_transform, relative_camera
from runway_nb.camera.virtual import apply_window, needed_margin, plan_window, window_matrices
from runway_nb.tiny import toyworld
from runway_nb.tiny.motion import centre_error_px, measure_camera, object_masks, track

SCENE = toyworld.ToyScene("blue", (toyworld.ToyObject("circle", "red", "still", 0.12, 0.05, 0.09),),
                          texture_seed=5)
MOVES = ["pan_left:1.2", "tilt_up:1.2", "zoom_in:1.2", "zoom_out:1.2", "roll_cw:1.2"]


def path(spec: str) -> np.ndarray:
    name, intensity = spec.split(":")
    return CameraPath.preset(name, float(intensity)).per_frame(16, 8.0)


def filmed(cam: np.ndarray, sizes) -> np.ndarray:
    """The virtual camera over the toy world's static render at the plan's source size: the
    source shows 1 / margin of the view, so its central window is the shot's first frame."""
    plan = plan_window(cam, 64, 64, sizes=sizes)
    ws, hs = plan.source_size
    static = np.tile([0.0, 0.0, 1.0 / plan.margin, 0.0], (len(cam), 1))
    source = toyworld.render(SCENE, len(cam), 8.0, ws, hs, camera=static)
    return apply_window(source, cam, plan)


def test_geometry_round_trips_and_rebases():
    cam = np.array([[0.0, 0.0, 1.0, 0.0], [0.1, -0.05, 1.3, 12.0], [-0.2, 0.3, 0.7, -40.0]])
    back = camera_from_transform(frame_transform(cam, 80, 64), 80, 64)
    np.testing.assert_allclose(back, cam, atol=1e-12)
    rebased = relative_camera(cam, 1)
    np.testing.assert_allclose(rebased[1], [0, 0, 1, 0], atol=1e-12)


@pytest.mark.parametrize("sizes", [[(64, 64), (128, 128), (192, 192)], [(64, 64)]],
                         ids=["oversampled", "native-size"])
@pytest.mark.parametrize("move", MOVES)
def test_the_window_follows_the_path_to_a_pixel(move, sizes):
    cam = path(move)
    frames = filmed(cam, sizes)
    truth = toyworld.render(SCENE, 16, 8.0, 64, 64, camera=cam)
    # the object lands where the real camera puts it ...
    err = np.hypot(*(track(frames, "red") - track(truth, "red")).T)
    assert np.nanmax(err) <= 1.0
    # ... and the scene's measured motion is the requested path
    measured = measure_camera(frames, object_masks(frames, "red"))
    assert centre_error_px(cam, measured, 64, 64).max() <= 1.0


def test_an_oversampled_source_is_never_enlarged():
    cam = path("pan_right:1.0")
    plan = plan_window(cam, 64, 64, sizes=[(64, 64), (96, 96), (128, 128), (256, 256), (128, 64)])
    assert plan.source_size == (128, 128) and plan.covered       # the smallest that holds the path
    scale = np.sqrt(np.abs(np.linalg.det(window_matrices(cam, plan)[:, :, :2])))
    assert (scale >= 1.0).all()                                   # source pixels per output pixel


def test_a_static_camera_is_the_identity():
    still = CameraPath.static().per_frame(4, 8.0)
    plan = plan_window(still, 64, 64, sizes=[(64, 64), (128, 128)])
    assert (plan.source_size, plan.margin) == ((64, 64), 1.0)
    frames = np.random.default_rng(0).integers(0, 255, (4, 64, 64, 3), dtype=np.uint8)
    np.testing.assert_array_equal(apply_window(frames, still, plan), frames)


def test_a_path_beyond_the_margin_cap_says_it_is_not_covered():
    cam = CameraPath.preset("pan_left", 5.0).per_frame(16, 8.0)
    assert needed_margin(cam, 64, 64) > 3.0
    plan = plan_window(cam, 64, 64, sizes=[(64, 64)])
    assert plan.margin == 3.0 and not plan.covered and plan.as_dict()["covered"] is False
    frames = apply_window(np.zeros((16, 64, 64, 3), np.uint8), cam, plan)
    assert frames.shape == (16, 64, 64, 3)


def test_frames_and_camera_must_agree():
    cam = path("pan_left:1.0")
    plan = plan_window(cam, 64, 64)
    with pytest.raises(ValueError, match="camera rows"):
        apply_window(np.zeros((3, 64, 64, 3), np.uint8), cam, plan)
    with pytest.raises(ValueError, match="zoom > 0"):
        apply_window(np.zeros((16, 64, 64, 3), np.uint8), cam * [1, 1, 0, 1], plan)
