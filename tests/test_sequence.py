"""Sequence: transition math, duration rules, edits that never touch the clips, refusals
that leave the sequence as it was, and exports that read back."""

import json
import subprocess
import wave

import numpy as np
import pytest

from runway_nb import InvalidInput, Shot
from runway_nb.clip import Clip
from runway_nb.export.film import load_film
from runway_nb.export.video import read_video
from runway_nb.sequence import Sequence


def solid(value, frames=8, size=32, fps=8, prompt="a red ball"):
    return Clip(np.full((frames, size, size, 3), value, np.uint8), fps=fps, shot=Shot(prompt, seed=1))


def noise(seed, frames=8, size=32, fps=8):
    rng = np.random.default_rng(seed)
    return Clip(rng.integers(0, 256, (frames, size, size, 3), dtype=np.uint8), fps=fps,
                shot=Shot(f"noise {seed}", seed=seed))


def ramp(frames=8, size=32, fps=8):
    """Frame k is filled with 10·k: shows which source frame ended up where."""
    arr = np.repeat((np.arange(frames, dtype=np.uint8) * 10)[:, None, None, None], size, 1)
    return Clip(np.broadcast_to(arr, (frames, size, size, 3)).copy(), fps=fps, shot=Shot("ramp", seed=2))


def state(seq):
    """What an edit may change (entries are immutable, so identity tells a change)."""
    return ([id(e) for e in seq.entries], seq.transition, seq.soundtrack)


# ---- transition math --------------------------------------------------------------------
def test_cut_concatenates_and_durations_add():
    a, b = noise(1), noise(2, frames=5)
    seq = Sequence([a, b])
    out = seq.frames()
    assert out.shape == (13, 32, 32, 3) and out.dtype == np.uint8
    assert np.array_equal(out[:8], a.frames) and np.array_equal(out[8:], b.frames)
    assert seq.frame_count == 13 and seq.duration == pytest.approx(13 / 8)


def test_crossfade_blends_the_overlap_and_shortens_the_film():
    a, b = noise(1), noise(2)
    seq = Sequence([a, b], transition="crossfade", transition_seconds=3 / 8)   # n = 3 frames
    out = seq.frames()
    assert len(out) == 8 + 8 - 3 == seq.frame_count
    assert np.array_equal(out[:5], a.frames[:5]) and np.array_equal(out[8:], b.frames[3:])
    mid = (a.frames[6].astype(int) + b.frames[1].astype(int)) / 2       # k = 1 of 3: α = ½
    assert np.abs(out[6].astype(int) - mid).max() <= 1
    # α grows through the overlap: a solid 0 → 200 crossfade brightens monotonically
    fade = Sequence([solid(0), solid(200)], transition="crossfade", transition_seconds=0.5).frames()
    levels = fade[:, 0, 0, 0].astype(int)
    assert list(levels[3:9]) == sorted(levels[3:9]) and levels[4] == 40 and levels[7] == 160


def test_fade_to_black_dips_without_losing_frames():
    seq = Sequence([solid(200), solid(100)], transition="fade_to_black", transition_seconds=0.5)
    levels = seq.frames()[:, 0, 0, 0].astype(int)
    assert len(levels) == 16 == seq.frame_count                    # a dip overlaps nothing
    # n = 4: A's last 2 frames ramp 200 → 100 → 0, B's first 2 ramp 0 → 50 → 100
    assert list(levels[5:11]) == [200, 100, 0, 0, 50, 100]


def test_title_card_shows_text_on_a_solid_frame_and_joins_the_timing():
    seq = Sequence([solid(90)])
    seq.title("Act one", seconds=1.5, at=0, background=(0, 0, 64))
    out = seq.frames()
    assert len(out) == 12 + 8 and seq.frame_count == 20
    card = out[0]
    assert tuple(card[0, 0]) == (0, 0, 64)                       # the background colour
    assert (card.min(axis=2) > 150).sum() >= 10                      # white text was drawn
    assert np.array_equal(out[0], out[11]) and np.array_equal(out[12:], solid(90).frames)


