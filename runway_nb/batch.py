"""Render many shots at once: a storyboard, or a prompt / seed sweep, on any executor.

    clips = rn.render_many(shots)                                   # serial, in this kernel
    clips = rn.render_many(shots, executor=ThreadPoolExecutor(2))   # side by side
    client = distributed.Client(cluster)                            # a Dask cluster…
    clips = rn.render_many(shots, executor=client.get_executor(), store="runway_project")

Any `concurrent.futures.Executor` works; a Dask client's `get_executor()` is one, so the
same call spreads a sweep over a cluster. What travels to a worker is the shot as JSON
and the engine's id — never an engine (weights are loaded, and cached, by each worker)
and never a Clip object (the frames and the shot come back as arrays and JSON, and the
Clip is rebuilt here). A worker process renders on one torch thread: many workers side
by side would otherwise fight over the cores. In this process (serial, or a thread pool)
torch is held at one thread for the same reason while the call runs, then restored —
which also makes every result bit-identical however it was run (the engine contract:
the same shot gives the same frames on CPU). Threads share this process's cached engine,
whose scheduler holds per-render state, so they take turns at the denoising itself: a
thread pool keeps the kernel free, processes (a process pool, Dask) add speed.

In this process (serial, or a thread pool) an engine id renders on the engine already
loaded under it, as it was loaded (`rn.load_engine("ltx", device="cuda", cpu_offload=True)`
beforehand: that one, not a second copy on the CPU; the latest loaded where several are),
else on one loaded on the CPU; a worker process loads its own, on the CPU (so only
CPU-loaded engines give the same frames in-process and in workers).

Results come back in input order. With a `store`, each clip is saved as soon as it
arrives, by this process alone, so the Store stays single-writer and atomic. A failing
shot does not lose the others: the rest are rendered and saved, then one
`RenderManyError` lists what failed, carrying every result (`.clips`) and the
exceptions (`.errors`). `cancel` (a threading.Event or any callable → bool) stops
submitting, cancels shots not yet started and raises `Cancelled`; in-process renders
(serial or a thread pool) stop within one denoising step. An interrupt — the notebook's
Stop button, Ctrl-C — is a cancel: the clips that finished are not lost with the
KeyboardInterrupt but come back in the `Cancelled` error's `.clips` (in a notebook, after
the fact: `import sys; sys.last_value.clips`), and with a `store` they are saved already.
"""

from __future__ import annotations

import itertools
import os
import threading
from concurrent.futures import FIRST_COMPLETED, Executor, ThreadPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path

from .errors import Cancelled, EngineNotFound, InvalidInput, RunwayError
from .shot import Shot


class RenderManyError(RunwayError):
    """Some shots of `render_many` failed. `clips` holds every result in input order (None
    where a shot failed); `errors` maps each failed shot's index to its exception."""

    def __init__(self, message: str, clips: list, errors: dict[int, BaseException]):
        super().__init__(message)
        self.clips, self.errors = clips, errors


def sweep(base: Shot, **fields) -> list[Shot]:
    """Every combination of the given field values over `base`:
    `sweep(Shot("a red ball"), seed=[1, 2], camera=["pan_left", "zoom_in"])` → 4 shots."""
    if not isinstance(base, Shot):
        raise InvalidInput("base", base, "must be a runway_nb.Shot")
    from dataclasses import fields as shot_fields

    known = [f.name for f in shot_fields(Shot)]
    for name, values in fields.items():
        if name not in known:
            raise InvalidInput("sweep field", name, "must be a Shot field: " + ", ".join(known))
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            raise InvalidInput(name, values, "must be a list of values to sweep over",
                               f"e.g. {name}=[…, …]; fixed values belong in the base shot.")
    names = list(fields)
    return [base.replace(**dict(zip(names, combo))) for combo in itertools.product(*fields.values())]


