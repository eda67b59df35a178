"""Video files read back as written: frame count, size, rate and colours; writable frames;
nothing left open or on disk after a read; a file that is not a video is refused by name.
A clip's JSON beside its video is never written over a film's, a user's or another clip's
record, and one that does not describe the video is not applied to it."""

import contextlib
import errno
import gc
import json
import os
import warnings

import numpy as np
import pytest

from runway_nb import InvalidInput
from runway_nb.export.video import read_video, write_video


def gradient(frames=8, height=32, width=48):
    """Smooth colours that move a pixel a frame: what lossy codecs keep well."""
    t, y, x = np.meshgrid(np.arange(frames), np.arange(height), np.arange(width), indexing="ij")
    return np.stack([(x + t) * 255 // (width + frames), y * 255 // height, np.full_like(x, 128)],
                    -1).astype(np.uint8)


@pytest.mark.parametrize("suffix, fps", [(".mp4", 8.0), (".mp4", 29.97), (".webm", 12.5)])
def test_a_written_video_reads_back_with_its_frames_and_rate(tmp_path, suffix, fps):
    frames = gradient()
    frames_back, fps_back = read_video(write_video(tmp_path / f"clip{suffix}", frames, fps))
    assert frames_back.shape == frames.shape and frames_back.dtype == np.uint8
    assert fps_back == pytest.approx(fps, rel=1e-3)
    assert np.abs(frames_back.astype(int) - frames).mean() < 3      # lossy, but the same picture


def held(runs=(3, 15, 1, 30, 2, 1), size=8):
    """Solid frames, each colour held for `runs[i]` frames: a GIF writer merges each run into
    one GIF frame with a longer delay."""
    colours = np.random.default_rng(0).integers(0, 256, (len(runs), 3)).astype(np.uint8)
    return np.repeat(colours, runs, axis=0)[:, None, None, :].repeat(size, 1).repeat(size, 2)


def gif_delays_of(path) -> list:
    from PIL import Image, ImageSequence

    with Image.open(path) as im:
        return [f.info["duration"] for f in ImageSequence.Iterator(im)]


@pytest.mark.parametrize("fps", [8, 12, 15, 16, 24, 25, 30])
def test_a_gif_lasts_as_long_as_the_clip_and_reads_back_at_its_rate(tmp_path, fps):
    """GIF delays are whole hundredths of a second: one delay of round(1000/fps) ms made 8 fps
    play at 8.33 (a 3-s film in 2.88 s) and read back as 8.333 fps. Held frames count right."""
    frames = held()
    path = write_video(tmp_path / "clip.gif", frames, fps)
    assert sum(gif_delays_of(path)) == pytest.approx(len(frames) * 1000 / fps, abs=5)
    back, fps_back = read_video(path)
    assert fps_back == fps and np.array_equal(back, frames)


def test_a_three_second_gif_film_lasts_three_seconds(tmp_path):
    from runway_nb import Sequence

    film = Sequence([_clip(1, frames=12), _clip(2, frames=12)]).save(tmp_path / "film.gif")
    assert sum(gif_delays_of(film)) == 3000                        # it was 2.88 s


def test_a_gif_written_with_one_rounded_delay_reads_at_the_common_rate(tmp_path):
    """GIFs written before (every frame 120 ms for 8 fps) read at 8 fps, held frames counted
    right, so such a GIF loaded without its JSON joins a sequence beside an 8 fps clip."""
    from PIL import Image

    from runway_nb import Clip, Sequence

    frames = held(size=32)
    images = [Image.fromarray(f) for f in frames]
    images[0].save(tmp_path / "old.gif", format="GIF", save_all=True, append_images=images[1:],
                   duration=round(1000 / 8), loop=0)
    assert min(gif_delays_of(tmp_path / "old.gif")) == 120
    clip = Clip.load(tmp_path / "old.gif")
    assert clip.fps == 8 and np.array_equal(clip.frames, frames)
    assert len(Sequence([clip, _clip(1)]).frames()) == len(frames) + 8


# Rates a clip may have: the engines' 8, 16 and 24 fps, the rates interpolation makes of them
# (8 × 4, 5, 6 = 32, 40, 48; 16 × 2; 24 × 2), the usual video rates, and a half one.
RATES = (5, 7, 8, 10, 12, 12.5, 15, 16, 20, 24, 25, 30, 32, 40, 48, 50, 60)


def noise(frames, size=16, seed=0):
    """Random frames, every one different; 16 × 16 has at most 256 colours, so a GIF keeps them."""
    return np.random.default_rng(seed).integers(0, 256, (frames, size, size, 3), dtype=np.uint8)


@pytest.mark.parametrize("fps", RATES)
def test_gif_timing_reads_this_packages_delays_at_their_exact_rate(fps):
    """Without a JSON: 40 fps read as 60, 48 as 50, 32 as 30 (the common rate nearest); the
    delays gif_delays writes for n frames at fps give back n frames at fps."""
    from runway_nb.export.video import gif_delays, gif_timing

    for n in (9, 61, 240):
        assert gif_timing(gif_delays(n, fps)) == ([1] * n, fps)


@pytest.fixture(params=["labelled", "unlabelled"])
def gif_label(request, monkeypatch):
    """GIFs this package writes say in their comment block what clip they hold; "unlabelled"
    writes them without it, as GIFs from elsewhere (or from before) come: read by their delays."""
    if request.param == "unlabelled":
        from runway_nb.export import video

        monkeypatch.setattr(video, "_gif_comment", lambda n, fps: b"")
    return request.param


@pytest.mark.parametrize("fps", RATES + (23.976, 29.97, 36))
def test_a_gif_of_different_frames_reads_back_at_its_rate_without_its_json(tmp_path, fps, gif_label):
    if gif_label == "unlabelled" and fps == 23.976:
        pytest.skip("its delays fit 23.975 fps too, which has fewer decimals")
    frames = noise(round(2 * fps) + 3)
    back, fps_back = read_video(write_video(tmp_path / "clip.gif", frames, fps))
    assert fps_back == fps and np.array_equal(back, frames)


@pytest.mark.parametrize("fps", RATES)
def test_a_gif_with_held_frames_reads_back_at_its_rate_without_its_json(tmp_path, fps, gif_label):
    """Held frames are merged into longer GIF frames; read alone, each is counted by its delay
    (its label gives the count and rate). Unlabelled, not 48 fps: these runs at 48 fps have
    exactly the delays of 3, 16, 1, 31, 2, 1 frames at 50 fps, and the delays alone cannot
    tell them apart; with its label, or its JSON (below), it reads right."""
    if gif_label == "unlabelled" and fps == 48:
        pytest.skip("the same delays as 50 fps")
    frames = held()
    back, fps_back = read_video(write_video(tmp_path / "clip.gif", frames, fps))
    assert fps_back == fps and np.array_equal(back, frames)


@pytest.mark.parametrize("fps, delay", [(8, 120), (14, 70), (10, 100), (30, 30), (60, 10)])
def test_a_gif_written_before_with_one_rounded_delay_reads_at_its_rate(fps, delay):
    """Before gif_delays every frame had round(1000 / fps) ms, Pillow keeping whole hundredths:
    8 fps 120 ms each (8, not the 8.33 those delays are exactly), 14 fps 70 ms (it read as 15)."""
    from runway_nb.export.video import gif_timing

    assert gif_timing([delay] * 20) == ([1] * 20, fps)


def test_reading_a_video_leaves_no_file_open(tmp_path):
    path = write_video(tmp_path / "clip.mp4", gradient(), 8.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        for _ in range(3):
            read_video(path)
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_frames_read_back_are_the_callers_to_edit_and_leave_no_scratch_file(tmp_path, monkeypatch):
    path = write_video(tmp_path / "clip.mp4", gradient(), 8.0)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(scratch))
    frames, _ = read_video(path)
    frames[0] = 0                                                   # a writable array of its own
    assert (frames[0] == 0).all() and frames[1].any()
    assert list(scratch.iterdir()) == []                            # the raw frames' file is gone


def test_a_file_that_is_not_a_video_is_refused_by_name(tmp_path):
    bad = tmp_path / "notes.mp4"
    bad.write_bytes(b"not a video at all")
    with pytest.raises(InvalidInput, match="notes.mp4.*video file ffmpeg can read"):
        read_video(bad)
    with pytest.raises(InvalidInput, match="existing video file"):
        read_video(tmp_path / "missing.mp4")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs Linux's /dev/full")
def test_a_full_scratch_disk_is_named_as_such_not_blamed_on_the_video(tmp_path, monkeypatch):
    """The raw frames go to a temporary file: a full disk there is the disk's fault, and
    the message says where and what to do, not that the video cannot be read."""
    path = write_video(tmp_path / "clip.mp4", gradient(), 8.0)
    scratch = tmp_path / "scratch"

    @contextlib.contextmanager
    def full_folder():                  # every byte written to frames.rgb fails: ENOSPC
        scratch.mkdir()
        (scratch / "frames.rgb").symlink_to("/dev/full")
        yield str(scratch)

    monkeypatch.setattr("tempfile.TemporaryDirectory", full_folder)
    with pytest.raises(OSError, match="No space left in the temporary folder.*TMPDIR") as caught:
        read_video(path)
    assert caught.value.errno == errno.ENOSPC and not isinstance(caught.value, InvalidInput)


@pytest.mark.parametrize("suffix", [".mp4", ".gif"])
def test_videos_are_readable_by_others_as_the_umask_allows(tmp_path, suffix):
    """A video renamed into place from a temp file keeps the temp file's mode: it must be the
    mode any new file gets (0o644 under umask 022), not owner-only, or a shared JupyterHub
    folder or a web server cannot read what the user made."""
    import stat

    from runway_nb import Clip, Store

    clip = Clip(np.zeros((4, 16, 16, 3), np.uint8), fps=8)
    old = os.umask(0o022)
    try:
        made = [write_video(tmp_path / f"a{suffix}", clip.frames, 8), clip.save(tmp_path / f"b{suffix}"),
                tmp_path / f"b{suffix}".replace(suffix, ".json")]
        entry = Store(tmp_path / "project").add(clip)
        made += [entry.video, entry.thumbnail]
    finally:
        os.umask(old)
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in made} == {p.name: "0o644" for p in made}


