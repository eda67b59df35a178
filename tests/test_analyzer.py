"""The evaluation oracle reads the toy world's own renders correctly (its ceiling), and
the eval harness scores broken generators low."""

from __future__ import annotations

import json

import numpy as np
import pytest

from runway_nb import eval as rn_eval
from runway_nb.tiny import toyworld
from runway_nb.tiny.analyzer import analyze, off_scenery
from runway_nb.tiny.motion import object_masks


def truth(scene, i):
    return toyworld.render(scene, 16, 8.0, 64, 64)


def test_oracle_reads_ground_truth():
    report = rn_eval.evaluate(truth, rn_eval.eval_scenes(60, seed=3), progress=False)
    m = report["metrics"]
    assert m["background"] >= 97 and m["color"] >= 97 and m["shape"] >= 93
    assert m["camera"] >= 95 and m["motion"] >= 90      # camera: flow + RANSAC path (tiny/motion.py)


def test_clouds_and_sky_are_not_mistaken_for_a_white_object():
    # grey skies have near-white clouds, white skies light up the rows under the hills
    for bg in ("gray", "white", "blue"):
        for seed in range(3):
            obj = toyworld.ToyObject("triangle", "purple", "up", 0.1, -0.05, 0.1)
            a = analyze(truth(toyworld.ToyScene(bg, (obj,), "static", 1.0, seed * 31), 0))
            assert (a.color, a.shape, a.motion) == ("purple", "triangle", "up"), (bg, seed, a)


def test_off_scenery_counts_a_repainted_sky_not_the_scene_or_its_objects():
    # every sky, filmed panning, objects (grown by their anti-aliased rim) set apart: ~0; the
    # same clip with its top third tinted as a drifting model repaints a sky: that third
    obj = toyworld.ToyObject("square", "red", "right", -0.1, 0.0, 0.12)
    pan = toyworld.camera_for_move("pan_left", 1.0, 12, 8.0)
    for bg in toyworld.SKY:
        clip = toyworld.render(toyworld.ToyScene(bg, (obj,), texture_seed=7), 12, 8.0, 64, 64, camera=pan)
        rims = np.stack([np.pad(m, 1)[:-2, 1:-1] | np.pad(m, 1)[2:, 1:-1] | np.pad(m, 1)[1:-1, :-2]
                         | np.pad(m, 1)[1:-1, 2:] | m for m in object_masks(clip, "red")])
        assert off_scenery(clip, bg, rims).max() < 0.01, bg
        tinted = clip.copy()
        tinted[:, :21] = (0.5 * tinted[:, :21] + [90, 0, 120]).astype(np.uint8)      # a purple cast
        assert 0.25 < off_scenery(tinted, bg, rims).mean() < 0.35, bg


def test_a_rolled_square_is_still_a_square_and_a_second_hop_is_still_a_bounce():
    square = toyworld.ToyObject("square", "yellow", "still", 0.0, 0.05, 0.11)
    assert analyze(truth(toyworld.ToyScene("blue", (square,), "roll_ccw", 1.3), 0)).shape == "square"
    # hops twice in the clip and ends near its highest point, far above where it started
    ball = toyworld.ToyObject("circle", "red", "bounce", 0.0, -0.15, 0.1, speed=0.7)
    assert analyze(truth(toyworld.ToyScene("sunset", (ball,), "static", 1.0), 0)).motion == "bounce"


def test_an_object_wider_than_half_the_frame_is_still_the_object():
    # a row's median is its backdrop only while the object covers less than half of it
    for bg, color in (("gray", "green"), ("sunset", "blue"), ("green", "red")):
        ball = toyworld.ToyObject("circle", color, "grow", 0.0, 0.0, 0.2)     # 26 → 50 px wide
        a = analyze(truth(toyworld.ToyScene(bg, (ball,), "static", 1.0, 2), 0))
        assert (a.color, a.shape, a.motion) == (color, "circle", "grow"), (bg, a)


def test_the_oracle_gives_the_same_answer_twice():
    frames = truth(rn_eval.eval_scenes(1, seed=5)[0], 0)
    assert analyze(frames) == analyze(frames)     # RANSAC is seeded, not left to OpenCV's global RNG


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


def test_a_bad_brush_camera_is_refused_before_any_work(capsys):
    with pytest.raises(SystemExit) as exit_:
        rn_eval.main(["--brushes", "--n", "1", "--brush-camera", "spin"])
    assert exit_.value.code == 2 and "--brush-camera='spin'" in capsys.readouterr().err


