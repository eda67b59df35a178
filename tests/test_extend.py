"""Extend, measured on the shipped tiny engine against the toy world: long chains keep
their length, frame rate, ancestry and colours, and a join looks like motion, not a cut.
(The full seam / drift / cost numbers come from benchmarks/bench_extend.py.)"""

from __future__ import annotations

import numpy as np
import pytest

import runway_nb as rn
from runway_nb.eval import eval_scenes
from runway_nb.tiny.analyzer import analyze


def step_changes(frames):
    x = frames.astype(np.int16)
    return np.abs(x[1:] - x[:-1]).mean(axis=(1, 2, 3))      # (T − 1,) mean |Δ| per frame step


def seam_ratio(frames, join, blended=0):
    """The largest change over the steps into frame `join` (from `blended` frames before it:
    a dissolve) over the median frame step elsewhere in the clip."""
    d = step_changes(frames)
    span = np.arange(join - blended - 1, join)
    return d[span].max() / max(float(np.median(np.delete(d, span))), 0.5)


def camera(scene):
    return None if scene.camera == "static" else f"{scene.camera}:{scene.camera_intensity:.2f}"


@pytest.fixture(scope="module")
def engine(shipped_weights):
    return rn.load_engine("tiny")


@pytest.mark.slow
def test_a_60_second_chain_keeps_length_fps_and_ancestry(engine):
    # few denoising steps: this checks the bookkeeping of a long chain, not its looks
    start = engine.render(rn.Shot("a red circle moving right on a blue background", seed=3, steps=2,
                                  seconds=2, camera="pan_left:0.5"), progress=False)
    chain = [start]
    for seconds in (4, 14, 40):                                   # 2 → 6 → 20 → 60 s
        chain.append(chain[-1].extend(seconds, progress=False))
    film = chain[-1]
    assert film.frames.shape == (480, 64, 64, 3) and film.fps == 8 and film.duration == 60
    for parent, child in zip(chain, chain[1:]):
        assert child.parent is parent and child.shot.parent == parent.id
        assert child.provenance["extended_from"] == parent.id
        assert child.shot.frames == len(child) - len(parent) == child.provenance["added_frames"]
        assert child.shot.context_frames == engine.context
        assert child.shot.blend_frames == child.provenance["blended_frames"] == engine.blend
        assert child.shot.prompt == start.shot.prompt and child.shot.camera == start.shot.camera
        # the parent's frames, but for the last few: the dissolve into the continuation
        kept = len(parent) - engine.blend
        np.testing.assert_array_equal(child.frames[:kept], parent.frames[:kept])
    assert len({c.shot.seed for c in chain}) == len(chain)       # each extension draws new noise
    # the extension's shot re-makes exactly its frames (what a film file's re-render relies on)
    last, parent = chain[-1], chain[-2]
    again = engine.render(last.shot, init_frames=parent.frames[-last.shot.context_frames:], progress=False)
    np.testing.assert_array_equal(again.frames, last.frames[len(parent) - last.shot.blend_frames:])


@pytest.mark.slow
def test_a_join_looks_like_motion_not_a_cut(engine):
    joins, cuts = [], []
    scenes = eval_scenes(3, seed=5)                               # held-out prompts
    clips = [rn.generate(s.caption, seconds=2, seed=100 + i, camera=camera(s), progress=False)
             for i, s in enumerate(scenes)]
    for i, clip in enumerate(clips):
        longer = clip.extend(2, progress=False)
        joins.append(seam_ratio(longer.frames, len(clip), longer.shot.blend_frames))
        other = clips[(i + 1) % len(clips)]                       # a hard cut to another prompt
        cuts.append(seam_ratio(np.concatenate([clip.frames, other.frames]), len(clip)))
    # loose bounds: the benchmark's target (≤ 1.5× on average) is measured over many prompts
    assert np.mean(joins) < 2.5, joins
    assert np.mean(joins) < 0.5 * np.mean(cuts), (joins, cuts)


@pytest.mark.slow
def test_colours_survive_a_chain(engine):
    scene = eval_scenes(1, seed=2)[0]
    clip = rn.generate(scene.caption, seconds=2, seed=7, camera=camera(scene), progress=False)
    for _ in range(4):                                            # 2 → 10 s
        clip = clip.extend(2, progress=False)
    first, last = analyze(clip.frames[:16]), analyze(clip.frames[-16:])
    assert first.background == scene.background
    assert last.background == first.background
    assert last.color == first.color


