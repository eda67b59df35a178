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
