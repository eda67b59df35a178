"""Loading engines: one cached engine per weights/device/dtype/options, `unload_engine`,
and the errors a folder or hub id that cannot load gives (offline, on tiny pipelines)."""

from __future__ import annotations

import gc
import json
import os
import weakref
from pathlib import Path

import numpy as np
import pytest

import runway_nb as rn
from runway_nb import Shot
from runway_nb.engines import registry
from runway_nb.engines.registry import load_engine
from runway_nb.errors import InvalidInput, WeightsError

pytest.importorskip("transformers")


@pytest.fixture
def fresh_cache(monkeypatch):
    """An empty engine cache of this test's own (unload_engine() frees only these)."""
    monkeypatch.setattr(registry, "_CACHE", {})
    return registry._CACHE


# ---- the cache key ------------------------------------------------------------------------------
def test_one_engine_however_dtype_folder_and_cpu_are_spelled(tiny_pipelines, fresh_cache, monkeypatch):
    import torch

    folder = Path(tiny_pipelines["wan"])
    first = load_engine(str(folder))
    monkeypatch.chdir(folder.parent)
    same = [load_engine(str(folder), dtype="float32"), load_engine(str(folder), dtype="fp32"),
            load_engine(str(folder), dtype="FP32"), load_engine(str(folder), dtype=torch.float32),
            load_engine(str(folder) + "/"), load_engine(folder), load_engine(f"./{folder.name}"),
            load_engine(str(folder), device="cpu:0"),          # one CPU: "cpu:0" is "cpu"
            load_engine(str(folder), vae_tiling=False)]        # an option at its default
    assert all(e is first for e in same) and len(fresh_cache) == 1
    assert first.device == "cpu" and first.dtype == torch.float32
    # what differs loads another engine
    half = load_engine(str(folder), dtype="bf16")
    assert half is not first and load_engine(str(folder), dtype=torch.bfloat16) is half
    assert load_engine(str(folder), vae_tiling=True) is not first
    assert len(fresh_cache) == 3
    assert load_engine("tiny") is load_engine("tiny", dtype="fp32") is load_engine("tiny", device="cpu:0")


def test_cpu_0_runs_in_float32_like_cpu(tiny_pipelines):
    """dtype=None means float32 on a CPU, whatever its spelling (it was bfloat16 on "cpu:0")."""
    import torch

    from runway_nb.engines.wan import WanEngine

    assert WanEngine(tiny_pipelines["wan"], device="cpu:0").dtype == torch.float32


# ---- unload_engine --------------------------------------------------------------------------------
def test_unload_engine_frees_the_weights_even_while_a_variable_holds_the_engine(tiny_pipelines, fresh_cache):
    eng = load_engine(str(tiny_pipelines["ltx"]), vae_tiling=True)
    eng.render(Shot("a ball", seed=1, steps=1, frames=5), progress=False)
    model = weakref.ref(eng.pipe.transformer)
    assert not eng.unloaded and rn.unload_engine(eng) == 1 and eng.unloaded
    gc.collect()
    assert model() is None and fresh_cache == {}
    with pytest.raises(WeightsError, match="unloaded.*rn.load_engine"):
        eng.render(Shot("a ball", seed=1, steps=1, frames=5), progress=False)
    for needs_the_model in (lambda: eng.resolve(Shot("a ball")), lambda: eng.temporal_ratio,
                            lambda: eng.max_model_frames):
        with pytest.raises(WeightsError, match="unloaded"):      # not an AttributeError on .pipe
            needs_the_model()
    again = load_engine(str(tiny_pipelines["ltx"]), vae_tiling=True)      # loads afresh, and works
    assert again is not eng and len(again.render(Shot("a ball", seed=1, steps=1, frames=5),
                                                 progress=False)) == 5


