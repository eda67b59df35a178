"""The embedded tiny engine: the shared contract, plus what only it does."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

import runway_nb as rn
from runway_nb import Shot
from runway_nb.camera.brush import MotionBrush
from runway_nb.engines.tiny import TinyEngine
from runway_nb.errors import InvalidInput, UnsupportedCapability, WeightsError
from runway_nb.eval_director import warp_camera_input

from .contract import EngineContract


@pytest.fixture(scope="module")
def engine(smoke_pipeline):
    return TinyEngine(smoke_pipeline)


@pytest.fixture(scope="module")
def shipped():
    """The weights that ship in the package (a barely trained smoke model ignores its inputs)."""
    return rn.load_engine("tiny")


class TestTinyContract(EngineContract):
    pass


class TestShippedTinyContract(EngineContract):
    @pytest.fixture
    def engine(self, shipped):
        return shipped


def test_camera_path_changes_the_output(shipped):
    base = Shot("a red ball", seed=4, steps=2)
    still = shipped.render(base, progress=False)
    panned = shipped.render(base.replace(camera="pan_left:1.5"), progress=False)
    assert not np.array_equal(still.frames, panned.frames)


def test_negative_prompt_changes_the_output(shipped):
    base = Shot("a red ball", seed=4, steps=2)
    a = shipped.render(base, progress=False)
    b = shipped.render(base.replace(negative_prompt="blue"), progress=False)
    assert not np.array_equal(a.frames, b.frames)


def test_threads_sharing_one_engine_get_the_serial_frames(engine):
    """The Studio's worker, a notebook cell and render_many's threads share the cached engine;
    its scheduler keeps per-render state, so concurrent renders must take turns, not mix."""
    from concurrent.futures import ThreadPoolExecutor

    shots = [Shot("a red ball", seed=s, steps=3, frames=16) for s in range(4)]
    serial = [engine.render(s, progress=False).frames for s in shots]
    with ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(lambda s: engine.render(s, progress=False).frames, shots))
    assert all(np.array_equal(a, b) for a, b in zip(serial, threaded))


def test_long_clip_renders_in_windows_and_keeps_length(engine):
    seen = []
    clip = engine.render(Shot("a ball", seed=1, steps=2, frames=30), on_step=seen.append, progress=False)
    assert clip.frames.shape == (30, 64, 64, 3)
    assert seen[-1].total == 2 * engine.pipe.windows_for(30)
    assert {s.frame_offset for s in seen} == {0, 12, 24}


def test_extend_continues_from_the_last_frames(shipped):
    clip = shipped.render(Shot("a green square moving left", seed=2, steps=2), progress=False)
    longer = clip.extend(1.0, engine=shipped)
    assert len(longer) == len(clip) + 8
    kept = len(clip) - shipped.blend                   # the last few dissolve into the new ones
    np.testing.assert_array_equal(longer.frames[:kept], clip.frames[:kept])
    assert longer.parent is clip and longer.shot.parent == clip.id
    assert longer.shot.context_frames == shipped.context and longer.shot.frames == 8
    assert longer.shot.seed != clip.shot.seed


def test_a_continuation_is_guided_lightly_a_single_picture_holds_the_latents(engine):
    # held latents compounded over a chain of extensions (README, Extend): given several
    # frames the pipeline's guide defaults to its light form, given one picture to the
    # held latents — whoever calls the pipeline (the engine's extend, a notebook)
    from runway_nb.tiny.pipeline import CONTINUATION_GUIDE, GUIDE_REPLACE, GUIDE_STEPS

    pipe = engine.pipe
    clip = engine.render(Shot("a green square", seed=2, steps=2, camera="pan_left"), progress=False)
    path = Shot("x", camera="pan_left").camera.per_frame(12, 8.0)

    def frames(given, **guide):
        return pipe("a green square", num_frames=12, num_inference_steps=10, known_frames=given,
                    warp_camera=path, generator=torch.Generator().manual_seed(3), show_progress=False,
                    **guide).frames

    held = {"guide_replace": GUIDE_REPLACE, "guide_steps": GUIDE_STEPS}
    several, one = clip.frames[-5:], clip.frames[-1:]
    assert np.array_equal(frames(several), frames(several, **CONTINUATION_GUIDE))
    assert not np.array_equal(frames(several), frames(several, **held))
    assert np.array_equal(frames(one), frames(one, **held))


@pytest.mark.parametrize("seconds", [0, -1, float("nan")])
def test_extend_refuses_bad_seconds(engine, seconds):
    clip = engine.render(Shot("a ball", seed=2, steps=1, frames=4), progress=False)
    with pytest.raises(InvalidInput, match="seconds"):
        clip.extend(seconds, engine=engine)


def test_init_frames_of_the_wrong_shape_are_refused(engine):
    with pytest.raises(InvalidInput, match="init_frames"):
        engine.render(Shot("a ball", steps=1), init_frames=np.zeros((2, 32, 32, 3), np.uint8),
                      progress=False)


def test_fps_and_length_limits_name_what_is_allowed(engine):
    with pytest.raises(UnsupportedCapability, match="fps.*8 fps"):
        engine.resolve(Shot("a ball", fps=24))
    with pytest.raises(UnsupportedCapability, match="at most"):
        engine.resolve(Shot("a ball", frames=100_000))


def test_seconds_resolve_to_frames_at_the_engine_fps(engine):
    shot = engine.resolve(Shot("a ball", seconds=1.5))
    assert (shot.frames, shot.fps, shot.seconds) == (12, 8.0, None)
    assert (shot.width, shot.height, shot.steps, shot.guidance) == (64, 64, 20, 4.0)


def test_missing_weights_give_a_clear_error(tmp_path):
    with pytest.raises(WeightsError, match="missing.*train"):
        TinyEngine(tmp_path)


def test_corrupt_weights_give_a_clear_error(tmp_path, smoke_pipeline):
    broken = tmp_path / "pipeline"
    shutil.copytree(smoke_pipeline, broken)
    (broken / "transformer" / "diffusion_pytorch_model.safetensors").write_bytes(b"not weights")
    with pytest.raises(WeightsError, match="corrupt"):
        TinyEngine(broken)


@pytest.mark.parametrize("dtype", ["float16", torch.bfloat16, "int8"])
def test_dtypes_other_than_float32_are_refused_at_load(smoke_pipeline, dtype):
    with pytest.raises(InvalidInput, match="dtype=.*float32 only"):
        rn.load_engine(str(smoke_pipeline), dtype=dtype)


@pytest.mark.parametrize("dtype", ["float32", torch.float32])
def test_float32_is_accepted_by_name_and_as_a_torch_dtype(smoke_pipeline, dtype):
    clip = rn.load_engine(str(smoke_pipeline), dtype=dtype).render(Shot("a ball", steps=1, frames=2),
                                                                    progress=False)
    assert clip.frames.shape == (2, 64, 64, 3)


def test_an_option_the_engine_does_not_take_is_refused_by_name(smoke_pipeline):
    for name in ("tiny", str(smoke_pipeline)):
        with pytest.raises(InvalidInput, match="cpu_offload=True.*no options besides device and dtype"):
            rn.load_engine(name, cpu_offload=True)


def test_a_loaded_engine_keeps_its_weights_when_the_folder_is_written_again(tmp_path, smoke_pipeline):
    # A second training run into the same --out rewrites the files under an engine a
    # notebook still holds: its weights must neither change nor vanish (the file is not
    # mapped into the engine's memory).
    from runway_nb.tiny.pipeline import TinyVideoPipeline

    folder = tmp_path / "pipeline"
    shutil.copytree(smoke_pipeline, folder)
    held = TinyVideoPipeline.load(folder)
    before = {k: v.clone() for k, v in held.transformer.state_dict().items()}
    retrained = TinyVideoPipeline.load(folder)
    with torch.no_grad():
        for p in retrained.transformer.parameters():
            p.add_(1.0)
    retrained.save(tmp_path / "other")
    for weights in (tmp_path / "other").glob("*/*.safetensors"):   # overwritten in place, as `cp` does
        shutil.copyfile(weights, folder / weights.parent.name / weights.name)
    retrained.save(folder)                                          # and saved again
    after = held.transformer.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_the_engine_list_gives_tiny_its_capabilities(engine):
    rows = {row["id"]: row for row in rn.list_engines()}
    assert rows["tiny"]["capabilities"] == engine.capabilities          # any tiny pipeline's
    assert rows["tiny"]["capabilities"].sizes == ((64, 64),)


def test_unknown_engine_and_non_pipeline_folder(tmp_path):
    with pytest.raises(rn.EngineNotFound, match="runway-nb engines"):
        rn.load_engine("no-such-engine")
    with pytest.raises(rn.EngineNotFound, match="model_index.json"):
        rn.load_engine(str(tmp_path))
    # a file is named as one (it was "the folder has no model_index.json")
    (tmp_path / "clip.mp4").write_bytes(b"")
    with pytest.raises(rn.EngineNotFound, match="is a file, not a folder.*engine id.*pipeline folder"):
        rn.load_engine(str(tmp_path / "clip.mp4"))
    (tmp_path / "model_index.json").write_text("{}")
    with pytest.raises(rn.EngineNotFound, match="Pass the folder it is in"):
        rn.load_engine(str(tmp_path / "model_index.json"))


def test_unavailable_device_is_refused_naming_the_devices_there_are(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(InvalidInput, match=r"device='cuda' is not allowed: this machine has no 'cuda' "
                                           r"device \(allowed here: cpu"):
        rn.load_engine("tiny", device="cuda")
    with pytest.raises(InvalidInput, match=r"device='cuda:x'.*whole number, as in 'cuda:0'"):
        rn.load_engine("tiny", device="cuda:x")
    # a GPU runtime with one GPU: its number is checked too (torch failed later, mid-load)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(InvalidInput, match=r"device='cuda:1'.*has 1 CUDA GPU\(s\), numbered from 0 "
                                           r"\(allowed here: cpu, cuda"):
        rn.load_engine("tiny", device="cuda:1")


def test_a_moving_native_camera_gets_its_own_guidance(engine):
    """Native (and warp) mode with a moving path adds a third branch without the camera
    input; its difference from the prompt + camera branch is pushed along (camera guidance).
    With a guidance interval, native mode leaves out the negative prompt's branch outside it."""
    seen = []
    model = engine.pipe.transformer
    real_forward = model.forward

    def spy(*args, **kwargs):
        seen.append(args[5].tolist())            # camera_known of each branch
        return real_forward(*args, **kwargs)

    model.forward = spy
    try:
        engine.render(Shot("a red ball", seed=1, steps=1, camera="pan_left", camera_mode="native"))
        moving = seen[-1]
        engine.native_guidance_interval = (0.0, 0.6)
        engine.render(Shot("a red ball", seed=1, steps=5, camera="pan_left", camera_mode="native"))
        moving_late = seen[-5:]                  # σ = 1, 0.8, 0.6, 0.4, 0.2
        engine.render(Shot("a red ball", seed=1, steps=1, camera="static", camera_mode="native"))
        still = seen[-1]
        engine.render(Shot("a red ball", seed=1, steps=1, camera="pan_left", camera_mode="warp"))
        warped = seen[-1]
        with warp_camera_input(engine, on=False):
            engine.render(Shot("a red ball", seed=1, steps=1, camera="pan_left", camera_mode="warp"))
        warped_alone = seen[-1]
        brush = MotionBrush(box=(0.2, 0.2, 0.5, 0.5), horizontal=0.2)
        engine.render(Shot("a red ball", seed=1, steps=1, camera="pan_left", camera_mode="warp",
                           brushes=[brush]))
        warped_brushed = seen[-1]
        path = Shot("x", camera="pan_left").camera.per_frame(16, 8.0)
        engine.pipe("a red ball", camera=path, num_inference_steps=1, show_progress=False,
                    camera_guidance_scale=0.0)
        switched_off = seen[-1]
    finally:
        del model.forward
        engine.native_guidance_interval = (0.0, 1.0)
    assert moving == [True, True, False]       # prompt + camera, negative + camera, prompt alone
    assert moving_late == [[True, False]] * 2 + [[True, True, False]] * 3   # the negative from σ = 0.6 on
    assert still == [True, True]               # a locked-off camera needs no push
    assert warped == [True, True, False]       # warp keeps the camera input (and its guidance)
    assert warped_alone == [False, False]      # ... unless switched off: the training-free part alone
    assert warped_brushed == [False, False]    # ... or the shot has brushes (they would fight)
    assert switched_off == [True, True]        # scale 0: plain classifier-free guidance


