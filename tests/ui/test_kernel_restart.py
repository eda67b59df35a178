"""Restarting the Jupyter kernel in the middle of a Studio render loses nothing made before.

A real python3 kernel (jupyter_client, no browser) makes one clip with `rn.Studio`, starts
a second render on the Studio's worker thread, and is restarted (`restart_kernel(now=True)`:
the process is killed, as Jupyter does when a kernel does not stop in time) at one of two
moments:

* "denoising": a 60-second clip, once the worker has reported a denoising step;
* "saving": a short clip, while the store is halfway through writing its first file
  (`numpy.savez_compressed` in the kernel writes half the bytes, then blocks as a process
  being killed mid-write would). This is the moment a non-atomic store would leave a
  truncated file visible, or a store that wrote the JSON first a broken gallery entry.

Then the new kernel must answer a trivial cell at once, `rn.Store(project).gallery()` must
list exactly the one finished clip, whose frames and video read back, and the project folder
must hold no temp or partial files. The test never sleeps: it waits on events inside the
kernel (a cell that returns once the worker reached the moment) with timeouts.
"""

from __future__ import annotations

import json
import os
import re
import textwrap
from pathlib import Path

import pytest

jupyter_client = pytest.importorskip("jupyter_client")

ROOT = Path(__file__).resolve().parents[2]
KERNEL_READY_S = 120     # a cold kernel start imports ipykernel (torch comes later) on a busy 2-core box
ANSWER_S = 15            # a restarted kernel answers `1 + 1` within this (a hung one never does)
ANSI = re.compile(r"\x1b\[[0-9;]*m")   # the colours of a kernel traceback
CELL_S = 300             # loading the engine and rendering a 4-frame clip on 1 thread

# The helpers every cell in the first kernel may use.
_PRELUDE = """
import hashlib, io, json, os, threading
import numpy as np
import runway_nb as rn

def digest(frames):
    return hashlib.sha256(np.ascontiguousarray(frames).tobytes()).hexdigest()
"""

_FIRST_CLIP = """
studio = rn.Studio(store={project!r})          # the shipped tiny engine
studio.prompt.value = "a red ball bouncing on a green field"
studio.seconds.value, studio.steps.value = 0.5, 2
first = studio.generate(wait=True) and studio.clip
assert first is not None and first.id in studio.store, studio.message
print(json.dumps({{"id": first.id, "frames": len(first.frames), "digest": digest(first.frames)}}))
"""

# Returns once the worker has reported a denoising step of a 60-second clip.
_MID_DENOISING = """
reached = threading.Event()
studio.progress.observe(lambda change: change["new"] >= 1 and reached.set(), "value")
studio.prompt.value = "a slow pan over a mountain lake at dawn"
studio.seconds.value, studio.steps.value = 60.0, 20
started = studio.generate()
assert started, started.message
assert reached.wait({timeout}), studio.message
progress = studio.renderer.progress
print(json.dumps({{"state": studio.renderer.state, "step": progress.step, "total": progress.total}}))
"""

# Returns once the store has written half of the new clip's first file (the .npz frames);
# the worker then blocks there, as a process killed mid-write would have stopped.
_MID_SAVING = """
write_frames = np.savez_compressed
halfway = threading.Event()

def savez_stopped_halfway(file, *args, **kwargs):
    data = io.BytesIO()
    write_frames(data, *args, **kwargs)
    file.write(data.getvalue()[: len(data.getvalue()) // 2])
    file.flush()
    os.fsync(file.fileno())
    halfway.set()
    threading.Event().wait()                    # the kernel is restarted while waiting here

np.savez_compressed = savez_stopped_halfway
studio.prompt.value = "a blue kite over a grey sea"
studio.seconds.value, studio.steps.value = 0.5, 2
started = studio.generate()
assert started, started.message
assert halfway.wait({timeout}), studio.message
print(json.dumps({{"state": studio.renderer.state, "id": studio.clip.id}}))
"""

