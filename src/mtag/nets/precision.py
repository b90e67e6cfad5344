"""Numeric precision of the network: fp32, or bf16/fp16 autocast where it pays.

The front end (STFT, mel, log) always runs in fp32: it reproduces musicnn's own
float16 rounding step and low-precision FFTs would move every score.  Only the
network's convolutions and matrix products run under ``torch.autocast``.

``auto`` chooses a reduced precision only where it was measured to keep the
genre decisions of the reference recordings (``benchmarks/precision.py``,
4 models x 5 files of ``../shared/reference/musicnn``):

* CPU: fp32.  On a 2-core Xeon with AVX-512 BF16, bf16 autocast moved window
  scores by up to 9.0e-3 and track scores by up to 9.0e-3, and changed one
  decision of twenty (vgg-mtt on techno.mp3 lost "Electronic": 0.2505 at
  fp32, under the 0.25 threshold at bf16).  Nor was it a clear gain:
  musicnn, the default, ran *slower* (64 vs 77 windows/s at batch 2; oneDNN
  has no fast bf16 kernel for its tall one-channel filters), vgg 1.7-2x
  faster (138-141 vs 71-83).
  ``--precision bf16`` remains for those who want vgg's speed.
* CUDA: fp16.  fp16 autocast moved scores by at most 1.4e-3 (measured with
  the CPU's fp16 kernels; the format's rounding is the same on a GPU), a
  sixth of bf16's error, and changed no decision; on a GPU it runs on tensor
  cores.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from mtag.errors import UsageError

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}

#: What ``auto`` means per device type (see above); anything else runs fp32.
AUTO_PRECISION = {"cuda": "fp16"}


def cpu_has_native_bf16() -> bool:
    """True on CPUs whose bf16 matrix kernels are native (AVX-512 BF16 or AMX), not emulated."""
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def resolve_precision(requested: str, device: torch.device) -> str:
    """``auto`` -> the precision measured to keep decisions on this device; others as asked."""
    if requested not in PRECISIONS:
        raise UsageError(f"unknown precision {requested!r}", hint=f"use one of {', '.join(PRECISIONS)}")
    if requested != "auto":
        return requested
    return AUTO_PRECISION.get(device.type, "fp32")


@contextlib.contextmanager
def autocast(precision: str, device: torch.device) -> Iterator[None]:
    """Run the enclosed network code at ``precision`` (a no-op for fp32)."""
    if precision == "fp32":
        yield
        return
    with torch.autocast(device.type, dtype=DTYPES[precision]):
        yield