# ---- a clip's JSON beside its video ---------------------------------------------------------
def _clip(seed, frames=8, size=32, prompt=None):
    from runway_nb import Clip, Shot

    rng = np.random.default_rng(seed)
    return Clip(rng.integers(0, 256, (frames, size, size, 3), dtype=np.uint8), fps=8,
                shot=Shot(prompt or f"noise {seed}", seed=seed))


def _files(folder) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_clip_save_never_replaces_a_films_json_a_file_of_yours_or_another_clips_record(tmp_path):
    """Saving a.mp4 writes a.json: over a film's JSON it lost the film's edit; over the
    record of another clip whose video is beside it, that video then loaded as this clip."""
    from runway_nb import Clip, Sequence

    a, b = _clip(1), _clip(2)
    Sequence([a, b]).save(tmp_path / "film.json")
    a.save(tmp_path / "shot1.mp4")
    (tmp_path / "notes.json").write_text('{"mine": true}')
    given = _files(tmp_path)
    for clip, name, what in [(a, "film.mp4", "a film's JSON"), (b, "shot1.gif", f"another clip ({a.id}), whose video shot1.mp4"),
                             (a, "notes.webm", "not a runway_nb clip's JSON")]:
        with pytest.raises(InvalidInput) as err:
            clip.save(tmp_path / name)
        assert err.value.field == "path" and err.value.value == str(tmp_path / name)
        assert what in str(err.value) and "another name" in str(err.value)
    assert _files(tmp_path) == given                                  # nothing written, nothing lost
    again = Clip.load(tmp_path / "shot1.mp4")
    assert again.id == a.id and again.shot == a.shot


