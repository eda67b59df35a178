"""`runway-nb render film.json -o film.mp4` re-makes a film from its shots."""

from __future__ import annotations

import numpy as np

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


def test_render_of_a_broken_film_is_one_clear_line(tmp_path, capsys):
    bad = tmp_path / "film.json"
    bad.write_text("{not json")
    assert main(["render", str(bad), "-o", str(tmp_path / "x.mp4")]) == 2
    err = capsys.readouterr().err
    assert "film JSON" in err and "Traceback" not in err
    assert not (tmp_path / "x.mp4").exists()