def test_an_engine_unloaded_twice_or_by_its_own_unload_loads_again_afresh(tiny_pipelines, fresh_cache):
    # before: a second unload raised the WeightsError meant for renders (diffusers engines),
    # and after engine.unload() load_engine kept handing back the dead engine it had cached
    folder = str(tiny_pipelines["wan"])
    eng = load_engine(folder)
    assert rn.unload_engine(eng) == 1 and rn.unload_engine(eng) == 0 and rn.unload_engine() == 0
    eng.unload()                                                     # a no-op now
    direct = load_engine(folder)
    direct.unload()                                                  # not through rn.unload_engine
    assert rn.loaded_engines() == []
    again = load_engine(folder)
    assert again is not direct and not again.unloaded
    assert len(again.render(Shot("a ball", seed=1, steps=1, frames=5), progress=False)) == 5


def test_unload_engine_waits_for_a_render_running_in_another_thread(tiny_pipelines, fresh_cache):
    """A Studio renders in a worker thread; unload_engine() from a cell meanwhile dropped the
    model under it (the render died mid-step, and nothing was freed until it ended). Now the
    render finishes with its clip, the unload waits for it (and says so), then frees."""
    import threading

    eng = load_engine(str(tiny_pipelines["ltx"]))
    stepping, go_on, outcome = threading.Event(), threading.Event(), {}

    def on_step(info):
        stepping.set()
        go_on.wait(30)

    def render():
        try:
            outcome["clip"] = eng.render(Shot("a ball", seed=1, steps=2, frames=5), on_step=on_step, progress=False)
        except Exception as exc:  # noqa: BLE001 - the test reports it
            outcome["error"] = exc

    def unload():
        with pytest.warns(UserWarning, match="waits for the render running on it"):
            outcome["unloaded"] = rn.unload_engine(eng)

    worker = threading.Thread(target=render)
    worker.start()
    assert stepping.wait(60)
    unloading = threading.Thread(target=unload)
    unloading.start()
    unloading.join(1.0)              # given time to drop the model, it must not have: it waits
    go_on.set()
    worker.join(60)
    unloading.join(60)
    assert "error" not in outcome, outcome.get("error")
    assert len(outcome["clip"]) == 5 and outcome["unloaded"] == 1 and fresh_cache == {}
    with pytest.raises(WeightsError, match="unloaded"):
        eng.render(Shot("a ball", seed=1, steps=1, frames=5), progress=False)


def test_unload_from_inside_the_engines_own_render_is_refused_and_the_render_goes_on(tiny_pipelines, fresh_cache):
    from runway_nb.errors import RunwayError

    eng = load_engine(str(tiny_pipelines["ltx"]))
    refused = []

    def on_step(info):
        if not refused:
            with pytest.raises(RunwayError, match="inside its own render") as err:
                rn.unload_engine(eng)
            refused.append(err.value)

    clip = eng.render(Shot("a ball", seed=1, steps=2, frames=5), on_step=on_step, progress=False)
    assert refused and len(clip) == 5
    assert list(fresh_cache.values()) == [eng]     # still loaded: the refusal changed nothing
    assert rn.unload_engine(eng) == 1 and fresh_cache == {}   # afterwards, as the message says


def test_unload_engine_by_name_or_all(tiny_pipelines, fresh_cache):
    folder = str(tiny_pipelines["wan"])
    load_engine(folder)
    load_engine(folder, dtype="bf16")
    tiny = load_engine("tiny")
    assert rn.unload_engine("no-such-engine") == 0 and len(fresh_cache) == 3
    assert rn.unload_engine(folder + "/") == 2                  # any spelling, every dtype
    assert list(fresh_cache.values()) == [tiny]
    assert rn.unload_engine() == 1 and fresh_cache == {}


def test_unload_engine_empties_the_cuda_cache_when_there_is_a_gpu(fresh_cache, monkeypatch):
    import torch

    emptied = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: emptied.append(True))
    assert rn.unload_engine() == 0 and emptied == [True]


