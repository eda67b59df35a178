"""Shot.motion_mode: how an engine makes the object motion a prompt names — the model's own
(native) or planned and followed as a motion brush (the tiny engine's planner)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import runway_nb as rn
from runway_nb import Shot
from runway_nb.camera.brush import MotionBrush
from runway_nb.engines.base import Capabilities, Engine
from runway_nb.errors import Cancelled, InvalidInput, UnsupportedCapability
from runway_nb.tiny import planner

MOVING = "a red square moving right on a blue background"


class Plain(Engine):
    """An engine with no motion planner."""

    id = "plain"
    capabilities = Capabilities(max_frames=16, image_to_video=True)

    def _render(self, shot, on_step, cancel, init_frames, progress, started):
        return np.zeros((shot.frames, shot.height, shot.width, 3), np.uint8)


def test_motion_mode_is_validated_and_round_trips():
    with pytest.raises(InvalidInput) as err:
        Shot("a ball", motion_mode="teleport")
    assert err.value.field == "motion_mode" and "auto, native, planned" in str(err.value)
    shot = Shot(MOVING, seed=1, motion_mode="planned")
    assert Shot.from_json(shot.to_json()) == shot
    assert Shot.from_json(Shot(MOVING, seed=1).to_json()).motion_mode == "auto"


def test_an_engine_without_a_planner_makes_motion_natively():
    assert Plain().resolve(Shot(MOVING)).motion_mode == "native"
    with pytest.raises(UnsupportedCapability) as err:
        Plain().resolve(Shot(MOVING, motion_mode="planned"))
    assert err.value.field == "motion_mode" and "native" in str(err.value)


def test_auto_plans_only_what_there_is_to_plan(shipped_weights):
    engine = rn.load_engine("tiny")
    assert engine.capabilities.motion_modes == ("planned",)
    assert engine.resolve(Shot(MOVING)).motion_mode == "planned"
    assert engine.resolve(Shot("a red square on a blue background")).motion_mode == "native"
    brush = MotionBrush(box=(0.1, 0.1, 0.3, 0.3), horizontal=0.2)
    assert engine.resolve(Shot(MOVING, brushes=(brush,))).motion_mode == "native"   # the user's brush
    with pytest.raises(UnsupportedCapability) as err:
        engine.resolve(Shot(MOVING, brushes=(brush,), motion_mode="planned"))
    assert err.value.field == "motion_mode" and "brushes" in str(err.value)


def test_a_planned_clip_moves_its_object_the_way_the_prompt_says(shipped_weights):
    """The object the planner found in frame 0 ends up right of where it started, by most of
    the toy world's path (0.3 frame heights a second), on several seeds; the model alone
    does not do that reliably (README, Evaluation: motion)."""
    moved = []
    for seed in (1, 2, 3):
        clip = rn.generate(MOVING, seed=seed, progress=False)
        assert clip.shot.motion_mode == "planned"
        plan = clip.provenance["motion_plan"]
        assert plan["motion"] == "right" and plan["color"] == "red" and plan["object_found"]
        first, last = (planner.find_object(clip.frames[i], "red") for i in (0, -1))
        if first is None or last is None:
            moved.append(0.0)
            continue
        moved.append(np.nonzero(last)[1].mean() - np.nonzero(first)[1].mean())
    path = planner.motion_path("right", 16, 8.0, 64)[-1, 0]              # 36 px over 2 s
    assert sum(m > 0.5 * path for m in moved) >= 2, moved


def test_planned_renders_are_deterministic_and_differ_from_native(shipped_weights):
    a = rn.generate(MOVING, seed=4, progress=False)
    b = rn.generate(MOVING, seed=4, progress=False)
    native = rn.generate(MOVING, seed=4, progress=False, motion_mode="native")
    assert np.array_equal(a.frames, b.frames)
    assert native.shot.motion_mode == "native" and "motion_plan" not in native.provenance
    assert not np.array_equal(a.frames, native.frames)
    # the clip's Shot re-makes it exactly
    again = rn.load_engine("tiny").render(Shot.from_json(a.shot.to_json()), progress=False)
    assert np.array_equal(again.frames, a.frames)


def test_a_planned_render_shows_both_passes_and_cancels_in_the_draft(shipped_weights):
    seen = []
    clip = rn.generate(MOVING, seed=5, steps=4, progress=False, on_step=seen.append)
    # the draft takes three quarters of the steps (3), then the render its 4: one bar over both
    assert [s.step for s in seen] == list(range(1, 8)) and {s.total for s in seen} == {7}
    assert [s.extra["pass"] for s in seen] == ["draft"] * 3 + ["render"] * 4
    assert len(clip) == 16
    stop = threading.Event()
    steps = []

    def on_step(info):
        steps.append(info.step)
        stop.set()

    with pytest.raises(Cancelled):
        rn.generate(MOVING, seed=5, steps=4, progress=False, on_step=on_step, cancel=stop)
    assert steps == [1]                                                   # within one step


def test_console_bars_are_labelled_on_planned_renders_only(shipped_weights, capsys):
    rn.generate(MOVING, seed=5, steps=2, progress=True)
    err = capsys.readouterr().err
    assert "draft:" in err and "render:" in err
    rn.generate(MOVING, seed=5, steps=2, progress=True, motion_mode="native")   # same cached engine
    err = capsys.readouterr().err
    assert "%" in err and "render:" not in err and "draft:" not in err


def _x(frame):
    return planner.find_object(frame, "red").nonzero()[1].mean()


def test_continuations_and_image_to_video_go_on_with_the_plan(shipped_weights):
    clip = rn.generate(MOVING, seed=6, progress=False)
    longer = clip.extend(1, progress=False)
    plan = longer.provenance["motion_plan"]
    assert longer.shot.motion_mode == "planned" and plan["object_found"]
    assert plan["continued_from_given_frames"] == longer.shot.context_frames
    join = len(clip) - 1                       # the square does not stop at the join
    assert _x(longer.frames[join + 6]) - _x(longer.frames[join]) > 4
    engine = rn.load_engine("tiny")
    i2v = engine.render(Shot(MOVING, seed=6, frames=8), init_frames=clip.frames[:1], progress=False)
    assert i2v.shot.motion_mode == "planned" and i2v.provenance["motion_plan"]["object_found"]
    assert _x(i2v.frames[-1]) - _x(clip.frames[0]) > 4
    native = engine.render(Shot(MOVING, seed=6, frames=8, motion_mode="native"), init_frames=clip.frames[:1],
                           progress=False)
    assert "motion_plan" not in native.provenance


def test_a_long_planned_clip_keeps_its_object_in_view(shipped_weights):
    clip = rn.generate(MOVING, seed=3, seconds=4, progress=False)
    plan = clip.provenance["motion_plan"]
    assert plan["object_found"] and 0.3 < plan["path_share"] < 1.0       # 4 s of path, shortened
    assert all(planner.find_object(f, "red") is not None for f in clip.frames[::4])


def test_the_pipeline_refuses_a_planned_first_frame_beside_given_frames(shipped_weights):
    pipe = rn.load_engine("tiny").pipe
    frame = np.zeros((64, 64, 3), np.uint8)
    with pytest.raises(ValueError, match="known_frames or a planned first_frame"):
        pipe(MOVING, num_frames=8, num_inference_steps=1, known_frames=frame[None], first_frame=frame,
             show_progress=False)


@pytest.mark.parametrize("name, value", [("guide_steps", 1.5), ("guide_replace", -0.1),
                                         ("guide_reveal", float("nan")), ("blend_pin", 2)])
def test_the_pipeline_refuses_a_guide_share_outside_0_to_1(shipped_weights, name, value):
    # direct callers of the pipeline (the engine never passes these from user input)
    pipe = rn.load_engine("tiny").pipe
    with pytest.raises(ValueError, match=f"{name} must be a share from 0 to 1"):
        pipe(MOVING, num_frames=8, num_inference_steps=1, show_progress=False, **{name: value})
