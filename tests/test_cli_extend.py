"""`runway-nb extend`: continues a clip written by `generate` from its video file and JSON,
writes the longer clip beside its own JSON, and refuses bad input with one clear line, exit
status 2, and the clip it was given left as it was."""

from __future__ import annotations

import json

import numpy as np
import pytest

from runway_nb import Clip, cli
from runway_nb.cli import main

PROMPT = "a red circle moving right on a blue background"


@pytest.fixture
def made(smoke_pipeline, tmp_path):
    """A 4-frame clip (0.5 s at 8 fps) written by `runway-nb generate`: its video path."""
    out = tmp_path / "a.mp4"
    assert main(["generate", PROMPT, "--engine", str(smoke_pipeline), "--frames", "4", "--steps", "2",
                 "--seed", "3", "--no-progress", "-o", str(out)]) == 0
    return out


def _files(folder) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_extend_writes_the_longer_clip_and_its_shot(made, capsys):
    given = _files(made.parent)
    parent_id = json.loads(made.with_suffix(".json").read_text())["id"]
    out = made.with_name("b.mp4")
    assert main(["extend", str(made), "--seconds", "0.5", "--no-progress", "-o", str(out)]) == 0
    longer = Clip.load(out)
    assert len(longer) == 8 and longer.fps == 8.0               # the 4 given frames + 4 new
    assert longer.shot.parent == parent_id and longer.shot.frames == 4
    assert longer.shot.prompt == PROMPT and longer.parent_id == parent_id
    # the given frames open the longer clip (the last `blend` of them dissolve into the new)
    keep = 4 - longer.shot.blend_frames
    np.testing.assert_allclose(longer.frames[:keep], Clip.load(made).frames[:keep], atol=12)
    printed = capsys.readouterr().out
    assert "b.mp4" in printed and "8 frames" in printed
    assert {k: v for k, v in _files(made.parent).items() if k in given} == given   # input untouched
    assert sorted(_files(made.parent)) == ["a.json", "a.mp4", "b.json", "b.mp4"]     # no temp files


def test_extend_to_a_length_and_its_options_reach_the_engine(made, monkeypatch):
    """`--to` adds what is missing; --blend/--guidance/--prompt are the Python API's, so the
    CLI's frames are `Clip.load(...).extend(...)`'s."""
    seen = []
    real = cli._save_atomically
    monkeypatch.setattr(cli, "_save_atomically", lambda clip, out: (seen.append(clip), real(clip, out))[1])
    out = made.with_name("c.gif")
    assert main(["extend", str(made), "--to", "1.5", "--blend", "0", "--guidance", "3",
                 "--prompt", "a red circle resting on a blue background", "--no-progress",
                 "-o", str(out)]) == 0
    cli_clip = seen[0]
    assert len(cli_clip) == 12 and cli_clip.duration == 1.5
    assert (cli_clip.shot.blend_frames, cli_clip.shot.guidance) == (0, 3.0)
    assert cli_clip.shot.prompt == "a red circle resting on a blue background"
    api = Clip.load(made).extend(1.0, prompt="a red circle resting on a blue background", blend=0,
                                 guidance=3, progress=False)
    np.testing.assert_array_equal(cli_clip.frames, api.frames)
    assert Clip.load(out).shot == cli_clip.shot


