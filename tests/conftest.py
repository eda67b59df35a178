"""Shared test setup.

* The repository is importable without installing it first.
* torch uses one thread: the test machines have 2 cores, and torch's default of one
  thread per core plus pytest, ffmpeg and a Jupyter kernel oversubscribes them
  (an order of magnitude slower, and timings become noise).
* `smoke_pipeline`: a tiny pipeline trained for 3 steps (seconds) — real classes,
  untrained weights. Building it is also the training smoke test: the folder it
  writes must load as an engine.
* `shipped_weights`: the embedded engine's real weights, or a skip that says why.
"""

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")       # no test may touch the network
os.environ.setdefault("TQDM_DISABLE", "1")         # progress bars are for people, not logs

SHIPPED_WEIGHTS = ROOT / "runway_nb" / "tiny" / "weights"


def pytest_configure(config):
    try:
        import torch
    except ImportError:  # the pure-Python layers are tested without torch too
        return
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def smoke_pipeline(tmp_path_factory) -> Path:
    """Folder of a freshly trained smoke pipeline (shared by every test folder)."""
    from runway_nb.engines.registry import load_engine
    from runway_nb.tiny.train import PRESETS, train

    run = tmp_path_factory.mktemp("smoke-run")
    folder = train(PRESETS["smoke"], run)
    assert (folder / "model_index.json").is_file()
    load_engine(str(folder))  # what training writes, the engine reads
    return folder


@pytest.fixture(scope="session")
def shipped_weights() -> Path:
    """The embedded engine's weights. Skips where they are not built yet; `.ci/run` sets
    RUNWAY_NB_REQUIRE_WEIGHTS=1 (they are committed), so in CI a missing folder fails."""
    if not (SHIPPED_WEIGHTS / "model_index.json").is_file():
        if os.environ.get("RUNWAY_NB_REQUIRE_WEIGHTS") == "1":
            pytest.fail(f"CI must test the shipped weights, but {SHIPPED_WEIGHTS} has no "
                        "model_index.json")
        pytest.skip(f"the tiny engine's weights are not in {SHIPPED_WEIGHTS} yet; train them with "
                    "`python -m runway_nb.tiny.train --out runs/tiny` and copy runs/tiny/pipeline there")
    return SHIPPED_WEIGHTS


@pytest.fixture
def tiny_on_a_gpu(shipped_weights, monkeypatch):
    """The tiny engine as `rn.load_engine("tiny", device="cuda")` leaves it on a Colab GPU,
    beside the plain CPU one, in an engine cache of this test's own: (gpu, cpu, cache).

    There is no GPU here, so "the GPU one" is a second engine on the same weights (they run
    on the CPU), under the cache key a cuda load makes, recording device "cuda" in its clips'
    provenance: a CPU load (`load_engine("tiny")`) does not find it. Loaded after the CPU
    one, so it is the latest loaded. Unload only `gpu`: `cpu` is this process's engine."""
    import copy

    from runway_nb.engines import registry

    cpu = registry.load_engine("tiny")                 # the process's, loaded once
    gpu = copy.copy(cpu)
    gpu.__dict__["device"] = "cuda"
    cache = {key: e for key, e in registry._CACHE.items() if e is cpu}
    cache[registry._cache_key(registry._ENTRIES["tiny"], "tiny", None, "cuda", None, {})] = gpu
    monkeypatch.setattr(registry, "_CACHE", cache)
    return gpu, cpu, cache
