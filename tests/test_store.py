"""Store: exact round trips, reload after a restart, crash safety, refused names, and a
clear error (with earlier entries intact) when the disk is full or the folder read-only."""

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from runway_nb import InvalidInput, Shot, StoreError
from runway_nb.clip import Clip
from runway_nb.sequence import Sequence
from runway_nb.store import Store

ROOT = Path(__file__).resolve().parents[1]


def noise(seed, frames=8, size=32, fps=8, parent=None):
    rng = np.random.default_rng(seed)
    return Clip(rng.integers(0, 256, (frames, size, size, 3), dtype=np.uint8), fps=fps,
                shot=Shot(f"clip {seed}", seed=seed), parent=parent)


def files(folder):
    return sorted(p.name for p in Path(folder).iterdir())


def test_add_writes_every_file_and_reloads_bit_exact(tmp_path):
    store = Store(tmp_path / "proj")
    clip = noise(1)
    entry = store.add(clip)
    cid = clip.id
    assert files(store.clips_dir) == sorted(f"{cid}{s}" for s in (".json", ".mp4", ".npz", ".png"))
    again = store.load_clip(cid)
    assert np.array_equal(again.frames, clip.frames)             # lossless, unlike the mp4
    assert again.id == cid and again.fps == 8 and again.shot == clip.shot
    assert entry.video.stat().st_size > 0 and entry.thumbnail.read_bytes().startswith(b"\x89PNG")
    assert store.add(clip).id == cid and len(store) == 1          # adding again is a no-op


def test_a_new_store_on_the_folder_sees_everything_newest_first(tmp_path):
    first = Store(tmp_path)
    a, b = noise(1), noise(2)
    child = noise(3, parent=a)
    for clip in (a, b, child):
        first.add(clip)
        time.sleep(0.01)
    restarted = Store(tmp_path)                                  # as after a kernel restart
    gallery = restarted.gallery()
    assert [e.id for e in gallery] == [child.id, b.id, a.id]
    assert gallery[0].parent == a.id and gallery[0].prompt == "clip 3"
    assert restarted.load_clip(child.id).parent in (a.id, getattr(restarted.load_clip(child.id).parent, "id", None))


def test_sequences_autosave_and_reload_after_a_restart(tmp_path):
    store = Store(tmp_path)
    a, b = noise(1), noise(2)
    seq = Sequence([a], transition="crossfade", transition_seconds=0.25).autosave(store, "my_film")
    seq += b
    seq.title("Fin", seconds=0.5)
    again = Store(tmp_path).load_sequence("my_film")
    assert np.array_equal(again.frames(), seq.frames()) and len(again) == 3
    assert Store(tmp_path).sequences() == ["my_film"]


def test_a_failed_autosave_undoes_the_edit(tmp_path, monkeypatch):
    store = Store(tmp_path)
    seq = Sequence([noise(1)]).autosave(store, "film")

    def full(*a, **k):
        raise StoreError("disk full")

    monkeypatch.setattr(store, "save_sequence", full)
    with pytest.raises(StoreError):
        seq += noise(2)
    assert len(seq) == 1


def test_two_autosaved_copies_of_one_sequence_never_overwrite_each_other(tmp_path):
    """Two notebooks (or Studios) on one project, each with the sequence loaded: the
    second to save used to write its copy over the first's edit (last writer wins)."""
    from runway_nb.errors import SequenceChanged

    a, b, c = noise(1), noise(2), noise(3)
    mine = Sequence([a]).autosave(Store(tmp_path), "film")
    store = Store(tmp_path)
    theirs = store.load_sequence("film").autosave(store, "film", version=store.sequence_version("film"))
    assert not mine.changed_on_disk() and not theirs.changed_on_disk()
    theirs += b                                                  # saved: their edit
    assert mine.changed_on_disk() and not theirs.changed_on_disk()
    with pytest.raises(SequenceChanged, match=r"another writer.*load_sequence\('film', autosave=True\)"):
        mine += c                                                # would overwrite theirs: refused
    assert [x.id for x in mine.clips] == [a.id]                  # undone here
    assert [x.id for x in Store(tmp_path).load_sequence("film").clips] == [a.id, b.id]
    again = store.load_sequence("film", autosave=True)          # the error's advice, followed
    again += c                                                   # reloaded, redone: both kept (and saved)
    assert [x.id for x in Store(tmp_path).load_sequence("film").clips] == [a.id, b.id, c.id]
    assert Store(tmp_path).sequences() == ["film"]               # the lock file is not a sequence
    fresh = Sequence().autosave(store, "new", version=None)      # not saved yet: made by its first edit
    assert store.sequences() == ["film"]
    fresh += a
    assert store.sequence_version("new") is not None and not fresh.changed_on_disk()