def test_titles_alone_need_a_format_given_up_front():
    with pytest.raises(InvalidInput, match="size= and fps="):
        Sequence().title("Opening").frames()
    assert Sequence(size="48x32", fps=4).title("Opening", seconds=2).frames().shape == (8, 32, 48, 3)


def test_per_entry_transition_overrides_the_default():
    seq = Sequence([solid(0), solid(50), solid(100)], transition="crossfade", transition_seconds=0.25)
    seq.set_transition(2, "cut")
    assert seq.frame_count == 24 - 2 == len(seq.frames())
    seq.set_transition(2, None)                                    # back to the default
    assert seq.frame_count == 24 - 4


# ---- edits ------------------------------------------------------------------------------
def test_edits_leave_the_original_clips_untouched():
    a, b, c = ramp(), solid(7), solid(9)
    before = a.frames.copy()
    seq = Sequence([a])
    seq.append(b)
    seq += c
    assert len(seq) == 3 and seq.clips == (a, b, c)
    seq.trim(0, start=0.5, end=0.875)                               # frames 4:7 of the clip
    assert np.array_equal(seq.frames()[:3], a.frames[4:7])
    seq.trim(0, end=1.0)                                            # keeps the start
    assert (seq[0].start, seq[0].stop) == (4, 8)
    seq.move(0, 2)
    assert seq.clips == (b, c, a)
    removed = seq.remove(1)
    assert removed.clip is c and seq.clips == (b, a)
    assert np.array_equal(a.frames, before) and len(a.frames) == 8 and not a.frames.flags.writeable
    assert list(seq) == list(seq.entries) and seq[-1].clip is a


def test_a_clip_in_a_film_cannot_be_re_timed_or_relabelled_behind_its_back():
    """`a.fps = 16` after Sequence([a, b]) made the film 16 fps and re-timed b without
    conform=True, and left a's id naming frames at another rate than the store's."""
    a, b = ramp(), solid(7)
    seq = Sequence([a, b])
    film_format, a_id = seq.format(), a.id
    for name, value in (("fps", 16), ("shot", Shot("another take")), ("parent", b)):
        with pytest.raises(AttributeError, match=f"a Clip's {name} is fixed once it is made.*make a new clip"):
            setattr(a, name, value)
    assert (a.fps, a.shot.prompt, a.parent, a.id, seq.format()) == (8.0, "ramp", None, a_id, film_format)
    faster = Clip(a.frames, fps=16)                                 # what the message offers
    assert faster.fps == 16 and faster.id != a.id


@pytest.mark.parametrize("edit, field", [
    (lambda s: s.append(solid(0, size=64)), "sequence[2]"),
    (lambda s: s.append(solid(0, fps=12)), "sequence[2]"),
    (lambda s: s.append(solid(0), transition="wipe"), "transition"),
    (lambda s: s.append(solid(0), transition="crossfade", transition_seconds=-1), "transition_seconds"),
    (lambda s: s.append(solid(0, frames=2), transition="crossfade", transition_seconds=1),
     "sequence[2] transition"),
    (lambda s: s.append(np.zeros((8, 32, 32, 3), np.uint8)), "sequence[2]"),
    (lambda s: s.title("   "), "text"),
    (lambda s: s.title("Fin", seconds=0), "seconds"),
    (lambda s: s.trim(0, start=0.9, end=0.5), "sequence[0] trim"),
    (lambda s: s.trim(0, end=5), "sequence[0] trim"),
    (lambda s: s.move(0, 7), "j"),
    (lambda s: s.remove(2), "index"),
    (lambda s: s.set_transition(1, "crossfade", 2.0), "sequence[1] transition"),
    (lambda s: setattr(s, "soundtrack", "missing.wav"), "soundtrack"),
    (lambda s: setattr(s, "soundtrack", __file__), "soundtrack"),
])
def test_bad_edits_are_refused_by_name_and_change_nothing(edit, field):
    seq = Sequence([solid(0), solid(1)], transition="crossfade", transition_seconds=0.25)
    before = state(seq)
    with pytest.raises(InvalidInput) as err:
        edit(seq)
    assert err.value.field == field
    assert state(seq) == before


