"""Camera self-distillation: a teacher pool of a model's own warp-mode clips, and a training
stage that mixes it into its pool with the camera always given."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from runway_nb.tiny import data, distill
from runway_nb.tiny.train import PRESETS, main, train

SMOKE = PRESETS["smoke"]


@pytest.fixture(scope="module")
def teacher_pool(smoke_pipeline, tmp_path_factory):
    out = tmp_path_factory.mktemp("teacher")
    seen = []
    distill.make_teacher_pool(out, 3, seed=4, teacher=str(smoke_pipeline), workers=1, progress=seen.append)
    assert sum(seen) == 3                          # the progress callback counted every clip
    return out


def test_a_teacher_pool_holds_moving_camera_clips_of_the_training_split(teacher_pool):
    latents, cameras, captions = distill.load_teacher_pool(teacher_pool)
    assert latents.shape == (3, data.FRAMES, 4, 16, 16) and latents.dtype == np.float16
    assert np.isfinite(latents.astype(np.float32)).all() and latents.std() > 0
    assert cameras.shape == (3, data.FRAMES, 4)
    for i in range(3):                             # the recipe's scenes, every camera moving
        scene, cam = distill.RECIPE.draw(4, i)
        assert captions[i] == scene.caption and scene.camera != "static"
        np.testing.assert_allclose(cameras[i], cam, atol=1e-6)
        assert np.abs(cam[-1] - cam[0]).max() > 0


def test_a_stopped_teacher_pool_goes_on_and_keeps_its_chunks(smoke_pipeline, tmp_path, monkeypatch):
    monkeypatch.setattr(distill, "CHUNK", 2)
    out = tmp_path / "teacher"
    distill.make_teacher_pool(out, 2, seed=4, teacher=str(smoke_pipeline), workers=1)
    first = (out / "teacher_000000.npz").read_bytes()
    made = []
    real = distill._make_chunk
    monkeypatch.setattr(distill, "ProcessPoolExecutor", _InProcess)
    monkeypatch.setattr(distill, "_make_chunk", lambda args: made.append(args[2]) or real(args))
    distill.make_teacher_pool(out, 4, seed=4, teacher=str(smoke_pipeline), workers=1)
    assert made == [2]                             # only the chunk not yet made
    assert (out / "teacher_000000.npz").read_bytes() == first
    assert len(distill.load_teacher_pool(out)[0]) == 4


def test_a_smaller_pools_last_chunk_is_made_again_for_a_larger_pool(smoke_pipeline, tmp_path, monkeypatch):
    # before: chunk 0 of a 2-clip pool was taken as done for 4 clips a chunk: the pool held 2 + 0
    out = tmp_path / "teacher"
    monkeypatch.setattr(distill, "CHUNK", 4)
    monkeypatch.setattr(distill, "ProcessPoolExecutor", _InProcess)
    distill.make_teacher_pool(out, 2, seed=4, teacher=str(smoke_pipeline), workers=1)
    distill.make_teacher_pool(out, 4, seed=4, teacher=str(smoke_pipeline), workers=1)
    assert len(distill.load_teacher_pool(out)[0]) == 4


class _InProcess:
    """ProcessPoolExecutor's map, in this process (so a test can watch the calls)."""

    def __init__(self, workers):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def map(self, fn, items):
        return map(fn, items)


def test_a_teacher_pool_of_other_settings_is_refused_by_name(teacher_pool, smoke_pipeline):
    from runway_nb.errors import InvalidInput

    with pytest.raises(InvalidInput, match="holds another teacher pool") as err:
        distill.make_teacher_pool(teacher_pool, 3, seed=5, teacher=str(smoke_pipeline), workers=1)
    assert err.value.field == "out"
    with pytest.raises(InvalidInput, match="seed=-1 is not allowed") as err:
        distill.make_teacher_pool(teacher_pool.parent / "other", 3, seed=-1, teacher=str(smoke_pipeline))
    with pytest.raises(InvalidInput, match="'shipped' or a trained pipeline") as err:
        distill.make_teacher_pool(teacher_pool.parent / "other", 3, teacher=str(teacher_pool))
    assert err.value.field == "teacher"


def test_teacher_clips_keep_their_camera_when_others_drop_it(teacher_pool, tmp_path):
    from runway_nb.tiny.text import WordTokenizer
    from runway_nb.tiny.train import make_batch

    t_latents, t_cameras, t_captions = distill.load_teacher_pool(teacher_pool)
    _, cameras, captions, _ = data.render_pool(3, 3, tmp_path, workers=1)
    latents = np.concatenate([np.zeros((3, *t_latents.shape[1:]), np.float16), t_latents])
    always = np.r_[np.zeros(3, bool), np.ones(3, bool)]
    tok = WordTokenizer.from_captions(data.caption_vocabulary())
    cfg = replace(SMOKE, batch=6, camera_dropout=1.0)       # every camera dropped …
    batch, _, _ = make_batch(cfg, 0, latents, np.concatenate([cameras, t_cameras]), captions + t_captions,
                             tok, camera_always=always)
    assert batch["camera_known"].tolist() == [False] * 3 + [True] * 3   # … but the teacher's
    plain, _, _ = make_batch(cfg, 0, latents, np.concatenate([cameras, t_cameras]), captions + t_captions, tok)
    assert not plain["camera_known"].any()
    for key in ("latents", "ids", "camera"):                # otherwise the same batch
        assert (plain[key] == batch[key]).all()


def test_a_stage_with_a_teacher_pool_trains_on_it_and_records_it(teacher_pool, tmp_path, monkeypatch):
    from runway_nb.tiny import train as train_module

    sizes = []
    real = train_module.make_batch
    monkeypatch.setattr(train_module, "make_batch", lambda cfg, step, latents, *a: sizes.append(len(latents))
                        or real(cfg, step, latents, *a))
    out = train(replace(SMOKE, teacher_pool=str(teacher_pool)), tmp_path / "run")
    assert set(sizes) == {SMOKE.pool_size + 3}             # the rendered pool and the teacher's clips
    record = json.loads((out / "training.json").read_text())
    assert record["config"]["teacher_pool"] == str(teacher_pool)


def test_a_missing_teacher_pool_is_refused_by_its_flag_before_any_work(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--preset", "smoke", "--out", str(tmp_path / "run"), "--teacher-pool", str(tmp_path / "none")])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "--teacher-pool" in err and "teacher_*.npz" in err
    assert not (tmp_path / "run").exists()


def test_a_stopped_teacher_pool_command_says_what_it_kept(tmp_path, capsys, monkeypatch):
    (tmp_path / "teacher_000000.npz").write_bytes(b"")          # one finished chunk, as a run leaves it

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt                                  # Ctrl-C while clips render

    monkeypatch.setattr(distill, "make_teacher_pool", stopped)
    with pytest.raises(SystemExit) as exit_:
        distill.main(["--out", str(tmp_path), "--clips", "20"])
    err = capsys.readouterr().err
    assert exit_.value.code == 130 and "1 finished chunks" in err and "the same command goes on" in err
