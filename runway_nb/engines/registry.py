"""Which engines exist, and `load_engine(name_or_path)`.

An engine id maps to a factory plus a one-line description; a local folder is
recognised from its `model_index.json`. Loaded engines are cached, so repeated
`rn.generate` calls don't reload weights. The cache is keyed on what is loaded, not on
how it was spelled: the engine id, or a folder's resolved path ("runs/wan/" and
"./runs/wan" are one folder); the device ("cpu:0" is "cpu": a machine has one CPU; GPU
spellings stay apart, since "cuda" follows `torch.cuda.set_device`); the dtype the engine
will use (None, "fp32", "float32" and torch.float32 on a CPU are one); and the options,
leaving out those given at their default. `unload_engine` frees them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import EngineNotFound, InvalidInput, RunwayError
from .base import Engine


@dataclass(frozen=True)
class EngineEntry:
    id: str
    description: str
    factory: Callable[..., Engine]
    weights_available: Callable[[], bool]
    recognizes: Callable[[Path], bool] | None = None   # for local pipeline folders
    capabilities: Callable[[], object] | None = None   # documented capabilities, without loading
    options: tuple[str, ...] | None = None   # the options it takes besides device and dtype (None: unchecked)
    # (source, device, dtype) -> the dtype the engine will run in, for the cache key (None: the
    # dtype as given, its spelling made canonical)
    dtype_of: Callable[..., object] | None = None
    option_defaults: tuple[tuple[str, object], ...] = ()   # options at these values are left out of the key
    pipelines: tuple[str, ...] = ()   # the model_index.json `_class_name`s it loads (for messages)
    dtypes: tuple[str, ...] | None = None   # the only dtypes it runs in (None: any its device takes)
    # what the bare id loads (a hub id, or a folder's resolved path): `load_engine("wan")` and
    # `load_engine("Wan-AI/Wan2.1-T2V-1.3B-Diffusers")` then share one cached engine, where
    # they loaded two copies of the same multi-GB weights
    source_id: str = ""


_ENTRIES: dict[str, EngineEntry] = {}
_CACHE: dict[tuple, Engine] = {}
_LOCK = threading.Lock()


def register_engine(entry: EngineEntry) -> None:
    _ENTRIES[entry.id] = entry


def engine_options(cls) -> tuple[str, ...]:
    """The keyword options `cls(source, device, dtype, **options)` takes: the named parameters
    of its `__init__`, and of the base classes' an `__init__` passes `**options` on to."""
    import inspect

    names = []
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        params = list(inspect.signature(init).parameters.values())[1:]      # after self
        names += [p.name for p in params[1:]                                 # after the source
                  if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name not in ("device", "dtype")]
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            break
    return tuple(dict.fromkeys(names))


def engine_option_defaults(cls) -> tuple[tuple[str, object], ...]:
    """(name, default) of the options of `engine_options(cls)` that have a default."""
    import inspect

    found = {}
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        for p in inspect.signature(init).parameters.values():
            if p.default is not p.empty and p.name not in found:
                found[p.name] = p.default
    return tuple((name, found[name]) for name in engine_options(cls) if name in found)


def _check_options(entry: EngineEntry, options: dict) -> None:
    """Refuse, by name, an option the engine does not take (it was a bare TypeError from
    the engine's __init__), listing those it does."""
    if entry.options is None:
        return
    for name, value in options.items():
        if name not in entry.options:
            takes = (f"the {entry.id} engine's options are device, dtype, " + ", ".join(entry.options)
                     if entry.options else f"the {entry.id} engine takes no options besides device and dtype")
            raise InvalidInput(name, value, takes, "docs/engines.md describes each option.")