def test_size_mismatch_message_names_the_clip_and_both_sizes():
    with pytest.raises(InvalidInput, match=r"sequence\[1\].*64x64 at 8 fps.*32x32 at 8 fps.*conform=True"):
        Sequence([solid(0), solid(0, size=64)])


def test_conform_resizes_and_retimes_to_the_first_clip():
    big, fast = solid(120, size=64), solid(60, fps=16, frames=16)
    seq = Sequence([solid(0), big, fast], conform=True)
    out = seq.frames()
    assert out.shape == (8 + 8 + 8, 32, 32, 3)                    # 16 frames at 16 fps = 8 at 8
    assert (out[8:16] == 120).all() and (out[16:] == 60).all()


def test_empty_sequence_refuses_to_render_or_save(tmp_path):
    with pytest.raises(InvalidInput, match="at least one clip"):
        Sequence().frames()
    with pytest.raises(InvalidInput):
        Sequence().save(tmp_path / "x.mp4")


# ---- export -------------------------------------------------------------------------------
def test_mp4_export_reads_back_with_every_frame_and_provenance(tmp_path):
    seq = Sequence([noise(1), noise(2)], transition="crossfade", transition_seconds=0.25)
    seq.title("The end", seconds=0.5, transition="cut")
    out = seq.save(tmp_path / "film.mp4")
    frames = read_video(out)[0]
    assert len(frames) == seq.frame_count == 8 + 8 - 2 + 4
    assert frames.shape[1:] == (32, 32, 3)
    film = json.loads((tmp_path / "film.json").read_text())                  # the sidecar
    assert [e["type"] for e in film["entries"]] == ["clip", "clip", "title"]
    assert film["clips"][seq.clips[0].id]["shot"]["prompt"] == "noise 1"
    probe = _probe(out)
    assert "runway_nb" in probe.stderr and "film.json" in probe.stderr       # container tags


@pytest.mark.parametrize("suffix", [".gif", ".webm"])
def test_gif_and_webm_exports_read_back(tmp_path, suffix):
    seq = Sequence([solid(30), solid(220)], transition="fade_to_black", transition_seconds=0.5)
    path = seq.save(tmp_path / f"film{suffix}")
    assert len(read_video(path)[0]) == 16 and (tmp_path / "film.json").exists()


def _tone(wav):
    with wave.open(str(wav), "wb") as w:                       # 3 s of a 440 Hz tone
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        t = np.arange(3 * 8000) / 8000
        w.writeframes((np.sin(2 * np.pi * 440 * t) * 8000).astype("<i2").tobytes())
    return wav


@pytest.mark.parametrize("suffix, video, audio", [(".mp4", "h264", "aac"), (".webm", "vp9", "vorbis")])
def test_soundtrack_is_muxed_into_the_video(tmp_path, suffix, video, audio):
    # before: a .webm with a soundtrack raised moviepy's "audio_codec … unknown"
    wav = _tone(tmp_path / "music.wav")
    seq = Sequence([solid(40), solid(80)], soundtrack=wav)
    out = seq.save(tmp_path / f"film{suffix}")
    probe = _probe(out)
    assert f"Audio: {audio}" in probe.stderr and f"Video: {video}" in probe.stderr and "yuv420p" in probe.stderr
    assert len(read_video(out)[0]) == 16
    assert json.loads((tmp_path / "film.json").read_text())["sequence"]["soundtrack"] == "music.wav"
    # written through a temp file like a silent export: nothing else is left in the folder
    assert sorted(p.name for p in tmp_path.iterdir()) == ["film.json", f"film{suffix}", "music.wav"]


def test_a_soundtrack_gone_or_unreadable_at_export_is_named_and_the_earlier_export_kept(tmp_path, monkeypatch):
    wav = _tone(tmp_path / "music.wav")
    seq = Sequence([solid(40), solid(80)])
    seq.save(tmp_path / "film.mp4")
    before = (tmp_path / "film.mp4").read_bytes()
    seq.soundtrack = wav
    wav.write_bytes(b"RIFF not really a wave")                 # replaced since it was set
    monkeypatch.setattr(seq, "frames", lambda: pytest.fail("rendered before the soundtrack was checked"))
    with pytest.raises(InvalidInput) as err:
        seq.save(tmp_path / "film.mp4")
    assert err.value.field == "soundtrack" and "ffmpeg can read" in str(err.value)
    wav.unlink()                                              # deleted since it was set
    with pytest.raises(InvalidInput, match="must be an existing file"):
        seq.save(tmp_path / "film.mp4")
    assert (tmp_path / "film.mp4").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["film.json", "film.mp4"]


