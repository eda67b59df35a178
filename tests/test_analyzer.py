"""The evaluation oracle reads the toy world's own renders correctly (its ceiling), and
the eval harness scores broken generators low."""

from __future__ import annotations

import json

import numpy as np

from runway_nb import eval as rn_eval
from runway_nb.tiny import toyworld
from runway_nb.tiny.analyzer import analyze


def truth(scene, i):
    return toyworld.render(scene, 16, 8.0, 64, 64)


def test_oracle_reads_ground_truth():
    report = rn_eval.evaluate(truth, rn_eval.eval_scenes(60, seed=3), progress=False)
    m = report["metrics"]
    assert m["background"] >= 97 and m["color"] >= 80 and m["shape"] >= 75
    assert m["camera"] >= 95 and m["motion"] >= 70      # camera: flow + RANSAC path (tiny/motion.py)


def test_camera_directions_follow_the_film_convention():
    obj = toyworld.ToyObject("circle", "red", "still", 0.0, 0.05, 0.1)
    for move in ("pan_left", "pan_right", "tilt_up", "tilt_down", "zoom_in", "zoom_out",
                 "roll_cw", "roll_ccw", "static"):
        scene = toyworld.ToyScene("blue", (obj,), move, 1.0)
        assert analyze(truth(scene, 0)).camera == move


def test_a_broken_generator_scores_low(tmp_path):
    scenes = rn_eval.eval_scenes(20, seed=4)
    gray = rn_eval.evaluate(lambda s, i: np.full((16, 64, 64, 3), 128, np.uint8), scenes, progress=False)
    assert gray["metrics"]["color"] == 0 and gray["metrics"]["background"] < 50
    backwards = rn_eval.evaluate(lambda s, i: truth(s, i)[::-1], scenes, progress=False)
    forwards = rn_eval.evaluate(truth, scenes, progress=False)
    assert backwards["metrics"]["camera"] < forwards["metrics"]["camera"] - 20
    json.dumps(forwards)   # the report is JSON-ready


def test_eval_prompts_are_held_out_from_training():
    for scene in rn_eval.eval_scenes(30):
        o = scene.objects[0]
        assert toyworld.is_held_out(o.color, o.shape, scene.background, o.motion)
