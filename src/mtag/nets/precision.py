"""Numeric precision of the network: fp32, or bf16/fp16 autocast where it pays.

The front end (STFT, mel, log) always runs in fp32: it reproduces musicnn's own
float16 rounding step and low-precision FFTs would move every score.  Only the
network's convolutions and matrix products run under ``torch.autocast``.

``auto`` chooses a reduced precision only where it was measured to be both
faster and decision-preserving (``benchmarks/precision.py``):

* On a 2-core Xeon with AVX-512 BF16 (no AMX), bf16 autocast moved window
  scores by at most 9.0e-3 and track means by 2.8e-3 on the reference files
  (``../shared/reference/musicnn``), and no genre decision changed; but it made
  musicnn *slower* (53 vs 66 windows/s at batch 2; oneDNN has no fast bf16
  kernel for its tall one-channel filters) and vgg 1.5x faster (131 vs 89).
  So ``auto`` takes bf16 for vgg on such CPUs and keeps fp32 for musicnn.
* On CUDA, fp16 autocast moved scores by at most 1.4e-3 in the same test (run
  on the CPU's fp16 kernels; the format's rounding is the same), a fifth of
  bf16's error, and tensor cores make it the fast path: ``auto`` takes fp16.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

from mtag.errors import UsageError

PRECISIONS = ("auto", "fp32", "bf16", "fp16")
_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}

#: Architectures for which bf16 autocast on a CPU with native bf16 is faster (see above).
CPU_BF16_FASTER = frozenset({"vgg"})


def cpu_has_native_bf16() -> bool:
    """True on CPUs whose bf16 matrix kernels are native (AVX-512 BF16 or AMX), not emulated."""
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def resolve_precision(requested: str, device: torch.device, architecture: str) -> str:
    """``auto`` -> the measured best precision for this device and network; others as asked."""
    if requested not in PRECISIONS:
        raise UsageError(f"unknown precision {requested!r}", hint=f"use one of {', '.join(PRECISIONS)}")
    if requested != "auto":
        return requested
    if device.type == "cuda":
        return "fp16"
    if device.type == "cpu" and architecture in CPU_BF16_FASTER and cpu_has_native_bf16():
        return "bf16"
    return "fp32"


@contextlib.contextmanager
def autocast(precision: str, device: torch.device) -> Iterator[None]:
    """Run the enclosed network code at ``precision`` (a no-op for fp32)."""
    if precision == "fp32":
        yield
        return
    with torch.autocast(device.type, dtype=_DTYPES[precision]):
        yield
