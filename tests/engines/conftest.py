import pytest


@pytest.fixture(scope="session")
def smoke_pipeline(tmp_path_factory):
    """A tiny pipeline trained for 3 steps (seconds): real classes, untrained weights.
    Building it is also the training smoke test: the folder it writes must load."""
    from runway_nb.tiny.train import PRESETS, train

    run = tmp_path_factory.mktemp("smoke-run")
    return train(PRESETS["smoke"], run)