def test_a_film_whose_soundtrack_is_gone_loads_silent_with_a_warning(tmp_path):
    wav = _tone(tmp_path / "music.wav")
    clips = [solid(40), solid(80)]
    Sequence(clips, soundtrack=wav).save(tmp_path / "film.json")
    wav.unlink()
    with pytest.warns(UserWarning, match="soundtrack .*music.wav is not there"):
        seq = load_film(tmp_path / "film.json").to_sequence(clips={c.id: c for c in clips})
    assert seq.soundtrack is None and len(seq.frames()) == 16


def test_a_gif_says_it_leaves_the_soundtrack_out(tmp_path):
    seq = Sequence([noise(3)], soundtrack=_tone(tmp_path / "music.wav"))
    with pytest.warns(UserWarning, match="has no sound"):
        seq.save(tmp_path / "film.gif")
    assert len(read_video(tmp_path / "film.gif")[0]) == 8


def test_a_film_export_never_replaces_a_clips_json_or_a_file_not_a_film(tmp_path):
    clip = noise(1)
    clip.save(tmp_path / "shot.mp4")                         # shot.json: the clip's recipe
    (tmp_path / "notes.json").write_text('{"mine": true}')
    given = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    for name, what in [("shot.gif", "a clip's JSON"), ("shot.json", "a clip's JSON"),
                       ("notes.mp4", "not a runway_nb film file")]:
        with pytest.raises(InvalidInput) as err:
            Sequence([clip, ramp()]).save(tmp_path / name)
        assert what in str(err.value) and "another name" in str(err.value)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == given
    assert Clip.load(tmp_path / "shot.mp4").shot == clip.shot


def test_saving_the_film_file_after_the_otio_keeps_its_links_to_the_videos(tmp_path):
    """Notebook 02's order: film.otio (which writes film.json linking film_media/), then
    film.json again; the film still reloads from those videos, without re-rendering."""
    pytest.importorskip("opentimelineio")
    a, b = noise(1), ramp()
    seq = Sequence([a, b])
    seq.save(tmp_path / "film.otio")
    seq.save(tmp_path / "film.json")
    files = {cid: rec.get("file") for cid, rec in json.loads((tmp_path / "film.json").read_text())["clips"].items()}
    assert files == {a.id: f"film_media/{a.id}.mp4", b.id: f"film_media/{b.id}.mp4"}
    again = load_film(tmp_path / "film.json").to_sequence()
    assert len(again.frames()) == len(seq.frames())


@pytest.mark.parametrize("name, match", [("film.avi", r"\.mp4, \.gif, \.webm, \.otio, \.json"),
                                         ("no/such/folder/film.mp4", "does not exist")])