def test_an_autosave_checks_and_writes_under_the_sequence_lock(tmp_path, monkeypatch):
    import threading


    import fcntl

    store = Store(tmp_path)
    seq = Sequence([noise(1)]).autosave(store, "film")
    held, release, saved, waiting = (threading.Event() for _ in range(4))
    real_flock = fcntl.flock

    def flock(fd, operation):                 # the edit found the lock taken (another sleep,
        try:                                  # e.g. the video encoder's, says nothing)
            return real_flock(fd, operation)
        except BlockingIOError:
            waiting.set()
            raise

    monkeypatch.setattr(fcntl, "flock", flock)
    new = noise(2)

    def holder():
        with Store(tmp_path).sequence_lock("film"):          # another writer, mid-save
            held.set()
            release.wait(10)

    def edit():
        seq.append(new)
        saved.set()

    t = threading.Thread(target=holder)
    t.start()
    assert held.wait(10)
    e = threading.Thread(target=edit)
    e.start()
    assert waiting.wait(10) and not saved.is_set()            # waits for the lock…
    assert new.id in store                                    # …its clip encoded before it, not under it
    release.set()
    t.join(10)
    e.join(10)
    assert saved.is_set() and len(Store(tmp_path).load_sequence("film")) == 2


@pytest.mark.parametrize("name", ["../escape", "/tmp/abs", "a/b", "a\0b", "", ".hidden", "x" * 101, 7])
def test_names_cannot_leave_the_project_folder(tmp_path, name):
    store = Store(tmp_path / "proj")
    with pytest.raises(InvalidInput) as err:
        store.save_sequence(name, Sequence([noise(1)]))
    assert err.value.field == "name"
    with pytest.raises(InvalidInput):
        store.load_clip(name)
    assert files(tmp_path) == ["proj"] and files(store.sequences_dir) == []


def _fail_with(code):
    def fail(*a, **k):
        raise OSError(code, os.strerror(code))
    return fail


@pytest.mark.parametrize("code, words", [(errno.ENOSPC, "disk is full"), (errno.EROFS, "read-only"),
                                         (errno.EACCES, "read-only")])
def test_full_disk_or_read_only_folder_is_a_clear_error_and_keeps_earlier_entries(
        tmp_path, monkeypatch, code, words):
    store = Store(tmp_path)
    kept = noise(1)
    store.add(kept)
    monkeypatch.setattr(os, "replace", _fail_with(code))
    with pytest.raises(StoreError, match=words) as err:
        store.add(noise(2))
    assert "intact" in str(err.value)
    with pytest.raises(StoreError, match=words):
        store.save_sequence("film", Sequence([kept]))
    monkeypatch.undo()
    assert [e.id for e in store.gallery()] == [kept.id]
    assert np.array_equal(store.load_clip(kept.id).frames, kept.frames)
    assert not [n for n in files(store.clips_dir) if ".tmp" in n]         # no temp file left


def test_a_deleted_project_folder_is_said_as_it_is(tmp_path):
    import shutil

    store = Store(tmp_path / "proj")
    store.add(noise(1))
    shutil.rmtree(store.path)
    with pytest.raises(StoreError, match="is gone") as err:
        store.add(noise(2))
    assert "intact" not in str(err.value) and "rn.Store(" in str(err.value)
    with pytest.raises(StoreError, match="is gone"):
        store.gallery()
    with pytest.raises(StoreError, match="is gone"):
        store.save_sequence("film", Sequence([noise(3)]))
    assert store.repair() == [] and not store.path.exists()     # nothing made behind the user's back
    Store(store.path).add(noise(2))
    assert len(store.gallery()) == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through chmod; covered by the EROFS case")