def test_context_is_chosen_and_checked(engine):
    clip = engine.render(rn.Shot("a green square moving left", seed=2, steps=1, frames=8), progress=False)
    assert clip.extend(0.5, context=3, progress=False).shot.context_frames == 3
    assert clip.extend(0.5, progress=False).shot.context_frames == engine.context
    assert engine.context % 2 == 1        # the join falls inside one of the denoiser's 2-frame tokens
    for bad in (0, 9, 2.5, "4"):
        with pytest.raises(rn.InvalidInput, match="context"):
            clip.extend(0.5, context=bad, progress=False)


def test_blend_dissolves_the_parents_last_frames_and_is_checked(engine):
    clip = engine.render(rn.Shot("a green square moving left", seed=2, steps=2, frames=8), progress=False)
    cut = clip.extend(1, blend=0, progress=False)
    np.testing.assert_array_equal(cut.frames[: len(clip)], clip.frames)    # a plain cut
    assert cut.provenance["blended_frames"] == 0
    dissolve = clip.extend(1, blend=2, progress=False)
    assert len(dissolve) == len(cut) == len(clip) + 8
    np.testing.assert_array_equal(dissolve.frames[:-10], clip.frames[:-2])
    assert (dissolve.frames[-10:-8] != clip.frames[-2:]).any()              # redrawn and dissolved
    assert clip.frames.shape == (8, 64, 64, 3) and clip.parent is None       # the parent is untouched
    assert dissolve.shot.blend_frames == 2 and dissolve.provenance["added_frames"] == 8
    for bad in (-1, engine.blend + 1, 1.5):
        with pytest.raises(rn.InvalidInput, match="blend"):
            clip.extend(1, blend=bad, progress=False)
    with pytest.raises(rn.InvalidInput, match="blend"):      # fewer than the context frames
        clip.extend(1, context=2, blend=2, progress=False)
    with pytest.raises(rn.InvalidInput, match="blend_frames"):
        rn.Shot("a red ball", context_frames=2, blend_frames=2)


def test_a_virtual_camera_continuation_is_a_plain_cut_and_says_so(engine):
    clip = engine.render(rn.Shot("a green square", seed=2, steps=1, frames=8), progress=False)
    moved = clip.extend(1, camera="pan_left:0.5", progress=False)
    assert moved.shot.blend_frames == moved.provenance["blended_frames"] == engine.blend
    clip = engine.render(rn.Shot("a green square", seed=2, steps=1, frames=8, camera="pan_left:0.5",
                                 camera_mode="virtual"), progress=False)
    cut = clip.extend(1, progress=False)
    assert cut.shot.camera_mode == "virtual"
    assert cut.shot.blend_frames == cut.provenance["blended_frames"] == 0
    np.testing.assert_array_equal(cut.frames[: len(clip)], clip.frames)
    assert len(cut) == len(clip) + 8


def test_a_continuation_goes_on_with_the_clips_keyframed_move_not_from_its_start(engine):
    # before: the parent's path was read again from its start at the first context frame,
    # so a pan that had ended (and held) panned again after the join
    from runway_nb.camera import CameraPath, Keyframe

    path = CameraPath(keyframes=(Keyframe(0.0), Keyframe(1.0, truck=0.6)))      # 1 s of pan, then hold
    clip = engine.render(rn.Shot("a green square", seed=2, steps=1, frames=16, camera=path,
                                 camera_mode="virtual"), progress=False)
    longer = clip.extend(1, progress=False)
    k, new = longer.shot.context_frames, longer.shot.frames
    read = longer.shot.camera.per_frame(k + new, 8)
    want = path.per_frame(16 + new, 8)[16 - k:]
    np.testing.assert_allclose(read[:, :2], want[:, :2] - want[0, :2], atol=1e-12)
    assert np.all(read[:, 0] == 0)                                      # held: no pan after the join
    # a preset (one speed) is the same at any time: recorded as it was
    pan = engine.render(rn.Shot("a green square", seed=2, steps=1, frames=16, camera="pan_left"),
                        progress=False)
    assert pan.extend(1, progress=False).shot.camera == pan.shot.camera


def test_continuations_are_guided_as_the_engine_says_unless_asked(engine):
    clip = engine.render(rn.Shot("a green square moving left", seed=2, steps=1, frames=8), progress=False)
    assert clip.shot.guidance == 4.0
    assert clip.extend(0.5, progress=False).shot.guidance == engine.extend_guidance == 6.0
    assert clip.extend(0.5, guidance=4, progress=False).shot.guidance == 4.0
    with pytest.raises(rn.InvalidInput, match="guidance"):
        clip.extend(0.5, guidance=-1, progress=False)


