"""`%load_ext runway_nb.magics`, `%%runway` and `%runway engines|append`, in a real IPython shell."""

from __future__ import annotations

import numpy as np
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from runway_nb.options import generate_kwargs, generate_options
from runway_nb.sequence import Sequence


@pytest.fixture(scope="module")
def ip():
    import torch

    torch.set_num_threads(1)
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "runway_nb.magics")
    return shell


@pytest.fixture
def small(smoke_pipeline):
    return f"--engine {smoke_pipeline} --frames 4 --steps 2 --quiet"


def run(ip, code):
    """Run a cell like a notebook does; return (result, error shown)."""
    result = ip.run_cell(code)
    return result, result.error_before_exec or result.error_in_exec


def test_cell_magic_binds_and_displays_the_clip(ip, small, monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: shown.extend(objs))
    _, error = run(ip, f"%%runway -o shot1 --seed 7 --camera zoom_in:0.5 {small}\n"
                            "a red ball bouncing\n")
    assert error is None
    clip = ip.user_ns["shot1"]
    assert clip.frames.shape == (4, 64, 64, 3)
    assert (clip.shot.prompt, clip.shot.seed, clip.shot.steps) == ("a red ball bouncing", 7, 2)
    assert clip.shot.camera.preset_name == "zoom_in" and clip.shot.camera.intensity == 0.5
    assert shown == [clip]                          # displayed: the cell's output is the player
    # the same cell again gives the same frames: the options are the whole recipe
    run(ip, f"%%runway -o shot2 --seed 7 --camera zoom_in:0.5 {small}\na red ball bouncing\n")
    np.testing.assert_array_equal(ip.user_ns["shot2"].frames, clip.frames)


@pytest.mark.parametrize("options, words", [
    ("--fps abc", "argument --fps: invalid float value: 'abc'"),
    ("--seed many", "invalid seed 'many'"),
    ("--frames 4 --seconds 2", "not allowed with argument"),
    ("--bogus 1", "unrecognized arguments: --bogus"),
    ("-o 1x", "'1x' is not a Python variable name"),
    ("--fps 0", "fps=0.0 is not allowed: must be > 0"),
    ("--seed 99999999999999999999", "seed=99999999999999999999 is not allowed"),
    ("--size big", "size='big' is not allowed"),
    ("--engine no-such-engine", "is neither a known engine"),
    ("--camera wobble", "camera='wobble' is not allowed"),
    ("--prompt 'unclosed", "check the quotes"),
    ("--device abacus", "device='abacus' is not allowed"),
    ("--dtype float16", "dtype='float16' is not allowed: the tiny engine runs in float32 only"),
    ("--engine-option vae_tiling=true", "vae_tiling=True is not allowed"),
    ("--engine-option vae_tiling", "must be KEY=VALUE"),
])
def test_bad_options_are_one_clear_line(ip, small, options, words, capsys):
    line = f"{small} {options}" if "engine" not in options else f"--frames 4 {options}"
    _, error = run(ip, f"%%runway {line}\na red ball\n")
    assert isinstance(error, UsageError) and words in str(error)
    parsed = options in ("--fps abc", "--seed many", "--frames 4 --seconds 2", "--bogus 1",
                         "--engine-option vae_tiling")
    if parsed:                       # argparse's errors point at the help IPython can show
        assert str(error).endswith("See %runway help.")
    shown = capsys.readouterr()
    assert "Traceback" not in shown.out + shown.err
    assert "\n" not in str(error).strip()


