"""Sizes and counts as people read them, shared by the CLI and by library messages (a download's size, free disk)."""

from __future__ import annotations


def human_size(n_bytes: int) -> str:
    """1234567 -> '1.2 MB' (decimal units, as file managers show)."""
    if n_bytes < 1000:
        return f"{n_bytes} B"
    size = n_bytes / 1000
    for unit in ("kB", "MB"):
        if size < 1000:
            return f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


def human_count(n: float) -> str:
    """A count in about three digits: 950, 38.9k, 1.25M, 3.4G (parameters, multiply-accumulates)."""
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= scale:
            return f"{n / scale:.3g}{suffix}"
    return f"{n:g}"
