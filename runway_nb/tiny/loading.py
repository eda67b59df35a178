"""Loading the tiny models' saved folders (safetensors only, never pickle)."""

from __future__ import annotations

from pathlib import Path


def from_folder(klass, folder: str | Path):
    """`klass.from_pretrained(folder)` with the weights in the model's own memory.

    diffusers leaves the weights as views of the memory-mapped file: a training run that
    writes the folder again while a notebook holds the model would change its weights under
    it, or kill the kernel (SIGBUS on a truncated file). A copy costs the model's size once
    (15 MB for the tiny pipeline)."""
    model = klass.from_pretrained(folder, use_safetensors=True, low_cpu_mem_usage=False)
    for tensor in (*model.parameters(), *model.buffers()):
        tensor.data = tensor.data.clone()
    return model
