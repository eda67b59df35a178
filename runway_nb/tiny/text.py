"""The tiny engine's tokenizer and text encoder, built in this repo (nothing from a hub).

The tokenizer is word-level: lower-case words and a few punctuation marks, looked up
in a fixed vocabulary (`vocab.json`); words it does not know become `<unk>`, so any
prompt (emoji, right-to-left text, 10,000 characters) encodes without error — the
model simply learns nothing from unknown words. The encoder is a 2-layer transformer
trained jointly with the denoiser.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch import nn

SPECIAL = ["<pad>", "<unk>", "<bos>"]
_WORD = re.compile(r"[a-z]+|[,;:]")

# Words a user is likely to type that the captions of the toy world do not all contain.
EXTRA_WORDS = """a an the and with of on in at to from across over under into onto by its
is are it one two object thing shape shapes scene video clip background sky camera shot
moving moves move slowly quickly fast slow gently big small large tiny little very bright
dark light round dot circle square triangle ball box left right up down while as""".split()


class WordTokenizer:
    """Maps text to a fixed-length row of word ids (padded, truncated)."""

    def __init__(self, words: list[str], max_length: int = 32):
        self.vocab = {w: i for i, w in enumerate(SPECIAL + [w for w in words if w not in SPECIAL])}
        self.max_length = max_length

    @classmethod
    def from_captions(cls, captions_words: set[str], max_length: int = 32) -> "WordTokenizer":
        return cls(sorted(set(captions_words) | set(EXTRA_WORDS)), max_length)

    def words(self, text: str) -> list[str]:
        return _WORD.findall(text.lower())

    def __call__(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """-> ids (B, L) long, mask (B, L) bool (True = a real token)."""
        ids = torch.zeros(len(texts), self.max_length, dtype=torch.long)
        unk, bos = self.vocab["<unk>"], self.vocab["<bos>"]
        for row, text in enumerate(texts):
            toks = [bos] + [self.vocab.get(w, unk) for w in self.words(text)]
            toks = toks[: self.max_length]
            ids[row, : len(toks)] = torch.tensor(toks)
        return ids, ids != 0

    def save(self, folder: str | Path) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        words = [w for w, _ in sorted(self.vocab.items(), key=lambda kv: kv[1])][len(SPECIAL):]
        (folder / "vocab.json").write_text(json.dumps(
            {"max_length": self.max_length, "words": words}, indent=0))

    @classmethod
    def load(cls, folder: str | Path) -> "WordTokenizer":
        data = json.loads((Path(folder) / "vocab.json").read_text())
        return cls(list(data["words"]), int(data["max_length"]))

    def __len__(self) -> int:
        return len(self.vocab)


class TinyTextEncoder(ModelMixin, ConfigMixin):
    """ids (B, L) -> token features (B, L, D); the `<bos>` token's feature is the pooled one."""

    @register_to_config
    def __init__(self, vocab_size: int = 256, max_length: int = 32, dim: int = 128,
                 layers: int = 2, heads: int = 4):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim)
        self.pos = nn.Parameter(torch.zeros(1, max_length, dim))
        layer = nn.TransformerEncoderLayer(dim, heads, 3 * dim, dropout=0.0, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        nn.init.normal_(self.pos, std=0.02)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = self.embed(ids) + self.pos[:, : ids.shape[1]]             # (B, L, D)
        x = self.blocks(x, src_key_padding_mask=~mask)
        return self.norm(x)
