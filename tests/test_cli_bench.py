"""`runway-nb bench`: times a 2-second clip on this machine, prints the table and, for the
tiny engine, the README's targets with whether they are met; refuses bad options before
timing anything."""

from __future__ import annotations

import json

import pytest

from runway_nb.bench import TARGETS, table
from runway_nb.cli import main


def test_bench_times_a_clip_and_writes_its_numbers(smoke_pipeline, tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main(["bench", "--engine", str(smoke_pipeline), "--threads", "1", "--runs", "1",
                 "--json", str(out)]) == 0
    printed = capsys.readouterr()
    result = json.loads(out.read_text())
    assert result["threads"] == 1 and result["runs"] == 1 and result["frames"] == 16
    assert 0 < result["first_preview_s_median"] < result["generate_s_median"]
    assert result["peak_rss_mb"] > 50
    assert result["denoiser"]["forwards_per_clip"] >= result["steps"]
    assert set(result["camera_modes_s_median"]) >= {"none", "virtual"}
    assert "generate 2 s clip" in printed.out and "wrote" in printed.out
    assert "bench: loading" in printed.err            # where it is, while it runs
    assert "README targets" not in printed.out        # they are the tiny engine's


def _result(**over) -> dict:
    r = {"engine": "tiny", "frames": 16, "size": [64, 64], "steps": 20, "guidance": 4.0, "threads": 2,
         "runs": 5, "machine": {"cores": 2, "cpu": "a CPU"}, "load_s": 2.0, "generate_s_median": 1.2,
         "motion_mode": "planned", "generate_native_s_median": 0.7, "first_preview_s_median": 0.05,
         "peak_rss_mb": 490.0}
    return {**r, **over}


def test_the_tiny_engines_table_says_which_targets_this_machine_meets():
    lines = [line for line in table(_result(generate_s_median=3.3)).splitlines() if "≤" in line]
    assert len(lines) == len(TARGETS)
    clip, preview, memory = lines
    assert "a 2-s clip ≤ 1.5 s" in clip and clip.endswith("3.30 s: over")
    assert "first preview ≤ 0.3 s" in preview and preview.endswith("0.05 s: met")
    assert "peak RSS ≤ 1.5 GB" in memory and memory.endswith("490 MB: met")
    assert "not measured here" in table(_result(peak_rss_mb=None))


@pytest.mark.parametrize("args, field", [
    (["--runs", "0"], "runs"),
    (["--threads", "0"], "threads"),
    (["--json", "{dir}/missing/b.json"], "json"),
    (["--engine", "no_such_engine"], "engine"),
])
def test_bad_options_are_refused_before_timing(args, field, tmp_path, capsys):
    args = [a.format(dir=tmp_path) for a in args]
    assert main(["bench", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("runway-nb: error: ") and field in err[-1]
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def no_timing(monkeypatch):
    """The benchmark's work fails the test: a refusal must come before it."""
    from runway_nb import bench

    def run(args):
        raise AssertionError("the benchmark started")

    monkeypatch.setattr(bench, "run", run)


def test_a_folder_as_the_json_file_is_refused_before_timing(tmp_path, capsys, no_timing):
    # before: only the parent folder was checked, so the whole benchmark ran and then
    # failed to write ("Is a directory"), its results lost
    assert main(["bench", "--json", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("runway-nb: error: --json=") and "must not name a folder" in err[-1]   # the flag typed


def _json_turns_into_a_folder(monkeypatch, out):
    """bench.run that makes a folder where its JSON goes (after the up-front check passed)."""
    from runway_nb import bench

    def run(args):
        out.mkdir()
        return _result()

    monkeypatch.setattr(bench, "run", run)


def test_results_that_cannot_be_written_at_the_end_are_kept_in_a_temp_file(tmp_path, monkeypatch, capsys):
    import tempfile

    out, spare = tmp_path / "bench.json", tmp_path / "tmp"
    spare.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spare))
    _json_turns_into_a_folder(monkeypatch, out)
    assert main(["bench", "--json", str(out)]) == 1
    printed = capsys.readouterr()
    kept = list(spare.iterdir())
    assert "generate 2 s clip" in printed.out and len(kept) == 1 and kept[0].suffix == ".json"
    assert json.loads(kept[0].read_text()) == _result()
    err = printed.err.strip().splitlines()[-1]
    assert err.startswith(f"runway-nb: error: could not write the benchmark's results to {out} (")
    assert err.endswith(f"they were written to {kept[0]} instead")
    assert list(out.iterdir()) == []                              # no temp file left in its place


def test_results_that_cannot_be_written_anywhere_are_printed(tmp_path, monkeypatch, capsys):
    import tempfile

    out = tmp_path / "bench.json"
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no_such_folder"))
    _json_turns_into_a_folder(monkeypatch, out)
    assert main(["bench", "--json", str(out)]) == 1
    printed = capsys.readouterr()
    assert json.loads(printed.out[printed.out.index("\n{") + 1:]) == _result()
    assert printed.err.strip().splitlines()[-1].endswith("they were printed above instead")


@pytest.mark.parametrize("failure, status", [
    (lambda: __import__("runway_nb.errors").errors.EngineNotFound("engine 'abc' is not known"), 2),
    (lambda: OSError(28, "No space left on device", "bench.json"), 1),
])
def test_the_module_and_the_subcommand_say_a_failure_alike(failure, status, monkeypatch, capsys):
    # before: `python -m runway_nb.bench` printed argparse's usage for a refused value and a
    # traceback for a full disk, where `runway-nb bench` said one line of each
    from runway_nb import bench

    def run(args):
        raise failure()

    monkeypatch.setattr(bench, "run", run)
    with pytest.raises(SystemExit) as exit_:
        bench.main([])
    module_err = capsys.readouterr().err.strip().splitlines()
    assert main(["bench"]) == exit_.value.code == status
    cli_err = capsys.readouterr().err.strip().splitlines()
    assert len(module_err) == len(cli_err) == 1
    assert module_err[0].split(": error: ")[1] == cli_err[0].split(": error: ")[1]
    if status == 1:
        assert cli_err[0] == "runway-nb: error: No space left on device: bench.json"
