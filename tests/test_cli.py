"""The `runway-nb` command line: writes a video and its shot JSON, is reproducible, and
refuses bad input with one clear line, exit status 2 and no output file."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from runway_nb import Shot, cli
from runway_nb.cli import main

PROMPT = "a red circle moving right on a blue background"


def _fast(engine, *extra) -> list[str]:
    """A cheap render on the smoke pipeline: 4 frames, 2 steps, no progress bar."""
    return ["--engine", str(engine), "--frames", "4", "--steps", "2", "--no-progress", *extra]


def _sidecar_shot(path) -> tuple[Shot, dict]:
    """The Shot and provenance recorded in a video's JSON sidecar."""
    data = json.loads(path.read_text())
    shot_data = data.get("shot", data)
    shot = Shot.from_dict({k: v for k, v in shot_data.items() if k != "provenance"})
    return shot, data.get("provenance") or shot_data.get("provenance") or {}


@pytest.fixture
def rendered(monkeypatch):
    """Frames of every clip the CLI saves, exactly as rendered (before video encoding)."""
    seen = []
    real = cli._save_atomically

    def spy(clip, out):
        seen.append(np.array(clip.frames))
        return real(clip, out)

    monkeypatch.setattr(cli, "_save_atomically", spy)
    return seen


def test_generate_writes_the_video_and_its_shot(smoke_pipeline, tmp_path, capsys):
    out = tmp_path / "a.mp4"
    assert main(["generate", PROMPT, *_fast(smoke_pipeline, "--seed", "7"), "-o", str(out)]) == 0
    assert out.is_file() and out.stat().st_size > 0
    shot, provenance = _sidecar_shot(tmp_path / "a.json")
    assert (shot.prompt, shot.seed, shot.frames, shot.steps) == (PROMPT, 7, 4, 2)
    assert (shot.width, shot.height, shot.fps) == (64, 64, 8.0)      # the engine's defaults, recorded
    assert {"engine", "weights_sha256", "runway_nb"} <= set(provenance)
    assert len(provenance["weights_sha256"]) == 64
    printed = capsys.readouterr().out
    assert str(out) in printed and "a.json" in printed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "a.mp4"]   # no temp files left


def test_same_seed_twice_gives_identical_frames(smoke_pipeline, tmp_path, rendered):
    for name in ("one", "two"):
        args = _fast(smoke_pipeline, "--seed", "11", "--camera", "pan_left:0.5")
        assert main(["generate", PROMPT, *args, "-o", str(tmp_path / f"{name}.gif")]) == 0
    assert len(rendered) == 2 and rendered[0].shape == (4, 64, 64, 3)
    np.testing.assert_array_equal(rendered[0], rendered[1])
    assert _sidecar_shot(tmp_path / "one.json")[0] == _sidecar_shot(tmp_path / "two.json")[0]
    assert (tmp_path / "one.gif").read_bytes() == (tmp_path / "two.gif").read_bytes()


def test_deforum_text_on_the_command_line_is_read_at_the_run_it_names(smoke_pipeline, tmp_path):
    from runway_nb.camera import CameraPath

    text = "fps: 30; W: 768; H: 432; translation_x: 0:(8)"
    assert main(["generate", PROMPT, *_fast(smoke_pipeline, "--camera", text), "-o", str(tmp_path / "d.gif")]) == 0
    shot, _ = _sidecar_shot(tmp_path / "d.json")
    assert shot.camera == CameraPath.from_deforum({"translation_x": "0:(8)"}, fps=30, width=768, height=432)


def test_a_shot_json_remakes_the_same_frames(smoke_pipeline, tmp_path, rendered):
    import runway_nb as rn

    out = tmp_path / "c.mp4"
    assert main(["generate", PROMPT, *_fast(smoke_pipeline), "-o", str(out)]) == 0   # seed drawn
    shot, _ = _sidecar_shot(tmp_path / "c.json")
    again = rn.load_engine(str(smoke_pipeline)).render(shot, progress=False)
    np.testing.assert_array_equal(again.frames, rendered[0])


