"""The diffusers adapters, offline, on tiny random-weight pipelines of each family's real classes.

Every adapter passes the shared engine contract (for an image→video checkpoint: the same
shot from the same first frame), then what only some adapters do (extend, camera modes,
MotionLoRA) and the bad input each must refuse clearly.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

import runway_nb as rn
from runway_nb import Shot
from runway_nb.engines.registry import load_engine
from runway_nb.errors import EngineNotFound, InvalidInput, UnsupportedCapability, WeightsError

from .contract import EngineContract

pytest.importorskip("transformers")

FAMILIES = ("cogvideox", "cogvideox-i2v", "ltx", "wan", "wan-i2v", "animatediff", "modelscope")
FIRST_FRAME = np.tile(np.linspace(0, 255, 32, dtype=np.uint8)[None, :, None], (32, 1, 3))[None]


class StartsFromImage:
    """An image→video engine seen through the contract: every render starts from one frame."""

    def __init__(self, engine):
        self.engine = engine
        self.id, self.capabilities = engine.id, engine.capabilities

    def resolve(self, shot):
        return self.engine.resolve(shot)

    def render(self, shot, **kw):
        return self.engine.render(shot, init_frames=FIRST_FRAME, **kw)


def _load(tiny_pipelines, family, **options):
    return load_engine(str(tiny_pipelines[family]), **options)


@pytest.fixture(params=FAMILIES)
def engine(request, tiny_pipelines):
    eng = _load(tiny_pipelines, request.param)
    return eng if eng.capabilities.text_to_video else StartsFromImage(eng)


class TestAdapterContract(EngineContract):
    steps = 3


# ---- previews: the model's x0 estimate, one frame per clip frame ---------------------------------
@pytest.mark.parametrize("family", FAMILIES)
def test_previews_show_x0_with_one_frame_per_clip_frame(tiny_pipelines, family):
    eng = _load(tiny_pipelines, family)
    start = FIRST_FRAME if family.endswith("i2v") else None
    shot = Shot("a red ball", seed=4, steps=3, frames=7)        # 7 of the 9 frames the VAE makes
    seen = []
    clip = eng.render(shot, on_step=seen.append, init_frames=start, progress=False)
    assert [s.extra["preview_of"] for s in seen] == ["x0"] * 3
    assert all(s.preview.shape == clip.frames.shape for s in seen)
    # previews only read the denoising loop: the frames are those of a render without them,
    # and the scheduler's own `step` is back once the render is over
    np.testing.assert_array_equal(eng.render(shot, init_frames=start, progress=False).frames, clip.frames)
    assert "step" not in vars(eng.pipe.scheduler)


def test_previews_of_an_extension_show_only_its_new_frames(tiny_pipelines):
    eng = _load(tiny_pipelines, "ltx")
    clip = eng.render(Shot("a red ball", seed=2, steps=2, frames=5), progress=False)
    seen = []
    longer = clip.extend(0.5, engine=eng, on_step=seen.append, progress=False)   # 4 new frames
    assert len(longer) == 9 and all(s.preview.shape == (4, 32, 32, 3) for s in seen)


def test_preview_of_xt_shows_the_noisy_latents_and_bad_values_are_refused(tiny_pipelines):
    eng = _load(tiny_pipelines, "wan")
    shot = Shot("a red ball", seed=4, steps=2, frames=5)
    x0 = []
    eng.render(shot, on_step=x0.append, progress=False)
    eng.preview_of = "xt"
    xt = []
    eng.render(shot, on_step=xt.append, progress=False)
    assert [s.extra["preview_of"] for s in xt] == ["xt", "xt"]
    assert not np.array_equal(x0[0].preview, xt[0].preview)
    with pytest.raises(InvalidInput, match="preview_of.*x0"):
        eng.preview_of = "latents"


def test_cancel_gives_the_scheduler_its_own_step_back(tiny_pipelines):
    import threading

    from runway_nb.errors import Cancelled

    eng = _load(tiny_pipelines, "ltx")
    cancel = threading.Event()
    with pytest.raises(Cancelled):
        eng.render(Shot("a ball", seed=1, steps=3, frames=5), on_step=lambda info: cancel.set(),
                   cancel=cancel, progress=False)
    assert "step" not in vars(eng.pipe.scheduler)


def test_a_cancel_during_the_final_decode_keeps_the_finished_clip(tiny_pipelines, monkeypatch):
    """Every step ran and the VAE decoded anyway: the clip is returned, marked, not discarded."""
    import threading

    eng = _load(tiny_pipelines, "cogvideox")
    shot = Shot("a ball", seed=1, steps=3, frames=5)
    whole = eng.render(shot, progress=False)
    cancel, steps = threading.Event(), []
    decode = eng.pipe.vae.decode

    def pressed_while_decoding(*args, **kwargs):
        if len(steps) == shot.steps:       # the final decode (previews may decode to fit their map)
            cancel.set()                   # Cancel pressed while the VAE decodes
        return decode(*args, **kwargs)

    monkeypatch.setattr(eng.pipe.vae, "decode", pressed_while_decoding)
    with pytest.warns(UserWarning, match="too late"):
        clip = eng.render(shot, cancel=cancel, on_step=lambda info: steps.append(info.step), progress=False)
    assert steps == [1, 2, 3] and cancel.is_set()
    np.testing.assert_array_equal(clip.frames, whole.frames)
    assert clip.provenance["cancel_too_late"] is True and "cancel_too_late" not in whole.provenance


@pytest.mark.parametrize("family", FAMILIES)
def test_x0_of_the_last_step_is_the_clean_result(tiny_pipelines, family):
    """Through each family's real pipeline and scheduler: at the last step the tapped x0 is
    the latents the VAE then decodes, while the x_t that step started from still holds noise
    (for the DiTs, whose last step starts at a real noise level)."""
    import torch

    from runway_nb.engines.x0 import X0Tap

    eng = _load(tiny_pipelines, family)
    start = FIRST_FRAME if family.endswith("i2v") else None
    call = eng._prepare(eng.resolve(Shot("a red ball", seed=4, steps=3, frames=5)), 5, start)
    last = {}

    def keep(*args):
        last.update(x0=tap.x0.clone(), xt=tap.sample.clone())
        return args[-1] if isinstance(args[-1], dict) else None

    hook = ({"callback": keep, "callback_steps": 1} if family == "modelscope" else
            {"callback_on_step_end": keep})
    call.pipe.set_progress_bar_config(disable=True)
    with X0Tap(call.pipe.scheduler) as tap:
        final = call.pipe(**call.kwargs, **hook, generator=torch.Generator().manual_seed(4),
                          output_type="latent").frames
    if family == "modelscope":                   # it steps on (B·F, C, h, w), returns (B, C, F, h, w)
        final = final[0].transpose(0, 1)
    scale = final.abs().mean()
    assert (last["x0"] - final).abs().mean() < 0.01 * scale
    if family not in ("animatediff", "modelscope"):   # DDIM's last step starts at t = 1: clean already
        assert (last["xt"] - final).abs().mean() > 0.1 * scale


# ---- x0 from each family's scheduler, against a model that knows the answer ----------------------
def _schedulers():
    import diffusers as d

    zero_snr = dict(prediction_type="v_prediction", rescale_betas_zero_snr=True, beta_schedule="scaled_linear",
                    timestep_spacing="trailing", clip_sample=False, set_alpha_to_one=True)
    return {
        "FlowMatchEuler (LTX)": d.FlowMatchEulerDiscreteScheduler(shift=3.0),
        "UniPC flow (Wan)": d.UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True,
                                                      flow_shift=3.0),
        "CogVideoXDPM v (CogVideoX 5B)": d.CogVideoXDPMScheduler(**zero_snr, snr_shift_scale=1.0),
        "CogVideoXDDIM v (CogVideoX 2B)": d.CogVideoXDDIMScheduler(**zero_snr, snr_shift_scale=3.0),
        "DDIM eps (AnimateDiff)": d.DDIMScheduler(beta_schedule="linear", clip_sample=False, steps_offset=1),
        "DPM-Solver++ eps": d.DPMSolverMultistepScheduler(),
        "PNDM eps": d.PNDMScheduler(skip_prk_steps=True),
    }


@pytest.mark.parametrize("name", list(_schedulers()))
def test_x0_matches_what_an_exact_model_implies(name):
    """x_t is made from a known x0 and noise at each step's noise level, and the model output
    is what an exact model predicts there (ε, v = α·ε − σ·x0, or the flow v = ε − x0): the
    tap must give back x0, whether the scheduler reports it or x0.py computes it."""
    import torch

    from runway_nb.engines.x0 import X0Tap

    scheduler = _schedulers()[name]
    scheduler.set_timesteps(4)
    g = torch.Generator().manual_seed(0)
    x0, noise = torch.randn(1, 4, 2, 3, 3, generator=g), torch.randn(1, 4, 2, 3, 3, generator=g)
    kind = scheduler.config.get("prediction_type", "flow_prediction")
    flow = kind == "flow_prediction" or name.startswith("FlowMatch")
    cog_dpm = name.startswith("CogVideoXDPM")
    old = None
    with X0Tap(scheduler) as tap:
        for i, t in enumerate(scheduler.timesteps):
            if flow:    # the noise level of this step: the scheduler's sigma table
                sigma = scheduler.sigmas[i]
                alpha = 1 - sigma
            else:       # discrete schedulers: ᾱ_t at the timestep
                alpha_bar = scheduler.alphas_cumprod[int(t)]
                alpha, sigma = alpha_bar.sqrt(), (1 - alpha_bar).sqrt()
            xt = alpha * x0 + sigma * noise
            output = {"epsilon": noise, "v_prediction": alpha * noise - sigma * x0}.get(kind, noise - x0)
            if cog_dpm:
                _, old = scheduler.step(output, old, t, scheduler.timesteps[i - 1] if i else None, xt,
                                        return_dict=False)
            else:
                scheduler.step(output, t, xt)
            torch.testing.assert_close(tap.x0, x0, atol=2e-4, rtol=1e-4)
            assert tap.sample is xt
    assert "step" not in vars(scheduler)


def test_x0_of_the_per_token_flow_step_ltx_conditioning_uses():
    """LTXConditionPipeline steps with per-token timesteps (0 for the given frames' tokens)
    and passes −v: x0 must still come out, and the given tokens stay as they are."""
    import diffusers as d
    import torch

    from runway_nb.engines.x0 import X0Tap

    scheduler = d.FlowMatchEulerDiscreteScheduler()
    scheduler.set_timesteps(3)
    g = torch.Generator().manual_seed(1)
    x0, noise = torch.randn(1, 6, 4, generator=g), torch.randn(1, 6, 4, generator=g)
    t = scheduler.timesteps[0]
    per_token = torch.full((1, 6), float(t))
    per_token[:, :2] = 0.0                                   # two clean conditioning tokens
    sigma = (per_token / 1000)[..., None]
    xt = (1 - sigma) * x0 + sigma * noise
    with X0Tap(scheduler) as tap:
        scheduler.step(-(noise - x0), t, xt, per_token_timesteps=per_token, return_dict=False)
    torch.testing.assert_close(tap.x0, x0, atol=1e-5, rtol=1e-5)


def test_the_tap_keeps_the_step_signature_pipelines_inspect():
    import inspect

    import diffusers as d

    from runway_nb.engines.x0 import X0Tap

    scheduler = d.DDIMScheduler()
    with X0Tap(scheduler):
        assert {"eta", "generator"} <= set(inspect.signature(scheduler.step).parameters)


# ---- loading and recognition ------------------------------------------------------------------
@pytest.mark.parametrize("family", FAMILIES)
def test_folder_is_recognised_and_capabilities_come_from_it(tiny_pipelines, family):
    eng = _load(tiny_pipelines, family)
    assert eng.family == family and eng.id == str(tiny_pipelines[family])
    caps = eng.capabilities
    assert caps.sizes == ((32, 32),) and caps.max_frames == 9 and caps.fps == (8.0,)
    assert "virtual" in caps.camera_modes and "warp" in caps.camera_modes
    assert caps.text_to_video == (not family.endswith("i2v"))
    assert caps.extend == (family in ("ltx", "cogvideox-i2v", "wan-i2v"))


def test_registry_lists_every_adapter_with_documented_capabilities():
    rows = {row["id"]: row for row in rn.list_engines()}
    for family in FAMILIES:
        row = rows[family]
        assert row["weights_available"] in (True, False)
        assert row["capabilities"].max_frames > 0 and row["capabilities"].sizes
    assert rows["wan"]["capabilities"].sizes[0] == (832, 480)
    assert rows["animatediff"]["capabilities"].camera_modes[0] == "native"


def test_generate_and_cli_accept_a_pipeline_folder(tiny_pipelines, tmp_path):
    from runway_nb.cli import main

    clip = rn.generate("a red ball", engine=str(tiny_pipelines["wan"]), steps=2, seed=5, progress=False)
    assert clip.frames.shape == (5, 32, 32, 3) and clip.shot.engine == str(tiny_pipelines["wan"])
    out = tmp_path / "wan.mp4"
    assert main(["generate", "a red ball", "--engine", str(tiny_pipelines["ltx"]), "--steps", "2",
                 "--seed", "5", "-o", str(out), "--no-progress"]) == 0
    assert out.is_file() and out.with_suffix(".json").is_file()


def test_resolved_shot_re_makes_the_clip_through_load_engine(tiny_pipelines):
    clip = rn.generate("a cat", engine=str(tiny_pipelines["cogvideox"]), steps=2, seed=9, progress=False)
    again = load_engine(clip.shot.engine).render(Shot.from_json(clip.shot.to_json()), progress=False)
    np.testing.assert_array_equal(again.frames, clip.frames)


# ---- frames, extend, image→video --------------------------------------------------------------
@pytest.mark.parametrize("family", ["wan", "ltx", "animatediff"])
def test_frame_counts_the_vae_cannot_make_are_rendered_and_trimmed(tiny_pipelines, family):
    clip = _load(tiny_pipelines, family).render(Shot("a ball", seed=1, steps=2, frames=7), progress=False)
    assert clip.frames.shape == (7, 32, 32, 3) and clip.shot.frames == 7


@pytest.mark.parametrize("family", ["ltx", "cogvideox-i2v", "wan-i2v"])
def test_extend_continues_a_clip(tiny_pipelines, family):
    eng = _load(tiny_pipelines, family)
    start = FIRST_FRAME if family.endswith("i2v") else None
    clip = eng.render(Shot("a red ball", seed=2, steps=2, frames=5), init_frames=start, progress=False)
    longer = clip.extend(0.5, engine=eng, progress=False)           # 4 new frames at 8 fps
    assert len(longer) == len(clip) + 4
    np.testing.assert_array_equal(longer.frames[: len(clip)], clip.frames)
    assert longer.shot.parent == clip.id and longer.shot.context_frames == eng.context


@pytest.mark.parametrize("family", ["cogvideox-i2v", "wan-i2v"])
def test_image_to_video_engines_extend_from_the_last_frame_only_and_say_so(tiny_pipelines, family):
    eng = _load(tiny_pipelines, family)
    clip = eng.render(Shot("a red ball", seed=2, steps=1, frames=5), init_frames=FIRST_FRAME, progress=False)
    assert eng.max_context == 1 and clip.extend(0.5, context=1, progress=False).shot.context_frames == 1
    with pytest.raises(UnsupportedCapability, match="context=4.*at most 1 of its last frames"):
        clip.extend(0.5, context=4, progress=False)        # (it was ignored, and recorded as 4)


def test_ltx_records_the_context_frames_it_conditions_on(tiny_pipelines):
    eng = _load(tiny_pipelines, "ltx")                     # r = 4: whole latent frames are 1, 5, …
    clip = eng.render(Shot("a red ball", seed=2, steps=1, frames=9), progress=False)
    three, one = (clip.extend(0.5, context=k, progress=False) for k in (3, 1))
    assert three.shot.context_frames == one.shot.context_frames == 1
    np.testing.assert_array_equal(three.frames, one.frames)
    assert clip.extend(0.5, context=5, progress=False).shot.context_frames == 5 == eng.max_context
    with pytest.raises(UnsupportedCapability, match="at most 5 of its last frames.*context=5 or less"):
        clip.extend(0.5, context=6, progress=False)


@pytest.mark.parametrize("family, seconds, step", [("ltx", 1, "0.5"), ("wan-i2v", 2, "1")])
def test_too_long_an_extension_says_the_step_to_extend_in(tiny_pipelines, family, seconds, step):
    from runway_nb.ops.extend import plan_extension

    eng = _load(tiny_pipelines, family)
    start = FIRST_FRAME if family.endswith("i2v") else None
    clip = eng.render(Shot("a red ball", seed=2, steps=1, frames=5), init_frames=start, progress=False)
    with pytest.raises(UnsupportedCapability) as err:
        plan_extension(clip, seconds, engine=eng)           # refused before any render starts
    message = str(err.value)
    assert f"Extend in steps of at most {step} s (clip.extend({step}).extend({step})" in message
    assert "Make a shorter clip" not in message
    longer = clip.extend(float(step), engine=eng, progress=False).extend(float(step), engine=eng, progress=False)
    assert len(longer) == 5 + 2 * round(float(step) * 8)


def test_image_to_video_starts_from_the_given_frame(tiny_pipelines):
    eng = _load(tiny_pipelines, "ltx")
    a = eng.render(Shot("a ball", seed=3, steps=2, frames=5), init_frames=FIRST_FRAME, progress=False)
    b = eng.render(Shot("a ball", seed=3, steps=2, frames=5), init_frames=255 - FIRST_FRAME, progress=False)
    assert a.frames.shape == (5, 32, 32, 3) and not np.array_equal(a.frames, b.frames)


@pytest.mark.parametrize("family", ["wan", "cogvideox", "animatediff", "modelscope"])
def test_text_only_checkpoints_refuse_extend_naming_engines_that_can(tiny_pipelines, family):
    eng = _load(tiny_pipelines, family)
    clip = eng.render(Shot("a ball", seed=1, steps=2, frames=5), progress=False)
    with pytest.raises(UnsupportedCapability, match="ltx"):
        clip.extend(0.5, engine=eng, progress=False)


def test_image_to_video_checkpoint_without_an_image_says_so(tiny_pipelines):
    with pytest.raises(UnsupportedCapability, match="image"):
        _load(tiny_pipelines, "wan-i2v").render(Shot("a ball", steps=2), progress=False)


# ---- camera -------------------------------------------------------------------------------------
@pytest.mark.parametrize("family", ["wan", "ltx", "cogvideox", "animatediff", "modelscope"])
def test_warp_camera_changes_the_noise_reproducibly(tiny_pipelines, family):
    eng = _load(tiny_pipelines, family)
    base = Shot("a ball", seed=4, steps=2, frames=5)
    still = eng.render(base, progress=False)
    warped = eng.render(base.replace(camera="pan_left:2", camera_mode="warp"), progress=False)
    again = eng.render(base.replace(camera="pan_left:2", camera_mode="warp"), progress=False)
    assert warped.shot.camera_mode == "warp" and not np.array_equal(still.frames, warped.frames)
    np.testing.assert_array_equal(warped.frames, again.frames)


def test_virtual_camera_works_on_an_adapter(tiny_pipelines):
    eng = _load(tiny_pipelines, "wan")
    base = Shot("a ball", seed=4, steps=2, frames=5)
    moved = eng.render(base.replace(camera="zoom_in:3", camera_mode="virtual"), progress=False)
    assert moved.frames.shape == (5, 32, 32, 3) and "virtual_camera" in moved.provenance
    assert not np.array_equal(moved.frames, eng.render(base, progress=False).frames)


@pytest.mark.parametrize("family", FAMILIES)
def test_virtual_camera_works_on_every_adapter_that_lists_it(tiny_pipelines, family):
    # the source is filmed locked-off, in native mode where the engine has a native camera
    # (AnimateDiff: no MotionLoRA, so nothing to download even for a preset that has one)
    eng = _load(tiny_pipelines, family)
    assert "virtual" in eng.capabilities.camera_modes
    start = None if eng.capabilities.text_to_video else FIRST_FRAME
    moved = eng.render(Shot("a ball", seed=4, steps=2, frames=5, camera="pan_left:0.5",
                            camera_mode="virtual"), init_frames=start, progress=False)
    assert moved.frames.shape == (5, 32, 32, 3) and moved.shot.camera_mode == "virtual"
    assert "virtual_camera" in moved.provenance


def test_a_static_camera_on_animatediff_is_the_plain_motion_module(tiny_pipelines):
    eng = _load(tiny_pipelines, "animatediff")
    base = Shot("a ball", seed=4, steps=2, frames=5)
    still = eng.render(base.replace(camera="static", camera_mode="native"), progress=False)
    np.testing.assert_array_equal(still.frames, eng.render(base, progress=False).frames)


def test_extending_a_warped_ltx_clip_moves_on_with_the_virtual_camera(tiny_pipelines):
    eng = _load(tiny_pipelines, "ltx")
    clip = eng.render(Shot("a ball", seed=1, steps=2, frames=5, camera="pan_left"), progress=False)
    assert clip.shot.camera_mode == "warp"
    longer = clip.extend(0.5, engine=eng, progress=False)
    assert longer.shot.camera_mode == "virtual" and len(longer) == 9
    # image→video (no parent clip) with an explicit warp is refused, pointing to virtual
    image = Shot("a ball", seed=1, steps=2, frames=5, camera="pan_left", camera_mode="warp")
    with pytest.raises(UnsupportedCapability, match="virtual"):
        eng.render(image, init_frames=FIRST_FRAME, progress=False)


def test_ltx_image_to_video_with_a_camera_moves_it_with_the_virtual_camera(tiny_pipelines):
    """auto picks virtual for image→video on LTX, as for its extensions: its image pipeline
    draws its own noise, so warp cannot follow the path from a picture."""
    eng = _load(tiny_pipelines, "ltx")
    picture = FIRST_FRAME[0]
    still = rn.generate("a red ball", image=picture, engine=eng, frames=5, steps=1, seed=2, progress=False)
    moved = rn.generate("a red ball", image=picture, engine=eng, camera="pan_left", frames=5, steps=1,
                        seed=2, progress=False)
    assert moved.shot.camera_mode == "virtual" and "virtual_camera" in moved.provenance
    assert not np.array_equal(moved.frames, still.frames)
    direct = eng.render(Shot("a ball", seed=1, steps=1, frames=5, camera="pan_left"), init_frames=FIRST_FRAME,
                        progress=False)
    assert direct.shot.camera_mode == "virtual"
    assert eng.resolve(Shot("a ball", camera="pan_left")).camera_mode == "warp"     # text→video still warps
    with pytest.raises(UnsupportedCapability) as err:
        rn.generate("a red ball", image=picture, engine=eng, camera="pan_left", camera_mode="warp",
                    frames=5, steps=1, progress=False)
    assert "image→video" in str(err.value) and "extending" not in str(err.value)


@pytest.fixture
def animatediff(tiny_pipelines):
    return _load(tiny_pipelines, "animatediff", motion_loras={"zoom_in": str(tiny_pipelines["motion-lora"])})


def test_motion_lora_follows_the_preset_and_its_intensity(animatediff):
    base = Shot("a ball", seed=6, steps=2, frames=8)
    plain = animatediff.render(base, progress=False)
    full = animatediff.render(base.replace(camera="zoom_in", camera_mode="native"), progress=False)
    half = animatediff.render(base.replace(camera="zoom_in:0.5", camera_mode="native"), progress=False)
    assert full.shot.camera_mode == "native"
    assert not np.array_equal(plain.frames, full.frames) and not np.array_equal(full.frames, half.frames)
    # the clip says which MotionLoRA made its move, and at what weight
    assert full.provenance["motion_lora"]["preset"] == "zoom_in"
    assert half.provenance["motion_lora"]["weight"] < full.provenance["motion_lora"]["weight"]
    assert "motion_lora" not in plain.provenance
    # auto picks the MotionLoRA for a covered preset, and a later plain render is plain again
    auto = animatediff.render(base.replace(camera="zoom_in"), progress=False)
    assert auto.shot.camera_mode == "native"
    np.testing.assert_array_equal(auto.frames, full.frames)
    np.testing.assert_array_equal(animatediff.render(base, progress=False).frames, plain.frames)


def test_motion_lora_refuses_paths_it_cannot_make(animatediff):
    base = Shot("a ball", seed=6, steps=2, frames=8)
    with pytest.raises(UnsupportedCapability, match="zoom_in, zoom_out.*warp"):
        animatediff.resolve(base.replace(camera="orbit_left", camera_mode="native"))
    assert animatediff.resolve(base.replace(camera="orbit_left")).camera_mode == "warp"


def test_uncached_motion_lora_offline_names_the_download(tiny_pipelines):
    eng = _load(tiny_pipelines, "animatediff")
    with pytest.raises(WeightsError, match="animatediff-motion-lora-pan-left.*hf download"):
        eng.render(Shot("a ball", steps=1, frames=4, camera="pan_left", camera_mode="native"),
                   progress=False)


def test_auto_follows_a_preset_by_warp_when_its_motion_lora_cannot_be_downloaded(
        tiny_pipelines, monkeypatch, tmp_path):
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))     # nothing cached
    eng = _load(tiny_pipelines, "animatediff", motion_loras={"zoom_in": str(tiny_pipelines["motion-lora"])})
    clip = eng.render(Shot("a ball", seed=1, steps=1, frames=4, camera="pan_left"), progress=False)
    assert clip.shot.camera_mode == "warp"
    # a LoRA in a folder (or cached) is still the first choice
    assert eng.resolve(Shot("a ball", camera="zoom_in")).camera_mode == "native"


def test_auto_follows_a_preset_by_warp_without_peft(tiny_pipelines, monkeypatch):
    """MotionLoRAs load through peft (the models extra): without it auto warps, and an
    explicit native names the missing package."""
    import importlib.util

    from runway_nb import MissingDependency

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "peft" else real(name, *a))
    # a LoRA in a folder, not loaded yet (an engine of its own: engines are cached by options)
    eng = _load(tiny_pipelines, "animatediff", motion_loras={"zoom_out": str(tiny_pipelines["motion-lora"])})
    assert eng.resolve(Shot("a ball", camera="zoom_out")).camera_mode == "warp"
    with pytest.raises(MissingDependency, match="peft"):
        eng.render(Shot("a ball", seed=1, steps=1, frames=4, camera="zoom_out", camera_mode="native"),
                   progress=False)


@pytest.mark.parametrize("source", ["/nonexistent/lora", 5])
def test_a_motion_lora_that_is_neither_a_folder_nor_a_hub_id_is_refused_when_loading(tiny_pipelines, source):
    # before: taken, then "auto" picked it and diffusers' offline error came at the render
    with pytest.raises(InvalidInput) as err:
        _load(tiny_pipelines, "animatediff", motion_loras={"zoom_in": source})
    assert err.value.field == "motion_loras['zoom_in']" and "a folder that exists or a hub id" in str(err.value)


# ---- memory options -----------------------------------------------------------------------------
def test_vae_slicing_and_tiling_are_plain_options(tiny_pipelines):
    plain = _load(tiny_pipelines, "cogvideox")
    sliced = _load(tiny_pipelines, "cogvideox", vae_slicing=True, vae_tiling=True)
    assert sliced is not plain and sliced.provenance()["vae_tiling"] is True
    assert sliced.render(Shot("a ball", seed=1, steps=1), progress=False).frames.shape == (5, 32, 32, 3)


def test_dtype_and_engine_options_reach_the_engine_from_the_cli_and_the_magic(tiny_pipelines, tmp_path):
    import json

    from IPython.core.interactiveshell import InteractiveShell

    from runway_nb.cli import main

    folder = str(tiny_pipelines["ltx"])
    load = ["--dtype", "bfloat16", "--engine-option", "vae_tiling=true", "--engine-option", "vae_slicing=true"]
    out = tmp_path / "a.mp4"
    assert main(["generate", "a ball", "--engine", folder, "--frames", "5", "--steps", "1", "--no-progress",
                 "--device", "cpu", *load, "-o", str(out)]) == 0
    made = json.loads(out.with_suffix(".json").read_text())["provenance"]
    assert (made["dtype"], made["vae_tiling"], made["vae_slicing"]) == ("bfloat16", True, True)
    longer = tmp_path / "b.mp4"
    rn.unload_engine(folder)          # the CLI's extend must load it with the options itself
    assert main(["extend", str(out), "--seconds", "0.5", "--no-progress", *load, "-o", str(longer)]) == 0
    made = json.loads(longer.with_suffix(".json").read_text())["provenance"]
    assert (made["dtype"], made["vae_tiling"], made["vae_slicing"]) == ("bfloat16", True, True)
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "runway_nb.magics")
    result = ip.run_cell(f"%%runway -o magic --engine {folder} --frames 5 --steps 1 --quiet "
                         f"--device cpu:0 {' '.join(load)}\na ball\n")
    assert result.error_before_exec is None and result.error_in_exec is None
    made = ip.user_ns["magic"].provenance
    assert (made["device"], made["dtype"], made["vae_tiling"], made["vae_slicing"]) == (
        "cpu", "bfloat16", True, True)                      # there is one CPU: cpu:0 is cpu
    assert main(["generate", "a ball", "--engine", folder, "--no-progress", "--engine-option",
                 "vae_tiling=maybe", "-o", str(tmp_path / "c.mp4")]) == 2
    with pytest.raises(InvalidInput, match="dtype"):
        rn.generate("a ball", engine=_load(tiny_pipelines, "ltx"), dtype="bfloat16", progress=False)
    # the Python API's extend takes them as generate does (the CLI's extend goes through it)
    clip = rn.Clip.load(out)
    made = clip.extend(0.5, engine=folder, dtype="bfloat16", engine_options={"vae_tiling": True},
                       progress=False).provenance
    assert (made["dtype"], made["vae_tiling"]) == ("bfloat16", True)
    with pytest.raises(InvalidInput, match="dtype.*loaded already"):
        clip.extend(0.5, engine=_load(tiny_pipelines, "ltx"), dtype="bfloat16", progress=False)


@pytest.mark.parametrize("options, field", [({"cpu_offload": True}, "cpu_offload"),
                                            ({"dtype": "int8"}, "dtype"),
                                            ({"vae_tiling": "yes"}, "vae_tiling")])
def test_bad_memory_options_are_refused(tiny_pipelines, options, field):
    with pytest.raises(InvalidInput, match=field):
        _load(tiny_pipelines, "wan", **options)


def test_an_option_the_adapter_does_not_take_is_refused_naming_those_it_does(tiny_pipelines):
    with pytest.raises(InvalidInput, match="motion_loras=.*wan engine's options are .*cpu_offload"):
        load_engine(str(tiny_pipelines["wan"]), motion_loras={})
    with pytest.raises(InvalidInput, match="motion_adapter, motion_loras, cpu_offload"):
        load_engine("animatediff", cpu_ofload=True)


# ---- bad input ----------------------------------------------------------------------------------
def test_size_the_model_cannot_make_lists_the_allowed_sizes(tiny_pipelines):
    with pytest.raises(UnsupportedCapability, match="64x48.*32x32"):
        _load(tiny_pipelines, "ltx").resolve(Shot("a ball", width=64, height=48))


def test_too_many_frames_names_the_maximum(tiny_pipelines):
    with pytest.raises(UnsupportedCapability, match="at most 9 frames"):
        _load(tiny_pipelines, "wan").resolve(Shot("a ball", frames=40))


def test_too_many_frames_suggests_extend_only_where_the_engine_can_extend(tiny_pipelines):
    with pytest.raises(UnsupportedCapability) as err:
        _load(tiny_pipelines, "animatediff").resolve(Shot("a ball", frames=40))
    assert "extend(" not in str(err.value) and "cannot extend" in str(err.value)
    with pytest.raises(UnsupportedCapability, match=r"clip\.extend\(seconds\)"):
        _load(tiny_pipelines, "ltx").resolve(Shot("a ball", frames=40))


def test_extending_a_clip_of_another_size_says_the_clip_must_fit_the_engine(tiny_pipelines):
    clip = rn.load_engine("tiny").render(Shot("a ball", seed=1, steps=1, frames=2), progress=False)
    with pytest.raises(UnsupportedCapability) as err:
        clip.extend(0.5, engine=_load(tiny_pipelines, "wan-i2v"), progress=False)
    message = str(err.value)
    assert "64x64" in message and "Upscale the clip afterwards" not in message
    assert "the engine that made it" in message and "resize the clip to 32x32" in message
    # the same for the frame rate, which an extension keeps too
    with pytest.raises(UnsupportedCapability, match="keeps the clip's frame rate"):
        _load(tiny_pipelines, "wan-i2v").resolve(clip.shot.replace(fps=16.0, parent=clip.id))


def test_cuda_on_a_cpu_machine_is_refused(tiny_pipelines):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(InvalidInput, match="device"):
        _load(tiny_pipelines, "wan", device="cuda")


def test_unknown_id_and_folders_that_are_not_pipelines(tmp_path, tiny_pipelines):
    with pytest.raises(EngineNotFound, match="runway-nb engines"):
        load_engine("no-such-engine")
    with pytest.raises(EngineNotFound, match="model_index.json"):
        load_engine(str(tmp_path))
    from runway_nb.engines.wan import WanEngine

    with pytest.raises(EngineNotFound, match="LTXPipeline, not a WanPipeline"):
        WanEngine(tiny_pipelines["ltx"])


def test_pickle_checkpoints_are_refused_unless_allowed(tmp_path, tiny_pipelines):
    folder = tmp_path / "pickled"
    shutil.copytree(tiny_pipelines["wan"], folder)
    weights = folder / "transformer" / "diffusion_pytorch_model.safetensors"
    weights.unlink()
    (folder / "transformer" / "diffusion_pytorch_model.bin").write_bytes(b"not looked at")
    with pytest.raises(WeightsError, match="pickle.*allow_pickle=True"):
        load_engine(str(folder))


NOT_CACHED = ("Cannot load model Wan-AI/Wan2.1-T2V-1.3B-Diffusers: the model is not fully cached locally "
              "(Cannot find an appropriate cached snapshot folder for the specified revision on the local "
              "disk and outgoing traffic has been disabled. To enable repo look-ups and downloads online, "
              "pass 'local_files_only=False' as input.) and an error occurred while trying to fetch "
              "metadata from the Hub.")          # what diffusers 0.42 says online without a network
NO_CONNECTION = ("We couldn't connect to 'https://huggingface.co' to load this model, couldn't find it in "
                 "the cached files and it looks like x is not the path to a directory containing a file "
                 "named diffusion_pytorch_model.safetensors.")
NO_SAFETENSORS = "Could not find the necessary `safetensors` weights in ['unet/x.bin'] (variant=None)"


@pytest.mark.parametrize("message, pickle_hint", [(NOT_CACHED, False), (NO_CONNECTION, False),
                                                  (NO_SAFETENSORS, True)])
def test_a_failed_load_suggests_allow_pickle_only_when_safetensors_were_missing(
        tiny_pipelines, monkeypatch, message, pickle_hint):
    from runway_nb.engines.wan import WanEngine

    def fail(*args, **kwargs):
        raise OSError(message)

    monkeypatch.setattr(WanEngine, "_from_pretrained", fail)
    with pytest.raises(WeightsError) as err:
        WanEngine(tiny_pipelines["wan"])
    assert ("allow_pickle=True" in str(err.value)) == pickle_hint
    assert ("could not be reached" in str(err.value)) == (not pickle_hint)


def test_offline_uncached_hub_id_says_what_to_download_and_where(monkeypatch, tmp_path):
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    for name in ("wan", "Wan-AI/Wan2.1-T2V-14B-Diffusers"):
        with pytest.raises(WeightsError) as err:
            load_engine(name)
        message = str(err.value)
        assert "hf download Wan-AI/" in message and str(tmp_path) in message
        # unsetting it does nothing under the CLI (which turns downloads off by default): =0 does
        assert "set HF_HUB_OFFLINE=0" in message and "unset" not in message
    assert {row["id"]: row for row in rn.list_engines()}["wan"]["weights_available"] is False