def test_clip_save_may_write_the_same_clip_again_or_replace_a_name_whole(tmp_path):
    from runway_nb import Clip

    a, b = _clip(1), _clip(2)
    a.save(tmp_path / "shot.mp4")
    a.save(tmp_path / "shot.gif")                           # the same clip as a GIF: its JSON again
    Clip.load(tmp_path / "shot.mp4").save(tmp_path / "shot.webm")          # and once reloaded
    with pytest.raises(InvalidInput, match="shot.webm and shot.gif"):
        b.save(tmp_path / "shot.mp4")                       # would leave a's GIF and WebM labelled b
    b.save(tmp_path / "take.mp4")
    a.save(tmp_path / "take.mp4")          # re-running a cell with a new clip: video and JSON both replaced
    assert Clip.load(tmp_path / "take.mp4").shot == a.shot


def test_a_clips_json_that_does_not_describe_its_video_is_not_applied(tmp_path):
    from runway_nb import Clip

    a, short = _clip(1), _clip(2, frames=4, size=16)
    a.save(tmp_path / "a.mp4")
    short.save(tmp_path / "b.mp4")
    (tmp_path / "a.json").write_bytes((tmp_path / "b.json").read_bytes())   # how the old bug left it
    with pytest.warns(UserWarning, match=r"a.json does not describe a.mp4: it records 4 frames, the video "
                                         r"holds 8; it records 16×16 pixels, the video is 32×32"):
        loaded = Clip.load(tmp_path / "a.mp4")
    assert len(loaded) == 8 and loaded.fps == 8                     # every frame of the video, at its rate
    assert loaded.shot is None and loaded.parent_id is None and loaded.id != short.id
    assert json.loads((tmp_path / "a.json").read_text())["id"] == short.id    # the JSON is left as it is