def test_the_prompt_guidance_interval_leaves_out_the_negative_branch_and_defaults_to_every_step(shipped):
    """`guidance_interval`: the prompt is guided only at noise levels inside it (the other
    steps run one branch fewer); the default, every step, is the sampler as it was."""
    pipe, sizes = shipped.pipe, []
    model = pipe.transformer
    real_forward = model.forward

    def spy(*args, **kwargs):
        sizes.append(len(args[0]))
        return real_forward(*args, **kwargs)

    def run(**kw):
        return pipe("a red ball on a blue background", num_inference_steps=5, show_progress=False,
                    generator=torch.Generator().manual_seed(3), **kw).frames

    model.forward = spy
    try:
        plain, sizes_plain = run(), sizes[:]
        sizes.clear()
        everywhere = run(guidance_interval=(0.0, 1.0))
        sizes.clear()
        late = run(guidance_interval=(0.0, 0.6))
        sizes_late = sizes[:]
        sizes.clear()
        unguided = run(guidance_scale=1.0)
    finally:
        del model.forward
    assert sizes_plain == [2] * 5 and np.array_equal(everywhere, plain)
    assert sizes_late == [1, 1, 2, 2, 2]                    # σ = 1 and 0.8: the prompt alone
    assert not np.array_equal(late, plain) and not np.array_equal(late, unguided)
    for bad in [(0.7, 0.3), (-0.1, 0.5), (0.0, 1.5), (float("nan"), 1.0)]:
        with pytest.raises(ValueError, match="guidance_interval"):
            pipe("a red ball", num_inference_steps=1, show_progress=False, guidance_interval=bad)


def test_only_native_mode_with_a_moving_camera_gets_the_engines_guidance_interval(engine, monkeypatch):
    seen = []
    monkeypatch.setattr(engine, "native_guidance_interval", (0.0, 0.6))
    real_call = type(engine.pipe).__call__

    def spy(self, *args, **kwargs):
        seen.append(kwargs["guidance_interval"])
        return real_call(self, *args, **kwargs)

    monkeypatch.setattr(type(engine.pipe), "__call__", spy)
    for camera, mode in [("pan_left", "native"), ("static", "native"), (None, "auto"),
                         ("pan_left", "warp"), ("pan_left", "virtual")]:
        engine.render(Shot("a red ball", seed=1, steps=1, camera=camera, camera_mode=mode))
    assert seen[0] == (0.0, 0.6)
    assert all(interval == (0.0, 1.0) for interval in seen[1:]) and len(seen) == 5
