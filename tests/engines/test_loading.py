"""Loading engines: one cached engine per weights/device/dtype/options, `unload_engine`,
and the errors a folder or hub id that cannot load gives (offline, on tiny pipelines)."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import pytest

import runway_nb as rn
from runway_nb import Shot
from runway_nb.engines import registry
from runway_nb.engines.registry import load_engine
from runway_nb.errors import WeightsError

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
    assert rn.unload_engine(eng) == 1
    gc.collect()
    assert model() is None and fresh_cache == {}
    with pytest.raises(WeightsError, match="unloaded.*rn.load_engine"):
        eng.render(Shot("a ball", seed=1, steps=1, frames=5), progress=False)
    again = load_engine(str(tiny_pipelines["ltx"]), vae_tiling=True)      # loads afresh, and works
    assert again is not eng and len(again.render(Shot("a ball", seed=1, steps=1, frames=5),
                                                 progress=False)) == 5


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
