"""Notebooks are tests: every notebooks/*.ipynb runs top to bottom in a real Jupyter kernel.

Each runs in a temporary working folder (whatever it saves lands there, never in the
repository). A cell tagged `raises-exception` may raise (it shows an error on purpose);
any other error fails the test with the cell's traceback. `assert` cells in the
notebooks check what the reader is told.

A notebook needs the embedded engine's weights unless its metadata says
`"runway_nb": {"needs_weights": false}` (e.g. one that trains its own tiny model).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT_S = 300


def _needs_weights(nb) -> bool:
    return nb.metadata.get("runway_nb", {}).get("needs_weights", True)


def test_there_are_notebooks():
    assert any(p.name == "00_quickstart.ipynb" for p in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
             and (c.outputs or c.execution_count is not None)]
    assert not dirty, f"{path.name}: clear the outputs of cells {dirty} before committing"


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path, tmp_path, request):
    nb = nbformat.read(path, as_version=4)
    if _needs_weights(nb):
        request.getfixturevalue("shipped_weights")      # skips (or fails in CI) without them
    before = sorted(p.name for p in (ROOT / "notebooks").iterdir())
    env = dict(os.environ)
    # the kernel imports this checkout even when it was not pip-installed
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    # RUNWAY_NB_TINY_PIPELINES: notebook 20 builds tiny random-weight pipelines, as it says CI
    # does, also where a GPU would have it load the real models (no weights here, offline)
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", HF_HUB_OFFLINE="1", RUNWAY_NB_TINY_PIPELINES="1")
    # 02 keeps a project folder: run it a second time there, as a user re-running it does
    # (its checks counted the whole project's clips, and failed the second time)
    for _ in range(2 if path.name == "02_sequences.ipynb" else 1):
        client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                                         resources={"metadata": {"path": str(tmp_path)}})
        client.execute(env=env)    # raises CellExecutionError, with the traceback, on failure
    assert sorted(p.name for p in (ROOT / "notebooks").iterdir()) == before, \
        "a notebook wrote into the repository"