def test_device_loads_the_engine_there_and_reuses_one_loaded_there(ip, small, smoke_pipeline, monkeypatch):
    """Beside an engine loaded on a device (cuda on Colab; cpu:0 stands in here — one CPU, so
    the cache takes it as cpu), a cell with --device uses that engine, not a second copy."""
    from runway_nb.engines import registry
    from runway_nb.engines.registry import load_engine

    loaded = load_engine(str(smoke_pipeline), device="cpu:0")
    before = len(registry._CACHE)
    asked = []                                  # the device the cell's options reach the loader with
    monkeypatch.setattr(registry, "load_engine", lambda name, device="cpu", **kw: asked.append(device)
                        or load_engine(name, device=device, **kw))
    _, error = run(ip, f"%%runway -o there --device cpu:0 --dtype float32 --seed 3 {small}\na red ball\n")
    assert error is None and ip.user_ns["there"].provenance["device"] == "cpu"
    assert asked == ["cpu:0"]
    assert len(registry._CACHE) == before and load_engine(str(smoke_pipeline), device="cpu:0") is loaded
    _, error = run(ip, f"%%runway -o there_too --device cpu:0 --seed 3 {small}\na red ball\n")
    assert error is None
    np.testing.assert_array_equal(ip.user_ns["there_too"].frames, loaded.render(
        ip.user_ns["there"].shot, progress=False).frames)


def test_a_cell_without_device_uses_the_engine_the_notebook_loaded(ip, tiny_on_a_gpu):
    """`rn.load_engine("tiny", device="cuda")` in the notebook, then a %%runway cell with no
    --device: that engine (it loaded a second copy on the CPU); --device cpu: the CPU one.
    The command line runs in a fresh process and keeps cpu as its default."""
    from runway_nb.magics import _cell_parser

    gpu, cpu, cache = tiny_on_a_gpu
    cell = "--engine tiny --frames 4 --steps 2 --seed 3 --quiet"
    _, error = run(ip, f"%%runway -o here {cell}\na red ball\n")
    assert error is None and ip.user_ns["here"].provenance["device"] == "cuda"
    _, error = run(ip, f"%%runway -o on_cpu --device cpu {cell}\na red ball\n")
    assert error is None and ip.user_ns["on_cpu"].provenance["device"] == "cpu" and len(cache) == 2
    assert _cell_parser().parse_args([]).device is None
    assert generate_options().parse_args([]).device == "cpu"
    assert "default: cpu" in generate_options().format_help()


def test_an_empty_cell_says_what_a_prompt_is(ip, small):
    _, error = run(ip, f"%%runway {small}\n   \n")
    assert isinstance(error, UsageError) and "prompt" in str(error) and "must contain some words" in str(error)


def test_engines_lists_the_engines(ip, capsys):
    _, error = run(ip, "%runway engines")
    assert error is None
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["engine", "weights", "description"] and "tiny" in out


def test_append_the_last_clip_to_the_current_sequence(ip, small, capsys):
    ip.user_ns.pop("sequence", None)
    run(ip, f"%%runway -o a {small} --seed 1\na red ball\n")
    _, error = run(ip, "%runway append")
    assert error is None
    seq = ip.user_ns["sequence"]
    assert isinstance(seq, Sequence) and seq.clips[0] is ip.user_ns["a"]
    run(ip, f"%%runway {small} --seed 2\na blue ball\n")
    run(ip, "%runway append")
    assert len(ip.user_ns["sequence"]) == 2 and ip.user_ns["sequence"] is seq
    _, error = run(ip, "%runway append film --clip a")
    assert error is None and ip.user_ns["film"].clips[0] is ip.user_ns["a"]
    assert "new sequence `film`" in capsys.readouterr().out


def test_append_refuses_what_is_not_a_sequence(ip, small):
    ip.user_ns["notes"] = "a string"
    run(ip, f"%%runway {small} --seed 1\na red ball\n")
    _, error = run(ip, "%runway append notes")
    assert isinstance(error, UsageError) and "not a runway_nb Sequence" in str(error)
    assert ip.user_ns["notes"] == "a string"


@pytest.mark.parametrize("line, words", [
    ("", "needs a command"),
    ("render", "invalid choice: 'render'"),
    ("append --clip nothing_here", "no such variable"),
])
def test_bad_line_magics_are_one_clear_line(ip, line, words):
    _, error = run(ip, f"%runway {line}")
    assert isinstance(error, UsageError) and words in str(error)


