"""OTIO export: the timeline opens again with otio's own reader, with one clip per entry,
the film's duration, dissolves where the film crossfades, and media files that exist."""

import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import numpy as np
import pytest

from runway_nb import MissingDependency, Shot
from runway_nb.clip import Clip
from runway_nb.export.film import load_film
from runway_nb.sequence import Sequence
from runway_nb.store import Store

otio = pytest.importorskip("opentimelineio")


def noise(seed, frames=8, size=32, fps=8):
    rng = np.random.default_rng(seed)
    return Clip(rng.integers(0, 256, (frames, size, size, 3), dtype=np.uint8), fps=fps,
                shot=Shot(f"clip {seed}", seed=seed))


def film():
    seq = Sequence([noise(1), noise(2, frames=12)], transition="crossfade", transition_seconds=0.5)
    seq.title("Fin", seconds=1, transition="fade_to_black", transition_seconds=0.5)
    seq.append(noise(3), transition="cut")
    seq.trim(1, start=0.25)                                      # clip 2 plays frames 2:12
    return seq


def local(url):
    return Path(unquote(urlparse(url).path)) if url.startswith("file:") else Path(url)


def test_timeline_round_trips_with_clips_durations_and_transitions(tmp_path):
    seq = film()
    path = seq.save(tmp_path / "cut.otio")
    timeline = otio.adapters.read_from_file(str(path))
    (track,) = timeline.video_tracks()
    clips = list(track.find_clips())
    transitions = [t for t in track if isinstance(t, otio.schema.Transition)]
    assert len(clips) == len(seq) == 4
    assert timeline.duration() == otio.opentime.RationalTime(seq.frame_count, 8)  # 8+10-4+8+8
    # a crossfade of 4 frames: A ends 2 early, B starts 2 late, the dissolve spans 2 + 2
    assert [t.transition_type for t in transitions] == [otio.schema.TransitionTypes.SMPTE_Dissolve,
                                                        otio.schema.TransitionTypes.Custom]
    assert (transitions[0].in_offset.value, transitions[0].out_offset.value) == (2, 2)
    assert [(c.source_range.start_time.value, c.source_range.duration.value) for c in clips] == [
        (0, 6), (4, 8), (0, 8), (0, 8)]
    for c in clips:                                                     # media that opens
        assert local(c.media_reference.target_url).is_file()
    assert clips[1].metadata["runway_nb"]["prompt"] == "clip 2"


def test_sidecar_film_reloads_from_the_media_beside_the_timeline(tmp_path):
    seq = film()
    seq.save(tmp_path / "cut.otio")
    again = load_film(tmp_path / "cut.json").to_sequence()          # frames from the mp4 files
    assert [c.id for c in again.clips] == [c.id for c in seq.clips]
    assert again.frames().shape == seq.frames().shape


def test_timeline_can_reference_the_store_instead(tmp_path):
    store = Store(tmp_path / "proj")
    seq = Sequence([noise(1), noise(2)])
    seq.save(tmp_path / "cut.otio", store=store)
    clips = list(otio.adapters.read_from_file(str(tmp_path / "cut.otio")).find_clips())
    assert [local(c.media_reference.target_url) for c in clips] == [
        (store.clips_dir / f"{c.id}.mp4").resolve() for c in seq.clips]
    assert not (tmp_path / "cut_media").exists()


def test_missing_opentimelineio_names_the_install_command(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "opentimelineio", None)
    with pytest.raises(MissingDependency, match="pip install opentimelineio"):
        Sequence([noise(1)]).save(tmp_path / "cut.otio")