def test_an_odd_sized_clip_reloads_at_its_own_size_with_its_shot(tmp_path):
    """H.264 needs even sizes: write_video pads by one pixel, Clip.load crops it back."""
    from runway_nb import Clip, Shot

    clip = Clip(gradient(8, 17, 33), fps=8, shot=Shot("a gradient", seed=1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = Clip.load(clip.save(tmp_path / "odd.mp4"))
    assert loaded.frames.shape == (8, 17, 33, 3) and loaded.shot == clip.shot and loaded.id == clip.id


# ---- a GIF beside its JSON ------------------------------------------------------------------
def _noise_clip(frames, fps, seed=0):
    from runway_nb import Clip, Shot

    return Clip(frames, fps, shot=Shot(f"a clip at {fps} fps", seed=seed))


def _reload(clip, path):
    """Save, then load with every warning an error (a JSON not applied warns)."""
    from runway_nb import Clip

    clip.save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return Clip.load(path)


def _same(loaded, clip):
    assert (len(loaded), loaded.fps) == (len(clip), clip.fps)
    assert np.array_equal(loaded.frames, clip.frames)
    assert loaded.shot == clip.shot and loaded.id == clip.id


@pytest.mark.parametrize("fps", RATES + (64, 96, 128))
def test_a_gif_clip_reloads_with_its_frames_rate_and_shot(tmp_path, fps):
    """40 fps came back as 114 frames at 60 fps, 48 as 99 at 50, 32 as 61 at 30, each
    without its shot (the JSON then looked like another clip's). Above 100 fps a GIF plays
    at 100 (10 ms a frame, its shortest delay): the JSON still knows the clip."""
    clip = _noise_clip(noise(round(1.9 * fps) + 1, seed=int(fps)), fps)
    _same(_reload(clip, tmp_path / "clip.gif"), clip)


@pytest.mark.parametrize("fps", RATES)
def test_a_gif_clip_with_held_frames_reloads_with_every_frame_and_its_shot(tmp_path, fps):
    clip = _noise_clip(held(), fps)
    _same(_reload(clip, tmp_path / "held.gif"), clip)


@pytest.mark.parametrize("fps, frames", [(8, 8), (8, 1), (24, 49), (12.5, 10), (40, 7), (48, 97)])
def test_a_static_gif_clip_reloads_with_its_frame_count_and_shot(tmp_path, fps, frames):
    """Every frame the same: the GIF holds one frame as long as the clip. It reloaded as 1
    frame at 1 fps, without its shot."""
    clip = _noise_clip(np.repeat(noise(1), frames, axis=0), fps)
    _same(_reload(clip, tmp_path / "still.gif"), clip)


@pytest.mark.parametrize("fps", [40, 36, 14, 8, 24, 12.5])
def test_a_gif_written_before_reloads_beside_its_json_at_the_clips_rate(tmp_path, fps):
    """A GIF written with one delay of round(1000 / fps) ms (40 fps: 20 ms, which is 50 fps)
    and its JSON: the clip's frames, rate and shot, held frames counted."""
    from PIL import Image

    from runway_nb import Clip

    for name, frames in (("noise", noise(25, seed=3)), ("held", held())):
        clip = _noise_clip(frames, fps)
        images = [Image.fromarray(f) for f in frames]
        images[0].save(tmp_path / f"{name}.gif", format="GIF", save_all=True,
                       append_images=images[1:], duration=round(1000 / fps), loop=0)
        (tmp_path / f"{name}.json").write_text(json.dumps(clip.sidecar()))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            _same(Clip.load(tmp_path / f"{name}.gif"), clip)


def test_a_gif_beside_another_clips_json_of_as_many_frames_is_still_not_labelled_by_it(tmp_path):
    """The JSON's rate re-times a GIF only when the GIF's delays are that clip's: 8 frames at
    8 fps beside the JSON of 8 frames at 24 fps is read at 8 and warned about."""
    from runway_nb import Clip

    a, b = _noise_clip(noise(8, seed=1), 8), _noise_clip(noise(8, seed=2), 24)
    a.save(tmp_path / "a.gif")
    (tmp_path / "a.json").write_text(json.dumps(b.sidecar()))
    with pytest.warns(UserWarning, match="a.json does not describe a.gif: it records 24 fps, the video plays at 8"):
        loaded = Clip.load(tmp_path / "a.gif")
    assert (len(loaded), loaded.fps, loaded.shot) == (8, 8, None)