# ---- extend continues on the engine that made the clip ----------------------------------------------
def test_extend_continues_on_the_loaded_engine_that_made_the_clip(tiny_pipelines, fresh_cache):
    """A GPU user's engine (here: vae_tiling stands for cuda + cpu_offload) is not loaded a
    second time, on the CPU without the options, to extend its clip."""
    eng = load_engine(str(tiny_pipelines["ltx"]), vae_tiling=True)
    clip = rn.generate("a red ball", engine=eng, steps=2, frames=5, seed=3, progress=False)
    longer = clip.extend(0.5, progress=False)
    assert list(fresh_cache.values()) == [eng]
    assert longer.provenance["vae_tiling"] is True and longer.provenance["engine"] == eng.id
    assert len(longer) == 9


def test_extend_picks_the_loaded_engine_with_the_clips_settings(tiny_pipelines, fresh_cache):
    folder = str(tiny_pipelines["ltx"])
    tiled = load_engine(folder, vae_tiling=True)
    sliced = load_engine(folder, vae_slicing=True)
    plain = load_engine(folder)
    for eng in (tiled, sliced, plain):
        clip = eng.render(Shot("a red ball", steps=2, frames=5, seed=3), progress=False)
        made = []
        real = eng.render
        eng.render = lambda *a, _real=real, _made=made, **k: _made.append(True) or _real(*a, **k)
        try:
            longer = clip.extend(0.5, progress=False)
        finally:
            del eng.render
        assert made == [True] and len(fresh_cache) == 3
        assert {k: longer.provenance.get(k) for k in ("vae_tiling", "vae_slicing")} == {
            k: clip.provenance.get(k) for k in ("vae_tiling", "vae_slicing")}


def test_extend_loads_the_clips_engine_only_when_none_is_loaded(tiny_pipelines, fresh_cache, monkeypatch):
    eng = load_engine(str(tiny_pipelines["ltx"]), vae_tiling=True)
    clip = eng.render(Shot("a red ball", steps=2, frames=5, seed=3), progress=False)
    rn.unload_engine(eng)                                     # nothing loaded: loaded now, on the CPU
    longer = clip.extend(0.5, progress=False)
    assert len(fresh_cache) == 1 and longer.provenance["device"] == "cpu"
    assert (longer.frames[:5] == clip.frames).all() and "vae_tiling" not in longer.provenance
    # a device asked for: only an engine loaded on it continues the clip, else one loads there
    loads = []
    monkeypatch.setattr(registry, "load_engine", lambda name, device="cpu", **kw: loads.append(
        (name, device)) or eng)
    with pytest.raises(WeightsError, match="unloaded"):
        clip.extend(0.5, device="cuda:1", progress=False)
    assert loads == [(eng.id, "cuda:1")]


def test_studio_extends_on_its_own_engine(tiny_pipelines, fresh_cache):
    from runway_nb.engines.ltx import LTXEngine

    pytest.importorskip("ipywidgets")
    from runway_nb.ui.studio import Studio

    folder = str(tiny_pipelines["ltx"])
    s = Studio(folder, store=False, engine_options={"vae_tiling": True})
    s.prompt.value, s.steps.value = "a red ball", 2
    assert s.generate(wait=True) and s.clip.provenance["vae_tiling"] is True
    assert s.extend(0.5, wait=True), s.message
    assert s.clip.provenance["vae_tiling"] is True and list(fresh_cache.values()) == [s.engine]
    s.close()
    # an engine the user made, not through the cache: used as it is too
    mine = LTXEngine(folder, vae_slicing=True)
    s = Studio(mine, store=False)
    s.prompt.value, s.steps.value = "a red ball", 2
    assert s.generate(wait=True) and s.extend(0.5, wait=True), s.message
    assert s.clip.provenance["vae_slicing"] is True and len(s.clip) == 9
    assert mine not in fresh_cache.values() and len(fresh_cache) == 1
    s.close()