def settings_for(name_or_path, dtype=None, options: dict | None = None) -> tuple[object, dict, list[str]]:
    """(dtype, options, left_out): the dtype and options an engine takes of those given for
    another (a Studio's `engine_options={"cpu_offload": True}` for LTX, when the tiny engine
    is picked), and the names of those it does not take. An engine id or folder no entry
    knows keeps them all (loading it says what is wrong)."""
    options = dict(options or {})
    if dtype is None and not options:             # nothing to leave out: no lookup (a hub id's
        return dtype, options, []                 # would fetch its model_index.json)
    try:
        entry = _find_entry(str(name_or_path), engine_ids())[0]
    except (RunwayError, OSError):        # not found, or a hub id not cached offline
        return dtype, options, []
    left = [] if entry.options is None else [k for k in options if k not in entry.options]
    if dtype is not None and entry.dtypes is not None and canonical_dtype(dtype) not in entry.dtypes:
        left.insert(0, "dtype")
        dtype = None
    return dtype, {k: v for k, v in options.items() if k not in left}, left


def _register_builtins() -> None:
    from . import tiny

    register_engine(EngineEntry(
        "tiny", tiny.TinyEngine.description,
        lambda path=None, **kw: tiny.TinyEngine(path, **kw),
        lambda: (tiny.WEIGHTS / "model_index.json").is_file(),
        recognizes=tiny.is_tiny_folder, capabilities=lambda: tiny.TinyEngine.capabilities,
        options=engine_options(tiny.TinyEngine),
        # float32 only: any other dtype is refused by the engine itself
        dtype_of=lambda source, device, dtype: "float32" if canonical_dtype(dtype) in (None, "float32") else dtype,
        option_defaults=engine_option_defaults(tiny.TinyEngine), pipelines=("TinyVideoPipeline",),
        dtypes=("float32",), source_id=str(tiny.WEIGHTS.resolve())))
    _register_diffusers_adapters()


def _register_diffusers_adapters() -> None:
    """The real open models (engines/cogvideox.py, ltx.py, wan.py, animatediff.py, modelscope.py).
    Their modules import torch but not diffusers until an engine is loaded."""
    from . import hub
    from .animatediff import AnimateDiffEngine
    from .cogvideox import CogVideoXEngine, CogVideoXI2VEngine
    from .ltx import LTXEngine
    from .modelscope import ModelScopeEngine
    from .wan import WanEngine, WanI2VEngine

    def recognizer(cls, i2v: bool | None):
        # an i2v folder is claimed by the i2v id of the family (same adapter, other defaults)
        def recognizes(path: Path) -> bool:
            found = hub.pipeline_class(path)
            if found not in cls.pipeline_classes:
                return False
            return i2v is None or ("ImageToVideo" in found) == i2v
        return recognizes

    for cls, i2v in ((CogVideoXEngine, False), (CogVideoXI2VEngine, True), (LTXEngine, None),
                     (WanEngine, False), (WanI2VEngine, True), (AnimateDiffEngine, None),
                     (ModelScopeEngine, None)):
        register_engine(EngineEntry(
            cls.family, f"{cls.description} [{cls.default_repo}]",
            lambda path=None, _cls=cls, **kw: _cls(path, **kw),
            lambda _repo=cls.default_repo: hub.is_cached(_repo),
            recognizes=recognizer(cls, i2v), capabilities=cls.documented_capabilities,
            options=engine_options(cls), dtype_of=cls.resolve_dtype,
            option_defaults=engine_option_defaults(cls), pipelines=cls.pipeline_classes,
            source_id=cls.default_repo))


def engine_ids() -> list[str]:
    if not _ENTRIES:
        _register_builtins()
    return sorted(_ENTRIES)


def list_engines() -> list[dict]:
    """One row per engine: id, description, whether its weights are available locally."""
    engine_ids()
    rows = []
    for e in _ENTRIES.values():
        row = {"id": e.id, "description": e.description, "weights_available": e.weights_available()}
        if e.capabilities is not None:
            row["capabilities"] = e.capabilities()
        rows.append(row)
    return rows


