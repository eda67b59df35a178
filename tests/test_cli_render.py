"""`runway-nb render film.json -o film.mp4` re-makes a film from its shots."""

from __future__ import annotations

import numpy as np
import pytest

import runway_nb as rn
from runway_nb.cli import main
from runway_nb.export.video import read_video


def test_render_rebuilds_a_film_from_its_shots(tmp_path, capsys):
    a = rn.generate("a red ball moving right on blue", steps=2, seed=1, frames=8, progress=False)
    b = a.extend(0.5)
    seq = rn.Sequence([a, b], transition="cut")
    seq.save(tmp_path / "film.json")
    assert main(["render", str(tmp_path / "film.json"), "-o", str(tmp_path / "again.mp4"),
                 "--rerender"]) == 0
    frames, fps = read_video(tmp_path / "again.mp4")
    assert len(frames) == len(seq.frames()) and fps == 8
    # re-rendered from shots, the cut matches the original within video compression
    assert np.abs(frames.astype(int) - seq.frames().astype(int)).mean() < 6
    assert "wrote" in capsys.readouterr().out


def test_a_film_with_a_trimmed_clip_rerenders_exactly(tmp_path, capsys):
    """`a[2:6]` in a film: the film file says how it was cut from `a`, so `render` re-makes
    it (it said "must say how the clip was made from its parent"); the tiny engine is
    deterministic, so the cut comes back bit for bit."""
    from runway_nb.export.film import load_film

    a = rn.generate("a red ball bouncing on a green field", steps=2, seed=7, frames=8, progress=False)
    b = rn.generate("a blue square moving left on a desert", steps=2, seed=8, frames=8, progress=False)
    seq = rn.Sequence([a[2:6], b], transition="cut")
    seq.save(tmp_path / "film.mp4")
    again = load_film(tmp_path / "film.json").to_sequence(render=True)
    np.testing.assert_array_equal(again.frames(), seq.frames())
    assert [c.id for c in again.clips] == [c.id for c in seq.clips]
    for extra in ([], ["--rerender"]):
        assert main(["render", str(tmp_path / "film.json"), "-o", str(tmp_path / "again.mp4"), *extra]) == 0
        assert len(read_video(tmp_path / "again.mp4")[0]) == 4 + 8
    assert "wrote" in capsys.readouterr().out


def test_render_of_a_broken_film_is_one_clear_line(tmp_path, capsys):
    bad = tmp_path / "film.json"
    bad.write_text("{not json")
    assert main(["render", str(bad), "-o", str(tmp_path / "x.mp4")]) == 2
    err = capsys.readouterr().err
    assert "film JSON" in err and "Traceback" not in err
    assert not (tmp_path / "x.mp4").exists()


def test_render_will_not_replace_the_film_file_it_reads(tmp_path, capsys):
    """`render film.json -o film.mp4` would write film.json beside the video: over the film
    file, losing its links to the clips' videos. Refused; the file is untouched."""
    a = rn.generate("a red ball moving right on blue", steps=2, seed=1, frames=4, progress=False)
    rn.Sequence([a]).save(tmp_path / "film.otio")               # film.json links film_media/
    before = (tmp_path / "film.json").read_bytes()
    assert main(["render", str(tmp_path / "film.json"), "-o", str(tmp_path / "film.mp4")]) == 2
    err = capsys.readouterr().err
    assert "output=" in err and "film_render.mp4" in err
    assert (tmp_path / "film.json").read_bytes() == before and not (tmp_path / "film.mp4").exists()


def test_a_clips_json_given_as_a_film_says_what_it_is(tmp_path, capsys):
    a = rn.generate("a red ball moving right on blue", steps=2, seed=1, frames=4, progress=False)
    a.save(tmp_path / "a.mp4")
    assert main(["render", str(tmp_path / "a.json"), "-o", str(tmp_path / "x.mp4")]) == 2
    err = capsys.readouterr().err
    assert "one clip's JSON" in err and "runway-nb extend" in err


def test_a_projects_sequence_renders_from_its_stored_clips(tmp_path, monkeypatch, capsys):
    # before: the project's clips (exact frames) were passed over: every clip was re-rendered,
    # and one without a Shot was refused though its frames were right there
    from runway_nb.export import film
    from runway_nb.store import Store

    drawn = rn.Clip(np.random.default_rng(0).integers(0, 256, (6, 32, 32, 3), dtype=np.uint8), fps=8)
    store = Store(tmp_path / "project")
    store.save_sequence("cut", rn.Sequence([drawn]))
    monkeypatch.setattr(film, "_replay", lambda *a: pytest.fail("re-rendered a stored clip"))
    for extra in ([], ["--store", str(tmp_path / "project")]):
        out = tmp_path / f"cut{len(extra)}.gif"
        assert main(["render", str(store.sequences_dir / "cut.json"), "-o", str(out), *extra]) == 0
        assert len(read_video(out)[0]) == 6
    assert main(["render", str(store.sequences_dir / "cut.json"), "-o", str(tmp_path / "x.gif"),
                 "--store", str(tmp_path)]) == 2
    assert "store=" in capsys.readouterr().err


def test_a_clips_json_where_the_renders_json_goes_is_refused_before_rendering(tmp_path, monkeypatch, capsys):
    from runway_nb.export import film

    clip = rn.Clip(np.zeros((4, 32, 32, 3), np.uint8), fps=8, shot=rn.Shot("a red ball", seed=1))
    rn.Sequence([clip]).save(tmp_path / "film.json")
    clip.save(tmp_path / "sq.mp4")                                   # sq.json: a clip's JSON
    monkeypatch.setattr(film, "_replay", lambda *a: pytest.fail("re-rendered before refusing"))
    assert main(["render", str(tmp_path / "film.json"), "-o", str(tmp_path / "sq.gif")]) == 2
    err = capsys.readouterr().err
    assert "output=" in err and "a clip's JSON" in err
