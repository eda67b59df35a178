"""Engines: a diffusers pipeline behind the small `Engine` contract (see base.py)."""

from .base import Capabilities, Engine, StepInfo
from .registry import (EngineEntry, engine_ids, list_engines, load_engine, register_engine,
                       unload_engine)

__all__ = ["Capabilities", "Engine", "EngineEntry", "StepInfo", "engine_ids", "list_engines",
           "load_engine", "register_engine", "unload_engine"]