def known_capabilities(engine):
    """What `engine` can do, without loading anything: a loaded Engine's own capabilities, a
    registered id's documented ones; None for a pipeline folder or hub id (known once loaded)."""
    if isinstance(engine, Engine):
        return engine.capabilities
    engine_ids()
    entry = _ENTRIES.get(engine) if isinstance(engine, str) else None
    return None if entry is None or entry.capabilities is None else entry.capabilities()


def engines_that(capability: str) -> list[str]:
    """The registered engine ids whose documented capabilities include `capability` (e.g.
    "extend", "image_to_video"), in the order `runway-nb engines` lists them."""
    engine_ids()
    return [e.id for e in _ENTRIES.values()
            if e.capabilities is not None and getattr(e.capabilities(), capability, False)]


_CANNOT = {"extend": ("cannot extend clips", "Extend with an engine that can: {} (e.g. engine='tiny')."),
           "image_to_video": ("makes video from text only: it cannot start from an image",
                              "Start from an image with an engine that can: {}; or leave image out."),
           "text_to_video": ("makes video from an image only: it needs image=",
                             "Give it a picture (image='photo.png'), or make video from text with an "
                             "engine that can: {}.")}


def require_capability(engine, capability: str) -> None:
    """Refuse, by name, an engine that cannot do `capability` ("extend", "image_to_video" or
    "text_to_video"),
    naming the engines that can. An engine id is judged by its documented capabilities, so
    this runs before any weights load (a notebook would download gigabytes to be refused);
    a folder or hub id passes here and is checked again once loaded."""
    from ..errors import UnsupportedCapability

    caps = known_capabilities(engine)
    if caps is None or getattr(caps, capability):
        return
    cannot, hint = _CANNOT[capability]
    raise UnsupportedCapability("engine", engine.id if isinstance(engine, Engine) else str(engine),
                                cannot, hint.format(", ".join(engines_that(capability))))


DEVICE_KINDS = ("cpu", "cuda", "mps")


def check_device(device: str) -> None:
    """Refuse, by name, a device this machine does not have ('cuda' without a GPU, …), before
    any work: loading an engine, an eval run and a training run all call it first."""
    import torch

    if not isinstance(device, str):
        raise InvalidInput("device", device, "must be a string such as 'cpu' or 'cuda'")
    kind = device.split(":")[0]
    if kind not in DEVICE_KINDS:
        raise InvalidInput("device", device, "must be one of " + ", ".join(DEVICE_KINDS) +
                           " (a GPU may carry its number: 'cuda:1')")
    here = available_devices()
    index = device.split(":", 1)[1] if ":" in device else None
    if index is not None and not (index.isascii() and index.isdigit()):
        raise InvalidInput("device", device, f"a device number must be a whole number, as in '{kind}:0'")
    if kind == "cuda" and kind in here and index is not None and int(index) >= torch.cuda.device_count():
        raise InvalidInput("device", device, f"this machine has {torch.cuda.device_count()} CUDA GPU(s), "
                           f"numbered from 0 (allowed here: {', '.join(here)})")
    if kind in here:
        return
    raise InvalidInput("device", device, f"this machine has no {kind!r} device (allowed here: "
                       f"{', '.join(here)})", "Use device='cpu', or a runtime with a GPU (e.g. Colab's).")


def available_devices() -> list[str]:
    """The device kinds torch can use on this machine, 'cpu' first."""
    import torch

    here = ["cpu"]
    if torch.cuda.is_available():
        here.append("cuda")
    if torch.backends.mps.is_available():
        here.append("mps")
    return here


def canonical_dtype(dtype):
    """One spelling per dtype for the cache key: None stays None, "fp16", "float16" and
    torch.float16 are "float16"; anything else is left as it is (the engine refuses it)."""
    import torch

    from .diffusers_base import DTYPES

    if dtype is None:
        return None
    if isinstance(dtype, torch.dtype):
        return str(dtype).replace("torch.", "")
    if isinstance(dtype, str) and dtype.lower() in DTYPES:
        return str(DTYPES[dtype.lower()]).replace("torch.", "")
    return dtype