@pytest.mark.parametrize("args, field", [
    (["--to", "0.5"], "to"),                              # not longer than the clip already is
    (["--seconds", "0"], "seconds"),
    (["--seconds", "nan"], "seconds"),
    (["--seconds", "1", "--context", "0"], "context"),
    (["--seconds", "1", "--blend", "9"], "blend"),
    (["--seconds", "1", "--camera", "sideways"], "camera"),
    (["--seconds", "1", "--device", "abacus"], "device"),
    (["--seconds", "1", "--dtype", "fp8"], "dtype='fp8'"),
    (["--seconds", "1", "--engine-option", "vae_tiling=true"], "vae_tiling=True is not allowed"),
    (["--seconds", "1", "--engine", "modelscope", "--dtype", "float32"],
     "engine='modelscope' is not allowed: cannot extend"),
    (["--seconds", "1", "--engine", "modelscope"], "engine='modelscope' is not allowed: cannot extend"),
    (["--seconds", "1", "--output", "{dir}/a.mp4"], "output"),     # the clip being extended
    (["--seconds", "1", "--output", "{dir}/a.gif"], "output"),     # would replace its JSON
    (["--seconds", "1", "--output", "{dir}/b.txt"], "output"),
    (["--seconds", "1", "--clip", "{dir}/missing.mp4"], "clip"),
    (["--seconds", "1", "--clip", "{dir}/bare.mp4"], "clip"),      # no JSON beside it
    (["--seconds", "1", "--clip", "{dir}/broken.mp4"], "path"),    # its JSON is not JSON
    (["--seconds", "1", "--clip", "{dir}/film.mp4"], "film.json holds none"),   # a film's JSON
])
def test_bad_input_is_one_clear_line_and_the_clip_is_left_as_it_was(made, args, field, capsys):
    folder = made.parent
    for name in ("bare.mp4", "broken.mp4", "film.mp4"):
        (folder / name).write_bytes(made.read_bytes())
    (folder / "broken.json").write_text("{not json")
    (folder / "film.json").write_text('{"runway_nb_film": 1, "clips": {}}')
    given = _files(folder)
    args = [a.format(dir=folder) for a in args]
    clip = str(made)
    if "--clip" in args:
        clip = args.pop(args.index("--clip") + 1)
        args.remove("--clip")
    if "--output" not in args:
        args += ["--output", str(folder / "b.mp4")]
    capsys.readouterr()
    assert main(["extend", clip, "--no-progress", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("runway-nb: error: ") and field in err
    assert _files(folder) == given                 # nothing written, nothing replaced


def test_an_interpolated_clip_is_extended_at_its_own_speed(made, capsys):
    """`runway-nb extend smooth.mp4 --seconds 1` on a ×2-interpolated 8 fps clip: 8 frames
    rendered at 8 fps, interpolated to 16 — one second, played at the clip's speed."""
    smooth = made.with_name("smooth.mp4")
    Clip.load(made).interpolate(2).save(smooth)
    out = made.with_name("longer.mp4")
    capsys.readouterr()
    assert main(["extend", str(smooth), "--seconds", "1", "--no-progress", "-o", str(out)]) == 0
    longer = Clip.load(out)
    assert longer.fps == 16 and len(longer) == 7 + 16 and longer.shot.frames == 8 and longer.shot.fps == 8
    assert longer.provenance["interpolated"] == {"factor": 2, "method": "flow"}
    assert "16 new frames" in capsys.readouterr().out


def test_an_upscaled_clip_is_refused_naming_its_size(made, capsys):
    big = made.with_name("big.mp4")
    clip = Clip.load(made)
    clip.upscale(2, "lanczos").save(big)
    capsys.readouterr()
    assert main(["extend", str(big), "--seconds", "1", "--no-progress", "-o", str(made.with_name("c.mp4"))]) == 2
    err = capsys.readouterr().err.strip()
    assert f"clip='{2 * clip.width}x{2 * clip.height}'" in err and f"{clip.width}x{clip.height}" in err
    assert "before upscaling" in err and "init_frames" not in err
    assert not made.with_name("c.mp4").exists()


def test_extend_needs_a_length(made, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["extend", str(made), "-o", str(made.with_name("b.mp4"))])
    assert exit_.value.code == 2 and "--seconds" in capsys.readouterr().err


# ---- --store: the project folder the Studio's gallery reads ---------------------------------
@pytest.fixture
def stored(smoke_pipeline, tmp_path, capsys):
    """A 4-frame clip made by `runway-nb generate --store` alone: (the store, the clip's id)."""
    from runway_nb import Store

    assert main(["generate", PROMPT, "--engine", str(smoke_pipeline), "--frames", "4", "--steps", "2",
                 "--seed", "3", "--no-progress", "--store", str(tmp_path / "film")]) == 0
    store = Store(tmp_path / "film")
    (entry,) = store.gallery()
    assert f"clip {entry.id} in " in capsys.readouterr().out     # the summary names the stored id
    return store, entry.id


def test_generate_into_a_store_alone_writes_no_video_file(stored, tmp_path):
    store, clip_id = stored
    assert sorted(p.name for p in tmp_path.iterdir()) == ["film"]
    clip = store.load_clip(clip_id)
    assert len(clip) == 4 and clip.shot.prompt == PROMPT and clip.shot.seed == 3


def test_extend_a_stored_clip_by_id_continues_its_exact_frames(stored, tmp_path, capsys):
    store, clip_id = stored
    out = tmp_path / "long.mp4"
    assert main(["extend", clip_id, "--store", str(store.path), "--seconds", "0.5", "--no-progress",
                 "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "from the video file" not in printed
    newest = store.gallery()[0]
    assert newest.parent == clip_id and len(store) == 2
    longer = store.load_clip(newest.id)
    # the frames a Python user gets from the stored clip: no trip through a lossy video
    api = store.load_clip(clip_id).extend(0.5, progress=False)
    np.testing.assert_array_equal(longer.frames, api.frames)
    assert Clip.load(out).shot == longer.shot


def test_a_video_whose_clip_is_in_the_store_is_continued_from_the_stored_frames(stored, tmp_path, capsys):
    store, clip_id = stored
    store.load_clip(clip_id).save(tmp_path / "a.mp4")     # the same clip, also as a video file
    assert main(["extend", str(tmp_path / "a.mp4"), "--store", str(store.path), "--seconds", "0.5",
                 "--no-progress"]) == 0
    assert "from the video file" not in capsys.readouterr().out
    longer = store.load_clip(store.gallery()[0].id)
    np.testing.assert_array_equal(longer.frames, store.load_clip(clip_id).extend(0.5, progress=False).frames)


@pytest.mark.parametrize("clip, folder", [("0123456789ab", "film"), ("0123456789ab", "elsewhere")])
def test_an_id_not_in_the_store_is_refused_and_nothing_is_made(stored, tmp_path, clip, folder, capsys):
    store, clip_id = stored
    given = {p.relative_to(tmp_path) for p in tmp_path.rglob("*")}
    capsys.readouterr()
    assert main(["extend", clip, "--store", str(tmp_path / folder), "--seconds", "0.5",
                 "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "clip='0123456789ab'" in err
    if folder == "film":
        assert clip_id in err                      # it names what is there
    assert {p.relative_to(tmp_path) for p in tmp_path.rglob("*")} == given


@pytest.mark.parametrize("command", [["generate", PROMPT], ["extend", "a.mp4", "--seconds", "1"]])
def test_an_output_or_a_store_is_needed(command, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main([*command, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "output=None" in err and "--store" in err
    assert list(tmp_path.iterdir()) == []


def test_a_refused_command_makes_no_empty_project_folder(smoke_pipeline, tmp_path, capsys):
    for command in (["generate", PROMPT, "--engine", str(smoke_pipeline), "--frames", "0"],
                    ["generate", PROMPT, "--engine", str(smoke_pipeline), "--size", "32x32"]):
        assert main([*command, "--no-progress", "--store", str(tmp_path / "film")]) == 2
    assert list(tmp_path.iterdir()) == []


def test_a_store_that_cannot_be_a_folder_is_refused_before_rendering(tmp_path, monkeypatch, capsys):
    import runway_nb

    monkeypatch.setattr(runway_nb, "generate", lambda *a, **k: pytest.fail("rendered before checking"))
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["generate", PROMPT, "--no-progress", "--store", str(tmp_path / "notes.txt" / "film")]) == 2
    assert "store=" in capsys.readouterr().err
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_an_output_beside_a_films_json_is_refused_before_rendering(tmp_path, monkeypatch, capsys):
    """generate -o film.mp4 would write film.json over the film's edit: refused by name,
    before minutes of rendering, and the film file is left as it was."""
    import runway_nb
    from runway_nb import Sequence

    monkeypatch.setattr(runway_nb, "generate", lambda *a, **k: pytest.fail("rendered before checking"))
    Sequence([Clip(np.zeros((4, 16, 16, 3), np.uint8), fps=8)]).save(tmp_path / "film.json")
    given = _files(tmp_path)
    assert main(["generate", PROMPT, "--no-progress", "-o", str(tmp_path / "film.mp4")]) == 2
    err = capsys.readouterr().err
    assert "output=" in err and "film's JSON" in err and "another name" in err
    assert _files(tmp_path) == given


def test_an_output_beside_another_clips_video_and_json_is_kept_under_a_free_name(made, capsys):
    """extend a.mp4 -o b.gif while b.mp4 and b.json are another clip's: the longer clip's JSON
    would relabel b.mp4. b's files are left as they were, and the render — known to clash only
    once it is made — is not thrown away: it is saved as b-<id>.gif, and the warning says so."""
    (made.parent / "b.mp4").write_bytes(made.read_bytes())
    (made.parent / "b.json").write_bytes(made.with_suffix(".json").read_bytes())
    given = _files(made.parent)
    assert main(["extend", str(made), "--seconds", "0.5", "--no-progress",
                 "-o", str(made.with_name("b.gif"))]) == 0
    err = capsys.readouterr().err
    assert "output=" in err and "another clip" in err and "b.mp4" in err and "instead" in err
    kept = sorted(set(_files(made.parent)) - set(given))
    assert len(kept) == 2 and all(name.startswith("b-") for name in kept), kept
    assert {k: v for k, v in _files(made.parent).items() if k in given} == given
    clip = Clip.load(made.parent / next(n for n in kept if n.endswith(".gif")))
    assert clip.id in kept[0] and len(clip) > len(Clip.load(made))
