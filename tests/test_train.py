"""Training: a smoke run writes a pipeline that loads, is reproducible, and resumes."""

from __future__ import annotations

import json
from dataclasses import asdict, replace

import numpy as np
import pytest
from safetensors.torch import load_file

from runway_nb.tiny.train import PRESETS, TrainConfig, main, train

SMOKE = PRESETS["smoke"]


def _weights(folder):
    return load_file(folder / "transformer" / "diffusion_pytorch_model.safetensors")


def test_same_seed_gives_the_same_weights(tmp_path):
    a = train(SMOKE, tmp_path / "a")
    b = train(SMOKE, tmp_path / "b")
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys()
    assert all((wa[k] == wb[k]).all() for k in wa)
    record = json.loads((a / "training.json").read_text())
    assert record["steps"] == SMOKE.steps and record["config"]["seed"] == SMOKE.seed


def test_a_stopped_run_resumes_where_it_stopped(tmp_path, monkeypatch):
    from runway_nb.tiny import train as train_module

    real_make_batch = train_module.make_batch

    def interrupted(cfg, step, *args):
        if step == 2:
            raise KeyboardInterrupt  # what Ctrl-C does mid-run
        return real_make_batch(cfg, step, *args)

    run = tmp_path / "run"
    cfg = replace(SMOKE, steps=4)
    monkeypatch.setattr(train_module, "make_batch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train(cfg, run)
    meta = json.loads((run / "checkpoint" / "denoiser" / "meta.json").read_text())
    assert meta["step"] == 2
    monkeypatch.setattr(train_module, "make_batch", real_make_batch)
    out = train(cfg, run, resume=True)
    assert json.loads((out / "training.json").read_text())["steps"] == 4
    # the autoencoder came back from the run's checkpoint: no path of it in what ships
    assert "_name_or_path" not in json.loads((out / "vae" / "config.json").read_text())
    # the resumed run reaches the same weights as one that never stopped
    straight = train(cfg, tmp_path / "straight")
    wa, wb = _weights(out), _weights(straight)
    assert all(((wa[k] - wb[k]).abs().max() < 1e-5) for k in wa)


def test_resume_on_the_command_line_continues_the_run_with_its_saved_settings(tmp_path, capsys, monkeypatch):
    from runway_nb.tiny import data

    real_render_pool = data.render_pool

    def smoke_pool(n, *args, **kwargs):          # another preset's pool takes minutes: fail at once
        assert n == SMOKE.pool_size, f"a pool of {n} clips rendered, not the run's {SMOKE.pool_size}"
        return real_render_pool(n, *args, **kwargs)

    monkeypatch.setattr(data, "render_pool", smoke_pool)
    run = tmp_path / "run"
    main(["--preset", "smoke", "--out", str(run), "--steps", "2"])
    # no --preset: the run's own settings (smoke's), not the default preset's; --steps may change
    main(["--out", str(run), "--resume", "--steps", "3"])
    assert "resumed at step 2" in capsys.readouterr().out
    record = json.loads((run / "pipeline" / "training.json").read_text())
    assert record["steps"] == 3 and record["config"] == {**asdict(SMOKE), "steps": 3}
    # another model's preset (it crashed on the checkpoint's shapes once the pool was rendered)
    # or a setting that makes another run: refused before any work, with the run's saved value
    for argv, shown in ((["--preset", "classroom"], (f"--pool-size=3000 is not allowed: resuming continues the "
                                                     f"run in {run} as it was saved, with pool_size=32",
                                                     "dim=32 not 96", "Drop --preset")),
                        (["--seed", "4"], ("--seed=4 is not allowed", "with seed=0"))):
        with pytest.raises(SystemExit) as exit_:
            main([*argv, "--out", str(run), "--resume"])
        err = capsys.readouterr().err
        assert exit_.value.code == 2 and all(s in err for s in shown), err
    main(["--preset", "smoke", "--out", str(run), "--resume", "--steps", "3"])   # the run's own preset


def test_resume_without_a_run_is_refused(tmp_path, capsys):
    from runway_nb.errors import InvalidInput

    # it silently started a fresh run
    with pytest.raises(SystemExit) as exit_:
        main(["--preset", "smoke", "--out", str(tmp_path / "empty"), "--resume"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "holds no run to resume (no run.json, no checkpoint). Drop --resume" in err
    with pytest.raises(InvalidInput, match="holds no run to resume"):
        train(SMOKE, tmp_path / "empty", resume=True)
    assert not (tmp_path / "empty").exists()


def test_a_run_stopped_before_its_first_checkpoint_resumes_with_its_own_settings(tmp_path, capsys, monkeypatch):
    """run.json records the settings before any work, so a run stopped while its pool renders
    (no checkpoint yet) is not refused by --resume, nor continued with other settings: its
    work starts over as it was asked for."""
    from runway_nb.tiny import data

    run = tmp_path / "run"
    real_render_pool = data.render_pool

    def stopped(*args, **kwargs):
        assert json.loads((run / "run.json").read_text())["config"]["seed"] == 3   # written first
        raise KeyboardInterrupt                                   # Ctrl-C while the pool renders

    monkeypatch.setattr(data, "render_pool", stopped)
    with pytest.raises(SystemExit) as stopped_:                   # one line and status 130, no traceback
        main(["--preset", "smoke", "--out", str(run), "--seed", "3", "--pool-size", "24"])
    assert stopped_.value.code == 130 and not (run / "checkpoint").exists()
    monkeypatch.setattr(data, "render_pool", real_render_pool)
    capsys.readouterr()
    # the run's settings are checked as a checkpoint's are: another seed is another run
    with pytest.raises(SystemExit) as exit_:
        main(["--out", str(run), "--resume", "--seed", "4"])
    assert exit_.value.code == 2 and "seed=4 is not allowed" in capsys.readouterr().err
    main(["--out", str(run), "--resume"])                         # no --preset: the run's own
    assert "has no checkpoint yet (the run stopped before its first): starting its work over" in \
        capsys.readouterr().out
    record = json.loads((run / "pipeline" / "training.json").read_text())
    assert record["config"] == {**asdict(SMOKE), "seed": 3, "pool_size": 24}
    assert [p.name for p in (run / "cache").glob("*.npz")] == ["pool_s3_n24.npz"]


@pytest.mark.parametrize("argv, differs", [(["--seed", "4"], "seed=0 there, not 4"),
                                           (["--pool-size", "24"], "pool_size=32 there, not 24"),
                                           (["--starry-share", "0.5"], "starry_share=0.25 there, not 0.5"),
                                           (["--vae-from", "shipped"], "vae_from='' there, not 'shipped'"),
                                           (["--lr", "0.001"], "lr=0.0003 there, not 0.001")])
def test_a_fresh_run_into_a_folder_holding_another_run_is_refused_before_any_work(tmp_path, capsys, argv,
                                                                                  differs):
    """Without --resume a run in another run's folder reused its finished autoencoder and
    latents (another pool's, or trained where --vae-from asked for another) and mixed the two."""
    from runway_nb.errors import InvalidInput

    run = tmp_path / "run"
    main(["--preset", "smoke", "--out", str(run)])
    before = sorted(p.relative_to(run) for p in run.rglob("*")), (run / "run.json").read_text()
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_:
        main(["--preset", "smoke", "--out", str(run), *argv])
    err = capsys.readouterr().err
    assert exit_.value.code == 2, err
    assert (f"--out={str(run)!r} is not allowed: must be a new folder or one holding this same run; it holds "
            f"another run ({differs}): its checkpoint/vae, checkpoint/denoiser, checkpoint/latents.npy, "
            "pipeline, which a fresh run there would reuse or overwrite. Add --resume to continue that run "
            "with its own settings, or train into another --out folder") in err
    assert (sorted(p.relative_to(run) for p in run.rglob("*")), (run / "run.json").read_text()) == before
    with pytest.raises(InvalidInput, match="must be a new folder or one holding this same run") as refused:
        train(replace(SMOKE, seed=4), run)
    assert refused.value.field == "run" and refused.value.value == str(run)


def test_a_folder_whose_run_records_no_settings_is_refused_for_a_fresh_run(tmp_path):
    # what an older version left when stopped after its autoencoder: no run.json, no meta.json
    import shutil

    from runway_nb.errors import InvalidInput

    run = tmp_path / "run"
    train(SMOKE, run)
    for gone in ("run.json", "checkpoint/denoiser", "pipeline"):
        shutil.rmtree(run / gone) if (run / gone).is_dir() else (run / gone).unlink()
    with pytest.raises(InvalidInput, match="it holds a run whose settings it does not record: its "
                                           "checkpoint/vae, checkpoint/latents.npy") as refused:
        train(SMOKE, run)
    assert "--resume" not in str(refused.value)


def test_the_same_run_again_in_its_folder_reuses_its_pool_and_autoencoder(tmp_path, capsys, monkeypatch):
    """The cached pool (named by its seed, size and recipe) and the finished autoencoder of
    the same settings are what a fresh run would compute: reusing them is only faster."""
    from runway_nb.tiny import data

    run = tmp_path / "run"
    first = _weights(train(SMOKE, run))
    straight = _weights(train(replace(SMOKE, steps=2), tmp_path / "straight"))

    def rendered(*args, **kwargs):
        raise AssertionError("the pool was rendered again")

    monkeypatch.setattr(data, "_map_chunks", rendered)
    capsys.readouterr()
    again = _weights(train(replace(SMOKE, steps=2), run))       # --steps may differ: the same run
    out = capsys.readouterr().out
    assert "holds this same run: starting it over, reusing its checkpoint/vae and checkpoint/latents.npy" in out
    assert f"earlier denoiser checkpoint and pipeline are kept in {run / 'previous' / '1'}" in out
    assert again.keys() == straight.keys() and all((again[k] == straight[k]).all() for k in again)
    assert json.loads((run / "run.json").read_text())["config"]["steps"] == 2
    # the earlier start's training is set aside, not overwritten (a forgotten --resume lost it)
    kept = _weights(run / "previous" / "1" / "pipeline")
    assert kept.keys() == first.keys() and all((kept[k] == first[k]).all() for k in kept)
    assert (run / "previous" / "1" / "denoiser" / "meta.json").is_file()


def test_another_run_may_start_where_a_run_stopped_before_any_checkpoint(tmp_path, monkeypatch):
    """Nothing of that run would be reused (its pool, if cached, is named by its settings):
    fixing a setting after a Ctrl-C needs no new folder."""
    from runway_nb.tiny import data

    run = tmp_path / "run"
    real_render_pool = data.render_pool

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(data, "render_pool", stopped)
    with pytest.raises(KeyboardInterrupt):
        train(replace(SMOKE, seed=3), run)
    monkeypatch.setattr(data, "render_pool", real_render_pool)
    out = train(SMOKE, run)
    assert json.loads((out / "training.json").read_text())["config"]["seed"] == 0
    assert json.loads((run / "run.json").read_text())["config"]["seed"] == 0


def _vae(folder):
    return load_file(folder / "vae" / "diffusion_pytorch_model.safetensors")


@pytest.mark.parametrize("stage, loss", [("autoencoder", "reconstruction_loss"), ("decoder", "decoder_loss")])
def test_a_stopped_autoencoder_stage_resumes_where_it_stopped(tmp_path, monkeypatch, stage, loss):
    from runway_nb.tiny.autoencoder import TinyAutoencoder

    cfg = replace(SMOKE, ae_steps=5, steps=1)
    if stage == "decoder":                     # a decoder stage on top of a finished first run
        cfg = replace(cfg, steps=0, init_from=str(train(SMOKE, tmp_path / "first")), decoder_steps=5)
    real, calls = getattr(TinyAutoencoder, loss), []

    def interrupted(self, *args, **kw):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt              # Ctrl-C in the middle of the stage
        return real(self, *args, **kw)

    run = tmp_path / "run"
    monkeypatch.setattr(TinyAutoencoder, loss, interrupted)
    with pytest.raises(KeyboardInterrupt):
        train(cfg, run)
    partial = run / "checkpoint" / f"{stage}.partial"
    assert json.loads((partial / "meta.json").read_text())["step"] == 3
    monkeypatch.setattr(TinyAutoencoder, loss, real)
    out = train(cfg, run, resume=True)
    assert not partial.exists()                  # the stage finished: its partial is gone
    straight = _vae(train(cfg, tmp_path / "straight"))
    resumed = _vae(out)
    assert all((resumed[k] - straight[k]).abs().max() < 1e-6 for k in straight)


def test_command_line_entry_point(tmp_path, capsys):
    main(["--preset", "smoke", "--out", str(tmp_path / "cli"), "--steps", "2"])
    assert (tmp_path / "cli" / "pipeline" / "model_index.json").is_file()
    assert "wrote" in capsys.readouterr().out


def test_the_command_line_sets_device_batch_learning_rate_pool_rigid_weight_and_starry_share(tmp_path):
    main(["--preset", "smoke", "--out", str(tmp_path / "cli"), "--steps", "2", "--device", "cpu",
          "--batch", "3", "--lr", "0.002", "--pool-size", "24", "--rigid-weight", "2", "--starry-share", "0.5"])
    record = json.loads((tmp_path / "cli" / "pipeline" / "training.json").read_text())
    assert (record["config"]["batch"], record["config"]["lr"], record["device"]) == (3, 0.002, "cpu")
    assert (record["config"]["pool_size"], record["config"]["rigid_weight"]) == (24, 2.0)
    assert record["config"]["starry_share"] == 0.5
    assert [p.name for p in (tmp_path / "cli" / "cache").glob("pool_*_n24*_st0.5.npz")]   # the pool drawn


def test_drawing_the_next_batch_ahead_trains_the_same_weights(tmp_path):
    """Off the plain CPU the next batch is drawn in a thread while the step runs ("cpu:0"
    takes that path here); batches depend on the step alone, so the weights are the same."""
    wa = _weights(train(SMOKE, tmp_path / "a"))
    wb = _weights(train(replace(SMOKE, device="cpu:0"), tmp_path / "b"))
    assert all((wa[k] == wb[k]).all() for k in wa)


def test_a_time_limited_run_ends_at_a_low_learning_rate(tmp_path, monkeypatch):
    """`max_minutes` stops a run long before its steps; the cosine schedule follows the
    time left, so the weights it exports were not taken mid-stride at a high rate."""
    from runway_nb.tiny import train as train_module

    clock = iter(range(0, 10**6, 5))                      # every look at the clock: 5 s later
    monkeypatch.setattr(train_module.time, "time", lambda: float(next(clock)))
    out = train(replace(SMOKE, steps=10**6, warmup=1, max_minutes=1.0), tmp_path / "timed")
    record = json.loads((out / "training.json").read_text())
    assert 1 <= record["steps"] < 100                      # stopped by the clock, not the steps
    assert record["final_lr"] < 0.15 * SMOKE.lr            # the floor is 0.1 × lr
    straight = json.loads((train(replace(SMOKE, steps=100, warmup=1), tmp_path / "s") / "training.json").read_text())
    assert straight["steps"] == 100 and straight["final_lr"] < 0.15 * SMOKE.lr


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="this machine has a GPU")
def test_a_gpu_run_on_a_machine_without_one_is_refused_before_any_work(tmp_path):
    from runway_nb.errors import InvalidInput

    with pytest.raises(InvalidInput, match="device='cuda'.*this machine has no 'cuda' device \\(allowed here: cpu"):
        train(replace(SMOKE, device="cuda"), tmp_path / "gpu")
    assert not (tmp_path / "gpu").exists()


def test_classroom_style_run_reuses_the_shipped_autoencoder(tmp_path, shipped_weights):
    out = train(replace(SMOKE, vae_from="shipped"), tmp_path / "reuse")
    vae = "vae/diffusion_pytorch_model.safetensors"
    mine, shipped = load_file(out / vae), load_file(shipped_weights / vae)
    assert mine.keys() == shipped.keys() and all((mine[k] == shipped[k]).all() for k in mine)


def test_decoder_stage_keeps_the_latent_space_and_the_denoiser(tmp_path, shipped_weights):
    """The decoder preset's promise: only the decoder changes, so the shipped denoiser's
    latents still mean what they meant (same encoder, same statistics, same preview map)."""
    first = train(SMOKE, tmp_path / "first")
    out = train(replace(SMOKE, steps=0, init_from=str(first), decoder_steps=3), tmp_path / "dec")
    vae = "vae/diffusion_pytorch_model.safetensors"
    mine, before = load_file(out / vae), load_file(first / vae)
    encoder = [k for k in mine if k.startswith("encoder.")]
    decoder = [k for k in mine if k.startswith("decoder.")]
    assert encoder and all((mine[k] == before[k]).all() for k in encoder)
    assert any((mine[k] != before[k]).any() for k in decoder)
    config = lambda folder: json.loads((folder / "vae" / "config.json").read_text())  # noqa: E731
    for key in ("latent_mean", "latent_std", "latent_rgb"):
        assert config(out)[key] == config(first)[key]
    assert "_name_or_path" not in config(out)          # no machine path in weights that ship
    wa, wb = _weights(out), _weights(first)
    assert all((wa[k] == wb[k]).all() for k in wa)


@pytest.mark.parametrize("field, value", [("camera_in_text", 1.5), ("text_dropout", -0.1),
                                          ("steps", 2.5), ("batch", 0), ("lr", 0.0),
                                          ("object_weight", -1.0), ("camera_probability", 1.2),
                                          ("sigma_shift", 0.0), ("device", "tpu"), ("starry_share", 1.5),
                                          ("batch", SMOKE.pool_size + 1)])
def test_a_bad_setting_is_refused_before_any_work(field, value):
    from runway_nb.errors import InvalidInput

    with pytest.raises(InvalidInput, match=field):
        replace(SMOKE, **{field: value})


@pytest.mark.parametrize("field", ["camera_in_text", "camera_probability", "starry_share"])
def test_a_pool_recipe_refuses_a_share_outside_0_to_1_by_name(field):
    from runway_nb.errors import InvalidInput
    from runway_nb.tiny import data

    with pytest.raises(InvalidInput, match=rf"{field}=1.5 is not allowed: must be ≥ 0 and ≤ 1"):
        data.PoolRecipe(**{field: 1.5})


def test_a_stage_draws_its_pool_by_its_own_recipe():
    from runway_nb.tiny import data
    from runway_nb.tiny.train import PRESETS

    stage = PRESETS["director_gpu_rigid"]
    assert stage.pool_recipe.stem(100, 6) == "pool_s6_n100_c0.3_m0.9"            # its own cache, as before
    assert replace(stage, starry_share=0.5).pool_recipe.stem(100, 6) == "pool_s6_n100_c0.3_m0.9_st0.5"
    assert data.PoolRecipe().starry_share == TrainConfig().starry_share == 0.25   # one default


def test_the_command_line_refuses_a_bad_setting_with_a_message(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--preset", "smoke", "--out", str(tmp_path / "cli"), "--steps", "-3"])
    assert stop.value.code == 2
    assert "steps=-3 is not allowed" in capsys.readouterr().err
    assert not (tmp_path / "cli").exists()                 # nothing was started


def test_vae_from_a_folder_without_an_autoencoder_says_so(tmp_path):
    from runway_nb.errors import InvalidInput

    nowhere = str(tmp_path / "nowhere")                  # refused before any work (after the pool, once)
    with pytest.raises(InvalidInput, match=f"vae_from={nowhere!r} is not allowed"):
        train(replace(SMOKE, vae_from=nowhere), tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_init_from_continues_a_trained_pipeline(tmp_path):
    first = train(SMOKE, tmp_path / "first")
    second = train(replace(SMOKE, steps=0, init_from=str(first)), tmp_path / "second")
    # zero further steps: the continued denoiser and text encoder are the first run's
    for part in ("transformer", "text_encoder"):
        a = load_file(first / part / "diffusion_pytorch_model.safetensors")
        b = load_file(second / part / "diffusion_pytorch_model.safetensors")
        assert a.keys() == b.keys() and all((a[k] == b[k]).all() for k in a)


def test_init_from_adds_the_world_camera_embedding_without_changing_the_model(tmp_path):
    import torch

    from runway_nb.tiny.pipeline import TinyVideoPipeline

    first = train(SMOKE, tmp_path / "first")
    second = train(replace(SMOKE, steps=0, init_from=str(first), camera_world=True), tmp_path / "second")
    old, new = TinyVideoPipeline.load(first), TinyVideoPipeline.load(second)
    assert new.transformer.config.camera_world and not old.transformer.config.camera_world
    # the new layer starts at zero, so the continued model predicts what the old one did
    # (to float rounding: the extra addition can change how BLAS blocks the next matmul)
    g = torch.Generator().manual_seed(0)
    args = (torch.randn(1, 16, 4, 16, 16, generator=g), torch.tensor([500.0]),
            torch.randn(1, 8, SMOKE.dim, generator=g), torch.ones(1, 8, dtype=torch.bool),
            torch.randn(1, 16, 4, generator=g), torch.tensor([True]),
            torch.zeros(1, 16, 4, 16, 16), torch.zeros(1, 16, dtype=torch.bool))
    with torch.no_grad():
        before, after = old.transformer(*args), new.transformer(*args)
    assert before.abs().max() > 1e-3 and torch.allclose(before, after, rtol=0, atol=1e-7)


def test_a_camera_aligned_stage_continues_a_plain_model_and_ships_the_switch(tmp_path):
    from runway_nb.tiny.pipeline import TinyVideoPipeline

    first = train(SMOKE, tmp_path / "first")
    second = train(replace(SMOKE, init_from=str(first), camera_aligned=True), tmp_path / "second")
    new = TinyVideoPipeline.load(second)
    assert new.transformer.config.camera_aligned             # the saved model attends along the camera
    assert _weights(first).keys() == _weights(second).keys()  # and has no weights the plain one lacks
    pan = np.zeros((16, 4))
    pan[:, 0], pan[:, 2] = np.linspace(0.0, 0.2, 16), 1.0
    frames = new("a red ball", num_frames=16, num_inference_steps=1, show_progress=False, camera=pan).frames
    assert frames.shape == (16, 64, 64, 3)


def test_init_from_a_folder_without_a_pipeline_says_so(tmp_path):
    from runway_nb.errors import InvalidInput

    # refused before any work (it failed once the pool was rendered, naming vae_from)
    nowhere = str(tmp_path / "nowhere")
    with pytest.raises(InvalidInput, match=f"init_from={nowhere!r} is not allowed"):
        train(replace(SMOKE, init_from=nowhere), tmp_path / "run")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("flag", ["--init-from", "--vae-from"])
def test_the_command_line_refuses_a_missing_weights_folder_by_its_flag_before_any_work(tmp_path, capsys, flag):
    nowhere = str(tmp_path / "nowhere")
    with pytest.raises(SystemExit) as exit_:
        main(["--preset", "smoke", "--out", str(tmp_path / "run"), flag, nowhere])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and f"{flag}={nowhere!r} is not allowed" in err
    assert not (tmp_path / "run").exists()                     # no pool rendered


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="this machine has a GPU")
def test_the_command_line_refuses_a_gpu_the_machine_lacks_as_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:                   # it was a traceback
        main(["--preset", "smoke", "--out", str(tmp_path / "gpu"), "--device", "cuda"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "device='cuda' is not allowed: this machine has no 'cuda' device" in err
    assert not (tmp_path / "gpu").exists()


def test_the_pool_can_leave_the_camera_out_of_the_captions(tmp_path):
    from runway_nb.tiny import data, toyworld

    # words only camera phrases use (object motions share "left", "up", "rolls", ...)
    camera_words = {"camera", "pan", "tilt", "zoom", "clockwise", "counterclockwise", "locked-off"}
    assert all(set(p.split()) & camera_words for ps in toyworld.CAMERA_WORDS.values() for p in ps)
    unworded = data.PoolRecipe(camera_in_text=0.0)
    _, cameras, captions, scenes = data.render_pool(12, 5, tmp_path, workers=1, recipe=unworded)
    assert not any(set(c.replace(",", " ").replace(";", " ").split()) & camera_words for c in captions)
    assert any(s["camera"] != "static" for s in scenes)        # the moves are still there, as numbers
    _, _, worded, _ = data.render_pool(12, 5, tmp_path, workers=1, recipe=data.PoolRecipe(camera_in_text=1.0))
    assert all(set(c.replace(",", " ").replace(";", " ").replace(":", " ").split()) & camera_words
               for c in worded)


def test_the_pool_can_move_the_camera_more_often(tmp_path):
    """The director stage's pool: its share of moving cameras is the config's, and a pool
    with another share is cached apart (not mistaken for the default one)."""
    from runway_nb.tiny import data

    _, plain, _, _ = data.render_pool(40, 5, tmp_path, workers=1)
    always = data.PoolRecipe(camera_probability=1.0)
    _, moving, _, scenes = data.render_pool(40, 5, tmp_path, workers=1, recipe=always)
    assert all(s["camera"] != "static" for s in scenes)
    assert all(not np.allclose(c, c[0]) for c in moving)             # every camera really moves
    assert sum(np.allclose(c, c[0]) for c in plain) >= 5             # the default keeps still ones
    assert len(list(tmp_path.glob("*.npz"))) == 2
    # the object masks follow the same draws: the moving pool's objects, not the default's
    masks = data.render_object_masks(40, 5, tmp_path, workers=1, recipe=always)
    assert not np.array_equal(masks, data.render_object_masks(40, 5, tmp_path, workers=1))


def test_the_pool_can_draw_more_starry_skies(tmp_path):
    """Native camera moves fail most under starry skies (README, Director Mode): a pool can
    hold more of them. Its share is the config's, it is cached apart, its masks follow the
    same draws, the training split's rules still hold, and the default's cache name is unchanged."""
    from runway_nb.tiny import data, toyworld

    def skies(share, n=400):
        return [toyworld.sample_scene(np.random.default_rng([7, i]), "train", starry_share=share) for i in range(n)]

    def starry(scenes):
        return np.mean([s.background in toyworld.STARRY for s in scenes])

    assert starry(skies(0.0)) == 0 and starry(skies(1.0)) == 1 and 0.4 < starry(skies(0.5)) < 0.6
    assert 0.15 < starry(skies(toyworld.UNIFORM_STARRY)) < 0.35
    for scene in skies(0.5):
        obj = scene.objects[0]
        assert not toyworld.is_held_out(obj.color, obj.shape, scene.background, obj.motion)
        assert (obj.color, scene.background) not in toyworld.CLASHES
    with pytest.raises(ValueError, match="starry_share must be between 0 and 1, got 1.5"):
        toyworld.sample_scene(np.random.default_rng(0), starry_share=1.5)

    _, _, _, plain = data.render_pool(40, 5, tmp_path, workers=1)
    night = data.PoolRecipe(starry_share=1.0)
    _, _, _, stars = data.render_pool(40, 5, tmp_path, workers=1, recipe=night)
    assert all(s["background"] in toyworld.STARRY for s in stars)
    assert len(list(tmp_path.glob("*.npz"))) == 2                                 # cached apart
    assert data.PoolRecipe().stem(40, 5) == "pool_s5_n40"                     # older caches still found
    masks = data.render_object_masks(40, 5, tmp_path, workers=1, recipe=night)
    assert not np.array_equal(masks, data.render_object_masks(40, 5, tmp_path, workers=1))


def test_object_masks_cover_the_pools_objects(tmp_path):
    """The masks of the object-weighted loss are the pool's own objects: where a frame
    differs from the same scene drawn without them."""
    from runway_nb.tiny import data, toyworld

    frames, cameras, _, _ = data.render_pool(6, 3, tmp_path, workers=1)
    masks = data.render_object_masks(6, 3, tmp_path, workers=1)
    assert masks.shape == (6, data.FRAMES, 16, 16) and masks.dtype == np.uint8
    for i in range(6):
        rng = np.random.default_rng([3, i])                       # the pool's own draw
        scene = toyworld.sample_scene(rng, "train")
        empty = toyworld.render(toyworld.ToyScene(scene.background, (), scene.camera, scene.camera_intensity,
                                                  scene.texture_seed), data.FRAMES, data.FPS, 64, 64,
                                camera=cameras[i])
        differs = np.abs(frames[i].astype(int) - empty.astype(int)).max(-1) > 8   # (T, 64, 64)
        blocks = differs.reshape(data.FRAMES, 16, 4, 16, 4).any((2, 4))
        assert (masks[i][blocks] > 0).mean() > 0.9                # where the object is, the mask is
        assert (masks[i][~blocks] < 32).all()                     # nowhere else (but anti-aliased rims)
    assert np.array_equal(data.render_object_masks(6, 3, tmp_path, workers=1), masks)   # from cache


def test_the_object_weighted_loss_weights_objects_and_skips_given_frames(tmp_path):
    import torch

    from runway_nb.tiny import data
    from runway_nb.tiny.text import WordTokenizer
    from runway_nb.tiny.train import make_batch

    _, cameras, captions, _ = data.render_pool(8, 3, tmp_path, workers=1)
    masks = data.render_object_masks(8, 3, tmp_path, workers=1)
    latents = np.zeros((8, data.FRAMES, 4, 16, 16), np.float16)
    tok = WordTokenizer.from_captions(data.caption_vocabulary())
    plain = replace(SMOKE, batch=8, known_probability=1.0)
    weighted = replace(plain, object_weight=8.0)
    batch, _, w_plain = make_batch(plain, 0, latents, cameras, captions, tok, masks)
    _, _, w_obj = make_batch(weighted, 0, latents, cameras, captions, tok, masks)
    known = batch["known_mask"][:, :, None, None, None].expand_as(w_plain)
    assert (w_plain[known] == 0).all() and (w_obj[known] == 0).all()     # given frames: nothing to learn
    assert (w_plain[~known] == 1).all()                                   # off: the plain loss
    cover = torch.from_numpy(masks.astype(np.float32) / 255)[:, :, None]  # (B, T, 1, 16, 16), idx sorted
    on_object = (cover > 0.5) & ~known
    assert on_object.any() and (w_obj[on_object] > 4).all()
    far = torch.nn.functional.max_pool2d(cover.flatten(0, 1), 5, stride=1, padding=2).view_as(cover) == 0
    assert (w_obj[far & ~known] == 1).all()                               # sky and ground: as before


def test_sigma_shift_moves_training_noise_levels_toward_pure_noise(tmp_path):
    from runway_nb.tiny import data
    from runway_nb.tiny.text import WordTokenizer
    from runway_nb.tiny.train import make_batch

    _, cameras, captions, _ = data.render_pool(8, 3, tmp_path, workers=1)
    latents = np.zeros((8, data.FRAMES, 4, 16, 16), np.float16)
    tok = WordTokenizer.from_captions(data.caption_vocabulary())
    plain = replace(SMOKE, batch=8)
    sigma = make_batch(plain, 5, latents, cameras, captions, tok)[0]["timestep"].numpy() / 1000
    shifted = make_batch(replace(plain, sigma_shift=3.0), 5, latents, cameras, captions, tok)[0]
    # the same draws, each mapped by SD3's shift s σ / (1 + (s − 1) σ): higher, still below 1
    np.testing.assert_allclose(shifted["timestep"].numpy() / 1000, 3 * sigma / (1 + 2 * sigma), rtol=1e-5)
    assert (shifted["timestep"].numpy() / 1000 > sigma).all() and (shifted["timestep"] < 1000).all()


def test_an_object_weighted_smoke_run_trains(tmp_path):
    out = train(replace(SMOKE, object_weight=8.0), tmp_path / "run")
    record = json.loads((out / "training.json").read_text())
    assert record["config"]["object_weight"] == 8.0 and np.isfinite(record["final_loss"])


def _pan_clip(extra_zoom=1.0, frames=5):
    """A smooth picture (3, 64, 64) filmed by a pan (cameras (T, 4) relative to frame 0), its
    frames made by moving frame 0 exactly as the camera says — or with a zoom it does not."""
    import torch

    from runway_nb.camera.geometry import frame_transform
    from runway_nb.tiny.guidance import warp

    rng = np.random.default_rng(0)
    coarse = torch.from_numpy(rng.normal(size=(1, 3, 8, 8)).astype(np.float32))
    picture = torch.nn.functional.interpolate(coarse, size=(64, 64), mode="bicubic", align_corners=True)[0]
    cameras = np.zeros((frames, 4))
    cameras[:, 0] = np.linspace(0, 0.2, frames)
    cameras[:, 2] = 1.0
    shown = cameras.copy()
    shown[:, 2] = extra_zoom ** np.linspace(0, 1, frames)
    clip, _ = warp(picture, frame_transform(shown, 64, 64))
    return cameras, clip[None]                                              # (1, T, 3, 64, 64)


def test_the_rigid_loss_holds_a_clip_to_its_camera_path():
    import torch

    from runway_nb.tiny.train import rigid_gap, rigid_targets

    cameras, exact = _pan_clip()
    clips, grid, weight = rigid_targets(cameras[None], torch.tensor([True]), torch.zeros(1, 5, dtype=torch.bool),
                                 None, 16, 16)
    assert grid.shape == (1, 5, 64, 64, 2) and weight.shape == (1, 5, 1, 64, 64)
    assert (weight[:, 0] == 0).all() and weight[:, 1:].mean() > 0.5       # frame 0 is the anchor
    assert rigid_gap(exact, grid, weight) < 1e-10                          # the path, followed: no gap
    _, zoomed = _pan_clip(extra_zoom=1.15)                                 # a zoom the path did not ask
    assert rigid_gap(zoomed, grid, weight) > 1e-3


def test_the_rigid_loss_counts_only_moving_given_cameras_new_frames_and_background():
    import torch

    from runway_nb.tiny.train import rigid_targets

    cameras, _ = _pan_clip()
    static = np.tile([0.0, 0.0, 1.0, 0.0], (5, 1))
    both = np.stack([cameras, cameras, static])
    known_mask = torch.zeros(3, 5, dtype=torch.bool)
    known_mask[0, :2] = True                                               # frames 0–1 given (extend)
    objects = np.zeros((3, 5, 16, 16), np.uint8)
    objects[0, :, 6:9, 6:9] = 255                                          # an object in the middle
    clips, grid, weight = rigid_targets(both, torch.tensor([True, False, True]), known_mask, objects, 16, 16)
    assert clips.tolist() == [0]              # not clip 1 (camera dropped: not told) nor 2 (locked off)
    assert len(grid) == len(weight) == 1                                   # nothing built for them
    assert (weight[0, :2] == 0).all() and weight[0, 2:].sum() > 0          # given frames: nothing to hold
    assert (weight[0, 2:, :, 28:32, 28:32] == 0).all()                     # the object moves on its own
    known_mask[0] = True                                                   # every frame given: nothing
    clips, grid, weight = rigid_targets(both, torch.tensor([True, False, True]), known_mask, objects, 16, 16)
    assert clips.tolist() == [] and grid.shape[0] == weight.shape[0] == 0


def test_a_rigid_smoke_run_draws_the_same_batches_and_learns_otherwise(tmp_path):
    from runway_nb.tiny import data
    from runway_nb.tiny.text import WordTokenizer
    from runway_nb.tiny.train import make_batch

    rigid = replace(SMOKE, rigid_weight=1.0, camera_probability=1.0, camera_dropout=0.0)
    plain = replace(rigid, rigid_weight=0.0)
    _, cameras, captions, _ = data.render_pool(8, 3, tmp_path / "pool", workers=1,
                                               recipe=data.PoolRecipe(camera_probability=1.0))
    latents = np.random.default_rng(0).normal(size=(8, data.FRAMES, 4, 16, 16)).astype(np.float16)
    tok = WordTokenizer.from_captions(data.caption_vocabulary())
    a, ta, _ = make_batch(plain, 2, latents, cameras, captions, tok)
    b, tb, _ = make_batch(rigid, 2, latents, cameras, captions, tok)
    assert all((a[k] == b[k]).all() for k in a) and (ta == tb).all()       # the same clips and noise
    assert len(b["rigid_frames"]) == 1 + rigid.rigid_frames and b["rigid_frames"][0] == 0
    wa, wb = _weights(train(plain, tmp_path / "plain")), _weights(train(rigid, tmp_path / "rigid"))
    assert any(not (wa[k] == wb[k]).all() for k in wa)                     # the loss reached the model
    record = json.loads((tmp_path / "rigid" / "pipeline" / "training.json").read_text())
    assert record["config"]["rigid_weight"] == 1.0 and np.isfinite(record["final_loss"])


def test_the_rigid_loss_decodes_only_the_clips_it_counts():
    import torch
    import torch.nn.functional as F

    from runway_nb.tiny.train import _rigid_loss, rigid_gap, rigid_targets

    torch.manual_seed(0)
    b, t, h, w = 3, 5, 8, 8
    cameras = np.zeros((b, t, 4), np.float32)
    cameras[:, :, 2] = 1.0
    cameras[1, :, 0] = np.linspace(0, 0.2, t)                              # clip 1 pans; 0 and 2 hold still
    known_mask = torch.zeros(b, t, dtype=torch.bool)
    frames = [0, 2, 4]
    clips, grid, weight = rigid_targets(cameras[:, frames], torch.tensor([True, True, True]),
                                        known_mask[:, frames], None, h, w)
    batch = dict(latents=torch.randn(b, t, 4, h, w), timestep=torch.full((b,), 500.0),
                 known=torch.zeros(b, t, 4, h, w), known_mask=known_mask, rigid_frames=torch.tensor(frames),
                 rigid_clips=clips, rigid_grid=grid, rigid_weight=weight)
    pred = torch.randn(b, t, 4, h, w, requires_grad=True)
    seen = []

    def decoder(z):                                                        # a stand-in: 4× up, 3 channels
        seen.append(len(z))
        return F.interpolate(z[:, :3], scale_factor=4, mode="nearest")

    loss = _rigid_loss(batch, pred, decoder)
    assert seen == [1 * 3]                                                 # one clip, three frames, decoded
    x0 = (batch["latents"] - 0.5 * pred)[1:2, frames]                      # the panning clip's estimate
    pixels = decoder(x0.flatten(0, 1)).view(1, 3, 3, 4 * h, 4 * w)
    pixels = torch.cat([pixels[:, :1].detach(), pixels[:, 1:]], 1)
    assert torch.allclose(loss, rigid_gap(pixels, grid, weight)) and loss > 0
    loss.backward()
    assert pred.grad[[0, 2]].abs().sum() == 0 and pred.grad[1].abs().sum() > 0
    cameras[1] = cameras[0]                                                # nothing moves: a zero loss
    batch["rigid_clips"], batch["rigid_grid"], batch["rigid_weight"] = rigid_targets(
        cameras[:, frames], torch.tensor([True, True, True]), known_mask[:, frames], None, h, w)
    assert _rigid_loss(batch, pred, decoder) == 0 and seen[-1] == 0


def test_a_run_record_edited_into_nonsense_is_named_not_a_json_traceback(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "run.json").write_text("{ half a record")
    with pytest.raises(SystemExit) as exit_:
        main(["--preset", "smoke", "--out", str(run), "--resume"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "run record=" in err and "run.json" in err
    assert "must be the JSON a training run wrote" in err
    assert (run / "run.json").read_text() == "{ half a record"        # left for the user to see


def test_resuming_a_finished_run_leaves_it_and_its_record_as_they_are(tmp_path, capsys):
    # before: the pipeline was written again and training.json lost its loss, lr and minutes
    run = tmp_path / "run"
    train(SMOKE, run)
    record = (run / "pipeline" / "training.json").read_bytes()
    capsys.readouterr()
    assert train(SMOKE, run, resume=True) == run / "pipeline"
    assert "finished its" in capsys.readouterr().out
    assert (run / "pipeline" / "training.json").read_bytes() == record


def test_a_negative_seed_or_a_file_as_the_run_folder_is_refused_before_any_work(tmp_path):
    from runway_nb.errors import InvalidInput
    from runway_nb.tiny.train import check_run

    with pytest.raises(InvalidInput, match="seed=-5"):
        replace(SMOKE, seed=-5)
    (tmp_path / "f.txt").write_text("mine")
    with pytest.raises(InvalidInput, match="must be a folder"):
        check_run(SMOKE, tmp_path / "f.txt")


def test_a_ctrl_c_during_the_weight_update_waits_for_its_end():
    # a checkpoint saved halfway through opt.step() held weights of two different steps
    import signal

    from runway_nb.tiny.train import _whole_step

    finished = []
    with pytest.raises(KeyboardInterrupt):
        with _whole_step():
            signal.raise_signal(signal.SIGINT)
            finished.append("the rest of the update")
    assert finished == ["the rest of the update"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