def canonical_device(device: str) -> str:
    """"cpu:0" (any number) is "cpu": a machine has one CPU, and torch runs the same on both.
    GPU spellings are kept as given ("cuda" is whichever GPU `torch.cuda.set_device` chose)."""
    return "cpu" if device.split(":")[0] == "cpu" else device


def _source_key(name: str) -> str:
    """What a name loads: a registered id's own source (its hub id or folder), a folder's
    resolved path, else the name (a hub id)."""
    if name in _ENTRIES:
        return _ENTRIES[name].source_id or name
    path = Path(name).expanduser()
    return str(path.resolve()) if path.exists() else name


def _cache_key(entry: EngineEntry, name: str, source, device: str, dtype, options: dict) -> tuple:
    if entry.dtype_of is not None:
        dtype = entry.dtype_of(source, device, dtype)       # None → the engine's own default
    defaults = dict(entry.option_defaults)
    given = {k: v for k, v in options.items() if not (k in defaults and _same(v, defaults[k]))}
    return (_source_key(name), device, repr(canonical_dtype(dtype)), repr(sorted(given.items())))


def _same(a, b) -> bool:
    return type(a) is type(b) and a == b        # False is not 0, True is not 1


def load_engine(name_or_path: str | Path = "tiny", device: str = "cpu", dtype=None, **options) -> Engine:
    """Load (or reuse) an engine by id, a local pipeline folder or a hub id ("owner/name").

    `options` go to the engine: for the diffusers adapters `cpu_offload`, `vae_slicing`,
    `vae_tiling`, `allow_pickle`, `revision`, `variant` (see engines/diffusers_base.py).
    An engine loaded before with the same weights, device, dtype and options is returned
    as it is (see the module doc); `unload_engine` frees engines."""
    ids = engine_ids()
    check_device(device)
    if isinstance(name_or_path, Engine):
        if dtype is not None or options:      # they apply when an engine loads: not silently dropped
            given = "dtype" if dtype is not None else next(iter(options))
            raise InvalidInput(given, dtype if dtype is not None else options[given],
                               f"applies when an engine loads, and the {name_or_path.id} engine is loaded already",
                               "Pass its id or folder instead of the engine.")
        return name_or_path
    if not isinstance(name_or_path, (str, Path)) or not str(name_or_path).strip():
        raise InvalidInput("engine", name_or_path, f"must be an engine id ({', '.join(ids)}) "
                           "or a local pipeline folder")
    device = canonical_device(device)
    with _LOCK:
        entry, source, name = _find_entry(str(name_or_path), ids)
        _check_options(entry, options)
        key = _cache_key(entry, name, source, device, dtype, options)
        if key in _CACHE and not _CACHE[key].unloaded:
            return _CACHE[key]
        _CACHE.pop(key, None)         # engine.unload() called on it directly: loaded afresh below
        if source is None:
            engine = entry.factory(device=device, dtype=dtype, **options)
        else:
            engine = entry.factory(source, device=device, dtype=dtype, **options)
        _CACHE[key] = engine
        return engine


def _find_entry(name: str, ids: list[str]) -> tuple[EngineEntry, object, str]:
    """(entry, source, name) for an id (source None), a folder (its path) or a hub id (the id,
    recognised from its cached or downloaded model_index.json)."""
    if name in _ENTRIES:
        return _ENTRIES[name], None, name
    path = Path(name).expanduser()
    from . import hub

    if not path.exists() and hub.looks_like_hub_id(name):
        path = _hub_snapshot(name)       # recognised from the cached folder, loaded by id
    if not path.exists():
        raise EngineNotFound(
            f"engine={name!r} is neither a known engine ({', '.join(ids)}) nor an existing "
            "folder. Run `runway-nb engines` to list engines.")
    if not path.is_dir():
        inside = (f" Pass the folder it is in, {str(path.parent)!r}."
                  if path.name == "model_index.json" else "")
        raise EngineNotFound(
            f"engine={name!r} is a file, not a folder: an engine is an engine id "
            f"({', '.join(ids)}), a hub id (owner/name) or a pipeline folder (one holding "
            f"model_index.json).{inside}")
    for entry in _ENTRIES.values():
        if entry.recognizes is not None and entry.recognizes(path):
            return entry, (name if hub.looks_like_hub_id(name) else path), name
    raise EngineNotFound(f"engine={name!r}: {_not_a_pipeline(path)}")