def test_bad_export_paths_are_refused_before_writing(tmp_path, name, match):
    seq = Sequence([solid(0)])
    with pytest.raises(InvalidInput, match=match):
        seq.save(tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_film_json_round_trips_the_edit(tmp_path):
    a, b = noise(1), ramp()
    seq = Sequence([a, b], transition="crossfade", transition_seconds=0.25)
    seq.title("Fin", seconds=0.5, transition="fade_to_black", transition_seconds=0.5)
    seq.trim(1, start=0.25)
    seq.save(tmp_path / "film.json")
    again = load_film(tmp_path / "film.json").to_sequence(clips={a.id: a, b.id: b})
    assert np.array_equal(again.frames(), seq.frames())
    assert [(e.start, e.end, e.transition) for e in again] == [(e.start, e.end, e.transition) for e in seq]


@pytest.mark.parametrize("edit, field", [
    (lambda f: f["entries"][1].__setitem__("transition", {"kind": "wipe", "seconds": 1}), "entries[1].transition"),
    (lambda f: f["entries"][0].__setitem__("clip", "nope"), "entries[0].clip"),
    (lambda f: f["entries"][0].__setitem__("end", 99), "entries[0].start/end"),
    (lambda f: f["entries"][0].__setitem__("transtion", None), "entries[0].transtion"),
    (lambda f: f["entries"][2].__setitem__("text", ""), "entries[2].text"),
    (lambda f: next(iter(f["clips"].values()))["shot"].__setitem__("seed", -4), ".shot.seed"),
    (lambda f: next(iter(f["clips"].values())).__setitem__("file", "../../etc/passwd"), ".file"),
    (lambda f: f.__setitem__("runway_nb_film", 7), "runway_nb_film"),
])
def test_hand_edited_film_file_is_refused_naming_the_entry(tmp_path, edit, field):
    seq = Sequence([noise(1), noise(2)], transition="crossfade", transition_seconds=0.25)
    seq.title("Fin")
    path = seq.save(tmp_path / "film.json")
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))
    with pytest.raises(InvalidInput) as err:
        load_film(path)
    assert err.value.field.endswith(field)


def test_corrupt_film_file_is_refused(tmp_path):
    path = tmp_path / "film.json"
    path.write_text('{"runway_nb_film": 1, "entries": [')
    with pytest.raises(InvalidInput, match="valid JSON"):
        load_film(path)


def test_film_rerenders_from_shots_when_asked(tmp_path):
    a = noise(3)
    Sequence([a]).save(tmp_path / "film.json")
    film = load_film(tmp_path / "film.json")
    with pytest.raises(InvalidInput, match="render=True"):
        film.to_sequence()

    class FakeEngine:                       # renders every shot as a solid frame of its seed
        def render(self, shot, progress=True, **kw):
            return Clip(np.full((8, 32, 32, 3), shot.seed, np.uint8), fps=8, shot=shot)

    seq = film.to_sequence(render=True, load_engine=lambda name: FakeEngine())
    assert seq.clips[0].shot == a.shot and (seq.frames() == 3).all()


class SeedEngine:
    """Renders every shot as frames k·seed (k = frame number): deterministic, and which
    frame of the parent a slice took shows in its values."""
    def render(self, shot, progress=True, **kw):
        frames = np.arange(8, dtype=np.uint8)[:, None, None, None] * shot.seed
        return Clip(np.broadcast_to(frames, (8, 32, 32, 3)).copy(), fps=8, shot=shot)


def test_a_film_of_sliced_clips_rerenders_the_same_cuts(tmp_path):
    """clip[2:6] records its cut, so a film holding slices (of slices, reversed, one frame,
    of an upscale) re-makes every one of them from the Shot: same frames, same ids."""
    a = SeedEngine().render(Shot("ramp", seed=3))
    cuts = [a[2:6], a[::-2], a[5], a[1:7][1:3], a.upscale(2, "bicubic")[3:5].upscale(2, "bicubic")[1:]]
    assert cuts[0].provenance["sliced"] == {"start": 2, "stop": 6, "step": 1}
    assert cuts[0].provenance["sliced_from"] == a.id and cuts[0].parent is a
    seqs = [Sequence([c]) for c in cuts]
    for i, seq in enumerate(seqs):
        seq.save(tmp_path / f"film{i}.json")
        again = load_film(tmp_path / f"film{i}.json").to_sequence(render=True, load_engine=lambda _: SeedEngine())
        assert np.array_equal(again.frames(), seq.frames()) and again.clips[0].id == seq.clips[0].id
    assert list(seqs[1].clips[0].frames[:, 0, 0, 0]) == [21, 15, 9, 3]          # frames 7, 5, 3, 1