@pytest.mark.parametrize("args, field", [
    (["", "-o", "{out}"], "prompt"),
    (["   ", "-o", "{out}"], "prompt"),
    ([PROMPT, "--frames", "0", "-o", "{out}"], "frames"),
    ([PROMPT, "--seconds", "-1", "-o", "{out}"], "seconds"),
    ([PROMPT, "--size", "abc", "-o", "{out}"], "size"),
    ([PROMPT, "--camera", "nope", "-o", "{out}"], "camera"),
    ([PROMPT, "--camera", "pan_left:lots", "-o", "{out}"], "camera"),
    ([PROMPT, "--camera", "fps: 0; zoom: 0:(1.04)", "-o", "{out}"], "camera.fps"),
    ([PROMPT, "--guidance", "nan", "-o", "{out}"], "guidance"),
    ([PROMPT, "--guidance", "inf", "-o", "{out}"], "guidance"),
    ([PROMPT, "--steps", "0", "-o", "{out}"], "steps"),
    ([PROMPT, "--seed", "-3", "-o", "{out}"], "seed"),
    ([PROMPT, "--engine", "no_such_engine", "-o", "{out}"], "engine"),
    ([PROMPT, "-o", "{dir}/clip.txt"], "output"),
    ([PROMPT, "-o", "{dir}/missing/clip.mp4"], "output"),
    ([PROMPT, "--camera", "translation_z: 0:(1)", "-o", "{out}"], "camera"),   # Deforum 3D: not read
    ([PROMPT, "--camera", "{dir}", "-o", "{out}"], "camera"),
    ([PROMPT, "--device", "abacus", "-o", "{out}"], "device='abacus'"),
    ([PROMPT, "--dtype", "float16", "-o", "{out}"], "dtype='float16'"),          # tiny: float32 only
    ([PROMPT, "--engine-option", "vae_tiling=true", "-o", "{out}"], "vae_tiling=True is not allowed"),
])
def test_bad_input_is_one_clear_line_and_exit_2(args, field, tmp_path, capsys):
    out = tmp_path / "out.mp4"
    args = [a.format(out=out, dir=tmp_path) for a in args]
    assert main(["generate", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("runway-nb: error: ") and field in err
    assert list(tmp_path.iterdir()) == []          # no output, no partial file, no temp folder


@pytest.mark.parametrize("extra, field", [
    (["--size", "32x32"], "size"),                 # a size this engine cannot make
    (["--fps", "30"], "fps"),
    (["--frames", "100000"], "frames"),            # over the engine's limit
])
def test_what_the_engine_cannot_make_is_refused_before_rendering(smoke_pipeline, extra, field,
                                                                 tmp_path, capsys):
    out = tmp_path / "keep.mp4"
    out.write_bytes(b"an earlier clip")
    args = ["--engine", str(smoke_pipeline), "--no-progress", *extra]
    if "--frames" not in extra:
        args += ["--frames", "4"]
    assert main(["generate", PROMPT, *args, "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("runway-nb: error: ") and field in err and "\n" not in err
    assert out.read_bytes() == b"an earlier clip"   # nothing already saved is touched
    assert [p.name for p in tmp_path.iterdir()] == ["keep.mp4"]


def test_malformed_command_lines_exit_2(capsys):
    for argv in (["generate"], ["generate", PROMPT, "-o", "a.mp4", "--frames", "x"],
                 ["generate", PROMPT, "-o", "a.mp4", "--engine-option", "vae_tiling"],
                 ["generate", PROMPT, "-o", "a.mp4", "--engine-option", "device=cuda"],
                 ["generate", PROMPT, "-o", "a.mp4", "--frames", "4", "--seconds", "1"], ["dance"]):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_engines_lists_tiny(capsys):
    assert main(["engines"]) == 0
    assert capsys.readouterr().out.startswith("tiny")
    assert main(["engines", "--json"]) == 0
    rows = {row["id"]: row for row in json.loads(capsys.readouterr().out)}
    assert isinstance(rows["tiny"]["weights_available"], bool)
    if rows["tiny"]["weights_available"]:
        caps = rows["tiny"]["capabilities"]
        assert caps["text_to_video"] and "native" in caps["camera_modes"]
        assert caps["motion_modes"] == ["planned"]



def test_engines_descriptions_line_up_after_the_longest_id(capsys):
    from runway_nb.engines.registry import list_engines

    assert main(["engines"]) == 0
    width = max(len(row["id"]) for row in list_engines())
    id_lines = [line for line in capsys.readouterr().out.splitlines() if line and not line[0].isspace()]
    assert id_lines and all(line[width] == " " and line[width + 1] != " " for line in id_lines)

def test_python_dash_m_is_the_same_cli(tmp_path):
    """A real process: `python -m runway_nb`, no traceback, exit 2, nothing written."""
    run = subprocess.run([sys.executable, "-m", "runway_nb", "generate", PROMPT, "--frames", "0",
                          "-o", str(tmp_path / "x.mp4")], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr and "frames=0" in run.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_readme_command_on_the_shipped_weights(shipped_weights, tmp_path, monkeypatch, capsys):
    """The README's headline command, with the engine's default settings."""
    monkeypatch.chdir(tmp_path)
    assert main(["generate", PROMPT, "--seed", "1", "--no-progress", "-o", "a.mp4"]) == 0
    assert "motion planned from 'moving right'" in capsys.readouterr().out
    shot, provenance = _sidecar_shot(tmp_path / "a.json")
    assert shot.engine == "tiny" and provenance["engine"] == "tiny"
    assert (tmp_path / "a.mp4").stat().st_size > 1000
    # the headline prompt names a motion, so the default plans it, and the sidecar says so
    assert shot.motion_mode == "planned" and provenance["motion_plan"]["motion"] == "right"


def test_motion_mode_on_the_command_line(shipped_weights, tmp_path):
    assert main(["generate", PROMPT, "--seed", "1", "--no-progress", "--motion-mode", "native",
                 "-o", str(tmp_path / "n.mp4")]) == 0
    shot, provenance = _sidecar_shot(tmp_path / "n.json")
    assert shot.motion_mode == "native" and "motion_plan" not in provenance
    with pytest.raises(SystemExit) as exit_:
        main(["generate", PROMPT, "--motion-mode", "teleport", "-o", str(tmp_path / "x.mp4")])
    assert exit_.value.code == 2 and not (tmp_path / "x.mp4").exists()


def test_an_output_folder_that_cannot_be_written_is_refused_before_rendering(tmp_path, monkeypatch, capsys):
    """Found out at once, not after minutes of rendering (a read-only folder; root writes
    through chmod, so the save's own temp file is refused here)."""
    import runway_nb
    from runway_nb import files

    def refused(path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(files, "new_temp_file", refused)
    monkeypatch.setattr(runway_nb, "generate", lambda *a, **k: pytest.fail("rendered before checking"))
    assert main(["generate", PROMPT, "--no-progress", "-o", str(tmp_path / "a.mp4")]) == 2
    err = capsys.readouterr().err.strip()
    assert "output=" in err and "write to" in err and "Permission denied" in err and "\n" not in err
    assert list(tmp_path.iterdir()) == []


def test_an_output_named_like_a_folder_leaves_no_json_without_video(tmp_path, capsys):
    (tmp_path / "d.mp4").mkdir()
    (tmp_path / "e.json").mkdir()
    for name in ("d.mp4", "e.mp4"):
        assert main(["generate", PROMPT, "--no-progress", "-o", str(tmp_path / name)]) == 2
        assert "must not name a folder" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.mp4", "e.json"]


def test_a_disk_that_fills_while_writing_is_one_line_and_exit_1(smoke_pipeline, tmp_path, monkeypatch, capsys):
    import errno

    from runway_nb import Clip

    def full(self, path):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(Clip, "save", full)
    assert main(["generate", PROMPT, "--engine", str(smoke_pipeline), "--frames", "4", "--steps", "2",
                 "--no-progress", "-o", str(tmp_path / "a.mp4")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("runway-nb: error: No space left on device") and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []          # the temp folder went too


def test_a_reader_that_stops_reading_is_no_error_to_report(monkeypatch, capsys):
    # before: `runway-nb engines --json | head -5` could end in "runway-nb: error: Broken pipe"
    import runway_nb.cli as cli

    def engines(args):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(cli, "_engines", engines)
    assert cli.main(["engines", "--json"]) == 1
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("argv, said", [(["generate", "a red ball", "--steps", "0", "-o", "{dir}/a.mp4"], "--steps=0"),
                                       (["bench", "--runs", "0"], "--runs=0")])
def test_a_refused_value_is_named_by_the_flag_typed(argv, said, tmp_path, capsys):
    # before: "steps=0 is not allowed", the setting's name, where train and eval said the flag
    assert main([a.format(dir=tmp_path) for a in argv]) == 2
    assert capsys.readouterr().err.startswith(f"runway-nb: error: {said} is not allowed")