def render_many(shots, executor: Executor | None = None, store=None, engine=None,
                progress: bool = True, cancel=None) -> list:
    """Render every shot; return their Clips in input order (see the module docs)."""
    # 1. Check everything before any work is sent anywhere.
    from .engines.base import check_callbacks

    shots = _check_shots(shots)
    _check_executor(executor)
    check_callbacks(cancel=cancel)
    store = _as_store(store)
    engine_ids = _engine_ids(shots, engine)

    # 2. Render: in this process, or through the executor; each result is saved on arrival.
    clips: list = [None] * len(shots)
    errors: dict[int, BaseException] = {}
    from tqdm.auto import tqdm

    with tqdm(total=len(shots), desc="render_many", unit="shot", disable=not progress) as bar:
        def arrived(i: int, clip) -> None:
            clips[i] = clip
            if store is not None:
                try:
                    store.add(clip)
                except Exception as exc:   # rendered but not saved: report it with the rest
                    errors[i] = exc
            bar.update(1)

        in_process = executor is None or isinstance(executor, ThreadPoolExecutor)
        with _one_torch_thread(in_process):
            if executor is None:
                stopped = _serial(shots, engine, engine_ids, arrived, errors, cancel, bar)
            else:
                stopped = _through(executor, shots, engine_ids, arrived, errors, cancel, bar)

    # 3. Report: cancelled, some failed, or all done.
    done = sum(c is not None for c in clips)
    where = "" if store is None else f" and saved in {store!r}"
    if stopped:
        how = "interrupted" if stopped == INTERRUPTED else "cancelled"
        err = Cancelled(f"render_many was {how}: {done} of {len(shots)} shots were rendered{where}; "
                        "the rest were not started or were abandoned. The clips that finished are "
                        "in this error's .clips (input order, None for the others; in a notebook: "
                        "import sys; sys.last_value.clips).")
        err.clips, err.errors = clips, errors
        raise err
    if errors:
        lines = [f"  shots[{i}] {_label(shots[i])}: {type(e).__name__}: {e}" for i, e in sorted(errors.items())]
        raise RenderManyError(
            f"{len(errors)} of {len(shots)} shots failed; {len(shots) - len(errors)} were rendered{where}.\n"
            + "\n".join(lines) + "\nEvery result is in this error's .clips (input order, None where a "
            "shot failed) and the exceptions in .errors.", clips, errors)
    return clips


# ---- the two ways of running ---------------------------------------------------------------

INTERRUPTED = "interrupted"           # how a run stopped by KeyboardInterrupt is told from a cancel


def _serial(shots, engine, engine_ids, arrived, errors, cancel, bar) -> bool | str:
    """In this process, one shot after another. True if cancelled, INTERRUPTED if interrupted."""
    from .engines.base import Engine, cancel_requested
    from .engines.registry import find_or_load_engine

    for i, shot in enumerate(shots):
        if cancel_requested(cancel):
            return True
        try:
            eng = engine if isinstance(engine, Engine) else find_or_load_engine(engine_ids[i])
            clip = eng.render(shot, cancel=cancel, progress=False)
            arrived(i, clip)
        except Cancelled:
            return True
        except KeyboardInterrupt:     # the Stop button: keep what finished (see the module docs)
            return INTERRUPTED
        except Exception as exc:      # this shot failed; the others still render
            errors[i] = exc
            bar.update(1)
    return False


def _through(executor, shots, engine_ids, arrived, errors, cancel, bar) -> bool | str:
    """Submit every shot to `executor`, collect results as they finish. True if cancelled,
    INTERRUPTED if interrupted. Threads of this process get a stop signal too, so a cancel
    or an interrupt ends the renders in flight within a step, not only those still queued
    (a worker process cannot be signalled: its shot runs to the end, and is dropped)."""
    from .clip import Clip
    from .engines.base import cancel_requested

    threads = isinstance(executor, ThreadPoolExecutor)
    stop = threading.Event()
    pending, stopped = {}, False
    try:
        for i, shot in enumerate(shots):
            if cancel_requested(cancel):
                stopped = True        # stop submitting; what is in flight is cancelled below
                break
            job = (render_shot, shot.to_dict(), engine_ids[i], os.getpid())
            pending[executor.submit(*job, stop) if threads else executor.submit(*job)] = i
    except RuntimeError as exc:      # e.g. "cannot schedule new futures after shutdown"
        stop.set()
        for fut in pending:
            fut.cancel()
        raise InvalidInput("executor", executor, f"refused the work ({exc})",
                           "Pass an executor that is running (not shut down).") from exc
    except KeyboardInterrupt:
        stopped = INTERRUPTED
    try:
        return _collect(pending, stopped, stop, arrived, errors, cancel, bar, Clip, threads)
    except KeyboardInterrupt:         # the Stop button while waiting: as a cancel
        stop.set()
        for fut in pending:
            fut.cancel()
        return INTERRUPTED


