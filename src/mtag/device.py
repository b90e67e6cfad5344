"""Which torch device to run on: the GPU when there is one, else the CPU."""

from __future__ import annotations

import torch

from mtag.errors import UsageError


def resolve_device(spec: str = "auto") -> torch.device:
    """Turn ``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps`` into a usable device.

    Asking for a GPU that is not there is a usage error rather than a silent
    fall-back, so a benchmark never reports CPU figures as GPU ones.
    """
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(spec)
    except RuntimeError as exc:
        raise UsageError(f"unknown device {spec!r}", hint="use auto, cpu, cuda, cuda:N or mps") from exc
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise UsageError(
                "CUDA was asked for but torch sees no CUDA GPU", hint="use --device cpu or a CUDA build of torch"
            )
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise UsageError(f"no GPU {device.index}: torch sees {torch.cuda.device_count()}")
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise UsageError("MPS was asked for but is not available", hint="use --device cpu")
    elif device.type not in {"cpu", "cuda", "mps"}:
        raise UsageError(f"unsupported device {spec!r}", hint="use auto, cpu, cuda, cuda:N or mps")
    return device
