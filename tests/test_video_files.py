"""Video files read back as written: frame count, size, rate and colours; writable frames;
nothing left open or on disk after a read; a file that is not a video is refused by name."""

import contextlib
import errno
import gc
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