def test_help_prints_and_is_not_an_error(ip, capsys):
    _, error = run(ip, "%%runway --help\nignored\n")
    assert error is None and "--camera" in capsys.readouterr().out


def test_load_ext_runway_nb_registers_the_magics():
    shell = InteractiveShell.instance()
    result = shell.extension_manager.load_extension("runway_nb")   # what %load_ext runway_nb does
    assert result in (None, "already loaded"), "runway_nb must re-export load_ipython_extension"
    assert "runway" in shell.magics_manager.magics["cell"]
    assert "runway" in shell.magics_manager.magics["line"]


def test_the_shared_options_map_to_generate_arguments():
    args = generate_options().parse_args(["--seconds", "2", "--camera", "zoom_in:0.5", "--seed", "7",
                                          "--size", "64x64", "--negative", "blur"])
    kw = generate_kwargs(args)
    assert kw["seconds"] == 2.0 and kw["camera"] == "zoom_in:0.5" and kw["seed"] == 7
    assert kw["size"] == "64x64" and kw["negative_prompt"] == "blur" and kw["engine"] == "tiny"
    import inspect

    import runway_nb as rn

    assert set(kw) <= set(inspect.signature(rn.generate).parameters)
    kw = generate_kwargs(generate_options().parse_args([
        "--device", "cuda", "--dtype", "bf16", "--engine-option", "vae_tiling=true",
        "--engine-option", "cpu_offload=sequential", "--engine-option", "vae-slicing=False",
        "--engine-option", 'motion_loras={"zoom_in": "lora"}']))
    assert (kw["device"], kw["dtype"]) == ("cuda", "bf16")
    assert kw["engine_options"] == {"vae_tiling": True, "cpu_offload": "sequential", "vae_slicing": False,
                                    "motion_loras": {"zoom_in": "lora"}}
    assert set(kw) <= set(inspect.signature(rn.generate).parameters)


def test_store_keeps_the_clip_in_the_project(ip, small, tmp_path):
    from runway_nb import Store

    _, error = run(ip, f"%%runway -o kept --store {tmp_path / 'film'} {small}\na red ball bouncing\n")
    assert error is None
    assert Store(tmp_path / "film").load_clip(ip.user_ns["kept"].id).shot == ip.user_ns["kept"].shot


def test_a_store_that_cannot_be_made_is_refused_before_rendering(ip, small, tmp_path, monkeypatch):
    import runway_nb

    (tmp_path / "afile").write_text("mine")
    monkeypatch.setattr(runway_nb, "generate", lambda *a, **k: pytest.fail("rendered before checking"))
    _, error = run(ip, f"%%runway -o never --store {tmp_path / 'afile'} {small}\na red ball\n")
    assert isinstance(error, UsageError) and "--store=" in str(error) and "is a file" in str(error)
    assert "never" not in ip.user_ns and (tmp_path / "afile").read_text() == "mine"


def test_a_store_that_fails_after_rendering_keeps_the_clip(ip, small, tmp_path, monkeypatch):
    from runway_nb import Store, StoreError

    def full(self, clip):
        raise StoreError("Cannot save clip: the disk is full.")

    monkeypatch.setattr(Store, "add", full)
    _, error = run(ip, f"%%runway -o rescued --store {tmp_path / 'film'} {small}\na red ball\n")
    assert isinstance(error, UsageError) and "disk is full" in str(error) and "`rescued`" in str(error)
    assert ip.user_ns["rescued"].frames.shape == (4, 64, 64, 3)      # the render is not lost
    assert ip.magics_manager.registry["RunwayMagics"].last_clip is ip.user_ns["rescued"]


def test_append_counts_one_clip_in_the_singular(ip, small, capsys):
    ip.user_ns.pop("solo", None)
    run(ip, f"%%runway -o one {small}\na red ball\n")
    capsys.readouterr()
    run(ip, "%runway append solo")
    assert "`solo`: 1 clip," in capsys.readouterr().out