def _collect(pending, stopped, stop, arrived, errors, cancel, bar, Clip, threads=False) -> bool | str:
    from .engines.base import cancel_requested

    def take(fut) -> None:
        i = pending.pop(fut)
        try:
            frames, fps, shot, provenance = fut.result()
        except Exception as exc:      # the worker's exception (or a lost worker) for this shot
            errors[i] = exc
            bar.update(1)
            return
        arrived(i, Clip(frames, fps, shot=Shot.from_dict(shot), provenance=provenance))

    # poll for cancel while waiting, so a Stop button is heard within a fraction of a second
    timeout = None if cancel is None else 0.2
    while pending:
        if stopped or cancel_requested(cancel):
            stop.set()                # in-process renders end within a step
            for fut in pending:
                fut.cancel()
            if threads:               # so they are waited for: one whose steps had all run is
                wait(pending)         # returned finished (Engine.render), and kept, not dropped
            for fut in [f for f in pending if f.done() and not f.cancelled()]:
                if not isinstance(fut.exception(), Cancelled):
                    take(fut)
            return stopped or True
        finished, _ = wait(pending, timeout=timeout, return_when=FIRST_COMPLETED)
        for fut in finished:
            take(fut)
    return stopped


def render_shot(shot: dict, engine_id: str, caller_pid: int, stop: threading.Event | None = None):
    """What a worker runs: load the engine by id (cached per process), render one shot.
    Returns (frames, fps, shot dict, provenance): plain data that pickles anywhere.
    `stop`: a thread of this process is told to end its render (render_many's cancel).
    A thread of the caller's process renders on the engine loaded there under the id (see
    the module doc); a worker process on its own, loaded on the CPU (one forked from the
    caller inherits the caller's engines, but not a GPU it could use)."""
    from .engines.registry import find_or_load_engine, load_engine

    if os.getpid() != caller_pid:
        import torch

        torch.set_num_threads(1)      # one thread per worker process: workers share the cores
        engine = load_engine(engine_id)
    else:
        engine = find_or_load_engine(engine_id)
    clip = engine.render(Shot.from_dict(shot), progress=False,    # threads sharing it take turns
                         cancel=stop)                            # (Engine.render)
    return clip.frames, clip.fps, clip.shot.to_dict(), clip.provenance


# ---- checks --------------------------------------------------------------------------------

def _check_shots(shots) -> list[Shot]:
    if isinstance(shots, Shot):
        raise InvalidInput("shots", shots, "must be a list of Shots, not one Shot",
                           "Wrap it, render_many([shot]), or render it with rn.load_engine(...).render(shot).")
    if isinstance(shots, (str, bytes, dict)) or not hasattr(shots, "__iter__"):
        raise InvalidInput("shots", shots, "must be a list of runway_nb.Shot",
                           "e.g. [rn.Shot('a red ball', seed=s) for s in range(4)].")
    shots = list(shots)
    if not shots:
        raise InvalidInput("shots", shots, "must hold at least one Shot")
    for i, shot in enumerate(shots):
        if not isinstance(shot, Shot):
            raise InvalidInput(f"shots[{i}]", shot, "must be a runway_nb.Shot",
                               "Make one with rn.Shot('a prompt', seed=1), or Shot.from_dict(data).")
    return shots


def _check_executor(executor) -> None:
    if executor is None or isinstance(executor, Executor):
        return
    hint = ("A Dask Client is not an Executor itself: pass client.get_executor()."
            if hasattr(executor, "get_executor") else
            "e.g. concurrent.futures.ThreadPoolExecutor(2), a Dask client.get_executor(), or None.")
    raise InvalidInput("executor", executor, "must be a concurrent.futures.Executor or None (serial)", hint)


def _as_store(store):
    from .store import Store

    if store is None or isinstance(store, Store):
        return store
    if isinstance(store, (str, Path)):
        return Store(store)
    raise InvalidInput("store", store, "must be a runway_nb.Store, a project folder path, or None")


def _engine_ids(shots: list[Shot], engine) -> list[str]:
    """The engine id each shot renders on: `engine` for all, else each shot's own."""
    from .engines.base import Engine

    if engine is None:
        ids = [shot.engine for shot in shots]
    elif isinstance(engine, Engine):
        ids = [engine.id] * len(shots)
    elif isinstance(engine, (str, Path)) and str(engine).strip():
        ids = [str(engine)] * len(shots)
    else:
        raise InvalidInput("engine", engine, "must be an engine id (e.g. 'tiny'), a pipeline folder, "
                           "an Engine, or None (each shot's own engine)")
    from .engines.registry import engine_ids

    known = engine_ids()
    for name in dict.fromkeys(ids):   # refuse an unknown id here, not once per shot on a worker
        if name not in known and not Path(name).expanduser().exists():
            raise EngineNotFound(f"engine={name!r} is neither a known engine ({', '.join(known)}) nor "
                                 "an existing folder. Run `runway-nb engines` to list engines.")
    return ids


@contextmanager
def _one_torch_thread(active: bool):
    if not active:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _label(shot: Shot) -> str:
    prompt = shot.prompt if len(shot.prompt) <= 40 else shot.prompt[:39] + "…"
    return f"({prompt!r}, seed {shot.seed})"