# ---- rn.generate renders on the engine loaded under its id -------------------------------------------
def test_generate_by_id_renders_on_the_engine_the_user_loaded(tiny_on_a_gpu):
    """`rn.load_engine("tiny", device="cuda")`, then `rn.generate(..., engine="tiny")`: that
    engine, not a second copy loaded on the CPU (it was: generate's device defaulted to cpu)."""
    gpu, cpu, cache = tiny_on_a_gpu
    shot = dict(engine="tiny", frames=4, steps=2, seed=3, progress=False)
    clip = rn.generate("a red ball", **shot)
    assert clip.provenance["device"] == "cuda" and len(cache) == 2
    picture = np.full((64, 64, 3), 200, np.uint8)
    assert rn.generate("a red ball", image=picture, **shot).provenance["device"] == "cuda"
    # a device, dtype or option given: the engine loaded with exactly those, as before
    for given in ({"device": "cpu"}, {"device": "cpu:0"}, {"dtype": "float32"}):
        assert rn.generate("a red ball", **shot, **given).provenance["device"] == "cpu", given
    assert len(cache) == 2
    again = rn.generate("a red ball", device="cpu", **shot)
    np.testing.assert_array_equal(again.frames, clip.frames)     # the same weights, the same clip
    # an unloaded engine is not reused: with none left, one loads on the CPU
    assert rn.unload_engine(gpu) == 1 and list(cache.values()) == [cpu]
    assert rn.generate("a red ball", **shot).provenance["device"] == "cpu" and len(cache) == 1


def test_generate_by_folder_takes_the_latest_loaded_with_any_options(tiny_pipelines, fresh_cache):
    folder = str(tiny_pipelines["ltx"])
    shot = dict(frames=5, steps=2, seed=3, progress=False)
    tiled = load_engine(folder, vae_tiling=True)
    for name in (folder, Path(folder), folder + "/"):
        assert rn.generate("a red ball", engine=name, **shot).provenance.get("vae_tiling") is True
    assert list(fresh_cache.values()) == [tiled]
    plain = rn.generate("a red ball", engine=folder, device="cpu", **shot)     # loads the plain one
    assert "vae_tiling" not in plain.provenance and len(fresh_cache) == 2
    assert rn.generate("a red ball", engine=folder, engine_options={"vae_tiling": True},
                       **shot).provenance["vae_tiling"] is True and len(fresh_cache) == 2
    # several loaded: the latest (here the plain one, loaded by the call above)
    assert "vae_tiling" not in rn.generate("a red ball", engine=folder, **shot).provenance
    rn.unload_engine(folder)
    assert "vae_tiling" not in rn.generate("a red ball", engine=folder, **shot).provenance
    assert len(fresh_cache) == 1 and tiled not in fresh_cache.values()


def test_extend_given_the_folder_uses_the_engine_loaded_from_it(tiny_pipelines, fresh_cache):
    """clip.extend(engine=folder) loaded a second, plain copy beside the one loaded with
    vae_tiling (generate and a bare extend reused it), and engine=Path(folder) crashed
    ('PosixPath' object has no attribute 'render')."""
    folder = str(tiny_pipelines["ltx"])
    tiled = load_engine(folder, vae_tiling=True)
    clip = tiled.render(Shot("a red ball", steps=2, frames=5, seed=3), progress=False)
    for given in (folder, Path(folder)):
        longer = clip.extend(0.5, engine=given, progress=False)
        assert longer.provenance["vae_tiling"] is True and list(fresh_cache.values()) == [tiled]


