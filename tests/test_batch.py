"""rn.render_many: serial, a thread pool and a real 2-process Dask cluster give the same
frames in input order, land in the Store, survive a failing shot, and refuse bad input."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import runway_nb as rn
from runway_nb import Shot
from runway_nb.batch import RenderManyError, sweep

PROMPTS = ("a red ball bouncing on a green field", "a blue square moving left at night",
           "a yellow triangle growing on a gray background")


@pytest.fixture(scope="module")
def shots(shipped_weights):
    # short and few steps: these tests check plumbing and identity, not picture quality
    return [Shot(p, seed=10 + i, frames=8, steps=2, camera="pan_left" if i == 1 else None)
            for i, p in enumerate(PROMPTS)]


@pytest.fixture(scope="module")
def serial(shots):
    return rn.render_many(shots, progress=False)


def assert_same(clips, reference):
    assert [c.shot for c in clips] == [c.shot for c in reference]
    for a, b in zip(clips, reference):
        np.testing.assert_array_equal(a.frames, b.frames)
        assert a.id == b.id


def test_serial_matches_rendering_each_shot_by_hand(shots, serial):
    engine = rn.load_engine("tiny")
    assert len(serial) == len(shots)
    for shot, clip in zip(shots, serial):
        assert clip.shot.prompt == shot.prompt and clip.shot.seed == shot.seed
        assert clip.frames.shape == (8, 64, 64, 3)
        np.testing.assert_array_equal(clip.frames, engine.render(shot, progress=False).frames)
    assert clip.provenance["engine"] == "tiny" and "weights_sha256" in clip.provenance


def test_thread_pool_gives_the_serial_frames_in_input_order_and_fills_the_store(shots, serial, tmp_path):
    store = rn.Store(tmp_path / "project")
    with ThreadPoolExecutor(2) as pool:
        clips = rn.render_many(shots, executor=pool, store=store, progress=False)
    assert_same(clips, serial)
    assert sorted(e.id for e in store.gallery()) == sorted(c.id for c in serial)
    np.testing.assert_array_equal(store.load_clip(serial[1].id).frames, serial[1].frames)


def test_an_engine_id_renders_on_the_engine_the_user_loaded(shots, serial, tiny_on_a_gpu):
    """`rn.load_engine("tiny", device="cuda")` beforehand: the shots render on that engine,
    serially and in a thread pool, not on a second copy loaded on the CPU (they did)."""
    gpu, cpu, cache = tiny_on_a_gpu
    clips = rn.render_many(shots[:2], progress=False)
    with ThreadPoolExecutor(2) as pool:
        clips += rn.render_many(shots[:2], executor=pool, progress=False)
    assert [c.provenance["device"] for c in clips] == ["cuda"] * 4 and len(cache) == 2
    for clip, made in zip(clips, serial[:2] * 2):           # the same weights: the same frames
        np.testing.assert_array_equal(clip.frames, made.frames)
    rn.unload_engine(gpu)                                    # unloaded: not used again
    assert rn.render_many(shots[:1], progress=False)[0].provenance["device"] == "cpu"
    assert list(cache.values()) == [cpu]


@pytest.mark.slow
def test_dask_cluster_of_two_processes_matches_serial_and_fills_the_store(shots, serial, tmp_path):
    distributed = pytest.importorskip("distributed")
    store = tmp_path / "project"
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        clips = rn.render_many(shots, executor=client.get_executor(), store=store, progress=False)
        worker_pids = set(client.run(lambda: __import__("os").getpid()).values())
    assert len(worker_pids) == 2
    assert_same(clips, serial)
    assert {e.id for e in rn.Store(store).gallery()} == {c.id for c in serial}


@pytest.mark.parametrize("run", ["serial", "threads"])
def test_a_failing_shot_is_reported_and_the_others_are_saved(shots, serial, tmp_path, run):
    bad = shots[0].replace(fps=24)                  # the tiny engine makes 8 fps only
    store = rn.Store(tmp_path / "project")
    batch = [shots[0], bad, shots[2]]
    with ThreadPoolExecutor(2) as pool, pytest.raises(RenderManyError) as info:
        rn.render_many(batch, executor=pool if run == "threads" else None, store=store, progress=False)
    err = info.value
    assert "1 of 3 shots failed" in str(err) and "shots[1]" in str(err) and "fps" in str(err)
    assert list(err.errors) == [1] and isinstance(err.errors[1], rn.UnsupportedCapability)
    assert err.clips[1] is None
    assert_same([err.clips[0], err.clips[2]], [serial[0], serial[2]])
    assert {e.id for e in store.gallery()} == {serial[0].id, serial[2].id}


def test_cancel_before_start_renders_nothing(shots, tmp_path):
    stop = threading.Event()
    stop.set()
    store = rn.Store(tmp_path / "project")
    with ThreadPoolExecutor(1) as pool:
        for executor in (None, pool):
            with pytest.raises(rn.Cancelled, match="0 of 3 shots"):
                rn.render_many(shots, executor=executor, store=store, cancel=stop, progress=False)
    assert len(store) == 0


def test_cancel_midway_keeps_what_finished(shots, serial, tmp_path):
    store = rn.Store(tmp_path / "project")
    with pytest.raises(rn.Cancelled, match="1 of 3 shots") as info:
        rn.render_many(shots, store=store, cancel=lambda: len(store) >= 1, progress=False)
    assert info.value.clips[1:] == [None, None]
    np.testing.assert_array_equal(info.value.clips[0].frames, serial[0].frames)
    assert [e.id for e in store.gallery()] == [serial[0].id]


def test_torch_threads_are_restored_after_an_in_process_run(shots):
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        rn.render_many(shots[:1], progress=False)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("shots_arg, match", [
    ("a red ball", "list of runway_nb.Shot"),
    (Shot("a red ball"), "not one Shot"),
    ([], "at least one Shot"),
    ([Shot("a red ball"), {"prompt": "a dict"}], r"shots\[1\]"),
    (42, "list of runway_nb.Shot"),
])
def test_bad_shots_are_refused_before_any_work(shots_arg, match):
    with pytest.raises(rn.InvalidInput, match=match):
        rn.render_many(shots_arg, progress=False)


def test_bad_executor_store_and_engine_are_refused():
    good = [Shot("a red ball", seed=1, frames=4, steps=1)]
    with pytest.raises(rn.InvalidInput, match="executor.*Executor"):
        rn.render_many(good, executor="dask", progress=False)

    class FakeClient:                # what passing a Dask Client itself looks like
        def get_executor(self):
            raise AssertionError("not called")

        def submit(self, *args):
            raise AssertionError("not called")

    with pytest.raises(rn.InvalidInput, match=r"client.get_executor\(\)"):
        rn.render_many(good, executor=FakeClient(), progress=False)
    pool = ThreadPoolExecutor(1)
    pool.shutdown()
    with pytest.raises(rn.InvalidInput, match="not shut down"):
        rn.render_many(good, executor=pool, progress=False)
    with pytest.raises(rn.InvalidInput, match="store"):
        rn.render_many(good, store=3, progress=False)
    with pytest.raises(rn.EngineNotFound, match="no-such-engine"):
        rn.render_many(good, engine="no-such-engine", progress=False)
    with pytest.raises(rn.InvalidInput, match="engine"):
        rn.render_many(good, engine=3.5, progress=False)


def test_sweep_makes_every_combination():
    base = Shot("a red ball", seed=1, frames=4)
    shots = sweep(base, seed=[1, 2, 3], camera=["pan_left", "zoom_in"])
    assert len(shots) == 6 and {s.seed for s in shots} == {1, 2, 3}
    assert all(s.prompt == "a red ball" and s.frames == 4 for s in shots)
    with pytest.raises(rn.InvalidInput, match="seed.*list"):
        sweep(base, seed=4)
    with pytest.raises(rn.InvalidInput, match="seed"):
        sweep(base, seed=[-1])
    with pytest.raises(rn.InvalidInput, match="sweep field='sed'.*must be a Shot field: prompt, "):
        sweep(base, sed=[1, 2])                       # a typo was a raw TypeError


def test_the_stop_button_keeps_the_clips_that_finished(shots, serial, monkeypatch):
    """In a notebook an interrupt (the Stop button) is how a running cell is stopped: the
    clips that finished came back with nothing but a KeyboardInterrupt — lost."""
    engine = rn.load_engine("tiny")
    real_render = engine.render

    def render(shot, **kwargs):
        if shot.seed == shots[2].seed:
            raise KeyboardInterrupt
        return real_render(shot, **kwargs)

    monkeypatch.setattr(engine, "render", render)
    with pytest.raises(rn.Cancelled, match="interrupted: 2 of 3 shots.*sys.last_value.clips") as info:
        rn.render_many(shots, progress=False)
    assert info.value.clips[2] is None
    assert_same(info.value.clips[:2], serial[:2])


@pytest.mark.parametrize("how", ["cancel", "interrupt"])
def test_a_thread_pool_stops_the_render_in_flight_not_only_the_queued_ones(shots, monkeypatch, how):
    """The thread pool's renders got no cancel signal: a cancelled (or interrupted) run
    went on rendering the shots in flight to the end and threw them away."""
    from runway_nb import batch

    made = []                                      # render_many's stop signal for its threads
    monkeypatch.setattr(batch, "threading", SimpleNamespace(
        Event=lambda: made.append(threading.Event()) or made[-1]))
    user_cancel, inside = threading.Event(), threading.Event()
    engine = rn.load_engine("tiny")
    real_render, outcomes = engine.render, []

    def render(shot, cancel=None, **kwargs):       # in the worker thread
        def step_hook(*args):
            inside.set()
            if how == "cancel":
                user_cancel.set()
            assert made[0].wait(30), "render_many never signalled its threads"
        try:
            out = real_render(shot, cancel=cancel, on_step=step_hook, **kwargs)
            outcomes.append("finished")
            return out
        except rn.Cancelled:
            outcomes.append("cancelled")
            raise

    monkeypatch.setattr(engine, "render", render)
    real_wait = batch.wait

    def wait(*args, **kwargs):                     # in this thread: the Stop button, mid-render
        if how == "interrupt":
            assert inside.wait(30)
            raise KeyboardInterrupt
        return real_wait(*args, **kwargs)

    monkeypatch.setattr(batch, "wait", wait)
    long_shot = shots[0].replace(steps=20)
    with ThreadPoolExecutor(1) as pool, pytest.raises(rn.Cancelled, match="0 of 3 shots") as info:
        rn.render_many([long_shot, shots[1], shots[2]], executor=pool, progress=False,
                       cancel=user_cancel if how == "cancel" else None)
    assert ("interrupted" in str(info.value)) == (how == "interrupt")
    assert outcomes == ["cancelled"]               # the shot in flight stopped; the others never ran


def test_a_clip_that_finished_as_a_thread_pool_run_was_cancelled_is_kept(monkeypatch):
    # before: the cancel returned at once and the clip, finished a moment later, was dropped
    # (while Engine.render's warning said it was returned, not thrown away)
    from runway_nb import batch

    cancel = threading.Event()

    def finishes_as_it_is_cancelled(shot, engine_id, caller_pid, stop=None):
        cancel.set()                                    # Stop is pressed during this render,
        assert stop.wait(10)                            # which is told to stop, but had run
        return np.zeros((4, 8, 8, 3), np.uint8), 8.0, shot, {}     # every step: it comes back

    monkeypatch.setattr(batch, "render_shot", finishes_as_it_is_cancelled)
    with ThreadPoolExecutor(1) as pool, pytest.raises(rn.Cancelled, match="1 of 2 shots") as info:
        rn.render_many([Shot("a red ball", seed=1), Shot("a blue ball", seed=2)], executor=pool,
                       cancel=cancel, progress=False)
    assert info.value.clips[0].shot.prompt == "a red ball" and info.value.clips[1] is None
