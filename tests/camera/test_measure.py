"""The Director Mode oracle: on toy-world renders of known paths, the measured camera path
is the requested one (so eval numbers measure the engine, not the estimator)."""

from __future__ import annotations

import numpy as np
import pytest

from runway_nb.camera import CameraPath
from runway_nb.camera.plot import compare_paths, compare_tracks
from runway_nb.eval_director import (brush_combos, brush_row, camera_combos, camera_row, print_camera,
                                     wilson_interval)
from runway_nb.tiny import toyworld
from runway_nb.tiny.motion import (centre_error_px, classify_move, measure_camera, moves_on_axis, object_masks,
                                   stray_share, track)

MOVES = ("pan_left", "pan_right", "tilt_up", "tilt_down", "zoom_in", "zoom_out", "roll_cw", "roll_ccw")


@pytest.mark.parametrize("background", ["blue", "night", "sunset"])
@pytest.mark.parametrize("move", MOVES)
def test_a_rendered_path_is_measured_back(move, background):
    scene = toyworld.ToyScene(background, (toyworld.ToyObject("square", "red", "left", 0.1, 0.05, 0.1),),
                              texture_seed=7)
    requested = CameraPath.preset(move, 0.8).per_frame(16, 8.0)
    frames = toyworld.render(scene, 16, 8.0, 64, 64, camera=requested)
    measured = measure_camera(frames, object_masks(frames, "red"))   # the object's own motion left out
    assert classify_move(measured[-1], 64, 64) == move
    assert centre_error_px(requested, measured, 64, 64).mean() < 0.5
    row = camera_row(requested, measured, move)
    assert row["direction"] and row["on_axis"] and row["zoom_pct"] < 3 and row["roll_deg"] < 1.5


@pytest.mark.parametrize("move", MOVES)
def test_on_axis_reads_the_requested_axis_alone(move):
    requested = CameraPath.preset(move, 1.0).per_frame(16, 8.0)[-1]
    assert moves_on_axis(requested, move, 64, 64)
    opposite = {"left": "right", "right": "left", "up": "down", "down": "up", "in": "out", "out": "in",
                "cw": "ccw", "ccw": "cw"}
    kind, way = move.split("_")
    assert not moves_on_axis(requested, f"{kind}_{opposite[way]}", 64, 64)
    assert not moves_on_axis([0.0, 0.0, 1.0, 0.0], move, 64, 64)          # a still camera: no axis moves
    if kind in ("pan", "tilt"):
        # the same move with a spurious 15 % zoom: the dominant move is a zoom, the axis still right
        zoomed = np.array(requested) * [1, 1, 1.15, 1]
        assert classify_move(zoomed, 64, 64) == "zoom_in" and moves_on_axis(zoomed, move, 64, 64)


def test_a_still_clip_measures_static():
    frames = np.repeat(toyworld.render(toyworld.ToyScene("green", ()), 1, 8.0, 64, 64), 6, axis=0)
    measured = measure_camera(frames)
    np.testing.assert_allclose(measured, np.tile([0, 0, 1, 0], (6, 1)), atol=1e-2)
    assert classify_move(measured[-1], 64, 64) == "static"


def test_track_follows_an_object_and_says_when_it_is_gone():
    scene = toyworld.ToyScene("blue", (toyworld.ToyObject("circle", "yellow", "right", -0.3, 0.0, 0.08),))
    frames = toyworld.render(scene, 8, 8.0, 64, 64)
    xy = track(frames, "yellow")
    assert (np.diff(xy[:, 0]) > 0).all() and np.ptp(xy[:, 1]) < 0.5
    assert np.isnan(track(frames, "red")).all()


def test_held_out_combinations_are_fixed_and_cover_every_move():
    a, b = camera_combos(16), camera_combos(16)
    assert [c["prompt"] for c in a] == [c["prompt"] for c in b]
    assert {c["move"] for c in a} == set(MOVES)
    assert all(toyworld.is_held_out(c["scene"].objects[0].color, c["scene"].objects[0].shape,
                                    c["scene"].background, c["scene"].objects[0].motion) for c in a)
    camera_words = [w for words in toyworld.CAMERA_WORDS.values() for w in words]
    assert not any(w in c["prompt"] for c in a for w in camera_words)     # the path is the only cue
    brushes = brush_combos(8)
    assert {c["direction"] for c in brushes} == {"right", "left", "up", "down"}
    assert all(len(c["scene"].objects) == 2 for c in brushes)