def test_a_relative_folder_name_is_the_folder_here_not_one_loaded_elsewhere(tiny_pipelines, fresh_cache,
                                                                             tmp_path, monkeypatch):
    """`rn.load_engine("pipe")` in one folder, then `rn.generate(..., engine="pipe")` in
    another that has its own `pipe/`: that folder's engine (it got the first, whose id is the
    name as given); a name that is no folder here (deleted since) still finds the engine."""
    import shutil

    for side in ("a", "b"):
        shutil.copytree(tiny_pipelines["ltx"], tmp_path / side / "pipe")
    monkeypatch.chdir(tmp_path / "a")
    first = load_engine("pipe")
    monkeypatch.chdir(tmp_path / "b")
    assert registry.loaded_engine("pipe") is None
    assert registry.find_or_load_engine("pipe") is not first and len(fresh_cache) == 2
    monkeypatch.chdir(tmp_path)                      # no pipe/ here: the id finds one loaded
    assert registry.loaded_engine("pipe") in fresh_cache.values()


# ---- hub ids ---------------------------------------------------------------------------------
def _fake_hub_cache(tmp_path, monkeypatch, repo_id: str, folder) -> Path:
    """A Hugging Face cache holding `folder` as the snapshot of `repo_id`; downloads off."""
    import shutil

    from huggingface_hub import constants

    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / ("models--" + repo_id.replace("/", "--"))
    snapshot = repo / "snapshots" / commit
    shutil.copytree(folder, snapshot)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    return snapshot


def test_a_hub_id_outside_the_checkpoint_table_reads_its_snapshots_runway_nb_json(
        tiny_pipelines, fresh_cache, tmp_path, monkeypatch):
    snapshot = _fake_hub_cache(tmp_path, monkeypatch, "THUDM/CogVideoX1.5-5B", tiny_pipelines["cogvideox"])
    assert (snapshot / "runway_nb.json").is_file()
    monkeypatch.chdir(tmp_path)                 # (it was looked for under the working directory)
    eng = load_engine("THUDM/CogVideoX1.5-5B")
    assert eng.id == "THUDM/CogVideoX1.5-5B" and eng.family == "cogvideox"
    caps = eng.capabilities                     # the snapshot's, not the family's 720×480 / 49
    assert caps.sizes == ((32, 32),) and caps.max_frames == 9 and caps.default_steps == 2
    assert len(eng.render(Shot("a red ball", seed=1, steps=1), progress=False)) == 5


def test_an_engine_id_and_the_hub_id_it_loads_share_one_cached_engine(tiny_pipelines, fresh_cache, tmp_path,
                                                                     monkeypatch):
    """load_engine("wan") loads the family's hub repo; naming that repo loaded a second copy
    of the same weights (two multi-GB models on a Colab GPU)."""
    from runway_nb.engines.wan import WanEngine

    _fake_hub_cache(tmp_path, monkeypatch, WanEngine.default_repo, tiny_pipelines["wan"])
    monkeypatch.chdir(tmp_path)
    by_id = load_engine("wan")
    assert load_engine(WanEngine.default_repo) is by_id and len(fresh_cache) == 1
    assert registry.loaded_engine(WanEngine.default_repo) is by_id      # a clip made by either name
    assert rn.unload_engine(WanEngine.default_repo) == 1 and fresh_cache == {}
    again = load_engine(WanEngine.default_repo)
    assert registry.loaded_engine("wan") is again and rn.loaded_engines() == [again]
    assert repr(again) == f"<WanEngine {WanEngine.default_repo!r} cpu float32>"   # which copy, where
    assert rn.unload_engine("wan") == 1 and rn.loaded_engines() == []
    assert repr(again).endswith("(unloaded)>")


def test_tiny_and_its_weights_folder_share_one_cached_engine(shipped_weights, fresh_cache):
    eng = load_engine("tiny")
    assert load_engine(shipped_weights) is eng and load_engine(str(shipped_weights) + "/") is eng
    assert len(fresh_cache) == 1