def test_a_slice_of_every_frame_is_the_clip_itself_and_a_film_of_it_re_renders(tmp_path):
    """a[0:len(a)] has a's frames, rate and shot, so a's id: recorded as its own child, a
    film's re-render asked for the clip to make the clip — RecursionError."""
    a = SeedEngine().render(Shot("ramp", seed=3))
    for whole in (a[:], a[0:8], a[::1]):
        assert whole.id == a.id and whole.parent is None and "sliced" not in whole.provenance
        path = Sequence([whole]).save(tmp_path / "film.json")
        again = load_film(path).to_sequence(render=True, load_engine=lambda _: SeedEngine())
        assert np.array_equal(again.frames(), a.frames) and again.clips[0].id == a.id


def test_a_film_whose_parents_loop_is_refused_by_name(tmp_path):
    """A hand-edited (or older) film file whose clip names itself as its parent."""
    a = SeedEngine().render(Shot("ramp", seed=3))
    path = Sequence([a[2:6]]).save(tmp_path / "film.json")
    data = json.loads(path.read_text())
    cut = a[2:6].id
    data["clips"][cut]["parent"] = cut
    data["clips"][cut]["provenance"]["sliced_from"] = cut
    path.write_text(json.dumps(data))
    with pytest.raises(InvalidInput, match="must not lead back to the clip itself") as err:
        load_film(path).to_sequence(render=True, load_engine=lambda _: SeedEngine())
    assert err.value.field == f"clips[{cut!r}].parent"


@pytest.mark.parametrize("cut", [{"start": 2, "stop": 6}, {"start": 9, "stop": 10, "step": 1},
                                 {"start": 2, "stop": 6, "step": 0}, {"start": 6, "stop": 2, "step": 1}])
def test_a_hand_edited_slice_in_a_film_is_refused_by_name(tmp_path, cut):
    a = SeedEngine().render(Shot("ramp", seed=3))
    path = Sequence([a[2:6]]).save(tmp_path / "film.json")
    data = json.loads(path.read_text())
    data["clips"][a[2:6].id]["provenance"]["sliced"] = cut
    path.write_text(json.dumps(data))
    with pytest.raises(InvalidInput) as err:
        load_film(path).to_sequence(render=True, load_engine=lambda _: SeedEngine())
    assert err.value.field == f"clips[{a[2:6].id!r}].provenance.sliced"


# ---- display ------------------------------------------------------------------------------
def test_displays_a_player_and_a_thumbnail_strip():
    seq = Sequence([solid(10), solid(200)], transition="crossfade", transition_seconds=0.25)
    bundle = seq._repr_mimebundle_()
    assert "<video" in bundle["text/html"] and bundle["image/png"].startswith(b"\x89PNG")
    assert bundle["text/plain"] == repr(seq) == (
        "Sequence(2 clips, 1.75 s at 8 fps, 32x32, transition='crossfade')")
    assert "empty" in Sequence()._repr_mimebundle_()["text/plain"]


def _probe(path) -> subprocess.CompletedProcess:
    """ffmpeg's description of a file (streams, codecs, metadata tags) on stderr."""
    import imageio_ffmpeg

    # ffmpeg exits 1 when given no output file: that is expected, hence check=False
    return subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
                          capture_output=True, text=True, check=False)


# ---- a film re-rendered from Shots: the clips it recorded, or a refusal by name -----------
def _rerendered(seq, tmp_path):
    seq.save(tmp_path / "film.json")
    return load_film(tmp_path / "film.json").to_sequence(render=True, load_engine=lambda _: SeedEngine())


def test_a_re_timed_clip_re_renders_re_timed(tmp_path):
    # before: rendered at its Shot's 8 fps, the film's 0.5-s clip came back as 1 s
    a = SeedEngine().render(Shot("ramp", seed=3))
    fast = Clip(a.frames, fps=16, shot=a.shot)
    again = _rerendered(Sequence([fast]), tmp_path)
    assert again.clips[0].fps == 16 and again.clips[0].id == fast.id
    assert np.array_equal(again.frames(), Sequence([fast]).frames())


def test_a_clip_whose_frames_its_shot_does_not_make_is_refused_by_name(tmp_path):
    a = SeedEngine().render(Shot("ramp", seed=3))
    cut = Clip(a.frames[:5], fps=8, shot=a.shot)               # frames dropped by hand, no slice recorded
    with pytest.raises(InvalidInput) as err:
        _rerendered(Sequence([cut]), tmp_path)
    assert err.value.field == f"clips[{cut.id!r}].frames"
    assert "makes (8 frames)" in str(err.value)


