"""The motion planner (runway_nb/tiny/planner.py): reading the motion from a prompt, finding
the object, placing its path in the frame — checked against the toy world's ground truth."""

from __future__ import annotations

import numpy as np
import pytest

from runway_nb.tiny import planner, toyworld


@pytest.mark.parametrize("motion", toyworld.MOTIONS)
def test_every_caption_phrase_reads_as_its_motion(motion):
    for phrase in toyworld.MOTION_WORDS[motion]:
        plan = planner.read_motion(f"a crimson ball {phrase} across a blue sky")
        assert plan is not None and plan.motion == motion, phrase
        assert plan.color == "red"


@pytest.mark.parametrize("prompt, motion, color", [
    ("a ball moves right", "right", None),
    ("an orange cube travels to the left at night", "left", "orange"),
    ("a violet disc is bouncing on white", "bounce", "purple"),
    ("a blue box going up and a red ball falling", "up", "blue"),            # the first object's
    ("a red ball rolls left while the camera pans right", "left", "red"),
    ("camera pans left: a snowy box rising under the stars", "up", "white"),
    ("a lemon square drifts right; the camera tilts downward", "right", "yellow"),
])
def test_prompts_in_other_words_and_the_camera_kept_apart(prompt, motion, color):
    plan = planner.read_motion(prompt)
    assert (plan.motion, plan.color) == (motion, color)


@pytest.mark.parametrize("prompt", ["a red square on a blue background", "camera pans left",
                                    "the camera rolls clockwise over green meadows",
                                    "tilt up, a golden ball at sunset", "zoom out"])
def test_a_prompt_without_an_object_motion_has_no_plan(prompt):
    assert planner.read_motion(prompt) is None


def _centre(cover):
    ys, xs = np.nonzero(cover > 0.5)
    return np.array([xs.mean(), ys.mean()]), (cover > 0.5).sum()


@pytest.mark.parametrize("motion", ["left", "right", "up", "down", "bounce", "grow", "shrink", "still"])
def test_planned_paths_move_at_the_toy_worlds_speeds(motion):
    """The path the plan asks for is the path the toy world's renderer draws (what training
    showed the model): centre shift and size, measured on rendered coverage."""
    obj = toyworld.ToyObject("square", "red", motion, 0.0, 0.0, 0.18, 1.0)
    scene = toyworld.ToyScene("blue", (obj,))
    frames, fps, size = 12, 8.0, 128
    cover = toyworld.object_coverage(scene, frames, fps, size, size, camera=np.tile([0, 0, 1, 0], (frames, 1)))
    path = planner.motion_path(motion, frames, fps, size)
    c0, a0 = _centre(cover[0])
    for t in (3, 7):                                        # the object still wholly in view
        ct, at = _centre(cover[t])
        np.testing.assert_allclose(ct - c0, path[t, :2], atol=1.0)
        np.testing.assert_allclose(np.sqrt(at / a0), path[t, 2], rtol=0.08)


def test_an_unknown_motion_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown motion 'spin'"):
        planner.motion_path("spin", 8, 8.0, 64)


@pytest.mark.parametrize("background, color, shape", [("green", "red", "circle"), ("sunset", "white", "square"),
                                                      ("night", "yellow", "triangle"), ("gray", "purple", "circle")])
def test_find_object_finds_the_drawn_object(background, color, shape):
    scene = toyworld.ToyScene(background, (toyworld.ToyObject(shape, color, "still", 0.15, 0.05, 0.1),),
                              texture_seed=4)
    frame = toyworld.render(scene, 1, 8.0, 64, 64)[0]
    truth = toyworld.object_coverage(scene, 1, 8.0, 64, 64)[0] > 0.5
    found = planner.find_object(frame, color)
    assert found is not None
    iou = (found & truth).sum() / (found | truth).sum()
    assert iou > 0.6 and found[truth].mean() > 0.95          # all of it, grown by a pixel


def test_find_object_without_an_object_finds_nothing():
    frame = toyworld.render(toyworld.ToyScene("blue", (), texture_seed=2), 1, 8.0, 64, 64)[0]
    assert planner.find_object(frame, "red") is None


def _box_mask(x0, y0, x1, y1, size=64):
    mask = np.zeros((size, size), bool)
    mask[y0:y1, x0:x1] = True
    return mask


def _inside(mask, path, dx, dy, margin=2.0):
    ys, xs = np.nonzero(mask)
    xs, ys = xs + dx, ys + dy
    cx, cy = xs.mean(), ys.mean()
    for ddx, ddy, s in path:
        for x, y in ((xs.min(), ys.min()), (xs.max(), ys.max())):
            px, py = cx + (x - cx) * s + ddx, cy + (y - cy) * s + ddy
            if not (margin - 1e-6 <= px <= 63 - margin + 1e-6 and margin - 1e-6 <= py <= 63 - margin + 1e-6):
                return False
    return True


def test_a_path_that_fits_is_left_alone():
    mask, path = _box_mask(40, 20, 50, 30), planner.motion_path("left", 16, 8.0, 64)
    dx, dy, placed = planner.place_path(mask, path)
    assert (dx, dy) == (0, 0) and np.array_equal(placed, path)


