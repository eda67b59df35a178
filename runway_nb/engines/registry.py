"""Which engines exist, and `load_engine(name_or_path)`.

An engine id maps to a factory plus a one-line description; a local folder is
recognised from its `model_index.json`. Loaded engines are cached per
(id, device, dtype), so repeated `rn.generate` calls don't reload weights.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import EngineNotFound, InvalidInput
from .base import Engine


@dataclass(frozen=True)
class EngineEntry:
    id: str
    description: str
    factory: Callable[..., Engine]
    weights_available: Callable[[], bool]
    recognizes: Callable[[Path], bool] | None = None   # for local pipeline folders


_ENTRIES: dict[str, EngineEntry] = {}
_CACHE: dict[tuple, Engine] = {}
_LOCK = threading.Lock()


def register_engine(entry: EngineEntry) -> None:
    _ENTRIES[entry.id] = entry


def _register_builtins() -> None:
    from . import tiny

    register_engine(EngineEntry(
        "tiny", tiny.TinyEngine.description,
        lambda path=None, **kw: tiny.TinyEngine(path, **kw),
        lambda: (tiny.WEIGHTS / "model_index.json").is_file(),
        recognizes=tiny.is_tiny_folder))


def engine_ids() -> list[str]:
    if not _ENTRIES:
        _register_builtins()
    return sorted(_ENTRIES)


def list_engines() -> list[dict]:
    """One row per engine: id, description, whether its weights are available locally."""
    engine_ids()
    return [{"id": e.id, "description": e.description, "weights_available": e.weights_available()}
            for e in _ENTRIES.values()]


def _check_device(device: str) -> None:
    import torch

    if not isinstance(device, str):
        raise InvalidInput("device", device, "must be a string such as 'cpu' or 'cuda'")
    kind = device.split(":")[0]
    if kind == "cpu":
        return
    if kind == "cuda" and torch.cuda.is_available():
        return
    if kind == "mps" and torch.backends.mps.is_available():
        return
    raise InvalidInput("device", device, "is not available on this machine",
                       "Use device='cpu' (or a GPU runtime, e.g. Colab's).")


def load_engine(name_or_path: str | Path = "tiny", device: str = "cpu", dtype=None) -> Engine:
    """Load (or reuse) an engine by id, or from a local pipeline folder."""
    ids = engine_ids()
    _check_device(device)
    if isinstance(name_or_path, Engine):
        return name_or_path
    if not isinstance(name_or_path, (str, Path)) or not str(name_or_path).strip():
        raise InvalidInput("engine", name_or_path, f"must be an engine id ({', '.join(ids)}) "
                           "or a local pipeline folder")
    key = (str(name_or_path), device, str(dtype))
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
        name = str(name_or_path)
        if name in _ENTRIES:
            engine = _ENTRIES[name].factory(device=device, dtype=dtype)
        else:
            path = Path(name).expanduser()
            if not path.exists():
                raise EngineNotFound(
                    f"engine={name!r} is neither a known engine ({', '.join(ids)}) nor an existing "
                    "folder. Run `runway-nb engines` to list engines.")
            for entry in _ENTRIES.values():
                if entry.recognizes is not None and entry.recognizes(path):
                    engine = entry.factory(path, device=device, dtype=dtype)
                    break
            else:
                raise EngineNotFound(
                    f"engine={name!r}: the folder has no model_index.json of a supported pipeline "
                    f"(supported: {', '.join(ids)}).")
        _CACHE[key] = engine
        return engine