_AFTER_RESTART = """
import hashlib, json
import numpy as np
import runway_nb as rn

entries = rn.Store({project!r}).gallery()
clip = entries[0].load() if entries else None   # the frames, bit-exact (.npz)
video = rn.Clip.load(entries[0].video) if entries else None   # the .mp4 people play
studio = rn.Studio(store={project!r})          # what the user sees after the restart
print(json.dumps({{
    "gallery": [e.id for e in entries],
    "digest": clip and hashlib.sha256(np.ascontiguousarray(clip.frames).tobytes()).hexdigest(),
    "video_shape": video and list(video.frames.shape),
    "frames_shape": clip and list(clip.frames.shape),
    "studio_gallery": [e.id for e in studio.gallery.entries],
    "studio_message": studio.message,
}}))
"""


def _execute(kc, code: str, timeout: float) -> dict:
    """Run `code` in the kernel; the JSON its last stdout line prints. Fails with the
    kernel's traceback when the cell raises; TimeoutError when it does not answer."""
    out: list[str] = []

    def collect(msg):
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream" and content["name"] == "stdout":
            out.append(content["text"])
        elif kind == "error":
            out.append(ANSI.sub("", "\n".join(content["traceback"])))

    reply = kc.execute_interactive(textwrap.dedent(code), timeout=timeout, output_hook=collect,
                                   allow_stdin=False, store_history=False)
    text = "".join(out)
    assert reply["content"]["status"] == "ok", f"the kernel cell failed:\n{text}"
    lines = text.strip().splitlines()
    return json.loads(lines[-1]) if lines else {}


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


@pytest.mark.slow
@pytest.mark.parametrize("moment", ["denoising", "saving"])
def test_restarting_the_kernel_mid_render_keeps_the_gallery_intact(moment, tmp_path, shipped_weights):
    from jupyter_client.manager import KernelManager

    project = tmp_path / "project"
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", HF_HUB_OFFLINE="1",
               TQDM_DISABLE="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    km = KernelManager(kernel_name="python3")
    km.start_kernel(env=env, cwd=str(tmp_path))      # a restart relaunches with the same env/cwd
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=KERNEL_READY_S)
        _execute(kc, _PRELUDE, CELL_S)
        first = _execute(kc, _FIRST_CLIP.format(project=str(project)), CELL_S)
        done = {f"clips/{first['id']}.{ext}" for ext in ("npz", "mp4", "png", "json")}
        assert _files(project) == done

        if moment == "denoising":
            mid = _execute(kc, _MID_DENOISING.format(timeout=CELL_S), CELL_S + 30)
            assert mid["state"] == "running" and 1 <= mid["step"] < mid["total"]
        else:
            mid = _execute(kc, _MID_SAVING.format(timeout=CELL_S), CELL_S + 30)
            # rendered; the worker is inside on_done ("finishing": done only once it is saved)
            assert mid["state"] == "finishing" and mid["id"] != first["id"]
            # the kill lands mid-write: a hidden temp file, nothing of the new clip visible
            leftovers = _files(project) - done
            assert leftovers and all(Path(f).name.startswith(".") for f in leftovers), leftovers

        km.restart_kernel(now=True)
        kc.wait_for_ready(timeout=KERNEL_READY_S)
        assert _execute(kc, "print(1 + 1)", ANSWER_S) == 2      # the new kernel is not hung

        after = _execute(kc, _AFTER_RESTART.format(project=str(project)), CELL_S)
        assert after["gallery"] == [first["id"]], "the gallery must list exactly the finished clip"
        assert after["digest"] == first["digest"], "the stored frames must be the ones rendered"
        assert after["video_shape"] == after["frames_shape"]
        assert after["frames_shape"][0] == first["frames"]
        assert after["studio_gallery"] == [first["id"]]
        assert after["studio_message"] == "", f"a fresh Studio shows an error: {after['studio_message']}"
        # no temp file of the killed writer, no partial file of the unfinished clip
        assert _files(project) == done
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