def test_an_object_at_the_edge_it_moves_toward_is_started_further_in():
    mask, path = _box_mask(2, 20, 12, 30), planner.motion_path("left", 16, 8.0, 64)
    dx, dy, placed = planner.place_path(mask, path)
    assert dx > 0 and dy == 0 and np.array_equal(placed, path)       # the whole move, started right
    assert _inside(mask, placed, dx, dy)


def test_a_path_longer_than_the_frame_is_shortened_not_dropped():
    mask, path = _box_mask(30, 20, 40, 30), planner.motion_path("right", 48, 8.0, 64)   # 6 s: 115 px
    dx, dy, placed = planner.place_path(mask, path)
    share = placed[-1, 0] / path[-1, 0]
    assert 0.3 < share < 1.0                                         # still a clear move right
    assert _inside(mask, placed, dx, dy)


def test_relocate_moves_the_object_and_fills_the_hole_with_its_rows():
    scene = toyworld.ToyScene("sunset", (toyworld.ToyObject("square", "white", "still", -0.2, 0.1, 0.1),),
                              texture_seed=1)
    frame = toyworld.render(scene, 1, 8.0, 64, 64)[0]
    mask = toyworld.object_coverage(scene, 1, 8.0, 64, 64)[0] > 0.5
    moved_frame, moved = planner.relocate(frame, mask, 20, -5)
    ys, xs = np.nonzero(mask)
    assert np.array_equal(moved, np.roll(np.roll(mask, -5, 0), 20, 1))
    assert np.array_equal(moved_frame[ys - 5, xs + 20], frame[ys, xs])    # the object, moved
    hole = mask & ~moved
    sky = toyworld.render(toyworld.ToyScene("sunset", (), texture_seed=1), 1, 8.0, 64, 64)[0]
    # the hole is the backdrop again, near enough (a sunset's rows are one colour but for clouds)
    assert np.abs(moved_frame[hole].astype(int) - sky[hole].astype(int)).mean() < 12
    assert np.abs(frame[hole].astype(int) - sky[hole].astype(int)).mean() > 60        # it was white


def _two_copies():
    """A frame with two red circles (the model's 'painted twice') and each one's ground truth."""
    a = toyworld.ToyObject("circle", "red", "still", -0.2, 0.05, 0.1)
    b = toyworld.ToyObject("circle", "red", "still", 0.22, 0.1, 0.08)
    scene = toyworld.ToyScene("blue", (a, b), texture_seed=3)
    frame = toyworld.render(scene, 1, 8.0, 64, 64)[0]
    truth = [toyworld.object_coverage(toyworld.ToyScene("blue", (o,), texture_seed=3), 1, 8.0, 64, 64)[0] > 0.5
             for o in (a, b)]
    return frame, truth


def test_find_strays_finds_the_other_copy_and_not_the_kept_one():
    frame, (first, second) = _two_copies()
    kept = planner.find_object(frame, "red")
    other = second if (kept & first).sum() > (kept & second).sum() else first
    strays = planner.find_strays(frame, kept, "red")
    assert not (strays & kept & ~planner._dilate(other)).any()
    assert strays[other].mean() > 0.95                      # all of the other copy


def test_a_frame_with_one_object_has_no_strays():
    scene = toyworld.ToyScene("green", (toyworld.ToyObject("square", "yellow", "still", 0.0, 0.1, 0.1),),
                              texture_seed=5)
    frame = toyworld.render(scene, 1, 8.0, 64, 64)[0]
    assert not planner.find_strays(frame, planner.find_object(frame, "yellow"), "yellow").any()


def test_relocate_erases_the_strays_it_is_given():
    frame, _ = _two_copies()
    kept = planner.find_object(frame, "red")
    strays = planner.find_strays(frame, kept, "red")
    out, moved = planner.relocate(frame, kept, 0, 4, erase=strays)
    sky = toyworld.render(toyworld.ToyScene("blue", (), texture_seed=3), 1, 8.0, 64, 64)[0]
    gone = strays & ~moved
    assert np.abs(out[gone].astype(int) - sky[gone].astype(int)).mean() < 12
    assert planner.find_strays(out, moved, "red").sum() == 0


def _pan(px_per_frame, frames=16):
    """Pixel maps of a camera whose picture slides left by `px_per_frame` each frame."""
    maps = np.tile(np.eye(2, 3), (frames, 1, 1))
    maps[:, 0, 2] = -px_per_frame * np.arange(frames)
    return maps


def _seen_inside(mask, path, dx, dy, camera, margin=2.0):
    """Every frame's box corners, moved by the path and filmed by the camera, lie in the frame."""
    ys, xs = np.nonzero(mask)
    xs, ys = xs + dx, ys + dy
    cx, cy = xs.mean(), ys.mean()
    for (ddx, ddy, s), m in zip(path, camera):
        for x, y in ((xs.min(), ys.min()), (xs.max(), ys.min()), (xs.min(), ys.max()), (xs.max(), ys.max())):
            p = m[:, :2] @ [cx + (x - cx) * s + ddx, cy + (y - cy) * s + ddy] + m[:, 2]
            if not (margin - 1e-6 <= p[0] <= 63 - margin + 1e-6 and margin - 1e-6 <= p[1] <= 63 - margin + 1e-6):
                return False
    return True


