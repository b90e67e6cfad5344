"""What a network costs: parameters, multiply-accumulates per window, and windows scored per second.

The comparison the architecture zoo exists for is accuracy *for a price*: a
card records its model's profile, so ``mtag models`` can show it next to the
test figure.  MACs are counted by PyTorch's own FLOP counter on one window
(one multiply-accumulate = two FLOPs) and cover the network alone -- the
front end's FFT is the same for every network on the same input.  The speed
is measured, front end included, on the device the model was trained on: a
figure for that machine, not a property of the model.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode, sdpa_flop_count

from mtag.cards import ModelCard
from mtag.engine.plans import default_plan
from mtag.nets.frontends import build_frontend
from mtag.nets.registry import build_network
from mtag.nets.tagger import Tagger


def _attention_flops(query_shape: Any, key_shape: Any, value_shape: Any, *args: Any, **kwargs: Any) -> int:
    """FLOPs of one scaled-dot-product attention, by PyTorch's own formula for its GPU kernels."""
    return int(sdpa_flop_count(query_shape, key_shape, value_shape))


#: PyTorch counts attention on its GPU kernels only; on a CPU the same product runs as this kernel.
_CPU_ATTENTION = {torch.ops.aten._scaled_dot_product_flash_attention_for_cpu: _attention_flops}

#: The speed measurement: at most this many windows per forward pass, for about this long (after a warm-up).
SPEED_BATCH, SPEED_SECONDS = 16, 0.5


def parameter_count(net: nn.Module) -> int:
    """Every parameter of ``net``, trainable or frozen: what a card's weights and profile report."""
    return sum(p.numel() for p in net.parameters())


@torch.no_grad()
def window_macs(net: nn.Module, features: torch.Tensor) -> int:
    """Multiply-accumulates of ``net`` on the network input ``features`` of one window ``(1, ...)``."""
    was_training, fast_path = net.training, torch.backends.mha.get_fastpath_enabled()
    net.eval()
    # In evaluation mode a transformer encoder runs one fused kernel the FLOP counter does not know (it
    # counted 12 of the transformer's 432 MMACs); the unfused path does the same arithmetic, op by op.
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with FlopCounterMode(display=False, custom_mapping=_CPU_ATTENTION) as counter:
            net(features)
    finally:
        net.train(was_training)
        torch.backends.mha.set_fastpath_enabled(fast_path)
    return int(counter.get_total_flops()) // 2


def one_window(card: ModelCard) -> torch.Tensor:
    """The network input of one silent window of ``card``'s model, ``(1, frames, features)`` or ``(1, samples)``."""
    plan = default_plan(card)
    with torch.no_grad():
        return build_frontend(card.frontend)(torch.zeros(1, plan.chunk_samples))


def card_profile(card: ModelCard) -> dict[str, int]:
    """Parameters and MACs per window of ``card``'s network, computed from the card alone (no weights read)."""
    net = build_network(card.architecture, card.params)
    return {"parameters": parameter_count(net), "macs_per_window": window_macs(net, one_window(card))}


def measure(tagger: Tagger) -> dict[str, Any]:
    """The trained model's profile: :func:`card_profile`'s figures and windows per second on its device.

    Batches of :data:`SPEED_BATCH` windows, as tagging runs them (a forward pass has a fixed cost a
    single window would be charged with alone), unless one window already takes longer than the
    whole measurement should.
    """
    plan = default_plan(tagger.card)
    # Noise, not silence: silence's floored log-mel is not what the network meets (nor are denormals).
    chunks = (0.1 * np.random.default_rng(0).standard_normal((SPEED_BATCH, plan.chunk_samples))).astype(np.float32)
    features = tagger.features(chunks[:1]).clone()
    macs = window_macs(tagger.net, features)
    tagger.net.eval()
    tagger.predict(chunks[:1])  # warm-up: lazy initialisation, kernel selection
    started = time.perf_counter()
    tagger.predict(chunks[:1])
    one = time.perf_counter() - started
    batch = SPEED_BATCH if one < SPEED_SECONDS else 1  # a whole batch of a network that slow would take minutes
    windows, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < SPEED_SECONDS or windows == 0:
        tagger.predict(chunks[:batch])
        windows += batch
    return {
        "parameters": parameter_count(tagger.net),
        "macs_per_window": macs,
        "windows_per_second": round(windows / elapsed, 1),
        "speed_device": _device_name(tagger.device),
        "speed_batch": batch,
    }


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return f"{device.type} ({torch.get_num_threads()} threads)"