def test_online_the_runway_nb_json_of_a_hub_id_is_downloaded_when_the_repo_has_one(tmp_path, monkeypatch):
    import huggingface_hub
    from huggingface_hub.utils import EntryNotFoundError

    from runway_nb.engines import hub

    monkeypatch.setattr(hub, "offline", lambda: False)
    monkeypatch.setattr(hub, "cached_model_index", lambda *a, **k: None)
    sidecar = tmp_path / "runway_nb.json"
    sidecar.write_text("{}")
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", lambda repo, name, **kw: str(sidecar))
    assert hub.repo_file("someone/fine-tune", "runway_nb.json") == sidecar

    def missing(repo, name, **kw):
        raise EntryNotFoundError(f"{name} is not in {repo}")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", missing)
    assert hub.repo_file("someone/fine-tune", "runway_nb.json") is None        # optional: none


# ---- missing packages -------------------------------------------------------------------------------
def test_without_transformers_loading_says_to_install_the_models_extra(tiny_pipelines):
    """In a fresh process without transformers (sys.modules[...] = None hides it), as a user
    without the [models] extra has it: diffusers failed with an AttributeError or blamed the
    weights."""
    import subprocess
    import sys

    code = ("import sys; sys.modules['transformers'] = None\n"
            "import runway_nb as rn\n"
            "try:\n"
            f"    rn.load_engine({str(tiny_pipelines['wan'])!r})\n"
            "except Exception as exc:\n"
            "    print(type(exc).__name__, exc)\n")
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         cwd=root, env={**os.environ, "PYTHONPATH": str(root)})
    assert out.stdout.startswith("MissingDependency"), out.stdout + out.stderr[-2000:]
    assert "'transformers'" in out.stdout and "pip install 'runway_nb[models]'" in out.stdout


def _hub_exception(name: str, message: str):
    """A huggingface_hub exception as hf_hub_download raises it (without an HTTP response)."""
    import huggingface_hub.errors
    from huggingface_hub import utils as hf

    cls = getattr(hf, name, None) or getattr(huggingface_hub.errors, name)
    exc = cls.__new__(cls)
    Exception.__init__(exc, message)
    return exc


@pytest.mark.parametrize("name, raised, words", [
    ("LocalEntryNotFoundError", WeightsError, ["could not download model_index.json",
                                               "network", "HF_HUB_OFFLINE=1", "hf download nobody/not-a-model"]),
    ("RepositoryNotFoundError", rn.EngineNotFound, ["no repository 'nobody/not-a-model'", "HF_TOKEN"]),
    ("GatedRepoError", WeightsError, ["gated", "https://huggingface.co/nobody/not-a-model", "log in"]),
    ("RemoteEntryNotFoundError", rn.EngineNotFound, ["has no model_index.json", "not a diffusers pipeline"]),
    ("HfHubHTTPError", WeightsError, ["could not download", "HfHubHTTPError"]),
])
def test_online_hub_errors_name_the_repo_and_what_to_do(monkeypatch, tmp_path, name, raised, words):
    import huggingface_hub
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))             # nothing cached
    asked = []

    def download(repo_id, filename, **kw):
        asked.append((repo_id, filename))
        raise _hub_exception(name, "An error happened while trying to locate the file on the Hub.")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", download)
    with pytest.raises(raised) as err:
        load_engine("nobody/not-a-model")
    assert asked == [("nobody/not-a-model", "model_index.json")]
    message = str(err.value)
    assert "engine='nobody/not-a-model'" in message and all(w in message for w in words), message


def test_a_malformed_hub_id_is_refused_by_name():
    with pytest.raises(rn.EngineNotFound, match="'foo/bar..baz' is not a valid hub id"):
        load_engine("foo/bar..baz")