def test_a_panning_camera_is_allowed_for_where_the_object_starts():
    # a still object near the left edge, the picture sliding left 2 px a frame: it would leave
    mask, path, camera = _box_mask(6, 20, 16, 30), planner.motion_path("still", 16, 8.0, 64), _pan(2.0)
    assert not _seen_inside(mask, path, 0, 0, camera)
    dx, dy, placed = planner.place_path(mask, path, camera=camera)
    assert dx > 0 and np.array_equal(placed, path) and _seen_inside(mask, placed, dx, dy, camera)


def test_a_move_the_camera_follows_is_not_shortened():
    # 6 s moving right: longer than the frame, so a locked-off shot shortens it; a pan that
    # slides the picture left as fast keeps the object in view, so the whole move is kept
    mask, path = _box_mask(44, 20, 54, 30), planner.motion_path("right", 48, 8.0, 64)
    assert planner.place_path(mask, path)[2][-1, 0] < 0.9 * path[-1, 0]
    follow = _pan(path[-1, 0] / 47, 48)
    dx, dy, placed = planner.place_path(mask, path, camera=follow)
    assert np.array_equal(placed, path) and _seen_inside(mask, placed, dx, dy, follow)


def test_a_camera_that_carries_every_start_out_keeps_the_whole_move():
    mask, path = _box_mask(30, 20, 40, 30), planner.motion_path("left", 16, 8.0, 64)
    dx, dy, placed = planner.place_path(mask, path, camera=_pan(8.0))      # 120 px in 16 frames
    assert np.array_equal(placed, path)


def test_a_continued_path_starts_where_the_last_given_frame_shows_the_object():
    first, last = _box_mask(10, 20, 20, 30), _box_mask(16, 20, 26, 30)       # 6 px right over 4 frames
    path = planner.continue_path("right", first, last, 4, 12, 8.0)
    assert path.shape == (12, 3)
    assert np.allclose(path[:4], [6.0, 0.0, 1.0])                            # held over the given frames
    own = planner.motion_path("right", 9, 8.0, 64)
    assert np.allclose(path[3:, 0], 6.0 + own[:, 0]) and (np.diff(path[3:, 0]) > 0).all()


def test_a_continued_path_takes_out_what_the_camera_did():
    # the picture slid left 2 px a frame over 4 given frames: the object's own offset is nil
    first, last = _box_mask(30, 20, 40, 30), _box_mask(24, 20, 34, 30)
    path = planner.continue_path("still", first, last, 4, 8, 8.0, camera=_pan(2.0, 8))
    assert np.allclose(path, [0.0, 0.0, 1.0])


@pytest.mark.parametrize("prompt, shape", [
    ("a ball moves right", "circle"), ("an orange cube travels to the left at night", "square"),
    ("a blue box going up and a red ball falling", "square"),                  # the first object's
    ("camera pans left: a violet pyramid rising under the stars", "triangle"), ("something drifts left", None),
])
def test_the_plan_reads_the_objects_shape_word(prompt, shape):
    assert planner.read_motion(prompt).shape == shape


@pytest.mark.parametrize("shape", ["square", "triangle", "circle"])
def test_reshape_redraws_the_object_as_the_toy_world_draws_the_named_shape(shape):
    # the draft's object (here a soft-edged circle, as the model paints most objects) redrawn
    # as the prompt's shape: the same place and size, the toy world's own drawing of it, and
    # read back as that shape by the evaluation's shape rule
    from runway_nb.tiny.analyzer import _shape

    def scene(s, size):
        return toyworld.ToyScene("green", (toyworld.ToyObject(s, "red", "still", 0.05, 0.1, size),), texture_seed=2)

    frame = toyworld.render(scene("circle", 0.13), 1, 8.0, 64, 64)[0]
    mask = toyworld.object_coverage(scene("circle", 0.13), 1, 8.0, 64, 64)[0] > 0.5
    out, new = planner.reshape(frame, mask, shape, "red")
    assert _shape(new[None], np.zeros(1)) == shape
    ys, xs = np.nonzero(mask)
    ny, nx = np.nonzero(new)
    assert abs(new.sum() / mask.sum() - 1) < 0.1
    assert np.hypot(nx.mean() - xs.mean(), ny.mean() - ys.mean()) < 1.5
    # pixel for pixel close to the toy world's own render of that shape at that size
    size = {"circle": 0.13, "square": 0.13 * np.sqrt(np.pi) / (2 * 0.88),
            "triangle": 0.13 * np.sqrt(np.pi / (0.36 * 3 * np.sqrt(3)))}[shape]
    truth = toyworld.render(scene(shape, size), 1, 8.0, 64, 64)[0]
    near = np.zeros_like(mask)
    near[max(ys.min() - 6, 0):ys.max() + 7, max(xs.min() - 6, 0):xs.max() + 7] = True
    assert np.abs(out[near].astype(int) - truth[near].astype(int)).mean() < 12