def _not_a_pipeline(folder: Path) -> str:
    """Why no engine recognises `folder`: no model_index.json (perhaps a part of a pipeline),
    one that is not valid JSON, or one naming a pipeline class no engine loads (named, with
    those that load)."""
    import json

    index = folder / "model_index.json"
    classes = list(dict.fromkeys(c for e in _ENTRIES.values() for c in e.pipelines))
    supported = (f"runway_nb loads {', '.join(classes)} (engines {', '.join(e.id for e in _ENTRIES.values())})"
                 if classes else f"supported engines: {', '.join(_ENTRIES)}")
    if not index.is_file():
        above = (f" It looks like a part of the pipeline in {str(folder.parent)!r}: pass that folder."
                 if (folder.parent / "model_index.json").is_file() else "")
        return ("the folder has no model_index.json, so it is not a diffusers pipeline folder (one made "
                f"by save_pretrained or downloaded from the hub).{above}")
    try:
        data = json.loads(index.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return f"its model_index.json cannot be read ({type(exc).__name__}: {exc}); fix it, or download the pipeline again."
    found = data.get("_class_name") if isinstance(data, dict) else None
    if not isinstance(found, str):
        return f"its model_index.json names no pipeline class (no \"_class_name\"): {supported}."
    return f"the folder holds a {found} (model_index.json's _class_name), which no engine loads: {supported}."


def loaded_engines() -> list[Engine]:
    """The engines `load_engine` holds in memory now, each once, oldest first: what
    `unload_engine()` would free (`rn.loaded_engines()` before loading another big model)."""
    with _LOCK:       # not one whose engine.unload() was called directly: it holds nothing
        return list({id(e): e for e in _CACHE.values() if not e.unloaded}.values())


# what a clip's provenance records of the engine's settings (DiffusersEngine.provenance)
_SETTINGS = ("device", "dtype", "cpu_offload", "vae_slicing", "vae_tiling", "allow_pickle", "revision",
             "variant")


def loaded_engine(engine_id: str, like: dict | None = None, device: str | None = None) -> Engine | None:
    """An engine already loaded under `engine_id` (an engine id, a folder or a hub id: a clip's
    `shot.engine`), or None; never one `unload_engine` freed. Among several (other devices,
    dtypes or options), the one whose settings match `like` — a clip's provenance, which
    records the device, dtype and memory options that made it — the latest loaded on a tie
    (`like` None: the latest loaded). `device`: only engines on that device."""
    if isinstance(engine_id, Path):
        engine_id = str(engine_id)
    if not isinstance(engine_id, str):
        return None
    source = _source_key(engine_id)
    # an engine's own id names it only where the name is no folder here: a registered id, a
    # folder since deleted (a clip's engine), a hub id; a relative folder name seen from
    # another working directory, or a hub id beside a local folder of that name, is another
    by_id = engine_id in _ENTRIES or source == engine_id
    with _LOCK:
        found = list({id(e): e for k, e in _CACHE.items()
                      if (k[0] == source or (by_id and e.id == engine_id))
                      and not e.unloaded}.values())
    if device is not None:
        found = [e for e in found if canonical_device(str(getattr(e, "device", "cpu"))) == canonical_device(device)]
    if not found:
        return None
    if like is None:
        return found[-1]

    def score(engine) -> int:
        made = engine.provenance()
        return sum(made.get(k, False) == like.get(k, False) for k in _SETTINGS if k in made or k in like)

    return max(reversed(found), key=score)


def find_or_load_engine(name_or_path, device: str | None = None, like: dict | None = None,
                        **settings) -> Engine:
    """The engine a by-id entry point (`rn.generate`, `render_many`, a film's re-render,
    `%%runway`) renders on. `device` None and no dtype or options (`settings`): the engine
    already loaded under this id or folder, on whatever device, dtype and options it was
    loaded with (`loaded_engine(name_or_path, like)`: the latest loaded on a tie), so
    `rn.load_engine("ltx", device="cuda", cpu_offload=True)` is not loaded a second time on
    the CPU; none loaded (or each one unloaded): `load_engine` on the CPU, as before. A
    device ("cpu" too), dtype or option given: `load_engine` with them, exactly (the cache
    returns only an engine loaded with those)."""
    if device is None and not settings and isinstance(name_or_path, (str, Path)) and str(name_or_path).strip():
        found = loaded_engine(name_or_path, like=like)
        if found is not None:
            return found
    return load_engine(name_or_path, device="cpu" if device is None else device, **settings)


def unload_engine(engine_or_id=None) -> int:
    """Free loaded engines' memory: `None` (the default) all of them; an Engine that one; an
    engine id, folder or hub id the engines loaded from it (any device, dtype or options).

    Each is dropped from `load_engine`'s cache and lets go of its weights, so the memory
    comes back even where a variable or a Studio still holds the engine (which can then no
    longer render: load it again; a Studio's Generate does, `Studio._engine_now`). Then
    CUDA's cached blocks are returned (`torch.cuda.empty_cache()`) when there is a GPU. Returns how many engines were
    unloaded (0 when none matched: nothing was loaded from that name). A render running on one
    in another thread (a Studio's Generate) finishes first, with a warning that it waits;
    from inside an engine's own render (a step callback) it is refused, nothing unloaded.

        rn.unload_engine()            # before switching to another big model
        ltx = rn.load_engine("ltx", device="cuda")   # loads afresh
    """
    import gc

    with _LOCK:
        if engine_or_id is None:
            doomed = list(_CACHE.values())
        elif isinstance(engine_or_id, Engine):
            doomed = [engine_or_id]
        elif isinstance(engine_or_id, (str, Path)):
            name = str(engine_or_id)
            source = _source_key(name)
            doomed = [e for k, e in _CACHE.items() if k[0] == source or e.id == name]
        else:
            raise InvalidInput("engine", engine_or_id, "must be an Engine, an engine id, a folder or "
                               "a hub id (or None: every loaded engine)")
        doomed = list({id(e): e for e in doomed}.values())
        for engine in doomed:        # before the cache lets go of any: nothing half done
            engine._check_unload_here()
        for key in [k for k, e in _CACHE.items() if any(e is d for d in doomed)]:
            del _CACHE[key]
    count = sum(not engine.unloaded for engine in doomed)    # one unloaded before: nothing freed now
    for engine in doomed:
        engine.unload()
    del doomed[:], engine_or_id      # no reference of ours keeps a model alive
    gc.collect()
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return count


def _hub_snapshot(repo_id: str) -> Path:
    """The folder holding a hub pipeline's model_index.json: from the cache, or downloaded
    (that one small file) when online. Offline and uncached: a WeightsError saying what to do."""
    from . import hub

    try:
        index = hub.cached_model_index(repo_id)
        if index is None:
            hub.require_hub_weights(repo_id, f"engine={repo_id!r}")
            from huggingface_hub import hf_hub_download

            index = Path(hf_hub_download(repo_id, "model_index.json"))
    except Exception as exc:   # the hub's own errors (after its retries), said for this repo id
        raised = hub.hub_error(repo_id, "model_index.json", exc)
        if raised is exc:
            raise
        raise raised from exc
    return index.parent
