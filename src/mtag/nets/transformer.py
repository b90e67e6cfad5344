"""An Audio-Spectrogram-Transformer-style tagger (after Gong, Chung & Glass 2021).

"AST: Audio Spectrogram Transformer" (Interspeech 2021) cuts a 128-band
log-mel (16 kHz, 25 ms windows, 10 ms hop; 10.24 s = 1024 frames on AudioSet)
into 16x16 patches that overlap by 6 in both axes, embeds each linearly
(a 16x16 conv with stride 10), adds learned positions, prepends a [CLS]
token, runs a ViT encoder and classifies the [CLS] output.  AST was ViT-Base
(dim 768, 12 layers, 12 heads) initialised from ImageNet, and interpolated its
position embeddings to the audio patch grid; here the positions are learned
on the grid of ``pos_frames`` frames and bilinearly interpolated to any other
number of patches along time, so windows other than the recipe's work too.

Kept: patching (``patch``, ``overlap``), the linear embedding, learned
positions with interpolation, a pre-norm encoder (:class:`torch.nn.TransformerEncoder`,
``norm_first``, GELU), the [CLS] token (or ``pool="mean"``: the mean of the
patch tokens), the front end and window above.
Changed, and why:

- No ImageNet or AudioSet pretraining: mtag trains it from scratch, so the
  sizes are smaller.  ``RECIPE.params`` (dim 96, 4 layers, 4 heads, patches
  without overlap: 512 tokens for the 10.24 s window, ~0.5 M parameters)
  trains on a 2-core CPU in the tests and on gtzan-mini.
  ``RECIPE.cuda_params`` is the GPU default: dim 384, 12 layers, 6 heads,
  AST's overlap of 6 (1212 tokens), ~21 M parameters: the ViT-Small/DeiT-S
  size.  ViT-Base (AST's 86 M) needs its pretraining; trained from scratch on
  tagging data sets of 1,000 (GTZAN) to 26,000 (MagnaTagATune) clips the
  smaller model is the one that can still fit the data, and ViT-S is the
  size DeiT showed trains from scratch with a standard recipe.
- Learned input BatchNorm instead of AST's fixed AudioSet mean and std; the
  general dB log-mel with Slaney filters instead of Kaldi's fbank.
- AdamW at 3e-4 with mtag's warm-up, batch 12 (AST's batch): AST's rates
  (1e-5 to 2.5e-4) assume a pretrained start.
- ``dropout`` (in the encoder's attention and MLP) defaults to 0, as in the
  ViT/DeiT encoders AST builds on.  It is a parameter for small data sets;
  note that on a CPU it is costly: dropout 0.1 made a training step of the
  CPU size ~6x slower (1.2 s against 0.2 s for 4 windows, one thread),
  mostly drawing the masks for the attention matrices.

Inputs shorter than one patch (in frames or bands) are zero-padded to a patch
(after the input normalisation), so any number of frames from 1 on works
(:attr:`SpectrogramTransformer.min_frames`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mtag.nets.common import PENULTIMATE, ClassifierHead, as_image, check_count, check_fraction, check_positive
from mtag.nets.recipes import Recipe

#: AST's input: 1024 frames of 10 ms at 16 kHz (10.24 s).
PAPER_FRAMES, PAPER_RATE, PAPER_HOP = 1024, 16000, 160
POOLS = ("cls", "mean")


def patch_count(size: int, patch: int, stride: int) -> int:
    """Patches along one side of ``size`` values (padded to at least one patch); the remainder is dropped, as in AST."""
    return (max(size, patch) - patch) // stride + 1


class SpectrogramTransformer(ClassifierHead):
    """Log-mel ``(B, frames, n_mels)`` -> logits ``(B, n_labels)``; any number of frames >= 1."""

    RECIPE = Recipe(
        frontend={"kind": "logmel", "sample_rate": PAPER_RATE, "n_fft": 400, "hop_length": PAPER_HOP, "n_mels": 128},
        window_seconds=PAPER_FRAMES * PAPER_HOP / PAPER_RATE,
        params={"dim": 96, "depth": 4, "heads": 4, "overlap": 0},
        cuda_params={"dim": 384, "depth": 12, "heads": 6, "overlap": 6},
        lr=3e-4,
        batch_size=12,
        epochs=30,
    )

    def __init__(
        self,
        n_labels: int = 50,
        n_mels: int = 128,
        dim: int = 96,
        depth: int = 4,
        heads: int = 4,
        mlp_ratio: float = 4.0,
        patch: int = 16,
        overlap: int = 0,
        pos_frames: int = PAPER_FRAMES,
        pool: str = "cls",
        dropout: float = 0.0,
    ) -> None:
        """``patch``/``overlap``: square patches, their overlap; ``pos_frames``: frames the positions are learned on."""
        super().__init__()
        counts = {"n_labels": n_labels, "n_mels": n_mels, "dim": dim, "depth": depth, "heads": heads, "patch": patch}
        for name, value in {**counts, "pos_frames": pos_frames}.items():
            check_count(name, value)
        check_positive("mlp_ratio", mlp_ratio)
        if dim % heads:
            raise ValueError(f"parameter 'heads' ({heads}) must divide 'dim' ({dim})")
        if isinstance(overlap, bool) or not isinstance(overlap, int) or not 0 <= overlap < patch:
            raise ValueError(
                f"parameter 'overlap' must be a whole number from 0 to patch - 1 ({patch - 1}), got {overlap!r}"
            )
        if pool not in POOLS:
            raise ValueError(f"parameter 'pool' must be one of {', '.join(POOLS)}, got {pool!r}")
        check_fraction("dropout", dropout)
        self.patch, self.stride, self.pool = patch, patch - overlap, pool
        self.min_frames = 1
        self.input_bn = nn.BatchNorm2d(1)
        self.patch_embed = nn.Conv2d(1, dim, patch, stride=self.stride)
        grid = (patch_count(n_mels, patch, self.stride), patch_count(pos_frames, patch, self.stride))
        self.positions = nn.Parameter(torch.empty(1, dim, *grid))
        self.cls = nn.Parameter(torch.empty(1, 1, dim))
        self.cls_position = nn.Parameter(torch.empty(1, 1, dim))
        for parameter in (self.positions, self.cls, self.cls_position):
            nn.init.trunc_normal_(parameter, std=0.02)
        layer = nn.TransformerEncoderLayer(
            dim, heads, round(dim * mlp_ratio), dropout, activation="gelu", batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.dropout = nn.Identity()  # the encoder has its own (``dropout``); the head reads the pooled token as it is
        self.classifier = nn.Linear(dim, n_labels)

    def tokens(self, logmel: torch.Tensor) -> torch.Tensor:
        """``(B, frames, bands)`` -> ``(B, 1 + patches, dim)``: [CLS] and the embedded patches with their positions."""
        x = self.input_bn(as_image(logmel))
        x = F.pad(x, (0, max(0, self.patch - x.shape[3]), 0, max(0, self.patch - x.shape[2])))
        patches = self.patch_embed(x)  # (B, dim, freq patches, time patches)
        positions: torch.Tensor = self.positions
        if positions.shape[2:] != patches.shape[2:]:
            positions = F.interpolate(positions, size=patches.shape[2:], mode="bilinear", align_corners=False)
        patches = (patches + positions).flatten(2).transpose(1, 2)
        cls = (self.cls + self.cls_position).expand(patches.shape[0], -1, -1)
        return torch.cat([cls, patches], dim=1)

    def embed(self, logmel: torch.Tensor, point: str = PENULTIMATE) -> torch.Tensor:
        """The normalised [CLS] output, or the mean of the patch tokens' (``pool="mean"``)."""
        encoded = self.norm(self.encoder(self.tokens(logmel)))
        return encoded[:, 0] if self.pool == "cls" else encoded[:, 1:].mean(dim=1)