# ---- folders no engine loads ---------------------------------------------------------------------
@pytest.mark.parametrize("index, words", [
    ('{"_class_name": "HunyuanVideoPipeline", "_diffusers_version": "0.32.0"}',
     ["holds a HunyuanVideoPipeline", "LTXPipeline", "WanPipeline", "TextToVideoSDPipeline"]),
    ('{"_class_name": "StableDiffusionPipeline"}', ["holds a StableDiffusionPipeline", "AnimateDiffPipeline"]),
    ('{not json', ["model_index.json cannot be read", "JSONDecodeError", "line 1 column 2"]),
    ('["a list"]', ["names no pipeline class"]),
])
def test_a_folder_no_engine_loads_is_named_with_what_it_holds(tmp_path, index, words):
    (tmp_path / "model_index.json").write_text(index)
    with pytest.raises(rn.EngineNotFound) as err:
        load_engine(str(tmp_path))
    message = str(err.value)
    assert all(w in message for w in words), message
    assert "has no model_index.json" not in message


def test_a_part_of_a_pipeline_points_to_the_folder_above(tiny_pipelines):
    with pytest.raises(rn.EngineNotFound, match="no model_index.json.*pass that folder") as err:
        load_engine(str(Path(tiny_pipelines["ltx"]) / "transformer"))
    assert repr(str(tiny_pipelines["ltx"])) in str(err.value)


def test_settings_given_with_an_engine_already_loaded_are_refused_not_dropped(tiny_pipelines, fresh_cache):
    """load_engine(engine, dtype=..., vae_tiling=...) returned the engine as it was, silently."""
    eng = load_engine(str(tiny_pipelines["ltx"]))
    assert load_engine(eng) is eng
    with pytest.raises(InvalidInput, match="dtype='bfloat16'.*loaded already"):
        load_engine(eng, dtype="bfloat16")
    with pytest.raises(InvalidInput, match="vae_tiling=True.*loaded already"):
        load_engine(eng, vae_tiling=True)


@pytest.mark.parametrize("sidecar, words", [
    ({"sizes": [32, 32]}, "sizes=[32, 32] is not allowed: a list of [width, height] pairs"),
    ({"fps": 8}, "fps=8 is not allowed: a list of frame rates"),
    ({"max_frames": "9"}, "max_frames='9' is not allowed: a whole number"),
    ({"sizes": [[32, 32, 3]]}, "a list of [width, height] pairs"),
    ({"sizes": [[32, 32]], "default_size": [64, 64]}, "default_size 64x64 is not among its sizes (32x32)"),
    ({"fps": [8], "default_fps": 16}, "default_fps 16 is not among its fps (8)"),
    ({"max_frames": 9, "default_frames": 17}, "default_frames 17 is more than its max_frames 9"),
])
def test_a_bad_runway_nb_json_is_refused_naming_the_file_and_the_field(tiny_pipelines, tmp_path, fresh_cache,
                                                                        sidecar, words):
    # before: a bare TypeError/ValueError, or an engine that loaded and refused its own defaults
    import shutil

    folder = tmp_path / "pipe"
    shutil.copytree(tiny_pipelines["wan"], folder)
    data = json.loads((folder / "runway_nb.json").read_text())
    (folder / "runway_nb.json").write_text(json.dumps({**data, **sidecar}))
    with pytest.raises(WeightsError) as err:
        _ = load_engine(str(folder)).capabilities        # read when the engine loads
    assert str(folder / "runway_nb.json") in str(err.value) and words in str(err.value)


def test_a_runway_nb_json_that_leaves_out_defaults_gets_the_first_allowed_ones(tiny_pipelines, tmp_path,
                                                                              fresh_cache):
    import shutil

    folder = tmp_path / "pipe"
    shutil.copytree(tiny_pipelines["wan"], folder)
    (folder / "runway_nb.json").write_text(json.dumps({"sizes": [[32, 32]], "fps": [8], "max_frames": 9}))
    caps = load_engine(str(folder)).capabilities
    assert caps.default_size == (32, 32) and caps.default_fps == 8 and caps.default_frames <= 9
    assert len(rn.generate("a ball", engine=str(folder), steps=1, progress=False)) == caps.default_frames