def test_read_only_folder_for_real(tmp_path):
    store = Store(tmp_path)
    store.clips_dir.chmod(0o555)
    try:
        with pytest.raises(StoreError, match="read-only"):
            store.add(noise(1))
    finally:
        store.clips_dir.chmod(0o755)


# A writer process that stops inside a chosen os.replace (the first file, or the JSON that
# makes the entry visible) and waits there to be killed.
WRITER = textwrap.dedent("""
    import os, sys, time
    import numpy as np
    sys.path.insert(0, {root!r})
    from runway_nb import Shot
    from runway_nb.clip import Clip
    from runway_nb.store import Store
    stage, ready = {stage!r}, {ready!r}
    real, calls = os.replace, []
    def replace(src, dst):
        calls.append(dst)
        if (stage == "first" and len(calls) == 1) or (stage == "json" and str(dst).endswith(".json")):
            open(ready, "w").close()
            time.sleep(120)
        return real(src, dst)
    os.replace = replace
    frames = np.random.default_rng(5).integers(0, 256, (16, 64, 64, 3), dtype=np.uint8)
    Store({folder!r}).add(Clip(frames, fps=8, shot=Shot("doomed", seed=5)))
""")


@pytest.mark.parametrize("stage", ["first", "json"])
def test_a_writer_killed_mid_save_leaves_only_complete_entries(tmp_path, stage):
    folder, ready = tmp_path / "proj", tmp_path / "ready"
    kept = noise(1)
    Store(folder).add(kept)
    code = WRITER.format(root=str(ROOT), stage=stage, ready=str(ready), folder=str(folder))
    proc = subprocess.Popen([sys.executable, "-c", code], env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        deadline = time.time() + 120
        while not ready.exists():
            assert proc.poll() is None, "the writer died before reaching the chosen stage"
            assert time.time() < deadline
            time.sleep(0.05)
        assert any(".tmp" in n for n in files(folder / "clips"))     # caught mid-write
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    store = Store(folder)
    assert [e.id for e in store.gallery()] == [kept.id]          # the half entry is invisible
    assert not [n for n in files(store.clips_dir) if ".tmp" in n]  # its temp file is cleaned up
    store.repair(grace=0)                                         # and so are its orphans
    assert files(store.clips_dir) == sorted(f"{kept.id}{s}" for s in (".json", ".mp4", ".npz", ".png"))
    assert np.array_equal(store.load_clip(kept.id).frames, kept.frames)
    assert json.loads((store.clips_dir / f"{kept.id}.json").read_text())["id"] == kept.id


def test_unknown_clip_id_is_a_clear_error(tmp_path):
    with pytest.raises(InvalidInput, match="gallery"):
        Store(tmp_path).load_clip("abc123")
    with pytest.raises(InvalidInput, match="none yet"):
        Store(tmp_path).load_sequence("film")


def test_adding_what_is_not_a_clip_is_refused_by_name(tmp_path):
    store = Store(tmp_path / "p")
    with pytest.raises(InvalidInput) as err:
        store.add("my_clip.mp4")
    assert err.value.field == "clip" and "must be a runway_nb Clip" in str(err.value)
    assert len(store) == 0


def test_a_sequence_whose_clips_are_gone_reloads_with_render_true(tmp_path):
    """The refusal says "Pass render=True": load_sequence takes it, and the tiny engine
    re-makes the deleted clips (a trimmed one too) bit for bit."""
    import runway_nb as rn

    a = rn.generate("a red ball bouncing on a green field", steps=2, seed=7, frames=8, progress=False)
    store = Store(tmp_path)
    seq = Sequence([a, a[2:6]])
    store.save_sequence("film", seq)
    for p in store.clips_dir.iterdir():
        p.unlink()                                        # the clips' files are gone
    with pytest.raises(InvalidInput, match="render=True"):
        store.load_sequence("film")
    again = store.load_sequence("film", render=True)
    np.testing.assert_array_equal(again.frames(), seq.frames())


def test_a_re_render_uses_the_engine_the_user_loaded(tmp_path, tiny_on_a_gpu):
    """`rn.load_engine("tiny", device="cuda")`, then a film whose shots say "tiny" re-renders
    on that engine (it loaded a second copy on the CPU); with several loaded, each clip on the
    one its provenance records (an extension too)."""
    gpu, cpu, cache = tiny_on_a_gpu
    shot = Shot("a red ball bouncing on a green field", seed=7, frames=4, steps=2)
    on_gpu = gpu.render(shot, progress=False)
    on_cpu = cpu.render(shot.replace(seed=8), progress=False)
    longer = on_gpu.extend(0.5, progress=False)
    seq = Sequence([on_gpu, on_cpu, longer])
    store = Store(tmp_path)
    store.save_sequence("film", seq)
    for p in store.clips_dir.iterdir():
        p.unlink()
    again = store.load_sequence("film", render=True)
    assert [c.provenance["device"] for c in again.clips] == ["cuda", "cpu", "cuda"] and len(cache) == 2
    np.testing.assert_array_equal(again.frames(), seq.frames())


def test_a_clip_loaded_from_its_lossy_video_says_so_and_the_exact_one_takes_its_place(tmp_path):
    # before: the video's copy was stored under the exact clip's id ("frames bit-exact"), and
    # adding the exact clip later did nothing
    exact = noise(11)
    exact.save(tmp_path / "v.mp4")
    copy = Clip.load(tmp_path / "v.mp4")
    assert copy.id == exact.id and copy.lossy and not exact.lossy
    store = Store(tmp_path / "p")
    store.add(copy)
    assert store.load_clip(exact.id).lossy                          # said, not passed off as exact
    store.add(exact)
    again = store.load_clip(exact.id)
    assert np.array_equal(again.frames, exact.frames) and not again.lossy
    store.add(copy)                                                 # a copy never replaces them
    assert np.array_equal(store.load_clip(exact.id).frames, exact.frames)


def test_a_project_folders_video_loads_with_its_parent(tmp_path):
    # before: Clip.load read only a sidecar's "parent_id"; the project's record says "parent"
    parent = noise(1)
    child = noise(2, parent=parent)
    store = Store(tmp_path / "p")
    store.add(child)
    loaded = Clip.load(store.clips_dir / f"{child.id}.mp4")
    assert loaded.parent_id == parent.id and loaded.id == child.id


def test_a_damaged_sidecar_provenance_is_refused_by_name(tmp_path):
    noise(3).save(tmp_path / "v.mp4")
    side = tmp_path / "v.json"
    side.write_text(json.dumps({**json.loads(side.read_text()), "provenance": [1, 2]}))
    with pytest.raises(InvalidInput) as err:
        Clip.load(tmp_path / "v.mp4")
    assert err.value.field == "path" and "provenance is an object, not list" in str(err.value)


def test_a_soundtrack_set_on_an_autosaved_sequence_is_saved_and_undone_when_refused(tmp_path):
    # before: it was written only with the next edit, and saved over another writer's
    import wave

    from runway_nb.errors import SequenceChanged

    wav = tmp_path / "music.wav"
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000)
        w.writeframes(np.zeros(8000, "<i2").tobytes())
    store = Store(tmp_path / "p")
    mine = Sequence([noise(1)]).autosave(store, "film")
    mine.soundtrack = wav
    assert Store(tmp_path / "p").load_sequence("film").soundtrack == wav
    theirs = store.load_sequence("film").autosave(store, "film", version=store.sequence_version("film"))
    theirs += noise(2)
    with pytest.raises(SequenceChanged):
        mine.soundtrack = None
    assert mine.soundtrack == wav and store.load_sequence("film").soundtrack == wav


def test_a_sequence_says_whether_its_edits_are_saved(tmp_path):
    seq = Sequence([noise(1)])
    assert not seq.autosaved
    assert seq.autosave(Store(tmp_path), "film").autosaved