def test_an_extension_does_not_reuse_the_parents_brushes(engine):
    """Brushes are painted on the parent's first frame; by its end the objects have moved."""
    brush = rn.MotionBrush(box=(0.3, 0.3, 0.6, 0.6), horizontal=0.5)
    clip = engine.render(rn.Shot("a red ball", seed=2, steps=1, frames=8, brushes=(brush,)), progress=False)
    assert clip.shot.brushes == (brush,)
    assert clip.extend(1, progress=False).shot.brushes == ()


@pytest.mark.parametrize("engine_id", ["cogvideox", "wan", "animatediff", "modelscope"])
def test_an_engine_that_cannot_extend_is_refused_before_it_loads(engine_id, monkeypatch):
    """Loading one of these downloads gigabytes of weights: its documented capabilities (what
    `rn.list_engines()` shows) refuse it first — named, with the engines that can."""
    from dataclasses import replace

    from runway_nb.engines import registry

    registry.engine_ids()
    monkeypatch.setitem(registry._ENTRIES, engine_id, replace(
        registry._ENTRIES[engine_id], factory=lambda *a, **k: pytest.fail(f"{engine_id} was loaded")))
    clip = rn.Clip(np.zeros((8, 64, 64, 3), np.uint8), 8, shot=rn.Shot("a red ball", seed=1))
    made_there = rn.Clip(clip.frames, 8, shot=rn.Shot("a red ball", seed=1, engine=engine_id))
    for refused in (lambda: clip.extend(1, engine=engine_id, progress=False),
                    lambda: made_there.extend(1, progress=False)):          # the clip's own engine
        with pytest.raises(rn.UnsupportedCapability) as err:
            refused()
        assert (err.value.field, err.value.value) == ("engine", engine_id)
        assert "cannot extend" in str(err.value) and "tiny, cogvideox-i2v, ltx, wan-i2v" in str(err.value)


def test_an_interpolated_clip_is_extended_at_its_own_speed(engine, tmp_path):
    """`clip.interpolate(2)` plays 16 fps of an 8 fps render: the continuation is rendered at
    the engine's 8 fps for the seconds asked and interpolated ×2 like the clip, so the new part
    moves as far per frame as the old (it was rendered 16 frames at 8 fps and played at 16:
    twice as fast) — the same frames as extending first and interpolating after."""
    clip = rn.generate("a blue square moving left on a desert", seconds=1, seed=8, steps=4,
                       camera="pan_left", progress=False)
    smooth = clip.interpolate(2)
    for blend in (0, engine.blend):
        longer = smooth.extend(1, blend=blend, progress=False)
        assert longer.fps == 16 and len(longer) == len(smooth) + 16
        assert longer.duration == pytest.approx(smooth.duration + 1)
        assert (longer.shot.fps, longer.shot.frames, longer.shot.blend_frames) == (8, 8, blend)
        assert longer.provenance["added_frames"] == 16 and longer.provenance["blended_frames"] == 2 * blend
        assert longer.provenance["interpolated"] == {"factor": 2, "method": "flow"}
        kept = len(smooth) - 2 * blend
        np.testing.assert_array_equal(longer.frames[:kept], smooth.frames[:kept])
        plain = clip.extend(1, blend=blend, progress=False)
        np.testing.assert_array_equal(longer.frames[::2], plain.frames)     # the engine's frames
        steps = step_changes(longer.frames)
        before, after = steps[:kept - 1].mean(), steps[len(smooth) + 1:].mean()   # the join left out
        assert 0.6 < after / before < 1.5, (before, after)
    # a chain goes on at one speed, and a film file re-makes it from its recipe
    chain = longer.extend(0.5, progress=False)
    assert len(chain) == len(longer) + 8 and chain.shot.frames == 4
    np.testing.assert_array_equal(chain.frames[::2], plain.extend(0.5, progress=False).frames)
    path = rn.Sequence([chain]).save(tmp_path / "film.json")
    from runway_nb.export.film import load_film

    again = load_film(path).to_sequence(render=True).clips[0]
    assert again.fps == 16
    np.testing.assert_array_equal(again.frames, chain.frames)


def test_an_upscaled_clip_is_refused_naming_its_size(engine):
    clip = engine.render(rn.Shot("a green square moving left", seed=2, steps=1, frames=8), progress=False)
    for big in (clip.upscale(2, "lanczos"), clip.interpolate(2).upscale(4, "lanczos")):
        with pytest.raises(rn.InvalidInput) as err:
            big.extend(0.5, progress=False)
        assert (err.value.field, err.value.value) == ("clip", f"{big.width}x{big.height}")
        assert "64x64" in err.value.allowed and "upscaled" in err.value.allowed
        assert "init_frames" not in str(err.value) and "before upscaling" in err.value.hint


