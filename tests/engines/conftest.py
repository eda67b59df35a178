import pytest


@pytest.fixture(scope="session")
def smoke_pipeline(tmp_path_factory):
    """A tiny pipeline trained for 3 steps (seconds): real classes, untrained weights.
    Building it is also the training smoke test: the folder it writes must load."""
    from runway_nb.tiny.train import PRESETS, train

    run = tmp_path_factory.mktemp("smoke-run")
    return train(PRESETS["smoke"], run)


@pytest.fixture(scope="session")
def tiny_pipelines(tmp_path_factory):
    """Every diffusers family as a tiny random-weight pipeline folder (built once, ~10 s),
    plus a tiny zoom-in MotionLoRA for AnimateDiff: {family: folder, "motion-lora": folder}."""
    pytest.importorskip("transformers")
    from runway_nb.engines.testing import build_all

    return build_all(tmp_path_factory.mktemp("tiny-pipelines"))