@pytest.mark.parametrize("move", ["pan_left", "tilt_up", "zoom_in"])
def test_a_brush_row_under_a_moving_camera_expects_what_the_camera_films(move):
    # the toy world filming two still objects with the camera, a brush asking for no motion:
    # the brushed and the other object are where the camera carries them, the camera as asked
    combo = {**brush_combos(1)[0], "horizontal": 0.0, "vertical": 0.0}
    requested = CameraPath.preset(move, 1.0).per_frame(17, 8.0)
    clip = toyworld.render(combo["scene"], 17, 8.0, 64, 64, camera=requested)
    row = brush_row(clip[1:], clip[0], combo, None, requested)
    # (an object the pan carries to the edge is partly cut off: its centroid drifts a little)
    assert row["trajectory_pct"] < 2.5 and row["other_object_pct"] < 2.5 and row["background_pct"] < 1.0
    # the same clip judged as if the camera had been locked off is far off
    locked = brush_row(clip[1:], clip[0], combo, None)
    assert locked["trajectory_pct"] > 3 * row["trajectory_pct"] and locked["trajectory_pct"] > 4


def test_track_follows_the_object_not_stars_of_its_colour():
    # a white square on a night sky full of white stars, filmed panning: tracked where the
    # same square is tracked on a plain sky, to under a pixel (its anti-aliased edge meets a
    # different sky); the old centroid of every white pixel was 3.4 px off
    pan = CameraPath.preset("pan_left", 1.0).per_frame(17, 8.0)
    square = toyworld.ToyObject("square", "white", "still", -0.2, 0.08, 0.1)
    night, plain = (toyworld.render(toyworld.ToyScene(bg, (square,), texture_seed=590), 17, 8.0, 64, 64,
                                    camera=pan) for bg in ("night", "blue"))
    assert np.abs(track(night, "white") - track(plain, "white")).max() < 1.0


def test_a_second_copy_of_the_tracked_colour_is_counted_as_stray():
    one = toyworld.ToyObject("square", "red", "right", -0.25, -0.1, 0.1)
    copy = toyworld.ToyObject("square", "red", "still", 0.25, 0.15, 0.07)      # a smaller second copy
    single = toyworld.render(toyworld.ToyScene("blue", (one,)), 8, 8.0, 64, 64)
    double = toyworld.render(toyworld.ToyScene("blue", (one, copy)), 8, 8.0, 64, 64)
    assert np.abs(track(double, "red") - track(single, "red")).max() < 0.5   # the same one followed
    assert np.all(stray_share(single, "red", track(single, "red")) == 0)
    stray = stray_share(double, "red", track(double, "red"))
    assert np.all((stray > 0.35) & (stray < 0.65))                  # ≈ (0.07 / 0.1)² of the object
    # a track from another clip, over frames without the colour: no stray to count, no error
    assert np.isnan(stray_share(np.zeros_like(single), "red", track(single, "red"))).all()


def test_a_brush_target_the_camera_carries_out_of_the_picture_is_not_scored():
    # the right-hand object, asked to hold still, under a pan that carries it out of the
    # frame: the frames where its target is outside are counted apart, not scored against
    # the visible sliver at the border
    combo = {**brush_combos(2)[1], "horizontal": 0.0, "vertical": 0.0}
    assert combo["object"] == 1
    requested = CameraPath.preset("pan_left", 1.5).per_frame(17, 8.0)
    clip = toyworld.render(combo["scene"], 17, 8.0, 64, 64, camera=requested)
    row = brush_row(clip[1:], clip[0], combo, None, requested)
    assert 10 < row["target_out_pct"] < 90
    assert row["trajectory_pct"] < 2.5 and row["lost_pct"] == 0 and row["success"]


def test_plots_are_svg():
    cam = CameraPath.preset("orbit").per_frame(16, 8.0)
    svg = compare_paths(cam, {"measured": cam * 1.1}, fps=8)._repr_svg_()
    assert svg.startswith("<svg") and svg.count("<polyline") >= 8 and "requested" in svg
    xy = np.stack([np.linspace(10, 50, 16), np.full(16, 30.0)], 1)
    assert "<circle" in compare_tracks(xy, {"seen": xy + 1}, 64, 64)._repr_svg_()


