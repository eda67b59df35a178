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


# ---- conformed clips: the timeline plays what the film renders, frame for frame --------
def plain(seed, frames, fps, size=16):
    rng = np.random.default_rng(seed)
    return Clip(rng.integers(0, 256, (frames, size, size, 3), dtype=np.uint8), fps=fps)


def timeline_of(seq):
    from runway_nb.export.otio import build_timeline

    timeline = build_timeline(seq, {i: f"media_{i}.mp4" for i in range(len(seq))}, absolute=False)
    return otio.adapters.read_from_string(otio.adapters.write_to_string(timeline))   # as saved


def conformed(case):
    base = plain(0, 24, 24)
    if case == "interpolated 16 → 24":           # an 8 fps clip interpolated ×2: 15 frames at 16
        from runway_nb.ops.interpolate import interpolate

        return Sequence([base, interpolate(plain(1, 8, 8), 2, "blend"), base], conform=True)
    if case == "7 → 24, crossfades":
        return Sequence([base, plain(2, 7, 7), base], conform=True, transition="crossfade",
                        transition_seconds=0.125)
    if case == "13 at 16 → 24, trimmed":         # 19.5 film frames, rounded up to 20
        seq = Sequence([base, plain(3, 16, 16), base], conform=True)
        return seq.trim(1, start=2 / 16, end=15 / 16)
    if case == "10 → 24 → 8, crossfade":          # conformed down as well as up
        return Sequence([plain(4, 8, 8), plain(5, 10, 10), plain(6, 24, 24)], conform=True,
                        transition="crossfade", transition_seconds=0.25)
    raise AssertionError(case)


CASES = ["interpolated 16 → 24", "7 → 24, crossfades", "13 at 16 → 24, trimmed",
         "10 → 24 → 8, crossfade"]


@pytest.mark.parametrize("case", CASES)
def test_conformed_clips_last_in_the_timeline_what_they_last_in_the_film(case):
    from runway_nb.export.otio import _dissolve
    from runway_nb.export.render import entry_frames

    seq = conformed(case)
    width, height, fps = seq.format()
    timeline = timeline_of(seq)
    clips = list(timeline.find_clips())
    rendered = [len(entry_frames(e, width, height, fps)) for e in seq.entries]
    cuts = [_dissolve(None if i == 0 else seq._into(i), fps) for i in range(len(seq))] + [(0, 0)]
    # each clip: the frames the film renders for its entry, less the dissolve handles either side
    assert [c.source_range.duration.rescaled_to(fps).value for c in clips] == [
        n - cuts[i][0] - cuts[i + 1][1] for i, n in enumerate(rendered)]
    assert timeline.duration().rescaled_to(fps).value == len(seq.frames())


@pytest.mark.parametrize("case", ["interpolated 16 → 24", "13 at 16 → 24, trimmed"])
def test_each_timeline_frame_shows_the_clip_frame_the_film_shows(case):
    """Cuts only: at timeline frame j an editor plays the clip whose range holds j, at its
    source time there; the clip's frame at that time is the one the film has at frame j."""
    seq = conformed(case)
    fps = seq.format()[2]
    film_frames = seq.frames()
    timeline = timeline_of(seq)
    assert timeline.duration().rescaled_to(fps).value == len(film_frames)
    placed = [(e, c, c.range_in_parent()) for e, c in zip(seq.entries, timeline.find_clips())]
    for j in range(len(film_frames)):
        t = otio.opentime.RationalTime(j, fps)
        ((entry, clip, where),) = [p for p in placed if p[2].contains(t)]
        media = clip.source_range.start_time + (t - where.start_time)
        own = min(int(media.rescaled_to(entry.clip.fps).value + 1e-9), len(entry.clip.frames) - 1)
        assert np.array_equal(film_frames[j], entry.clip.frames[own]), (j, own)
