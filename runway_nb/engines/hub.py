"""Where a diffusers pipeline's weights come from, checked before any loading starts.

A pipeline is named by a local folder (a `save_pretrained` layout with `model_index.json`)
or a Hugging Face hub id ("Wan-AI/Wan2.1-T2V-1.3B-Diffusers"). Three things are refused
here with a message a person can act on, instead of a stack trace from deep inside
`from_pretrained`:

* a hub id that is not in the local cache while offline (HF_HUB_OFFLINE=1, the default of
  runway_nb's CLI and tests): the message names the download command and the cache folder;
* a folder that is not a diffusers pipeline;
* pickle checkpoints (.bin / .pt / .ckpt): unpickling runs arbitrary code, so only
  safetensors load unless the user passes `allow_pickle=True` for a source they trust.

Remote code (`trust_remote_code`) is never enabled by runway_nb.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from ..errors import EngineNotFound, WeightsError

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def looks_like_hub_id(name: str) -> bool:
    return bool(_HUB_ID.match(name)) and not Path(name).expanduser().exists()


def offline() -> bool:
    from huggingface_hub import constants

    env = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or ""
    return constants.HF_HUB_OFFLINE or env.strip().upper() in {"1", "ON", "YES", "TRUE"}


def cache_dir() -> str:
    from huggingface_hub import constants

    return constants.HF_HUB_CACHE


def cached_model_index(repo_id: str, revision: str | None = None,
                       filename: str = "model_index.json") -> Path | None:
    """The cached `model_index.json` (or `filename`) of a hub repo, or None when never downloaded."""
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo_id, filename, cache_dir=cache_dir(), revision=revision)
    return Path(found) if isinstance(found, str) else None


def repo_file(repo_id: str, filename: str, revision: str | None = None) -> Path | None:
    """A small file of a hub repo (e.g. runway_nb.json beside model_index.json): the cached
    copy, else — online — downloaded; None when the repo has none (or the hub is out of reach:
    the file is optional, the pipeline itself already loaded)."""
    found = cached_model_index(repo_id, revision, filename)
    if found is None and not offline():
        from huggingface_hub import hf_hub_download
        from huggingface_hub.utils import EntryNotFoundError

        try:
            found = Path(hf_hub_download(repo_id, filename, revision=revision))
        except (OSError, ValueError, EntryNotFoundError):
            return None
    return found


def is_cached(repo_id: str, filename: str = "model_index.json") -> bool:
    try:
        return cached_model_index(repo_id, filename=filename) is not None
    except Exception:   # a malformed id or cache: not available, never an error in a listing
        return False


def download_hint(repo_id: str, size: str = "") -> str:
    size = f" ({size})" if size else ""
    return (f"Download it once{size} with `hf download {repo_id}` (older huggingface_hub: "
            f"`huggingface-cli download {repo_id}`); it is stored in the Hugging Face cache, "
            f"{cache_dir()} (set HF_HOME to move it).")


def require_hub_weights(repo_id: str, what: str, size: str = "",
                        filename: str = "model_index.json") -> None:
    """Refuse an uncached hub id while offline, naming what to download and where."""
    if offline() and not is_cached(repo_id, filename):
        raise WeightsError(
            f"{what}: the weights {repo_id!r} are not in the local Hugging Face cache and downloads "
            f"are off (HF_HUB_OFFLINE=1). {download_hint(repo_id, size)} Or let runway_nb download "
            # "=0", not "unset": the CLI turns downloads off unless HF_HUB_OFFLINE is set, and
            # huggingface_hub reads it once, when it is first imported
            "them on first use: set HF_HUB_OFFLINE=0 where runway_nb starts (`HF_HUB_OFFLINE=0 "
            "runway-nb …`; in a notebook, os.environ['HF_HUB_OFFLINE'] = '0' in the first cell of a "
            "fresh kernel).")


def hub_error(repo_id: str, what: str, exc: BaseException) -> Exception:
    """The RunwayError to raise for a huggingface_hub error while fetching `what` of `repo_id`:
    the repo id, what failed and what to do, instead of the hub's own exception (after its
    retries). Not a hub error: `exc` itself."""
    from huggingface_hub import utils as hf

    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if isinstance(exc, hf.HFValidationError):
        return EngineNotFound(f"engine={repo_id!r} is not a valid hub id ({first}). A hub id is "
                              "owner/name, e.g. 'Wan-AI/Wan2.1-T2V-1.3B-Diffusers'; `runway-nb engines` "
                              "lists the engine ids.")
    if isinstance(exc, hf.GatedRepoError):
        return WeightsError(f"engine={repo_id!r}: the hub repository is gated, so {what} could not be "
                            f"downloaded. Accept its terms at https://huggingface.co/{repo_id} and log in "
                            "(`hf auth login`, or set HF_TOKEN), then load it again.")
    if isinstance(exc, hf.RepositoryNotFoundError):
        return EngineNotFound(f"engine={repo_id!r}: the Hugging Face hub has no repository {repo_id!r} "
                              "(or it is private: log in with `hf auth login` or set HF_TOKEN). Check the "
                              "spelling; `runway-nb engines` lists the engine ids.")
    if isinstance(exc, hf.RevisionNotFoundError):
        return EngineNotFound(f"engine={repo_id!r}: the hub repository has no such revision ({first}).")
    if isinstance(exc, hf.EntryNotFoundError) and not isinstance(exc, hf.LocalEntryNotFoundError):
        return EngineNotFound(f"engine={repo_id!r}: the hub repository has no {what}, so it is not a "
                              "diffusers pipeline (runway_nb loads diffusers pipelines: a repository "
                              "holding model_index.json).")
    if isinstance(exc, (OSError, ConnectionError)):     # no network, timeouts, other HTTP errors
        return WeightsError(
            f"engine={repo_id!r}: could not download {what} from the Hugging Face hub "
            f"({type(exc).__name__}: {first}), and it is not in the local cache ({cache_dir()}). "
            f"Check the network connection and the repo id. {download_hint(repo_id)} Without a "
            "network, set HF_HUB_OFFLINE=1: the hub is not tried (nor retried), and a model that is "
            "not in the cache is refused at once, naming what to download.")
    return exc


def read_model_index(folder: Path) -> dict | None:
    try:
        data = json.loads((folder / "model_index.json").read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def pipeline_class(folder: Path) -> str | None:
    """`_class_name` of a local pipeline folder's model_index.json (None if not a pipeline)."""
    data = read_model_index(Path(folder))
    return data.get("_class_name") if data else None


def check_local_pipeline(folder: Path, allow_pickle: bool) -> None:
    """A local folder must be a pipeline whose weights are safetensors (unless allowed)."""
    if read_model_index(folder) is None:
        raise EngineNotFound(f"engine={str(folder)!r}: the folder has no readable model_index.json, so "
                             "it is not a diffusers pipeline folder (one made by save_pretrained or "
                             "downloaded from the hub).")
    if allow_pickle:
        return
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        files = [p for p in sub.iterdir() if p.is_file()]
        pickles = [p.name for p in files if p.suffix in PICKLE_SUFFIXES]
        if pickles and not any(p.suffix == ".safetensors" for p in files):
            raise WeightsError(
                f"{sub} holds only pickle checkpoints ({', '.join(pickles)}). Loading a pickle runs "
                "any code inside it, so runway_nb loads safetensors only. Convert them to safetensors, "
                "or, if you trust where they came from, pass allow_pickle=True "
                "(e.g. rn.load_engine(path, allow_pickle=True)).")
