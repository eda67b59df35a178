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
        up, used = upscale_frames(low, factor, engine_id="tiny")
        assert up.shape == high.shape and up.dtype == np.uint8
        ours.append(psnr(up, high))
        bicubic.append(psnr(upscale_frames(low, factor, "bicubic")[0], high))
    if used == "learned":
        assert np.mean(ours) > np.mean(bicubic) + 0.5
    else:  # without the learned weights the default falls back to Lanczos
        assert used == "lanczos" and np.mean(ours) >= np.mean(bicubic) - 0.2


def test_the_default_upscaler_is_the_toy_worlds_only_for_toy_world_clips(tmp_path):
    """The learned upscaler knows flat shapes and skies; on a real model's clip (or frames of
    unknown origin) "auto" is Lanczos, which beat it on a real photo."""
    from runway_nb import Clip, Shot
    from runway_nb.ops.upscale import UPSCALERS

    frames = toyworld.render(scenes(1)[0], 2, 8.0, 32, 32)
    learned = "learned" if (UPSCALERS / "x2" / "config.json").is_file() else "lanczos"
    trained = tmp_path / "my_tiny"                 # a tiny pipeline trained into a folder
    trained.mkdir()
    (trained / "model_index.json").write_text('{"_class_name": "TinyVideoPipeline"}')
    for clip, method in ((Clip(frames, 8, shot=Shot("a ball", seed=1)), learned),
                         (Clip(frames, 8, shot=Shot("a ball", seed=1, engine=str(trained))), learned),
                         (Clip(frames, 8, provenance={"engine": "tiny"}), learned),
                         (Clip(frames, 8, shot=Shot("a ball", seed=1, engine="wan")), "lanczos"),
                         (Clip(frames, 8), "lanczos")):
        assert clip.upscale(2).provenance["upscaled"]["method"] == method, clip.shot
    assert upscale_frames(frames, 2)[1] == "lanczos"
    if learned == "learned":                       # still there when asked for by name
        assert Clip(frames, 8).upscale(2, "learned").provenance["upscaled"]["method"] == "learned"


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


def _toy_clip():
    from runway_nb import Clip, Shot

    return Clip(toyworld.render(scenes(1)[0], 4, 8.0, 64, 64), 8, shot=Shot("a ball", seed=1))


def test_whole_valued_and_numpy_factors_work_as_ints():
    """`clip.upscale(128 / clip.width)` and `clip.interpolate(24 / clip.fps)` are 2.0 and 3.0;
    numpy integers come from array maths. Each works as the int, and provenance records the int."""
    from runway_nb.ops import upscale as up

    clip = _toy_clip()
    up._learned.cache_clear()             # a 2.0 asked first must not stand in for 2 afterwards
    twice = clip.upscale(2)
    for factor in (2.0, np.int64(2), np.float64(2.0)):
        big = clip.upscale(factor)
        assert big.provenance["upscaled"] == twice.provenance["upscaled"]
        assert type(big.provenance["upscaled"]["factor"]) is int
        np.testing.assert_array_equal(big.frames, twice.frames)
    if twice.provenance["upscaled"]["method"] == "learned":
        up._learned.cache_clear()
        assert clip.upscale(2.0, "learned").provenance["upscaled"]["method"] == "learned"
        assert clip.upscale(np.int64(2)).provenance["upscaled"]["method"] == "learned"
    smooth = clip.interpolate(2)
    for factor in (2.0, np.int64(2)):
        again = clip.interpolate(factor)
        assert again.fps == 16 and again.provenance["interpolated"] == {"factor": 2, "method": "flow"}
        assert type(again.provenance["interpolated"]["factor"]) is int
        np.testing.assert_array_equal(again.frames, smooth.frames)
    assert clip.interpolate(24 / clip.fps).fps == 24 and len(clip.interpolate(3.0)) == 10


@pytest.mark.parametrize("op, allowed", [("upscale", "2, 4"), ("interpolate", "from 2 to 16")])
@pytest.mark.parametrize("factor", [2.5, "2", np.float64(1.5), float("nan"), True])
def test_a_factor_that_is_not_a_whole_number_is_refused_by_name(op, allowed, factor):
    with pytest.raises(InvalidInput) as err:
        getattr(_toy_clip(), op)(factor)
    assert err.value.field == "factor" and allowed in err.value.allowed


def test_a_film_rebuilds_a_clip_upscaled_by_a_numpy_factor(tmp_path):
    import json

    from runway_nb import Clip
    from runway_nb.export.film import load_film
    from runway_nb.sequence import Sequence

    clip = _toy_clip()
    big = clip.upscale(np.int64(2), "lanczos")

    class Replays:                          # the clip's engine: renders its frames again
        def render(self, shot, progress=True, **kw):
            return Clip(clip.frames, clip.fps, shot=shot)

    path = Sequence([big]).save(tmp_path / "film.json")
    data = json.loads(path.read_text())
    assert data["clips"][big.id]["provenance"]["upscaled"] == {"factor": 2, "method": "lanczos"}
    rebuilt = load_film(path).to_sequence(render=True, load_engine=lambda name: Replays()).clips[0]
    np.testing.assert_array_equal(rebuilt.frames, big.frames)
    data["clips"][big.id]["provenance"]["upscaled"]["factor"] = "2"    # as earlier versions wrote it
    path.write_text(json.dumps(data))
    rebuilt = load_film(path).to_sequence(render=True, load_engine=lambda name: Replays()).clips[0]
    np.testing.assert_array_equal(rebuilt.frames, big.frames)
    data["clips"][big.id]["provenance"]["upscaled"]["factor"] = 3      # hand-edited: names the clip
    path.write_text(json.dumps(data))
    with pytest.raises(InvalidInput) as err:
        load_film(path).to_sequence(render=True, load_engine=lambda name: Replays())
    assert err.value.field == f"clips[{big.id!r}].provenance.upscaled.factor" and err.value.value == 3


@pytest.mark.parametrize("argv, flag", [(["--steps", "0"], "steps"), (["--threads", "0"], "threads"),
                                        (["--out", "{file}"], "out")])
def test_the_upscaler_trainer_refuses_bad_settings_before_any_work(argv, flag, tmp_path, monkeypatch, capsys):
    # before: --steps 0 wrote untrained weights, --out FILE failed after the whole training
    from runway_nb.tiny import upscaler

    (tmp_path / "f.txt").write_text("mine")
    monkeypatch.setattr(upscaler, "train", lambda *a, **k: pytest.fail("trained"))
    argv = [a.format(file=tmp_path / "f.txt") for a in argv]
    with pytest.raises(SystemExit) as exit_:
        upscaler.main(["--factor", "2", "--out", str(tmp_path / "u"), *argv])
    assert exit_.value.code == 2 and f"{flag}=" in capsys.readouterr().err