def test_the_camera_eval_measures_warp_with_the_camera_input_on_and_off(smoke_pipeline, monkeypatch):
    """`--modes warp,warp-only`: the same paths rendered in warp mode with the tiny engine's
    camera input on, then off (the issue's training-free target), and the engine left as it was."""
    from runway_nb.engines.tiny import TinyEngine
    from runway_nb.eval_director import evaluate_camera

    engine = TinyEngine(smoke_pipeline)
    seen = []
    real = type(engine.pipe).__call__

    def spy(pipe, *args, **kwargs):
        seen.append((engine.warp_camera_input, kwargs["camera"] is not None, kwargs["warp_camera"] is not None))
        return real(pipe, *args, **kwargs)

    monkeypatch.setattr(type(engine.pipe), "__call__", spy)
    out = evaluate_camera(engine, camera_combos(2), modes=("warp", "warp-only"), steps=1, progress=False)
    assert seen == [(True, True, True)] * 2 + [(False, False, True)] * 2
    assert engine.warp_camera_input is True
    assert set(out) == {"truth", "virtual on truth", "warp", "warp-only"}
    assert all(len(out[m]["rows"]) == 2 for m in out)
    skies = [c["scene"].background for c in camera_combos(2)]
    assert all([row["background"] for row in out[m]["rows"]] == skies for m in out)


def test_the_model_still_mode_checks_the_ruler_on_the_engines_own_picture():
    """`--modes model-still`: each clip's first frame, frozen and moved by the exact window —
    the measurement must read the requested path back where only the camera moves."""
    from runway_nb.engines.base import Capabilities, Engine
    from runway_nb.eval_director import evaluate_camera

    class ToyWorldEngine(Engine):           # its "model" films the toy world; its object moves
        id = "toy-world"
        def __init__(self):
            self.capabilities = Capabilities(camera_modes=("virtual",), max_frames=32, default_steps=1)
            self.shots = []

        def _render(self, shot, on_step, cancel, init_frames, progress, started):
            self.shots.append(shot)
            scene = toyworld.ToyScene("green", (toyworld.ToyObject("square", "red", "right", -0.2, 0.0, 0.1),),
                                      texture_seed=5)
            return toyworld.render(scene, shot.frames, shot.fps, shot.width, shot.height)

    engine = ToyWorldEngine()
    out = evaluate_camera(engine, camera_combos(8), modes=("model-still",), progress=False)
    assert len(engine.shots) == 8 and all(s.camera is None for s in engine.shots)
    rows = out["model-still"]["rows"]
    assert [r["move"] for r in rows] == list(MOVES) and all(r["direction"] for r in rows)
    # (a window enlarging flat sky reads a tilt a couple of pixels off; the mean stays under 1)
    assert out["model-still"]["metrics"]["translation_px"] < 1.0


def test_direction_accuracy_is_printed_with_its_95_percent_interval(capsys):
    """64 paths measure an accuracy to about ±11 points: the table says how far, so a
    6-point change between two runs is not read as progress."""
    lo, hi = wilson_interval(32, 64)
    assert (round(lo, 3), round(hi, 3)) == (0.381, 0.619)          # the Wilson score interval
    lo, hi = wilson_interval(64, 64)
    assert hi == 1.0 and 0.94 < lo < 0.95                          # stays inside 0–1 at n of n
    assert wilson_interval(0, 10)[0] == 0.0
    metrics = {"direction": 67.2, "on_axis": 93.8, "translation_pct": 3.6, "translation_px": 2.3,
               "zoom_pct": 5.9, "roll_deg": 2.7}
    print_camera({"native": {"metrics": metrics, "rows": [{"direction": i < 43} for i in range(64)]}})
    out = capsys.readouterr().out
    assert "95 % interval" in out and "55–77" in out


def test_direction_is_also_reported_per_sky_starry_apart():
    from runway_nb.eval_director import direction_by_sky

    rows = [{"background": "black", "direction": False}, {"background": "night", "direction": True},
            {"background": "blue", "direction": True}, {"background": "blue", "direction": True},
            {"background": "green", "direction": False}]
    # every sky listed after the groups, apart from them: black and night are not "the rest"
    assert direction_by_sky(rows) == ("direction by sky: starry 1/2, the rest 2/3; "
                                      "per sky: black 0/1, blue 2/2, green 0/1, night 1/1")
    assert direction_by_sky([{"direction": True}]) == ""                  # older JSON: no skies recorded
    assert direction_by_sky(rows[2:]) == "direction by sky: the rest 2/3; per sky: blue 2/2, green 0/1"


def test_a_brushed_object_never_found_is_a_failed_clip_not_a_nan():
    # (a NaN row would turn the whole summary into NaN)
    combo = brush_combos(1)[0]
    blank = np.zeros((64, 64, 3), np.uint8)
    row = brush_row(np.repeat(blank[None], 16, axis=0), blank, combo, None)
    assert row["success"] is False and row["lost_pct"] == 100.0 and row["trajectory_pct"] == 100.0
    assert all(np.isfinite(v) for v in row.values() if isinstance(v, float))