def test_an_interpolated_clip_extension_cannot_match_is_refused_before_loading(monkeypatch):
    """Interpolated by a factor the engine's frames cannot be picked back out by (×1.5), or past
    what one interpolation pass makes (×32: interpolated twice): refused by name, before the
    engine loads — ×32 rendered first and then failed naming factor=32, never passed."""
    from dataclasses import replace

    from runway_nb.engines import registry

    registry.engine_ids()
    monkeypatch.setitem(registry._ENTRIES, "tiny", replace(
        registry._ENTRIES["tiny"], factory=lambda *a, **k: pytest.fail("the engine was loaded")))
    shot = rn.Shot("a red ball", seed=1, fps=8, width=64, height=64)
    interpolated = {"interpolated": {"factor": 2, "method": "flow"}}
    for fps, words in ((12, "or a whole multiple of that"), (256, "at most 16×")):
        clip = rn.Clip(np.zeros((8, 64, 64, 3), np.uint8), fps, shot=shot, provenance=interpolated)
        with pytest.raises(rn.InvalidInput) as err:
            clip.extend(1, progress=False)
        assert err.value.field == "clip" and "8 fps" in err.value.allowed and words in err.value.allowed


def test_a_re_timed_clip_goes_on_at_the_rate_it_plays(engine):
    """rn.Clip(clip.frames, fps=16, shot=clip.shot) — what a Clip's fixed fps suggests — plays
    the engine's frames twice as fast, with no in-betweens: the continuation is played at that
    rate too (it was taken for an interpolated clip: conditioned on every second frame, its new
    part interpolated, and provenance claiming an interpolation that never happened)."""
    clip = engine.render(rn.Shot("a blue square moving left on a desert", seed=8, steps=1, frames=8),
                         progress=False)
    for fps in (16, 12):
        fast = rn.Clip(clip.frames, fps, shot=clip.shot)
        longer = fast.extend(1, blend=0, progress=False)
        assert longer.fps == fps and len(longer) == 8 + fps and longer.shot.frames == fps
        assert "interpolated" not in longer.provenance
        np.testing.assert_array_equal(longer.frames[:8], clip.frames)


def test_every_other_frame_of_an_interpolated_clip_goes_on_as_the_re_timed_clip_it_is(engine):
    # before: the cut kept the "interpolated" record, so its extension skipped frames for
    # in-betweens it no longer had and moved at half speed
    clip = engine.render(rn.Shot("a blue square moving left on a desert", seed=8, steps=1, frames=8),
                         progress=False)
    every_other = clip.interpolate(2)[::2]
    np.testing.assert_array_equal(every_other.frames, clip.frames)
    assert "interpolated" not in every_other.provenance
    assert "interpolated" in clip.interpolate(2)[2:9].provenance          # in-betweens still there
    longer = every_other.extend(1, blend=0, progress=False)
    same = rn.Clip(clip.frames, 16, shot=clip.shot).extend(1, blend=0, progress=False)
    np.testing.assert_array_equal(longer.frames, same.frames)


def test_a_clip_made_with_the_models_own_motion_goes_on_with_it(engine):
    # before: the continuation was always "auto" (a planned motion), with no way to say otherwise
    clip = engine.render(rn.Shot("a red ball bouncing on a green field", seed=7, steps=1, frames=8,
                                 motion_mode="native"), progress=False)
    assert clip.extend(0.5, progress=False).shot.motion_mode == "native"
    assert clip.extend(0.5, motion_mode="planned", progress=False).shot.motion_mode == "planned"
    with pytest.raises(rn.InvalidInput) as err:
        clip.extend(0.5, steps=3)                                       # not Python's TypeError
    assert err.value.field == "steps" and "motion_mode" in str(err.value)


@pytest.mark.parametrize("kwargs, field", [({"on_step": 5}, "on_step"), ({"cancel": "yes"}, "cancel")])
def test_a_step_callback_or_cancel_that_cannot_be_used_is_refused_by_name(engine, kwargs, field, monkeypatch):
    # before: "'int' object is not callable" from inside the first denoising step
    clip = engine.render(rn.Shot("a red ball", seed=7, steps=1, frames=8), progress=False)
    monkeypatch.setattr(type(engine), "_render", lambda *a, **k: pytest.fail("rendered"))
    for call in (lambda: rn.generate("a red ball", frames=8, progress=False, **kwargs),
                 lambda: clip.extend(0.5, progress=False, **kwargs),
                 lambda: engine.render(rn.Shot("a red ball"), progress=False, **kwargs)):
        with pytest.raises(rn.InvalidInput) as err:
            call()
        assert err.value.field == field
    if field == "cancel":
        with pytest.raises(rn.InvalidInput):
            rn.render_many([rn.Shot("a red ball")], cancel="yes", progress=False)