@pytest.mark.parametrize("modes, bad", [("native,spin", "spin"), (",", ",")])
def test_an_unknown_camera_mode_is_refused_before_any_work(capsys, modes, bad):
    with pytest.raises(SystemExit) as exit_:
        rn_eval.main(["--camera", "--n", "1", "--modes", modes])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and f"modes={bad!r}" in err and "warp-only" in err


def test_an_unusable_device_is_refused_before_any_work(capsys):
    with pytest.raises(SystemExit) as exit_:
        rn_eval.main(["--camera", "--n", "1", "--device", "abacus"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "device='abacus'" in err and "must be one of cpu, cuda, mps" in err


@pytest.fixture
def no_work(monkeypatch):
    """Any evaluation work (scenes drawn, clips rendered) fails the test: a refusal comes first."""
    from runway_nb import eval_director

    def work(*args, **kwargs):
        raise AssertionError("the evaluation started")

    for module, name in ((rn_eval, "eval_scenes"), (rn_eval, "evaluate"),
                         (eval_director, "camera_combos"), (eval_director, "brush_combos")):
        monkeypatch.setattr(module, name, work)


@pytest.mark.parametrize("argv, flag, needs", [
    (["--modes", "native"], "--modes", "--camera"),
    (["--brushes", "--modes", "native"], "--modes", "--camera"),
    (["--camera-words"], "--camera-words", "--camera"),
    (["--brush-camera", "pan_left"], "--brush-camera", "--brushes"),
    (["--camera", "--brush-camera", "pan_left"], "--brush-camera", "--brushes"),
    (["--camera", "--camera-mode", "warp"], "--camera-mode", "plain evaluation"),
    (["--brushes", "--motion-mode", "native"], "--motion-mode", "plain evaluation")])
def test_a_flag_the_chosen_evaluation_does_not_read_is_refused(capsys, no_work, argv, flag, needs):
    # before, --modes without --camera quietly ran the slow plain evaluation
    with pytest.raises(SystemExit) as exit_:
        rn_eval.main(["--n", "1", *argv])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and f"{flag} only means something" in err and needs in err


def test_camera_and_brushes_together_run_both_into_one_report(tmp_path, monkeypatch):
    import runway_nb
    from runway_nb import eval_director

    ran = []
    monkeypatch.setattr(runway_nb, "load_engine", lambda *args, **kwargs: "engine")
    monkeypatch.setattr(eval_director, "evaluate_camera", lambda *a, **k: ran.append("camera") or {})
    monkeypatch.setattr(eval_director, "evaluate_brushes", lambda *a, **k: ran.append("brushes") or {})
    monkeypatch.setattr(eval_director, "print_camera", lambda result: None)
    monkeypatch.setattr(eval_director, "print_brushes", lambda result: None)
    rn_eval.main(["--camera", "--brushes", "--n", "1", "--json", str(tmp_path / "both.json")])
    report = json.loads((tmp_path / "both.json").read_text())
    assert ran == ["camera", "brushes"] and {"camera", "brushes"} <= report.keys()


@pytest.mark.parametrize("argv, shown", [
    (["--n", "0"], "--n=0 is not allowed: must be ≥ 1"),      # the flag typed, not the setting
    (["--n", "-3"], "n=-3 is not allowed: must be ≥ 1"),
    (["--steps", "0"], "steps=0 is not allowed: must be ≥ 1 and ≤ 1000"),
    (["--camera", "--steps", "0"], "steps=0 is not allowed"),
    (["--engine", "bogus"], "engine='bogus' is neither a known engine")])
def test_a_bad_count_step_number_or_engine_is_a_usage_error_before_any_work(capsys, no_work, argv, shown):
    # before: a table of nan (n), tracebacks from the first clip (steps, engine)
    with pytest.raises(SystemExit) as exit_:
        rn_eval.main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and shown in err and "Traceback" not in err


def test_a_json_report_that_cannot_be_written_is_refused_before_any_work(tmp_path, capsys, no_work):
    # before: a FileNotFoundError once the whole evaluation had run
    for path, shown in ((tmp_path / "missing" / "x.json", "must be in an existing folder"),
                        (tmp_path, "must not name a folder")):
        with pytest.raises(SystemExit) as exit_:
            rn_eval.main(["--n", "1", "--json", str(path)])
        err = capsys.readouterr().err
        assert exit_.value.code == 2 and f"json={str(path)!r}" in err and shown in err
    assert list(tmp_path.iterdir()) == []                       # the folder's probe is gone


def test_a_negative_seed_is_a_usage_error_before_any_work(capsys, no_work):
    # before: numpy's "expected non-negative integer" traceback from default_rng([seed, 7, i])
    with pytest.raises(SystemExit) as exit_:
        rn_eval.main(["--n", "2", "--seed", "-1"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "seed=-1 is not allowed: must be ≥ 0" in err and "Traceback" not in err


def test_missing_weights_are_one_line_and_status_1_not_a_traceback(capsys, monkeypatch, no_work):
    # before: the WeightsError escaped main (only EngineNotFound and InvalidInput were caught)
    import runway_nb
    from runway_nb.errors import WeightsError

    def load_engine(*args, **kwargs):
        raise WeightsError("the ltx engine: the weights are not in the local Hugging Face cache")

    monkeypatch.setattr(runway_nb, "load_engine", load_engine)
    with pytest.raises(SystemExit) as exit_:
        rn_eval.main(["--engine", "ltx", "--n", "1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert exit_.value.code == 1 and len(err) == 1
    assert err[0].endswith("error: the ltx engine: the weights are not in the local Hugging Face cache")


def test_help_explains_the_count_seed_steps_and_json_with_their_defaults(capsys):
    with pytest.raises(SystemExit) as exit_:
        rn_eval.main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    options = out[out.index("-h, --help"):]                 # the options, after the usage lines

    def help_of(flag: str) -> str:                         # the flag's help, one line
        start = options.index(f"  {flag} ")
        end = options.index("\n  --", start + 1)
        return " ".join(options[start:end].split())

    assert "(default: 100)" in help_of("--n N")
    assert "≥ 0" in help_of("--seed SEED") and "(default: 0)" in help_of("--seed SEED")
    assert "default: the engine's own" in help_of("--steps STEPS")
    assert "default: none" in help_of("--json OUT.json")


def _run_to_the_interrupt(argv, capsys) -> tuple[int, str, str]:
    """main(argv)'s exit status and output; a Ctrl-C escaping main fails the test (rather than
    stopping pytest, which a KeyboardInterrupt would)."""
    try:
        rn_eval.main(argv)
    except KeyboardInterrupt:
        pytest.fail("the KeyboardInterrupt escaped main(): no partial report")
    except SystemExit as exit_:
        printed = capsys.readouterr()
        return exit_.code, printed.out, printed.err
    pytest.fail("main() returned after an interrupt")


def test_ctrl_c_during_the_plain_evaluation_reports_the_scenes_that_finished(tmp_path, capsys, monkeypatch):
    # before: the KeyboardInterrupt's traceback, no table and no JSON: minutes of clips lost
    import runway_nb

    calls = []

    class Clip:
        frames = np.full((16, 64, 64, 3), 128, np.uint8)

    def generate(*args, **kwargs):
        calls.append(kwargs["seed"])
        if len(calls) == 3:                                     # Ctrl-C during the third clip
            raise KeyboardInterrupt
        return Clip()

    monkeypatch.setattr(runway_nb, "load_engine", lambda *args, **kwargs: "engine")
    monkeypatch.setattr(runway_nb, "generate", generate)
    out = tmp_path / "eval.json"
    code, printed, err = _run_to_the_interrupt(["--n", "4", "--json", str(out)], capsys)
    assert code == 130 and "Traceback" not in err
    assert err.strip().splitlines()[-1] == f"interrupted after 2 of 4 clips; the partial report is in {out}"
    assert "partial: 2 of 4 scenes evaluated (interrupted)" in printed
    assert [line.split()[0] for line in printed.splitlines()[-6:]] == [*rn_eval.TARGETS, "flicker"]
    report = json.loads(out.read_text())
    assert report["partial"] is True and report["interrupted"] == {"after": 2, "of": 4}
    assert len(report["model"]["rows"]) == 2 and calls == [1000, 1001, 1002]
    assert report["model"]["metrics"] == rn_eval.metrics_of(report["model"]["rows"])
    # the ceiling over the same two scenes, not the four asked for
    assert report["ground_truth"] == rn_eval.evaluate(truth, rn_eval.eval_scenes(2), progress=False)["metrics"]


def test_ctrl_c_before_any_scene_finished_writes_an_empty_partial_report(tmp_path, capsys, monkeypatch):
    import runway_nb

    def generate(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runway_nb, "load_engine", lambda *args, **kwargs: "engine")
    monkeypatch.setattr(runway_nb, "generate", generate)
    out = tmp_path / "eval.json"
    code, printed, err = _run_to_the_interrupt(["--n", "3", "--json", str(out)], capsys)
    assert code == 130 and "metric" not in printed and "interrupted after 0 of 3 clips" in err
    report = json.loads(out.read_text())                        # valid JSON: no NaN for no rows
    assert report["interrupted"] == {"after": 0, "of": 3} and report["model"] == {"metrics": None, "rows": []}


class _StillEngine:
    """An engine whose clips hold the given first frame (or a grey one) still; a Ctrl-C
    during its `interrupt_at`-th render."""

    def __init__(self, interrupt_at: int):
        self.renders, self.interrupt_at = 0, interrupt_at

    def render(self, shot, init_frames=None, progress=False):
        self.renders += 1
        if self.renders == self.interrupt_at:
            raise KeyboardInterrupt
        first = np.full((1, 64, 64, 3), 128, np.uint8) if init_frames is None else init_frames[:1]

        class Clip:
            frames = np.repeat(first, 16, axis=0)

        return Clip()


def test_ctrl_c_during_director_mode_keeps_the_finished_evaluation_and_the_partial_one(
        tmp_path, capsys, monkeypatch):
    # before: the traceback, and nothing of --camera's finished table in the JSON
    import runway_nb

    engine = _StillEngine(interrupt_at=4)        # camera native: renders 1-2; brushes: 3, then ^C
    monkeypatch.setattr(runway_nb, "load_engine", lambda *args, **kwargs: engine)
    out = tmp_path / "director.json"
    code, printed, err = _run_to_the_interrupt(["--camera", "--modes", "native", "--brushes", "--n", "2",
                                                "--json", str(out)], capsys)
    # camera: truth, virtual on truth and native, 2 clips each; brushes: 2 brushed, 2 not
    assert code == 130 and err.strip().splitlines()[-1].startswith("interrupted after 7 of 10 clips")
    report = json.loads(out.read_text())
    assert report["partial"] is True and report["interrupted"] == {"after": 7, "of": 10}
    assert list(report["camera"]) == ["truth", "virtual on truth", "native"]
    assert not any(entry.get("partial") for entry in report["camera"].values())
    assert list(report["brushes"]) == ["brush"]
    brush = report["brushes"]["brush"]
    assert brush["partial"] is True and (brush["done"], brush["of"]) == (1, 2) and len(brush["rows"]) == 1
    assert "partial: brushes, 1 of 4 clips evaluated (interrupted)" in printed
    assert [line for line in printed.splitlines() if line.startswith("brush ")][0].endswith("partial: 1 of 2")


def test_ctrl_c_during_a_camera_mode_reports_the_modes_before_it_and_its_clips(tmp_path, capsys, monkeypatch):
    import runway_nb

    engine = _StillEngine(interrupt_at=2)
    monkeypatch.setattr(runway_nb, "load_engine", lambda *args, **kwargs: engine)
    out = tmp_path / "camera.json"
    code, printed, err = _run_to_the_interrupt(["--camera", "--modes", "native,warp", "--n", "3",
                                                "--json", str(out)], capsys)
    assert code == 130 and "interrupted after 7 of 12 clips" in err
    camera = json.loads(out.read_text())["camera"]
    assert list(camera) == ["truth", "virtual on truth", "native"]
    assert (camera["native"]["done"], camera["native"]["of"]) == (1, 3)
    partial = [line for line in printed.splitlines() if "partial: 1 of" in line]
    assert len(partial) == 1 and partial[0].startswith("native ") and partial[0].endswith("partial: 1 of 3")


def test_a_report_that_cannot_be_written_at_the_end_is_kept_in_a_temp_file(tmp_path, capsys, monkeypatch):
    # before: the IsADirectoryError's traceback, the evaluation's numbers lost but for the table
    import tempfile

    import runway_nb

    out, spare = tmp_path / "eval.json", tmp_path / "tmp"
    spare.mkdir()

    class Clip:
        frames = np.full((16, 64, 64, 3), 128, np.uint8)

    def generate(*args, **kwargs):                               # the folder appears after the check
        out.mkdir(exist_ok=True)
        return Clip()

    monkeypatch.setattr(tempfile, "tempdir", str(spare))
    monkeypatch.setattr(runway_nb, "load_engine", lambda *args, **kwargs: "engine")
    monkeypatch.setattr(runway_nb, "generate", generate)
    with pytest.raises(SystemExit) as exit_:
        rn_eval.main(["--n", "2", "--json", str(out)])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    (kept,) = spare.iterdir()
    assert exit_.value.code == 1 and f"could not write the report to {out}" in err and str(kept) in err
    assert len(json.loads(kept.read_text())["model"]["rows"]) == 2
    # the settings it was measured with are in it (a --steps 2 report read as a real one)
    assert {k: json.loads(kept.read_text())[k] for k in ("seed", "steps", "n")} == {"seed": 0, "steps": None, "n": 2}