def test_an_image_to_video_clip_is_refused_not_re_made_from_text(tmp_path):
    # before: re-made as plain text→video, another clip with no word said
    a = SeedEngine().render(Shot("ramp", seed=3))
    from_picture = Clip(a.frames, fps=8, shot=a.shot, provenance={"image": {"name": "photo.png"}})
    with pytest.warns(UserWarning, match="cannot re-make"), pytest.raises(InvalidInput) as err:
        _rerendered(Sequence([from_picture]), tmp_path)               # (said when saved, too)
    assert err.value.field.endswith(".provenance.image") and "photo.png" in str(err.value)


def test_an_extension_whose_parent_the_film_lacks_is_refused_by_name(tmp_path):
    a = SeedEngine().render(Shot("ramp", seed=3))
    orphan = Clip(a.frames, fps=8, shot=a.shot.replace(parent="0123456789ab"))
    with pytest.raises(InvalidInput) as err:
        _rerendered(Sequence([orphan]), tmp_path)
    assert err.value.field == f"clips[{orphan.id!r}].parent" and "0123456789ab" in str(err.value)


def test_a_clip_given_alone_is_one_entry_not_one_per_frame():
    a = solid(40)
    assert len(Sequence(a)) == 1 and Sequence(a).clips == (a,)


@pytest.mark.parametrize("size", ["0x0", (-64, 64), (64, 0), "9000x64"])
def test_a_film_size_of_no_pixels_or_past_the_limit_is_refused_by_name(size):
    # before: '0x0' was taken, and its .mp4 export "succeeded" with an empty file
    with pytest.raises(InvalidInput) as err:
        Sequence(size=size, conform=True)
    assert err.value.field == "size" and "1 to 8192" in str(err.value)


def test_an_unknown_transition_setting_is_refused_by_name():
    seq = Sequence([solid(40), solid(80)])
    with pytest.raises(InvalidInput) as err:
        seq.transition = {"kind": "crossfade", "x": 1}
    assert err.value.field == "transition.x" and seq.transition.kind == "cut"


@pytest.mark.parametrize("name", ["film.mp4", "film.gif"])
def test_a_folder_where_the_export_goes_is_refused_before_rendering(tmp_path, name, monkeypatch):
    # before: IsADirectoryError, after the film was rendered and encoded
    (tmp_path / name).mkdir()
    seq = Sequence([solid(40)])
    monkeypatch.setattr(seq, "frames", lambda: pytest.fail("rendered before the path was checked"))
    with pytest.raises(InvalidInput, match="must not name a folder"):
        seq.save(tmp_path / name)
    with pytest.raises(InvalidInput, match="must not name a folder"):
        solid(40).save(tmp_path / name)


def test_a_file_where_an_otio_puts_its_media_folder_is_refused_by_name(tmp_path):
    (tmp_path / "film_media").write_text("mine")
    with pytest.raises(InvalidInput) as err:
        Sequence([solid(40)]).save(tmp_path / "film.otio")
    assert "film_media" in str(err.value) and (tmp_path / "film_media").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["film_media"]


def test_a_film_file_that_cannot_rebuild_a_clip_without_a_shot_says_so(tmp_path):
    drawn = Clip(np.full((4, 32, 32, 3), 9, np.uint8), fps=8)
    with pytest.warns(UserWarning, match=f"cannot re-make clip {drawn.id} from its Shot.*as .otio"):
        Sequence([drawn, solid(40)]).save(tmp_path / "film.json")
    from_picture = Clip(solid(40).frames, fps=8, shot=solid(40).shot, provenance={"image": {"name": "p.png"}})
    with pytest.warns(UserWarning, match=f"cannot re-make clip {from_picture.id}"):
        Sequence([from_picture]).save(tmp_path / "pic.json")
    Sequence([drawn]).save(tmp_path / "film.otio")               # its video is kept beside it
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Sequence([drawn]).save(tmp_path / "film.json")           # now linked: nothing to say
